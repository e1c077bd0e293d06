package virtualprinter

import (
	"errors"
	"io"
	"math/rand"
	"strconv"
	"time"
)

// errAborted ends a command's wait when the firmware was killed or reset meanwhile.
var errAborted = errors.New("virtualprinter: command aborted")

// busyState is Marlin's host keepalive state.
type busyState int

const (
	notBusy busyState = iota
	busyProcessing
	busyPausedForUser
)

// queued is a line in the command buffer.
type queued struct {
	line    string    // as received (comments removed), with line number and checksum
	n       int       // line number, when hasN
	hasN    bool      // the line carried a line number
	fromSD  bool      // the line came from the SD card, not the link
	arrived time.Time // when its last byte arrived
}

// session is one power-on of the firmware on one link. All firmware state is owned by the
// goroutine running run; the reader goroutine only touches rx, emerg, notify and readErr.
type session struct {
	p       *Printer
	cfg     Config
	tx      *txLink
	rx      *rxRing
	notify  chan struct{} // signalled when bytes or an emergency command arrived
	emerg   chan string   // emergency commands seen by the reader
	readErr chan error    // the reader's final error
	done    <-chan struct{}
	ctxErr  func() error
	epoch   time.Time
	corr    corrupter
	ep      emergencyParser

	stop   error // set once the session must end
	gen    int   // incremented by kill and reset: commands in progress are void
	halted bool

	lastN int
	asm   lineAssembler
	queue []queued
	cur   queued // the command being executed
	// readyAt is the ideal time the current command's output is ready (its arrival plus
	// Latency), zero when output goes out as it is made. Timing output from it rather than
	// from a late wake-up keeps the emulated link at its rate on a loaded machine.
	readyAt time.Time

	th *thermal
	mo *motion
	sd *sdState

	busy        busyState
	keepalive   time.Duration
	nextBusy    time.Duration
	autoTemp    time.Duration
	nextTemp    time.Duration
	autoSD      time.Duration
	nextSD      time.Duration
	cancelWait  bool // M108 seen: end a heating wait
	waitingUser bool // M0/M1 in progress
}

func newSession(p *Printer, rw io.ReadWriter, done <-chan struct{}, ctxErr func() error) *session {
	cfg := p.cfg
	p.mu.Lock()
	seed := p.rng.Int63()
	p.mu.Unlock()
	s := &session{
		p:       p,
		cfg:     cfg,
		tx:      &txLink{w: rw, pace: pacer{rate: cfg.byteRate(), precise: cfg.PreciseTiming}, done: done},
		rx:      newRxRing(cfg.RxBuffer, &p.overrun),
		notify:  make(chan struct{}, 1),
		emerg:   make(chan string, 16),
		readErr: make(chan error, 1),
		done:    done,
		ctxErr:  ctxErr,
		epoch:   time.Now(),
		corr:    corrupter{rng: rand.New(rand.NewSource(seed))},
	}
	s.powerOn()
	return s
}

// powerOn puts the firmware state in its reset condition.
func (s *session) powerOn() {
	s.lastN = 0
	s.asm.reset()
	s.queue = s.queue[:0]
	s.halted = false
	s.gen++
	ambient := s.cfg.Ambient
	if s.th != nil {
		s.th.hotend.target, s.th.bed.target = 0, 0
	} else {
		s.th = newThermal(ambient)
	}
	s.th.at = s.now()
	s.mo = newMotion()
	if s.sd == nil {
		s.sd = &sdState{}
	} else {
		s.sd.close()
	}
	s.busy = notBusy
	s.keepalive = 2 * time.Second
	s.autoTemp, s.autoSD = 0, 0
	s.cancelWait, s.waitingUser = false, false
}

// now is the simulated time since power-on, scaled by TimeScale.
func (s *session) now() time.Duration {
	return time.Duration(float64(time.Since(s.epoch)) * s.cfg.TimeScale)
}

// realDuration converts a simulated duration to wall time.
func (s *session) realDuration(d time.Duration) time.Duration {
	return time.Duration(float64(d) / s.cfg.TimeScale)
}

