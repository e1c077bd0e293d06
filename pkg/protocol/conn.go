package protocol

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Command is one line for the firmware. Text is the command without line
// number, checksum or comment; Tag is the caller's, handed back in
// Observer.Acked (a job streamer puts the file position there).
type Command struct {
	Text string
	Tag  any
}

// Source feeds commands to a Conn when its own queue is empty (a print job).
// Next is called with the Conn's link state locked and must not block: it returns
// false when nothing is ready, and the source calls Conn.Wake once it has more.
type Source interface {
	Next() (Command, bool)
}

// Observer sees everything a Conn does. Its methods are called in order, one
// at a time, from the Conn's reader or loop goroutine with the Conn's link
// state locked; they must return quickly and must not call Conn methods that
// wait (Close). Send, Wake, SetSource, Stats and Queued are fine.
type Observer interface {
	// Received is called for every line read, with its parsed form.
	Received(line string, m Message)
	// Sent is called for every line written (without the newline); resend is
	// true when it repeats a line the firmware asked for again.
	Sent(line string, resend bool)
	// Acked is called when the firmware acknowledged a command from Send or a
	// Source; acknowledgements of rejected copies are not reported.
	Acked(c Command)
	// Closed is called once, when the Conn stops, with the cause.
	Closed(err error)
}

// Options tune a Conn. The zero value of each field picks the default.
type Options struct {
	Observer Observer
	Clock    Clock
	// RxBuffer is the firmware's receive buffer in bytes (128): with
	// ADVANCED_OK, unacknowledged bytes stay below it (a ring buffer of N
	// bytes, as Marlin's, holds N-1).
	RxBuffer int
	// Window is how many sent lines are kept for resends (256, at least 100).
	Window int
	// QueueSize bounds the commands waiting in Send's queue (4096).
	QueueSize int
	// Timeout is how long the firmware may stay silent while a line is in
	// flight (10 s). The Conn then assumes the "ok" was lost, releases the
	// line and pokes with M105; the line is reported Acked once the firmware
	// confirms it, and each further Timeout of silence until then pokes
	// again, so that a line the firmware lost is asked for again.
	Timeout time.Duration
	// MaxTimeouts is how many timeouts in a row end the Conn with
	// ErrFirmwareGone (5).
	MaxTimeouts int
	// StartWait is how long to wait for the firmware's "start" line before
	// the handshake, for boards that reset when the port opens (0: none).
	StartWait time.Duration
	// HelloTimeout is how long to wait for the answer to "M110 N0" during
	// the handshake before asking again (2 s), HelloTries how often (5).
	HelloTimeout time.Duration
	HelloTries   int
	// PlainOk ignores ADVANCED_OK reports: one line in flight, always.
	PlainOk bool
	// ResendDrain is how long to hold back after honouring a resend request
	// with ADVANCED_OK (and after each repeat of it), so that the lines still
	// on the wire are rejected before the resent ones arrive: the firmware
	// empties its receive buffer at each rejection, resent lines included.
	// 0 derives it from Baud (the time 128 bytes take, plus 2 ms); negative
	// disables it.
	ResendDrain time.Duration
	// Baud is the link's baud rate when known (0: assume 115200).
	Baud int
	// ReaderThread, when set, runs on the reader goroutine before its first
	// read, with the goroutine locked to its OS thread for the Conn's life:
	// the place to raise that thread's scheduling priority, since its
	// wake-up latency is part of every line's round trip.
	ReaderThread func()
}

