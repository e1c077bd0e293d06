package gcode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// DefaultFilamentDiameter is the filament diameter in mm used for volumes
// when neither Options nor the file give one.
const DefaultFilamentDiameter = 1.75

// maxArcSegments bounds the chords one G2/G3 is split into.
const maxArcSegments = 720

// maxTools bounds the tool number T<n> the analyser tracks.
const maxTools = 64

// Options configure Analyse. The zero value analyses with DefaultLimits and
// the model chosen from the file.
type Options struct {
	// Limits are the printer profile's motion limits; zero fields fall
	// back to DefaultLimits. M201–M205 in the file override them.
	Limits Limits
	// IgnoreFileLimits makes Analyse ignore M201–M205 in the file.
	IgnoreFileLimits bool
	// Model selects the junction model; ModelAuto picks one from the file.
	Model Model
	// FilamentDiameter in mm for the volume of every tool; 0 takes the
	// slicer's value from the file, else DefaultFilamentDiameter.
	FilamentDiameter float64
}

// Result is the outcome of Analyse in the shape of OctoPrint's
// gcodeAnalysis, with cuttle's own additions under "cuttle".
type Result struct {
	// EstimatedPrintTime is the print time in seconds.
	EstimatedPrintTime float64 `json:"estimatedPrintTime"`
	// Filament is the filament fed per tool ("tool0", "tool1", …).
	Filament map[string]Filament `json:"filament"`
	// Dimensions are the sizes of PrintingArea.
	Dimensions Dimensions `json:"dimensions"`
	// PrintingArea bounds all extruding moves.
	PrintingArea Area `json:"printingArea"`
	// TravelArea bounds the targets of all moves.
	TravelArea Area `json:"travelArea"`
	// TravelDimensions are the sizes of TravelArea.
	TravelDimensions Dimensions `json:"travelDimensions"`
	// Cuttle holds what OctoPrint's analysis does not have.
	Cuttle Extras `json:"cuttle"`
}

// Filament is a length of filament and its volume.
type Filament struct {
	// Length in mm.
	Length float64 `json:"length"`
	// Volume in cm³.
	Volume float64 `json:"volume"`
}

// Dimensions are the sizes of an Area in mm.
type Dimensions struct {
	Width  float64 `json:"width"`
	Depth  float64 `json:"depth"`
	Height float64 `json:"height"`
}

// Area is an axis-aligned bounding box in mm.
type Area struct {
	MinX float64 `json:"minX"`
	MinY float64 `json:"minY"`
	MinZ float64 `json:"minZ"`
	MaxX float64 `json:"maxX"`
	MaxY float64 `json:"maxY"`
	MaxZ float64 `json:"maxZ"`
}

// Extras are cuttle's additions to the analysis.
type Extras struct {
	// Layers is the number of layers: the slicer's layer markers when
	// present, else the number of Z heights at which extrusion happens.
	Layers int `json:"layers"`
	// LayerSource says where Layers came from: "markers" or "moves".
	LayerSource string `json:"layerSource"`
	// FilamentTotal is the filament per tool including what the start
	// G-code primes before the first layer.
	FilamentTotal map[string]Filament `json:"filamentTotal"`
	// Slicer is what the slicer wrote about the file, if anything.
	Slicer *Slicer `json:"slicer,omitempty"`
	// Thumbnails are the embedded previews, in file order.
	Thumbnails []Thumbnail `json:"thumbnails,omitempty"`
	// Model is the planner model used.
	Model Model `json:"model"`
	// Limits are the motion limits in effect at the end of the file.
	Limits Limits `json:"limits"`
	// Lines and Bytes are the amount of input read.
	Lines int64 `json:"lines"`
	Bytes int64 `json:"bytes"`
	// Moves counts the planned moves.
	Moves int64 `json:"moves"`
	// Timeline maps byte offsets to elapsed print time: a point per
	// percent of the file or per minute of printing, whichever comes
	// first, and a last point at the end; see TimeLeft.
	Timeline []TimePoint `json:"timeline,omitempty"`
}

