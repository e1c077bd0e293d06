package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/power"
)

// Power control: the PSU Control plugin's API (/api/plugin/psucontrol), which
// Cura, Home Assistant and phone apps drive, and cuttle's own relay API
// (/api/cuttle/power). Reading needs STATUS, switching POWER. A relay that
// cannot be driven answers 503 with the reason.

func (s *Server) routesPower() {
	if s.deps.Power == nil {
		s.deps.Power = power.NewBank(nil) // no relays: every PSU call answers 503 with the reason
	}
	s.handle("GET", "/api/plugin/psucontrol", auth.PermStatus, s.getPSUControl)
	s.handle("POST", "/api/plugin/psucontrol", auth.PermPower, s.postPSUControl)
	s.handle("GET", "/api/cuttle/power", auth.PermStatus, s.getPower)
	s.handle("POST", "/api/cuttle/power", auth.PermPower, s.postPower)
	s.handle("GET", "/api/cuttle/power/{name}", auth.PermStatus, s.getRelay)
	s.handle("POST", "/api/cuttle/power/{name}", auth.PermPower, s.postRelay)
}

// psuRelay is the name of the relay PSU Control calls switch.
func (s *Server) psuRelay() string {
	if s.deps.PowerPolicy != nil {
		return s.deps.PowerPolicy.Config().PSU
	}
	return "psu"
}

// writePowerError answers a failed relay call: 503 with the reason when the
// relay cannot be driven or is not configured, 500 otherwise.
func (s *Server) writePowerError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, power.ErrUnavailable):
		writeError(w, http.StatusServiceUnavailable, err.Error())
	case errors.Is(err, power.ErrUnknownRelay):
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf(
			"power control unavailable: no relay named %q in the config's power.relays", s.psuRelay()))
	default:
		s.deps.Log.Error("power", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

// psuControlState is PSU Control's state answer.
type psuControlState struct {
	IsPSUOn bool `json:"isPSUOn"`
}

func (s *Server) getPSUControl(w http.ResponseWriter, r *http.Request) {
	st, err := s.deps.Power.State(r.Context(), s.psuRelay())
	if err != nil {
		s.writePowerError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, psuControlState{IsPSUOn: st == power.On})
}

// postPSUControl runs PSU Control's commands. Like the plugin, switching
// answers 204 and getPSUState answers the state.
func (s *Server) postPSUControl(w http.ResponseWriter, r *http.Request) {
	name, _ := decodeCommand(w, r)
	if name == "" {
		return
	}
	var a power.Action
	switch name {
	case "turnPSUOn":
		a = power.ActionOn
	case "turnPSUOff":
		a = power.ActionOff
	case "togglePSU":
		a = power.ActionToggle
	case "getPSUState":
		s.getPSUControl(w, r)
		return
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown command %q: want turnPSUOn, turnPSUOff, togglePSU or getPSUState", name))
		return
	}
	if _, err := s.deps.Power.Switch(r.Context(), s.psuRelay(), a); err != nil {
		s.writePowerError(w, r, err)
		return
	}
	noContent(w)
}

// relayJSON is one relay in cuttle's power API.
type relayJSON struct {
	Name      string `json:"name"`
	Pin       string `json:"pin,omitempty"`
	SensePin  string `json:"sensePin,omitempty"`
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"`
	State     string `json:"state"`
	IsOn      bool   `json:"isOn"`
	Commanded string `json:"commanded"`
	Sensed    string `json:"sensed,omitempty"`
	Mismatch  bool   `json:"mismatch"`
}

func toRelayJSON(st power.Status) relayJSON {
	out := relayJSON{
		Name: st.Name, Pin: st.Pin, SensePin: st.SensePin, Available: st.Available, Reason: st.Reason,
		State: st.State.String(), IsOn: st.State == power.On, Commanded: st.Commanded.String(), Mismatch: st.Mismatch(),
	}
	if st.SensePin != "" {
		out.Sensed = st.Sensed.String()
	}
	return out
}

// idleJSON is the idle switch-off countdown.
type idleJSON struct {
	Enabled     bool       `json:"enabled"`
	Pending     bool       `json:"pending"`
	Deadline    *time.Time `json:"deadline"`
	SecondsLeft int        `json:"secondsLeft"` // whole seconds, rounded up
	Warned      bool       `json:"warned"`
	Blocked     string     `json:"blocked,omitempty"`
	Error       string     `json:"error,omitempty"`
}

func (s *Server) idle() *idleJSON {
	if s.deps.PowerPolicy == nil {
		return nil
	}
	st := s.deps.PowerPolicy.IdleStatus()
	out := &idleJSON{Enabled: st.Enabled, Pending: st.Pending, Warned: st.Warned, Blocked: st.Blocked, Error: st.LastErr}
	if st.Pending {
		d := st.Deadline.UTC()
		out.Deadline = &d
		out.SecondsLeft = int(max(0, math.Ceil(d.Sub(s.deps.Now()).Seconds())))
	}
	return out
}

// powerJSON is GET /api/cuttle/power.
type powerJSON struct {
	Relays  []relayJSON `json:"relays"`
	PSU     string      `json:"psu"`
	IdleOff *idleJSON   `json:"idleOff"`
}

func (s *Server) getPower(w http.ResponseWriter, r *http.Request) {
	sts := s.deps.Power.Status(r.Context())
	out := powerJSON{Relays: make([]relayJSON, 0, len(sts)), PSU: s.psuRelay(), IdleOff: s.idle()}
	for _, st := range sts {
		out.Relays = append(out.Relays, toRelayJSON(st))
	}
	writeJSON(w, http.StatusOK, out)
}

// postPower runs cuttle's power-wide commands: cancelIdleOff.
func (s *Server) postPower(w http.ResponseWriter, r *http.Request) {
	name, _ := decodeCommand(w, r)
	if name == "" {
		return
	}
	if name != "cancelIdleOff" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown command %q: want cancelIdleOff", name))
		return
	}
	if s.deps.PowerPolicy == nil {
		writeError(w, http.StatusServiceUnavailable, "power policy not running")
		return
	}
	cancelled := s.deps.PowerPolicy.CancelIdleOff()
	writeJSON(w, http.StatusOK, map[string]any{"cancelled": cancelled, "idleOff": s.idle()})
}

func (s *Server) getRelay(w http.ResponseWriter, r *http.Request) {
	st, err := s.deps.Power.StatusOf(r.Context(), mux.Vars(r)["name"])
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, toRelayJSON(st))
}

// postRelay switches one relay: {"command": "on" | "off" | "toggle"}. It
// answers the relay's status afterwards.
func (s *Server) postRelay(w http.ResponseWriter, r *http.Request) {
	relay := mux.Vars(r)["name"]
	if !s.deps.Power.Has(relay) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no relay named %q", relay))
		return
	}
	name, _ := decodeCommand(w, r)
	if name == "" {
		return
	}
	a, err := power.ParseAction(name)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown command %q: want on, off or toggle", name))
		return
	}
	if _, err := s.deps.Power.Switch(r.Context(), relay, a); err != nil {
		s.writePowerError(w, r, err)
		return
	}
	st, err := s.deps.Power.StatusOf(r.Context(), relay)
	if err != nil {
		s.writePowerError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRelayJSON(st))
}
