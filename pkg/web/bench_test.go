package web_test

import (
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/web"
)

// BenchmarkServe measures serving the embedded bundle: the page for a client
// route, and its main script gzipped, as a browser asks for them.
func BenchmarkServe(b *testing.B) {
	h, err := web.New()
	if err != nil {
		b.Fatal(err)
	}
	idx := httptest.NewRecorder()
	h.ServeHTTP(idx, httptest.NewRequest("GET", "/", nil))
	m := regexp.MustCompile(`src="(/assets/[^"]+\.js)"`).FindStringSubmatch(idx.Body.String())
	if m == nil {
		b.Fatal("index.html names no script")
	}
	for _, bc := range []struct{ name, path string }{{"index", "/settings"}, {"script-gzip", m[1]}} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", bc.path, nil)
			r.Header.Set("Accept-Encoding", "gzip, deflate, br")
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatalf("GET %s = %d", bc.path, w.Code)
				}
			}
		})
	}
}
