package api

import (
	"errors"
	"maps"
	"net/http"
	"slices"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/profiles"
)

// The connection resource (reference §3.2): GET /api/connection shows the
// current connection and the options, POST connects, disconnects or fakes an
// acknowledgement.

func (s *Server) routesConnection() {
	if s.deps.Printer == nil {
		s.deps.Printer = printer.New(printer.Config{}) // no printer wired: always offline
	}
	s.handle("GET", "/api/connection", auth.PermStatus, s.getConnection)
	s.handle("POST", "/api/connection", auth.PermConnection, s.postConnection)
}

type connectionCurrent struct {
	State          string  `json:"state"`
	Port           *string `json:"port"`
	Baudrate       *int    `json:"baudrate"`
	PrinterProfile string  `json:"printerProfile"`
}

type profileRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type connectionOptions struct {
	Ports                    []string     `json:"ports"`
	Baudrates                []int        `json:"baudrates"`
	PrinterProfiles          []profileRef `json:"printerProfiles"`
	PortPreference           *string      `json:"portPreference"`
	BaudratePreference       *int         `json:"baudratePreference"`
	PrinterProfilePreference string       `json:"printerProfilePreference"`
}

type connectionState struct {
	Current connectionCurrent `json:"current"`
	Options connectionOptions `json:"options"`
}

func (s *Server) getConnection(w http.ResponseWriter, r *http.Request) {
	m := s.deps.Printer
	snap := m.Snapshot()
	prof := m.Profile()
	cur := connectionCurrent{State: "Closed", PrinterProfile: prof.ID}
	if snap.State != printer.StateOffline {
		cur.State = snap.StateText
		if snap.Port != "" {
			p := snap.Port
			cur.Port = &p
		}
		if snap.Baudrate != 0 {
			b := snap.Baudrate
			cur.Baudrate = &b
		}
	}
	opts := connectionOptions{
		Ports:                    m.Ports(),
		Baudrates:                m.Baudrates(),
		PrinterProfiles:          []profileRef{{ID: prof.ID, Name: prof.Name}},
		PrinterProfilePreference: prof.ID,
	}
	if ps := s.deps.Profiles; ps != nil {
		all, err := ps.List(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		opts.PrinterProfiles = opts.PrinterProfiles[:0]
		for _, id := range slices.Sorted(maps.Keys(all)) {
			opts.PrinterProfiles = append(opts.PrinterProfiles, profileRef{ID: id, Name: all[id].Name})
		}
		opts.PrinterProfilePreference = ps.Default(r.Context())
	}
	if opts.Ports == nil {
		opts.Ports = []string{}
	}
	if port, baud := m.Preferences(); port != "" || baud != 0 {
		if port != "" {
			opts.PortPreference = &port
		}
		if baud != 0 {
			opts.BaudratePreference = &baud
		}
	}
	writeJSON(w, http.StatusOK, connectionState{Current: cur, Options: opts})
}

func (s *Server) postConnection(w http.ResponseWriter, r *http.Request) {
	name, c := decodeCommand(w, r)
	if name == "" {
		return
	}
	m := s.deps.Printer
	var err error
	switch name {
	case "connect":
		var port, profile string
		var baud int
		var save, autoconnect bool
		for _, p := range []struct {
			key string
			v   any
		}{{"port", &port}, {"baudrate", &baud}, {"printerProfile", &profile}, {"save", &save}} {
			if _, ok := c.get(w, p.key, p.v); !ok {
				return
			}
		}
		hasAuto, ok := c.get(w, "autoconnect", &autoconnect)
		if !ok {
			return
		}
		if port != "" && port != printer.PortAuto && !slices.Contains(m.Ports(), port) {
			writeError(w, http.StatusBadRequest, "port is invalid")
			return
		}
		if baud != 0 && !slices.Contains(m.Baudrates(), baud) {
			writeError(w, http.StatusBadRequest, "baudrate is invalid")
			return
		}
		chosen, ok := s.connectProfile(r, profile)
		if !ok {
			writeError(w, http.StatusBadRequest, "printerProfile is invalid")
			return
		}
		if save || hasAuto {
			if err := s.saveConnection(m, port, baud, save, hasAuto, autoconnect); err != nil {
				s.deps.Log.Error("save connection preferences", "err", err)
				writeError(w, http.StatusInternalServerError, "save connection preferences: "+err.Error())
				return
			}
		}
		if s.deps.Profiles != nil {
			s.deps.Profiles.SetCurrent(chosen.ID)
		}
		m.SetProfile(chosen)
		err = m.Connect(r.Context(), port, baud)
	case "disconnect":
		m.Disconnect()
	case "fake_ack":
		// Offline, OctoPrint's fake_ack does nothing and still answers 204.
		if err = m.FakeAck(); errors.Is(err, printer.ErrNotOperational) {
			err = nil
		}
	default:
		writeError(w, http.StatusBadRequest, "command is invalid")
		return
	}
	s.noContentOr(w, r, err)
}

// connectProfile resolves a connect request's printerProfile: an id from the
// profile store ("" takes the store's default), or without a store only the
// Machine's own profile. ok is false for an unknown id.
func (s *Server) connectProfile(r *http.Request, id string) (printer.Profile, bool) {
	ps := s.deps.Profiles
	if ps == nil {
		p := s.deps.Printer.Profile()
		return p, id == "" || id == p.ID
	}
	if id == "" {
		id = ps.Default(r.Context())
	}
	p, err := ps.Get(r.Context(), id)
	if err != nil {
		return printer.Profile{}, false
	}
	return MachineProfile(p), true
}

// MachineProfile is the part of a stored printer profile the Machine uses:
// heaters, extruder count and manual feed rates.
func MachineProfile(p profiles.Profile) printer.Profile {
	return printer.Profile{ID: p.ID, Name: p.Name, HeatedBed: p.HeatedBed, HeatedChamber: p.HeatedChamber,
		Extruders: p.Extruder.Count, SpeedXY: min(p.Axes.X.Speed, p.Axes.Y.Speed), SpeedZ: p.Axes.Z.Speed, SpeedE: p.Axes.E.Speed}
}

// saveConnection stores the port and baud rate as preferences (save) and the
// autoconnect flag in the settings, and tells the Machine.
func (s *Server) saveConnection(m *printer.Machine, port string, baud int, save, hasAuto, autoconnect bool) error {
	serial := map[string]any{}
	if save {
		serial["port"], serial["baudrate"] = port, baud
		m.SetPreferences(port, baud)
	}
	if hasAuto {
		serial["autoconnect"] = autoconnect
	}
	if s.deps.Settings == nil {
		return nil
	}
	_, err := s.deps.Settings.Update(map[string]any{"serial": serial})
	return err
}
