package protocol

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// loop is the goroutine that acts on everything but the firmware's replies:
// queued commands, emergencies, FakeAck, the clock and Close. It also ends
// the Conn, whichever goroutine found the cause.
func (c *Conn) loop() {
	defer c.wg.Done()
	s := &c.st
	for {
		c.linkMu.Lock()
		timerC := s.timerC
		c.linkMu.Unlock()
		var f func() error
		select {
		case cmd := <-c.emerg:
			f = func() error { return c.writeEmergency(cmd) }
		case <-c.fake:
			f = func() error { return c.onOk(Ok{N: -1, P: -1, B: -1}) }
		case <-c.wake:
		case <-c.rearm:
			continue
		case <-timerC:
			f = func() error {
				if s.timerC != timerC {
					return nil // replaced while this one fired
				}
				s.timer, s.timerC = nil, nil
				return c.onTimer()
			}
		case <-c.stop:
			f = func() error { return ErrClosed }
		case <-c.quit:
		}
		if !c.step(f) {
			break
		}
	}
	c.linkMu.Lock()
	cause := s.cause
	if s.timer != nil {
		s.timer.Stop()
	}
	c.linkMu.Unlock()
	c.err.Store(&cause)
	c.rwc.Close()
	<-c.readerDone // the reader sees st.cause and makes no further calls
	close(c.done)
	c.opts.Observer.Closed(cause)
}

// start begins the handshake, before the reader can see a reply.
func (c *Conn) start() {
	s := &c.st
	c.step(func() error {
		s.lastProgress = c.opts.Clock.Now()
		if c.opts.StartWait > 0 {
			s.phase = phaseStart
			s.deadline = s.lastProgress.Add(c.opts.StartWait)
			return nil
		}
		return c.hello()
	})
}

// step locks the link state, writes the emergency commands waiting, runs f
// (if any), writes whatever flow control allows and re-arms the clock. It
// reports false once the Conn is ending: then f has not run, or it or a
// write failed and the cause is recorded for the loop goroutine.
func (c *Conn) step(f func() error) bool {
	s := &c.st
	c.linkMu.Lock()
	defer c.linkMu.Unlock()
	if s.cause != nil {
		return false
	}
	cause := c.writeEmergencies()
	if cause == nil && f != nil {
		cause = f()
	}
	if cause == nil && s.phase == phaseRun {
		cause = c.pump()
	}
	if cause != nil {
		s.cause = cause
		close(c.quit)
		return false
	}
	c.schedule()
	return true
}

