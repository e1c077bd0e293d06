package printer

// terminal is a ring of the newest terminal lines ("Send: …", "Recv: …"),
// each with a sequence number so readers can ask for what is new.
type terminal struct {
	lines []string
	seq   uint64 // sequence number of the next line
}

func newTerminal(n int) terminal { return terminal{lines: make([]string, n)} }

func (t *terminal) add(line string) {
	if len(t.lines) == 0 {
		return
	}
	t.lines[t.seq%uint64(len(t.lines))] = line
	t.seq++
}

// since returns the lines with sequence numbers >= from that are still held,
// and the sequence number to ask from next time.
func (t *terminal) since(from uint64) ([]string, uint64) {
	n := uint64(len(t.lines))
	if n == 0 {
		return nil, t.seq
	}
	if t.seq > n && from < t.seq-n {
		from = t.seq - n
	}
	if from > t.seq {
		from = t.seq
	}
	out := make([]string, 0, t.seq-from)
	for s := from; s < t.seq; s++ {
		out = append(out, t.lines[s%n])
	}
	return out, t.seq
}
