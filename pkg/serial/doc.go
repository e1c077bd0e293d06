// Package serial finds and opens the ports a printer may hang on, with
// go.bug.st/serial underneath.
//
// List reports USB serial adapters (/dev/ttyUSB*, /dev/ttyACM*), their stable
// /dev/serial/by-id names, ports matching extra glob patterns, and any existing
// path given explicitly (a pseudo-terminal, for instance), with USB vendor and
// product IDs where the system knows them. Open opens one at a baud rate and
// returns an io.ReadWriteCloser, so package protocol never sees go.bug.st/serial.
// Detect tries ports and baud rates until a probe (by default: does the firmware
// answer M105?) succeeds.
//
// Pseudo-terminals accept any baud rate and have no modem lines: nothing here
// touches DTR or RTS, and the baud rate of a pty is only a number.
package serial
