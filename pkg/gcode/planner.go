package gcode

import "math"

// minPlannerSpeed is Marlin's MINIMUM_PLANNER_SPEED, mm/s: the speed the
// machine may always stop from or start at.
const minPlannerSpeed = 0.05

// timelineSeconds is the longest print time between two timeline points.
const timelineSeconds = 60

// Look-ahead window: once more than planRefresh blocks are queued, the
// oldest are planned and timed, keeping planKeep blocks so that later moves
// can still raise their exit speeds.
const (
	planRefresh = 256
	planKeep    = 64
)

// moveKind classifies a move for acceleration and minimum speeds.
type moveKind uint8

const (
	kindPrint   moveKind = iota // XY(Z) motion with extrusion
	kindTravel                  // motion without extrusion (or with retraction)
	kindRetract                 // extruder only
)

// block is one planned move: a trapezoidal speed profile over distance.
type block struct {
	offset        int64   // byte offset of the line that made the block
	distance      float64 // mm
	accel         float64 // mm/s²
	cruise        float64 // nominal speed, mm/s
	entry         float64 // planned entry speed, mm/s
	maxEntry      float64 // highest entry speed the junction allows
	exitIfLast    float64 // exit speed when no block follows
	nominalLength bool    // cruise speed is reachable from exitIfLast within the block
}

// planner is a Marlin-style motion planner that only keeps time. It is fed
// moves with add and accumulates their duration in seconds.
type planner struct {
	model  Model
	lim    *Limits
	blocks []block
	time   float64

	// Timeline sampling: the elapsed time when the line at a byte offset
	// starts, recorded every step bytes or timelineSeconds of printing,
	// whichever comes first.
	offset   int64 // offset of the line being planned
	step     int64
	nextMark int64
	nextTime float64
	timeline []TimePoint

	// State of the previous move, for junction speeds.
	hasPrev     bool
	prevAxis    [4]float64 // signed axis speeds at cruise, mm/s
	prevFeed    float64    // requested speed (PrusaSlicer compares against it)
	prevNominal float64    // cruise speed
	prevSafe    float64
	prevUnit    [4]float64
}

func newPlanner(model Model, lim *Limits) *planner {
	return &planner{model: model, lim: lim, blocks: make([]block, 0, planRefresh+1)}
}

// add plans a move by delta (mm, X Y Z E) at the requested speed (mm/s).
func (p *planner) add(delta [4]float64, feed float64) {
	dist := math.Sqrt(delta[X]*delta[X] + delta[Y]*delta[Y] + delta[Z]*delta[Z])
	xyz := dist > 0
	if !xyz {
		dist = math.Abs(delta[E])
	}
	if dist <= 0 || math.IsNaN(dist) || math.IsInf(dist, 0) {
		return
	}
	kind := kindTravel
	switch {
	case !xyz:
		kind = kindRetract
	case delta[E] > 0 && (delta[X] != 0 || delta[Y] != 0):
		kind = kindPrint
	}
	lim := p.lim
	if kind == kindTravel {
		feed = max(feed, lim.MinTravelFeedrate)
	} else {
		feed = max(feed, lim.MinFeedrate)
	}
	if feed <= 0 {
		feed = minPlannerSpeed
	}
	inv := 1 / dist

	// Cruise speed limited by each axis' maximum feedrate.
	var axis [4]float64
	factor := 1.0
	for a := range 4 {
		axis[a] = feed * delta[a] * inv
		if v := math.Abs(axis[a]); v > 0 && lim.MaxFeedrate[a] > 0 && v > lim.MaxFeedrate[a] {
			factor = min(factor, lim.MaxFeedrate[a]/v)
		}
	}
	cruise := feed * factor
	if factor < 1 {
		for a := range 4 {
			axis[a] *= factor
		}
	}

	// Acceleration limited by each axis' maximum.
	var accel float64
	switch {
	case p.model == ModelCura:
		accel = lim.Accel
	case kind == kindTravel:
		accel = lim.TravelAccel
	case kind == kindRetract:
		accel = lim.RetractAccel
	default:
		accel = lim.Accel
	}
	for a := range 4 {
		frac := math.Abs(delta[a]) * inv
		if lim.MaxAccel[a] > 0 && accel*frac > lim.MaxAccel[a] {
			if p.model == ModelCura {
				accel = lim.MaxAccel[a] // CuraEngine caps the whole move at the axis limit
			} else {
				accel = lim.MaxAccel[a] / frac
			}
		}
	}

	var b block
	switch p.model {
	case ModelCura:
		b = p.curaJunction(axis, cruise, accel, dist)
	case ModelJunction:
		var unit [4]float64
		for a := range 4 {
			unit[a] = delta[a] * inv
		}
		b = p.deviationJunction(unit, cruise, accel, dist)
		p.prevUnit = unit
	default:
		b = p.jerkJunction(axis, feed, cruise, accel, dist)
	}
	b.offset = p.offset
	p.hasPrev = true
	p.prevAxis = axis
	p.prevNominal = cruise
	p.blocks = append(p.blocks, b)
	if len(p.blocks) > planRefresh {
		p.plan(planKeep)
	}
}

