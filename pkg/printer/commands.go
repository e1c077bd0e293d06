package printer

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/cuttleprint/cuttle/pkg/protocol"
)

// Command and Source are the protocol's: a job streamer hands the Machine a
// Source of Commands whose Tag it gets back when each is acknowledged.
type (
	Command = protocol.Command
	Source  = protocol.Source
)

// keepCase are commands whose parameters are text, so they are not upper-cased.
var keepCase = map[string]bool{"M23": true, "M28": true, "M30": true, "M32": true, "M117": true, "M118": true, "M928": true, "M0": true, "M1": true}

// normalize upper-cases a command (except text-carrying ones) and trims it.
func normalize(cmd string) string {
	cmd = strings.TrimSpace(cmd)
	code, _, _ := strings.Cut(cmd, " ")
	if keepCase[strings.ToUpper(code)] {
		return strings.ToUpper(code) + cmd[len(code):]
	}
	return strings.ToUpper(cmd)
}

// Send queues commands in order, after the filters. Emergency commands (M112,
// M108, M410, M876) go out at once, ahead of the queue. A command a
// StreamFilter wants drained first (M81) waits: M400 is queued and the
// filter runs once the firmware acknowledged it, so Send returns only after
// the moves queued before it finished.
func (m *Machine) Send(ctx context.Context, cmds ...string) error {
	conn, _, err := m.connIfOperational()
	if err != nil {
		return err
	}
	m.hookMu.Lock()
	filters := slices.Clone(m.filters)
	m.hookMu.Unlock()
	for _, c := range cmds {
		c = normalize(c)
		if c == "" {
			continue
		}
		if err := m.drainFor(ctx, conn, filters, c); err != nil {
			return err
		}
		send := true
		for _, f := range filters {
			ok, err := f.Intercept(ctx, c)
			if err != nil {
				return err
			}
			send = send && ok
		}
		if !send {
			continue
		}
		if err := conn.Send(c); err != nil {
			return fmt.Errorf("printer: send %q: %w", c, err)
		}
	}
	return nil
}

// Stream attaches src as the job feed: the connection pulls from it whenever
// its own queue is empty, and onAck is called (from the protocol goroutine,
// so quickly) for every acknowledged command whose Tag is not nil. The lines
// pass the registered StreamFilters first (M80/M81 switch the PSU).
func (m *Machine) Stream(src Source, onAck func(Command)) error {
	m.hookMu.Lock()
	filters := m.streamFiltersLocked()
	m.hookMu.Unlock()
	return m.stream(src, onAck, filters)
}

// StreamRaw is Stream for lines that are data, not commands to execute (a
// file written to the SD card between M28 and M29): no filter sees them.
func (m *Machine) StreamRaw(src Source, onAck func(Command)) error {
	return m.stream(src, onAck, nil)
}

func (m *Machine) stream(src Source, onAck func(Command), filters []StreamFilter) error {
	var fs *filteredSource
	if len(filters) > 0 && src != nil {
		fs = newFilteredSource(m, src, filters, onAck)
		src, onAck = fs, fs.ack
	}
	m.mu.Lock()
	conn := m.conn
	if conn == nil || !m.state.Operational() {
		m.mu.Unlock()
		return ErrNotOperational
	}
	old := m.filtered
	m.setAckLocked(onAck)
	m.filtered = fs
	m.mu.Unlock()
	conn.SetSource(src)
	if old != nil {
		old.stop()
	}
	return nil
}

// StopStream detaches the job feed.
func (m *Machine) StopStream() {
	m.mu.Lock()
	conn, old := m.conn, m.filtered
	m.setAckLocked(nil)
	m.filtered = nil
	m.mu.Unlock()
	if conn != nil {
		conn.SetSource(nil)
	}
	if old != nil {
		old.stop()
	}
}

// Wake tells the connection that the job feed has lines again.
func (m *Machine) Wake() {
	m.mu.Lock()
	conn := m.conn
	m.mu.Unlock()
	if conn != nil {
		conn.Wake()
	}
}

// FakeAck releases the oldest line in flight as if the firmware had
// acknowledged it.
func (m *Machine) FakeAck() error {
	conn, _, err := m.connIfOperational()
	if err != nil {
		return err
	}
	conn.FakeAck()
	return nil
}

var toolRe = regexp.MustCompile(`^tool(\d+)$`)

