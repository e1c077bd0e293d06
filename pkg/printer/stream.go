package printer

import (
	"context"
	"fmt"
	"sync"

	"github.com/cuttleprint/cuttle/pkg/protocol"
)

// StreamFilter is a Filter that also sees the lines a job streams (a PSU
// relay handling M80/M81 in a print file). Match reports, without blocking,
// whether Intercept must see line, and whether the firmware must first
// finish the moves queued before it: then M400 is sent in its place and
// Intercept runs once M400 is acknowledged. Intercept runs off the protocol's
// goroutine while the stream holds back the lines after it; a line it
// swallows is acknowledged to the job as if the firmware had.
// *power.Policy is one.
type StreamFilter interface {
	Filter
	Match(line string) (intercept, drain bool)
}

// barrier tags the M400 sent ahead of a held line.
type barrier struct{ h *heldLine }

// heldLine is a job line waiting for its filters.
type heldLine struct {
	cmd     Command
	filters []StreamFilter
	done    bool // the filters ran; send says whether the line goes out
	send    bool
}

// filteredSource passes a job's lines through the stream filters. It owns
// the goroutines running Intercept; stop ends and waits for them.
type filteredSource struct {
	m       *Machine
	src     Source
	filters []StreamFilter
	onAck   func(Command) // the job's
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu   sync.Mutex // guards held
	held *heldLine
}

func newFilteredSource(m *Machine, src Source, filters []StreamFilter, onAck func(Command)) *filteredSource {
	ctx, cancel := context.WithCancel(context.Background())
	return &filteredSource{m: m, src: src, filters: filters, onAck: onAck, ctx: ctx, cancel: cancel}
}

// Next implements Source: a held line blocks the stream until its filters
// ran. It never blocks.
func (f *filteredSource) Next() (Command, bool) {
	f.mu.Lock()
	if h := f.held; h != nil {
		if !h.done {
			f.mu.Unlock()
			return Command{}, false
		}
		f.held = nil
		if h.send {
			f.mu.Unlock()
			return h.cmd, true
		}
	}
	f.mu.Unlock()
	c, ok := f.src.Next()
	if !ok {
		return c, false
	}
	var match []StreamFilter
	drain := false
	for _, fl := range f.filters {
		if in, d := fl.Match(c.Text); in {
			match = append(match, fl)
			drain = drain || d
		}
	}
	if len(match) == 0 {
		return c, true
	}
	h := &heldLine{cmd: c, filters: match}
	f.mu.Lock()
	f.held = h
	f.mu.Unlock()
	if drain {
		return Command{Text: "M400", Tag: barrier{h}}, true
	}
	f.run(h)
	return Command{}, false
}

// ack is the connection's acknowledgement callback: an acknowledged barrier
// lets its line's filters run; the job hears of everything else.
func (f *filteredSource) ack(c Command) {
	if b, ok := c.Tag.(barrier); ok {
		f.run(b.h)
		return
	}
	if f.onAck != nil {
		f.onAck(c)
	}
}

// run runs h's filters in a goroutine, then releases the stream.
func (f *filteredSource) run(h *heldLine) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		send := true
		for _, fl := range h.filters {
			ok, err := fl.Intercept(f.ctx, h.cmd.Text)
			if err != nil {
				f.m.cfg.Log.Warn("printer: job line filter", "line", h.cmd.Text, "err", err)
			}
			send = send && ok
		}
		f.mu.Lock()
		h.done, h.send = true, send
		f.mu.Unlock()
		if !send && h.cmd.Tag != nil && f.onAck != nil && f.ctx.Err() == nil {
			f.onAck(h.cmd) // swallowed: the job counts it as done
		}
		f.m.Wake()
	}()
}

// stop cancels running filters and waits for them.
func (f *filteredSource) stop() {
	f.cancel()
	f.wg.Wait()
}

// streamFiltersLocked returns the registered filters that see job lines.
// m.hookMu must be held.
func (m *Machine) streamFiltersLocked() []StreamFilter {
	var out []StreamFilter
	for _, f := range m.filters {
		if sf, ok := f.(StreamFilter); ok {
			out = append(out, sf)
		}
	}
	return out
}

// sendBarrier tags an M400 that Send waits for; acked is closed when the
// firmware acknowledged it.
type sendBarrier struct {
	once  *sync.Once
	acked chan struct{}
}

func (b sendBarrier) release() { b.once.Do(func() { close(b.acked) }) }

// drainFor waits, when a stream filter wants the moves before line finished,
// until an M400 sent ahead of it is acknowledged.
func (m *Machine) drainFor(ctx context.Context, conn *protocol.Conn, filters []Filter, line string) error {
	drain := false
	for _, f := range filters {
		if sf, ok := f.(StreamFilter); ok {
			if in, d := sf.Match(line); in && d {
				drain = true
			}
		}
	}
	if !drain {
		return nil
	}
	b := sendBarrier{once: new(sync.Once), acked: make(chan struct{})}
	if err := conn.SendCommand(Command{Text: "M400", Tag: b}); err != nil {
		return fmt.Errorf("printer: wait for the moves before %q: %w", line, err)
	}
	select {
	case <-b.acked:
		return nil
	case <-conn.Done():
		return fmt.Errorf("printer: wait for the moves before %q: %w", line, ErrNotOperational)
	case <-ctx.Done():
		return fmt.Errorf("printer: wait for the moves before %q: %w", line, ctx.Err())
	}
}