// TimePoint says that the line starting at Offset begins Elapsed seconds
// into the print. It is encoded in JSON as [offset, elapsed].
type TimePoint struct {
	Offset  int64
	Elapsed float64
}

// MarshalJSON encodes p compactly as [offset, elapsed].
func (p TimePoint) MarshalJSON() ([]byte, error) {
	b := strconv.AppendInt([]byte{'['}, p.Offset, 10)
	b = append(b, ',')
	b = strconv.AppendFloat(b, math.Round(p.Elapsed*1000)/1000, 'f', -1, 64)
	return append(b, ']'), nil
}

// UnmarshalJSON decodes [offset, elapsed].
func (p *TimePoint) UnmarshalJSON(b []byte) error {
	var v [2]float64
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("gcode: time point: %w", err)
	}
	p.Offset, p.Elapsed = int64(v[0]), v[1]
	return nil
}

// timelineStep is the sampling distance for a file of size bytes.
func timelineStep(size int64) int64 {
	if size <= 0 {
		return 64 << 10
	}
	return max(size/100, 1024)
}

// TimeLeft estimates the print time left once the printer has consumed the
// file up to byte offset, interpolating the analysis timeline. It reports
// false when the analysis has no timeline.
func (r *Result) TimeLeft(offset int64) (float64, bool) {
	tl := r.Cuttle.Timeline
	if len(tl) == 0 {
		return 0, false
	}
	total := r.EstimatedPrintTime
	i := sort.Search(len(tl), func(i int) bool { return tl[i].Offset > offset })
	var elapsed float64
	switch {
	case i == 0:
		elapsed = tl[0].Elapsed * float64(max(offset, 0)) / float64(max(tl[0].Offset, 1))
	case i == len(tl):
		elapsed = total
	default:
		a, b := tl[i-1], tl[i]
		f := float64(offset-a.Offset) / float64(b.Offset-a.Offset)
		elapsed = a.Elapsed + f*(b.Elapsed-a.Elapsed)
	}
	return max(total-elapsed, 0), true
}

// bbox accumulates an Area.
type bbox struct {
	min, max [3]float64
	set      bool
}

func (b *bbox) add(p [4]float64) {
	if !b.set {
		b.min = [3]float64{p[X], p[Y], p[Z]}
		b.max = b.min
		b.set = true
		return
	}
	for a := range 3 {
		b.min[a] = min(b.min[a], p[a])
		b.max[a] = max(b.max[a], p[a])
	}
}

func (b *bbox) area() (Area, Dimensions) {
	if !b.set {
		return Area{}, Dimensions{}
	}
	a := Area{MinX: b.min[X], MinY: b.min[Y], MinZ: b.min[Z], MaxX: b.max[X], MaxY: b.max[Y], MaxZ: b.max[Z]}
	return a, Dimensions{Width: a.MaxX - a.MinX, Depth: a.MaxY - a.MinY, Height: a.MaxZ - a.MinZ}
}

// extruder tracks one tool's filament.
type extruder struct {
	net  float64 // filament fed so far, retractions subtracted
	max  float64 // the highest net reached: filament actually used
	base float64 // max at the first layer marker
}

// analyser is the state of one Analyse run.
type analyser struct {
	opts    Options
	lim     Limits
	plan    *planner
	meta    metaScanner
	pos     [4]float64 // logical position, mm
	ePos    float64    // logical E of the current tool (absolute mode)
	feed    float64    // mm/s
	feedPct float64    // M220
	// Firmware retraction (G10/G11) as set by M207/M208.
	fwRetract struct {
		length, speed, extra, recover float64
		retracted                     bool
	}
	flowPct float64 // M221
	relXYZ  bool    // G91: all axes relative, E included
	relE    bool    // M83: E relative
	inches  bool
	tool    int
	tools   [maxTools]extruder
	ntools  int
	layered bool // first layer marker seen

	printBox, travelBox bbox
	layerZ              float64
	moveLayers          int
	moves               int64
}

