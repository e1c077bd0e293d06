package protocol

import "strings"

// Flow accounting helpers; they run with the link state locked (linkMu).
//
// With plain ok, one line is in flight and every line draws exactly one ok:
// the oldest entry of the flight is the one an ok (or a resend request)
// belongs to.
//
// With ADVANCED_OK several lines are in flight, and the firmware's answer to a
// bad line breaks that bookkeeping: it empties its receive buffer, so the lines
// in it draw no ok at all, while the lines still on the wire are rejected one
// by one ("Resend: N" and a bare ok each). The accounting therefore leans on
// what the firmware says rather than on counting:
//
//   - "ok N<n> …" names the line it acknowledges: every entry up to and
//     including line n is done.
//   - Every resend request is followed by its own bare ok; that ok belongs to
//     a rejected line and releases nothing.
//   - When a resend is honoured, the lines from n on that are still in flight
//     are dropped from the flight (they are resent anyway). Their bytes stay
//     counted as ghost bytes until the firmware acknowledges a line from n on,
//     which it can only do after the stale ones have left its buffer.
//   - The stale lines still on the wire carry numbers beyond n, so the
//     firmware rejects them for their line number, each with a repeat of the
//     request; those repeats are swallowed (at most one per stale line). A
//     rejection for a bad checksum is always the resent line's own.

// popFront removes and returns the oldest entry of the flight.
func (c *Conn) popFront() flight {
	s := &c.st
	f := s.inflight[0]
	copy(s.inflight, s.inflight[1:])
	s.inflight = s.inflight[:len(s.inflight)-1]
	s.inflightB -= f.size
	return f
}

// ack reports a finished entry to the observer, with the comment lines that
// waited for it.
func (c *Conn) ack(f flight) {
	s := &c.st
	if f.rejected {
		return
	}
	if !f.internal {
		c.opts.Observer.Acked(f.cmd)
	}
	if f.n >= 0 {
		if h := &s.hist[f.n%len(s.hist)]; h.n == f.n && len(h.after) > 0 {
			for _, a := range h.after {
				c.opts.Observer.Acked(a)
			}
			h.after = nil
		}
	}
}

// advancedOk accounts for an ok from ADVANCED_OK firmware.
func (c *Conn) advancedOk(m Ok) {
	s := &c.st
	if s.rejections > 0 {
		s.rejections-- // the bare ok after a resend request
		return
	}
	var match func(f flight) bool
	switch {
	case m.N >= 0:
		match = func(f flight) bool { return f.n == m.N }
	case m.Temps != nil:
		// M105 answers "ok T:…" without the ADVANCED_OK fields.
		match = func(f flight) bool { return isM105(f.cmd.Text) }
	default:
		// A bare ok: an unnumbered (emergency) line's, or the answer to a
		// fragment of a damaged line that the firmware took for a command.
		match = func(f flight) bool { return f.n < 0 }
	}
	idx := -1
	for i, f := range s.inflight {
		if match(f) {
			idx = i
			break
		}
	}
	if idx < 0 {
		c.spurious.Add(1)
		return
	}
	// The firmware works in order: what was sent before is done too.
	for i := 0; i <= idx; i++ {
		c.ack(c.popFront())
	}
	if m.N >= 0 && s.ghostB > 0 && m.N >= s.swallowN {
		s.ghostB, s.swallowLeft = 0, 0
	}
}

func isM105(cmd string) bool { return cmd == "M105" || strings.HasPrefix(cmd, "M105 ") }

// swallowResend counts a resend request of ADVANCED_OK firmware and reports
// whether it only repeats the one being answered: a line-number rejection of
// a line that was already on its way when the request was honoured. A
// checksum rejection is never a repeat: stale lines carry numbers beyond the
// one asked for, so they fail the line-number check first.
func (c *Conn) swallowResend(n int) bool {
	s := &c.st
	s.rejections++
	if s.lastErrLineNo && s.swallowLeft > 0 && n == s.swallowN {
		s.swallowLeft--
		c.drain()
		return true
	}
	return false
}

// drain holds lines back for ResendDrain.
func (c *Conn) drain() {
	if c.opts.ResendDrain > 0 {
		c.st.drainUntil = c.opts.Clock.Now().Add(c.opts.ResendDrain)
	}
}

// dropStale removes the entries from line n on from the flight after a resend
// request for n was honoured, and counts how many rejections may still follow.
func (c *Conn) dropStale(n int) {
	s := &c.st
	keep := s.inflight[:0]
	dropped, bytes := 0, 0
	for _, f := range s.inflight {
		if f.n >= n {
			dropped++
			bytes += f.size
			continue
		}
		keep = append(keep, f)
	}
	s.inflight = keep
	s.inflightB -= bytes
	s.ghostB += bytes
	s.swallowN = n
	// Each dropped line but the one just rejected may still draw a repeat.
	s.swallowLeft = max(0, dropped-1)
	if s.swallowLeft > 0 {
		c.drain()
	}
}
