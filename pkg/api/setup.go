package api

import (
	"net/http"

	"github.com/cuttleprint/cuttle/pkg/auth"
)

func (s *Server) routesSetup() {
	s.handle("GET", "/api/cuttle/setup", Unguarded, s.getSetup)
	s.handle("POST", "/api/cuttle/setup", Unguarded, s.postSetup)
}

// getSetup tells the web UI whether the first-run setup is still open.
func (s *Server) getSetup(w http.ResponseWriter, r *http.Request) {
	has, err := s.deps.Auth.HasAdmin(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"needed": !has})
}

type setupRequest struct {
	User string `json:"user"`
	Pass string `json:"pass"`
}

// postSetup creates the first admin. It is open only while no admin exists,
// and only to clients on loopback, private or link-local addresses, so a
// device reachable from the internet cannot be claimed by a stranger.
func (s *Server) postSetup(w http.ResponseWriter, r *http.Request) {
	ip := clientIP(r)
	if ip == nil || !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast()) {
		writeError(w, http.StatusForbidden, "first-run setup is only allowed from the local network")
		return
	}
	var req setupRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	if req.User == "" || req.Pass == "" {
		writeError(w, http.StatusBadRequest, "user and pass are required")
		return
	}
	u, err := s.deps.Auth.AddFirstAdmin(r.Context(), auth.NewUser{Name: req.User, Password: req.Pass})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, newUserRecord(u, false))
}