// Analyse reads G-code from r and returns its analysis. size is the input
// length in bytes for progress reporting (≤0 if unknown); progress, if not
// nil, is called with the fraction done (0..1) as the analysis advances and
// with 1 at the end. Analyse stops with ctx's error when ctx is done.
func Analyse(ctx context.Context, r io.Reader, size int64, opts Options, progress func(float64)) (*Result, error) {
	a := newAnalyser(opts)
	a.plan.step = timelineStep(size)
	rd := NewReader(r)
	const every = 1 << 20
	next := int64(every)
	var lines int64
	for {
		l, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("gcode: analyse: %w", err)
		}
		lines++
		if lines&0x3fff == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("gcode: analyse stopped at line %d: %w", lines, err)
			}
		}
		if progress != nil && size > 0 && rd.Offset() >= next {
			next = rd.Offset() + every
			progress(min(1, float64(rd.Offset())/float64(size)))
		}
		a.plan.offset = l.Offset
		a.line(l)
	}
	res := a.result()
	res.Cuttle.Timeline = append(res.Cuttle.Timeline, TimePoint{Offset: rd.Offset(), Elapsed: res.EstimatedPrintTime})
	res.Cuttle.Lines = lines
	res.Cuttle.Bytes = rd.Offset()
	if progress != nil {
		progress(1)
	}
	return res, nil
}

func newAnalyser(opts Options) *analyser {
	a := &analyser{
		opts:    opts,
		lim:     opts.Limits.withDefaults(DefaultLimits()),
		feed:    1500.0 / 60,
		feedPct: 1,
		flowPct: 1,
		ntools:  1,
	}
	// Marlin's FWRETRACT defaults.
	a.fwRetract.length, a.fwRetract.speed, a.fwRetract.recover = 3, 45, 8
	model := opts.Model
	if model == ModelAuto {
		model = ModelJerk
		if a.lim.JunctionDeviation > 0 {
			model = ModelJunction
		}
	}
	a.plan = newPlanner(model, &a.lim)
	return a
}

// line processes one line.
func (a *analyser) line(l *Line) {
	if l.Comment != nil {
		if a.meta.comment(l.Comment, l.Number) {
			a.layerMarker()
		}
		if a.meta.cura && a.opts.Model == ModelAuto && a.plan.model != ModelCura && a.moves == 0 {
			a.plan.model = ModelCura
		}
	}
	if len(l.Code) == 0 {
		return
	}
	a.meta.codeLine()
	switch l.Letter {
	case 'G':
		a.gcode(l)
	case 'M':
		a.mcode(l)
	case 'T':
		if l.Num < maxTools {
			a.selectTool(l.Num)
		}
	case 0:
		if !a.opts.IgnoreFileLimits && bytes.EqualFold(l.Cmd, []byte("SET_VELOCITY_LIMIT")) {
			a.klipperLimits(l.Param)
		}
	}
}

// klipperLimits applies Klipper's SET_VELOCITY_LIMIT: one acceleration for
// every move, a top speed, and a square corner velocity that Klipper turns
// into a junction deviation of scv²·(√2−1)/accel.
func (a *analyser) klipperLimits(param []byte) {
	var scv float64
	for _, kv := range bytes.Fields(param) {
		k, v, ok := bytes.Cut(kv, []byte("="))
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || f <= 0 || math.IsInf(f, 0) {
			continue
		}
		switch strings.ToUpper(string(k)) {
		case "ACCEL":
			a.lim.Accel, a.lim.TravelAccel, a.lim.RetractAccel = f, f, f
		case "VELOCITY":
			a.lim.MaxFeedrate[X], a.lim.MaxFeedrate[Y] = f, f
		case "SQUARE_CORNER_VELOCITY":
			scv = f
		}
	}
	if scv > 0 {
		a.lim.JunctionDeviation = scv * scv * (math.Sqrt2 - 1) / a.lim.Accel
		if a.opts.Model == ModelAuto && a.plan.model == ModelJerk {
			a.plan.model = ModelJunction
		}
	}
}

func (a *analyser) selectTool(t int) {
	if t == a.tool {
		return
	}
	// The E position is the machine's, shared by all tools (slicers reset
	// it with G92 after a tool change when they want to).
	a.tool = t
	if t+1 > a.ntools {
		a.ntools = t + 1
	}
}

