package events_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/events"
)

func names(evs []events.Event) []string {
	var out []string
	for _, e := range evs {
		switch v := e.(type) {
		case events.Lost:
			out = append(out, fmt.Sprintf("Lost(%d)", v.Count))
		case events.ZChange:
			out = append(out, fmt.Sprintf("ZChange(%g)", v.New))
		case events.StateChanged:
			out = append(out, "StateChanged("+v.Source+")")
		default:
			out = append(out, e.Name())
		}
	}
	return out
}

func equal(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// Ensure that events reach every subscriber in publish order.
func TestBus_Order(t *testing.T) {
	b := events.NewBus()
	s1 := b.Subscribe(events.Options{})
	s2 := b.Subscribe(events.Options{})
	defer s1.Close()
	defer s2.Close()
	b.Publish(events.PrintStarted{User: "u"})
	b.Publish(events.ZChange{New: 0.2})
	b.Publish(events.PrintDone{})
	want := []string{"PrintStarted", "ZChange(0.2)", "PrintDone"}
	for i, s := range []*events.Subscription{s1, s2} {
		select {
		case <-s.Ready():
		default:
			t.Fatalf("subscriber %d: Ready has no token after Publish", i)
		}
		if got := names(s.Take(nil)); !equal(got, want) {
			t.Errorf("subscriber %d: Take = %v; want %v", i, got, want)
		}
		if got := s.Take(nil); len(got) != 0 {
			t.Errorf("subscriber %d: second Take = %v; want nothing", i, names(got))
		}
	}
}

// Ensure that coalescing values keep only the newest per key, outside the limit.
func TestBus_Coalesce(t *testing.T) {
	b := events.NewBus()
	s := b.Subscribe(events.Options{Limit: 1})
	defer s.Close()
	b.Publish(events.StateChanged{Source: "printer"})
	b.Publish(events.Home{})
	b.Publish(events.StateChanged{Source: "power"})
	b.Publish(events.StateChanged{Source: "printer"})
	got := names(s.Take(nil))
	want := []string{"Home", "StateChanged(printer)", "StateChanged(power)"}
	if !equal(got, want) {
		t.Errorf("Take = %v; want %v", got, want)
	}
}

// Ensure that a ReportLoss subscriber keeps its limit and is told how many it lost.
func TestBus_ReportLoss(t *testing.T) {
	b := events.NewBus()
	s := b.Subscribe(events.Options{Limit: 3})
	defer s.Close()
	for i := 1; i <= 5; i++ {
		b.Publish(events.ZChange{New: float64(i)})
	}
	if got, want := names(s.Take(nil)), []string{"ZChange(1)", "ZChange(2)", "ZChange(3)", "Lost(2)"}; !equal(got, want) {
		t.Errorf("Take = %v; want %v", got, want)
	}
	b.Publish(events.ZChange{New: 6})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	e, err := s.Next(ctx)
	if err != nil || names([]events.Event{e})[0] != "ZChange(6)" {
		t.Errorf("Next = %v, %v; want ZChange(6), nil", e, err)
	}
	if s.Err() != nil {
		t.Errorf("Err = %v; want nil for a ReportLoss subscriber", s.Err())
	}
}

// Ensure that a Drop subscriber is ended with ErrOverflow, keeps what it had, and leaves the bus on Close.
func TestBus_Drop(t *testing.T) {
	b := events.NewBus()
	s := b.Subscribe(events.Options{Limit: 2, Overflow: events.Drop})
	other := b.Subscribe(events.Options{})
	defer other.Close()
	for i := 1; i <= 3; i++ {
		b.Publish(events.ZChange{New: float64(i)})
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed after overflow")
	}
	if !errors.Is(s.Err(), events.ErrOverflow) {
		t.Errorf("Err = %v; want ErrOverflow", s.Err())
	}
	ctx := context.Background()
	for i := 1; i <= 2; i++ {
		if e, err := s.Next(ctx); err != nil || e.(events.ZChange).New != float64(i) {
			t.Errorf("Next #%d = %v, %v; want ZChange(%d)", i, e, err, i)
		}
	}
	if _, err := s.Next(ctx); !errors.Is(err, events.ErrOverflow) {
		t.Errorf("Next after drain: err = %v; want ErrOverflow", err)
	}
	s.Close()
	s.Close()
	if b.Len() != 1 {
		t.Errorf("Len after Close = %d; want 1", b.Len())
	}
	if got := len(other.Take(nil)); got != 3 {
		t.Errorf("other subscriber got %d events; want 3", got)
	}
}

// Ensure that Match filters in the publisher and filtered events never count as lost.
func TestBus_Match(t *testing.T) {
	b := events.NewBus()
	s := b.Subscribe(events.Options{Limit: 1, Match: func(e events.Event) bool {
		_, ok := e.(events.PrintDone)
		return ok
	}})
	defer s.Close()
	for i := 0; i < 10; i++ {
		b.Publish(events.ZChange{New: 1})
	}
	b.Publish(events.PrintDone{})
	if got, want := names(s.Take(nil)), []string{"PrintDone"}; !equal(got, want) {
		t.Errorf("Take = %v; want %v", got, want)
	}
}

// Ensure that Next honours its context and Bus.Close ends subscriptions.
func TestBus_NextAndClose(t *testing.T) {
	b := events.NewBus()
	s := b.Subscribe(events.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next(cancelled ctx) err = %v; want context.Canceled", err)
	}
	b.Publish(events.Startup{})
	b.Close()
	if e, err := s.Next(context.Background()); err != nil || e.Name() != "Startup" {
		t.Errorf("Next after Close = %v, %v; want the queued Startup", e, err)
	}
	if _, err := s.Next(context.Background()); !errors.Is(err, events.ErrClosed) {
		t.Errorf("Next on closed bus err = %v; want ErrClosed", err)
	}
	b.Publish(events.Shutdown{}) // no-op, must not panic
	late := b.Subscribe(events.Options{})
	if !errors.Is(late.Err(), events.ErrClosed) {
		t.Errorf("Subscribe on closed bus: Err = %v; want ErrClosed", late.Err())
	}
	b.Publish(nil)
}

// Ensure that a subscriber that never reads neither blocks publishers nor grows without bound.
func TestBus_SlowSubscriberBounded(t *testing.T) {
	b := events.NewBus()
	stuck := b.Subscribe(events.Options{Limit: 8})
	defer stuck.Close()
	live := b.Subscribe(events.Options{Limit: 1 << 20})
	defer live.Close()
	const n = 100000
	for i := 0; i < n; i++ {
		b.Publish(events.ZChange{New: float64(i)})
		b.Publish(events.StateChanged{Source: "printer"})
	}
	got := stuck.Take(nil)
	if len(got) != 10 { // 8 events, one Lost, one coalesced state
		t.Fatalf("stuck subscriber holds %d values; want 10: %v", len(got), names(got)[:10])
	}
	if l, ok := got[8].(events.Lost); !ok || l.Count != n-8 {
		t.Errorf("stuck subscriber's loss report = %#v; want Lost{%d}", got[8], n-8)
	}
	if got := len(live.Take(nil)); got != n+1 {
		t.Errorf("live subscriber got %d values; want %d", got, n+1)
	}
}

// Ensure concurrent publishers and subscribers are race-free and lose nothing within limits.
func TestBus_Concurrent(t *testing.T) {
	b := events.NewBus()
	const pubs, per = 4, 500
	var subs []*events.Subscription
	for i := 0; i < 4; i++ {
		subs = append(subs, b.Subscribe(events.Options{Limit: pubs * per}))
	}
	var wg sync.WaitGroup
	counts := make([]int, len(subs))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, s := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for counts[i] < pubs*per {
				if _, err := s.Next(ctx); err != nil {
					t.Errorf("subscriber %d: %v after %d events", i, err, counts[i])
					return
				}
				counts[i]++
			}
		}()
	}
	var pw sync.WaitGroup
	for p := 0; p < pubs; p++ {
		pw.Add(1)
		go func() {
			defer pw.Done()
			for j := 0; j < per; j++ {
				b.Publish(events.ToolChange{Old: p, New: j})
			}
		}()
	}
	pw.Wait()
	wg.Wait()
	for _, s := range subs {
		s.Close()
	}
	if b.Len() != 0 {
		t.Errorf("Len = %d after closing all; want 0", b.Len())
	}
}

