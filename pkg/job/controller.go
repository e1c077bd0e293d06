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

// State is the job side of the printer state.
type State int

// States. StateOffline covers everything before the link is ready; its text
// comes from SetLinkState.
const (
	StateOffline State = iota
	StateOperational
	StatePrinting
	StatePausing
	StatePaused
	StateCancelling
	StateFinishing
)

// Options configure a Controller.
type Options struct {
	// Files is the storage jobs print from. Required.
	Files *files.Storage
	// Bus receives Print*, FileSelected, ZChange and ToolChange events; nil
	// publishes nothing.
	Bus *events.Bus
	// Scripts are the G-code scripts (see DefaultScripts).
	Scripts Scripts
	// Profile returns the current printer profile id (default "_default").
	Profile func() string
	// BeforePrint runs before a print starts (power switches the PSU on).
	// An error refuses the start.
	BeforePrint func(ctx context.Context) error
	// Buffer is how many lines the reader queues ahead (default 256).
	Buffer int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives errors of background work (default slog.Default()).
	Log *slog.Logger
}

// Controller runs print jobs. Create it with New; attach a Link when the
// printer is ready.
type Controller struct {
	o Options

	// mu guards every field below.
	mu        sync.Mutex
	link      Link
	linkState string // state text while no link is attached
	state     State
	err       string // last error, for GET /api/job
	sel       *selection
	pr        *run // the running print, nil when idle
	last      *run // the last print, for progress after it ended
	gen       uint64
	base      context.Context
	stop      context.CancelFunc
	wg        sync.WaitGroup // reader goroutines and history writers
}

// selection is the selected file.
type selection struct {
	path string
	size int64
}

// run is one print.
type run struct {
	gen         uint64
	path        string
	size        int64
	user        string
	rd          *reader
	cancel      context.CancelFunc
	release     func()
	started     time.Time
	pausedAt    time.Time
	paused      time.Duration
	ended       time.Time
	sent, acked int
	ackedPos    int64
	eof         bool
	pos         position
	pauseUser   string
}

// New returns a Controller with no link attached.
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
	if o.Buffer <= 0 {
		o.Buffer = 256
	}
	base, stop := context.WithCancel(context.Background())
	return &Controller{o: o, linkState: "Offline", base: base, stop: stop}
}

// Close stops a running print's reader and waits for background work.
func (c *Controller) Close() error {
	c.mu.Lock()
	if c.pr != nil {
		c.pr.cancel()
	}
	c.stop()
	c.mu.Unlock()
	c.wg.Wait()
	return nil
}

func (c *Controller) publish(e events.Event) {
	if c.o.Bus != nil {
		c.o.Bus.Publish(e)
	}
}

// Attach makes l the printer link: the printer is operational. It sends
// the afterPrinterConnected script and registers c as l's source.
func (c *Controller) Attach(l Link) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.link = l
	c.state = StateOperational
	c.err = ""
	l.SetSource(c)
	c.scriptLocked("afterPrinterConnected", c.o.Scripts.AfterPrinterConnected, position{})
}

// Detach says the link is gone (err non-nil: lost by an error). A running
// print fails.
func (c *Controller) Detach(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.link = nil
	c.state = StateOffline
	c.linkState = "Offline"
	if err != nil {
		c.err = err.Error()
		c.linkState = "Offline after error"
	}
	if c.pr != nil {
		c.endLocked(false, "error")
	}
}

// SetLinkState sets the state text shown while no link is attached
// ("Connecting", "Error: …", "Offline").
func (c *Controller) SetLinkState(text string) {
	c.mu.Lock()
	c.linkState = text
	c.mu.Unlock()
}

// Operational reports whether a link is attached.
func (c *Controller) Operational() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.link != nil
}

// Ready reports whether the printer is operational and idle (not printing
// or paused).
func (c *Controller) Ready() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.link != nil && c.pr == nil
}

// Selected returns the path of the selected file.
func (c *Controller) Selected() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sel == nil {
		return "", false
	}
	return c.sel.path, true
}