func (a *analyser) layerMarker() {
	if !a.layered {
		a.layered = true
		for i := range a.tools {
			a.tools[i].base = a.tools[i].max
		}
	}
	if a.meta.curaLayerTag && a.plan.model == ModelCura {
		// CuraEngine times each layer on its own, from rest to rest.
		a.plan.flush()
	}
}

func (a *analyser) unit() float64 {
	if a.inches {
		return 25.4
	}
	return 1
}

func (a *analyser) gcode(l *Line) {
	if l.Sub >= 0 {
		return
	}
	switch l.Num {
	case 0, 1:
		a.linear(l)
	case 2, 3:
		a.arc(l, l.Num == 2)
	case 4:
		var d float64
		if v, ok := l.Value('S'); ok {
			d = v
		}
		if v, ok := l.Value('P'); ok {
			d = v / 1000
		}
		a.plan.dwell(d)
	case 20:
		a.inches = true
	case 21:
		a.inches = false
	case 10:
		if !l.Has('P') && !l.Has('L') { // G10 P/L sets offsets (RepRapFirmware), not a retraction
			a.firmwareRetract(true)
		}
	case 11:
		a.firmwareRetract(false)
	case 28:
		a.home(l)
	case 90:
		a.relXYZ = false // M83 stays in force, as in Marlin 1, Prusa firmware and the slicers' estimators
	case 91:
		a.relXYZ = true
	case 92:
		a.setPosition(l)
	}
}

func (a *analyser) mcode(l *Line) {
	if l.Sub >= 0 {
		return
	}
	file := !a.opts.IgnoreFileLimits
	switch l.Num {
	case 82:
		a.relE = false
	case 83:
		a.relE = true
	case 220:
		if v, ok := l.Value('S'); ok && v > 0 {
			a.feedPct = v / 100
		}
	case 221:
		if v, ok := l.Value('S'); ok && v >= 0 {
			a.flowPct = v / 100
		}
	case 201:
		if file {
			setAxes(l, &a.lim.MaxAccel)
		}
	case 203:
		if file {
			setAxes(l, &a.lim.MaxFeedrate)
		}
	case 204:
		if file {
			a.m204(l)
		}
	case 205:
		if file {
			a.m205(l)
		}
	case 207:
		if v, ok := l.Value('S'); ok && v >= 0 {
			a.fwRetract.length = v
		}
		if v, ok := l.Value('F'); ok && v > 0 {
			a.fwRetract.speed = v / 60
		}
	case 208:
		if v, ok := l.Value('S'); ok && v >= 0 {
			a.fwRetract.extra = v
		}
		if v, ok := l.Value('F'); ok && v > 0 {
			a.fwRetract.recover = v / 60
		}
	case 400:
		a.plan.flush()
	}
}

// setAxes sets the X Y Z E values of l that are present into dst.
func setAxes(l *Line, dst *[4]float64) {
	for i, c := range [4]byte{'X', 'Y', 'Z', 'E'} {
		if v, ok := l.Value(c); ok && v >= 0 {
			dst[i] = v
		}
	}
}

func (a *analyser) m204(l *Line) {
	if v, ok := l.Value('S'); ok && v > 0 {
		// Legacy form: S sets printing and travel, T sets retraction.
		a.lim.Accel, a.lim.TravelAccel = v, v
		if t, ok := l.Value('T'); ok && t > 0 {
			a.lim.RetractAccel = t
		}
		return
	}
	if v, ok := l.Value('P'); ok && v > 0 {
		a.lim.Accel = v
	}
	if v, ok := l.Value('R'); ok && v > 0 {
		a.lim.RetractAccel = v
	}
	if v, ok := l.Value('T'); ok && v > 0 {
		a.lim.TravelAccel = v
	}
}

func (a *analyser) m205(l *Line) {
	setAxes(l, &a.lim.Jerk)
	if v, ok := l.Value('S'); ok && v >= 0 {
		a.lim.MinFeedrate = v
	}
	if v, ok := l.Value('T'); ok && v >= 0 {
		a.lim.MinTravelFeedrate = v
	}
	if v, ok := l.Value('J'); ok && v > 0 {
		a.lim.JunctionDeviation = v
		if a.opts.Model == ModelAuto && a.plan.model == ModelJerk {
			a.plan.model = ModelJunction
		}
	}
}