// BenchmarkPublish measures one Publish fanned out to 200 subscribers that drain in batches.
func BenchmarkPublish200(b *testing.B) {
	bus := events.NewBus()
	var subs []*events.Subscription
	for i := 0; i < 200; i++ {
		subs = append(subs, bus.Subscribe(events.Options{Limit: 1 << 16}))
	}
	buf := make([]events.Event, 0, 1<<16)
	e := events.ZChange{New: 1}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bus.Publish(e)
		if i%1024 == 1023 {
			for _, s := range subs {
				buf = s.Take(buf[:0])
			}
		}
	}
}

// Ensure that IgnoreCoalescing subscribers get events but no state news.
func TestBus_IgnoreCoalescing(t *testing.T) {
	b := events.NewBus()
	s := b.Subscribe(events.Options{IgnoreCoalescing: true})
	all := b.Subscribe(events.Options{})
	b.Publish(events.StateChanged{Source: "printer"})
	b.Publish(events.Home{})
	if got, want := names(s.Take(nil)), []string{"Home"}; !equal(got, want) {
		t.Errorf("IgnoreCoalescing subscriber got %v; want %v", got, want)
	}
	if got, want := names(all.Take(nil)), []string{"Home", "StateChanged(printer)"}; !equal(got, want) {
		t.Errorf("plain subscriber got %v; want %v", got, want)
	}
	s.Close()
	all.Close()
	b.Publish(events.StateChanged{Source: "printer"})
	if b.Len() != 0 {
		t.Errorf("Len = %d after closing both; want 0", b.Len())
	}
}

// BenchmarkPublishState200 measures state news with 200 subscribers that ignore it
// and one that takes it: the cost a printer pays per line with 200 push clients.
func BenchmarkPublishState200(b *testing.B) {
	bus := events.NewBus()
	for i := 0; i < 200; i++ {
		defer bus.Subscribe(events.Options{IgnoreCoalescing: true}).Close()
	}
	hub := bus.Subscribe(events.Options{})
	defer hub.Close()
	e := events.StateChanged{Source: "printer"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bus.Publish(e)
		if i%1024 == 1023 {
			hub.Take(nil)
		}
	}
}