// jerkJunction plans the entry of a block with Marlin's classic per-axis
// jerk, telling coasting apart from axis reversal, as PrusaSlicer does.
func (p *planner) jerkJunction(axis [4]float64, feed, cruise, accel, dist float64) block {
	lim := p.lim
	safe := cruise
	for a := range 4 {
		if math.Abs(axis[a]) > lim.Jerk[a] {
			safe = min(safe, lim.Jerk[a])
		}
	}
	vmax := safe
	if p.hasPrev && p.prevFeed > 0.0001 {
		prevLarger := p.prevFeed > cruise
		smaller := p.prevFeed / cruise
		vmax = p.prevFeed
		if prevLarger {
			smaller = cruise / p.prevFeed
			vmax = cruise
		}
		vf := 1.0
		limited := false
		for a := range 4 {
			vExit, vEntry := p.prevAxis[a], axis[a]
			if prevLarger {
				vExit *= smaller
			}
			if limited {
				vExit *= vf
				vEntry *= vf
			}
			var jerk float64
			if vExit > vEntry {
				if vEntry > 0 || vExit < 0 {
					jerk = vExit - vEntry
				} else {
					jerk = max(vExit, -vEntry)
				}
			} else {
				if vEntry < 0 || vExit > 0 {
					jerk = vEntry - vExit
				} else {
					jerk = max(-vExit, vEntry)
				}
			}
			if jerk > lim.Jerk[a] {
				vf *= lim.Jerk[a] / jerk
				limited = true
			}
		}
		if limited {
			vmax *= vf
		}
		th := vmax * 0.99
		if p.prevSafe > th && safe > th {
			vmax = safe
		}
	}
	p.prevFeed = feed
	p.prevSafe = safe
	allow := maxAllowableSpeed(accel, safe, dist)
	return block{distance: dist, accel: accel, cruise: cruise, entry: min(vmax, allow),
		maxEntry: vmax, exitIfLast: safe, nominalLength: cruise <= allow}
}

// curaJunction plans the entry of a block as CuraEngine's estimator does:
// XY jerk as a vector, Z and E per axis, limited to the previous cruise.
func (p *planner) curaJunction(axis [4]float64, cruise, accel, dist float64) block {
	lim := p.lim
	jxy, jz, je := lim.Jerk[X], lim.Jerk[Z], lim.Jerk[E]
	vmax := jxy / 2
	if math.Abs(axis[Z]) > jz/2 {
		vmax = min(vmax, jz/2)
	}
	if math.Abs(axis[E]) > je/2 {
		vmax = min(vmax, je/2)
	}
	vmax = min(vmax, cruise)
	if p.hasPrev && p.prevNominal > 0.0001 {
		dx, dy := axis[X]-p.prevAxis[X], axis[Y]-p.prevAxis[Y]
		xy := math.Sqrt(dx*dx + dy*dy)
		f := 1.0
		if xy > jxy {
			f = jxy / xy
		}
		if dz := math.Abs(axis[Z] - p.prevAxis[Z]); dz > jz {
			f = min(f, jz/dz)
		}
		if de := math.Abs(axis[E] - p.prevAxis[E]); de > je {
			f = min(f, je/de)
		}
		vmax = min(p.prevNominal, cruise*f)
	}
	allow := maxAllowableSpeed(accel, minPlannerSpeed, dist)
	return block{distance: dist, accel: accel, cruise: cruise, entry: min(vmax, allow),
		maxEntry: vmax, exitIfLast: minPlannerSpeed, nominalLength: cruise <= allow}
}