// Select selects the file at path for printing. It fails with
// ErrNotOperational or ErrBusy when the printer is not ready, or with the
// files error for a missing or non-G-code file.
func (c *Controller) Select(ctx context.Context, path, user string) error {
	e, err := c.o.Files.Get(ctx, path)
	if err != nil {
		return err
	}
	if e.Folder || !files.IsMachineCode(e.Name()) {
		return fmt.Errorf("job: select %q: %w", path, files.ErrUnsupportedType)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pr != nil {
		return fmt.Errorf("job: select %q: %w", path, ErrBusy)
	}
	if c.link == nil {
		return fmt.Errorf("job: select %q: %w", path, ErrNotOperational)
	}
	c.sel = &selection{path: e.Path, size: e.Size}
	c.last = nil
	c.publish(events.FileSelected{FileName: e.Name(), Path: e.Path, Origin: files.Location, Size: e.Size, Owner: e.User})
	return nil
}

// Unselect clears the selection; ErrBusy while printing.
func (c *Controller) Unselect() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pr != nil {
		return fmt.Errorf("job: unselect: %w", ErrBusy)
	}
	if c.sel != nil {
		c.sel, c.last = nil, nil
		c.publish(events.FileDeselected{})
	}
	return nil
}

// Release is called before path (a file or folder) is deleted or moved: it
// deselects the file when it is selected and idle, and fails with ErrBusy
// when it is being printed.
func (c *Controller) Release(path string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sel == nil || (c.sel.path != path && !isBelow(c.sel.path, path)) {
		return nil
	}
	if c.pr != nil {
		return fmt.Errorf("job: %q is being printed: %w", path, ErrBusy)
	}
	c.sel, c.last = nil, nil
	c.publish(events.FileDeselected{})
	return nil
}

func isBelow(p, dir string) bool { return len(p) > len(dir) && p[:len(dir)+1] == dir+"/" }

// Start prints the selected file from the beginning. It fails with
// ErrNotOperational, ErrBusy, or ErrNoFile when nothing is selected.
func (c *Controller) Start(ctx context.Context, user string) error {
	c.mu.Lock()
	if err := c.startableLocked(); err != nil {
		c.mu.Unlock()
		return err
	}
	c.mu.Unlock()
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
	return c.startLocked(ctx, user)
}

