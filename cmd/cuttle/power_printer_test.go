package main

import (
	"context"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/power"
	"github.com/cuttleprint/cuttle/pkg/power/powertest"
	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/protocol/protocoltest"
	"github.com/cuttleprint/cuttle/pkg/serial"
)

// eventually waits for cond, which other goroutines make true; the deadline
// is only a safety net for a hung test, not a timing assertion.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// Ensure that the power policy drives a real Machine's PSU: on before
// connecting, M80/M81 switched instead of sent, never off while a heater
// target is set, and off after the idle time once cool and idle.
func TestHookPowerToPrinter(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := &app{bus: events.NewBus()}
	defer a.bus.Close()
	psu := powertest.New(power.Off)
	bank := power.NewBank(power.Announce(a.bus, "psu"))
	if err := bank.Add(ctx, "psu", psu); err != nil {
		t.Fatal(err)
	}
	clock := powertest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	cfg := power.DefaultPolicyConfig()
	cfg.SettleTime, cfg.IdleOff = 0, 10*time.Minute
	policy, err := power.NewPolicy(ctx, cfg, bank, clock, a.bus)
	if err != nil {
		t.Fatal(err)
	}
	a.deps.PowerPolicy = policy

	var mu sync.Mutex
	var fw *protocoltest.Firmware
	var fake *protocoltest.Marlin
	var psuAtOpen power.State
	m := printer.New(printer.Config{
		Events: a.bus,
		Lister: serial.Lister{Globs: []string{}},
		Builtin: map[string]printer.PortOpener{"FAKE": func(context.Context, int) (io.ReadWriteCloser, error) {
			host, f := protocoltest.Pipe()
			mu.Lock()
			fw, fake, psuAtOpen = f, &protocoltest.Marlin{F: f}, psu.Get()
			go fake.Serve()
			mu.Unlock()
			return host, nil
		}},
	})
	defer m.Close()
	hookPowerToPrinter(a, m)
	wait := a.start(ctx)
	defer wait()
	defer cancel()

	if err := m.Connect(ctx, "FAKE", 115200); err != nil {
		t.Fatal(err)
	}
	eventually(t, "operational", func() bool { return m.Snapshot().State == printer.StateOperational })
	mu.Lock()
	if psuAtOpen != power.On {
		t.Errorf("PSU when the port opened = %s; want on", psuAtOpen)
	}
	mu.Unlock()
	executed := func() []string { mu.Lock(); defer mu.Unlock(); return fake.Executed() }

	if err := m.Send(ctx, "M81"); err != nil {
		t.Fatal(err)
	}
	if psu.Get() != power.Off {
		t.Error("M81 did not switch the PSU off")
	}
	if err := m.Send(ctx, "M80", "M105"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "M105 executed", func() bool { return slices.Contains(executed(), "M105") })
	if slices.Contains(executed(), "M80") || slices.Contains(executed(), "M81") {
		t.Errorf("firmware executed %q; want M80/M81 handled by the relay", executed())
	}
	if psu.Get() != power.On {
		t.Error("M80 did not switch the PSU on")
	}

	// Cool and idle: the countdown runs.
	mu.Lock()
	fw.Reply("T:24.00 /0.00 B:22.00 /0.00 @:0 B@:0")
	mu.Unlock()
	eventually(t, "idle countdown", func() bool { return policy.IdleStatus().Pending })

	// A heater target blocks it, however long we wait.
	if err := m.Send(ctx, "M104 S200"); err != nil {
		t.Fatal(err)
	}
	// A real printer reports temperatures every second and each report makes
	// the policy look again; this scripted firmware reports none, so nudge it
	// the same way while waiting.
	eventually(t, "blocked by heating", func() bool {
		a.bus.Publish(events.StateChanged{Source: "printer"})
		return policy.IdleStatus().Blocked == "heating"
	})
	clock.Advance(time.Hour)
	if psu.Get() != power.On {
		t.Fatal("PSU switched off while a heater target was set")
	}

	// Target cleared: off after the idle time.
	if err := m.Send(ctx, "M104 S0"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "idle countdown again", func() bool { return policy.IdleStatus().Pending })
	clock.Advance(10 * time.Minute)
	if psu.Get() != power.Off {
		t.Errorf("PSU still on after 10 idle minutes; idle status %+v", policy.IdleStatus())
	}
}

func TestPowerSnapshot(t *testing.T) {
	v := func(f float64) *float64 { return &f }
	for _, tc := range []struct {
		name string
		s    printer.Snapshot
		want power.Snapshot
	}{
		{"offline", printer.Snapshot{State: printer.StateOffline}, power.Snapshot{}},
		{"operational", printer.Snapshot{State: printer.StateOperational, Temps: map[string]printer.Temp{"tool0": {Actual: 30, Target: v(0)}, "bed": {Actual: 60, Target: v(0)}}},
			power.Snapshot{Connected: true, Hotends: []float64{30}}},
		{"paused-bed-target", printer.Snapshot{State: printer.StatePaused, Temps: map[string]printer.Temp{"bed": {Actual: 60, Target: v(60)}}},
			power.Snapshot{Connected: true, Printing: true, TargetSet: true}},
	} {
		if got := powerSnapshot(tc.s); got.Connected != tc.want.Connected || got.Printing != tc.want.Printing ||
			got.TargetSet != tc.want.TargetSet || !slices.Equal(got.Hotends, tc.want.Hotends) {
			t.Errorf("%s: powerSnapshot = %+v; want %+v", tc.name, got, tc.want)
		}
	}
}
