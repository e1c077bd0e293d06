package virtualprinter

import (
	"fmt"
	"math"
	"time"
)

// Axes in the order Marlin reports them.
const (
	axX = iota
	axY
	axZ
	axE
	numAxes
)

var axisLetters = [numAxes]byte{'X', 'Y', 'Z', 'E'}

// Marlin's default motion settings (Configuration.h of 2.1.2.4).
var (
	defaultStepsPerMM = [numAxes]float64{80, 80, 400, 500}
	defaultMaxFeed    = [numAxes]float64{300, 300, 5, 25} // mm/s
	homingFeed        = [3]float64{50, 50, 4}             // mm/s
	// powerOnPosition is where the head physically is at power-on, so G28 takes a while.
	powerOnPosition = [numAxes]float64{110, 110, 5, 0}
)

// motion is the planner with the machine position. The planner holds the simulated end
// times of its blocks; a block is done once the simulated clock passes its end.
type motion struct {
	pos       [numAxes]float64 // logical position (what M114 reports)
	phys      [numAxes]float64 // physical head position, for homing times
	count     [numAxes]float64 // stepper position in mm since power-on or homing
	relative  bool             // G91
	relativeE bool             // M83
	unit      float64          // 1 for G21 (mm), 25.4 for G20 (inches)
	feed      float64          // mm/min
	feedPct   float64          // M220
	flowPct   float64          // M221
	fanSpeed  int              // M106, 0..255
	maxFeed   [numAxes]float64 // M203, mm/s
	accel     float64          // M204 P/S, mm/s²
	travel    float64          // M204 T, mm/s²
	blocks    []time.Duration  // simulated end times of queued blocks, oldest first
}

func newMotion() *motion {
	return &motion{
		phys:    powerOnPosition,
		unit:    1,
		feed:    1500,
		feedPct: 100,
		flowPct: 100,
		maxFeed: defaultMaxFeed,
		accel:   3000,
		travel:  3000,
	}
}

// planned is the number of blocks in the planner at simulated time now.
func (m *motion) planned(now time.Duration) int {
	i := 0
	for i < len(m.blocks) && m.blocks[i] <= now {
		i++
	}
	if i > 0 {
		m.blocks = append(m.blocks[:0], m.blocks[i:]...)
	}
	return len(m.blocks)
}

// drainedAt is the simulated time the planner runs empty.
func (m *motion) drainedAt(now time.Duration) time.Duration {
	if len(m.blocks) == 0 {
		return now
	}
	return max(now, m.blocks[len(m.blocks)-1])
}

func (m *motion) addBlock(now, d time.Duration) {
	m.blocks = append(m.blocks, m.drainedAt(now)+d)
}

// quickStop is M410: drop every planned block.
func (m *motion) quickStop(time.Duration) { m.blocks = m.blocks[:0] }

// moveTime is the duration of a trapezoidal move of dist mm at cruise speed v mm/s with
// acceleration a mm/s², starting and ending at rest.
func moveTime(dist, v, a float64) time.Duration {
	if dist <= 0 || v <= 0 {
		return 0
	}
	var s float64
	if a <= 0 || dist >= v*v/a {
		s = dist / v
		if a > 0 {
			s += v / a
		}
	} else {
		s = 2 * math.Sqrt(dist/a)
	}
	return time.Duration(s * float64(time.Second))
}

// positionLine is Marlin's report_current_position: "X:0.00 Y:0.00 Z:0.00 E:0.00 Count X:0 Y:0 Z:0".
func (m *motion) positionLine() string {
	return fmt.Sprintf("X:%.2f Y:%.2f Z:%.2f E:%.2f Count X:%d Y:%d Z:%d",
		m.pos[axX], m.pos[axY], m.pos[axZ], m.pos[axE],
		int(math.Round(m.count[axX]*defaultStepsPerMM[axX])),
		int(math.Round(m.count[axY]*defaultStepsPerMM[axY])),
		int(math.Round(m.count[axZ]*defaultStepsPerMM[axZ])))
}

// waitPlannerEmpty is planner.synchronize().
func waitPlannerEmpty(s *session) error {
	return s.waitFor(busyProcessing, func() (bool, time.Duration) {
		now := s.now()
		if s.mo.planned(now) == 0 {
			return true, 0
		}
		return false, s.mo.drainedAt(now) - now
	})
}

// moveTarget computes the target of G0-G3 from the axis words and the position modes, and
// takes a new feedrate from F.
func moveTarget(s *session, c command) [numAxes]float64 {
	m := s.mo
	target := m.pos
	for a := range numAxes {
		v, ok := c.param(axisLetters[a])
		if !ok {
			continue
		}
		f := c.float(axisLetters[a], math.NaN())
		if v == "" || math.IsNaN(f) {
			continue
		}
		f *= m.unit
		if m.relative || (a == axE && m.relativeE) {
			target[a] += f
		} else {
			target[a] = f
		}
	}
	if f := c.float('F', 0); f > 0 {
		m.feed = f * m.unit
	}
	return target
}

// move is G0/G1: a straight move into one planner block.
func move(s *session, c command) error {
	m := s.mo
	target := moveTarget(s, c)
	d := delta(m.pos, target)
	dist := math.Sqrt(d[axX]*d[axX] + d[axY]*d[axY] + d[axZ]*d[axZ])
	return queueMove(s, target, dist, 1)
}

