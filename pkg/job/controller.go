package job

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/files"
)

// State is the job's state.
type State int

// States. StateIdle means no print runs; the printer's own state text
// applies (Operational, Offline, …).
const (
	StateIdle State = iota
	StatePrinting
	StatePausing
	StatePaused
	StateResuming
	StateCancelling
	StateFinishing
	StateTransferring // streaming a file to the SD card
)

// String returns OctoPrint's state text ("Printing"); "Operational" for
// StateIdle.
func (s State) String() string {
	switch s {
	case StatePrinting:
		return "Printing"
	case StatePausing:
		return "Pausing"
	case StatePaused:
		return "Paused"
	case StateResuming:
		return "Resuming"
	case StateCancelling:
		return "Cancelling"
	case StateFinishing:
		return "Finishing"
	case StateTransferring:
		return "Sending file to SD"
	}
	return "Operational"
}

// Options configure a Controller.
type Options struct {
	// Files is the storage jobs print from. Required.
	Files *files.Storage
	// Link is the printer (nil: never operational).
	Link Link
	// Bus receives Print*, FileSelected, ZChange and ToolChange events, and
	// tells Run about connects and disconnects; nil publishes nothing.
	Bus *events.Bus
	// Scripts returns the G-code scripts in force (default DefaultScripts).
	Scripts func() Scripts
	// Profile returns the current printer profile id (default "_default").
	Profile func() string
	// BeforePrint runs before a print starts (power switches the PSU on).
	// An error refuses the start.
	BeforePrint func(ctx context.Context) error
	// Busy, when set, is told when a print or transfer starts (true) and
	// ends (false); the storage holds its analysis back meanwhile. It must
	// not block or call back into the Controller.
	Busy func(busy bool)
	// SDPoll is how often an SD print's progress is checked (default 2 s);
	// firmware silent for twice that is asked with M27.
	SDPoll time.Duration
	// Buffer is how many lines the reader queues ahead (default 256).
	Buffer int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives errors of background work (default slog.Default()).
	Log *slog.Logger
}

// Controller runs print jobs. Create it with New and run Run.
type Controller struct {
	o    Options
	link Link

	// mu guards every field below. Lock order: the connection's locks, then
	// mu, then the Machine's; mu is never held while calling Link.Send,
	// Stream or StopStream.
	mu    sync.Mutex
	state State
	err   string // last error, for GET /api/job
	sel   *selection
	pr    *run // the running print, nil when idle
	last  *run // the last print, for progress after it ended
	gen   uint64
	gate  int // > 0: Next feeds nothing until queued scripts are sent
	sd    sdCard
	tasks []task // work for the worker, in order
	wake  chan struct{}

	sub  *events.Subscription // connects and disconnects, read by Run
	base context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup // reader goroutines and history writers
}

// task is worker work: send lines, then run then (without c.mu held).
type task struct {
	lines []string
	then  func()
}

// selection is the selected file.
type selection struct {
	path    string
	size    int64
	origin  string // "local" or "sdcard"
	display string // SD files: the long name
}

// run is one print.
type run struct {
	gen       uint64
	path      string
	size      int64
	user      string
	rd        *reader
	cancel    context.CancelFunc
	release   func()
	started   time.Time
	pausedAt  time.Time
	paused    time.Duration
	ended     time.Time
	sent      int
	acked     int
	ackedPos  int64
	eof       bool
	sd        bool      // printing from the printer's SD card
	transfer  string    // the SD name when streaming a file to the card
	reported  time.Time // the firmware's last SD progress report
	begun     bool      // the firmware reported the SD print's progress
	pos       position
	pauseUser string
}

// New returns a Controller.
func New(o Options) *Controller {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Profile == nil {
		o.Profile = func() string { return "_default" }
	}
	if o.Scripts == nil {
		o.Scripts = DefaultScripts
	}
	if o.Buffer <= 0 {
		o.Buffer = 256
	}
	if o.SDPoll <= 0 {
		o.SDPoll = 2 * time.Second
	}
	base, stop := context.WithCancel(context.Background())
	c := &Controller{o: o, link: o.Link, base: base, stop: stop, wake: make(chan struct{}, 1)}
	if o.Bus != nil {
		// Subscribed here, not in Run, so no connect is missed in between.
		c.sub = o.Bus.Subscribe(events.Options{Match: func(e events.Event) bool {
			switch e.(type) {
			case events.Connected, events.Disconnected, events.Error:
				return true
			}
			return false
		}})
	}
	return c
}