// send writes one line to the host unless the firmware is halted. A write failure ends the
// session.
func (s *session) send(line string) {
	if s.halted || s.stop != nil {
		return
	}
	if err := s.tx.writeLine(line, s.readyAt); err != nil {
		s.stop = linkError("write", err)
	}
}

// run is the firmware's main loop (Marlin's loop()): read commands, execute one, idle.
func (s *session) run() error {
	if s.cfg.BootDelay > 0 {
		if err := s.sleepReal(s.cfg.BootDelay); err != nil {
			return err
		}
	}
	s.banner()
	for {
		if err := s.idle(); err != nil {
			return err
		}
		if s.halted {
			s.rx.flush()
			if err := s.sleep(-1); err != nil {
				return err
			}
			continue
		}
		s.readCommands()
		s.readSD()
		if len(s.queue) > 0 {
			if err := s.executeNext(); err != nil {
				return err
			}
			continue
		}
		if err := s.sleep(s.nextTimer()); err != nil {
			return err
		}
	}
}

func (s *session) banner() {
	for _, l := range []string{
		"start",
		"echo:Marlin " + FirmwareVersion,
		"echo: Last Updated: 2024-06-11 | Author: (cuttle virtual printer)",
		"echo: Compiled: Jun 11 2024",
		"echo: Free Memory: 2291  PlannerBufferBytes: 1216",
		"echo:Hardcoded Default Settings Loaded",
		"echo:; Steps per unit:",
		"echo: M92 X80.00 Y80.00 Z400.00 E500.00",
		"echo:; Maximum feedrates (units/s):",
		"echo: M203 X300.00 Y300.00 Z5.00 E25.00",
		"echo:; Acceleration (units/s2) (P<print-accel> R<retract-accel> T<travel-accel>):",
		"echo: M204 P3000.00 R3000.00 T3000.00",
		"echo:SD card ok",
	} {
		s.send(l)
	}
}

// idle is Marlin's idle(): runtime requests, emergency commands, heaters, auto-reports and
// the host keepalive. It returns the error that ends the session, if any.
func (s *session) idle() error {
	for {
		select {
		case f := <-s.p.ctl:
			f(s)
			continue
		case cmd := <-s.emerg:
			s.emergency(cmd)
			continue
		case err := <-s.readErr:
			if s.stop == nil {
				s.stop = linkError("read", err)
			}
			continue
		default:
		}
		break
	}
	if s.stop != nil {
		return s.stop
	}
	select {
	case <-s.done:
		return s.ctxErr()
	default:
	}
	if s.halted {
		return nil
	}
	now := s.now()
	s.th.update(now)
	if s.autoTemp > 0 && now >= s.nextTemp {
		s.send(s.th.report())
		s.nextTemp = now + s.autoTemp
	}
	if s.autoSD > 0 && now >= s.nextSD {
		if s.sd.open() {
			s.send(s.sd.status())
		}
		s.nextSD = now + s.autoSD
	}
	switch {
	case s.busy == notBusy || s.keepalive <= 0:
		s.nextBusy = now + s.keepalive
	case now >= s.nextBusy:
		if s.busy == busyPausedForUser {
			s.send("echo:busy: paused for user")
		} else {
			s.send("echo:busy: processing")
		}
		s.nextBusy = now + s.keepalive
	}
	return s.stop
}

// nextTimer is the simulated time until idle has something to do, or -1.
func (s *session) nextTimer() time.Duration {
	now := s.now()
	next := time.Duration(-1)
	consider := func(at time.Duration) {
		d := max(at-now, 0)
		if next < 0 || d < next {
			next = d
		}
	}
	if s.autoTemp > 0 {
		consider(s.nextTemp)
	}
	if s.autoSD > 0 {
		consider(s.nextSD)
	}
	if s.busy != notBusy && s.keepalive > 0 {
		consider(s.nextBusy)
	}
	return next
}

// sleep waits up to d of simulated time (forever when d < 0) for input, a runtime request
// or the end of the session.
func (s *session) sleep(d time.Duration) error {
	var timeout <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(s.realDuration(d))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-s.notify:
	case f := <-s.p.ctl:
		f(s)
	case err := <-s.readErr:
		if s.stop == nil {
			s.stop = linkError("read", err)
		}
	case <-s.done:
		return s.ctxErr()
	case <-timeout:
	}
	return nil
}

