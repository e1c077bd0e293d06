package push

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"sync"
)

// Retention of the shared records, per kind.
const (
	keepTemps = 1800 // 30 minutes at one sample a second, as OctoPrint's temperature cutoff
	keepLines = 300  // terminal lines and messages: OctoPrint's terminal buffer
)

// snapshot is an immutable view of the printer shared by every client: the
// encoded status and the records, each entry encoded once. Clients keep
// sequence numbers into the records.
type snapshot struct {
	status   []byte // `"state":…,"job":…,…,"markings":[…]` (the inside of an object)
	temps    record
	logs     record
	messages record

	mu     sync.Mutex      // guards bodies
	bodies map[view][]byte // state messages built from this snapshot, without serverTime
}

// view is what a state message built from a snapshot depends on, besides the
// snapshot: the kind, the client's cursors and what the client sees.
type view struct {
	kind                     string
	temps, logs, msgs        uint64
	terminal, logsOn, msgsOn bool
}

// body returns the state message for v up to (without) serverTime, built once.
func (s *snapshot) body(v view, keepLog, keepMsg func(string) bool) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.bodies[v]; ok {
		return b
	}
	b := buildBody(s, v, keepLog, keepMsg)
	if s.bodies == nil {
		s.bodies = map[view][]byte{}
	}
	s.bodies[v] = b
	return b
}

// buildBody encodes `{"<kind>":{status…,"temps":[…],"logs":[…],"messages":[…]`.
func buildBody(s *snapshot, v view, keepLog, keepMsg func(string) bool) []byte {
	b := make([]byte, 0, len(s.status)+256)
	b = append(b, `{"`...)
	b = append(b, v.kind...)
	b = append(b, `":{`...)
	b = append(b, s.status...)
	b = append(b, `,"temps":`...)
	b = appendEntries(b, s.temps.since(v.temps), nil)
	if v.terminal && v.logsOn {
		b = append(b, `,"logs":`...)
		b = appendEntries(b, s.logs.since(v.logs), keepLog)
	}
	if v.terminal && v.msgsOn {
		b = append(b, `,"messages":`...)
		b = appendEntries(b, s.messages.since(v.msgs), keepMsg)
	}
	return b
}

// record is an immutable window of encoded entries; entry i has sequence
// number first+i.
type record struct {
	first uint64
	items []entry
}

type entry struct {
	raw string // the line, for regex filters; "" for temperatures
	enc []byte // its JSON encoding
}

// end is the sequence number after the newest entry.
func (r record) end() uint64 { return r.first + uint64(len(r.items)) }

// since returns the entries with sequence numbers >= seq.
func (r record) since(seq uint64) []entry {
	if seq < r.first {
		seq = r.first
	}
	if seq >= r.end() {
		return nil
	}
	return r.items[seq-r.first:]
}

// appended returns a new record with more appended, keeping the newest keep.
func (r record) appended(more []entry, keep int) record {
	if len(more) == 0 {
		return r
	}
	all := make([]entry, 0, min(len(r.items)+len(more), keep))
	total := len(r.items) + len(more)
	drop := max(0, total-keep)
	first := r.first + uint64(drop)
	if drop < len(r.items) {
		all = append(all, r.items[drop:]...)
		all = append(all, more...)
	} else {
		all = append(all, more[drop-len(r.items):]...)
	}
	return record{first: first, items: all}
}

// refresh reads the source once and publishes a new snapshot.
func (s *Server) refresh() {
	s.feedMu.Lock()
	defer s.feedMu.Unlock()
	old := s.snap.Load()
	st := s.src.Status()
	if st.CurrentZ == nil {
		st.CurrentZ = s.currentZ.Load()
	}
	status, err := json.Marshal(st)
	if err != nil {
		s.opts.Log.Error("push: encode printer status", "err", err)
		status = old.status
	} else {
		status = status[1 : len(status)-1] // strip the braces: clients add their own fields
	}
	feed, next := s.src.Feed(s.cursor)
	s.cursor = next
	n := &snapshot{status: status, temps: old.temps, logs: old.logs, messages: old.messages}
	if len(feed.Temps) > 0 {
		more := make([]entry, 0, len(feed.Temps))
		for _, p := range feed.Temps {
			b, err := json.Marshal(p)
			if err != nil {
				s.opts.Log.Error("push: encode temperature", "err", err)
				continue
			}
			more = append(more, entry{enc: b})
		}
		n.temps = old.temps.appended(more, keepTemps)
	}
	n.logs = old.logs.appended(lineEntries(feed.Logs), keepLines)
	n.messages = old.messages.appended(lineEntries(feed.Messages), keepLines)
	s.snap.Store(n)
}

func lineEntries(lines []string) []entry {
	if len(lines) == 0 {
		return nil
	}
	out := make([]entry, len(lines))
	for i, l := range lines {
		enc, _ := jsonMarshal(l) // a string always encodes
		out[i] = entry{raw: l, enc: enc}
	}
	return out
}

// appendEntries appends `[e1,e2,…]` for the entries that pass keep (nil: all).
func appendEntries(b []byte, es []entry, keep func(string) bool) []byte {
	b = append(b, '[')
	first := true
	for _, e := range es {
		if keep != nil && !keep(e.raw) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, e.enc...)
	}
	return append(b, ']')
}

func jsonMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
