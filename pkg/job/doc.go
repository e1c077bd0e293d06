// Package job runs print jobs: it selects a file from the local storage,
// streams it line by line to the printer through a Link, and tracks state,
// progress, time left, pauses, cancels and the print history.
//
// # Streaming
//
// A reader goroutine owned by the running print reads the file with
// gcode.Reader, drops comments and blank lines, and queues each command with
// the file offset after it. The printer connection pulls lines through
// Next (a protocol Source) from its own goroutine; Next never blocks. Host
// commands never reach the firmware: M0/M1 and @pause pause the print on the
// host. T<n> and Z moves are tracked for ToolChange and ZChange events.
// Progress is the file offset of the last line the firmware acknowledged.
//
// # SD card
//
// The controller also follows the printer's SD card through the firmware's
// messages (Message): M20 listings, SD print progress and "Done printing
// file". An SD print is driven with M23/M24/M25/M26; TransferToSD streams a
// local file to the card between M28 and M29 with the same reader and
// source as a print.
//
// # Scripts
//
// G-code scripts run at the job's edges — beforePrintStarted,
// afterPrintDone, afterPrintCancelled, afterPrintPaused, beforePrintResumed,
// afterPrinterConnected — as Go text/templates over the tracked position.
// They are sent with Link.Send, which the connection sends ahead of any job
// line, so a pause script follows the last line sent before the pause and a
// resume script precedes the first line after it. The defaults lift and
// retract on pause, return on resume (restoring the file's G90/G91 and
// M82/M83 modes) and turn heaters, fan and motors off on cancel.
//
// # Concurrency
//
// A Controller is safe for concurrent use; one mutex guards its state. The
// connection's callbacks (Next, Acked, Action, Detach) return quickly. The
// Controller calls Link.Send, Link.Wake and Link.SetSource while holding its
// mutex, so those must not block or call back into the Controller
// (protocol.Conn's do neither).
package job
