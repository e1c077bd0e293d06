package job

// Link is the printer connection a Controller streams through; the printer
// package's Machine (or an adapter around a protocol.Conn) implements it and
// calls Attach once the firmware is ready.
type Link interface {
	// Send queues one command; the link sends queued commands ahead of the
	// job's lines. It must not block.
	Send(cmd string) error
	// SetSource starts (src non-nil) or stops pulling lines from src.
	SetSource(src Source)
	// Wake tells the link that the source has lines again.
	Wake()
}

// Source is what the link pulls job lines from (a protocol.Source after a
// one-line adapter): Next returns the next command and a tag to hand back to
// Controller.Acked, or ok=false when nothing is ready now.
type Source interface {
	Next() (cmd string, tag any, ok bool)
}