// Run sends queued scripts and follows connects and disconnects on the bus
// until ctx ends. Start it once.
func (c *Controller) Run(ctx context.Context) {
	var sub <-chan struct{}
	bus := c.sub
	if bus != nil {
		defer bus.Close()
		sub = bus.Ready()
	}
	poll := time.NewTicker(c.o.SDPoll)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
			c.pollSD()
		case <-c.wake:
			c.drain()
		case <-sub:
			var evs []events.Event
			evs = bus.Take(evs)
			for _, e := range evs {
				switch ev := e.(type) {
				case events.Connected:
					c.Connected()
				case events.Disconnected:
					c.Detach(fmt.Errorf("printer disconnected"))
				case events.Error:
					c.mu.Lock()
					c.err = ev.Error
					c.mu.Unlock()
				}
			}
		}
	}
}

// drain runs the queued tasks.
func (c *Controller) drain() {
	for {
		c.mu.Lock()
		if len(c.tasks) == 0 {
			c.mu.Unlock()
			return
		}
		t := c.tasks[0]
		c.tasks = c.tasks[1:]
		link := c.link
		c.mu.Unlock()
		for _, l := range t.lines {
			if link == nil {
				break
			}
			if err := link.Send(l); err != nil {
				c.o.Log.Warn("job: send script line", "line", l, "err", err)
				break
			}
		}
		if t.then != nil {
			t.then()
		}
	}
}

// queueLocked adds a task for the worker.
func (c *Controller) queueLocked(t task) {
	c.tasks = append(c.tasks, t)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Close stops a running print's reader and waits for background work.
func (c *Controller) Close() error {
	c.mu.Lock()
	if c.pr != nil {
		c.pr.cancel()
	}
	c.stop()
	c.mu.Unlock()
	if c.sub != nil {
		c.sub.Close()
	}
	c.wg.Wait()
	return nil
}

func (c *Controller) publish(e events.Event) {
	if c.o.Bus != nil {
		c.o.Bus.Publish(e)
	}
}

// operational reports whether the link can take commands.
func (c *Controller) operational() bool { return c.link != nil && c.link.Operational() }

// Connected runs the afterPrinterConnected script; Run calls it when the
// printer connects.
func (c *Controller) Connected() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = ""
	c.scriptLocked("afterPrinterConnected", c.o.Scripts().AfterPrinterConnected, position{}, nil)
}

// Detach says the printer link is gone; a running print fails with err.
func (c *Controller) Detach(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pr != nil {
		if err != nil {
			c.err = err.Error()
		}
		if c.pr.transfer != "" {
			c.endTransferLocked(false)
			return
		}
		c.endLocked(false, "error")
	}
}

// Operational reports whether the printer can take commands.
func (c *Controller) Operational() bool { return c.operational() }

// Ready reports whether the printer is operational and idle.
func (c *Controller) Ready() bool {
	c.mu.Lock()
	idle := c.pr == nil
	c.mu.Unlock()
	return idle && c.operational()
}

