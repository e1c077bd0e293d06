package power

import (
	"fmt"
	"regexp"
	"time"
)

// Startup is what a relay does when cuttle starts.
type Startup string

// Start-up behaviours. The zero value behaves as StartupOff.
const (
	StartupOff  Startup = "off"  // drive the relay off (the default)
	StartupOn   Startup = "on"   // drive the relay on
	StartupKeep Startup = "keep" // leave the line alone until the first command
)

// Drivers a relay can use.
const (
	DriverGPIO = "gpio" // periph.io GPIO lines (the default)
	DriverSim  = "sim"  // in-memory lines, for development and demos
)

// Sense pull settings; the zero value leaves the bias unchanged.
const (
	PullNone = "none"
	PullUp   = "up"
	PullDown = "down"
)

// RelayConfig describes one relay in the config file, for example:
//
//	relays:
//	  - name: psu
//	    pin: GPIO17
//	    activeLow: true
//	    startup: "off"
//	    sensePin: GPIO27
type RelayConfig struct {
	// Name identifies the relay in the API and in events: "psu", "led" or
	// any lower-case word.
	Name string `yaml:"name" json:"name"`
	// Pin is the output line name as periph.io knows it ("GPIO17", or "17").
	Pin string `yaml:"pin" json:"pin"`
	// ActiveLow means the relay is on when the line is low, as on most
	// opto-isolated relay boards.
	ActiveLow bool `yaml:"activeLow" json:"activeLow"`
	// Startup is off (default), on or keep.
	Startup Startup `yaml:"startup" json:"startup"`
	// SensePin optionally names an input line that reports the real state
	// of the load (high = on unless SenseInverted).
	SensePin string `yaml:"sensePin,omitempty" json:"sensePin,omitempty"`
	// SenseInverted means the load is on when the sense line is low.
	SenseInverted bool `yaml:"senseInverted,omitempty" json:"senseInverted,omitempty"`
	// SensePull is the bias on the sense line: "", none, up or down.
	SensePull string `yaml:"sensePull,omitempty" json:"sensePull,omitempty"`
	// Driver is "gpio" (default) or "sim" for a simulated relay with no
	// hardware behind it.
	Driver string `yaml:"driver,omitempty" json:"driver,omitempty"`
}

var relayNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// Validate reports the first problem in c, naming the relay and the field.
func (c RelayConfig) Validate() error {
	if !relayNameRE.MatchString(c.Name) {
		return fmt.Errorf("%w: relay name %q: want 1-32 of a-z, 0-9, _ and -", ErrInvalidConfig, c.Name)
	}
	switch c.Driver {
	case "", DriverGPIO:
		if c.Pin == "" {
			return fmt.Errorf("%w: relay %q: pin is required", ErrInvalidConfig, c.Name)
		}
	case DriverSim:
	default:
		return fmt.Errorf("%w: relay %q: driver %q: want gpio or sim", ErrInvalidConfig, c.Name, c.Driver)
	}
	switch c.Startup {
	case "", StartupOff, StartupOn, StartupKeep:
	default:
		return fmt.Errorf("%w: relay %q: startup %q: want off, on or keep", ErrInvalidConfig, c.Name, c.Startup)
	}
	switch c.SensePull {
	case "", PullNone, PullUp, PullDown:
	default:
		return fmt.Errorf("%w: relay %q: sensePull %q: want none, up or down", ErrInvalidConfig, c.Name, c.SensePull)
	}
	if c.SensePin != "" && c.SensePin == c.Pin {
		return fmt.Errorf("%w: relay %q: sensePin %q is the output pin", ErrInvalidConfig, c.Name, c.SensePin)
	}
	return nil
}

// Config is the power block of the config file:
//
//	power:
//	  relays:
//	    - name: psu
//	      pin: GPIO17
//	      activeLow: true
//	  policy:
//	    idleOff: 30m
//
// Start from DefaultConfig and decode the file over it.
type Config struct {
	// Relays lists the relays in the order the API shows them.
	Relays []RelayConfig `yaml:"relays" json:"relays"`
	// Policy configures automatic switching.
	Policy PolicyConfig `yaml:"policy" json:"policy"`
	// SensePoll is how often sense lines are read to notice a relay switched
	// by other means (default 2s; 0 disables polling).
	SensePoll time.Duration `yaml:"sensePoll" json:"sensePoll"`
}

// DefaultConfig returns no relays, DefaultPolicyConfig and a 2 s sense poll.
func DefaultConfig() Config {
	return Config{Relays: []RelayConfig{}, Policy: DefaultPolicyConfig(), SensePoll: 2 * time.Second}
}

// Validate reports the first problem in c: a malformed relay, a name used
// twice, or a bad policy.
func (c Config) Validate() error {
	seen := map[string]bool{}
	for i, r := range c.Relays {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("power.relays[%d]: %w", i, err)
		}
		if seen[r.Name] {
			return fmt.Errorf("power.relays[%d]: %w: name %q used twice", i, ErrInvalidConfig, r.Name)
		}
		seen[r.Name] = true
	}
	if c.SensePoll < 0 {
		return fmt.Errorf("%w: sensePoll must not be negative", ErrInvalidConfig)
	}
	if err := c.Policy.Validate(); err != nil {
		return fmt.Errorf("power.policy: %w", err)
	}
	return nil
}