// deviationJunction plans the entry of a block with Marlin 2's junction
// deviation.
func (p *planner) deviationJunction(unit [4]float64, cruise, accel, dist float64) block {
	vmax := minPlannerSpeed
	if p.hasPrev && p.prevNominal > 0.0001 {
		cos := 0.0
		for a := range 4 {
			cos -= p.prevUnit[a] * unit[a]
		}
		vsq := minPlannerSpeed * minPlannerSpeed
		if cos <= 0.999999 {
			cos = max(cos, -0.999999)
			s := math.Sqrt(0.5 * (1 - cos))
			vsq = accel * p.lim.JunctionDeviation * s / (1 - s)
		}
		top := min(p.prevNominal, cruise)
		vmax = math.Sqrt(min(vsq, top*top))
	}
	allow := maxAllowableSpeed(accel, minPlannerSpeed, dist)
	return block{distance: dist, accel: accel, cruise: cruise, entry: min(vmax, allow),
		maxEntry: vmax, exitIfLast: minPlannerSpeed, nominalLength: cruise <= allow}
}

// maxAllowableSpeed is the highest speed from which the machine can slow
// to target within dist at accel.
func maxAllowableSpeed(accel, target, dist float64) float64 {
	return math.Sqrt(target*target + 2*accel*dist)
}

// dwell adds a pause of d seconds. Queued moves finish first, as the
// firmware empties its queue before a dwell.
func (p *planner) dwell(d float64) {
	p.flush()
	if d > 0 {
		p.time += d
	}
}

// flush plans and times every queued block, ending at rest.
func (p *planner) flush() {
	p.plan(0)
	p.hasPrev = false
}

// plan runs the look-ahead passes over the queue and times all but the
// newest keep blocks.
func (p *planner) plan(keep int) {
	bs := p.blocks
	n := len(bs)
	if n == 0 {
		return
	}
	// Reverse pass: lower entry speeds so every block can slow down to
	// the next block's entry.
	for i := n - 1; i > 0; i-- {
		cur, next := &bs[i-1], &bs[i]
		if cur.entry != cur.maxEntry {
			if !cur.nominalLength && cur.maxEntry > next.entry {
				cur.entry = min(cur.maxEntry, maxAllowableSpeed(cur.accel, next.entry, cur.distance))
			} else {
				cur.entry = cur.maxEntry
			}
		}
	}
	// Forward pass: lower entry speeds the previous block cannot reach.
	for i := 1; i < n; i++ {
		prev, cur := &bs[i-1], &bs[i]
		if !prev.nominalLength && prev.entry < cur.entry {
			cur.entry = min(cur.entry, maxAllowableSpeed(prev.accel, prev.entry, prev.distance))
		}
	}
	done := n - keep
	if done <= 0 {
		return
	}
	for i := range done {
		exit := bs[i].exitIfLast
		if i+1 < n {
			exit = bs[i+1].entry
		}
		if p.step > 0 && (bs[i].offset >= p.nextMark || p.time >= p.nextTime) && (len(p.timeline) == 0 || bs[i].offset > p.timeline[len(p.timeline)-1].Offset) {
			p.timeline = append(p.timeline, TimePoint{Offset: bs[i].offset, Elapsed: p.time})
			p.nextMark = bs[i].offset + p.step
			p.nextTime = p.time + timelineSeconds
		}
		p.time += bs[i].duration(exit)
	}
	p.blocks = append(bs[:0], bs[done:]...)
}

// duration is the time the block takes from its entry speed to exit,
// accelerating and decelerating at its acceleration.
func (b *block) duration(exit float64) float64 {
	a, d, v0, vc := b.accel, b.distance, b.entry, b.cruise
	if a <= 0 || math.IsInf(a, 1) {
		return d / vc
	}
	accDist := max(0, (vc*vc-v0*v0)/(2*a))
	decDist := max(0, (vc*vc-exit*exit)/(2*a))
	cruiseDist := d - accDist - decDist
	peak := vc
	if cruiseDist < 0 {
		accDist = (2*a*d - v0*v0 + exit*exit) / (4 * a)
		accDist = min(max(accDist, 0), d)
		cruiseDist = 0
		peak = math.Sqrt(v0*v0 + 2*a*accDist)
		decDist = d - accDist
	}
	t := (-v0 + math.Sqrt(max(0, v0*v0+2*a*accDist))) / a
	if peak > 0 {
		t += cruiseDist / peak
	}
	t += (peak - math.Sqrt(max(0, peak*peak-2*a*decDist))) / a
	return t
}