func (c *Controller) startableLocked() error {
	switch {
	case c.link == nil:
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
	pr.rd = startReader(rctx, f, position{}, c.o.Buffer, func() { link.Wake() })
	go func() { <-pr.rd.done; c.wg.Done() }()
	c.pr, c.last = pr, nil
	c.state = StatePrinting
	c.err = ""
	c.scriptLocked("beforePrintStarted", c.o.Scripts.BeforePrintStarted, position{})
	c.publish(events.PrintStarted{PrintFile: c.printFile(e.Path, e.Size, e.User), User: user})
	c.link.Wake()
	return nil
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

// scriptLocked renders and sends a script. Errors are logged: a broken
// script must not wedge the job.
func (c *Controller) scriptLocked(name, src string, p position) {
	if c.link == nil {
		return
	}
	lines, err := Render(name, src, ScriptContext{X: Coord(p.X), Y: Coord(p.Y), Z: Coord(p.Z), E: Coord(p.E), F: Coord(p.F),
		Tool: p.Tool, RelXYZ: p.RelXYZ, RelE: p.RelE})
	if err != nil {
		c.o.Log.Error("job: script", "name", name, "err", err)
		return
	}
	for _, l := range lines {
		if err := c.link.Send(l); err != nil {
			c.o.Log.Error("job: send script line", "name", name, "line", l, "err", err)
			return
		}
	}
}

// Next hands the link the next job line; it implements Source. It never
// blocks.
func (c *Controller) Next() (string, any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pr := c.pr
	if pr == nil || c.state != StatePrinting {
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
			c.pauseLocked("")
			return "", nil, false
		case kindEOF:
			pr.eof = true
			c.state = StateFinishing
			c.settleLocked()
			return "", nil, false
		case kindErr:
			c.err = "reading the file: " + it.text
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
	pr.ackedPos = t.end
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
	case StatePausing:
		c.state = StatePaused
		c.publish(events.PrintPaused{PrintFile: c.printFile(pr.path, pr.size, c.owner(pr.path)), User: pr.pauseUser,
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

// owner is the uploader of path, "" when unknown. Reads the index.
func (c *Controller) owner(path string) string {
	e, err := c.o.Files.Get(context.Background(), path)
	if err != nil {
		return ""
	}
	return e.User
}

// Action handles a host action command from the firmware ("pause",
// "resume", "cancel", "paused", "resumed").
func (c *Controller) Action(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch name {
	case "pause":
		if c.state == StatePrinting {
			c.pauseLocked("")
		}
	case "paused":
		if c.state == StatePrinting && c.pr != nil {
			c.pr.pausedAt = c.o.Now()
			c.state = StatePausing
			c.settleLocked()
		}
	case "resume":
		if c.state == StatePaused || c.state == StatePausing {
			c.resumeLocked("", true)
		}
	case "resumed":
		if c.state == StatePaused || c.state == StatePausing {
			c.resumeLocked("", false)
		}
	case "cancel":
		if c.pr != nil && c.state != StateCancelling {
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
	case action == "pause" && !paused, action == "toggle" && !paused:
		if c.state == StatePrinting || c.state == StateFinishing {
			c.pauseLocked(user)
		}
	case action == "resume" && paused, action == "toggle" && paused:
		c.resumeLocked(user, true)
	}
	return nil
}

func (c *Controller) pauseLocked(user string) {
	pr := c.pr
	pr.pausedAt = c.o.Now()
	pr.pauseUser = user
	c.state = StatePausing
	c.scriptLocked("afterPrintPaused", c.o.Scripts.AfterPrintPaused, pr.pos)
	c.settleLocked()
}

func (c *Controller) resumeLocked(user string, script bool) {
	pr := c.pr
	if !pr.pausedAt.IsZero() {
		pr.paused += c.o.Now().Sub(pr.pausedAt)
		pr.pausedAt = time.Time{}
	}
	if script {
		c.scriptLocked("beforePrintResumed", c.o.Scripts.BeforePrintResumed, pr.pos)
		if c.o.Scripts.BeforePrintResumed != "" {
			for _, l := range modeLines(pr.pos) {
				c.link.Send(l)
			}
		}
	}
	c.state = StatePrinting
	if pr.eof {
		c.state = StateFinishing
	}
	c.publish(events.PrintResumed{PrintFile: c.printFile(pr.path, pr.size, c.owner(pr.path)), User: user, Position: eventPos(pr.pos)})
	if c.link != nil {
		c.link.Wake()
	}
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
	pr.cancel()
	c.state = StateCancelling
	c.publish(events.PrintCancelling{PrintFile: c.printFile(pr.path, pr.size, c.owner(pr.path)), User: user})
	pr.pauseUser = user
	c.scriptLocked("afterPrintCancelled", c.o.Scripts.AfterPrintCancelled, pr.pos)
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
	c.state = StateOperational
	return c.startLocked(ctx, user)
}

// endLocked ends the running print: success, or failure with reason
// ("cancelled", "error"). History and events are written in the
// background so the link's goroutine is not held up by disk writes.
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
	if c.link != nil {
		c.state = StateOperational
	} else {
		c.state = StateOffline
	}
	if success {
		c.scriptLocked("afterPrintDone", c.o.Scripts.AfterPrintDone, pr.pos)
	}
	secs := elapsed.Seconds()
	profile := c.o.Profile()
	user := pr.pauseUser
	pos := pr.pos
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx := context.WithoutCancel(c.base)
		pf := c.printFile(pr.path, pr.size, c.owner(pr.path))
		if err := c.o.Files.RecordPrint(ctx, pr.path, files.PrintRecord{Success: success, PrintTime: secs,
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