// target computes the logical target of a move line.
func (a *analyser) target(l *Line) (tgt [4]float64, eDelta float64) {
	tgt = a.pos
	u := a.unit()
	for _, f := range l.fields {
		if !f.HasValue {
			continue
		}
		v := f.Value * u
		switch f.Letter {
		case 'X', 'Y', 'Z':
			i := int(f.Letter - 'X')
			if a.relXYZ {
				tgt[i] += v
			} else {
				tgt[i] = v
			}
		case 'E':
			if a.relE || a.relXYZ {
				eDelta = v
			} else {
				eDelta = v - a.ePos
			}
		case 'F':
			if f.Value > 0 {
				a.feed = v / 60
			}
		}
	}
	return tgt, eDelta
}

func (a *analyser) linear(l *Line) {
	tgt, de := a.target(l)
	a.move(tgt, de)
}

// move plans a straight move to tgt feeding de mm of filament.
func (a *analyser) move(tgt [4]float64, de float64) {
	delta := [4]float64{tgt[X] - a.pos[X], tgt[Y] - a.pos[Y], tgt[Z] - a.pos[Z], de}
	from := a.pos
	a.ePos += de
	a.pos = tgt
	a.pos[E] = a.ePos
	if delta[X] == 0 && delta[Y] == 0 && delta[Z] == 0 && de == 0 {
		return
	}
	a.moves++
	a.plan.add(delta, a.feed*a.feedPct)
	a.travelBox.add(tgt)
	if de != 0 {
		ex := &a.tools[a.tool]
		ex.net += de * a.flowPct
		if ex.net > ex.max {
			ex.max = ex.net
		}
	}
	if de > 0 && (delta[X] != 0 || delta[Y] != 0 || delta[Z] != 0) {
		a.printBox.add(from)
		a.printBox.add(tgt)
		if tgt[Z] > a.layerZ+1e-6 || a.moveLayers == 0 {
			a.moveLayers++
			a.layerZ = tgt[Z]
		}
	}
}

// firmwareRetract times G10 (retract) or G11 (recover) as the extruder
// move the firmware makes. The filament is only moved, not used.
func (a *analyser) firmwareRetract(retract bool) {
	r := &a.fwRetract
	if retract == r.retracted {
		return // the firmware ignores a repeated G10 or G11
	}
	r.retracted = retract
	d, v := -r.length, r.speed
	if !retract {
		d, v = r.length+r.extra, r.recover
	}
	a.moves++
	a.plan.add([4]float64{0, 0, 0, d}, v*a.feedPct)
	ex := &a.tools[a.tool]
	ex.net += d
	if ex.net > ex.max {
		ex.max = ex.net
	}
}

// arc plans G2 (clockwise) or G3 as chords of at most 1 mm, as Marlin
// does.
func (a *analyser) arc(l *Line, cw bool) {
	tgt, de := a.target(l)
	u := a.unit()
	i, hasI := l.Value('I')
	j, hasJ := l.Value('J')
	r, hasR := l.Value('R')
	start := a.pos
	var cx, cy float64
	switch {
	case hasI || hasJ:
		cx, cy = start[X]+i*u, start[Y]+j*u
	case hasR:
		// Centre from the radius: on the perpendicular bisector.
		r *= u
		dx, dy := tgt[X]-start[X], tgt[Y]-start[Y]
		d := math.Hypot(dx, dy)
		if d == 0 || math.Abs(r) < d/2 {
			a.move(tgt, de)
			return
		}
		h := math.Sqrt(r*r - d*d/4)
		if cw != (r < 0) {
			h = -h
		}
		cx = start[X] + dx/2 - h*dy/d
		cy = start[Y] + dy/2 + h*dx/d
	default:
		a.move(tgt, de)
		return
	}
	rad := math.Hypot(start[X]-cx, start[Y]-cy)
	a0 := math.Atan2(start[Y]-cy, start[X]-cx)
	a1 := math.Atan2(tgt[Y]-cy, tgt[X]-cx)
	sweep := a1 - a0
	if cw {
		if sweep >= -1e-9 {
			sweep -= 2 * math.Pi
		}
	} else if sweep <= 1e-9 {
		sweep += 2 * math.Pi
	}
	length := math.Abs(sweep) * rad
	n := int(math.Ceil(length))
	if n < 1 || rad == 0 || math.IsNaN(length) {
		a.move(tgt, de)
		return
	}
	if n > maxArcSegments {
		n = maxArcSegments // bounds the work a hostile file can cause
	}
	z0 := start[Z]
	for k := 1; k <= n; k++ {
		p := tgt
		if k < n {
			t := float64(k) / float64(n)
			ang := a0 + sweep*t
			p[X] = cx + rad*math.Cos(ang)
			p[Y] = cy + rad*math.Sin(ang)
			p[Z] = z0 + (tgt[Z]-z0)*t
		}
		a.move(p, de/float64(n))
	}
}

