package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/api"
	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/store"
)

func newUIServer(t *testing.T) *api.Server {
	t.Helper()
	db, err := store.Open(context.Background(), t.TempDir(), store.Options{})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<!doctype html>ui " + r.URL.Path))
	})
	return api.New(api.Deps{Auth: auth.NewService(db, auth.Options{}), UI: ui})
}

// Ensure the UI answers non-API paths with a CSRF cookie, and never answers
// for the API's own prefixes.
func TestUI_Mount(t *testing.T) {
	s := newUIServer(t)
	tests := []struct {
		method, path string
		code         int
		ui           bool
	}{
		{"GET", "/", 200, true},
		{"GET", "/settings", 200, true},
		{"GET", "/assets/index-abc.js", 200, true},
		{"GET", "/api/nope", 404, false},
		{"GET", "/api", 404, false},
		{"GET", "/plugin/nope/x", 404, false},
		{"GET", "/sockjs/nope", 404, false},
		{"GET", "/downloads/files/local/x.gcode", 404, false},
		{"DELETE", "/api/version", 405, false},
		{"GET", "/apiary", 200, true},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.code {
				t.Fatalf("%s %s = %d; want %d (body %q)", tt.method, tt.path, w.Code, tt.code, w.Body.String())
			}
			gotUI := strings.HasPrefix(w.Body.String(), "<!doctype html>ui")
			if gotUI != tt.ui {
				t.Errorf("%s %s answered by UI = %v; want %v (body %q)", tt.method, tt.path, gotUI, tt.ui, w.Body.String())
			}
			if !tt.ui && !strings.Contains(w.Body.String(), `"error"`) {
				t.Errorf("%s %s body = %q; want a JSON error", tt.method, tt.path, w.Body.String())
			}
			cookie := strings.Contains(w.Header().Get("Set-Cookie"), "csrf_token=")
			if cookie != (tt.ui && tt.method == "GET") {
				t.Errorf("%s %s sets csrf_token = %v; want %v", tt.method, tt.path, cookie, tt.ui)
			}
		})
	}
}

// Ensure a browser that already holds a CSRF cookie keeps it.
func TestUI_KeepsCSRFCookie(t *testing.T) {
	s := newUIServer(t)
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: "csrf_token", Value: "abc"})
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if got := w.Header().Get("Set-Cookie"); got != "" {
		t.Errorf("Set-Cookie = %q; want none when the browser has a token", got)
	}
}
