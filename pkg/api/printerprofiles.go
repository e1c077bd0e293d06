package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/profiles"
	"github.com/gorilla/mux"
)

func (s *Server) routesProfiles() {
	if s.deps.Profiles == nil {
		return
	}
	s.handle("GET", "/api/printerprofiles", auth.PermConnection, s.listProfiles)
	s.handle("POST", "/api/printerprofiles", auth.PermSettings, s.addProfile)
	s.handle("GET", "/api/printerprofiles/{id}", auth.PermConnection, s.getProfile)
	s.handle("PATCH", "/api/printerprofiles/{id}", auth.PermSettings, s.patchProfile)
	s.handle("DELETE", "/api/printerprofiles/{id}", auth.PermSettings, s.deleteProfile)
}

// profileJSON adds OctoPrint's computed fields to a profile.
func (s *Server) profileJSON(r *http.Request, p profiles.Profile) map[string]any {
	raw, _ := json.Marshal(p)
	var m map[string]any
	json.Unmarshal(raw, &m)
	m["default"] = p.ID == s.deps.Profiles.Default(r.Context())
	m["current"] = p.ID == s.deps.Profiles.Current(r.Context())
	m["resource"] = baseURL(r) + "/api/printerprofiles/" + p.ID
	return m
}

func (s *Server) listProfiles(w http.ResponseWriter, r *http.Request) {
	all, err := s.deps.Profiles.List(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := map[string]any{}
	for id, p := range all {
		out[id] = s.profileJSON(r, p)
	}
	writeJSON(w, http.StatusOK, map[string]any{"profiles": out})
}

func (s *Server) getProfile(w http.ResponseWriter, r *http.Request) {
	p, err := s.deps.Profiles.Get(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		writeProfileError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.profileJSON(r, p))
}

// profileBody is {"profile": {...}, "basedOn": "id"}.
type profileBody struct {
	Profile map[string]any `json:"profile"`
	BasedOn string         `json:"basedOn"`
}

func (s *Server) addProfile(w http.ResponseWriter, r *http.Request) {
	var b profileBody
	if !decodeJSON(w, r, &b) {
		return
	}
	if b.Profile == nil {
		writeError(w, http.StatusBadRequest, "profile is missing")
		return
	}
	base := profiles.Builtin()
	if b.BasedOn != "" {
		p, err := s.deps.Profiles.Get(r.Context(), b.BasedOn)
		if err != nil {
			writeProfileError(w, err)
			return
		}
		base = p
	}
	base.ID, base.Name = "", ""
	p, err := profiles.Merge(base, b.Profile)
	if err == nil {
		p, err = s.deps.Profiles.Add(r.Context(), p)
	}
	if err != nil {
		writeProfileError(w, err)
		return
	}
	if def, _ := b.Profile["default"].(bool); def {
		s.deps.Profiles.SetDefault(r.Context(), p.ID)
	}
	writeJSON(w, http.StatusOK, map[string]any{"profile": s.profileJSON(r, p)})
}

func (s *Server) patchProfile(w http.ResponseWriter, r *http.Request) {
	var b profileBody
	if !decodeJSON(w, r, &b) {
		return
	}
	if b.Profile == nil {
		writeError(w, http.StatusBadRequest, "profile is missing")
		return
	}
	id := mux.Vars(r)["id"]
	p, err := s.deps.Profiles.Update(r.Context(), id, b.Profile)
	if err != nil {
		writeProfileError(w, err)
		return
	}
	if def, _ := b.Profile["default"].(bool); def {
		s.deps.Profiles.SetDefault(r.Context(), p.ID)
	}
	if m := s.deps.Printer; m != nil && m.Profile().ID == p.ID {
		m.SetProfile(MachineProfile(p)) // the profile in use changed: the Machine follows
	}
	writeJSON(w, http.StatusOK, map[string]any{"profile": s.profileJSON(r, p)})
}

func (s *Server) deleteProfile(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.Profiles.Delete(r.Context(), mux.Vars(r)["id"]); err != nil {
		writeProfileError(w, err)
		return
	}
	noContent(w)
}

func writeProfileError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, profiles.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, profiles.ErrInvalid), errors.Is(err, profiles.ErrExists):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, profiles.ErrInUse):
		writeError(w, http.StatusConflict, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}
