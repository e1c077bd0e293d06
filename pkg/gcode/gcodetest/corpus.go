// Package gcodetest finds the shared G-code corpus for tests and benchmarks:
// real PrusaSlicer and CuraEngine output with the slicers' own estimates,
// kept outside the repository in ../shared/gcode.
package gcodetest

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// EnvCorpus overrides where the corpus is.
const EnvCorpus = "CUTTLE_GCODE_CORPUS"

// Dir returns the corpus folder: $CUTTLE_GCODE_CORPUS if set, else the first
// "shared/gcode" found walking up from the working directory (the
// repository root's ../shared/gcode, from a worktree or a CI clone alike).
// It skips the test when there is none.
func Dir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv(EnvCorpus); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
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
	tb.Skip("skipped: the G-code corpus (../shared/gcode beside the repository) is absent; set " + EnvCorpus)
	return ""
}

// Files returns the corpus's .gcode files, sorted.
func Files(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(Dir(tb), "*.gcode"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no .gcode files in the corpus: %v", err)
	}
	sort.Strings(files)
	return files
}

// Read returns the content of the corpus file name.
func Read(tb testing.TB, name string) []byte {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(Dir(tb), name))
	if err != nil {
		tb.Fatalf("corpus file %s: %v", name, err)
	}
	return raw
}
