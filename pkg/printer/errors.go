package printer

import "errors"

// Errors returned by Machine methods. The API maps ErrNotOperational,
// ErrBusy, ErrNoHeatedBed and ErrNoHeatedChamber to 409 and ErrInvalid to 400.
var (
	// ErrNotOperational is returned when a command needs a connected,
	// operational printer.
	ErrNotOperational = errors.New("printer is not operational")
	// ErrBusy is returned for manual moves and extrusion while printing.
	ErrBusy = errors.New("printer is busy printing")
	// ErrNoHeatedBed is returned for bed commands when the profile has no heated bed.
	ErrNoHeatedBed = errors.New("printer profile has no heated bed")
	// ErrNoHeatedChamber is returned for chamber commands when the profile has
	// no heated chamber.
	ErrNoHeatedChamber = errors.New("printer profile has no heated chamber")
	// ErrInvalid is returned (wrapped, naming the value) for a bad port, baud
	// rate, tool, axis, temperature or factor.
	ErrInvalid = errors.New("invalid value")
)
