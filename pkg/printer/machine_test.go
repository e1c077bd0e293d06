package printer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/protocol/protocoltest"
)

const wait = 5 * time.Second // safety net for a hung test

type rig struct {
	m     *printer.Machine
	fw    *protocoltest.Firmware
	fake  *protocoltest.Marlin
	bus   *events.Bus
	sub   *events.Subscription
	clock *protocoltest.Clock
}

// newRig builds a Machine whose port "FAKE" is scripted Marlin on a net.Pipe.
func newRig(t *testing.T, cfg printer.Config, reply func(string) ([]string, bool)) *rig {
	t.Helper()
	r := &rig{bus: events.NewBus(), clock: protocoltest.NewClock()}
	r.sub = r.bus.Subscribe(events.Options{Limit: 10000})
	t.Cleanup(r.sub.Close)
	var once sync.Once
	ready := make(chan struct{})
	cfg.Builtin = map[string]printer.PortOpener{"FAKE": func(ctx context.Context, baud int) (io.ReadWriteCloser, error) {
		host, fw := protocoltest.Pipe()
		r.fw = fw
		r.fake = &protocoltest.Marlin{F: fw, Reply: reply}
		go r.fake.Serve()
		once.Do(func() { close(ready) })
		return host, nil
	}}
	cfg.Events, cfg.Clock = r.bus, r.clock
	cfg.Lister.Globs = []string{}
	r.m = printer.New(cfg)
	t.Cleanup(func() { r.m.Close() })
	return r
}

func (r *rig) connect(t *testing.T) {
	t.Helper()
	if err := r.m.Connect(context.Background(), "FAKE", 115200); err != nil {
		t.Fatal(err)
	}
	r.waitState(t, printer.StateOperational)
}

func (r *rig) waitState(t *testing.T, want printer.State) {
	t.Helper()
	r.waitFor(t, fmt.Sprintf("state %v", want), func() bool { return r.m.Snapshot().State == want })
}

// waitFor waits for cond, re-checking after every event the Machine publishes.
func (r *rig) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for !cond() {
		if _, err := r.sub.Next(ctx); err != nil {
			t.Fatalf("waiting for %s: %v (state %q)", what, err, r.m.Snapshot().StateText)
		}
	}
}

// executed waits until the fake firmware has executed cmd.
func (r *rig) executed(t *testing.T, cmd string) {
	t.Helper()
	r.waitFor(t, "firmware executing "+cmd, func() bool { return slices.Contains(r.fake.Executed(), cmd) })
}

func marlinCaps(cmd string) ([]string, bool) {
	if cmd == "M155 S2" {
		return []string{"ok"}, true
	}
	return nil, false
}

func TestMachine_ConnectAndTemperatures(t *testing.T) {
	r := newRig(t, printer.Config{}, marlinCaps)
	if s := r.m.Snapshot(); s.State != printer.StateOffline || !s.Flags.ClosedOrError || s.Flags.Operational {
		t.Fatalf("new machine: %+v", s)
	}
	r.connect(t)
	r.executed(t, "M115")
	r.executed(t, "M155 S2") // AUTOREPORT_TEMP offered: auto-report switched on
	r.fw.Reply("T:25.45 /0.00 B:24.10 /60.00 @:0 B@:0")
	r.waitFor(t, "temperatures", func() bool { return r.m.Snapshot().Temps["bed"].Actual == 24.10 })
	s := r.m.Snapshot()
	if s.StateText != "Operational" || !s.Flags.Operational || !s.Flags.Ready || s.Flags.ClosedOrError {
		t.Errorf("snapshot %+v", s)
	}
	if s.Firmware.Name != "Marlin 2.1.2.4 (Github)" || !s.Firmware.Capabilities["AUTOREPORT_TEMP"] {
		t.Errorf("firmware %+v", s.Firmware)
	}
	if got := s.Temps["tool0"]; got.Actual != 25.45 || got.Target == nil || *got.Target != 0 {
		t.Errorf("tool0 = %+v", got)
	}
	if h := r.m.History(5); len(h) != 1 || h[0].Heaters["bed"].Actual != 24.10 {
		t.Errorf("history = %+v", h)
	}
	if err := r.m.SetToolTargets(context.Background(), map[string]float64{"tool0": 200}); err != nil {
		t.Fatal(err)
	}
	r.executed(t, "M104 T0 S200")
	// The target is noted once the write has returned, which can be after the
	// firmware has read the line.
	r.waitFor(t, "tool0 target 200 after M104", func() bool {
		tg := r.m.Snapshot().Temps["tool0"].Target
		return tg != nil && *tg == 200
	})
	lines, _ := r.m.Terminal(0)
	if !slices.Contains(lines, "Recv: T:25.45 /0.00 B:24.10 /60.00 @:0 B@:0") || !slices.Contains(lines, "Send: N1 M115*39") {
		t.Errorf("terminal = %q", lines)
	}
}

