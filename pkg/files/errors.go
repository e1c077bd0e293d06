package files

import "errors"

// Errors returned by Storage. Callers test them with errors.Is; the returned
// errors wrap them with the operation and the path.
var (
	// ErrInvalidPath is returned when a path is absolute, contains "..", NUL
	// or control characters, has a component over 255 bytes, sanitises to
	// nothing, or resolves out of the storage root.
	ErrInvalidPath = errors.New("invalid path")
	// ErrNotFound is returned when no file or folder exists at a path.
	ErrNotFound = errors.New("not found")
	// ErrExists is returned when a target exists and may not be replaced.
	ErrExists = errors.New("already exists")
	// ErrInUse is returned when the file (or a file inside the folder) is
	// held by a running job.
	ErrInUse = errors.New("in use by the current job")
	// ErrUnsupportedType is returned for a file name without a machine-code
	// extension.
	ErrUnsupportedType = errors.New("not a machine-code file (.gcode, .gco, .g)")
	// ErrNotFolder is returned when a folder was expected and a file found.
	ErrNotFolder = errors.New("not a folder")
)
