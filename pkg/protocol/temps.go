package protocol

import (
	"strconv"
	"strings"
)

// maxTools bounds the tool index a report may name, so that a garbled
// "T4000000:" cannot allocate a huge slice.
const maxTools = 16

// ParseTemperatures parses a temperature report in any of the common dialects:
//
//	Marlin     T:25.45 /0.00 B:25.45 /0.00 @:0 B@:0
//	Marlin, 2  T:20.0 /0.0 B:20.0 /0.0 T0:20.0 /0.0 T1:21.0 /0.0 @:0 B@:0 @0:0 @1:0
//	RRF        T:25.0 /0.0 B:24.9 /0.0
//	Smoothie   T:21.5 /0.0 @0 B:21.4 /0.0 @0
//	Klipper    B:22.5 /0.0 T0:22.6 /0.0
//	Prusa      T:20.8 /0.0 B:20.9 /0.0 T0:20.8 /0.0 @:0 B@:0 P:22.9 A:26.0
//	compact    T:210.0/215.0 B:60/60 C:30.1 /40
//
// Numbered tools take precedence over "T:" (which then names the active tool).
// It returns false when the line holds no tool, bed or chamber reading, so that
// lines such as an M109 progress "T:190.3 E:0 W:?" still count (tool 0) but an
// M114 position line does not.
func ParseTemperatures(line string) (Temperatures, bool) {
	var t Temperatures
	var plain *Reading
	numbered := map[int]Reading{}
	maxTool := -1
	fields := strings.Fields(line)
	if len(fields) > 64 {
		fields = fields[:64]
	}
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		key, val, ok := strings.Cut(f, ":")
		if !ok {
			// Smoothieware's "@0" power without a colon.
			if len(f) > 1 && f[0] == '@' {
				if v, err := strconv.ParseFloat(f[1:], 64); err == nil {
					setPower(&t, "@", v)
				}
			}
			continue
		}
		if key == "ok" {
			continue
		}
		if strings.HasSuffix(key, "@") || strings.HasPrefix(key, "@") {
			if v, err := strconv.ParseFloat(val, 64); err == nil {
				setPower(&t, key, v)
			}
			continue
		}
		actualS, targetS, hasSlash := strings.Cut(val, "/")
		actual, err := strconv.ParseFloat(actualS, 64)
		if err != nil || !finite(actual) {
			continue
		}
		r := Reading{Actual: actual}
		if hasSlash {
			if v, err := strconv.ParseFloat(targetS, 64); err == nil && finite(v) {
				r.Target = &v
			}
		} else if i+1 < len(fields) && strings.HasPrefix(fields[i+1], "/") {
			if v, err := strconv.ParseFloat(fields[i+1][1:], 64); err == nil && finite(v) {
				r.Target = &v
			}
			i++
		}
		switch {
		case key == "T":
			rr := r
			plain = &rr
		case len(key) > 1 && key[0] == 'T' && isDigits(key[1:]):
			n, err := strconv.Atoi(key[1:])
			if err != nil || n >= maxTools {
				continue
			}
			numbered[n] = r
			if n > maxTool {
				maxTool = n
			}
		case key == "B":
			rr := r
			t.Bed = &rr
		case key == "C":
			rr := r
			t.Chamber = &rr
		case key == "P" || key == "A" || key == "R" || key == "M" || key == "L":
			if t.Extra == nil {
				t.Extra = map[string]Reading{}
			}
			t.Extra[key] = r
		}
	}
	switch {
	case maxTool >= 0:
		t.Tools = make([]Reading, maxTool+1)
		for n, r := range numbered {
			t.Tools[n] = r
		}
	case plain != nil:
		t.Tools = []Reading{*plain}
	}
	return t, len(t.Tools) > 0 || t.Bed != nil || t.Chamber != nil
}

func setPower(t *Temperatures, key string, v float64) {
	if t.Power == nil {
		t.Power = map[string]float64{}
	}
	t.Power[key] = v
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func finite(f float64) bool { return f-f == 0 }
