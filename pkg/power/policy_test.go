package power_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/power"
	"github.com/cuttleprint/cuttle/pkg/power/powertest"
)

type pubRecorder struct {
	mu  sync.Mutex
	evs []events.Event
}

func (r *pubRecorder) Publish(e events.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, e)
}

// take returns the names of the events published since the last take,
// with the payload for the policy's own events.
func (r *pubRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.evs {
		switch v := e.(type) {
		case events.PowerOffWarning:
			out = append(out, fmt.Sprintf("PowerOffWarning %s %gs", v.Relay, v.Seconds))
		case events.PowerOffCancelled:
			out = append(out, "PowerOffCancelled "+v.Reason)
		case events.RelayChanged:
			out = append(out, "RelayChanged "+v.Relay+" "+v.State)
		case events.PluginMessage:
		default:
			out = append(out, e.Name())
		}
	}
	r.evs = nil
	return out
}

type fixture struct {
	ctx   context.Context
	clock *powertest.Clock
	pub   *pubRecorder
	psu   *powertest.Relay
	led   *powertest.Relay
	bank  *power.Bank
	pol   *power.Policy
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newFixture(t *testing.T, psu power.State, edit func(*power.PolicyConfig)) *fixture {
	t.Helper()
	f := &fixture{ctx: context.Background(), clock: powertest.NewClock(t0), pub: &pubRecorder{}, psu: powertest.New(psu), led: powertest.New(power.Off)}
	f.bank = power.NewBank(power.Announce(f.pub, "psu"))
	if err := f.bank.Add(f.ctx, "psu", f.psu); err != nil {
		t.Fatal(err)
	}
	if err := f.bank.Add(f.ctx, "led", f.led); err != nil {
		t.Fatal(err)
	}
	cfg := power.DefaultPolicyConfig()
	cfg.IdleOff = 10 * time.Minute
	if edit != nil {
		edit(&cfg)
	}
	var err error
	if f.pol, err = power.NewPolicy(f.ctx, cfg, f.bank, f.clock, f.pub); err != nil {
		t.Fatal(err)
	}
	return f
}

var idleCool = power.Snapshot{Connected: true, Hotends: []float64{24.5, 30}}

func (f *fixture) expect(t *testing.T, step string, want ...string) {
	t.Helper()
	if got := f.pub.take(); !reflect.DeepEqual(got, want) && (len(got) > 0 || len(want) > 0) {
		t.Errorf("%s: events = %q; want %q", step, got, want)
	}
}

func TestPolicy_BeforeConnectSwitchesOnAndSettles(t *testing.T) {
	f := newFixture(t, power.Off, nil)
	done := make(chan error, 1)
	go func() { done <- f.pol.BeforeConnect(f.ctx) }()
	f.clock.WaitPending(1) // the settle wait
	if got := f.psu.Get(); got != power.On {
		t.Errorf("PSU during settle = %s; want on", got)
	}
	f.clock.Advance(3*time.Second - time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("BeforeConnect returned %v before the 3 s settle time", err)
	default:
	}
	f.clock.Advance(time.Millisecond)
	if err := <-done; err != nil {
		t.Fatalf("BeforeConnect() = %v", err)
	}
	f.expect(t, "connect", "RelayChanged psu on", "PowerOn")
}

func TestPolicy_BeforeConnectWhenOnDoesNotWait(t *testing.T) {
	f := newFixture(t, power.On, nil)
	if err := f.pol.BeforeConnect(f.ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.psu.Switches(); got != nil {
		t.Errorf("switches = %v; want none", got)
	}
}

func TestPolicy_BeforeConnectCancelled(t *testing.T) {
	f := newFixture(t, power.Off, nil)
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan error, 1)
	go func() { done <- f.pol.BeforeConnect(ctx) }()
	f.clock.WaitPending(1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("BeforeConnect(cancelled) = %v; want context.Canceled", err)
	}
	if n := f.clock.Pending(); n != 0 {
		t.Errorf("%d timers pending after cancel; want 0", n)
	}
}

func TestPolicy_BeforeConnectDisabledOrUnavailable(t *testing.T) {
	f := newFixture(t, power.Off, func(c *power.PolicyConfig) { c.OnBeforeConnect = false })
	if err := f.pol.BeforeConnect(f.ctx); err != nil || f.psu.Get() != power.Off {
		t.Errorf("disabled: BeforeConnect() = %v, PSU %s; want nil, off", err, f.psu.Get())
	}
	f = newFixture(t, power.Off, nil)
	f.psu.Lock()
	f.psu.Err = power.NewUnavailable("psu", "GPIO17", "permission denied on /dev/gpiochip0", nil).Err()
	f.psu.Unlock()
	err := f.pol.BeforeConnect(f.ctx)
	if !errors.Is(err, power.ErrUnavailable) {
		t.Errorf("unavailable: BeforeConnect() = %v; want ErrUnavailable", err)
	}
	f = newFixture(t, power.Off, func(c *power.PolicyConfig) { c.PSU = "none-configured" })
	if err := f.pol.BeforeConnect(f.ctx); err != nil {
		t.Errorf("no PSU relay: BeforeConnect() = %v; want nil", err)
	}
}

func TestPolicy_BeforePrint(t *testing.T) {
	f := newFixture(t, power.Off, func(c *power.PolicyConfig) { c.SettleTime = 0 })
	if err := f.pol.BeforePrint(f.ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.psu.Get(); got != power.On {
		t.Errorf("PSU after BeforePrint = %s; want on", got)
	}
	f = newFixture(t, power.Off, func(c *power.PolicyConfig) { c.OnBeforePrint = false })
	if err := f.pol.BeforePrint(f.ctx); err != nil || f.psu.Get() != power.Off {
		t.Errorf("disabled: BeforePrint() = %v, PSU %s; want nil, off", err, f.psu.Get())
	}
}

func TestPolicy_IdleOffWhenCoolAndIdle(t *testing.T) {
	f := newFixture(t, power.On, nil)
	f.pol.Observe(f.ctx, idleCool)
	if st := f.pol.IdleStatus(); !st.Pending || !st.Deadline.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("IdleStatus() = %+v; want pending until %v", st, t0.Add(10*time.Minute))
	}
	f.clock.Advance(9*time.Minute - time.Second)
	f.expect(t, "8m59s")
	f.clock.Advance(time.Second)
	f.expect(t, "9m", "PowerOffWarning psu 60s")
	if st := f.pol.IdleStatus(); !st.Warned {
		t.Errorf("IdleStatus().Warned = false after the warning")
	}
	f.clock.Advance(59 * time.Second)
	if f.psu.Get() != power.On {
		t.Fatal("PSU off before the idle time")
	}
	f.clock.Advance(time.Second)
	if f.psu.Get() != power.Off {
		t.Fatal("PSU still on after the idle time")
	}
	f.expect(t, "10m", "RelayChanged psu off", "PowerOff")
	if st := f.pol.IdleStatus(); st.Pending || st.Blocked != "relay" {
		t.Errorf("IdleStatus() after switch-off = %+v; want not pending, blocked by relay", st)
	}
	f.clock.Advance(time.Hour)
	f.expect(t, "later")
}

func TestPolicy_IdleOffBlocked(t *testing.T) {
	for _, tc := range []struct {
		name string
		snap power.Snapshot
		why  string
	}{
		{"printing", power.Snapshot{Connected: true, Printing: true, Hotends: []float64{25}}, "printing"},
		{"target-set", power.Snapshot{Connected: true, Hotends: []float64{25}, TargetSet: true}, "heating"},
		{"hot", power.Snapshot{Connected: true, Hotends: []float64{25, 50}}, "hot"},
		{"disconnected", power.Snapshot{}, "disconnected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, power.On, nil)
			f.pol.Observe(f.ctx, tc.snap)
			f.clock.Advance(24 * time.Hour)
			if f.psu.Get() != power.On {
				t.Errorf("PSU switched off while %s", tc.name)
			}
			f.expect(t, tc.name)
			if st := f.pol.IdleStatus(); st.Pending || st.Blocked != tc.why {
				t.Errorf("IdleStatus() = %+v; want blocked %q", st, tc.why)
			}
		})
	}
}

