package settings

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/cuttleprint/cuttle/pkg/power"
)

// Settings is the whole configuration. The zero value is not useful; start
// from Defaults.
type Settings struct {
	Server ServerSettings `yaml:"server" json:"server"`
	// Power configures relays and automatic power switching (pkg/power).
	Power power.Config `yaml:"power" json:"power"`
}

// ServerSettings configure the HTTP server.
type ServerSettings struct {
	// Listen is the address to serve on (host:port).
	Listen string `yaml:"listen" json:"listen"`
	// MaxBodyBytes bounds JSON request bodies.
	MaxBodyBytes int64 `yaml:"maxBodyBytes" json:"maxBodyBytes"`
}

// Defaults returns the configuration cuttle runs with when no file says
// otherwise.
func Defaults() *Settings {
	return &Settings{
		Server: ServerSettings{Listen: "127.0.0.1:5000", MaxBodyBytes: 1 << 20},
		Power:  power.DefaultConfig(),
	}
}

// Load reads the YAML file at path over the defaults. A missing file yields
// the defaults; unknown keys are an error, so a typo does not pass silently.
func Load(path string) (*Settings, error) {
	s := Defaults()
	if path == "" {
		return s, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("settings: open %q: %w", path, err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(s); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("settings: read %q: %w", path, err)
	}
	if err := s.Power.Validate(); err != nil {
		return nil, fmt.Errorf("settings: %q: %w", path, err)
	}
	return s, nil
}
