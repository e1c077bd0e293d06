package protocol_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/protocol"
	"github.com/cuttleprint/cuttle/pkg/protocol/protocoltest"
)

const wait = 5 * time.Second // safety net for a hung test, never a timing assertion

// recorder is an Observer that keeps what it saw.
type recorder struct {
	mu       sync.Mutex
	acked    []string
	sent     []string
	received chan string
	closed   chan error
}

func newRecorder() *recorder {
	return &recorder{received: make(chan string, 1<<14), closed: make(chan error, 1)}
}

func (r *recorder) Received(line string, m protocol.Message) { r.received <- line }
func (r *recorder) Sent(line string, resend bool) {
	r.mu.Lock()
	r.sent = append(r.sent, line)
	r.mu.Unlock()
}
func (r *recorder) Acked(c protocol.Command) {
	r.mu.Lock()
	r.acked = append(r.acked, c.Text)
	r.mu.Unlock()
}
func (r *recorder) Closed(err error) { r.closed <- err }

func (r *recorder) ackedLen() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.acked)
}

func (r *recorder) ackedCopy() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.acked...)
}

// waitReceived blocks until the host has processed a line equal to want.
func (r *recorder) waitReceived(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case l := <-r.received:
			if l == want {
				return
			}
		case <-timeout:
			t.Fatalf("host never processed %q", want)
		}
	}
}

type setup struct {
	c     *protocol.Conn
	fw    *protocoltest.Firmware
	rec   *recorder
	clock *protocoltest.Clock
}

// dial connects to scripted firmware and answers the handshake with hello.
func dial(t *testing.T, hello string, opts protocol.Options) setup {
	t.Helper()
	host, fw := protocoltest.Pipe()
	t.Cleanup(func() { fw.Close() })
	rec := newRecorder()
	clock := protocoltest.NewClock()
	opts.Observer, opts.Clock = rec, clock
	type res struct {
		c   *protocol.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := protocol.Dial(context.Background(), host, opts)
		ch <- res{c, err}
	}()
	expect(t, fw, "N0 M110 N0*125")
	fw.Reply(hello)
	r := <-ch
	if r.err != nil {
		t.Fatalf("Dial: %v", r.err)
	}
	t.Cleanup(func() { r.c.Close() })
	return setup{r.c, fw, rec, clock}
}

func expect(t *testing.T, fw *protocoltest.Firmware, want ...string) {
	t.Helper()
	for _, w := range want {
		got, err := fw.Next(wait)
		if err != nil {
			t.Fatalf("waiting for %q: %v", w, err)
		}
		if got != w {
			t.Fatalf("firmware received %q; want %q", got, w)
		}
	}
}

func frame(n int, cmd string) string { return strings.TrimSuffix(protocol.Frame(n, cmd), "\n") }

// barrier writes an emergency M108 and checks that it is the next line the
// firmware sees: whatever flow control let out before it has been written by then.
func barrier(t *testing.T, s setup) {
	t.Helper()
	if err := s.c.Emergency("M108"); err != nil {
		t.Fatal(err)
	}
	expect(t, s.fw, "M108")
}

func TestDial_Handshake(t *testing.T) {
	s := dial(t, "ok", protocol.Options{})
	if s.c.Stats().Advanced {
		t.Error("Advanced = true after a bare ok")
	}
	s2 := dial(t, "ok P15 B3", protocol.Options{})
	if !s2.c.Stats().Advanced {
		t.Error("Advanced = false after ok P15 B3")
	}
}

func TestDial_StartThenHello(t *testing.T) {
	host, fw := protocoltest.Pipe()
	defer fw.Close()
	clock := protocoltest.NewClock()
	ch := make(chan error, 1)
	go func() {
		c, err := protocol.Dial(context.Background(), host, protocol.Options{Clock: clock, StartWait: 3 * time.Second})
		if err == nil {
			c.Close()
		}
		ch <- err
	}()
	fw.Reply("start", "echo: External Reset", "Marlin 2.1.2.4")
	expect(t, fw, "N0 M110 N0*125")
	fw.Reply("ok")
	if err := <-ch; err != nil {
		t.Fatalf("Dial: %v", err)
	}
}