// toolIndex parses "tool3" against the profile's extruder count.
func (m *Machine) toolIndex(key string) (int, error) {
	sm := toolRe.FindStringSubmatch(key)
	if sm == nil {
		return 0, fmt.Errorf("tool %q: %w", key, ErrInvalid)
	}
	n, err := strconv.Atoi(sm[1])
	if err != nil || n >= m.Profile().Extruders {
		return 0, fmt.Errorf("tool %q: not in the profile: %w", key, ErrInvalid)
	}
	return n, nil
}

func checkTemp(what string, v float64) error {
	if math.IsNaN(v) || v < 0 || v > 500 {
		return fmt.Errorf("%s target %v: want 0..500: %w", what, v, ErrInvalid)
	}
	return nil
}

func checkOffset(what string, v float64) error {
	if math.IsNaN(v) || v < -50 || v > 50 {
		return fmt.Errorf("%s offset %v: want -50..50: %w", what, v, ErrInvalid)
	}
	return nil
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// SetToolTargets sets hotend targets, keyed "tool0".. (M104 T<n> S<t>).
func (m *Machine) SetToolTargets(ctx context.Context, targets map[string]float64) error {
	var cmds []string
	for _, k := range sortedKeys(targets) {
		n, err := m.toolIndex(k)
		if err != nil {
			return err
		}
		if err := checkTemp(k, targets[k]); err != nil {
			return err
		}
		cmds = append(cmds, fmt.Sprintf("M104 T%d S%s", n, num(targets[k])))
	}
	return m.sendOperational(ctx, cmds...)
}

// SetToolOffsets sets hotend offsets (−50..50), keyed "tool0"...
func (m *Machine) SetToolOffsets(offsets map[string]float64) error {
	for k, v := range offsets {
		if _, err := m.toolIndex(k); err != nil {
			return err
		}
		if err := checkOffset(k, v); err != nil {
			return err
		}
	}
	return m.setOffsets(offsets)
}

func (m *Machine) setOffsets(offsets map[string]float64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conn == nil || !m.state.Operational() {
		return ErrNotOperational
	}
	for k, v := range offsets {
		m.offsets[k] = v
	}
	return nil
}

// SelectTool makes tool ("tool1") the active one (T<n>).
func (m *Machine) SelectTool(ctx context.Context, tool string) error {
	n, err := m.toolIndex(tool)
	if err != nil {
		return err
	}
	return m.sendOperational(ctx, "T"+strconv.Itoa(n))
}

// Extrude extrudes amount mm (negative retracts) at speed mm/min (0: the
// profile's E speed). Refused while printing.
func (m *Machine) Extrude(ctx context.Context, amount, speed float64) error {
	if math.IsNaN(amount) || math.IsInf(amount, 0) || math.Abs(amount) > 1000 {
		return fmt.Errorf("extrude amount %v: %w", amount, ErrInvalid)
	}
	if speed == 0 {
		speed = m.Profile().SpeedE
	}
	if math.IsNaN(speed) || speed <= 0 {
		return fmt.Errorf("extrude speed %v: %w", speed, ErrInvalid)
	}
	return m.sendIdle(ctx, "G91", "M83", "G1 E"+num(amount)+" F"+num(speed), "M82", "G90")
}

// factor accepts a percentage (lo..hi) or the same as a fraction and returns
// the percentage.
func factor(what string, f float64, lo, hi float64) (float64, error) {
	if f >= lo/100 && f <= hi/100 {
		f *= 100
	}
	if math.IsNaN(f) || f < lo || f > hi {
		return 0, fmt.Errorf("%s factor %v: want %v..%v or %v..%v: %w", what, f, lo, hi, lo/100, hi/100, ErrInvalid)
	}
	return math.Round(f), nil
}

// SetFlowrate sets the extrusion factor (75..125 %, or 0.75..1.25) with M221.
func (m *Machine) SetFlowrate(ctx context.Context, f float64) error {
	p, err := factor("flowrate", f, 75, 125)
	if err != nil {
		return err
	}
	return m.sendOperational(ctx, "M221 S"+num(p))
}

// SetFeedrate sets the feed rate factor (50..200 %, or 0.5..2.0) with M220.
func (m *Machine) SetFeedrate(ctx context.Context, f float64) error {
	p, err := factor("feedrate", f, 50, 200)
	if err != nil {
		return err
	}
	return m.sendOperational(ctx, "M220 S"+num(p))
}

// SetBedTarget sets the bed target (M140).
func (m *Machine) SetBedTarget(ctx context.Context, t float64) error {
	if !m.Profile().HeatedBed {
		return ErrNoHeatedBed
	}
	if err := checkTemp("bed", t); err != nil {
		return err
	}
	return m.sendOperational(ctx, "M140 S"+num(t))
}

// SetBedOffset sets the bed offset (−50..50).
func (m *Machine) SetBedOffset(v float64) error {
	if !m.Profile().HeatedBed {
		return ErrNoHeatedBed
	}
	if err := checkOffset("bed", v); err != nil {
		return err
	}
	return m.setOffsets(map[string]float64{"bed": v})
}

// SetChamberTarget sets the chamber target (M141).
func (m *Machine) SetChamberTarget(ctx context.Context, t float64) error {
	if !m.Profile().HeatedChamber {
		return ErrNoHeatedChamber
	}
	if err := checkTemp("chamber", t); err != nil {
		return err
	}
	return m.sendOperational(ctx, "M141 S"+num(t))
}

// SetChamberOffset sets the chamber offset (−50..50).
func (m *Machine) SetChamberOffset(v float64) error {
	if !m.Profile().HeatedChamber {
		return ErrNoHeatedChamber
	}
	if err := checkOffset("chamber", v); err != nil {
		return err
	}
	return m.setOffsets(map[string]float64{"chamber": v})
}

// Jog moves the head by (or, with absolute, to) the given coordinates; nil
// axes stay. speed is mm/min (0: the profile's speed for the slowest axis
// moved). Refused while printing.
func (m *Machine) Jog(ctx context.Context, x, y, z *float64, absolute bool, speed float64) error {
	var b strings.Builder
	b.WriteString("G1")
	moved := false
	def := m.Profile().SpeedXY
	for _, a := range []struct {
		name string
		v    *float64
	}{{"X", x}, {"Y", y}, {"Z", z}} {
		if a.v == nil {
			continue
		}
		if math.IsNaN(*a.v) || math.IsInf(*a.v, 0) || math.Abs(*a.v) > 10000 {
			return fmt.Errorf("jog %s %v: %w", a.name, *a.v, ErrInvalid)
		}
		moved = true
		b.WriteString(" " + a.name + num(*a.v))
		if a.name == "Z" && m.Profile().SpeedZ < def {
			def = m.Profile().SpeedZ
		}
	}
	if !moved {
		return fmt.Errorf("jog: no axis given: %w", ErrInvalid)
	}
	if speed == 0 {
		speed = def
	}
	if math.IsNaN(speed) || speed <= 0 {
		return fmt.Errorf("jog speed %v: %w", speed, ErrInvalid)
	}
	b.WriteString(" F" + num(speed))
	if absolute {
		return m.sendIdle(ctx, "G90", b.String())
	}
	return m.sendIdle(ctx, "G91", b.String(), "G90")
}

// Home homes the given axes ("x", "y", "z").
func (m *Machine) Home(ctx context.Context, axes []string) error {
	if len(axes) == 0 {
		return fmt.Errorf("home: no axes given: %w", ErrInvalid)
	}
	cmd := "G28"
	seen := map[string]bool{}
	for _, a := range axes {
		la := strings.ToLower(a)
		if la != "x" && la != "y" && la != "z" {
			return fmt.Errorf("home axis %q: %w", a, ErrInvalid)
		}
		if !seen[la] {
			seen[la] = true
			cmd += " " + strings.ToUpper(la) + "0"
		}
	}
	return m.sendIdle(ctx, "G91", cmd, "G90")
}

// sendOperational sends commands when operational.
func (m *Machine) sendOperational(ctx context.Context, cmds ...string) error {
	return m.Send(ctx, cmds...)
}

// sendIdle sends commands when operational and not printing.
func (m *Machine) sendIdle(ctx context.Context, cmds ...string) error {
	_, st, err := m.connIfOperational()
	if err != nil {
		return err
	}
	if st != StateOperational {
		return ErrBusy
	}
	return m.Send(ctx, cmds...)
}

func sortedKeys(mp map[string]float64) []string {
	out := make([]string, 0, len(mp))
	for k := range mp {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
