package gcode_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/gcode"
)

// corpusDir finds the shared corpus: $CUTTLE_GCODE_CORPUS if set, else the
// first "shared/gcode" folder found walking up from the test's working
// directory (the repository root's ../shared/gcode, also from a git
// worktree one level deeper).
func corpusDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("CUTTLE_GCODE_CORPUS"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		c := filepath.Join(dir, "shared", "gcode")
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	t.Skip("corpus folder shared/gcode (../shared/gcode from the repository root) is absent; set CUTTLE_GCODE_CORPUS to run the corpus checks")
	return ""
}

func corpusFiles(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join(corpusDir(t), "*.gcode"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no *.gcode in the corpus folder")
	}
	return files
}

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