func TestPolicy_IdleCountdownStartsWhenCool(t *testing.T) {
	f := newFixture(t, power.On, nil)
	f.pol.Observe(f.ctx, power.Snapshot{Connected: true, Hotends: []float64{180}})
	f.clock.Advance(time.Hour)
	f.pol.Observe(f.ctx, power.Snapshot{Connected: true, Hotends: []float64{49.9}})
	f.clock.Advance(10 * time.Minute)
	if f.psu.Get() != power.Off {
		t.Error("PSU still on 10 minutes after cooling down")
	}
}

func TestPolicy_IdleCancelled(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cancel func(f *fixture)
		want   []string
	}{
		{"activity", func(f *fixture) { f.pol.Activity() }, []string{"PowerOffCancelled activity"}},
		{"user", func(f *fixture) {
			if !f.pol.CancelIdleOff() {
				t.Error("CancelIdleOff() = false during a countdown")
			}
		}, []string{"PowerOffCancelled cancelled"}},
		{"print-starts", func(f *fixture) {
			f.pol.Observe(f.ctx, power.Snapshot{Connected: true, Printing: true, Hotends: []float64{25}})
		}, []string{"PowerOffCancelled printing"}},
		{"heater-target", func(f *fixture) {
			f.pol.Observe(f.ctx, power.Snapshot{Connected: true, Hotends: []float64{25}, TargetSet: true})
		}, []string{"PowerOffCancelled heating"}},
		{"switched-by-hand", func(f *fixture) {
			if _, err := f.bank.Switch(f.ctx, "psu", power.ActionOff); err != nil {
				t.Fatal(err)
			}
		}, []string{"RelayChanged psu off", "PowerOff", "PowerOffCancelled relay"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, power.On, nil)
			f.pol.Observe(f.ctx, idleCool)
			f.clock.Advance(9*time.Minute + 30*time.Second)
			f.expect(t, "warned", "PowerOffWarning psu 60s")
			tc.cancel(f)
			f.expect(t, "cancel", tc.want...)
			if st := f.pol.IdleStatus(); st.Warned {
				t.Errorf("IdleStatus().Warned after cancellation")
			}
			before := f.psu.Get()
			f.clock.Advance(time.Minute)
			if f.psu.Get() != before || len(f.psu.Switches()) > 1 {
				t.Fatalf("PSU switched (%v) after cancellation by %s", f.psu.Switches(), tc.name)
			}
			if tc.name == "activity" || tc.name == "user" {
				// The countdown starts afresh from the cancellation.
				f.clock.Advance(9 * time.Minute)
				if f.psu.Get() != power.Off {
					t.Errorf("PSU on 10 minutes after the restarted countdown")
				}
			}
		})
	}
}

