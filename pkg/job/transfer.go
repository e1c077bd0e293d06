package job

import (
	"context"
	"fmt"
	"strings"

	"github.com/cuttleprint/cuttle/pkg/events"
)

// SDName returns the 8.3 name a local file gets on the SD card
// ("my_cube.gcode" → "MY_CUBE.GCO"), avoiding the names in taken.
func SDName(local string, taken []SDFile) string {
	_, name := splitName(local)
	base := name
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		base = name[:i]
	}
	clean := func(s string) string {
		var b strings.Builder
		for _, r := range strings.ToUpper(s) {
			if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' || r == '-' {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	base = clean(base)
	if base == "" {
		base = "FILE"
	}
	used := func(n string) bool {
		for _, f := range taken {
			if strings.EqualFold(f.Name, n) {
				return true
			}
		}
		return false
	}
	cand := base
	if len(cand) > 8 {
		cand = base[:6] + "~1"
	}
	for i := 2; used(cand+".GCO") && i < 100; i++ {
		suffix := fmt.Sprintf("~%d", i)
		cand = base[:min(len(base), 8-len(suffix))] + suffix
	}
	return cand + ".GCO"
}

// TransferToSD streams the local file at path to the SD card with M28/M29
// under an 8.3 name, and returns that name. The printer must be
// operational and idle (ErrNotOperational, ErrBusy). Cancel stops a
// transfer and deletes the partial file.
func (c *Controller) TransferToSD(ctx context.Context, path, user string) (string, error) {
	if !c.operational() {
		return "", fmt.Errorf("job: transfer %q: %w", path, ErrNotOperational)
	}
	f, e, err := c.o.Files.Open(ctx, path)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pr != nil {
		f.Close()
		return "", fmt.Errorf("job: transfer %q: %w", path, ErrBusy)
	}
	remote := SDName(e.Path, c.sd.files)
	c.gen++
	rctx, cancel := context.WithCancel(c.base)
	pr := &run{gen: c.gen, path: e.Path, size: e.Size, user: user, cancel: cancel,
		release: c.o.Files.Hold(e.Path), started: c.o.Now(), transfer: remote}
	link := c.link
	c.wg.Add(1)
	pr.rd = startReader(rctx, f, position{}, c.o.Buffer, link.Wake)
	go func() { <-pr.rd.done; c.wg.Done() }()
	c.pr = pr
	c.err = ""
	c.setStateLocked(StateTransferring)
	c.gate++
	src := Source(c)
	c.queueLocked(task{lines: []string{"M28 " + remote}, then: func() {
		if err := link.Stream(src, true); err != nil {
			c.Detach(fmt.Errorf("start streaming: %w", err))
			return
		}
		c.ungate()
	}})
	c.publish(events.TransferStarted{Local: e.Path, Remote: remote})
	return remote, nil
}

// endTransferLocked ends a transfer: M29 closes the file; a failed one is
// deleted; the card is listed again.
func (c *Controller) endTransferLocked(success bool) {
	pr := c.pr
	pr.cancel()
	pr.release()
	c.pr, c.last = nil, nil
	c.gate = 0
	c.setStateLocked(StateIdle)
	link := c.link
	lines := []string{"M29"}
	if !success {
		lines = append(lines, "M30 "+pr.transfer)
	}
	lines = append(lines, "M20 L")
	c.queueLocked(task{lines: lines, then: func() {
		if link != nil {
			link.StopStream()
		}
	}})
	ev := events.Transfer{Local: pr.path, Remote: pr.transfer, Time: c.o.Now().Sub(pr.started).Seconds()}
	if success {
		c.publish(events.TransferDone(ev))
	} else {
		ev.Time = 0
		c.publish(events.TransferFailed(ev))
	}
}
