package power

import (
	"context"

	"github.com/cuttleprint/cuttle/pkg/events"
)

// FeedMatch selects the events Feed needs; pass it as the subscription's
// Match: the printer's state changes and the events that count as activity.
func FeedMatch(e events.Event) bool {
	if s, ok := e.(events.StateChanged); ok {
		return s.Source == "printer"
	}
	return e.Name() == events.PrinterStateChanged{}.Name() || isActivity(e)
}

// isActivity reports whether e shows someone using the printer: such events
// restart the idle countdown.
func isActivity(e events.Event) bool {
	switch e.(type) {
	case events.Connected, events.FileSelected, events.Upload, events.Home, events.ToolChange,
		events.FilamentChange, events.PrintStarted, events.PrintDone, events.PrintFailed,
		events.PrintCancelled, events.PrintPaused, events.PrintResumed:
		return true
	}
	return false
}

// Feed keeps p informed until ctx ends or sub ends: after every batch of
// events it calls p.Activity if any of them shows activity, then p.Observe
// with snapshot(). Subscribe with FeedMatch; the caller closes sub after
// Feed returns.
func Feed(ctx context.Context, p *Policy, sub *events.Subscription, snapshot func() Snapshot) {
	var buf []events.Event
	p.Observe(ctx, snapshot())
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.Done():
			return
		case <-sub.Ready():
		}
		buf = sub.Take(buf[:0])
		if len(buf) == 0 {
			continue
		}
		for _, e := range buf {
			if isActivity(e) {
				p.Activity()
				break
			}
		}
		p.Observe(ctx, snapshot())
	}
}