func TestPolicy_CancelWithoutCountdown(t *testing.T) {
	f := newFixture(t, power.Off, nil)
	if f.pol.CancelIdleOff() {
		t.Error("CancelIdleOff() = true with the PSU off; want false")
	}
	f.expect(t, "cancel")
}

func TestPolicy_IdleDisabled(t *testing.T) {
	f := newFixture(t, power.On, func(c *power.PolicyConfig) { c.IdleOff = 0 })
	f.pol.Observe(f.ctx, idleCool)
	f.clock.Advance(24 * time.Hour)
	if f.psu.Get() != power.On || f.clock.Pending() != 0 {
		t.Errorf("idle off disabled: PSU %s, %d timers; want on, 0", f.psu.Get(), f.clock.Pending())
	}
}

func TestPolicy_PSUSwitchedOnStartsCountdown(t *testing.T) {
	f := newFixture(t, power.Off, nil)
	f.pol.Observe(f.ctx, idleCool)
	if f.pol.IdleStatus().Pending {
		t.Fatal("countdown with the PSU off")
	}
	if _, err := f.bank.Switch(f.ctx, "psu", power.ActionOn); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(10 * time.Minute)
	if f.psu.Get() != power.Off {
		t.Error("PSU switched on by hand while idle did not go off after the idle time")
	}
}

func TestPolicy_Intercept(t *testing.T) {
	for _, tc := range []struct {
		mode     power.GcodeMode
		line     string
		start    power.State
		wantSend bool
		want     power.State
	}{
		{power.GcodeRelay, "M80", power.Off, false, power.On},
		{power.GcodeRelay, "M81", power.On, false, power.Off},
		{power.GcodeRelay, "N12 M80*34", power.Off, false, power.On},
		{power.GcodeRelay, "m81 ; power down", power.On, false, power.Off},
		{power.GcodeBoth, "M80", power.Off, true, power.On},
		{power.GcodeBoth, "M81", power.On, true, power.Off},
		{power.GcodeSend, "M80", power.Off, true, power.Off},
		{power.GcodeSend, "M81", power.On, true, power.On},
		{power.GcodeRelay, "M8", power.Off, true, power.Off},
		{power.GcodeRelay, "M810", power.Off, true, power.Off},
		{power.GcodeRelay, "G1 X10 ; M80", power.Off, true, power.Off},
		{power.GcodeRelay, "", power.Off, true, power.Off},
	} {
		t.Run(fmt.Sprintf("%s/%q", tc.mode, tc.line), func(t *testing.T) {
			f := newFixture(t, tc.start, func(c *power.PolicyConfig) { c.M80, c.M81 = tc.mode, tc.mode })
			send, err := f.pol.Intercept(f.ctx, tc.line)
			if err != nil || send != tc.wantSend {
				t.Errorf("Intercept(%q) = %t, %v; want %t, nil", tc.line, send, err, tc.wantSend)
			}
			if got := f.psu.Get(); got != tc.want {
				t.Errorf("PSU after Intercept(%q) = %s; want %s", tc.line, got, tc.want)
			}
		})
	}
}

