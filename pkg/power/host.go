package power

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/host/v3"
)

// Host opens relays on this machine's GPIO lines through periph.io.
type Host struct {
	init     func() (*driverreg.State, error) // host.Init
	byName   func(string) gpio.PinIO
	chipGlob string
	probe    func(path string) error // opens a chip device to diagnose a missing line

	once    sync.Once
	initErr error    // from init
	failed  []string // periph drivers that failed to load
}

// NewHost returns a Host that finds lines with gpioreg.ByName. periph.io's
// host drivers are initialised (host.Init) once, when the first GPIO relay
// is opened; a failed initialisation makes every GPIO relay unavailable,
// with the reason.
func NewHost() *Host {
	return &Host{init: host.Init, byName: gpioreg.ByName, chipGlob: "/dev/gpiochip*", probe: probeChip}
}

func (h *Host) initOnce() error {
	h.once.Do(func() {
		if h.init == nil {
			return
		}
		st, err := h.init()
		if err != nil {
			h.initErr = err
			return
		}
		for _, f := range st.Failed {
			h.failed = append(h.failed, f.String())
		}
	})
	return h.initErr
}

func probeChip(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	return f.Close()
}

// Open returns the relay cfg describes. If cfg is invalid or its lines
// cannot be used, the relay is an *Unavailable carrying the reason; Open
// itself never fails, so cuttle starts on any host.
func (h *Host) Open(cfg RelayConfig) Relay {
	if err := cfg.Validate(); err != nil {
		return NewUnavailable(cfg.Name, cfg.Pin, err.Error(), err)
	}
	if cfg.Driver == DriverSim {
		return h.openSim(cfg)
	}
	if err := h.initOnce(); err != nil {
		return NewUnavailable(cfg.Name, cfg.Pin, "periph.io host init: "+err.Error(), err)
	}
	out := h.byName(cfg.Pin)
	if out == nil {
		return NewUnavailable(cfg.Name, cfg.Pin, h.whyMissing(cfg.Pin), nil)
	}
	var sense gpio.PinIn
	if cfg.SensePin != "" {
		s := h.byName(cfg.SensePin)
		if s == nil {
			return NewUnavailable(cfg.Name, cfg.Pin, "sense "+h.whyMissing(cfg.SensePin), nil)
		}
		sense = s
	}
	g, err := NewGPIO(cfg, out, sense)
	if err != nil {
		var ue *UnavailableError
		if errors.As(err, &ue) {
			return &Unavailable{err: ue, pin: cfg.Pin}
		}
		return NewUnavailable(cfg.Name, cfg.Pin, err.Error(), err)
	}
	return g
}

// whyMissing explains why periph.io does not know line name.
func (h *Host) whyMissing(name string) string {
	chips, _ := filepath.Glob(h.chipGlob)
	if len(chips) == 0 {
		why := fmt.Sprintf("line %q not found: no GPIO character device (%s) on this host; not a Raspberry Pi?", name, h.chipGlob)
		if len(h.failed) > 0 {
			why += " (periph drivers failed: " + strings.Join(h.failed, "; ") + ")"
		}
		return why
	}
	for _, c := range chips {
		if err := h.probe(c); err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return fmt.Sprintf("line %q not found: permission denied on %s: run cuttle in a group that may use GPIO (for example gpio, with a udev rule)", name, c)
			}
			return fmt.Sprintf("line %q not found: cannot open %s: %v", name, c, err)
		}
	}
	return fmt.Sprintf("line %q not found on %s: check the pin name (for example GPIO17)", name, strings.Join(chips, ", "))
}

// openSim builds a relay on in-memory lines. A sense line, if configured,
// follows the relay as a healthy PSU would.
func (h *Host) openSim(cfg RelayConfig) Relay {
	pin := cfg.Pin
	if pin == "" {
		pin = "SIM_" + strings.ToUpper(cfg.Name)
	}
	out := &gpiotest.Pin{N: pin, Num: -1}
	var sense gpio.PinIn
	if cfg.SensePin != "" {
		sense = &loopSense{Pin: gpiotest.Pin{N: cfg.SensePin, Num: -1}, out: out, flip: cfg.ActiveLow != cfg.SenseInverted}
	}
	g, err := NewGPIO(cfg, out, sense)
	if err != nil {
		return NewUnavailable(cfg.Name, cfg.Pin, err.Error(), err)
	}
	return g
}

// loopSense is a simulated sense line that reads the simulated output line.
type loopSense struct {
	gpiotest.Pin
	out  *gpiotest.Pin
	flip bool
}

func (l *loopSense) Read() gpio.Level { return gpio.Level(bool(l.out.Read()) != l.flip) }
