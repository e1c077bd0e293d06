// Package protocol speaks the line protocol of RepRap-style printer firmware
// (Marlin, Prusa, RepRapFirmware, Smoothieware, Klipper's serial emulation) over
// any io.ReadWriteCloser: a serial port, a pseudo-terminal, or a net.Pipe in tests.
//
// # Framing
//
// Every command goes out as "N<line> <command>*<checksum>\n", where the checksum
// is the XOR of every byte before the '*'. "M110 N<n>" resets the numbering: it is
// itself sent as line n and the next command is line n+1. The last Window lines
// (at least 100) are kept so that a "Resend: N" or "rs N" request can be answered.
//
// # Flow control
//
// Firmware that answers a bare "ok" gets exactly one line in flight. Firmware that
// reports ADVANCED_OK ("ok N123 P15 B3") gets several: never more lines since the
// last report than the free command slots it reported (B), and fewer
// unacknowledged bytes than its receive buffer (Options.RxBuffer, 128 by default:
// Marlin's ring of 128 bytes holds 127).
// Every line draws exactly one "ok"; an "ok" that follows a resend request belongs to
// the rejected line, so it frees that line's slot and no other.
//
// # Invariants
//
//   - The line numbers, the resend window and the in-flight accounting change
//     only under one lock, held by one of two goroutines: the reader, which
//     accounts for each reply and at once writes the lines it made room for
//     (a hand-off to another goroutine would add a scheduler wake-up to every
//     line's round trip), and the loop, which acts on queued commands,
//     emergencies and the clock. Neither ever waits on the Observer beyond
//     the time its methods take: observers must return quickly and must not
//     call back into the Conn's blocking methods.
//   - Emergency commands (M112, M108, M410, M876) are written ahead of every
//     queued command, unnumbered, so Marlin's EMERGENCY_PARSER sees them at
//     once.
//   - After a fatal firmware error, a firmware restart ("start" mid-session), a
//     lost link or the firmware falling silent, the Conn writes nothing more and
//     reports the cause once through Observer.Closed and Err.
//
// The protocol package knows no jobs, files, settings or events: those live in
// package printer, which drives a Conn.
package protocol
