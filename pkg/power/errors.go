package power

import (
	"errors"
	"fmt"
)

// Errors returned by this package; test for them with errors.Is.
var (
	// ErrUnavailable is matched by errors from a relay that cannot be driven:
	// no GPIO on this host, an unknown line, permission denied, or a failed
	// write. The error text carries the reason.
	ErrUnavailable = errors.New("power: relay unavailable")

	// ErrUnknownRelay is returned when a Bank is asked for a name it does
	// not hold.
	ErrUnknownRelay = errors.New("power: unknown relay")

	// ErrDuplicateRelay is returned when a Bank is given a name twice.
	ErrDuplicateRelay = errors.New("power: duplicate relay")

	// ErrInvalidConfig is returned when a relay or policy configuration is
	// malformed.
	ErrInvalidConfig = errors.New("power: invalid config")

	// ErrNotPowered is returned by Policy.BeforeConnect and BeforePrint when
	// the PSU was switched on but its sense line still reads off after the
	// settle time.
	ErrNotPowered = errors.New("power: supply did not come on")

	// ErrUnknownAction is returned by ParseAction for anything but on, off
	// and toggle.
	ErrUnknownAction = errors.New("power: unknown action")
)

// UnavailableError says why a relay cannot be driven. It matches
// ErrUnavailable with errors.Is and unwraps to the underlying cause, if any.
type UnavailableError struct {
	Relay  string // relay name from the config
	Reason string // human-readable reason, shown to API clients
	Err    error  // underlying cause, may be nil
}

// Error implements error.
func (e *UnavailableError) Error() string {
	return fmt.Sprintf("power: relay %q unavailable: %s", e.Relay, e.Reason)
}

// Is reports whether target is ErrUnavailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap returns the underlying cause.
func (e *UnavailableError) Unwrap() error { return e.Err }