// writeEmergencies writes the emergency commands waiting, ahead of anything
// else step does.
func (c *Conn) writeEmergencies() error {
	for {
		select {
		case cmd := <-c.emerg:
			if err := c.writeEmergency(cmd); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// hello starts (or restarts) the handshake.
func (c *Conn) hello() error {
	s := &c.st
	s.phase = phaseHello
	s.helloTries++
	if s.helloTries > c.opts.HelloTries {
		return fmt.Errorf("%w: no answer to M110 after %d tries", ErrFirmwareGone, c.opts.HelloTries)
	}
	s.inflight = s.inflight[:0]
	s.inflightB = 0
	s.released = s.released[:0]
	s.deadline = c.opts.Clock.Now().Add(c.opts.HelloTimeout)
	s.buf = AppendFrame(s.buf[:0], 0, "M110 N0")
	s.inflight = append(s.inflight, flight{n: 0, size: len(s.buf), internal: true})
	s.inflightB = len(s.buf)
	return c.write(s.buf, false)
}

func (c *Conn) write(b []byte, resend bool) error {
	if _, err := c.rwc.Write(b); err != nil {
		return fmt.Errorf("%w: write: %v", ErrLinkLost, err)
	}
	c.bytesOut.Add(int64(len(b)))
	c.opts.Observer.Sent(string(trimEOL(b)), resend)
	return nil
}

func (c *Conn) writeEmergency(cmd string) error {
	s := &c.st
	s.buf = append(append(s.buf[:0], cmd...), '\n')
	if err := c.write(s.buf, false); err != nil {
		return err
	}
	// The firmware acknowledges the line once it reaches its queue, after
	// every line written before it: append it to the flight in byte order.
	if s.phase == phaseRun && cmd != "M112" {
		s.inflight = append(s.inflight, flight{n: -1, size: len(s.buf), epoch: s.epoch, internal: true})
		s.inflightB += len(s.buf)
		c.touch()
	}
	return nil
}

// canSend reports whether a line of size bytes may go out now.
func (c *Conn) canSend(size int) bool {
	s := &c.st
	if len(s.inflight) == 0 {
		return true
	}
	if !s.advanced {
		return false
	}
	return s.sentSinceOk < s.freeSlots && s.inflightB+s.ghostB+size < c.opts.RxBuffer
}

// touch restarts the silence clock when the first line goes in flight.
func (c *Conn) touch() {
	if len(c.st.inflight) == 1 {
		c.st.lastProgress = c.opts.Clock.Now()
	}
}

// pump writes lines while flow control allows: resends first, then pokes,
// then the queue, then the source.
func (c *Conn) pump() error {
	s := &c.st
	if !s.drainUntil.IsZero() {
		if c.opts.Clock.Now().Before(s.drainUntil) {
			return nil
		}
		s.drainUntil = time.Time{}
	}
	for {
		if s.resendPtr < s.nextLine {
			h := s.hist[s.resendPtr%len(s.hist)]
			s.buf = AppendFrame(s.buf[:0], h.n, h.cmd.Text)
			if !c.canSend(len(s.buf)) {
				return nil
			}
			if err := c.write(s.buf, true); err != nil {
				return err
			}
			c.resent.Add(1)
			c.sentLine(flight{n: h.n, size: len(s.buf), epoch: s.epoch, cmd: h.cmd, internal: h.internal, long: isLong(h.cmd.Text)})
			s.resendPtr++
			continue
		}
		if s.pokes > 0 {
			s.buf = AppendFrame(s.buf[:0], s.nextLine, "M105")
			if !c.canSend(len(s.buf)) {
				return nil
			}
			if err := c.write(s.buf, false); err != nil {
				return err
			}
			c.lines.Add(1)
			s.pokes--
			poke := Command{Text: "M105"}
			s.hist[s.nextLine%len(s.hist)] = histEntry{n: s.nextLine, cmd: poke, internal: true}
			// The command lets the poke's "ok T:" find it (advancedOk).
			c.sentLine(flight{n: s.nextLine, size: len(s.buf), epoch: s.epoch, cmd: poke, internal: true})
			s.nextLine++
			s.resendPtr = s.nextLine
			continue
		}
		if s.pending == nil && !c.nextCommand() {
			return nil
		}
		n := s.nextLine
		reset, isReset := lineNumberReset(s.pending.Text)
		if isReset {
			if len(s.released) > 0 || slices.ContainsFunc(s.inflight, func(f flight) bool { return f.n >= 0 }) {
				// The firmware accepts M110 whatever line it expects: a
				// numbered line in flight or released that it lost would
				// never be asked for again, and the new numbers could not
				// confirm it. Wait until every one before is acknowledged
				// (the pokes settle released ones).
				return nil
			}
			n = reset
		}
		s.buf = AppendFrame(s.buf[:0], n, s.pending.Text)
		if !c.canSend(len(s.buf)) {
			return nil
		}
		if err := c.write(s.buf, false); err != nil {
			return err
		}
		c.lines.Add(1)
		if isReset {
			s.base = n
		}
		s.hist[n%len(s.hist)] = histEntry{n: n, cmd: *s.pending}
		c.sentLine(flight{n: n, size: len(s.buf), epoch: s.epoch, cmd: *s.pending, long: isLong(s.pending.Text)})
		s.nextLine = n + 1
		s.resendPtr = s.nextLine
		s.pending = nil
	}
}

func (c *Conn) sentLine(f flight) {
	s := &c.st
	s.inflight = append(s.inflight, f)
	s.inflightB += f.size
	s.sentSinceOk++
	c.touch()
}

// nextCommand loads s.pending from the pokes, the queue or the source.
func (c *Conn) nextCommand() bool {
	s := &c.st
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) > 0 {
		cmd := c.queue[0]
		c.queue[0] = Command{}
		c.queue = c.queue[1:]
		if len(c.queue) == 0 {
			c.queue = c.queue[:0:0]
		}
		s.pending = &cmd
		return true
	}
	if c.src != nil {
		return c.nextFromSource()
	}
	return false
}

// nextFromSource loads s.pending from the source, with c.mu held. Lines with
// nothing to send (comments) are acknowledged in order: at once when no line
// is outstanding, else together with the last line sent.
func (c *Conn) nextFromSource() bool {
	s := &c.st
	for {
		cmd, ok := c.src.Next()
		if !ok {
			return false
		}
		text, err := CleanCommand(cmd.Text)
		if err == nil {
			cmd.Text = text
			s.pending = &cmd
			return true
		}
		last := s.nextLine - 1
		h := &s.hist[last%len(s.hist)]
		outstanding := h.n == last && last >= s.base && (s.resendPtr <= last || c.unconfirmed(last))
		if !outstanding {
			c.opts.Observer.Acked(cmd)
			continue
		}
		h.after = append(h.after, cmd)
	}
}

// unconfirmed reports whether line n is in flight or released by a timeout
// and not yet confirmed: either way it is yet to be reported.
func (c *Conn) unconfirmed(n int) bool {
	for _, f := range c.st.inflight {
		if f.n == n {
			return true
		}
	}
	for _, f := range c.st.released {
		if f.n == n {
			return true
		}
	}
	return false
}

// isProgress reports whether a reply shows the firmware working on what it
// was sent. Auto-reported temperatures and SD progress do not: an ok lost
// among auto-reports must still time out. The exception is the progress
// output of a heating wait ("T:190.3 E:0 W:?") while such a command is the
// oldest line in flight, for firmware that prints no busy keep-alives.
func (c *Conn) isProgress(r reply) bool {
	switch r.msg.(type) {
	case Temperatures, SDProgress:
		return len(c.st.inflight) > 0 && c.st.inflight[0].long && strings.Contains(r.line, " W:")
	}
	return true
}

// longCommands are commands that may run for minutes.
var longCommands = map[string]bool{
	"G4": true, "G28": true, "G29": true, "G76": true, "M0": true, "M1": true, "M48": true, "M109": true,
	"M116": true, "M190": true, "M191": true, "M226": true, "M303": true, "M400": true, "M600": true,
}

func isLong(cmd string) bool {
	code, _, _ := strings.Cut(cmd, " ")
	return longCommands[strings.ToUpper(code)]
}

// handle accounts for one reply line.
func (c *Conn) handle(r reply) error {
	s := &c.st
	if c.isProgress(r) {
		s.lastProgress = c.opts.Clock.Now()
		s.timeouts = 0
	}
	c.opts.Observer.Received(r.line, r.msg)
	switch m := r.msg.(type) {
	case Ok:
		return c.onOk(m)
	case Resend:
		return c.onResend(m.Line)
	case Start:
		switch s.phase {
		case phaseRun:
			return ErrFirmwareReset
		case phaseStart:
			return c.hello()
		default:
			// The firmware booted after the greeting went out. It has either
			// buffered the greeting, and answers it after its banner, or lost
			// it; a second greeting now could draw a second ok that would be
			// taken for another line's. Give it HelloTimeout to answer.
			s.deadline = c.opts.Clock.Now().Add(c.opts.HelloTimeout)
			return nil
		}
	case Error:
		if m.Fatal {
			return fmt.Errorf("%w: %s", ErrFirmwareHalted, m.Text)
		}
		s.lastErrLineNo = strings.Contains(m.Text, "Line Number")
	}
	if s.phase == phaseStart {
		// The firmware is talking, so it is up: no need to wait for "start".
		return c.hello()
	}
	return nil
}

func (c *Conn) onOk(m Ok) error {
	s := &c.st
	switch s.phase {
	case phaseStart:
		return c.hello()
	case phaseHello:
		s.phase = phaseRun
		s.inflight, s.inflightB = s.inflight[:0], 0
		s.nextLine, s.resendPtr, s.base = 1, 1, 0
		c.noteAdvanced(m)
		close(c.ready)
		return nil
	}
	c.noteAdvanced(m)
	if s.advanced {
		c.advancedOk(m)
		return nil
	}
	if len(s.inflight) == 0 {
		c.spurious.Add(1)
		return nil
	}
	f := c.popFront()
	if f.n >= 0 && !f.rejected {
		// Plain oks are counted: this is the oldest line's, and the
		// released lines were sent before it.
		c.confirm(f.n)
	}
	c.ack(f)
	return nil
}

func (c *Conn) noteAdvanced(m Ok) {
	s := &c.st
	if m.B < 0 || c.opts.PlainOk {
		return
	}
	if !s.advanced {
		s.advanced = true
		c.advancedFlag.Store(true)
	}
	s.freeSlots, s.sentSinceOk = m.B, 0
}

func (c *Conn) onResend(n int) error {
	s := &c.st
	if s.phase != phaseRun {
		return nil
	}
	if s.advanced {
		if c.swallowResend(n) {
			return nil
		}
	} else if len(s.inflight) > 0 {
		front := &s.inflight[0]
		front.rejected = true
		if front.epoch < s.epoch {
			// A line written before the previous request was answered:
			// the firmware rejects it too, and the resend already covers it.
			return nil
		}
	}
	if n >= s.nextLine {
		return nil // nothing sent from there yet
	}
	if n < s.base || n < s.nextLine-len(s.hist) || s.hist[n%len(s.hist)].n != n {
		return fmt.Errorf("resend N%d (window N%d..N%d): %w", n, max(s.base, s.nextLine-len(s.hist)), s.nextLine-1, ErrResendOutOfWindow)
	}
	c.resends.Add(1)
	s.epoch++
	s.resendPtr = n
	c.unrelease(n)
	if s.advanced {
		c.dropStale(n)
	}
	s.lastErrLineNo = false
	return nil
}

// wantDeadline returns when the loop must next look at the clock.
func (c *Conn) wantDeadline() (time.Time, bool) {
	s := &c.st
	switch s.phase {
	case phaseStart, phaseHello:
		return s.deadline, true
	}
	var t time.Time
	if len(s.inflight) > 0 || len(s.released) > 0 {
		// Released lines keep the link probed until they are confirmed.
		t = s.lastProgress.Add(c.opts.Timeout)
	}
	if !s.drainUntil.IsZero() && (t.IsZero() || s.drainUntil.Before(t)) {
		t = s.drainUntil
	}
	return t, !t.IsZero()
}

// schedule arms the timer lazily: a timer that fires early is re-armed, so
// replies do not each cost a new timer.
func (c *Conn) schedule() {
	s := &c.st
	want, ok := c.wantDeadline()
	if !ok {
		if s.timer != nil {
			s.timer.Stop()
			s.timer, s.timerC = nil, nil
			c.rearmed()
		}
		return
	}
	if s.timer != nil && !s.armedAt.After(want) {
		return
	}
	if s.timer != nil {
		s.timer.Stop()
	}
	d := want.Sub(c.opts.Clock.Now())
	if d < 0 {
		d = 0
	}
	s.timer = c.opts.Clock.NewTimer(d)
	s.timerC = s.timer.C()
	s.armedAt = want
	c.rearmed()
}

// rearmed tells the loop goroutine to select on the new timer channel.
func (c *Conn) rearmed() {
	select {
	case c.rearm <- struct{}{}:
	default:
	}
}

func (c *Conn) onTimer() error {
	s := &c.st
	now := c.opts.Clock.Now()
	if !s.drainUntil.IsZero() && !now.Before(s.drainUntil) {
		s.drainUntil = time.Time{} // the pump may send again
	}
	want, ok := c.wantDeadline()
	if !ok || now.Before(want) || (len(s.inflight) == 0 && len(s.released) == 0 && s.phase == phaseRun) {
		return nil
	}
	switch s.phase {
	case phaseStart:
		return c.hello()
	case phaseHello:
		return c.hello()
	}
	s.timeouts++
	c.timeoutsN.Add(1)
	if s.timeouts >= c.opts.MaxTimeouts {
		return fmt.Errorf("%w: silent for %d timeouts of %s", ErrFirmwareGone, s.timeouts, c.opts.Timeout)
	}
	// Assume the oldest line's ok was lost: release it and poke the firmware
	// with a numbered line. Had the line itself been lost, the firmware asks
	// for it when the poke arrives; the released line is reported only once
	// the firmware confirms it, and until then each timeout pokes again,
	// with nothing left in flight too (flow.go).
	if s.advanced {
		// After this much silence nothing stale is on its way any more.
		s.rejections, s.ghostB, s.swallowLeft = 0, 0, 0
		s.sentSinceOk, s.freeSlots = 0, max(s.freeSlots, 1)
	}
	if len(s.inflight) > 0 {
		c.release()
	}
	s.pokes++
	s.lastProgress = c.opts.Clock.Now()
	return nil
}