func TestMachine_PollsWithoutAutoreport(t *testing.T) {
	noCaps := func(cmd string) ([]string, bool) {
		if cmd == "M115" {
			return []string{"FIRMWARE_NAME:Fake", "ok"}, true
		}
		return nil, false
	}
	r := newRig(t, printer.Config{PollInterval: 2 * time.Second}, noCaps)
	r.connect(t)
	r.executed(t, "M115")
	if !r.clock.WaitPending(1, wait) {
		t.Fatal("no poll timer")
	}
	r.clock.Advance(2 * time.Second)
	r.executed(t, "M105")
	r.waitFor(t, "temperature from M105", func() bool { return r.m.Snapshot().Temps["tool0"].Actual == 21.3 })
}

func TestMachine_Events(t *testing.T) {
	r := newRig(t, printer.Config{}, marlinCaps)
	all := r.bus.Subscribe(events.Options{Limit: 10000})
	defer all.Close()
	r.connect(t)
	r.executed(t, "M155 S2")
	r.m.Send(context.Background(), "g28")
	r.waitFor(t, "G28 sent", func() bool {
		lines, _ := r.m.Terminal(0)
		return slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, " G28*") })
	})
	r.m.Disconnect()
	var names []string
	for _, e := range all.Take(nil) {
		if e.Name() != "cuttle.StateChanged" {
			names = append(names, e.Name())
		}
	}
	for _, want := range []string{"Connecting", "Connected", "PrinterStateChanged", "FirmwareData", "Home", "Disconnecting", "Disconnected"} {
		if !slices.Contains(names, want) {
			t.Errorf("events %q lack %s", names, want)
		}
	}
	if s := r.m.Snapshot(); s.State != printer.StateOffline {
		t.Errorf("after Disconnect: %v", s.StateText)
	}
}

func TestMachine_FirmwareResetIsAnError(t *testing.T) {
	r := newRig(t, printer.Config{}, marlinCaps)
	r.connect(t)
	r.executed(t, "M155 S2")
	r.fw.Reply("start")
	r.waitState(t, printer.StateError)
	s := r.m.Snapshot()
	if !strings.HasPrefix(s.StateText, "Error: ") || !s.Flags.Error || !s.Flags.ClosedOrError || s.Flags.Operational {
		t.Errorf("after reset: %q %+v", s.StateText, s.Flags)
	}
	if s.Error.Reason != "firmware" {
		t.Errorf("error info %+v", s.Error)
	}
	if err := r.m.Send(context.Background(), "G28"); !errors.Is(err, printer.ErrNotOperational) {
		t.Errorf("Send after reset = %v; want ErrNotOperational", err)
	}
	r.m.Disconnect()
	if s := r.m.Snapshot(); s.State != printer.StateOffline || s.Error.Error != "" {
		t.Errorf("after Disconnect: %q %+v", s.StateText, s.Error)
	}
}

func TestMachine_LinkLost(t *testing.T) {
	r := newRig(t, printer.Config{}, marlinCaps)
	r.connect(t)
	r.fw.Close()
	r.waitState(t, printer.StateOfflineAfterError)
	s := r.m.Snapshot()
	if s.StateText != "Offline after error" || !s.Flags.Error || s.Error.Reason != "connection" {
		t.Errorf("after link loss: %q %+v", s.StateText, s.Error)
	}
}

