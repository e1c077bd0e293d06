package protocol

import "errors"

// Errors that end a connection. Callers compare with errors.Is; the error
// returned by Conn.Err wraps one of these with the detail.
var (
	// ErrClosed is returned by Send and friends once the Conn has stopped,
	// and is the cause when Close was called.
	ErrClosed = errors.New("protocol: connection closed")
	// ErrFirmwareGone is returned when the firmware stays silent through
	// Options.MaxTimeouts communication timeouts in a row, or never answers
	// the handshake.
	ErrFirmwareGone = errors.New("protocol: firmware does not answer")
	// ErrFirmwareReset is returned when the firmware prints "start" in the
	// middle of a session: it rebooted and lost its state.
	ErrFirmwareReset = errors.New("protocol: firmware restarted")
	// ErrFirmwareHalted is returned when the firmware reports a fatal error
	// (Error:Printer halted, "!!", thermal runaway, MINTEMP/MAXTEMP).
	ErrFirmwareHalted = errors.New("protocol: firmware halted")
	// ErrLinkLost is returned when reading or writing the link fails
	// (cable pulled, port closed underneath).
	ErrLinkLost = errors.New("protocol: link lost")
	// ErrResendOutOfWindow is returned when the firmware asks for a line the
	// resend window no longer holds.
	ErrResendOutOfWindow = errors.New("protocol: resend request outside the window")
	// ErrQueueFull is returned by Send when the command queue holds
	// Options.QueueSize commands already.
	ErrQueueFull = errors.New("protocol: command queue full")
	// ErrBadCommand is returned by Send for a command that cannot be framed
	// (empty, or containing a line break or '*').
	ErrBadCommand = errors.New("protocol: command cannot be sent")
)