// home handles G28 as PrusaSlicer's estimator does: a move to 0 on the
// named axes (all when none is named).
func (a *analyser) home(l *Line) {
	tgt := a.pos
	any := false
	for i, c := range [3]byte{'X', 'Y', 'Z'} {
		if l.Has(c) {
			tgt[i] = 0
			any = true
		}
	}
	if !any {
		tgt[X], tgt[Y], tgt[Z] = 0, 0, 0
	}
	delta := [4]float64{tgt[X] - a.pos[X], tgt[Y] - a.pos[Y], tgt[Z] - a.pos[Z], 0}
	a.pos = tgt
	a.plan.add(delta, a.feed*a.feedPct)
}

func (a *analyser) setPosition(l *Line) {
	u := a.unit()
	any := false
	for _, f := range l.fields {
		v := f.Value * u
		switch f.Letter {
		case 'X', 'Y', 'Z':
			a.pos[f.Letter-'X'] = v
			any = true
		case 'E':
			a.ePos = v
			any = true
		}
	}
	if !any {
		a.pos[X], a.pos[Y], a.pos[Z], a.ePos = 0, 0, 0, 0
	}
}

func (a *analyser) result() *Result {
	a.plan.flush()
	res := &Result{
		EstimatedPrintTime: a.plan.time,
		Filament:           map[string]Filament{},
	}
	res.PrintingArea, res.Dimensions = a.printBox.area()
	res.TravelArea, res.TravelDimensions = a.travelBox.area()
	ex := &res.Cuttle
	ex.FilamentTotal = map[string]Filament{}
	for t := 0; t < a.ntools; t++ {
		d := a.diameter(t)
		area := math.Pi * d * d / 4 / 1000 // cm³ per mm
		used := a.tools[t].max - a.tools[t].base
		total := a.tools[t].max
		if used == 0 && total == 0 && t > 0 {
			continue
		}
		key := "tool" + strconv.Itoa(t)
		res.Filament[key] = Filament{Length: used, Volume: used * area}
		ex.FilamentTotal[key] = Filament{Length: total, Volume: total * area}
	}
	if a.meta.layerMarks > 0 {
		ex.Layers, ex.LayerSource = a.meta.layerMarks, "markers"
	} else {
		ex.Layers, ex.LayerSource = a.moveLayers, "moves"
	}
	if !a.meta.slicer.empty() {
		s := a.meta.slicer
		ex.Slicer = &s
	}
	ex.Thumbnails = a.meta.thumbs
	ex.Model = a.plan.model
	ex.Limits = a.lim
	ex.Moves = a.moves
	ex.Timeline = a.plan.timeline
	return res
}

func (a *analyser) diameter(t int) float64 {
	if a.opts.FilamentDiameter > 0 {
		return a.opts.FilamentDiameter
	}
	ds := a.meta.slicer.FilamentDiameter
	if t < len(ds) && ds[t] > 0 {
		return ds[t]
	}
	if len(ds) > 0 && ds[0] > 0 {
		return ds[0]
	}
	return DefaultFilamentDiameter
}