func TestDial_FirmwareSilent(t *testing.T) {
	host, fw := protocoltest.Pipe()
	defer fw.Close()
	clock := protocoltest.NewClock()
	ch := make(chan error, 1)
	go func() {
		_, err := protocol.Dial(context.Background(), host, protocol.Options{Clock: clock, HelloTries: 3, HelloTimeout: time.Second})
		ch <- err
	}()
	for i := 0; i < 3; i++ {
		expect(t, fw, "N0 M110 N0*125")
		if !clock.WaitPending(1, wait) {
			t.Fatal("no hello timer")
		}
		clock.Advance(time.Second)
	}
	if err := <-ch; !errors.Is(err, protocol.ErrFirmwareGone) {
		t.Fatalf("Dial = %v; want ErrFirmwareGone", err)
	}
}

func TestConn_PlainOkOneInFlight(t *testing.T) {
	s := dial(t, "ok", protocol.Options{})
	for _, c := range []string{"G28", "G1 X10", "M105"} {
		if err := s.c.Send(c); err != nil {
			t.Fatal(err)
		}
	}
	expect(t, s.fw, frame(1, "G28"))
	barrier(t, s) // nothing else may have gone out before the ok
	s.fw.Reply("ok", "ok")
	expect(t, s.fw, frame(2, "G1 X10"))
	s.fw.Reply("ok")
	expect(t, s.fw, frame(3, "M105"))
	s.fw.Reply("ok T:20 /0 B:20 /0")
	s.rec.waitReceived(t, "ok T:20 /0 B:20 /0")
	// The ack is reported just after the reply is: wait (boundedly) for it.
	for end := time.Now().Add(wait); len(s.rec.ackedCopy()) < 3 && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	if got, want := s.rec.ackedCopy(), []string{"G28", "G1 X10", "M105"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("acked %q; want %q", got, want)
	}
}

// Ensure that the ok following a checksum error belongs to the rejected line:
// it releases the resend of that line and nothing more.
func TestConn_ChecksumMismatchOkReleasesOneLine(t *testing.T) {
	s := dial(t, "ok", protocol.Options{})
	s.c.Send("G1 X1")
	s.c.Send("G1 X2")
	expect(t, s.fw, frame(1, "G1 X1"))
	s.fw.Reply("Error:checksum mismatch, Last Line: 0", "Resend: 1", "ok")
	expect(t, s.fw, frame(1, "G1 X1"))
	barrier(t, s)
	s.fw.Reply("ok", "ok")
	expect(t, s.fw, frame(2, "G1 X2"))
	s.fw.Reply("ok")
	if got := s.c.Stats(); got.Resends != 1 || got.Resent != 1 {
		t.Errorf("stats %+v; want 1 resend, 1 line resent", got)
	}
}

func TestConn_RsForm(t *testing.T) {
	s := dial(t, "ok", protocol.Options{})
	s.c.Send("G1 X1")
	expect(t, s.fw, frame(1, "G1 X1"))
	s.fw.Reply("rs N1", "ok")
	expect(t, s.fw, frame(1, "G1 X1"))
}

// Ensure that with several lines in flight, the rejections of the lines that
// followed the bad one are not answered with more resends.
// stepUntilSent steps the fake clock until the host writes a line held back
// by a resend's drain wait, and returns it ("" if none came within 5 s of
// fake time, under the comm timeout). The loop arms that wait only once it
// has read the last reply, which may be after this goroutine's first step.
func stepUntilSent(s setup) string {
	for i := 0; i < 50; i++ {
		s.clock.Advance(100 * time.Millisecond)
		if got, _ := s.fw.Next(20 * time.Millisecond); got != "" {
			return got
		}
	}
	return ""
}

