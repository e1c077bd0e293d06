package web_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cuttleprint/cuttle/pkg/web"
)

var bigJS = strings.Repeat("console.log('cuttle');\n", 200)

func testFS() fstest.MapFS {
	return fstest.MapFS{
		"index.html":              {Data: []byte(`<!doctype html><script type="module" src="/assets/index-abc123.js"></script>`)},
		"assets/index-abc123.js":  {Data: []byte(bigJS)},
		"assets/index-def456.css": {Data: []byte("body{}")},
		"favicon.svg":             {Data: []byte("<svg/>")},
	}
}

func newTestHandler(t *testing.T) *web.Handler {
	t.Helper()
	h, err := web.NewFS(testFS())
	if err != nil {
		t.Fatalf("NewFS: %v", err)
	}
	return h
}

func do(h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandler_Routes(t *testing.T) {
	h := newTestHandler(t)
	tests := []struct {
		name, method, path string
		code               int
		ctype, cache, body string
	}{
		{"root is index", "GET", "/", 200, "text/html; charset=utf-8", "no-cache", "<!doctype html>"},
		{"index by name", "GET", "/index.html", 200, "text/html; charset=utf-8", "no-cache", "<!doctype html>"},
		{"client route", "GET", "/settings", 200, "text/html; charset=utf-8", "no-cache", "<!doctype html>"},
		{"nested client route", "GET", "/files/some/folder", 200, "text/html; charset=utf-8", "no-cache", "<!doctype html>"},
		{"hashed script", "GET", "/assets/index-abc123.js", 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "console.log"},
		{"hashed style", "GET", "/assets/index-def456.css", 200, "text/css; charset=utf-8", "public, max-age=31536000, immutable", "body{}"},
		{"unhashed file", "GET", "/favicon.svg", 200, "image/svg+xml", "no-cache", "<svg/>"},
		{"missing asset", "GET", "/assets/gone-000.js", 404, "text/plain; charset=utf-8", "no-cache", "not found"},
		{"missing asset dir route", "GET", "/assets/whatever", 404, "text/plain; charset=utf-8", "no-cache", "not found"},
		{"missing file with extension", "GET", "/robots.txt", 404, "text/plain; charset=utf-8", "no-cache", "not found"},
		{"traversal stays inside", "GET", "/../../pkg/web/web.go", 404, "text/plain; charset=utf-8", "no-cache", "not found"},
		{"dot segments cleaned", "GET", "/x/../assets/index-def456.css", 200, "text/css; charset=utf-8", "public, max-age=31536000, immutable", "body{}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(h, tt.method, tt.path, nil)
			if w.Code != tt.code {
				t.Fatalf("%s %s: status = %d; want %d", tt.method, tt.path, w.Code, tt.code)
			}
			if got := w.Header().Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type = %q; want %q", got, tt.ctype)
			}
			if got := w.Header().Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control = %q; want %q", got, tt.cache)
			}
			if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q; want nosniff", got)
			}
			if !strings.Contains(w.Body.String(), tt.body) {
				t.Errorf("body = %.60q; want it to contain %q", w.Body.String(), tt.body)
			}
		})
	}
}

func TestHandler_IndexSecurityHeaders(t *testing.T) {
	w := do(newTestHandler(t), "GET", "/", nil)
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "connect-src 'self' ws: wss:", "frame-ancestors 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy = %q; want it to contain %q", csp, want)
		}
	}
	if got := w.Header().Get("X-Frame-Options"); got != "SAMEORIGIN" {
		t.Errorf("X-Frame-Options = %q; want SAMEORIGIN", got)
	}
}

func TestHandler_Methods(t *testing.T) {
	h := newTestHandler(t)
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		w := do(h, m, "/", nil)
		if w.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s / = %d; want 405", m, w.Code)
		}
		if got := w.Header().Get("Allow"); got != "GET, HEAD" {
			t.Errorf("%s / Allow = %q; want %q", m, got, "GET, HEAD")
		}
	}
	w := do(h, "HEAD", "/assets/index-abc123.js", nil)
	if w.Code != 200 || w.Body.Len() != 0 {
		t.Errorf("HEAD = %d with %d body bytes; want 200 and none", w.Code, w.Body.Len())
	}
	if got := w.Header().Get("Content-Length"); got != "4600" {
		t.Errorf("HEAD Content-Length = %q; want 4600", got)
	}
}

func TestHandler_Gzip(t *testing.T) {
	h := newTestHandler(t)
	tests := []struct {
		accept string
		gz     bool
	}{
		{"gzip, deflate, br", true},
		{"br;q=1.0, gzip;q=0.8", true},
		{"GZIP", true},
		{"gzip;q=0", false},
		{"identity", false},
		{"", false},
	}
	for _, tt := range tests {
		w := do(h, "GET", "/assets/index-abc123.js", map[string]string{"Accept-Encoding": tt.accept})
		gz := w.Header().Get("Content-Encoding") == "gzip"
		if gz != tt.gz {
			t.Errorf("Accept-Encoding %q: gzip = %v; want %v", tt.accept, gz, tt.gz)
		}
		if w.Header().Get("Vary") != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: Vary = %q; want Accept-Encoding", tt.accept, w.Header().Get("Vary"))
		}
		body := w.Body.Bytes()
		if gz {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("gzip.NewReader: %v", err)
			}
			body, err = io.ReadAll(zr)
			if err != nil {
				t.Fatalf("read gzip body: %v", err)
			}
		}
		if string(body) != bigJS {
			t.Errorf("Accept-Encoding %q: decoded body differs from the file", tt.accept)
		}
	}
	// A tiny file is not worth compressing.
	w := do(h, "GET", "/assets/index-def456.css", map[string]string{"Accept-Encoding": "gzip"})
	if w.Header().Get("Content-Encoding") != "" {
		t.Errorf("tiny css: Content-Encoding = %q; want none", w.Header().Get("Content-Encoding"))
	}
}

func TestHandler_ETag(t *testing.T) {
	h := newTestHandler(t)
	first := do(h, "GET", "/", nil)
	etag := first.Header().Get("ETag")
	if !regexp.MustCompile(`^"[0-9a-f]{24}"$`).MatchString(etag) {
		t.Fatalf("ETag = %q; want a quoted hex digest", etag)
	}
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		w := do(h, "GET", "/", map[string]string{"If-None-Match": inm})
		if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
			t.Errorf("If-None-Match %q = %d with %d bytes; want 304 and none", inm, w.Code, w.Body.Len())
		}
	}
	w := do(h, "GET", "/", map[string]string{"If-None-Match": `"stale"`})
	if w.Code != 200 {
		t.Errorf("stale If-None-Match = %d; want 200", w.Code)
	}
	// A client route revalidates against the same index.
	if got := do(h, "GET", "/control", nil).Header().Get("ETag"); got != etag {
		t.Errorf("ETag of /control = %q; want the index's %q", got, etag)
	}
}

func TestNewFS_NoIndex(t *testing.T) {
	_, err := web.NewFS(fstest.MapFS{"assets/a.js": {Data: []byte("x")}})
	if !errors.Is(err, web.ErrNoIndex) {
		t.Fatalf("NewFS without index.html: err = %v; want ErrNoIndex", err)
	}
}
