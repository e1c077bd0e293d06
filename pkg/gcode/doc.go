// Package gcode reads and analyses G-code.
//
// # Reading
//
// A Reader splits a byte stream into lines and parses each one into a Line:
// the raw text, the code with comments and checksums stripped, the command
// word (G1, M205, T0, @pause …) and its parameter words. Reading allocates
// nothing per line: a Line and its slices alias the Reader's buffer and stay
// valid only until the next call to Next. The printer's job streamer and the
// analyser share this reader.
//
// # Analysis
//
// Analyse runs a whole file through a motion model and returns a Result in
// the shape of OctoPrint's gcodeAnalysis: estimated print time, filament per
// tool, printing and travel areas and dimensions, plus cuttle's own extras
// (layers, the slicer's own estimate, embedded thumbnails).
//
// The print time comes from a Marlin-style planner: each move becomes a
// block with trapezoidal speed (accelerate, cruise, decelerate); junction
// speeds are limited by classic jerk or junction deviation; a look-ahead
// pass over queued blocks lowers entry speeds so the machine can always
// stop. Limits come from the printer profile (Options.Limits) and are
// overridden by M201, M203, M204 and M205 found in the file, as firmware
// would. Temperature waits (M109, M190) are not timed, as the slicers do not
// time them either; dwells (G4) are.
//
// The analysis also keeps a timeline (Extras.Timeline) mapping byte offsets
// to elapsed print time, so a printer streaming the file can tell the time
// left from its position with Result.TimeLeft instead of assuming that
// bytes and time advance together.
//
// Filament follows the slicers' convention: the length of filament fed into
// the model, not counting what the start G-code primes before the first
// layer (Result.Cuttle.FilamentTotal includes it). Retractions and
// un-retractions cancel out; absolute (M82) and relative (M83) extrusion,
// G92 and tool changes are honoured.
//
// The package reads bytes only: it knows nothing about files on disk or
// printers.
package gcode
