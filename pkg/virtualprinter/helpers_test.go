package virtualprinter_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

// host is the test's side of a link to a virtual printer.
type host struct {
	t     *testing.T
	conn  io.ReadWriteCloser
	lines chan string
	p     *virtualprinter.Printer
	done  chan error
	stop  func() error // closes the host side and returns Serve's result; idempotent
}

// startHost serves a printer with cfg on a net.Pipe and returns the host side, having
// consumed the start banner.
func startHost(t *testing.T, cfg virtualprinter.Config) *host {
	t.Helper()
	p := virtualprinter.New(cfg)
	h := connect(t, p)
	h.waitFor("echo:SD card ok")
	return h
}

func connect(t *testing.T, p *virtualprinter.Printer) *host {
	t.Helper()
	a, b := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	h := &host{t: t, conn: a, lines: make(chan string, 4096), p: p, done: make(chan error, 1)}
	go func() { h.done <- p.Serve(ctx, b) }()
	go func() {
		defer close(h.lines)
		sc := bufio.NewScanner(a)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
	}()
	var once sync.Once
	var serveErr error
	h.stop = func() error {
		once.Do(func() {
			defer cancel()
			_ = a.Close() // the firmware sees EOF, as when a port is closed
			select {
			case serveErr = <-h.done:
			case <-time.After(5 * time.Second):
				serveErr = errors.New("Serve did not return after the link closed")
			}
		})
		return serveErr
	}
	t.Cleanup(func() {
		if err := h.stop(); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, virtualprinter.ErrDisconnected) {
			t.Errorf("Serve() = %v", err)
		}
	})
	return h
}

// send writes raw text.
func (h *host) send(s string) {
	h.t.Helper()
	if _, err := io.WriteString(h.conn, s); err != nil {
		h.t.Fatalf("write %q: %v", s, err)
	}
}

// sendN writes a numbered, checksummed line.
func (h *host) sendN(n int, cmd string) {
	h.t.Helper()
	h.send(numbered(n, cmd) + "\n")
}

func numbered(n int, cmd string) string {
	l := fmt.Sprintf("N%d %s", n, cmd)
	cs := 0
	for i := 0; i < len(l); i++ {
		cs ^= int(l[i])
	}
	return fmt.Sprintf("%s*%d", l, cs)
}

// next returns the next line from the printer.
func (h *host) next() string {
	h.t.Helper()
	select {
	case l, ok := <-h.lines:
		if !ok {
			h.t.Fatalf("link closed")
		}
		return l
	case <-time.After(10 * time.Second):
		h.t.Fatalf("no reply within 10s")
	}
	return ""
}

// nextWithin returns the next line, or false when none arrives within d.
func (h *host) nextWithin(d time.Duration) (string, bool) {
	h.t.Helper()
	select {
	case l, ok := <-h.lines:
		if !ok {
			h.t.Fatalf("link closed")
		}
		return l, true
	case <-time.After(d):
		return "", false
	}
}

// until reads lines up to and including the first one starting with prefix and returns
// them all.
func (h *host) until(prefix string) []string {
	h.t.Helper()
	var got []string
	for {
		l := h.next()
		got = append(got, l)
		if strings.HasPrefix(l, prefix) {
			return got
		}
	}
}

func (h *host) waitFor(line string) []string { h.t.Helper(); return h.until(line) }

// silent checks that nothing arrives for d.
func (h *host) silent(d time.Duration) {
	h.t.Helper()
	select {
	case l, ok := <-h.lines:
		if ok {
			h.t.Fatalf("got %q; want silence", l)
		}
	case <-time.After(d):
	}
}

// roundTrip sends one raw line and returns the replies up to the ok.
func (h *host) roundTrip(line string) []string {
	h.t.Helper()
	h.send(line + "\n")
	return h.until("ok")
}
