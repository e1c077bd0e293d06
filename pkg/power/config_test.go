package power_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cuttleprint/cuttle/pkg/power"
)

// Ensure that unquoted on/off (YAML 1.1 booleans) decode as start-up states.
func TestRelayConfig_YAML(t *testing.T) {
	const doc = `
- name: psu
  pin: GPIO17
  activeLow: true
  startup: off
  sensePin: GPIO27
  senseInverted: true
  sensePull: up
- name: led
  pin: "22"
  startup: on
- name: fan
  driver: sim
  startup: keep
`
	var got []power.RelayConfig
	if err := yaml.Unmarshal([]byte(doc), &got); err != nil {
		t.Fatal(err)
	}
	want := []power.RelayConfig{
		{Name: "psu", Pin: "GPIO17", ActiveLow: true, Startup: power.StartupOff, SensePin: "GPIO27", SenseInverted: true, SensePull: power.PullUp},
		{Name: "led", Pin: "22", Startup: power.StartupOn},
		{Name: "fan", Driver: power.DriverSim, Startup: power.StartupKeep},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("yaml.Unmarshal = %+v; want %+v", got, want)
	}
	for _, c := range got {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%s) = %v", c.Name, err)
		}
	}
}

func TestRelayConfig_Validate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  power.RelayConfig
	}{
		{"empty-name", power.RelayConfig{Pin: "GPIO17"}},
		{"upper-name", power.RelayConfig{Name: "PSU", Pin: "GPIO17"}},
		{"slash-name", power.RelayConfig{Name: "a/b", Pin: "GPIO17"}},
		{"no-pin", power.RelayConfig{Name: "psu"}},
		{"bad-driver", power.RelayConfig{Name: "psu", Pin: "GPIO17", Driver: "i2c"}},
		{"bad-startup", power.RelayConfig{Name: "psu", Pin: "GPIO17", Startup: "true"}},
		{"bad-pull", power.RelayConfig{Name: "psu", Pin: "GPIO17", SensePin: "GPIO27", SensePull: "sideways"}},
		{"sense-is-output", power.RelayConfig{Name: "psu", Pin: "GPIO17", SensePin: "GPIO17"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); !errors.Is(err, power.ErrInvalidConfig) {
				t.Errorf("Validate(%+v) = %v; want ErrInvalidConfig", tc.cfg, err)
			}
		})
	}
}

// Ensure that a config file block decodes over the defaults and validates.
func TestConfig_YAMLOverDefaults(t *testing.T) {
	const doc = `
relays:
  - name: psu
    pin: GPIO17
    activeLow: true
  - name: led
    pin: GPIO27
policy:
  idleOff: 30m
  settleTime: 5s
  m81: both
`
	c := power.DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	p := c.Policy
	if len(c.Relays) != 2 || p.IdleOff != 30*time.Minute || p.SettleTime != 5*time.Second || p.M81 != power.GcodeBoth ||
		p.M80 != power.GcodeRelay || p.IdleThreshold != 50 || p.IdleWarning != time.Minute || !p.OnBeforeConnect || p.PSU != "psu" || c.SensePoll != 2*time.Second {
		t.Errorf("decoded config = %+v", c)
	}
	c.Relays = append(c.Relays, power.RelayConfig{Name: "psu", Pin: "GPIO5"})
	if err := c.Validate(); !errors.Is(err, power.ErrInvalidConfig) || !strings.Contains(err.Error(), `"psu" used twice`) {
		t.Errorf("Validate() with a duplicate = %v; want ErrInvalidConfig naming psu", err)
	}
}

func TestConfig_PSUControlSettings(t *testing.T) {
	c := power.DefaultConfig()
	c.Relays = []power.RelayConfig{{Name: "led", Pin: "GPIO5"}, {Name: "psu", Pin: "GPIO17", ActiveLow: true, SensePin: "GPIO27"}}
	c.Policy.IdleOff = 30 * time.Minute
	got := c.PSUControlSettings()
	for k, want := range map[string]any{
		"onoffGPIOPin": "GPIO17", "invertonoffGPIOPin": true, "sensingMethod": "GPIO", "senseGPIOPin": "GPIO27",
		"powerOffWhenIdle": true, "idleTimeout": 30.0, "idleTimeoutWaitTemp": 50.0, "postOnDelay": 3.0, "enablePseudoOnOff": true,
	} {
		if got[k] != want {
			t.Errorf("PSUControlSettings()[%q] = %v; want %v", k, got[k], want)
		}
	}
	if got := power.DefaultConfig().PSUControlSettings(); got["sensingMethod"] != "INTERNAL" || got["powerOffWhenIdle"] != false {
		t.Errorf("defaults = %v; want internal sensing, no idle off", got)
	}
}
