package power_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/power"
	"github.com/cuttleprint/cuttle/pkg/power/powertest"
)

type recorder struct {
	mu      sync.Mutex
	changes []power.Change
}

func (r *recorder) notify(c power.Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, c)
}

func (r *recorder) take() []power.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.changes
	r.changes = nil
	return c
}

func newBank(t *testing.T) (*power.Bank, *powertest.Relay, *powertest.Relay, *recorder) {
	t.Helper()
	rec := &recorder{}
	b := power.NewBank(rec.notify)
	psu, led := powertest.New(power.Off), powertest.New(power.Unknown)
	for name, r := range map[string]power.Relay{"psu": psu, "led": led} {
		if err := b.Add(context.Background(), name, r); err != nil {
			t.Fatal(err)
		}
	}
	return b, psu, led, rec
}

func TestBank_SwitchNotifiesChanges(t *testing.T) {
	ctx := context.Background()
	b, psu, _, rec := newBank(t)
	steps := []struct {
		action power.Action
		want   power.State
		change []power.Change
	}{
		{power.ActionOn, power.On, []power.Change{{"psu", power.Off, power.On}}},
		{power.ActionOn, power.On, nil},
		{power.ActionToggle, power.Off, []power.Change{{"psu", power.On, power.Off}}},
		{power.ActionOff, power.Off, nil},
		{power.ActionToggle, power.On, []power.Change{{"psu", power.Off, power.On}}},
	}
	for i, s := range steps {
		got, err := b.Switch(ctx, "psu", s.action)
		if err != nil || got != s.want {
			t.Fatalf("step %d: Switch(psu, %s) = %s, %v; want %s", i, s.action, got, err, s.want)
		}
		if c := rec.take(); !reflect.DeepEqual(c, s.change) {
			t.Errorf("step %d: changes = %v; want %v", i, c, s.change)
		}
	}
	if got, want := psu.Switches(), []string{"on", "on", "toggle", "off", "toggle"}; !reflect.DeepEqual(got, want) {
		t.Errorf("psu switches = %v; want %v", got, want)
	}
}

func TestBank_Errors(t *testing.T) {
	ctx := context.Background()
	b, psu, _, rec := newBank(t)
	if _, err := b.Switch(ctx, "fan", power.ActionOn); !errors.Is(err, power.ErrUnknownRelay) {
		t.Errorf("Switch(fan) = %v; want ErrUnknownRelay", err)
	}
	if _, err := b.Switch(ctx, "psu", "explode"); !errors.Is(err, power.ErrUnknownAction) {
		t.Errorf("Switch(psu, explode) = %v; want ErrUnknownAction", err)
	}
	if err := b.Add(ctx, "psu", powertest.New(power.Off)); !errors.Is(err, power.ErrDuplicateRelay) {
		t.Errorf("Add(psu) twice = %v; want ErrDuplicateRelay", err)
	}
	psu.Lock()
	psu.Err = power.NewUnavailable("psu", "GPIO17", "no GPIO here", nil).Err()
	psu.Unlock()
	if _, err := b.Switch(ctx, "psu", power.ActionOn); !errors.Is(err, power.ErrUnavailable) {
		t.Errorf("Switch on failing relay = %v; want ErrUnavailable", err)
	}
	if c := rec.take(); c != nil {
		t.Errorf("changes after errors = %v; want none", c)
	}
	if got := b.Names(); !reflect.DeepEqual(got, []string{"psu", "led"}) && !reflect.DeepEqual(got, []string{"led", "psu"}) {
		t.Errorf("Names() = %v", got)
	}
}

func TestBank_Status(t *testing.T) {
	ctx := context.Background()
	b := power.NewBank(nil)
	h := power.NewHost()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.Add(ctx, "psu", h.Open(power.RelayConfig{Name: "psu", Driver: power.DriverSim, Startup: power.StartupOn})))
	must(b.Add(ctx, "led", h.Open(power.RelayConfig{Name: "led", Pin: "CUTTLE_NOWHERE"})))
	must(b.Add(ctx, "fan", powertest.New(power.Off)))
	st := b.Status(ctx)
	if len(st) != 3 || st[0].Name != "psu" || st[1].Name != "led" || st[2].Name != "fan" {
		t.Fatalf("Status() order = %+v; want psu, led, fan", st)
	}
	if !st[0].Available || st[0].State != power.On {
		t.Errorf("psu = %+v; want available and on", st[0])
	}
	if st[1].Available || st[1].Reason == "" || st[1].Pin != "CUTTLE_NOWHERE" {
		t.Errorf("led = %+v; want unavailable with a reason and its pin", st[1])
	}
	if !st[2].Available || st[2].State != power.Off {
		t.Errorf("fan = %+v; want available and off", st[2])
	}
	if _, err := b.StatusOf(ctx, "nope"); !errors.Is(err, power.ErrUnknownRelay) {
		t.Errorf("StatusOf(nope) = %v; want ErrUnknownRelay", err)
	}
}

func TestBank_WatchSeesHandSwitching(t *testing.T) {
	b, psu, led, rec := newBank(t)
	ctx, cancel := context.WithCancel(context.Background())
	tick := make(chan time.Time)
	done := make(chan struct{})
	go func() { defer close(done); b.Watch(ctx, tick) }()
	psu.Set(power.On)
	tick <- time.Time{}
	led.Set(power.Off)
	tick <- time.Time{}
	tick <- time.Time{} // nothing changed
	cancel()
	<-done
	want := []power.Change{{"psu", power.Off, power.On}, {"led", power.Unknown, power.Off}}
	if got := rec.take(); !reflect.DeepEqual(got, want) {
		t.Errorf("changes = %v; want %v", got, want)
	}
}