func isDone(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// sleepReal waits for wall-time d or the end of the session.
func (s *session) sleepReal(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-s.done:
		return s.ctxErr()
	}
}

// waitFor blocks the current command in state until cond reports done, idling meanwhile
// (Marlin's `while (!cond) idle();`). cond returns whether the wait is over and, if not,
// the simulated time after which to ask again (< 0: only when something happens). The
// first keepalive comes one interval after the wait began.
func (s *session) waitFor(state busyState, cond func() (bool, time.Duration)) error {
	gen := s.gen
	prev := s.busy
	s.busy = state
	defer func() { s.busy = prev }()
	s.nextBusy = s.now() + s.keepalive
	for {
		done, next := cond()
		if done {
			return nil
		}
		s.readyAt = time.Time{} // a command that blocked answers in real time
		if t := s.nextTimer(); t >= 0 && (next < 0 || t < next) {
			next = t
		}
		if err := s.sleep(next); err != nil {
			return err
		}
		if err := s.idle(); err != nil {
			return err
		}
		if s.halted || s.gen != gen {
			return errAborted
		}
	}
}

// readCommands is Marlin's get_serial_commands: move received characters into the command
// buffer while it has room, checking line numbers and checksums.
func (s *session) readCommands() {
	for len(s.queue) < s.cfg.BufSize {
		c, at, ok := s.rx.pop()
		if !ok {
			return
		}
		line, complete := s.asm.add(c)
		if !complete {
			continue
		}
		chk := checkLine(line, s.lastN, s.sd.saving)
		if chk.err == "" && chk.hasN && s.p.takeSpuriousResend() {
			chk.err = errChecksum
		}
		if chk.err != "" {
			s.lineError(chk.err)
			return
		}
		if chk.hasN {
			s.lastN = chk.n
		}
		s.queue = append(s.queue, queued{line: line, n: chk.n, hasN: chk.hasN, arrived: at})
	}
}

// lineError answers a rejected line as Marlin does: the error, a flushed receive buffer,
// the resend request and a bare ok.
func (s *session) lineError(msg string) {
	s.send("Error:" + msg + strconv.Itoa(s.lastN))
	s.rx.flush()
	s.asm.reset()
	s.send("Resend: " + strconv.Itoa(s.lastN+1))
	s.send("ok")
}

// executeNext runs the command at the head of the buffer and acknowledges it.
func (s *session) executeNext() error {
	it := s.queue[0]
	if !it.fromSD && s.cfg.Latency > 0 {
		sleepUntil(it.arrived.Add(s.cfg.Latency), s.cfg.PreciseTiming, s.done)
		if s.stop == nil && isDone(s.done) {
			return s.ctxErr()
		}
	}
	gen := s.gen
	text := stripLine(it.line)
	s.cur = it
	if !it.fromSD && !it.arrived.IsZero() {
		s.readyAt = it.arrived.Add(s.cfg.Latency)
	}
	defer func() { s.readyAt = time.Time{} }()
	if !it.fromSD && (!s.sd.saving || isM29(text)) {
		s.p.logExecuted(text) // lines stored by an M28 upload are not executed
	}
	ok, err := s.dispatch(text)
	if err != nil && !errors.Is(err, errAborted) {
		return err
	}
	if gen != s.gen || s.halted {
		return nil // killed or reset meanwhile: the buffer is already gone
	}
	if err == nil && ok && !it.fromSD {
		s.okToSend(it, "")
	}
	s.queue = s.queue[1:]
	return nil
}