func TestMachine_Offline(t *testing.T) {
	r := newRig(t, printer.Config{}, nil)
	ctx := context.Background()
	for name, fn := range map[string]func() error{
		"send":    func() error { return r.m.Send(ctx, "G28") },
		"target":  func() error { return r.m.SetToolTargets(ctx, map[string]float64{"tool0": 100}) },
		"bed":     func() error { return r.m.SetBedTarget(ctx, 50) },
		"jog":     func() error { x := 1.0; return r.m.Jog(ctx, &x, nil, nil, false, 0) },
		"offset":  func() error { return r.m.SetToolOffsets(map[string]float64{"tool0": 1}) },
		"fakeack": r.m.FakeAck,
	} {
		if err := fn(); !errors.Is(err, printer.ErrNotOperational) {
			t.Errorf("%s offline = %v; want ErrNotOperational", name, err)
		}
	}
}

func TestMachine_Commands(t *testing.T) {
	r := newRig(t, printer.Config{}, marlinCaps)
	r.connect(t)
	ctx := context.Background()
	x, y, z := 10.0, -5.0, 0.2
	steps := []struct {
		name string
		do   func() error
		want []string
	}{
		{"jog", func() error { return r.m.Jog(ctx, &x, &y, &z, false, 0) }, []string{"G91", "G1 X10 Y-5 Z0.2 F200", "G90"}},
		{"jog absolute", func() error { return r.m.Jog(ctx, &x, nil, nil, true, 3000) }, []string{"G90", "G1 X10 F3000"}},
		{"home", func() error { return r.m.Home(ctx, []string{"x", "y"}) }, []string{"G91", "G28 X0 Y0", "G90"}},
		{"feedrate", func() error { return r.m.SetFeedrate(ctx, 1.5) }, []string{"M220 S150"}},
		{"flowrate", func() error { return r.m.SetFlowrate(ctx, 90) }, []string{"M221 S90"}},
		{"extrude", func() error { return r.m.Extrude(ctx, -5, 0) }, []string{"G91", "M83", "G1 E-5 F300", "M82", "G90"}},
		{"select", func() error { return r.m.SelectTool(ctx, "tool0") }, []string{"T0"}},
		{"bed", func() error { return r.m.SetBedTarget(ctx, 60) }, []string{"M140 S60"}},
		{"send keeps M117 text", func() error { return r.m.Send(ctx, "m117 Hello World", "m106 s255") }, []string{"M117 Hello World", "M106 S255"}},
	}
	for _, st := range steps {
		before := len(userCmds(r.fake.Executed()))
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		var got []string
		r.waitFor(t, st.name, func() bool {
			got = userCmds(r.fake.Executed())[before:]
			return len(got) >= len(st.want)
		})
		if !slices.Equal(got, st.want) {
			t.Errorf("%s sent %q; want %q", st.name, got, st.want)
		}
	}
	for name, fn := range map[string]func() error{
		"tool 1 on one extruder": func() error { return r.m.SetToolTargets(ctx, map[string]float64{"tool1": 100}) },
		"bad key":                func() error { return r.m.SetToolTargets(ctx, map[string]float64{"hotend": 100}) },
		"negative":               func() error { return r.m.SetBedTarget(ctx, -1) },
		"offset range":           func() error { return r.m.SetToolOffsets(map[string]float64{"tool0": 60}) },
		"feedrate range":         func() error { return r.m.SetFeedrate(ctx, 300) },
		"flowrate range":         func() error { return r.m.SetFlowrate(ctx, 10) },
		"home axis":              func() error { return r.m.Home(ctx, []string{"e"}) },
		"jog nothing":            func() error { return r.m.Jog(ctx, nil, nil, nil, false, 0) },
	} {
		if err := fn(); !errors.Is(err, printer.ErrInvalid) {
			t.Errorf("%s = %v; want ErrInvalid", name, err)
		}
	}
	if err := r.m.SetChamberTarget(ctx, 40); !errors.Is(err, printer.ErrNoHeatedChamber) {
		t.Errorf("chamber without one = %v", err)
	}
}

