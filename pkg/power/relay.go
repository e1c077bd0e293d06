package power

import (
	"context"
	"fmt"
)

// State is the state of a relay as cuttle knows it.
type State int

// Relay states. Unknown is reported when cuttle has not driven the relay yet
// (start-up "keep") and no sense line tells the truth.
const (
	Unknown State = iota
	Off
	On
)

// String returns "unknown", "off" or "on".
func (s State) String() string {
	switch s {
	case Off:
		return "off"
	case On:
		return "on"
	default:
		return "unknown"
	}
}

// IsOn reports whether s is On.
func (s State) IsOn() bool { return s == On }

// Relay is a switched load: a power supply, a light, a fan. Implementations
// are safe for concurrent use. Errors matching ErrUnavailable mean the relay
// cannot be driven and carry the reason.
type Relay interface {
	// On closes the relay so the load is powered.
	On(ctx context.Context) error
	// Off opens the relay.
	Off(ctx context.Context) error
	// Toggle switches the relay to the opposite of State (Unknown counts
	// as off, so it switches on) and returns the commanded state.
	Toggle(ctx context.Context) (State, error)
	// State reports the relay's state: the sense line when one is wired,
	// else the last commanded state.
	State(ctx context.Context) (State, error)
}

// Status is a relay's full report, for listings.
type Status struct {
	Name      string
	Pin       string // output line name; empty for relays that have none
	SensePin  string // sense line name; empty when none is wired
	Available bool
	Reason    string // why the relay is unavailable; empty when available
	State     State  // what State returns (Unknown when unavailable)
	Commanded State  // last state cuttle drove; Unknown before the first
	Sensed    State  // state read from the sense line; Unknown without one
}

// Mismatch reports whether a sense line disagrees with the commanded state,
// for example a PSU that did not come up.
func (s Status) Mismatch() bool {
	return s.SensePin != "" && s.Commanded != Unknown && s.Sensed != s.Commanded
}

// Reporter is implemented by relays that can describe themselves beyond their
// State; Bank.Status uses it when present.
type Reporter interface {
	Status(ctx context.Context) Status
}

// Action is a switching command: on, off or toggle.
type Action string

// The actions understood by Bank.Switch.
const (
	ActionOn     Action = "on"
	ActionOff    Action = "off"
	ActionToggle Action = "toggle"
)

// ParseAction parses "on", "off" or "toggle".
func ParseAction(s string) (Action, error) {
	switch a := Action(s); a {
	case ActionOn, ActionOff, ActionToggle:
		return a, nil
	}
	return "", fmt.Errorf("%w %q (want on, off or toggle)", ErrUnknownAction, s)
}

// apply runs a on r and returns the state State reports afterwards.
func apply(ctx context.Context, r Relay, a Action) (State, error) {
	var err error
	switch a {
	case ActionOn:
		err = r.On(ctx)
	case ActionOff:
		err = r.Off(ctx)
	case ActionToggle:
		_, err = r.Toggle(ctx)
	default:
		return Unknown, fmt.Errorf("%w %q", ErrUnknownAction, string(a))
	}
	if err != nil {
		return Unknown, err
	}
	return r.State(ctx)
}
