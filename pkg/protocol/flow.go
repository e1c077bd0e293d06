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
//   - "ok T:…" (M105's answer, without the ADVANCED_OK fields) belongs to the
//     oldest M105 not yet accounted for, released or in flight.
//
// A timeout takes the oldest line out of the flight, in case its ok was lost,
// but cannot tell that from the line itself having been lost (flushed with
// the receive buffer after an error on another line, its own rejection taken
// for a repeat). The firmware asks for a lost line only when a later numbered
// line arrives, and at the end of a stream none may come. So:
//
//   - The released line is not reported yet. It is reported once the firmware
//     acknowledges a numbered line sent after it: "ok N<m>" for m at or beyond
//     it, or the "ok T:" of a numbered M105 sent after it. The firmware only
//     accepts lines in order, so either proves it has the released line; a
//     bare ok proves nothing (unnumbered lines skip the line-number check).
//   - A resend request from n drops the released lines from n on: their
//     resent copies are reported instead, once.
//   - Until no released line is left, every timeout pokes with a numbered
//     M105, even with nothing in flight, so a lost line is always asked for
//     again.
//   - A line-number reset (M110) waits until no numbered line is in flight
//     or released: the firmware would accept it without a lost line.

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

// release takes the oldest entry out of the flight after a timeout. A
// numbered line waits in s.released for the firmware to confirm it.
func (c *Conn) release() {
	f := c.popFront()
	if f.n < 0 || f.rejected {
		// An unnumbered line cannot be asked for again (and the firmware's
		// emergency parser acted on it at once); a rejected one is being
		// resent already.
		c.ack(f)
		return
	}
	c.st.released = append(c.st.released, f)
}

// confirm reports the released lines numbered up to n, once the firmware has
// shown that it accepted line n. It reports whether there were any.
func (c *Conn) confirm(n int) bool {
	s := &c.st
	i := 0
	for i < len(s.released) && s.released[i].n <= n {
		c.ack(s.released[i])
		i++
	}
	s.released = dropFirst(s.released, i)
	return i > 0
}

// unrelease forgets the released lines from n on: the firmware asks for them
// again, and their resent copies are reported when acknowledged.
func (c *Conn) unrelease(n int) {
	s := &c.st
	i := 0
	for i < len(s.released) && s.released[i].n < n {
		i++
	}
	clear(s.released[i:]) // drop the commands' tags with them
	s.released = s.released[:i]
}

// dropFirst removes the first i entries of fs in place.
func dropFirst(fs []flight, i int) []flight {
	k := copy(fs, fs[i:])
	clear(fs[k:])
	return fs[:k]
}

// advancedOk accounts for an ok from ADVANCED_OK firmware.
func (c *Conn) advancedOk(m Ok) {
	s := &c.st
	if s.rejections > 0 {
		s.rejections-- // the bare ok after a resend request
		return
	}
	var match func(f flight) bool
	confirmed := false
	switch {
	case m.N >= 0:
		// Released lines precede every line in flight: the firmware has them.
		confirmed = c.confirm(m.N)
		match = func(f flight) bool { return f.n == m.N }
	case m.Temps != nil:
		// M105 answers "ok T:…" without the ADVANCED_OK fields. A released
		// M105 (a poke, say) is older than any in flight: the answer is its.
		for _, f := range s.released {
			if isM105(f.cmd.Text) {
				c.confirm(f.n)
				return
			}
		}
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
		if !confirmed {
			c.spurious.Add(1)
		}
		return
	}
	if f := s.inflight[idx]; m.Temps != nil && f.n >= 0 {
		// A numbered M105 ran, so every released line before it did.
		c.confirm(f.n)
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