func delta(from, to [numAxes]float64) [numAxes]float64 {
	var d [numAxes]float64
	for a := range numAxes {
		d[a] = to[a] - from[a]
	}
	return d
}

// Marlin's arc settings (ARC_SUPPORT, MAX_ARC_SEGMENT_MM).
const maxArcSegment = 1.0

// arc is G2 (clockwise) / G3: an arc in the XY plane around the centre at offset I J from
// the start, or of radius R, cut into segments of at most 1 mm as Marlin's plan_arc does,
// each taking a planner slot.
func arc(s *session, c command, clockwise bool) (bool, error) {
	m := s.mo
	target := moveTarget(s, c)
	x0, y0 := m.pos[axX], m.pos[axY]
	x1, y1 := target[axX], target[axY]
	i, j := c.float('I', 0)*m.unit, c.float('J', 0)*m.unit
	if c.has('R') {
		r := c.float('R', 0) * m.unit
		dx, dy := x1-x0, y1-y0
		d := math.Hypot(dx, dy)
		if r == 0 || d == 0 || math.Abs(r) < d/2 {
			s.send("Error:G2/G3 bad parameters")
			return true, nil
		}
		e := 1.0
		if clockwise != (r < 0) {
			e = -1
		}
		h := math.Sqrt(r*r - d*d/4)
		cx, cy := (x0+x1)/2+e*h*(-dy/d), (y0+y1)/2+e*h*(dx/d)
		i, j = cx-x0, cy-y0
	}
	if i == 0 && j == 0 {
		s.send("Error:G2/G3 bad parameters")
		return true, nil
	}
	cx, cy := x0+i, y0+j
	r := math.Hypot(i, j)
	a0, a1 := math.Atan2(y0-cy, x0-cx), math.Atan2(y1-cy, x1-cx)
	sweep := a1 - a0
	if clockwise {
		sweep = -sweep
	}
	for sweep <= 1e-9 {
		sweep += 2 * math.Pi // same start and end: a full circle
	}
	dz := target[axZ] - m.pos[axZ]
	length := math.Hypot(r*sweep, dz)
	return true, queueMove(s, target, length, max(1, int(math.Ceil(length/maxArcSegment))))
}

// queueMove plans a move of dist mm (the E distance when no other axis moves) to target,
// split into segments planner blocks, waiting for a free slot before each.
func queueMove(s *session, target [numAxes]float64, dist float64, segments int) error {
	m := s.mo
	d := delta(m.pos, target)
	if dist < 1e-6 {
		dist = math.Abs(d[axE])
	}
	if dist < 1e-6 {
		m.pos = target
		return nil
	}
	v := m.feed / 60 * m.feedPct / 100
	for a := range numAxes {
		if da := math.Abs(d[a]); da > 1e-9 {
			v = math.Min(v, m.maxFeed[a]*dist/da)
		}
	}
	accel := m.travel
	if d[axE] != 0 {
		accel = m.accel
	}
	per := moveTime(dist, v, accel) / time.Duration(segments)
	for range segments {
		if err := s.waitFor(busyProcessing, func() (bool, time.Duration) {
			now := s.now()
			if s.mo.planned(now) < s.cfg.PlannerSize-1 {
				return true, 0
			}
			return false, s.mo.blocks[0] - now
		}); err != nil {
			return err
		}
		m.addBlock(s.now(), per)
	}
	for a := range numAxes {
		m.count[a] += d[a]
		m.phys[a] += d[a]
	}
	m.pos = target
	return nil
}

// home is G28: wait for the planner, drive the named axes (all when none is named) to
// their endstops one after the other, and report the position.
func home(s *session, c command) error {
	if err := waitPlannerEmpty(s); err != nil {
		return err
	}
	m := s.mo
	all := !c.has('X') && !c.has('Y') && !c.has('Z')
	var d time.Duration
	for a := range 3 {
		if !all && !c.has(axisLetters[a]) {
			continue
		}
		secs := math.Abs(m.phys[a])/homingFeed[a] + 0.4 // travel, then bump and re-approach
		d += time.Duration(secs * float64(time.Second))
	}
	end := s.now() + d
	if err := s.waitFor(busyProcessing, func() (bool, time.Duration) {
		now := s.now()
		return now >= end, end - now
	}); err != nil {
		return err
	}
	for a := range 3 {
		if all || c.has(axisLetters[a]) {
			m.pos[a], m.phys[a], m.count[a] = 0, 0, 0
		}
	}
	s.send(m.positionLine())
	return nil
}

// setPosition is G92.
func setPosition(s *session, c command) {
	m := s.mo
	for a := range numAxes {
		if v, ok := c.param(axisLetters[a]); ok && v != "" {
			m.pos[a] = c.float(axisLetters[a], m.pos[a]) * m.unit
		}
	}
}

// dwell is G4 P<ms> / S<s>.
func dwell(s *session, c command) error {
	if err := waitPlannerEmpty(s); err != nil {
		return err
	}
	d := time.Duration(c.float('P', 0) * float64(time.Millisecond))
	if c.has('S') {
		d = time.Duration(c.float('S', 0) * float64(time.Second))
	}
	end := s.now() + d
	return s.waitFor(busyProcessing, func() (bool, time.Duration) {
		now := s.now()
		return now >= end, end - now
	})
}
