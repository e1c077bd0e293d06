package power_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/cuttleprint/cuttle/pkg/power"
)

// registerPin registers a gpiotest pin under a name unique to the test and
// unregisters it when the test ends. gpioreg is periph's global registry, so
// names carry the test name to keep parallel tests apart.
func registerPin(t *testing.T, suffix string, l gpio.Level) (*gpiotest.Pin, string) {
	t.Helper()
	name := "CUTTLE_" + strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + "_" + suffix
	p := &gpiotest.Pin{N: name, Num: -1, L: l}
	if err := gpioreg.Register(p); err != nil {
		t.Fatalf("gpioreg.Register(%q): %v", name, err)
	}
	t.Cleanup(func() {
		if err := gpioreg.Unregister(name); err != nil {
			t.Errorf("gpioreg.Unregister(%q): %v", name, err)
		}
	})
	return p, name
}

func level(p *gpiotest.Pin) gpio.Level {
	p.Lock()
	defer p.Unlock()
	return p.L
}

func setLevel(p *gpiotest.Pin, l gpio.Level) {
	p.Lock()
	defer p.Unlock()
	p.L = l
}

func mustState(t *testing.T, r power.Relay) power.State {
	t.Helper()
	s, err := r.State(context.Background())
	if err != nil {
		t.Fatalf("State() error: %v", err)
	}
	return s
}

func TestGPIO_Levels(t *testing.T) {
	ctx := context.Background()
	h := power.NewHost()
	for _, tc := range []struct {
		name      string
		activeLow bool
		onLevel   gpio.Level
	}{
		{"active-high", false, gpio.High},
		{"active-low", true, gpio.Low},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, pin := registerPin(t, "OUT", !tc.onLevel)
			r := h.Open(power.RelayConfig{Name: "psu", Pin: pin, ActiveLow: tc.activeLow})
			if _, ok := r.(*power.GPIO); !ok {
				t.Fatalf("Open() = %T (%v); want *power.GPIO", r, r.(power.Reporter).Status(ctx).Reason)
			}
			if err := r.On(ctx); err != nil {
				t.Fatalf("On() = %v", err)
			}
			if got := level(p); got != tc.onLevel {
				t.Errorf("after On, line = %s; want %s", got, tc.onLevel)
			}
			if got := mustState(t, r); got != power.On {
				t.Errorf("after On, State() = %s; want on", got)
			}
			if err := r.Off(ctx); err != nil {
				t.Fatalf("Off() = %v", err)
			}
			if got := level(p); got != !tc.onLevel {
				t.Errorf("after Off, line = %s; want %s", got, !tc.onLevel)
			}
			if got := mustState(t, r); got != power.Off {
				t.Errorf("after Off, State() = %s; want off", got)
			}
		})
	}
}

func TestGPIO_Startup(t *testing.T) {
	h := power.NewHost()
	for _, tc := range []struct {
		startup   power.Startup
		activeLow bool
		before    gpio.Level
		wantLine  gpio.Level
		wantState power.State
	}{
		{"", false, gpio.High, gpio.Low, power.Off},
		{power.StartupOff, false, gpio.High, gpio.Low, power.Off},
		{power.StartupOff, true, gpio.Low, gpio.High, power.Off},
		{power.StartupOn, false, gpio.Low, gpio.High, power.On},
		{power.StartupOn, true, gpio.High, gpio.Low, power.On},
		{power.StartupKeep, false, gpio.High, gpio.High, power.Unknown},
		{power.StartupKeep, true, gpio.Low, gpio.Low, power.Unknown},
	} {
		name := string(tc.startup)
		if name == "" {
			name = "default"
		}
		if tc.activeLow {
			name += "-active-low"
		}
		t.Run(name, func(t *testing.T) {
			p, pin := registerPin(t, "OUT", tc.before)
			r := h.Open(power.RelayConfig{Name: "psu", Pin: pin, ActiveLow: tc.activeLow, Startup: tc.startup})
			if got := level(p); got != tc.wantLine {
				t.Errorf("line after start-up %q = %s; want %s", tc.startup, got, tc.wantLine)
			}
			if got := mustState(t, r); got != tc.wantState {
				t.Errorf("State() after start-up %q = %s; want %s", tc.startup, got, tc.wantState)
			}
		})
	}
}

