package power

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"periph.io/x/conn/v3/driver/driverreg"
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

// TestHostInitFails checks that a failed host.Init makes GPIO relays
// unavailable with the reason, and is attempted only once.
func TestHostInitFails(t *testing.T) {
	calls := 0
	h := &Host{init: func() (*driverreg.State, error) { calls++; return nil, errors.New("boom") }, byName: func(string) gpio.PinIO { return nil }}
	for range 2 {
		r := h.Open(RelayConfig{Name: "psu", Pin: "GPIO17"})
		if _, err := r.State(t.Context()); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "periph.io host init: boom") {
			t.Errorf("State() = %v; want ErrUnavailable with the init error", err)
		}
	}
	if calls != 1 {
		t.Errorf("host.Init called %d times; want 1", calls)
	}
	if r := h.Open(RelayConfig{Name: "sim", Driver: DriverSim}); r.(Reporter).Status(t.Context()).Available != true {
		t.Error("sim relay unavailable after a failed host init")
	}
}