func TestConn_AdvancedResendSwallowsRepeats(t *testing.T) {
	s := dial(t, "ok P15 B3", protocol.Options{})
	for _, c := range []string{"G1 X1", "G1 X2", "G1 X3"} {
		s.c.Send(c)
	}
	expect(t, s.fw, frame(1, "G1 X1"), frame(2, "G1 X2"), frame(3, "G1 X3"))
	s.fw.Reply("Error:checksum mismatch, Last Line: 0", "Resend: 1", "ok P15 B3",
		"Error:Line Number is not Last Line Number+1, Last Line: 0", "Resend: 1", "ok P15 B3",
		"Error:Line Number is not Last Line Number+1, Last Line: 0", "Resend: 1", "ok P15 B3")
	for i := 0; i < 3; i++ {
		s.rec.waitReceived(t, "ok P15 B3")
	}
	// The resend waits until the rejected lines' repeats had time to arrive.
	first := stepUntilSent(s)
	if first != frame(1, "G1 X1") {
		t.Fatalf("first line after the resend request = %q; want %q", first, frame(1, "G1 X1"))
	}
	expect(t, s.fw, frame(2, "G1 X2"), frame(3, "G1 X3"))
	barrier(t, s)
	if got := s.c.Stats().Resends; got != 1 {
		t.Errorf("resends honoured = %d; want 1", got)
	}
}

func TestConn_AdvancedRespectsFreeSlotsAndBytes(t *testing.T) {
	t.Run("slots", func(t *testing.T) {
		s := dial(t, "ok P15 B2", protocol.Options{})
		for i := 1; i <= 4; i++ {
			s.c.Send(fmt.Sprintf("G1 X%d", i))
		}
		expect(t, s.fw, frame(1, "G1 X1"), frame(2, "G1 X2"))
		barrier(t, s)
		s.fw.Reply("ok P15 B1")
		expect(t, s.fw, frame(3, "G1 X3"))
		barrier(t, s)
	})
	t.Run("bytes", func(t *testing.T) {
		s := dial(t, "ok P15 B8", protocol.Options{RxBuffer: 40})
		long := "G1 X100.000 Y100.000" // framed: 28+ bytes
		s.c.Send(long)
		s.c.Send(long)
		expect(t, s.fw, frame(1, long))
		barrier(t, s)
		s.fw.Reply("ok P15 B8")
		expect(t, s.fw, frame(2, long))
	})
}

func TestConn_TimeoutReleasesAndPokes(t *testing.T) {
	s := dial(t, "ok", protocol.Options{Timeout: 10 * time.Second})
	s.c.Send("G28")
	s.c.Send("G1 X1")
	expect(t, s.fw, frame(1, "G28"))
	// The firmware's ok is lost.
	if !s.clock.WaitPending(1, wait) {
		t.Fatal("no timeout timer armed")
	}
	s.clock.Advance(10 * time.Second)
	expect(t, s.fw, frame(2, "M105"))
	s.fw.Reply("ok T:20 /0 B:20 /0")
	expect(t, s.fw, frame(3, "G1 X1"))
	if got := s.c.Stats().Timeouts; got != 1 {
		t.Errorf("timeouts = %d; want 1", got)
	}
}

func TestConn_BusyKeepsAlive(t *testing.T) {
	s := dial(t, "ok", protocol.Options{Timeout: 5 * time.Second})
	s.c.Send("G28")
	s.c.Send("G1 X1")
	expect(t, s.fw, frame(1, "G28"))
	for i := 0; i < 10; i++ {
		s.fw.Reply("echo:busy: processing")
		s.rec.waitReceived(t, "echo:busy: processing")
		s.clock.Advance(4 * time.Second)
	}
	s.fw.Reply("X:0.00 Y:0.00 Z:0.00 E:0.00 Count X:0 Y:0 Z:0", "ok")
	expect(t, s.fw, frame(2, "G1 X1"))
	if got := s.c.Stats().Timeouts; got != 0 {
		t.Errorf("timeouts = %d; want 0", got)
	}
}