func TestPolicy_InterceptFailure(t *testing.T) {
	f := newFixture(t, power.Off, func(c *power.PolicyConfig) { c.M80 = power.GcodeBoth })
	f.psu.Lock()
	f.psu.Err = power.NewUnavailable("psu", "GPIO17", "no GPIO", nil).Err()
	f.psu.Unlock()
	send, err := f.pol.Intercept(f.ctx, "M80")
	if !send || !errors.Is(err, power.ErrUnavailable) {
		t.Errorf("Intercept(M80) on an unavailable relay in mode both = %t, %v; want true, ErrUnavailable", send, err)
	}
}

func TestPolicy_LEDWhilePrinting(t *testing.T) {
	f := newFixture(t, power.On, func(c *power.PolicyConfig) { c.LEDWhilePrinting = true })
	printing := power.Snapshot{Connected: true, Printing: true, Hotends: []float64{210}, TargetSet: true}
	f.pol.Observe(f.ctx, printing)
	if f.led.Get() != power.On {
		t.Error("LED off while printing")
	}
	f.pol.Observe(f.ctx, printing)
	f.pol.Observe(f.ctx, idleCool)
	if f.led.Get() != power.Off {
		t.Error("LED on after the print")
	}
	if got, want := f.led.Switches(), []string{"on", "off"}; !reflect.DeepEqual(got, want) {
		t.Errorf("LED switches = %v; want %v", got, want)
	}
}

func TestPolicy_LEDDuring(t *testing.T) {
	f := newFixture(t, power.On, nil)
	var during power.State
	err := f.pol.LEDDuring(f.ctx, func() error { during = f.led.Get(); return nil })
	if err != nil || during != power.On || f.led.Get() != power.Off {
		t.Errorf("LEDDuring: err %v, LED during %s, after %s; want nil, on, off", err, during, f.led.Get())
	}
	f.led.Set(power.On)
	boom := errors.New("snapshot failed")
	if err := f.pol.LEDDuring(f.ctx, func() error { return boom }); !errors.Is(err, boom) || f.led.Get() != power.On {
		t.Errorf("LEDDuring with LED already on: err %v, after %s; want boom, on", err, f.led.Get())
	}
}

func TestPolicyConfig_Validate(t *testing.T) {
	if err := power.DefaultPolicyConfig().Validate(); err != nil {
		t.Errorf("DefaultPolicyConfig().Validate() = %v", err)
	}
	bad := power.DefaultPolicyConfig()
	bad.M81 = "maybe"
	if err := bad.Validate(); !errors.Is(err, power.ErrInvalidConfig) {
		t.Errorf("Validate(m81 maybe) = %v; want ErrInvalidConfig", err)
	}
	bad = power.DefaultPolicyConfig()
	bad.IdleOff = -time.Second
	if err := bad.Validate(); !errors.Is(err, power.ErrInvalidConfig) {
		t.Errorf("Validate(idleOff -1s) = %v; want ErrInvalidConfig", err)
	}
}

func TestPolicy_Close(t *testing.T) {
	f := newFixture(t, power.On, nil)
	f.pol.Observe(f.ctx, idleCool)
	f.pol.Close()
	f.pol.Observe(f.ctx, idleCool)
	f.clock.Advance(time.Hour)
	if f.psu.Get() != power.On || f.clock.Pending() != 0 {
		t.Errorf("after Close: PSU %s, %d timers; want on, 0", f.psu.Get(), f.clock.Pending())
	}
}

// Ensure that a PSU whose sense line stays off after the settle time fails
// the connection with the reason, and one that comes up does not.
func TestPolicy_BeforeConnectChecksSense(t *testing.T) {
	for _, tc := range []struct {
		name    string
		comesUp bool
	}{{"comes-up", true}, {"stays-dark", false}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			out, sense := &gpiotest.Pin{N: "OUT"}, &gpiotest.Pin{N: "SENSE"}
			g, err := power.NewGPIO(power.RelayConfig{Name: "psu", Pin: "OUT", SensePin: "SENSE"}, out, sense)
			if err != nil {
				t.Fatal(err)
			}
			bank := power.NewBank(nil)
			must(t, bank.Add(ctx, "psu", g))
			clock := powertest.NewClock(t0)
			cfg := power.DefaultPolicyConfig()
			pol, err := power.NewPolicy(ctx, cfg, bank, clock, nil)
			must(t, err)
			done := make(chan error, 1)
			go func() { done <- pol.BeforeConnect(ctx) }()
			clock.WaitPending(1)
			if tc.comesUp {
				setLevel(sense, gpio.High)
			}
			clock.Advance(cfg.SettleTime)
			err = <-done
			if tc.comesUp && err != nil {
				t.Errorf("BeforeConnect() = %v; want nil", err)
			}
			if !tc.comesUp && (!errors.Is(err, power.ErrNotPowered) || !strings.Contains(err.Error(), "sense line SENSE")) {
				t.Errorf("BeforeConnect() = %v; want ErrNotPowered naming the sense line", err)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
