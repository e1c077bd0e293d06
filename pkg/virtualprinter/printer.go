package virtualprinter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Errors returned by Serve.
var (
	// ErrDisconnected is returned by Serve when the link was closed by Disconnect.
	ErrDisconnected = errors.New("virtualprinter: link disconnected by fault injection")
	// ErrReplaced is returned by Serve when a newer Serve call took the printer over, as
	// opening a port resets an Arduino board.
	ErrReplaced = errors.New("virtualprinter: replaced by a newer link")
)

// Printer is a simulated Marlin 2.1 firmware. It serves one link at a time; each call of
// Serve is a power-on (or the reset an Arduino board does when its port is opened), and
// takes the printer over from a Serve still running. The fault methods and Executed are
// safe to call from any goroutine at any time.
type Printer struct {
	cfg     Config
	card    *sdCard
	ctl     chan func(*session) // runtime requests run by the serving goroutine
	sem     chan struct{}       // held by the running Serve
	serving atomic.Bool
	overrun atomic.Int64 // bytes lost to receive-buffer overruns

	mu         sync.Mutex              // guards the fields below
	stopCur    context.CancelCauseFunc // ends the running Serve
	executed   []string
	faults     Faults
	dropNext   int
	resendNext int
	rng        *rand.Rand
}

// New returns a printer built with cfg; zero fields take the defaults documented on Config.
func New(cfg Config) *Printer {
	cfg = cfg.withDefaults()
	return &Printer{
		cfg:    cfg,
		card:   newSDCard(cfg.SDDir),
		ctl:    make(chan func(*session), 16),
		sem:    make(chan struct{}, 1),
		faults: cfg.Faults,
		rng:    rand.New(rand.NewSource(cfg.Seed)),
	}
}

// Config returns the configuration in effect, with defaults filled in.
func (p *Printer) Config() Config { return p.cfg }

// Executed returns every command the firmware executed from the link, in order, without
// line number and checksum (e.g. "G1 X10 F3000"), up to Config.ExecutedLimit of the most
// recent. Commands run from the SD card and lines stored by an M28 upload are not
// included; an M112 seen by the emergency parser is.
func (p *Printer) Executed() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.executed...)
}

// Overruns returns how many received bytes were lost because the receive buffer was full,
// since New.
func (p *Printer) Overruns() int64 { return p.overrun.Load() }

func (p *Printer) logExecuted(cmd string) {
	p.mu.Lock()
	if limit := p.cfg.ExecutedLimit; limit > 0 && len(p.executed) >= limit {
		keep := limit - limit/4 // drop the oldest quarter at once, not one by one
		n := copy(p.executed, p.executed[len(p.executed)-keep:])
		clear(p.executed[n:])
		p.executed = p.executed[:n]
	}
	p.executed = append(p.executed, cmd)
	p.mu.Unlock()
}

// Serve runs the firmware on rw until ctx ends, rw's reader fails or returns EOF, or
// Disconnect is called. It begins with the start banner, as a freshly reset board does.
// Serve returns only after its goroutines have stopped: when ctx ends it sets a past
// deadline if rw has SetDeadline (and clears it before returning), or else closes rw if
// it is an io.Closer; after Disconnect it closes rw if it is an io.Closer. A plain
// io.ReadWriter must be made to return from Read and Write by its owner. The host closing
// the link (EOF, a closed pipe, EIO from a pty whose other side was closed) ends Serve
// with a nil error; the end of ctx ends it with ctx's error.
func (p *Printer) Serve(ctx context.Context, rw io.ReadWriter) error {
	p.mu.Lock()
	if p.stopCur != nil {
		p.stopCur(ErrReplaced)
	}
	p.mu.Unlock()
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.sem }()
	p.serving.Store(true)
	defer p.serving.Store(false)
	for {
		select {
		case <-p.ctl: // requests made while no link was served are void
			continue
		default:
		}
		break
	}
	parent := ctx
	ctx, cancelCause := context.WithCancelCause(ctx)
	cancel := func() { cancelCause(nil) }
	defer cancel()
	p.mu.Lock()
	p.stopCur = cancelCause
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.stopCur = nil
		p.mu.Unlock()
	}()
	ctxErr := func() error { return context.Cause(ctx) }
	s := newSession(p, rw, ctx.Done(), ctxErr)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		s.readErr <- s.readLoop(rw)
	}()
	// Once the session ends, unblock the reader (and a writer stuck on a host that does
	// not read): a past deadline when rw has one, else closing it.
	unblocked := make(chan struct{})
	var disconnected atomic.Bool
	go func() {
		defer close(unblocked)
		<-ctx.Done()
		if d, ok := rw.(interface{ SetDeadline(time.Time) error }); ok && !disconnected.Load() && d.SetDeadline(time.Now()) == nil {
			return
		}
		if c, ok := rw.(io.Closer); ok {
			_ = c.Close()
		}
	}()
	err := s.run()
	disconnected.Store(errors.Is(err, ErrDisconnected))
	cancel()
	<-unblocked
	<-readDone
	if d, ok := rw.(interface{ SetDeadline(time.Time) error }); ok && !disconnected.Load() {
		_ = d.SetDeadline(time.Time{})
	}
	if perr := parent.Err(); perr != nil {
		return perr
	}
	if errors.Is(context.Cause(ctx), ErrReplaced) {
		return ErrReplaced
	}
	if linkClosed(err) {
		return nil
	}
	return err
}

// linkClosed reports whether err means the host closed the link: EOF, a closed pipe or
// socket, or EIO/EPIPE from a pty whose other side was closed.
func linkClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.EIO) || errors.Is(err, syscall.EPIPE)
}

// do asks the serving goroutine to run f; it is dropped when nothing is served.
func (p *Printer) do(f func(*session)) {
	if !p.serving.Load() {
		return
	}
	select {
	case p.ctl <- f:
	default:
	}
}

// linkError wraps a read or write failure on the link.
func linkError(op string, err error) error {
	if linkClosed(err) || errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	return fmt.Errorf("virtualprinter: %s link: %w", op, err)
}
