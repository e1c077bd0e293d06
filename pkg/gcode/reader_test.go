package gcode_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/gcode"
)

func fieldsString(l *gcode.Line) string {
	var b strings.Builder
	for i, f := range l.Fields() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(f.Letter)
		if f.HasValue {
			fmt.Fprintf(&b, "%g", f.Value)
		}
	}
	return b.String()
}

func TestParse(t *testing.T) {
	tests := []struct {
		in                 string
		code, comment, cmd string
		letter             byte
		num, sub           int
		n                  int64
		fields, param      string
	}{
		{in: "G1 X10 Y-2.5 E.04829 F1200", code: "G1 X10 Y-2.5 E.04829 F1200", cmd: "G1", letter: 'G', num: 1, sub: -1, n: -1, fields: "X10 Y-2.5 E0.04829 F1200", param: "X10 Y-2.5 E.04829 F1200"},
		{in: "G1 X98.127 Y97.214 F9000 ; move to first skirt point", code: "G1 X98.127 Y97.214 F9000", comment: "move to first skirt point", cmd: "G1", letter: 'G', num: 1, sub: -1, n: -1, fields: "X98.127 Y97.214 F9000", param: "X98.127 Y97.214 F9000"},
		{in: ";LAYER:12", comment: "LAYER:12", sub: -1, n: -1},
		{in: "", sub: -1, n: -1},
		{in: "   \t", sub: -1, n: -1},
		{in: "g1x1y2e-0.5", code: "g1x1y2e-0.5", cmd: "g1", letter: 'G', num: 1, sub: -1, n: -1, fields: "X1 Y2 E-0.5", param: "x1y2e-0.5"},
		{in: "N42 G28 X Y*87", code: "G28 X Y", cmd: "G28", letter: 'G', num: 28, sub: -1, n: 42, fields: "X Y", param: "X Y"},
		{in: "M117 Hello; X10 world", code: "M117 Hello", comment: "X10 world", cmd: "M117", letter: 'M', num: 117, sub: -1, n: -1, param: "Hello"},
		{in: "M23 /sub/file x.gcode", code: "M23 /sub/file x.gcode", cmd: "M23", letter: 'M', num: 23, sub: -1, n: -1, param: "/sub/file x.gcode"},
		{in: "G29.1 Z0.2", code: "G29.1 Z0.2", cmd: "G29.1", letter: 'G', num: 29, sub: 1, n: -1, fields: "Z0.2", param: "Z0.2"},
		{in: "T1", code: "T1", cmd: "T1", letter: 'T', num: 1, sub: -1, n: -1},
		{in: "@pause now", code: "@pause now", cmd: "@pause", sub: -1, n: -1, param: "now"},
		{in: "SET_VELOCITY_LIMIT ACCEL=500", code: "SET_VELOCITY_LIMIT ACCEL=500", cmd: "SET_VELOCITY_LIMIT", sub: -1, n: -1, param: "ACCEL=500"},
		{in: "G1 X1 (a comment) Y2", code: "G1 X1 (a comment) Y2", cmd: "G1", letter: 'G', num: 1, sub: -1, n: -1, fields: "X1 Y2", param: "X1 (a comment) Y2"},
		{in: "M84 X Y E\r", code: "M84 X Y E", cmd: "M84", letter: 'M', num: 84, sub: -1, n: -1, fields: "X Y E", param: "X Y E"},
		{in: "G1 X1-2 Y+3 Z0000.00100", code: "G1 X1-2 Y+3 Z0000.00100", cmd: "G1", letter: 'G', num: 1, sub: -1, n: -1, fields: "X Y3 Z0.001", param: "X1-2 Y+3 Z0000.00100"},
		{in: "G1 X12345678901234567890.5", code: "G1 X12345678901234567890.5", cmd: "G1", letter: 'G', num: 1, sub: -1, n: -1, fields: "X1.2345678901234567e+19", param: "X12345678901234567890.5"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			l := gcode.Parse([]byte(tt.in))
			got := []string{string(l.Code), string(l.Comment), string(l.Cmd), string(l.Letter), fmt.Sprint(l.Num), fmt.Sprint(l.Sub), fmt.Sprint(l.N), fieldsString(l), string(l.Param)}
			want := []string{tt.code, tt.comment, tt.cmd, string(tt.letter), fmt.Sprint(tt.num), fmt.Sprint(tt.sub), fmt.Sprint(tt.n), tt.fields, tt.param}
			names := []string{"Code", "Comment", "Cmd", "Letter", "Num", "Sub", "N", "Fields", "Param"}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("Parse(%q).%s = %q; want %q", tt.in, names[i], got[i], want[i])
				}
			}
		})
	}
}

