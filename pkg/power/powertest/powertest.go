// Package powertest provides a fake power.Relay for tests of code that
// switches relays: policies, API handlers, wiring.
package powertest

import (
	"context"
	"sync"

	"github.com/cuttleprint/cuttle/pkg/power"
)

// Relay is a fake relay. Lock its mutex to read or change its fields while
// other goroutines may use it; the accessor methods lock for you.
type Relay struct {
	sync.Mutex
	// S is the state: what State returns and what On, Off and Toggle set.
	S power.State
	// Err, when set, is returned by every call and the state does not change.
	Err error
	// Calls records every call by name ("on", "off", "toggle", "state").
	Calls []string
}

var _ power.Relay = (*Relay)(nil)

// New returns a fake relay in state s.
func New(s power.State) *Relay { return &Relay{S: s} }

func (r *Relay) do(ctx context.Context, call string, next func(power.State) power.State) (power.State, error) {
	r.Lock()
	defer r.Unlock()
	r.Calls = append(r.Calls, call)
	if err := ctx.Err(); err != nil {
		return power.Unknown, err
	}
	if r.Err != nil {
		return power.Unknown, r.Err
	}
	if next != nil {
		r.S = next(r.S)
	}
	return r.S, nil
}

// On implements power.Relay.
func (r *Relay) On(ctx context.Context) error {
	_, err := r.do(ctx, "on", func(power.State) power.State { return power.On })
	return err
}

// Off implements power.Relay.
func (r *Relay) Off(ctx context.Context) error {
	_, err := r.do(ctx, "off", func(power.State) power.State { return power.Off })
	return err
}

// Toggle implements power.Relay.
func (r *Relay) Toggle(ctx context.Context) (power.State, error) {
	return r.do(ctx, "toggle", func(s power.State) power.State {
		if s == power.On {
			return power.Off
		}
		return power.On
	})
}

// State implements power.Relay.
func (r *Relay) State(ctx context.Context) (power.State, error) {
	return r.do(ctx, "state", nil)
}

// Get returns the state without recording a call.
func (r *Relay) Get() power.State {
	r.Lock()
	defer r.Unlock()
	return r.S
}

// Set changes the state without recording a call, as a hand on the switch would.
func (r *Relay) Set(s power.State) {
	r.Lock()
	defer r.Unlock()
	r.S = s
}

// Switches returns the recorded calls other than "state".
func (r *Relay) Switches() []string {
	r.Lock()
	defer r.Unlock()
	var out []string
	for _, c := range r.Calls {
		if c != "state" {
			out = append(out, c)
		}
	}
	return out
}
