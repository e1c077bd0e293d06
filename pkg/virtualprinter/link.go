package virtualprinter

import (
	"io"
	"math/rand"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// rxRing is the firmware's serial receive buffer: the reader goroutine (the "UART ISR")
// appends bytes, the firmware goroutine takes them. Bytes that arrive while it is full are
// lost, as on an AVR whose RX ring overruns.
type rxRing struct {
	mu       sync.Mutex  // guards the fields below
	data     []byte      // data[head:] is buffered
	stamps   []time.Time // stamps[i] is when data[i] finished arriving on the wire
	head     int
	capacity int
	overruns *atomic.Int64 // bytes lost, counted for the Printer's lifetime
}

func newRxRing(size int, overruns *atomic.Int64) *rxRing {
	return &rxRing{capacity: size - 1, overruns: overruns, data: make([]byte, 0, size), stamps: make([]time.Time, 0, size)}
}

// push stores b, whose last byte arrived at time at and whose bytes followed each other
// every perByte, dropping what does not fit. Stamping each byte with its own arrival, as a
// UART's receive interrupt would see it, keeps a line that ends early in a chunk from
// being taken for one that ended with it.
func (r *rxRing) push(b []byte, at time.Time, perByte time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.head > 0 {
		n := copy(r.data, r.data[r.head:])
		copy(r.stamps, r.stamps[r.head:])
		r.data, r.stamps = r.data[:n], r.stamps[:n]
		r.head = 0
	}
	room := r.capacity - len(r.data)
	if room < len(b) {
		r.overruns.Add(int64(len(b) - room))
		b = b[:room]
	}
	r.data = append(r.data, b...)
	for i := range b {
		r.stamps = append(r.stamps, at.Add(-time.Duration(len(b)-1-i)*perByte))
	}
}

// pop removes and returns the oldest byte and the time it arrived.
func (r *rxRing) pop() (byte, time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.head == len(r.data) {
		return 0, time.Time{}, false
	}
	c, at := r.data[r.head], r.stamps[r.head]
	r.head++
	if r.head == len(r.data) {
		r.data, r.stamps, r.head = r.data[:0], r.stamps[:0], 0
	}
	return c, at, true
}

// flush drops everything buffered, as Marlin does after a line error.
func (r *rxRing) flush() {
	r.mu.Lock()
	r.data, r.stamps, r.head = r.data[:0], r.stamps[:0], 0
	r.mu.Unlock()
}

// pacer spaces transfers so that they take as long as they would on a UART of the given
// byte rate. It keeps the ideal time the link becomes free and sleeps until then, so a
// late wake-up (timers are coarse on a loaded machine) is made up by the next wait of the
// same burst instead of adding up. A zero rate never waits.
type pacer struct {
	rate    float64
	free    time.Time
	precise bool // sleep the last stretch of each wait with nanosleep (Config.PreciseTiming)
}

// begin starts a burst of transfers that cannot start before at: a link idle until then
// does not owe the lost time.
func (p *pacer) begin(at time.Time) {
	if p.free.Before(at) {
		p.free = at
	}
}

// wait blocks until n more bytes have been transferred, or until done is closed.
func (p *pacer) wait(n int, done <-chan struct{}) {
	if p.rate <= 0 {
		return
	}
	p.free = p.free.Add(time.Duration(float64(n) / p.rate * float64(time.Second)))
	sleepUntil(p.free, p.precise, done)
}

// fineWindow is how close to a deadline a precise wait stops trusting the runtime's timers.
// Go's timers wake up to a millisecond late even on an idle machine (the runtime's poller
// sleeps in whole milliseconds), so the last stretch is slept with the kernel's nanosleep
// instead, which wakes within tens of microseconds.
const fineWindow = 1500 * time.Microsecond

// fineStep bounds one nanosleep, so that a precise wait notices done within this long.
const fineStep = 2 * time.Millisecond

// sleepUntil waits until t or until done is closed. A precise wait sleeps on a runtime
// timer until fineWindow before t and blocks its thread in nanosleep for the rest: exact to
// tens of microseconds without burning the CPU that the host under test needs.
func sleepUntil(t time.Time, precise bool, done <-chan struct{}) {
	d := time.Until(t)
	if precise {
		d -= fineWindow
	}
	if d >= 50*time.Microsecond {
		tm := time.NewTimer(d)
		select {
		case <-tm.C:
		case <-done:
			tm.Stop()
			return
		}
	}
	if !precise {
		return // already late, or nearly there: the next wait makes up for it
	}
	for {
		rest := time.Until(t)
		if rest <= 0 {
			return
		}
		select {
		case <-done:
			return
		default:
		}
		ts := unix.NsecToTimespec(int64(min(rest, fineStep)))
		_ = unix.Nanosleep(&ts, nil) // EINTR: the loop sleeps the remainder
	}
}

// perByte is how long one byte takes on the link (0 when the rate is unlimited).
func (p *pacer) perByte() time.Duration {
	if p.rate <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / p.rate)
}

