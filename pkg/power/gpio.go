package power

import (
	"context"
	"fmt"
	"sync"

	"periph.io/x/conn/v3/gpio"
)

// GPIO is a relay on a GPIO output line, with an optional sense input.
//
// It accepts the narrowest periph.io interfaces: a gpio.PinOut to drive and a
// gpio.PinIn to sense. It never reads back the output line: on the Linux
// character device, reading a line reconfigures it as an input, which would
// drop the relay.
type GPIO struct {
	name          string
	pin           string
	out           gpio.PinOut
	sense         gpio.PinIn // nil when no sense line is wired
	sensePin      string
	activeLow     bool
	senseInverted bool

	mu        sync.Mutex // serialises writes to out; guards commanded
	commanded State
}

var _ Relay = (*GPIO)(nil)
var _ Reporter = (*GPIO)(nil)

// NewGPIO makes a relay from cfg on the given lines and applies cfg.Startup.
// sense may be nil; when given, it is configured as an input with
// cfg.SensePull. The error wraps whatever the lines returned.
func NewGPIO(cfg RelayConfig, out gpio.PinOut, sense gpio.PinIn) (*GPIO, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, fmt.Errorf("%w: relay %q: no output line", ErrInvalidConfig, cfg.Name)
	}
	g := &GPIO{
		name:          cfg.Name,
		pin:           cfg.Pin,
		out:           out,
		activeLow:     cfg.ActiveLow,
		senseInverted: cfg.SenseInverted,
	}
	if sense != nil {
		if err := sense.In(pull(cfg.SensePull), gpio.NoEdge); err != nil {
			return nil, fmt.Errorf("power: relay %q: sense line %s as input: %w", cfg.Name, cfg.SensePin, err)
		}
		g.sense, g.sensePin = sense, cfg.SensePin
	}
	switch cfg.Startup {
	case "", StartupOff:
		if err := g.set(Off); err != nil {
			return nil, err
		}
	case StartupOn:
		if err := g.set(On); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func pull(s string) gpio.Pull {
	switch s {
	case PullNone:
		return gpio.Float
	case PullUp:
		return gpio.PullUp
	case PullDown:
		return gpio.PullDown
	}
	return gpio.PullNoChange
}

// Level returns the line level that puts the relay in state s.
func (g *GPIO) level(s State) gpio.Level {
	return gpio.Level((s == On) != g.activeLow)
}

func (g *GPIO) set(s State) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.setLocked(s)
}

func (g *GPIO) setLocked(s State) error {
	l := g.level(s)
	if err := g.out.Out(l); err != nil {
		return &UnavailableError{
			Relay:  g.name,
			Reason: fmt.Sprintf("set %s %s: %v", g.pin, l, err),
			Err:    err,
		}
	}
	g.commanded = s
	return nil
}

// On implements Relay.
func (g *GPIO) On(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return g.set(On)
}

// Off implements Relay.
func (g *GPIO) Off(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return g.set(Off)
}

// Toggle implements Relay.
func (g *GPIO) Toggle(ctx context.Context) (State, error) {
	if err := ctx.Err(); err != nil {
		return Unknown, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	next := On
	if g.stateLocked() == On {
		next = Off
	}
	if err := g.setLocked(next); err != nil {
		return Unknown, err
	}
	return next, nil
}

// State implements Relay. With a sense line it reports the sense line.
func (g *GPIO) State(ctx context.Context) (State, error) {
	if err := ctx.Err(); err != nil {
		return Unknown, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stateLocked(), nil
}

func (g *GPIO) stateLocked() State {
	if g.sense != nil {
		return g.sensedLocked()
	}
	return g.commanded
}

func (g *GPIO) sensedLocked() State {
	if bool(g.sense.Read()) != g.senseInverted {
		return On
	}
	return Off
}

// Status implements Reporter.
func (g *GPIO) Status(ctx context.Context) Status {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := Status{
		Name:      g.name,
		Pin:       g.pin,
		SensePin:  g.sensePin,
		Available: true,
		Commanded: g.commanded,
		State:     g.commanded,
	}
	if g.sense != nil {
		st.Sensed = g.sensedLocked()
		st.State = st.Sensed
	}
	return st
}

// Unavailable is a relay that cannot be driven. Every call returns an error
// matching ErrUnavailable with the reason.
type Unavailable struct {
	err *UnavailableError
	pin string
}

var _ Relay = (*Unavailable)(nil)
var _ Reporter = (*Unavailable)(nil)

// NewUnavailable returns a relay that always fails with reason; cause may be nil.
func NewUnavailable(name, pin, reason string, cause error) *Unavailable {
	return &Unavailable{err: &UnavailableError{Relay: name, Reason: reason, Err: cause}, pin: pin}
}

// Err returns the error every call returns.
func (u *Unavailable) Err() error { return u.err }

// On implements Relay.
func (u *Unavailable) On(context.Context) error { return u.err }

// Off implements Relay.
func (u *Unavailable) Off(context.Context) error { return u.err }

// Toggle implements Relay.
func (u *Unavailable) Toggle(context.Context) (State, error) { return Unknown, u.err }

// State implements Relay.
func (u *Unavailable) State(context.Context) (State, error) { return Unknown, u.err }

// Status implements Reporter.
func (u *Unavailable) Status(context.Context) Status {
	return Status{Name: u.err.Relay, Pin: u.pin, Reason: u.err.Reason}
}
