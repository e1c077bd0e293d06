package job

import (
	"context"
	"fmt"

	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/files"
)

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
	if !c.operational() {
		return fmt.Errorf("job: select %q: %w", path, ErrNotOperational)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pr != nil {
		return fmt.Errorf("job: select %q: %w", path, ErrBusy)
	}
	c.sel = &selection{path: e.Path, size: e.Size, origin: files.Location, display: e.Display}
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
	if c.sel == nil || c.sel.origin == originSD || (c.sel.path != path && !isBelow(c.sel.path, path)) {
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
