package virtualprinter

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// heater is a first-order thermal model: the element heats at up to rise °C/s above ambient
// per unit of power and loses heat in proportion to its excess over ambient (time constant
// 1/loss). A proportional controller with feed-forward holds the target without overshoot.
type heater struct {
	temp, target float64
	power        float64 // 0..1
	rise, loss   float64 // °C/s per unit power, 1/s
	maxTemp      float64
}

func newHotend(ambient float64) *heater {
	// Reaches 200 °C from 25 °C in about 40 s and 275 °C above ambient at full power.
	return &heater{temp: ambient, rise: 275 * 0.025, loss: 0.025, maxTemp: 275}
}

func newBed(ambient float64) *heater {
	// Reaches 60 °C in about 45 s; at most 100 °C above ambient.
	return &heater{temp: ambient, rise: 100 * 0.01, loss: 0.01, maxTemp: 120}
}

// kp is the controller's proportional gain, in power per °C of error.
const kp = 0.1

// advance runs the model for dt of simulated time. It solves the model exactly, piece by
// piece: while the controller is saturated (full power or off) the element approaches the
// equilibrium of that power; in between, feed-forward plus proportional control makes it
// approach the target exponentially at rate loss + rise·kp. So huge TimeScales cost no
// more than small ones.
func (h *heater) advance(dt time.Duration, ambient float64) {
	s := dt.Seconds()
	if h.target <= 0 {
		h.power = 0
		h.temp = ambient + (h.temp-ambient)*math.Exp(-h.loss*s)
		return
	}
	hold := (h.target - ambient) * h.loss / h.rise
	if u := hold + kp*(h.target-h.temp); u <= 0 || u >= 1 {
		// Saturated: full power below the control band, off above it, until the edge.
		power, edge := 1.0, h.target-(1-hold)/kp
		if u <= 0 {
			power, edge = 0, h.target+hold/kp
		}
		h.power = power
		eq := ambient + power*h.rise/h.loss
		r := (h.temp - eq) / (edge - eq) // > 1 when the edge lies between temp and eq
		if r <= 1 || math.Log(r)/h.loss >= s {
			h.temp = eq + (h.temp-eq)*math.Exp(-h.loss*s)
			return
		}
		s -= math.Log(r) / h.loss
		h.temp = edge
	}
	h.temp = h.target + (h.temp-h.target)*math.Exp(-(h.loss+h.rise*kp)*s)
	h.power = math.Max(0, math.Min(1, hold+kp*(h.target-h.temp)))
}

// pwm is the heater power as Marlin reports it after "@:" (0..127 on AVR).
func (h *heater) pwm() int { return int(math.Round(h.power * 127)) }

// thermal holds the hotend and bed and the time they were last advanced.
type thermal struct {
	hotend, bed *heater
	ambient     float64
	at          time.Duration // simulated time of the last advance
}

func newThermal(ambient float64) *thermal {
	return &thermal{hotend: newHotend(ambient), bed: newBed(ambient), ambient: ambient}
}

// update advances both heaters to simulated time now.
func (t *thermal) update(now time.Duration) {
	if now <= t.at {
		return
	}
	dt := now - t.at
	t.at = now
	t.hotend.advance(dt, t.ambient)
	t.bed.advance(dt, t.ambient)
}

// report is Marlin's print_heater_states: " T:25.00 /0.00 B:25.00 /0.00 @:0 B@:0".
func (t *thermal) report() string {
	var b strings.Builder
	fmt.Fprintf(&b, " T:%.2f /%.2f B:%.2f /%.2f @:%d B@:%d",
		t.hotend.temp, t.hotend.target, t.bed.temp, t.bed.target, t.hotend.pwm(), t.bed.pwm())
	return b.String()
}

// Marlin's default wait parameters (TEMP_RESIDENCY_TIME, TEMP_WINDOW, TEMP_HYSTERESIS and
// their bed counterparts are the same by default).
const (
	tempResidency  = 10 * time.Second
	tempWindow     = 1.0
	tempHysteresis = 3.0
)

// setTarget handles M104/M140 and the target part of M109/M190. It answers false when the
// command names a tool other than T0.
func setTarget(s *session, c command, h *heater) bool {
	if c.letter == 'M' && (c.code == 104 || c.code == 109) && c.int('T', 0) != 0 {
		s.send(fmt.Sprintf("echo:Invalid extruder %d", c.int('T', 0)))
		return false
	}
	switch {
	case c.has('S'):
		h.target = c.float('S', 0)
	case c.has('R'):
		h.target = c.float('R', 0)
	default:
		return true
	}
	h.target = math.Max(0, math.Min(h.target, h.maxTemp-15))
	return true
}

// waitHeater is M109/M190: wait until the heater is within the window of its target for the
// residency time, printing the temperatures every second. With S only heating is waited for;
// with R cooling too. M108 cancels the wait.
func waitHeater(s *session, c command, h *heater) error {
	s.th.update(s.now())
	coolToo := c.has('R')
	if h.target <= 0 || (!coolToo && h.temp > h.target) {
		return nil
	}
	s.cancelWait = false
	var inWindowSince time.Duration = -1
	next := s.now()
	return s.waitFor(busyProcessing, func() (bool, time.Duration) {
		now := s.now()
		if s.cancelWait || h.target <= 0 || (!coolToo && h.temp > h.target+tempWindow) {
			return true, 0
		}
		diff := math.Abs(h.temp - h.target)
		if inWindowSince < 0 && diff <= tempWindow {
			inWindowSince = now
		} else if inWindowSince >= 0 && diff > tempHysteresis {
			inWindowSince = -1
		}
		if inWindowSince >= 0 && now-inWindowSince >= tempResidency {
			return true, 0
		}
		if now >= next {
			w := "?"
			if inWindowSince >= 0 {
				w = fmt.Sprint(int((tempResidency - (now - inWindowSince)).Seconds()))
			}
			s.send(s.th.report() + " W:" + w)
			next = now + time.Second
		}
		return false, next - now
	})
}
