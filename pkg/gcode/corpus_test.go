package gcode_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/gcode"
	"github.com/cuttleprint/cuttle/pkg/gcode/gcodetest"
)

func corpusFiles(t testing.TB) []string { return gcodetest.Files(t) }

func analyseFile(t testing.TB, path string, opts gcode.Options) *gcode.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	res, err := gcode.Analyse(context.Background(), f, st.Size(), opts, nil)
	if err != nil {
		t.Fatalf("Analyse(%s): %v", path, err)
	}
	return res
}

// TestCorpusMatchesSlicer checks the acceptance criteria on every corpus
// file: print time within ±5 % and filament within ±1 % of the slicer's own
// figures written in the file.
func TestCorpusMatchesSlicer(t *testing.T) {
	for _, path := range corpusFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			res := analyseFile(t, path, gcode.Options{})
			s := res.Cuttle.Slicer
			if s == nil || s.EstimatedPrintTime == 0 || len(s.Filament) == 0 {
				t.Fatalf("no slicer estimate found in %s", path)
			}
			timeErr := (res.EstimatedPrintTime - s.EstimatedPrintTime) / s.EstimatedPrintTime * 100
			fil := res.Filament["tool0"].Length
			filErr := (fil - s.Filament[0]) / s.Filament[0] * 100
			t.Logf("time %.0f s vs slicer %.0f s (%+.2f %%); filament %.2f mm vs %.2f mm (%+.3f %%); model %s; layers %d",
				res.EstimatedPrintTime, s.EstimatedPrintTime, timeErr, fil, s.Filament[0], filErr, res.Cuttle.Model, res.Cuttle.Layers)
			if math.Abs(timeErr) > 5 {
				t.Errorf("estimatedPrintTime = %.1f s; want %.0f s ±5 %% (off %+.2f %%)", res.EstimatedPrintTime, s.EstimatedPrintTime, timeErr)
			}
			if math.Abs(filErr) > 1 {
				t.Errorf("filament tool0 = %.2f mm; want %.2f mm ±1 %% (off %+.3f %%)", fil, s.Filament[0], filErr)
			}
		})
	}
}

// TestCorpusTimeline checks the byte-offset timeline against the slicers'
// own progress marks (Cura's per-layer ";TIME_ELAPSED:", PrusaSlicer's
// "M73 R<minutes left>"): at each, cuttle's time left stays within 2 % of
// the whole print of the slicer's.
func TestCorpusTimeline(t *testing.T) {
	for _, path := range corpusFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			res := analyseFile(t, path, gcode.Options{})
			tl := res.Cuttle.Timeline
			if len(tl) < 50 {
				t.Fatalf("timeline has %d points; want about 100", len(tl))
			}
			for i := 1; i < len(tl); i++ {
				if tl[i].Offset <= tl[i-1].Offset || tl[i].Elapsed < tl[i-1].Elapsed {
					t.Fatalf("timeline not increasing at %d: %v then %v", i, tl[i-1], tl[i])
				}
			}
			if left, _ := res.TimeLeft(0); left != res.EstimatedPrintTime {
				t.Errorf("TimeLeft(0) = %v; want the whole %v", left, res.EstimatedPrintTime)
			}
			if left, _ := res.TimeLeft(res.Cuttle.Bytes); left != 0 {
				t.Errorf("TimeLeft(end) = %v; want 0", left)
			}

			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r := gcode.NewReader(f)
			worst, n := 0.0, 0
			for {
				l, err := r.Next()
				if err != nil {
					break
				}
				// Slicer's remaining time at this line: Cura's elapsed
				// comment or PrusaSlicer's M73 R<minutes>.
				var slicerLeft, slack float64
				if v, ok := bytes.CutPrefix(l.Comment, []byte("TIME_ELAPSED:")); ok {
					e, err := strconv.ParseFloat(string(v), 64)
					if err != nil {
						t.Fatalf("line %d: %v", l.Number, err)
					}
					slicerLeft = res.Cuttle.Slicer.EstimatedPrintTime - e
				} else if m, ok := l.Value('R'); ok && l.Is('M', 73) {
					slicerLeft, slack = m*60, 60 // whole minutes
				} else {
					continue
				}
				left, _ := res.TimeLeft(l.Offset)
				off := max(math.Abs(left-slicerLeft)-slack, 0) / res.Cuttle.Slicer.EstimatedPrintTime * 100
				worst = max(worst, off)
				n++
			}
			if n == 0 {
				t.Skip("no ;TIME_ELAPSED: or M73 R marks to compare with")
			}
			t.Logf("%d slicer marks, worst time-left difference %.2f %% of the print", n, worst)
			if worst > 2 {
				t.Errorf("time left at a slicer mark differs from the slicer's by %.2f %% of the print; want ≤ 2 %%", worst)
			}
		})
	}
}
