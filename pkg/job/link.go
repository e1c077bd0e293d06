package job

// Link is the printer a Controller streams through. cmd/cuttle adapts
// printer.Machine to it. Send, Stream and StopStream may take the
// connection's locks, so the Controller calls them only from its own worker
// goroutine, never while holding its mutex; Operational, StateText,
// SetJobState and Wake must not call back into the Controller.
type Link interface {
	// Operational reports whether commands can be sent.
	Operational() bool
	// StateText is the printer's state string while no job runs
	// ("Operational", "Offline", "Error: …").
	StateText() string
	// Send queues one command ahead of the job's lines.
	Send(cmd string) error
	// Stream starts pulling lines from src; acknowledgements of its lines
	// come back through Controller.Acked. raw lines are data written to the
	// SD card, not commands: the printer's filters (M80/M81) leave them be.
	Stream(src Source, raw bool) error
	// StopStream stops pulling lines.
	StopStream()
	// Wake tells the link that the source has lines again. It must not
	// block.
	Wake()
	// SetJobState tells the printer the job's state, so that its own state
	// flags follow (Printing, Paused, …), and the state text to show
	// ("Printing from SD").
	SetJobState(s State, text string)
}

// Source is what the link pulls job lines from (a protocol.Source after a
// one-line adapter): Next returns the next command and a tag to hand back to
// Controller.Acked, or ok=false when nothing is ready now. Next never blocks.
type Source interface {
	Next() (cmd string, tag any, ok bool)
}