type denyM80 struct{ seen []string }

func (d *denyM80) Intercept(ctx context.Context, line string) (bool, error) {
	d.seen = append(d.seen, line)
	return line != "M80", nil
}

type hook struct{ calls int }

func (h *hook) BeforeConnect(ctx context.Context) error { h.calls++; return nil }

func TestMachine_Hooks(t *testing.T) {
	r := newRig(t, printer.Config{}, marlinCaps)
	f, h := &denyM80{}, &hook{}
	r.m.AddFilter(f)
	r.m.AddConnectHook(h)
	actions := make(chan string, 1)
	r.m.OnAction(func(name, params string) { actions <- name + "|" + params })
	r.connect(t)
	if h.calls != 1 {
		t.Errorf("connect hook ran %d times", h.calls)
	}
	r.m.Send(context.Background(), "M80", "M81")
	r.executed(t, "M81")
	if slices.Contains(r.fake.Executed(), "M80") {
		t.Error("filtered M80 reached the firmware")
	}
	r.fw.Reply("//action:prompt_begin Filament runout")
	if got := <-actions; got != "prompt_begin|Filament runout" {
		t.Errorf("action %q", got)
	}
}

type listSource struct {
	mu    sync.Mutex
	lines []string
	i     int
}

func (s *listSource) Next() (printer.Command, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.i == len(s.lines) {
		return printer.Command{}, false
	}
	s.i++
	return printer.Command{Text: s.lines[s.i-1], Tag: s.i}, true
}

func TestMachine_Stream(t *testing.T) {
	r := newRig(t, printer.Config{}, marlinCaps)
	r.connect(t)
	src := &listSource{lines: []string{"G1 X1", "; comment only", "G1 X2 ; move", "G1 X3"}}
	acked := make(chan int, 10)
	if err := r.m.Stream(src, func(c printer.Command) { acked <- c.Tag.(int) }); err != nil {
		t.Fatal(err)
	}
	var got []int
	for len(got) < 4 {
		select {
		case n := <-acked:
			got = append(got, n)
		case <-time.After(wait):
			t.Fatalf("acked %v", got)
		}
	}
	if !slices.Equal(got, []int{1, 2, 3, 4}) {
		t.Errorf("acked tags %v", got)
	}
	ex := userCmds(r.fake.Executed())
	if i := slices.Index(ex, "G1 X1"); i < 0 || !slices.Equal(ex[i:i+3], []string{"G1 X1", "G1 X2", "G1 X3"}) {
		t.Errorf("executed %q", ex)
	}
}

// userCmds drops what the Machine sends on its own.
func userCmds(ex []string) []string {
	return slices.DeleteFunc(ex, func(s string) bool {
		return s == "M155 S2" || s == "M27 S2" || s == "M115" || s == "M110 N0" || s == "M105"
	})
}

func TestMachine_HistorySince(t *testing.T) {
	r := newRig(t, printer.Config{HistorySize: 3}, marlinCaps)
	r.connect(t)
	for i := 1; i <= 5; i++ {
		r.fw.Reply(fmt.Sprintf("T:%d.0 /0.0 B:20.0 /0.0", i))
		want := float64(i)
		r.waitFor(t, "temperature", func() bool { return r.m.Snapshot().Temps["tool0"].Actual == want })
	}
	pts, next := r.m.HistorySince(0)
	if next != 5 || len(pts) != 3 || pts[0].Heaters["tool0"].Actual != 3 || pts[2].Heaters["tool0"].Actual != 5 {
		t.Errorf("HistorySince(0) = %v, %d", pts, next)
	}
	if pts, next = r.m.HistorySince(4); next != 5 || len(pts) != 1 || pts[0].Heaters["tool0"].Actual != 5 {
		t.Errorf("HistorySince(4) = %v, %d", pts, next)
	}
	if pts, _ = r.m.HistorySince(5); len(pts) != 0 {
		t.Errorf("HistorySince(5) = %v", pts)
	}
}