func TestConn_FirmwareGoneAfterTimeouts(t *testing.T) {
	s := dial(t, "ok", protocol.Options{Timeout: time.Second, MaxTimeouts: 3})
	s.c.Send("G28")
	expect(t, s.fw, frame(1, "G28"))
	for i := 0; i < 3; i++ {
		if !s.clock.WaitPending(1, wait) {
			t.Fatal("no timer")
		}
		s.clock.Advance(time.Second)
		if i < 2 {
			expect(t, s.fw, frame(2+i, "M105"))
		}
	}
	select {
	case <-s.c.Done():
	case <-time.After(wait):
		t.Fatal("Conn still running")
	}
	if err := s.c.Err(); !errors.Is(err, protocol.ErrFirmwareGone) {
		t.Fatalf("Err = %v; want ErrFirmwareGone", err)
	}
}

func TestConn_StopsOnFirmwareTrouble(t *testing.T) {
	for _, tc := range []struct {
		line string
		want error
	}{
		{"start", protocol.ErrFirmwareReset},
		{"Error:Printer halted. kill() called!", protocol.ErrFirmwareHalted},
		{"Error:Thermal Runaway, system stopped! Heater_ID: 0", protocol.ErrFirmwareHalted},
		{"!! Shutdown due to MCU error", protocol.ErrFirmwareHalted},
	} {
		t.Run(tc.line, func(t *testing.T) {
			s := dial(t, "ok", protocol.Options{})
			s.c.Send("G1 X1")
			s.c.Send("G1 X2")
			expect(t, s.fw, frame(1, "G1 X1"))
			s.fw.Reply(tc.line)
			select {
			case <-s.c.Done():
			case <-time.After(wait):
				t.Fatal("Conn still running")
			}
			if err := s.c.Err(); !errors.Is(err, tc.want) {
				t.Fatalf("Err = %v; want %v", err, tc.want)
			}
			if err := <-s.rec.closed; !errors.Is(err, tc.want) {
				t.Errorf("Observer.Closed(%v); want %v", err, tc.want)
			}
			// Nothing more is written: the link is closed without another line.
			if l, err := s.fw.Next(wait); err != io.EOF {
				t.Errorf("firmware received %q after the stop (%v)", l, err)
			}
			if err := s.c.Send("G1 X3"); !errors.Is(err, protocol.ErrClosed) {
				t.Errorf("Send after stop = %v; want ErrClosed", err)
			}
		})
	}
}

func TestConn_LinkLost(t *testing.T) {
	s := dial(t, "ok", protocol.Options{})
	s.fw.Close()
	select {
	case <-s.c.Done():
	case <-time.After(wait):
		t.Fatal("Conn still running")
	}
	if err := s.c.Err(); !errors.Is(err, protocol.ErrLinkLost) {
		t.Fatalf("Err = %v; want ErrLinkLost", err)
	}
}

