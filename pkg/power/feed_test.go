package power_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/power"
)

func TestFeedMatch(t *testing.T) {
	for _, tc := range []struct {
		e    events.Event
		want bool
	}{
		{events.StateChanged{Source: "printer"}, true},
		{events.StateChanged{Source: "files"}, false},
		{events.PrinterStateChanged{StateID: "PRINTING"}, true},
		{events.Connected{Port: "VIRTUAL"}, true},
		{events.PrintStarted{}, true},
		{events.Home{}, true},
		{events.RelayChanged{Relay: "psu"}, false},
		{events.ZChange{}, false},
	} {
		if got := power.FeedMatch(tc.e); got != tc.want {
			t.Errorf("FeedMatch(%s) = %t; want %t", tc.e.Name(), got, tc.want)
		}
	}
}

// Ensure that Feed turns bus traffic into observations and activity: the
// countdown starts from the printer's state, and activity restarts it.
func TestFeed(t *testing.T) {
	f := newFixture(t, power.On, nil)
	bus := events.NewBus()
	sub := bus.Subscribe(events.Options{Match: power.FeedMatch})
	defer sub.Close()
	var mu sync.Mutex
	snap := power.Snapshot{Connected: true, Hotends: []float64{200}, TargetSet: true}
	calls := make(chan struct{}, 100)
	snapshot := func() power.Snapshot {
		mu.Lock()
		defer mu.Unlock()
		calls <- struct{}{}
		return snap
	}
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{})
	go func() { defer close(done); power.Feed(ctx, f.pol, sub, snapshot) }()
	<-calls // the first observation, before any event
	// Feed applies an observation just after taking the snapshot, on its own
	// goroutine: wait (boundedly) for it to land.
	if !eventually(func() bool { return f.pol.IdleStatus().Blocked == "heating" }) {
		t.Fatalf("IdleStatus() = %+v; want blocked by heating", f.pol.IdleStatus())
	}
	mu.Lock()
	snap = idleCool
	mu.Unlock()
	bus.Publish(events.StateChanged{Source: "printer"})
	<-calls
	eventually(func() bool { return f.pol.IdleStatus().Pending })
	if st := f.pol.IdleStatus(); !st.Pending || !st.Deadline.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("IdleStatus() after cooling = %+v; want a countdown to %v", st, t0.Add(10*time.Minute))
	}
	f.clock.Advance(5 * time.Minute)
	bus.Publish(events.FileSelected{})
	<-calls
	eventually(func() bool { return f.pol.IdleStatus().Deadline.Equal(t0.Add(15 * time.Minute)) })
	if st := f.pol.IdleStatus(); !st.Deadline.Equal(t0.Add(15 * time.Minute)) {
		t.Errorf("IdleStatus() after activity = %+v; want the countdown restarted to %v", st, t0.Add(15*time.Minute))
	}
	cancel()
	<-done
}

// eventually reports whether cond holds within two seconds of real time; it
// waits for another goroutine's hand-off, not for simulated time.
func eventually(cond func() bool) bool {
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}
