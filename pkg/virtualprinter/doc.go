// Package virtualprinter simulates a 3D printer running Marlin 2.1.2.4 on an ATmega2560
// with Marlin's default buffers, for tests, benchmarks and the built-in VIRTUAL port.
//
// A Printer is the firmware. It runs on any io.ReadWriter (a net.Pipe in unit tests) with
// Serve, or behind a pseudo-terminal with OpenPTY, which a host opens like a serial port.
// It shares no code with the host side (packages protocol and printer): its line parsing is
// its own, so the host's framing bugs show up instead of cancelling out.
//
//	p := virtualprinter.New(virtualprinter.Config{Baud: 115200, AdvancedOK: true})
//	t, err := virtualprinter.OpenPTY(ctx, p, "/tmp/printer") // host opens /tmp/printer
//	...
//	defer t.Close()
//
// # Behaviour
//
// Like the real firmware it prints "start" and a banner at boot; takes commands into a
// command buffer of Config.BufSize lines and moves into a planner of Config.PlannerSize
// blocks; answers "ok" once a command has executed (a move once it is in the planner), with
// "ok N<line> P<planner free> B<buffer free>" under ADVANCED_OK; checks line numbers and
// XOR checksums and answers bad lines with "Error:checksum mismatch, Last Line: N" or
// "Error:Line Number is not Last Line Number+1, Last Line: N", then "Resend: N+1" and a
// bare "ok", discarding what was in the receive buffer; reports unknown commands with
// `echo:Unknown command: "M9999"`; prints "echo:busy: processing" every 2 s while a command
// blocks (G28, M109, M190, M400, G4, a move waiting for a planner slot); heats and cools
// with a first-order thermal model (M104, M109, M140, M190, M105, M155 auto-report); times
// moves from feedrate and acceleration (G0, G1, G2/G3 arcs in 1 mm segments, G28, G90,
// G91, G92, M82, M83, M203, M204, M220, M221); emulates an SD card (M20 with L, M21-M30, M27 S auto-report) and prints from
// it; answers M114, M115 (with Cap: lines), M118 (A1 sends host action commands), M0/M1
// (host prompt, released by M108 or M876); and halts on M112.
//
// The emergency parser sees every received byte before the receive buffer, so M108, M112,
// M410 and M876 act at once even when the buffers are full. M112 prints
// "echo:M112 Shutdown", "Error:Printer halted. kill() called!" and "//action:poweroff",
// then the firmware is silent until it is served again (the port is reopened).
//
// # Link timing
//
// Config.Baud caps each direction at Baud/10 bytes per second, and the firmware spends
// Config.Latency on each command. The receive buffer holds Config.RxBuffer-1 bytes (127 by
// default, as Marlin's ring): bytes that arrive while it is full are lost, and the damaged
// line draws a Resend, as on hardware. The firmware, like Marlin on AVR, has no transmit
// buffer: its output is paced at the link rate.
//
// Simulated durations (moves, heating, dwell, keepalive and auto-report intervals) run
// Config.TimeScale times faster than real time; link timing is never scaled. Waits are
// scheduled from ideal times (when a byte would have arrived, when a reply would have been
// ready), so timers that wake late on a loaded machine are made up instead of adding up;
// Config.PreciseTiming additionally sleeps the last stretch of each link wait with the
// kernel's nanosleep, which wakes within tens of microseconds where timers may be a
// millisecond late.
//
// # Faults
//
// Faults are injected at runtime: SetCorruptRate (bit flips in received bytes),
// SetDropOKRate and DropNextOK (lost acknowledgements), SpuriousResend (an intact line is
// rejected), Reset (the firmware reboots and forgets line numbers), Disconnect (the link
// closes), ThermalRunaway (an error, then a halt) and SendAction (a host action command).
//
// # Concurrency
//
// A Printer serves one link at a time: a new Serve takes over from a running one, which
// returns ErrReplaced. While serving, three goroutines run: the reader (the UART) fills the
// receive buffer, the firmware loop owns all firmware state, and a watcher unblocks the
// link when the session ends; Serve returns after all three have stopped. Executed,
// the fault methods and the SD card methods are safe to call from any goroutine.
package virtualprinter
