// Package printer holds the Machine: the one printer cuttle drives, its
// connection lifecycle, state, temperatures and command queue.
//
// A Machine owns at most one protocol.Conn at a time. Connect opens a port
// (a serial port, or a built-in one such as "VIRTUAL" that the caller supplies
// through Ports), shakes hands, asks for the firmware's capabilities (M115),
// switches temperature auto-reporting on when the firmware offers it and polls
// M105 otherwise. Everything the firmware says updates the Machine's snapshot;
// changes are announced on the event bus (events.StateChanged with Source
// "printer", plus OctoPrint's Connected, PrinterStateChanged, Error,
// FirmwareData, PositionUpdate and the G-code events such as Home or Waiting).
//
// # States
//
// State strings and the eleven flags are OctoPrint's: Offline, Opening serial
// connection, Detecting serial connection, Connecting, Operational, Printing,
// Pausing, Paused, Resuming, Cancelling, Finishing, "Error: <text>" (the
// firmware reported a fatal error or restarted) and Offline after error (the
// link was lost or the firmware fell silent). A job may show its own text for
// a job state (SetJobStateText: "Printing from SD", "Sending file to SD").
//
// # Concurrency
//
// A Machine is safe for concurrent use. Machine.mu guards the snapshot (state,
// temperatures, history, terminal log, firmware data); it is held only to copy
// or update values, never across I/O, event publishing or JSON encoding, so the
// protocol's reader and writer goroutines never wait on an HTTP handler. The
// connection goroutine (one per connection, started by Connect and stopped by
// Disconnect or Close) owns the port while it is open.
//
// # Extension points
//
// Hooks plug in without touching the core: BeforeConnect functions run before a
// port is opened (a PSU relay switching on), Filters see every command before it
// is queued and may swallow it (M80/M81 handled by a relay), and a job streamer
// feeds lines through Stream and hears each acknowledgement. A Filter that is
// also a StreamFilter sees the streamed job lines too, and may ask for the
// firmware's moves to finish first (an M400 acknowledged before it runs, as M81
// needs); StreamRaw streams data (a file going to the SD card) past them.
package printer
