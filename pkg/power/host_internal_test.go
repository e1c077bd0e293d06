package power

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"
)

// TestWhyMissing checks the reasons given for a line periph.io does not know.
func TestWhyMissing(t *testing.T) {
	dir := t.TempDir()
	noChips := filepath.Join(dir, "none", "gpiochip*")
	chip := filepath.Join(dir, "gpiochip0")
	if err := os.WriteFile(chip, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	chips := filepath.Join(dir, "gpiochip*")
	for _, tc := range []struct {
		name  string
		glob  string
		probe func(string) error
		want  string
	}{
		{"not-a-pi", noChips, probeChip, "no GPIO character device"},
		{"permission", chips, func(string) error { return &fs.PathError{Op: "open", Path: chip, Err: fs.ErrPermission} }, "permission denied on " + chip},
		{"unknown-line", chips, probeChip, "check the pin name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &Host{byName: func(string) gpio.PinIO { return nil }, chipGlob: tc.glob, probe: tc.probe}
			r := h.Open(RelayConfig{Name: "psu", Pin: "GPIO17"})
			_, err := r.State(t.Context())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"GPIO17"`) {
				t.Errorf("State() = %v; want an error naming GPIO17 and containing %q", err, tc.want)
			}
		})
	}
}