// okToSend acknowledges a command, with ADVANCED_OK's line number and free slots, plus
// extra (M105's temperatures, which replace the ADVANCED_OK fields as in Marlin).
func (s *session) okToSend(it queued, extra string) {
	if s.p.takeDropOK() {
		return
	}
	if extra != "" {
		s.send("ok" + extra)
		return
	}
	if !s.cfg.AdvancedOK {
		s.send("ok")
		return
	}
	b := make([]byte, 0, 24)
	b = append(b, "ok"...)
	if it.hasN {
		// Marlin copies the digits after the line's leading N (for "N5 M110 N0" that
		// is 5, not the 0 that M110 set).
		b = append(b, " N"...)
		b = strconv.AppendInt(b, int64(strtol(it.line[1:])), 10)
	}
	b = append(b, " P"...)
	b = strconv.AppendInt(b, int64(s.plannerFree()), 10)
	b = append(b, " B"...)
	b = strconv.AppendInt(b, int64(s.cfg.BufSize-len(s.queue)), 10)
	s.send(string(b))
}

// plannerFree is Marlin's planner.moves_free().
func (s *session) plannerFree() int {
	return s.cfg.PlannerSize - 1 - s.mo.planned(s.now())
}

// readLoop is the wire: it takes what the host writes as soon as it is written and hands
// it, stamped with that time, to the uart goroutine, which delivers it to the receive ring
// at the link's rate. Pacing in a second goroutine keeps a late wake-up of the pacer from
// turning into idle link time: bytes the host wrote while the link was busy follow the
// ones before them back to back, as they do on a UART. The wire holds about 4 KiB, like
// the host's tty buffer; beyond that the host's writes block.
func (s *session) readLoop(r io.Reader) error {
	pace := pacer{rate: s.cfg.byteRate(), precise: s.cfg.PreciseTiming}
	if pace.rate <= 0 {
		buf := make([]byte, 512)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				s.receive(buf[:n], time.Now(), 0)
			}
			if err != nil {
				return err
			}
			if isDone(s.done) {
				return nil
			}
		}
	}
	wire := make(chan wireChunk, 8)
	uartDone := make(chan struct{})
	go func() {
		defer close(uartDone)
		s.uart(wire, &pace)
	}()
	defer func() {
		close(wire)
		<-uartDone
	}()
	for {
		buf := make([]byte, 512)
		n, err := r.Read(buf)
		if n > 0 {
			select {
			case wire <- wireChunk{data: buf[:n], written: time.Now()}:
			case <-s.done:
				return nil
			}
		}
		if err != nil {
			return err
		}
		if isDone(s.done) {
			return nil
		}
	}
}

// wireChunk is what one read from the link returned, and when.
type wireChunk struct {
	data    []byte
	written time.Time
}

// uart delivers the wire's bytes to the receive ring, each chunk starting when it was
// written or when the one before it has arrived, whichever is later. It lets the
// corruption fault and the emergency parser see them first.
func (s *session) uart(wire <-chan wireChunk, pace *pacer) {
	for c := range wire {
		pace.begin(c.written)
		for data := c.data; len(data) > 0; {
			k := min(len(data), pace.chunk())
			part := data[:k]
			data = data[k:]
			pace.wait(k, s.done)
			if isDone(s.done) {
				return
			}
			s.receive(part, pace.free, pace.perByte())
		}
	}
}

func (s *session) receive(b []byte, at time.Time, perByte time.Duration) {
	s.corr.apply(b, s.p.corruptRate())
	s.ep.feed(b, func(cmd string) {
		select {
		case s.emerg <- cmd:
		default:
		}
	})
	s.rx.push(b, at, perByte)
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// emergency acts on a command found by the emergency parser.
func (s *session) emergency(cmd string) {
	if s.halted {
		return
	}
	c := parseCommand(cmd)
	switch c.code {
	case 112:
		s.p.logExecuted(cmd)
		s.send("echo:M112 Shutdown")
		s.kill()
	case 108:
		s.cancelWait = true
		s.waitingUser = false
	case 410:
		s.mo.quickStop(s.now())
	case 876:
		if c.has('S') {
			s.waitingUser = false
		}
	}
}

// kill is Marlin's kill(): report, ask the host to power off and stop talking.
func (s *session) kill() {
	s.send("Error:Printer halted. kill() called!")
	s.send("//action:poweroff")
	s.halted = true
	s.gen++
	s.queue = s.queue[:0]
	s.th.hotend.target, s.th.bed.target = 0, 0
	s.mo.quickStop(s.now())
	s.sd.close()
}
