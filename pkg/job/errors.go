package job

import "errors"

// Errors returned by Controller methods; the API maps them to 409.
var (
	// ErrNotOperational is returned when the printer is not connected and
	// ready.
	ErrNotOperational = errors.New("printer is not operational")
	// ErrBusy is returned when a print is running or paused and the request
	// needs an idle printer (select, start, delete of the selected file).
	ErrBusy = errors.New("printer is printing")
	// ErrNotPrinting is returned by Pause and Cancel when no print runs.
	ErrNotPrinting = errors.New("printer is neither printing nor paused")
	// ErrNotPaused is returned by Restart when the print is not paused.
	ErrNotPaused = errors.New("print is not paused")
	// ErrNoFile is returned by Start when no file is selected, and by the
	// SD methods for a name the card does not list.
	ErrNoFile = errors.New("no such file selected or listed")
	// ErrUnknownCommand is returned for an SD command other than init,
	// refresh or release.
	ErrUnknownCommand = errors.New("unknown command")
)