// chunk is how many bytes the reader hands over per pacing step: about a millisecond of
// link time, so the receive ring fills and drains at a realistic granularity.
func (p *pacer) chunk() int {
	if p.rate <= 0 {
		return 1 << 16
	}
	return max(1, int(p.rate/1000))
}

// txLink writes the firmware's output lines, paced at the link rate. Marlin on AVR has no
// TX buffer (TX_BUFFER_SIZE 0), so a write blocks until its bytes are on the wire.
type txLink struct {
	mu   sync.Mutex // serialises whole lines and guards pace
	w    io.Writer
	pace pacer
	done <-chan struct{}
}

// writeLine sends s and a newline, starting no earlier than ready (the ideal time the
// firmware had it ready; zero means now).
func (t *txLink) writeLine(s string, ready time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := make([]byte, 0, len(s)+1)
	b = append(b, s...)
	b = append(b, '\n')
	if ready.IsZero() {
		ready = time.Now()
	}
	t.pace.begin(ready)
	t.pace.wait(len(b), t.done)
	_, err := t.w.Write(b)
	return err
}

// corrupter flips one bit of a received byte with a given probability, at most once per
// line.
type corrupter struct {
	rng         *rand.Rand
	corruptedAt bool // a byte of the current line has been corrupted already
}

func (c *corrupter) apply(b []byte, rate float64) {
	for i, x := range b {
		if x == '\n' {
			c.corruptedAt = false
			continue
		}
		if rate > 0 && !c.corruptedAt && c.rng.Float64() < rate {
			b[i] = x ^ (1 << c.rng.Intn(7))
			c.corruptedAt = true
		}
	}
}

// emergencyParser watches every received byte, before the ring buffer, for the commands
// Marlin's EMERGENCY_PARSER acts on at once: M108, M112, M410 and M876.
type emergencyParser struct {
	line []byte
}

// feed consumes bytes and calls found with each emergency command seen.
func (e *emergencyParser) feed(b []byte, found func(cmd string)) {
	for _, c := range b {
		if c != '\n' && c != '\r' {
			if len(e.line) < maxCmdSize {
				e.line = append(e.line, c)
			}
			continue
		}
		if cmd := emergencyCommand(string(e.line)); cmd != "" {
			found(cmd)
		}
		e.line = e.line[:0]
	}
}

// emergencyCommand returns the emergency command a line holds, without line number and
// checksum, or "".
func emergencyCommand(line string) string {
	s := strings.TrimLeft(line, " ")
	if strings.HasPrefix(s, "N") {
		i := 1
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '-') {
			i++
		}
		s = strings.TrimLeft(s[i:], " ")
	}
	if i := strings.IndexAny(s, "*;"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimRight(s, " ")
	for _, w := range []string{"M108", "M112", "M410", "M876"} {
		if s == w || strings.HasPrefix(s, w+" ") {
			return s
		}
	}
	return ""
}
