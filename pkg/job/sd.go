package job

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/protocol"
)

// SDFile is a file on the printer's SD card as the firmware lists it.
type SDFile struct {
	// Name is the firmware's (8.3) name, used in M23/M30.
	Name string
	// LongName is the long name when the firmware reports one (M20 L).
	LongName string
	// Size is the size in bytes (-1 when unknown).
	Size int64
}

// Display is the long name, or the short one.
func (f SDFile) Display() string {
	if f.LongName != "" {
		return f.LongName
	}
	return f.Name
}

// sdCard is what the controller knows of the SD card. Guarded by
// Controller.mu.
type sdCard struct {
	files   []SDFile
	pending []SDFile
	listing bool
	waiters []chan struct{} // closed when a listing ends
}

// Message takes every firmware message (printer.Machine.OnMessage): SD
// listings, SD print progress and the end of an SD print.
func (c *Controller) Message(m protocol.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch v := m.(type) {
	case protocol.SDListBegin:
		c.sd.listing, c.sd.pending = true, nil
	case protocol.SDFile:
		if c.sd.listing {
			c.sd.pending = append(c.sd.pending, SDFile{Name: v.Name, LongName: v.LongName, Size: v.Size})
		}
	case protocol.SDListEnd:
		c.sd.files, c.sd.pending, c.sd.listing = c.sd.pending, nil, false
		for _, w := range c.sd.waiters {
			close(w)
		}
		c.sd.waiters = nil
		c.publish(events.UpdatedFiles{Type: "printables"})
	case protocol.SDProgress:
		if pr := c.pr; pr != nil && pr.sd && !v.NotPrinting && v.Size > 0 {
			first := !pr.begun
			pr.begun = true
			pr.ackedPos, pr.size = v.Pos, v.Size
			pr.reported = c.o.Now()
			if first && c.state == StatePrinting && c.link != nil {
				c.link.SetJobState(c.state, c.jobTextLocked()) // started: "Printing from SD"
			}
		}
	case protocol.SDDone:
		if pr := c.pr; pr != nil && pr.sd {
			pr.ackedPos = pr.size
			c.endLocked(true, "")
		}
	}
}

// SDFiles returns the files of the last SD listing.
func (c *Controller) SDFiles() []SDFile {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]SDFile(nil), c.sd.files...)
}

// SDCommand runs "init" (M21), "refresh" (M20) or "release" (M22). Init and
// refresh wait (up to 5 s) for the new listing. It fails with ErrBusy while
// a print runs and ErrNotOperational when offline.
func (c *Controller) SDCommand(ctx context.Context, cmd string) error {
	if !c.operational() {
		return fmt.Errorf("job: sd %s: %w", cmd, ErrNotOperational)
	}
	c.mu.Lock()
	if c.pr != nil {
		c.mu.Unlock()
		return fmt.Errorf("job: sd %s: %w", cmd, ErrBusy)
	}
	var lines []string
	var done chan struct{}
	switch cmd {
	case "init":
		lines = []string{"M21", "M20 L"}
	case "refresh":
		lines = []string{"M20 L"}
	case "release":
		lines = []string{"M22"}
		c.sd.files = nil
		if c.sel != nil && c.sel.origin == originSD {
			c.sel = nil
			c.publish(events.FileDeselected{})
		}
	default:
		c.mu.Unlock()
		return fmt.Errorf("job: sd command %q: %w", cmd, ErrUnknownCommand)
	}
	if cmd != "release" {
		done = make(chan struct{})
		c.sd.waiters = append(c.sd.waiters, done)
	}
	c.queueLocked(task{lines: lines})
	c.mu.Unlock()
	if done == nil {
		return nil
	}
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// sdFile finds name (short or long) in the last listing.
func (c *Controller) sdFileLocked(name string) (SDFile, bool) {
	for _, f := range c.sd.files {
		if strings.EqualFold(f.Name, name) || (f.LongName != "" && f.LongName == name) {
			return f, true
		}
	}
	return SDFile{}, false
}

// SelectSD selects a file on the SD card for printing.
func (c *Controller) SelectSD(ctx context.Context, name, user string) error {
	if !c.operational() {
		return fmt.Errorf("job: select sd %q: %w", name, ErrNotOperational)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.sdFileLocked(name)
	if !ok {
		return fmt.Errorf("job: select sd %q: %w", name, ErrNoFile)
	}
	if c.pr != nil {
		return fmt.Errorf("job: select sd %q: %w", name, ErrBusy)
	}
	c.sel = &selection{path: f.Name, size: f.Size, origin: originSD, display: f.Display()}
	c.last = nil
	c.publish(events.FileSelected{FileName: f.Display(), Path: f.Name, Origin: originSD, Size: f.Size})
	return nil
}

// DeleteSD removes a file from the SD card (M30); ErrBusy when it is being
// printed.
func (c *Controller) DeleteSD(ctx context.Context, name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.sdFileLocked(name)
	if !ok {
		return fmt.Errorf("job: delete sd %q: %w", name, ErrNoFile)
	}
	if c.sel != nil && c.sel.origin == originSD && c.sel.path == f.Name {
		if c.pr != nil {
			return fmt.Errorf("job: delete sd %q: %w", name, ErrBusy)
		}
		c.sel = nil
		c.publish(events.FileDeselected{})
	}
	kept := c.sd.files[:0]
	for _, x := range c.sd.files {
		if x.Name != f.Name {
			kept = append(kept, x)
		}
	}
	c.sd.files = kept
	c.queueLocked(task{lines: []string{"M30 " + f.Name}})
	return nil
}

// startSDLocked starts printing the selected SD file: M23 selects it, M24
// starts it, M27 S2 asks for progress reports every 2 s.
func (c *Controller) startSDLocked(user string) error {
	c.gen++
	pr := &run{gen: c.gen, path: c.sel.path, size: c.sel.size, user: user, sd: true,
		cancel: func() {}, release: func() {}, started: c.o.Now()}
	c.pr, c.last = pr, nil
	c.err = ""
	c.setStateLocked(StatePrinting)
	c.scriptLocked("beforePrintStarted", c.o.Scripts().BeforePrintStarted, position{}, nil)
	c.queueLocked(task{lines: []string{"M23 " + pr.path, "M24", "M27 S2"}})
	c.publish(events.PrintStarted{PrintFile: events.PrintFile{FileName: c.sel.display, Path: pr.path, Origin: originSD, Size: pr.size}, User: user})
	return nil
}

// originSD is the sdcard origin.
const originSD = "sdcard"

// pollSD asks for SD progress when the firmware has not reported lately.
func (c *Controller) pollSD() {
	c.mu.Lock()
	defer c.mu.Unlock()
	pr := c.pr
	if pr == nil || !pr.sd || c.state != StatePrinting {
		return
	}
	last := pr.reported
	if last.IsZero() {
		last = pr.started
	}
	if c.o.Now().Sub(last) >= 2*c.o.SDPoll { // no AUTOREPORT_SD_STATUS: ask
		c.queueLocked(task{lines: []string{"M27"}})
	}
}