func TestGPIO_Toggle(t *testing.T) {
	ctx := context.Background()
	p, pin := registerPin(t, "OUT", gpio.Low)
	r := power.NewHost().Open(power.RelayConfig{Name: "led", Pin: pin, ActiveLow: true, Startup: power.StartupKeep})
	for i, want := range []power.State{power.On, power.Off, power.On} {
		got, err := r.Toggle(ctx)
		if err != nil {
			t.Fatalf("Toggle() #%d: %v", i+1, err)
		}
		if got != want {
			t.Errorf("Toggle() #%d = %s; want %s", i+1, got, want)
		}
		wantLine := gpio.Level(want != power.On) // active-low
		if l := level(p); l != wantLine {
			t.Errorf("line after Toggle() #%d = %s; want %s", i+1, l, wantLine)
		}
	}
}

func TestGPIO_Sense(t *testing.T) {
	ctx := context.Background()
	h := power.NewHost()
	for _, tc := range []struct {
		name       string
		inverted   bool
		senseLevel gpio.Level // what the PSU's sense line shows
		command    power.State
		want       power.State
		mismatch   bool
	}{
		{"agrees-on", false, gpio.High, power.On, power.On, false},
		{"agrees-off", false, gpio.Low, power.Off, power.Off, false},
		{"psu-did-not-come-up", false, gpio.Low, power.On, power.Off, true},
		{"psu-on-by-hand", false, gpio.High, power.Off, power.On, true},
		{"inverted-agrees", true, gpio.Low, power.On, power.On, false},
		{"inverted-disagrees", true, gpio.High, power.On, power.Off, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, pin := registerPin(t, "OUT", gpio.Low)
			sp, sensePin := registerPin(t, "SENSE", gpio.Low)
			r := h.Open(power.RelayConfig{Name: "psu", Pin: pin, SensePin: sensePin, SenseInverted: tc.inverted, SensePull: power.PullNone})
			rep := r.(power.Reporter)
			if st := rep.Status(ctx); !st.Available {
				t.Fatalf("relay unavailable: %s", st.Reason)
			}
			if tc.command == power.On {
				if err := r.On(ctx); err != nil {
					t.Fatal(err)
				}
			} else if err := r.Off(ctx); err != nil {
				t.Fatal(err)
			}
			setLevel(sp, tc.senseLevel)
			if got := mustState(t, r); got != tc.want {
				t.Errorf("State() = %s; want %s (sense line %s)", got, tc.want, tc.senseLevel)
			}
			st := rep.Status(ctx)
			if st.Commanded != tc.command || st.Sensed != tc.want || st.Mismatch() != tc.mismatch {
				t.Errorf("Status() = commanded %s sensed %s mismatch %t; want %s %s %t",
					st.Commanded, st.Sensed, st.Mismatch(), tc.command, tc.want, tc.mismatch)
			}
		})
	}
}

func TestGPIO_SensePull(t *testing.T) {
	for _, tc := range []struct {
		pull string
		want gpio.Pull
	}{{"", gpio.PullNoChange}, {power.PullUp, gpio.PullUp}, {power.PullDown, gpio.PullDown}, {power.PullNone, gpio.Float}} {
		t.Run("pull-"+tc.pull, func(t *testing.T) {
			_, pin := registerPin(t, "OUT", gpio.Low)
			sp, sensePin := registerPin(t, "SENSE", gpio.Low)
			power.NewHost().Open(power.RelayConfig{Name: "psu", Pin: pin, SensePin: sensePin, SensePull: tc.pull})
			sp.Lock()
			got := sp.P
			sp.Unlock()
			if got != tc.want {
				t.Errorf("sense pull for %q = %s; want %s", tc.pull, got, tc.want)
			}
		})
	}
}