func TestConn_EmergencyAheadOfFullQueue(t *testing.T) {
	s := dial(t, "ok", protocol.Options{})
	for i := 0; i < 1000; i++ {
		if err := s.c.Send(fmt.Sprintf("G1 X%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	expect(t, s.fw, frame(1, "G1 X0"))
	if err := s.c.Send("M112"); err != nil {
		t.Fatal(err)
	}
	expect(t, s.fw, "M112")
	if q := s.c.Queued(); q != 998 {
		t.Errorf("queued = %d; want 998", q)
	}
}

func TestConn_LineNumberReset(t *testing.T) {
	s := dial(t, "ok", protocol.Options{})
	s.c.Send("M110 N100")
	s.c.Send("G28")
	expect(t, s.fw, frame(100, "M110 N100"))
	s.fw.Reply("ok")
	expect(t, s.fw, frame(101, "G28"))
}

func TestConn_ResendOutsideWindow(t *testing.T) {
	s := dial(t, "ok", protocol.Options{Window: 100})
	m := &protocoltest.Marlin{F: s.fw}
	go m.Serve()
	for i := 0; i < 150; i++ {
		s.c.Send(fmt.Sprintf("G1 X%d", i))
	}
	s.c.Send("M400")
	s.rec.waitReceived(t, "ok") // drain
	for len(m.Executed()) < 151 {
		s.rec.waitReceived(t, "ok")
	}
	s.fw.Reply("Resend: 2", "ok")
	<-s.c.Done()
	if err := s.c.Err(); !errors.Is(err, protocol.ErrResendOutOfWindow) {
		t.Fatalf("Err = %v; want ErrResendOutOfWindow", err)
	}
}

func TestConn_FakeAck(t *testing.T) {
	s := dial(t, "ok", protocol.Options{})
	s.c.Send("M0")
	s.c.Send("G28")
	expect(t, s.fw, frame(1, "M0"))
	s.c.FakeAck()
	expect(t, s.fw, frame(2, "G28"))
}

func TestConn_BadCommands(t *testing.T) {
	s := dial(t, "ok", protocol.Options{})
	for _, c := range []string{"", "  ; only a comment", "G1 X1\nG1 X2", "M117 a*b"} {
		if err := s.c.Send(c); !errors.Is(err, protocol.ErrBadCommand) {
			t.Errorf("Send(%q) = %v; want ErrBadCommand", c, err)
		}
	}
}

// sliceSource feeds a fixed list of commands.
type sliceSource struct {
	mu   sync.Mutex
	cmds []string
	i    int
}

func (s *sliceSource) Next() (protocol.Command, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.i >= len(s.cmds) {
		return protocol.Command{}, false
	}
	s.i++
	return protocol.Command{Text: s.cmds[s.i-1], Tag: s.i - 1}, true
}

// corrupter flips one byte in every n written (never a line break), the way a
// noisy cable would, so the firmware sees checksum errors.
type corrupter struct {
	io.ReadWriteCloser
	n, count int
}

func (c *corrupter) Write(p []byte) (int, error) {
	b := append([]byte(nil), p...)
	for i := range b {
		c.count++
		if c.count%c.n == 0 && b[i] != '\n' {
			b[i] ^= 0x04
			if b[i] == '\n' {
				b[i] = 'X'
			}
		}
	}
	return c.ReadWriteCloser.Write(b)
}

// Ensure that over a noisy link every command runs exactly once, in order,
// with plain ok and with ADVANCED_OK.
func TestConn_NoisyLinkExactlyOnce(t *testing.T) {
	for _, advanced := range []bool{false, true} {
		t.Run(fmt.Sprintf("advanced=%v", advanced), func(t *testing.T) {
			host, fw := protocoltest.Pipe()
			defer fw.Close()
			m := &protocoltest.Marlin{F: fw, Advanced: advanced}
			go m.Serve()
			rec := newRecorder()
			c, err := protocol.Dial(context.Background(), &corrupter{ReadWriteCloser: host, n: 97}, protocol.Options{Observer: rec, ResendDrain: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var src sliceSource
			for i := 0; i < noisyLines; i++ {
				src.cmds = append(src.cmds, fmt.Sprintf("G1 X%d.%d Y%d E0.0%d", i%200, i%10, (i*7)%200, i%9))
			}
			done := make(chan struct{})
			var once sync.Once
			obs := rec
			_ = obs
			c.SetSource(&src)
			go func() {
				for {
					if rec.ackedLen() == len(src.cmds) {
						once.Do(func() { close(done) })
						return
					}
					select {
					case <-rec.received:
					case <-time.After(wait):
						once.Do(func() { close(done) })
						return
					}
				}
			}()
			<-done
			got := m.Executed()
			want := append([]string{"M110 N0"}, src.cmds...)
			if len(got) != len(want) {
				t.Fatalf("executed %d commands; want %d (stats %+v)", len(got), len(want), c.Stats())
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("executed[%d] = %q; want %q", i, got[i], want[i])
				}
			}
			if c.Stats().Resends == 0 {
				t.Error("no resends on a noisy link: the corrupter did nothing")
			}
		})
	}
}

// Ensure that a board booting after the greeting went out is not greeted
// twice (a second ok would be taken for another line's).
func TestDial_StartAfterHello(t *testing.T) {
	host, fw := protocoltest.Pipe()
	defer fw.Close()
	ch := make(chan *protocol.Conn, 1)
	go func() {
		c, err := protocol.Dial(context.Background(), host, protocol.Options{Clock: protocoltest.NewClock()})
		if err != nil {
			t.Error(err)
		}
		ch <- c
	}()
	expect(t, fw, "N0 M110 N0*125")
	fw.Reply("start", "echo: External Reset", "ok")
	c := <-ch
	if c == nil {
		return
	}
	defer c.Close()
	c.Send("G28")
	expect(t, fw, frame(1, "G28"))
}

// Ensure that auto-reported temperatures do not hide a lost ok, but keep a
// heating wait (M109) alive.
func TestConn_AutoreportIsNoKeepAlive(t *testing.T) {
	s := dial(t, "ok", protocol.Options{Timeout: 5 * time.Second})
	s.c.Send("G1 X1")
	expect(t, s.fw, frame(1, "G1 X1"))
	for i := 0; i < 2; i++ {
		s.fw.Reply("T:20.0 /0.0 B:20.0 /0.0 @:0 B@:0")
		s.rec.waitReceived(t, "T:20.0 /0.0 B:20.0 /0.0 @:0 B@:0")
		s.clock.Advance(3 * time.Second)
	}
	expect(t, s.fw, frame(2, "M105")) // timed out despite the reports
	s.fw.Reply("ok")
	s.c.Send("M109 S200")
	expect(t, s.fw, frame(3, "M109 S200"))
	for i := 0; i < 4; i++ {
		s.fw.Reply("T:150.0 /200.0 B:20.0 /0.0 @:127 B@:0 W:?")
		s.rec.waitReceived(t, "T:150.0 /200.0 B:20.0 /0.0 @:127 B@:0 W:?")
		s.clock.Advance(3 * time.Second)
	}
	s.fw.Reply("ok")
	s.c.Send("G28")
	expect(t, s.fw, frame(4, "G28"))
	if got := s.c.Stats().Timeouts; got != 1 {
		t.Errorf("timeouts = %d; want 1", got)
	}
}

var noisyLines = 3000

// ackedEventually waits (boundedly) until at least n commands were acked.
func (r *recorder) ackedEventually(n int) []string {
	for end := time.Now().Add(wait); r.ackedLen() < n && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	return r.ackedCopy()
}

// Ensure that after a timeout the host keeps probing until the firmware has
// confirmed the released line, so that a last line lost in a receive-buffer
// flush is asked for again, and that each command is reported once.
//
// The timeout fires before the firmware answered (it is busy, or the host is
// loaded), with N1 M105 and N2 in its buffer: the host releases N1 and pokes
// (N3 M105). Marlin reads ahead of what it runs, so the rest comes first. The
// firmware rejects N2 and flushes the poke; the resent N2 and N3 are flushed
// in turn by the rejection of the stale poke (whose repeat the host
// swallows). Only then does the firmware run N1 and answer "ok T:": the
// answer of the released M105, not of the resent N3. Nothing follows, so
// only the host can get N2 asked for again.
func TestConn_TimeoutProbesUntilReleasedLineConfirmed(t *testing.T) {
	const timeout = 10 * time.Second
	s := dial(t, "ok P15 B3", protocol.Options{Timeout: timeout, ResendDrain: time.Second})
	s.c.Send("M105")
	s.c.Send("G1 X1")
	expect(t, s.fw, frame(1, "M105"), frame(2, "G1 X1"))
	if !s.clock.WaitPending(1, wait) {
		t.Fatal("no timeout timer armed")
	}
	s.clock.Advance(timeout) // N1 is released, the poke goes out
	expect(t, s.fw, frame(3, "M105"))
	s.fw.Reply("Error:checksum mismatch, Last Line: 1", "Resend: 2", "ok")
	s.rec.waitReceived(t, "ok")
	// The resend waits for the stale poke to drain.
	got := stepUntilSent(s)
	if got != frame(2, "G1 X1") {
		t.Fatalf("firmware received %q; want the resend of N2", got)
	}
	expect(t, s.fw, frame(3, "M105"))
	// The stale poke is rejected: the flush drops the resent N2 and N3.
	s.fw.Reply("Error:Line Number is not Last Line Number+1, Last Line: 1", "Resend: 2", "ok")
	s.rec.waitReceived(t, "ok")
	// The busy firmware now runs N1, the released M105.
	s.fw.Reply("ok T:21.3 /0.0 B:20.9 /0.0 @:0 B@:0")
	s.rec.waitReceived(t, "ok T:21.3 /0.0 B:20.9 /0.0 @:0 B@:0")
	// The firmware waits for N2, which only the host can make it ask for:
	// it must still be probing.
	var poke string
	for i := 0; i < 50 && poke == ""; i++ {
		s.clock.Advance(timeout / 10)
		poke, _ = s.fw.Next(20 * time.Millisecond)
	}
	if poke == "" {
		t.Fatalf("the host stopped probing with N2 unconfirmed (acked %q, stats %+v)", s.rec.ackedCopy(), s.c.Stats())
	}
	if poke != frame(4, "M105") {
		t.Fatalf("firmware received %q; want the poke %q", poke, frame(4, "M105"))
	}
	s.fw.Reply("Error:Line Number is not Last Line Number+1, Last Line: 1", "Resend: 2", "ok")
	s.rec.waitReceived(t, "ok")
	got = ""
	for i := 0; i < 50 && got == ""; i++ {
		s.clock.Advance(100 * time.Millisecond)
		got, _ = s.fw.Next(20 * time.Millisecond)
	}
	if got != frame(2, "G1 X1") {
		t.Fatalf("firmware received %q; want the resend of N2", got)
	}
	expect(t, s.fw, frame(3, "M105"))
	s.fw.Reply("ok N2 P15 B3") // the poke's turn: three lines since the last free-slot report
	expect(t, s.fw, frame(4, "M105"))
	s.fw.Reply("ok T:21.3 /0.0 B:20.9 /0.0 @:0 B@:0", "ok T:21.3 /0.0 B:20.9 /0.0 @:0 B@:0")
	if got, want := s.rec.ackedEventually(2), []string{"M105", "G1 X1"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("acked %q; want %q", got, want)
	}
	barrier(t, s) // nothing more goes out: N2 is confirmed
}

// Ensure that a line a timeout released is reported once, when the firmware
// confirms it, and not also when the firmware asks for it again: a job
// counting acknowledgements would otherwise finish before its last lines ran.
func TestConn_TimeoutReleasedLineAckedOnce(t *testing.T) {
	const timeout = 10 * time.Second
	s := dial(t, "ok P15 B3", protocol.Options{Timeout: timeout, ResendDrain: -1})
	s.c.Send("G1 X1")
	expect(t, s.fw, frame(1, "G1 X1")) // lost on the way
	if !s.clock.WaitPending(1, wait) {
		t.Fatal("no timeout timer armed")
	}
	s.clock.Advance(timeout)
	expect(t, s.fw, frame(2, "M105"))
	if got := s.rec.ackedCopy(); len(got) != 0 {
		t.Errorf("acked %q before the firmware confirmed anything", got)
	}
	s.fw.Reply("Error:Line Number is not Last Line Number+1, Last Line: 0", "Resend: 1", "ok")
	expect(t, s.fw, frame(1, "G1 X1"), frame(2, "M105"))
	s.fw.Reply("ok N1 P15 B3", "ok T:21.3 /0.0 B:20.9 /0.0 @:0 B@:0")
	s.rec.waitReceived(t, "ok T:21.3 /0.0 B:20.9 /0.0 @:0 B@:0")
	barrier(t, s) // the reader has reported every ack by the time M108 goes out
	if got, want := s.rec.ackedCopy(), []string{"G1 X1"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("acked %q; want %q", got, want)
	}
}

// Ensure that with ADVANCED_OK a line-number reset waits until every line
// before it is acknowledged: the firmware accepts M110 whatever line it
// expects, so a line it lost would never be asked for again.
func TestConn_AdvancedResetWaitsForFlight(t *testing.T) {
	s := dial(t, "ok P15 B3", protocol.Options{})
	s.c.Send("G1 X1")
	s.c.Send("M110 N100")
	s.c.Send("G1 X2")
	expect(t, s.fw, frame(1, "G1 X1"))
	barrier(t, s) // the reset waits for N1's ok
	s.fw.Reply("ok N1 P15 B3")
	expect(t, s.fw, frame(100, "M110 N100"), frame(101, "G1 X2"))
}
