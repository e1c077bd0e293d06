package printer

import (
	"strconv"

	"github.com/cuttleprint/cuttle/pkg/protocol"
)

// Temp is one heater as the API shows it: actual and target in °C (target
// nil until known) and the user's offset.
type Temp struct {
	Actual float64  `json:"actual"`
	Target *float64 `json:"target"`
	Offset float64  `json:"offset"`
}

// HistoryTemp is one heater in a history point.
type HistoryTemp struct {
	Actual float64  `json:"actual"`
	Target *float64 `json:"target"`
}

// TempPoint is one history entry: Unix seconds and every heater by key
// ("tool0", "bed", "chamber").
type TempPoint struct {
	Time    int64
	Heaters map[string]HistoryTemp
}

// history is a ring of temperature points.
type history struct {
	points []TempPoint
	next   int
	full   bool
	seq    uint64 // points added so far
}

func newHistory(n int) history { return history{points: make([]TempPoint, n)} }

func (h *history) add(p TempPoint) {
	if len(h.points) == 0 {
		return
	}
	h.points[h.next] = p
	h.seq++
	h.next++
	if h.next == len(h.points) {
		h.next, h.full = 0, true
	}
}

// last returns up to limit newest points, oldest first (limit <= 0: all).
func (h *history) last(limit int) []TempPoint {
	n := h.next
	if h.full {
		n = len(h.points)
	}
	if limit > 0 && limit < n {
		n = limit
	}
	out := make([]TempPoint, n)
	for i := 0; i < n; i++ {
		idx := (h.next - n + i + len(h.points)) % len(h.points)
		out[i] = h.points[idx]
	}
	return out
}

// since returns the points added after the first from ones (those still
// kept), oldest first, and the number to continue from.
func (h *history) since(from uint64) ([]TempPoint, uint64) {
	if from >= h.seq {
		return nil, h.seq
	}
	n := h.seq - from
	if n > uint64(len(h.points)) {
		n = uint64(len(h.points))
	}
	return h.last(int(n)), h.seq
}

// applyTemps folds a report into temps (keyed "tool0", "bed", ...), keeping
// targets the report does not carry.
func applyTemps(temps map[string]*Temp, r protocol.Temperatures) {
	set := func(key string, rd protocol.Reading) {
		t := temps[key]
		if t == nil {
			t = &Temp{}
			temps[key] = t
		}
		t.Actual = rd.Actual
		if rd.Target != nil {
			v := *rd.Target
			t.Target = &v
		}
	}
	for i, rd := range r.Tools {
		set(toolKey(i), rd)
	}
	if r.Bed != nil {
		set("bed", *r.Bed)
	}
	if r.Chamber != nil {
		set("chamber", *r.Chamber)
	}
}

func toolKey(i int) string { return "tool" + strconv.Itoa(i) }
