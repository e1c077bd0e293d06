package powertest_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/power"
	"github.com/cuttleprint/cuttle/pkg/power/powertest"
)

// Ensure that Advance runs due timers in time order, each seeing its own due
// time, including timers added by a running timer, and skips stopped ones.
func TestClock(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := powertest.NewClock(t0)
	var got []string
	c.AfterFunc(2*time.Second, func() {
		got = append(got, "b@"+c.Now().Sub(t0).String())
		c.AfterFunc(time.Second, func() { got = append(got, "c@"+c.Now().Sub(t0).String()) })
	})
	c.AfterFunc(time.Second, func() { got = append(got, "a@"+c.Now().Sub(t0).String()) })
	stopped := c.AfterFunc(1500*time.Millisecond, func() { got = append(got, "stopped") })
	if !stopped.Stop() || stopped.Stop() {
		t.Error("Stop() = false on a pending timer, or true twice")
	}
	c.Advance(2500 * time.Millisecond)
	if want := []string{"a@1s", "b@2s"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after 2.5 s ran %q; want %q", got, want)
	}
	if c.Pending() != 1 || !c.Now().Equal(t0.Add(2500*time.Millisecond)) {
		t.Errorf("Pending() = %d, Now() = %v; want 1, t0+2.5s", c.Pending(), c.Now())
	}
	c.Advance(time.Second)
	if want := []string{"a@1s", "b@2s", "c@3s"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after 3.5 s ran %q; want %q", got, want)
	}
}

func TestRelay(t *testing.T) {
	ctx := context.Background()
	r := powertest.New(power.Off)
	if s, err := r.Toggle(ctx); s != power.On || err != nil {
		t.Errorf("Toggle() = %s, %v; want on", s, err)
	}
	boom := errors.New("boom")
	r.Lock()
	r.Err = boom
	r.Unlock()
	if err := r.Off(ctx); !errors.Is(err, boom) || r.Get() != power.On {
		t.Errorf("Off() with Err set = %v, state %s; want boom, still on", err, r.Get())
	}
	if got := r.Switches(); !reflect.DeepEqual(got, []string{"toggle", "off"}) {
		t.Errorf("Switches() = %q", got)
	}
}
