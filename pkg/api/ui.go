package api

import (
	"net/http"
	"strings"
)

// routesUI serves the web UI (Deps.UI) for every path that no route claims
// and that is not an API path. It hooks the router's not-found handler
// rather than a catch-all route, so a wrong method on an API route still
// gets 405 and an unknown API path still gets a JSON 404.
func (s *Server) routesUI() {
	if s.deps.UI == nil {
		return
	}
	s.router.NotFoundHandler = http.HandlerFunc(s.serveUI)
}

// serveUI hands the request to the web UI, after giving the browser its
// CSRF cookie, unless the path belongs to the API.
func (s *Server) serveUI(w http.ResponseWriter, r *http.Request) {
	if isAPIPath(r.URL.Path) {
		s.notFound(w, r)
		return
	}
	if r.Method == http.MethodGet {
		EnsureCSRFCookie(w, r)
	}
	s.deps.UI.ServeHTTP(w, r)
}

// isAPIPath reports whether p is under a prefix the UI must never answer.
func isAPIPath(p string) bool {
	for _, prefix := range []string{"/api", "/plugin", "/sockjs", "/downloads"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return p == "/online.txt" || p == "/online.gif"
}
