package gcode

import (
	"fmt"
	"strings"
)

// Axis indices into the per-axis arrays of Limits.
const (
	X = iota
	Y
	Z
	E
)

// Limits are the machine's motion limits, in mm, mm/s and mm/s². They come
// from the printer profile and are overridden by M201/M203/M204/M205 lines
// (and Klipper's SET_VELOCITY_LIMIT) in the file, as the firmware would do. A zero field means "not set" and is
// taken from DefaultLimits.
type Limits struct {
	// MaxAccel is the per-axis acceleration limit (M201 X Y Z E), mm/s².
	MaxAccel [4]float64 `json:"maxAccel"`
	// MaxFeedrate is the per-axis speed limit (M203 X Y Z E), mm/s.
	MaxFeedrate [4]float64 `json:"maxFeedrate"`
	// Accel is the acceleration for printing moves (M204 P, or S), mm/s².
	Accel float64 `json:"accel"`
	// RetractAccel is the acceleration for extruder-only moves (M204 R),
	// mm/s².
	RetractAccel float64 `json:"retractAccel"`
	// TravelAccel is the acceleration for non-extruding moves (M204 T, or
	// S), mm/s².
	TravelAccel float64 `json:"travelAccel"`
	// Jerk is the per-axis instantaneous speed change allowed at a corner
	// (M205 X Y Z E), mm/s.
	Jerk [4]float64 `json:"jerk"`
	// JunctionDeviation (M205 J), mm. When set (>0) the junction speed
	// follows Marlin's junction deviation instead of classic jerk for XYZ.
	JunctionDeviation float64 `json:"junctionDeviation,omitempty"`
	// MinFeedrate is the lowest speed of a printing move (M205 S), mm/s.
	MinFeedrate float64 `json:"minFeedrate"`
	// MinTravelFeedrate is the lowest speed of a travel move (M205 T),
	// mm/s.
	MinTravelFeedrate float64 `json:"minTravelFeedrate"`
}

// DefaultLimits returns the limits used for anything neither the profile nor
// the file sets. They describe cuttle's generic printer, a 220 mm Marlin 2
// bed-slinger of the Ender-3 class, with the values PrusaSlicer's generic
// Marlin 2 profile emits for it: 500 mm/s² printing and travel, 1000 mm/s²
// retraction, 8 mm/s XY jerk. Files that carry no limits (Cura's) are
// timed with these unless the printer profile says otherwise; on files of
// many short segments the XY jerk matters most (10 instead of 8 mm/s makes
// such a print about 5 % faster).
func DefaultLimits() Limits {
	return Limits{
		MaxAccel:     [4]float64{500, 500, 100, 5000},
		MaxFeedrate:  [4]float64{500, 500, 5, 25},
		Accel:        500,
		RetractAccel: 1000,
		TravelAccel:  500,
		Jerk:         [4]float64{8, 8, 0.4, 5},
	}
}

// withDefaults returns l with every zero field taken from d. Minimum
// feedrates stay zero when unset, as zero is their natural default.
func (l Limits) withDefaults(d Limits) Limits {
	for i := range 4 {
		if l.MaxAccel[i] <= 0 {
			l.MaxAccel[i] = d.MaxAccel[i]
		}
		if l.MaxFeedrate[i] <= 0 {
			l.MaxFeedrate[i] = d.MaxFeedrate[i]
		}
		if l.Jerk[i] <= 0 {
			l.Jerk[i] = d.Jerk[i]
		}
	}
	if l.Accel <= 0 {
		l.Accel = d.Accel
	}
	if l.RetractAccel <= 0 {
		l.RetractAccel = d.RetractAccel
	}
	if l.TravelAccel <= 0 {
		l.TravelAccel = d.TravelAccel
	}
	if l.JunctionDeviation <= 0 {
		l.JunctionDeviation = d.JunctionDeviation
	}
	if l.MinFeedrate <= 0 {
		l.MinFeedrate = d.MinFeedrate
	}
	if l.MinTravelFeedrate <= 0 {
		l.MinTravelFeedrate = d.MinTravelFeedrate
	}
	return l
}

// Model selects how junction speeds are planned.
type Model int

// The planner models. ModelAuto picks ModelCura for files written by Cura,
// ModelJunction once the file sets M205 J (or Klipper's
// SET_VELOCITY_LIMIT SQUARE_CORNER_VELOCITY), and ModelJerk otherwise.
const (
	// ModelAuto chooses the model from the file (the zero value).
	ModelAuto Model = iota
	// ModelJerk is Marlin's classic per-axis jerk with full look-ahead,
	// as PrusaSlicer's estimator and Marlin without junction deviation do.
	ModelJerk
	// ModelJunction is Marlin 2's junction deviation (M205 J).
	ModelJunction
	// ModelCura is CuraEngine's estimator: a Marlin 1.0 planner with a
	// single acceleration, vector XY jerk, planned layer by layer.
	ModelCura
)

var modelNames = [...]string{"auto", "jerk", "junction", "cura"}

// String returns the model's name as used in JSON and on the command line.
func (m Model) String() string {
	if m >= 0 && int(m) < len(modelNames) {
		return modelNames[m]
	}
	return fmt.Sprintf("Model(%d)", int(m))
}

// ParseModel returns the Model with the given name (auto, jerk, junction,
// cura).
func ParseModel(s string) (Model, error) {
	for i, n := range modelNames {
		if strings.EqualFold(s, n) {
			return Model(i), nil
		}
	}
	return ModelAuto, fmt.Errorf("gcode: unknown planner model %q (want auto, jerk, junction or cura)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (m Model) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *Model) UnmarshalText(b []byte) error {
	v, err := ParseModel(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