func TestOpen_Unavailable(t *testing.T) {
	ctx := context.Background()
	_, known := registerPin(t, "OUT", gpio.Low)
	h := power.NewHost()
	for _, tc := range []struct {
		name   string
		cfg    power.RelayConfig
		reason string
	}{
		{"unknown-pin", power.RelayConfig{Name: "psu", Pin: "CUTTLE_NO_SUCH_LINE"}, `"CUTTLE_NO_SUCH_LINE" not found`},
		{"unknown-sense-pin", power.RelayConfig{Name: "psu", Pin: known, SensePin: "CUTTLE_NO_SENSE"}, `sense line "CUTTLE_NO_SENSE" not found`},
		{"no-pin", power.RelayConfig{Name: "psu"}, "pin is required"},
		{"bad-name", power.RelayConfig{Name: "P S U", Pin: known}, "relay name"},
		{"bad-startup", power.RelayConfig{Name: "psu", Pin: known, Startup: "maybe"}, `startup "maybe"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.Open(tc.cfg)
			for _, call := range []struct {
				op  string
				err error
			}{
				{"On", r.On(ctx)},
				{"Off", r.Off(ctx)},
				{"Toggle", func() error { _, err := r.Toggle(ctx); return err }()},
				{"State", func() error { _, err := r.State(ctx); return err }()},
			} {
				if !errors.Is(call.err, power.ErrUnavailable) {
					t.Errorf("%s() = %v; want ErrUnavailable", call.op, call.err)
				} else if !strings.Contains(call.err.Error(), tc.reason) {
					t.Errorf("%s() = %q; want reason containing %q", call.op, call.err, tc.reason)
				}
			}
			st := r.(power.Reporter).Status(ctx)
			if st.Available || !strings.Contains(st.Reason, tc.reason) {
				t.Errorf("Status() = available %t reason %q; want unavailable with %q", st.Available, st.Reason, tc.reason)
			}
		})
	}
}

// failPin is an output line whose writes fail, like a line another process holds.
type failPin struct{ gpiotest.Pin }

func (f *failPin) Out(gpio.Level) error {
	return errors.New("line_request ioctl: device or resource busy")
}

func TestNewGPIO_WriteFails(t *testing.T) {
	_, err := power.NewGPIO(power.RelayConfig{Name: "psu", Pin: "GPIO17"}, &failPin{gpiotest.Pin{N: "GPIO17"}}, nil)
	if !errors.Is(err, power.ErrUnavailable) || !strings.Contains(err.Error(), "busy") {
		t.Fatalf("NewGPIO on a busy line = %v; want ErrUnavailable naming the cause", err)
	}
	g, err := power.NewGPIO(power.RelayConfig{Name: "psu", Pin: "GPIO17", Startup: power.StartupKeep}, &failPin{gpiotest.Pin{N: "GPIO17"}}, nil)
	if err != nil {
		t.Fatalf("NewGPIO with keep = %v; want no write, no error", err)
	}
	if err := g.On(context.Background()); !errors.Is(err, power.ErrUnavailable) || !strings.Contains(err.Error(), `set GPIO17 High`) {
		t.Errorf("On() on a busy line = %v; want ErrUnavailable naming line and level", err)
	}
	if s := mustState(t, g); s != power.Unknown {
		t.Errorf("State() after failed On = %s; want unknown", s)
	}
}

func TestGPIO_CancelledContext(t *testing.T) {
	p, pin := registerPin(t, "OUT", gpio.Low)
	r := power.NewHost().Open(power.RelayConfig{Name: "psu", Pin: pin})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.On(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("On(cancelled) = %v; want context.Canceled", err)
	}
	if l := level(p); l != gpio.Low {
		t.Errorf("line after cancelled On = %s; want Low", l)
	}
}

func TestOpen_Sim(t *testing.T) {
	ctx := context.Background()
	r := power.NewHost().Open(power.RelayConfig{Name: "psu", Driver: power.DriverSim, SensePin: "SIM_SENSE", ActiveLow: true, SenseInverted: true})
	if err := r.On(ctx); err != nil {
		t.Fatal(err)
	}
	st := r.(power.Reporter).Status(ctx)
	if !st.Available || st.State != power.On || st.Sensed != power.On || st.Mismatch() {
		t.Errorf("sim Status() after On = %+v; want available, on, sensed on", st)
	}
	if s, err := r.Toggle(ctx); err != nil || s != power.Off {
		t.Errorf("sim Toggle() = %s, %v; want off", s, err)
	}
}

func TestParseAction(t *testing.T) {
	for _, s := range []string{"on", "off", "toggle"} {
		if a, err := power.ParseAction(s); err != nil || string(a) != s {
			t.Errorf("ParseAction(%q) = %q, %v; want %q", s, a, err, s)
		}
	}
	for _, s := range []string{"", "ON", "explode"} {
		if _, err := power.ParseAction(s); !errors.Is(err, power.ErrUnknownAction) {
			t.Errorf("ParseAction(%q) error = %v; want ErrUnknownAction", s, err)
		}
	}
}