// Start prints the selected file from the beginning. It fails with
// ErrNotOperational, ErrBusy, or ErrNoFile when nothing is selected.
func (c *Controller) Start(ctx context.Context, user string) error {
	c.mu.Lock()
	err := c.startableLocked()
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if c.o.BeforePrint != nil {
		if err := c.o.BeforePrint(ctx); err != nil {
			return fmt.Errorf("job: before print: %w", err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.startableLocked(); err != nil {
		return err
	}
	if c.sel.origin == originSD {
		return c.startSDLocked(user)
	}
	return c.startLocked(ctx, user)
}

func (c *Controller) startableLocked() error {
	switch {
	case !c.operational():
		return fmt.Errorf("job: start: %w", ErrNotOperational)
	case c.pr != nil:
		return fmt.Errorf("job: start: %w", ErrBusy)
	case c.sel == nil:
		return fmt.Errorf("job: start: %w", ErrNoFile)
	}
	return nil
}

func (c *Controller) startLocked(ctx context.Context, user string) error {
	f, e, err := c.o.Files.Open(ctx, c.sel.path)
	if err != nil {
		return fmt.Errorf("job: start %q: %w", c.sel.path, err)
	}
	c.gen++
	rctx, cancel := context.WithCancel(c.base)
	pr := &run{gen: c.gen, path: e.Path, size: e.Size, user: user, cancel: cancel,
		release: c.o.Files.Hold(e.Path), started: c.o.Now()}
	c.sel.size = e.Size
	link := c.link
	c.wg.Add(1)
	pr.rd = startReader(rctx, f, position{}, c.o.Buffer, link.Wake)
	go func() { <-pr.rd.done; c.wg.Done() }()
	c.pr, c.last = pr, nil
	c.err = ""
	c.setStateLocked(StatePrinting)
	c.gate++
	src := Source(c)
	c.queueLocked(task{then: func() {
		if err := link.Stream(src, false); err != nil {
			c.Detach(fmt.Errorf("start streaming: %w", err))
		}
	}})
	c.scriptLocked("beforePrintStarted", c.o.Scripts().BeforePrintStarted, position{}, c.ungate)
	c.publish(events.PrintStarted{PrintFile: c.printFile(e.Path, e.Size, e.User), User: user})
	return nil
}

// ungate lets Next feed again once a script that must precede the next job
// line has been queued on the link.
func (c *Controller) ungate() {
	c.mu.Lock()
	if c.gate > 0 {
		c.gate--
	}
	link := c.link
	c.mu.Unlock()
	if link != nil {
		link.Wake()
	}
}

func (c *Controller) setStateLocked(s State) {
	if c.o.Busy != nil && (c.state == StateIdle) != (s == StateIdle) {
		c.o.Busy(s != StateIdle)
	}
	c.state = s
	if c.link != nil {
		c.link.SetJobState(s, c.jobTextLocked())
	}
}

// jobTextLocked is OctoPrint's text for the running job's state: an SD print
// is "Starting print from SD" until the firmware first reports its progress,
// then "Printing from SD"; a transfer is "Sending file to SD".
func (c *Controller) jobTextLocked() string {
	if pr := c.pr; pr != nil && pr.sd && c.state == StatePrinting {
		if !pr.begun {
			return "Starting print from SD"
		}
		return "Printing from SD"
	}
	return c.state.String()
}

// printFile is the file part of Print* events.
func (c *Controller) printFile(path string, size int64, owner string) events.PrintFile {
	_, name := splitName(path)
	return events.PrintFile{FileName: name, Path: path, Origin: files.Location, Size: size, Owner: events.NullString(owner)}
}

func splitName(p string) (string, string) {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[:i], p[i+1:]
		}
	}
	return "", p
}

// scriptLocked renders a script and queues it for the worker, followed by
// extra lines and then. A broken script is logged, not fatal.
func (c *Controller) scriptLocked(name, src string, p position, then func(), extra ...string) {
	lines, err := Render(name, src, ScriptContext{X: Coord(p.X), Y: Coord(p.Y), Z: Coord(p.Z), E: Coord(p.E), F: Coord(p.F),
		Tool: p.Tool, RelXYZ: p.RelXYZ, RelE: p.RelE})
	if err != nil {
		c.o.Log.Error("job: script", "name", name, "err", err)
	}
	if len(lines) > 0 {
		lines = append(lines, extra...)
	}
	c.queueLocked(task{lines: lines, then: then})
}

// Next hands the link the next job line; it implements Source. It is called
// with the connection's lock held and never blocks.
func (c *Controller) Next() (string, any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pr := c.pr
	if pr == nil || (c.state != StatePrinting && c.state != StateTransferring) || c.gate > 0 {
		return "", nil, false
	}
	pr.rd.starved.Store(true)
	for {
		var it item
		select {
		case it = <-pr.rd.lines:
		default:
			return "", nil, false
		}
		pr.rd.starved.Store(false)
		switch it.kind {
		case kindLine:
			c.trackLocked(pr, it.pos)
			pr.sent++
			return it.text, lineTag{gen: pr.gen, end: it.end}, true
		case kindPause:
			if pr.transfer != "" { // the card's copy keeps its pauses
				pr.sent++
				return it.text, lineTag{gen: pr.gen, end: it.end}, true
			}
			c.pauseLocked("")
			return "", nil, false
		case kindEOF:
			pr.eof = true
			if pr.transfer == "" {
				c.setStateLocked(StateFinishing)
			}
			c.settleLocked()
			return "", nil, false
		case kindErr:
			c.err = "reading the file: " + it.text
			if pr.transfer != "" {
				c.endTransferLocked(false)
				return "", nil, false
			}
			c.endLocked(false, "error")
			return "", nil, false
		}
	}
}

// trackLocked records the position after a line and publishes ZChange and
// ToolChange.
func (c *Controller) trackLocked(pr *run, p position) {
	old := pr.pos
	pr.pos = p
	if p.zKnown && (!old.zKnown || p.Z != old.Z) {
		var o *float64
		if old.zKnown {
			z := old.Z
			o = &z
		}
		c.publish(events.ZChange{New: p.Z, Old: o})
	}
	if p.Tool != old.Tool {
		c.publish(events.ToolChange{Old: old.Tool, New: p.Tool})
	}
}

// Acked is called by the link when the firmware acknowledged a line with
// tag. Tags that are not job lines are ignored.
func (c *Controller) Acked(tag any) {
	t, ok := tag.(lineTag)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	pr := c.pr
	if pr == nil || t.gen != pr.gen {
		return
	}
	pr.acked++
	pr.ackedPos = max(pr.ackedPos, t.end) // a line a filter swallowed may be acknowledged ahead of earlier ones
	c.settleLocked()
}

// settleLocked moves a pausing, cancelling or finishing print on once the
// firmware acknowledged every line sent.
func (c *Controller) settleLocked() {
	pr := c.pr
	if pr == nil || pr.acked < pr.sent {
		return
	}
	switch c.state {
	case StateTransferring:
		if pr.eof {
			c.endTransferLocked(true)
		}
	case StatePausing:
		c.setStateLocked(StatePaused)
		c.publish(events.PrintPaused{PrintFile: c.printFile(pr.path, pr.size, ""), User: pr.pauseUser,
			Position: eventPos(pr.pos)})
	case StateCancelling:
		c.endLocked(false, "cancelled")
	case StateFinishing:
		if pr.eof {
			c.endLocked(true, "")
		}
	}
}

func eventPos(p position) *events.Position {
	return &events.Position{X: p.X, Y: p.Y, Z: p.Z, E: p.E}
}

// Action handles a host action command from the firmware ("pause",
// "resume", "cancel", "paused", "resumed").
func (c *Controller) Action(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pr == nil {
		return
	}
	switch name {
	case "pause":
		if c.state == StatePrinting {
			c.pauseLocked("")
		}
	case "paused":
		if c.state == StatePrinting {
			c.pr.pausedAt = c.o.Now()
			c.setStateLocked(StatePausing)
			c.settleLocked()
		}
	case "resume", "resumed":
		if c.state == StatePaused || c.state == StatePausing {
			c.resumeLocked("", name == "resume")
		}
	case "cancel":
		if c.state != StateCancelling {
			c.cancelLocked("")
		}
	}
}

// Pause pauses, resumes or toggles (action "pause", "resume", "toggle")
// the running print. It fails with ErrNotPrinting when nothing runs.
func (c *Controller) Pause(ctx context.Context, user, action string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pr == nil || c.state == StateCancelling {
		return fmt.Errorf("job: pause: %w", ErrNotPrinting)
	}
	paused := c.state == StatePaused || c.state == StatePausing
	switch {
	case (action == "pause" || action == "toggle") && !paused:
		c.pauseLocked(user)
	case (action == "resume" || action == "toggle") && paused:
		c.resumeLocked(user, true)
	}
	return nil
}

func (c *Controller) pauseLocked(user string) {
	pr := c.pr
	pr.pausedAt = c.o.Now()
	pr.pauseUser = user
	if pr.sd {
		c.queueLocked(task{lines: []string{"M25"}})
		c.setStateLocked(StatePaused)
		c.scriptLocked("afterPrintPaused", c.o.Scripts().AfterPrintPaused, pr.pos, nil)
		c.publish(events.PrintPaused{PrintFile: events.PrintFile{FileName: pr.path, Path: pr.path, Origin: originSD, Size: pr.size}, User: user})
		return
	}
	c.setStateLocked(StatePausing)
	c.scriptLocked("afterPrintPaused", c.o.Scripts().AfterPrintPaused, pr.pos, nil)
	c.settleLocked()
}

func (c *Controller) resumeLocked(user string, script bool) {
	pr := c.pr
	if !pr.pausedAt.IsZero() {
		pr.paused += c.o.Now().Sub(pr.pausedAt)
		pr.pausedAt = time.Time{}
	}
	if pr.sd {
		if script {
			c.scriptLocked("beforePrintResumed", c.o.Scripts().BeforePrintResumed, pr.pos, nil)
		}
		c.queueLocked(task{lines: []string{"M24"}})
		c.setStateLocked(StatePrinting)
		c.publish(events.PrintResumed{PrintFile: events.PrintFile{FileName: pr.path, Path: pr.path, Origin: originSD, Size: pr.size}, User: user})
		return
	}
	if pr.eof {
		c.setStateLocked(StateFinishing)
	} else {
		c.setStateLocked(StatePrinting)
	}
	c.gate++
	if script {
		c.scriptLocked("beforePrintResumed", c.o.Scripts().BeforePrintResumed, pr.pos, c.ungate, modeLines(pr.pos)...)
	} else {
		c.queueLocked(task{then: c.ungate})
	}
	c.publish(events.PrintResumed{PrintFile: c.printFile(pr.path, pr.size, ""), User: user, Position: eventPos(pr.pos)})
	c.settleLocked()
}

// Cancel cancels the running or paused print; ErrNotPrinting when none.
func (c *Controller) Cancel(ctx context.Context, user string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pr == nil {
		return fmt.Errorf("job: cancel: %w", ErrNotPrinting)
	}
	if c.state != StateCancelling {
		c.cancelLocked(user)
	}
	return nil
}

func (c *Controller) cancelLocked(user string) {
	pr := c.pr
	if pr.transfer != "" {
		c.endTransferLocked(false)
		return
	}
	pr.cancel()
	if pr.sd {
		c.queueLocked(task{lines: []string{"M25", "M26 S0", "M27 S0"}})
		pr.pauseUser = user
		c.scriptLocked("afterPrintCancelled", c.o.Scripts().AfterPrintCancelled, pr.pos, nil)
		c.endLocked(false, "cancelled")
		return
	}
	c.setStateLocked(StateCancelling)
	c.publish(events.PrintCancelling{PrintFile: c.printFile(pr.path, pr.size, ""), User: user})
	pr.pauseUser = user
	c.scriptLocked("afterPrintCancelled", c.o.Scripts().AfterPrintCancelled, pr.pos, nil)
	c.settleLocked()
}

// Restart starts the paused print again from the beginning.
func (c *Controller) Restart(ctx context.Context, user string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pr == nil || c.state != StatePaused {
		return fmt.Errorf("job: restart: %w", ErrNotPaused)
	}
	pr := c.pr
	pr.cancel()
	pr.release()
	c.pr = nil
	if pr.sd {
		c.queueLocked(task{lines: []string{"M26 S0"}})
		return c.startSDLocked(user)
	}
	return c.startLocked(ctx, user)
}

// endLocked ends the running print: success, or failure with reason
// ("cancelled", "error"). History is written and events published in the
// background, so the link's goroutine is not held up by disk writes.
func (c *Controller) endLocked(success bool, reason string) {
	pr := c.pr
	pr.cancel()
	pr.release()
	now := c.o.Now()
	if !pr.pausedAt.IsZero() {
		pr.paused += now.Sub(pr.pausedAt)
		pr.pausedAt = time.Time{}
	}
	pr.ended = now
	if success {
		pr.ackedPos = pr.size
	}
	elapsed := now.Sub(pr.started) - pr.paused
	c.pr, c.last = nil, pr
	c.gate = 0
	c.setStateLocked(StateIdle)
	link := c.link
	if !pr.sd {
		c.queueLocked(task{then: func() {
			if link != nil {
				link.StopStream()
			}
		}})
	}
	if success {
		c.scriptLocked("afterPrintDone", c.o.Scripts().AfterPrintDone, pr.pos, nil)
	}
	secs := elapsed.Seconds()
	profile := c.o.Profile()
	user, pos := pr.pauseUser, pr.pos
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx := context.WithoutCancel(c.base)
		owner := ""
		if e, err := c.o.Files.Get(ctx, pr.path); err == nil {
			owner = e.User
		}
		pf := c.printFile(pr.path, pr.size, owner)
		if pr.sd {
			pf.Origin = originSD
		} else if err := c.o.Files.RecordPrint(ctx, pr.path, files.PrintRecord{Success: success, PrintTime: secs,
			Profile: profile, End: float64(now.UnixMilli()) / 1000}); err != nil {
			c.o.Log.Warn("job: record print history", "path", pr.path, "err", err)
		}
		switch {
		case success:
			c.publish(events.PrintDone{PrintFile: pf, Time: secs})
		case reason == "cancelled":
			c.publish(events.PrintFailed{PrintFile: pf, Time: secs, Reason: reason})
			c.publish(events.PrintCancelled{PrintFile: pf, Time: secs, User: user, Position: eventPos(pos),
				Fileposition: pr.ackedPos, Progress: progressOf(pr) * 100})
		default:
			c.publish(events.PrintFailed{PrintFile: pf, Time: secs, Reason: reason})
		}
	}()
}

func progressOf(pr *run) float64 {
	if pr.size <= 0 {
		return 0
	}
	p := float64(pr.ackedPos) / float64(pr.size)
	if p > 1 {
		p = 1
	}
	return p
}

// analysisInfo is the part of a gcodeAnalysis the job reads.
type analysisInfo struct {
	EstimatedPrintTime *float64                   `json:"estimatedPrintTime"`
	Filament           map[string]json.RawMessage `json:"filament"`
}
