package api

import (
	"net/http"
	"testing"
)

// Ensure that a route registered around handle shows up in Routes without a
// permission, which the auth matrix then reports.
func TestRoutes_UndeclaredRouteHasNoPermission(t *testing.T) {
	s := New(Deps{})
	s.router.HandleFunc("/api/rogue", func(http.ResponseWriter, *http.Request) {}).Methods("GET").Name("rogue")
	found := false
	for _, rt := range s.Routes() {
		if rt.Path == "/api/rogue" {
			found = true
			if rt.Permission != "" {
				t.Errorf("rogue route has permission %q; want none", rt.Permission)
			}
		}
	}
	if !found {
		t.Fatal("Routes() does not list the rogue route")
	}
}

func TestCollapseSlashes(t *testing.T) {
	for in, want := range map[string]string{"//api//printer/bed": "/api/printer/bed", "/api/version": "/api/version", "///": "/"} {
		if got := collapseSlashes(in); got != want {
			t.Errorf("collapseSlashes(%q) = %q; want %q", in, got, want)
		}
	}
}