func (o *Options) fill() {
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.RxBuffer <= 0 {
		o.RxBuffer = 128
	}
	if o.Window < 100 {
		o.Window = 256
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 4096
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxTimeouts <= 0 {
		o.MaxTimeouts = 5
	}
	if o.HelloTimeout <= 0 {
		o.HelloTimeout = 2 * time.Second
	}
	if o.HelloTries <= 0 {
		o.HelloTries = 5
	}
	if o.ResendDrain == 0 {
		baud := o.Baud
		if baud <= 0 {
			baud = 115200
		}
		o.ResendDrain = time.Duration(o.RxBuffer*10)*time.Second/time.Duration(baud) + 2*time.Millisecond
	}
}

type nopObserver struct{}

func (nopObserver) Received(string, Message) {}
func (nopObserver) Sent(string, bool)        {}
func (nopObserver) Acked(Command)            {}
func (nopObserver) Closed(error)             {}

// Stats are a Conn's counters since Dial.
type Stats struct {
	Lines       int64 // numbered lines written for the first time
	Resent      int64 // lines written again on request
	Resends     int64 // resend requests honoured
	Timeouts    int64 // communication timeouts
	BytesOut    int64
	BytesIn     int64
	Advanced    bool // firmware reports ADVANCED_OK
	SpuriousOks int64
}

// Conn is a live connection to firmware. Send, Emergency, SetSource, Wake,
// FakeAck, Stats, Err, Done and Close are safe for concurrent use.
type Conn struct {
	rwc  io.ReadWriteCloser
	opts Options

	mu     sync.Mutex // guards queue and src
	queue  []Command
	src    Source
	wake   chan struct{}
	emerg  chan string
	fake   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	ready  chan struct{}
	closer sync.Once
	err    atomic.Pointer[error]
	wg     sync.WaitGroup

	// linkMu guards st. The reader goroutine takes it to account for each
	// reply and to write the lines that reply made room for; the loop
	// goroutine takes it for everything else (queued commands, emergencies,
	// timeouts). Handing each reply to one owning goroutine instead would
	// cost a scheduler hand-off per line, which stretches every line's round
	// trip while the process is busy serving HTTP.
	linkMu     sync.Mutex
	rearm      chan struct{} // the reader replaced the timer: the loop must select on the new one
	quit       chan struct{} // closed once st.cause is set
	readerDone chan struct{}

	lines, resent, resends, timeoutsN, bytesOut, bytesIn, spurious atomic.Int64
	advancedFlag                                                   atomic.Bool

	st loopState // guarded by linkMu
}

type reply struct {
	line string
	msg  Message
}

type phase int

const (
	phaseStart phase = iota // waiting for "start" or StartWait
	phaseHello              // M110 N0 sent, waiting for its ok
	phaseRun
)

type flight struct {
	n        int // -1 for unnumbered emergency lines
	size     int
	epoch    int
	cmd      Command
	internal bool // hello and pokes: never reported as Acked
	rejected bool
	long     bool // a command that may run for minutes (M109, G28, …)
}

type histEntry struct {
	n        int
	cmd      Command
	internal bool
	after    []Command // source lines with nothing to send, acked with this line
}

type loopState struct {
	phase        phase
	nextLine     int // number of the next new line
	resendPtr    int // next line to resend; == nextLine when not resending
	base         int // first line number valid since the last M110
	hist         []histEntry
	inflight     []flight
	inflightB    int
	released     []flight // taken out of the flight by a timeout, oldest first, until confirmed (flow.go)
	epoch        int
	advanced     bool
	freeSlots    int
	sentSinceOk  int
	pending      *Command
	pokes        int
	timeouts     int
	lastProgress time.Time
	deadline     time.Time
	timer        Timer
	timerC       <-chan time.Time
	armedAt      time.Time
	helloTries   int
	buf          []byte
	rejections   int // resend requests whose bare ok is still to come (ADVANCED_OK)
	ghostB       int // bytes of dropped stale lines that may still sit in the firmware
	swallowN     int // the line of the last honoured resend request
	swallowLeft  int // repeats of it still to swallow
	// lastErrLineNo is true when the last "Error:" was a line-number one.
	lastErrLineNo bool
	drainUntil    time.Time // no line goes out before this (ADVANCED_OK resends)
	cause         error     // why the Conn ends; set once
}

// Dial starts a Conn on rwc and performs the handshake: it waits for the
// firmware's "start" (up to StartWait), then sends "M110 N0" until the firmware
// acknowledges it. It returns once the firmware answered, or an error (the Conn
// is then closed, and rwc with it). The Conn owns rwc from here on.
func Dial(ctx context.Context, rwc io.ReadWriteCloser, opts Options) (*Conn, error) {
	opts.fill()
	c := &Conn{
		rwc:        rwc,
		opts:       opts,
		wake:       make(chan struct{}, 1),
		emerg:      make(chan string, 16),
		fake:       make(chan struct{}, 16),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
		ready:      make(chan struct{}),
		rearm:      make(chan struct{}, 1),
		quit:       make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	c.st.hist = make([]histEntry, opts.Window)
	c.st.buf = make([]byte, 0, 256)
	c.st.nextLine, c.st.resendPtr = 1, 1
	c.start()
	c.wg.Add(2)
	go c.read()
	go c.loop()
	select {
	case <-c.ready:
		return c, nil
	case <-c.done:
		return nil, c.Err()
	case <-ctx.Done():
		c.Close()
		return nil, fmt.Errorf("protocol: handshake: %w", ctx.Err())
	}
}

// Send queues a command (a ';' comment is dropped). Emergency commands
// (M112, M108, M410, M876) skip the queue and are written at once.
func (c *Conn) Send(cmd string) error {
	text, err := CleanCommand(cmd)
	if err != nil {
		return err
	}
	if isEmergency(text) {
		return c.Emergency(text)
	}
	return c.enqueue(Command{Text: text})
}

// SendCommand queues a command with a tag (see Command). The text must be clean.
func (c *Conn) SendCommand(cmd Command) error {
	text, err := CleanCommand(cmd.Text)
	if err != nil {
		return err
	}
	cmd.Text = text
	return c.enqueue(cmd)
}

func (c *Conn) enqueue(cmd Command) error {
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	c.mu.Lock()
	if len(c.queue) >= c.opts.QueueSize {
		c.mu.Unlock()
		return fmt.Errorf("send %q: %w", cmd.Text, ErrQueueFull)
	}
	c.queue = append(c.queue, cmd)
	c.mu.Unlock()
	c.Wake()
	return nil
}

// Emergency writes cmd unnumbered ahead of everything queued.
func (c *Conn) Emergency(cmd string) error {
	text, err := CleanCommand(cmd)
	if err != nil {
		return err
	}
	select {
	case c.emerg <- text:
		return nil
	case <-c.done:
		return ErrClosed
	}
}

// Queued returns how many commands wait in Send's queue (not counting the one
// the loop holds while it waits for room).
func (c *Conn) Queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

// SetSource attaches a Source that feeds the Conn when its queue is empty;
// nil detaches it.
func (c *Conn) SetSource(s Source) {
	c.mu.Lock()
	c.src = s
	c.mu.Unlock()
	c.Wake()
}

// Wake tells the loop that a Source has commands again.
func (c *Conn) Wake() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// FakeAck acts as if the firmware had sent "ok": it releases the oldest line
// in flight (OctoPrint's fake_ack, for firmware that swallowed one).
func (c *Conn) FakeAck() {
	select {
	case c.fake <- struct{}{}:
	default:
	}
}

// Done is closed when the Conn has stopped.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the Conn stopped, or nil while it runs.
func (c *Conn) Err() error {
	if p := c.err.Load(); p != nil {
		return *p
	}
	return nil
}

// Stats returns the counters.
func (c *Conn) Stats() Stats {
	return Stats{
		Lines: c.lines.Load(), Resent: c.resent.Load(), Resends: c.resends.Load(),
		Timeouts: c.timeoutsN.Load(), BytesOut: c.bytesOut.Load(), BytesIn: c.bytesIn.Load(),
		Advanced: c.advancedFlag.Load(), SpuriousOks: c.spurious.Load(),
	}
}

// Close stops the Conn, closes the link and waits for its goroutines.
func (c *Conn) Close() error {
	c.closer.Do(func() { close(c.stop) })
	<-c.done
	c.wg.Wait()
	return nil
}

// read is the reader goroutine: it splits the input into lines, parses them
// and accounts for each one, writing what the reply made room for.
func (c *Conn) read() {
	defer c.wg.Done()
	defer close(c.readerDone)
	if c.opts.ReaderThread != nil {
		// Never unlocked: a thread whose priority the hook raised must end
		// with this goroutine rather than go back to the runtime's pool.
		runtime.LockOSThread()
		c.opts.ReaderThread()
	}
	br := bufio.NewReaderSize(c.rwc, 4096)
	var p Parser
	for {
		raw, err := br.ReadSlice('\n')
		if len(raw) > 0 && (err == nil || errors.Is(err, bufio.ErrBufferFull)) {
			c.bytesIn.Add(int64(len(raw)))
			line := string(trimEOL(raw))
			if line != "" {
				r := reply{line, p.Parse(line)}
				if !c.step(func() error { return c.handle(r) }) {
					return
				}
			}
			continue
		}
		if err != nil {
			c.step(func() error { return fmt.Errorf("%w: read: %v", ErrLinkLost, err) })
			return
		}
	}
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == 0) {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}