func TestParseNumbersMatchStrconv(t *testing.T) {
	for _, s := range []string{"0", "-0", "1", ".5", "-.5", "5.", "0.1", "0.3", "123.456", "98.127", "-2.00001", "9007199254740991", "0.000000000000000000000001", "1.7976931348623157", "4.35"} {
		l := gcode.Parse([]byte("G1 X" + s))
		v, ok := l.Value('X')
		var want float64
		fmt.Sscan(s, &want)
		if !ok || v != want || math.Signbit(v) != math.Signbit(want) {
			t.Errorf("Parse(%q) X = %v, %v; want %v", s, v, ok, want)
		}
	}
}

func TestLineHelpers(t *testing.T) {
	l := gcode.Parse([]byte("G1 X1 E2 F300"))
	if !l.Is('G', 1) || l.Is('G', 0) {
		t.Errorf("Is: wrong for %q", l.Raw)
	}
	if v, ok := l.Value('E'); !ok || v != 2 {
		t.Errorf("Value('E') = %v, %v; want 2, true", v, ok)
	}
	if _, ok := l.Value('Z'); ok || l.Has('Z') || !l.Has('F') {
		t.Errorf("Has/Value: wrong for %q", l.Raw)
	}
}

func TestReaderOffsetsAndEOL(t *testing.T) {
	in := "G28\r\n; c\nG1 X1\n\nM105"
	r := gcode.NewReaderSize(strings.NewReader(in), 64)
	type rec struct {
		raw     string
		off, no int64
	}
	var got []rec
	for {
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rec{string(l.Raw), l.Offset, l.Number})
	}
	want := []rec{{"G28", 0, 1}, {"; c", 5, 2}, {"G1 X1", 9, 3}, {"", 15, 4}, {"M105", 16, 5}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("lines = %v; want %v", got, want)
	}
	if r.Offset() != int64(len(in)) {
		t.Errorf("Offset() = %d; want %d", r.Offset(), len(in))
	}
}

func TestReaderLongLines(t *testing.T) {
	long := "; " + strings.Repeat("x", 5000)
	in := "G1 X1\n" + long + "\nG1 X2\n"
	r := gcode.NewReaderSize(strings.NewReader(in), 64)
	var raws []string
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, string(l.Raw))
	}
	if len(raws) != 3 || raws[1] != long || raws[2] != "G1 X2" {
		t.Errorf("long line not reassembled: %d lines", len(raws))
	}

	tooLong := strings.Repeat("x", gcode.MaxLineLength+10)
	r = gcode.NewReaderSize(strings.NewReader(tooLong), 4096)
	if _, err := r.Next(); !errors.Is(err, gcode.ErrLineTooLong) {
		t.Errorf("Next() on an oversized line: err = %v; want ErrLineTooLong", err)
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestReaderPropagatesErrors(t *testing.T) {
	boom := errors.New("boom")
	r := gcode.NewReader(io.MultiReader(strings.NewReader("G1 X1"), failingReader{boom}))
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Errorf("Next() = %v; want wrapped boom", err)
	}
}

func TestReaderDoesNotAllocatePerLine(t *testing.T) {
	line := "G1 X122.963 Y121.578 E.04829 F1800 ; skirt\n"
	data := bytes.Repeat([]byte(line), 2000)
	br := bytes.NewReader(data)
	r := gcode.NewReader(br)
	allocs := testing.AllocsPerRun(1, func() {
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	})
	if allocs > 0 {
		t.Errorf("reading %d lines allocated %v times; want 0", 2000, allocs)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"G1 X1 Y2 E3 F4", "N1 G1 X1*23", "M117 hi", ";LAYER:1", "g1x-.5y+3", "G2 X1 Y1 I1 J0 (c)", "\x00\xff", "G1 X1..2", "G1 X12345678901234567890.5 Y0.1234567890123456789", "G1 X9007199254740993", "T0", "@pause"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := gcode.NewReaderSize(bytes.NewReader(data), 64)
		for {
			l, err := r.Next()
			if err != nil {
				break
			}
			for _, fl := range l.Fields() {
				// Values agree with strconv on the word's text (which
				// holds only digits, signs and dots).
				want, err := strconv.ParseFloat(string(fl.Raw), 64)
				if fl.HasValue != (err == nil) || (fl.HasValue && fl.Value != want) {
					t.Fatalf("field %c%q in %q = %v, %v; strconv says %v, %v", fl.Letter, fl.Raw, l.Raw, fl.Value, fl.HasValue, want, err)
				}
			}
			if len(l.Code) > len(l.Raw) {
				t.Fatalf("Code longer than Raw in %q", l.Raw)
			}
		}
		if r.Offset() != int64(len(data)) {
			t.Fatalf("Offset() = %d; want %d", r.Offset(), len(data))
		}
	})
}
