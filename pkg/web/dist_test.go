package web_test

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/web"
)

// firstLoadBudget is the most JS+CSS, gzipped, that the first page load may
// fetch (issue 8: 250 KB).
const firstLoadBudget = 250 * 1024

var refPattern = regexp.MustCompile(`(?:src|href)="/?(assets/[^"]+\.(?:js|css))"`)

// Ensure the committed bundle is served, stays within the first-load budget
// (counted over every JS and CSS file in the bundle, a superset of what any
// first load fetches, lazily loaded sections included), and the page carries
// no inline script that the CSP would block.
func TestEmbeddedBundle(t *testing.T) {
	h, err := web.New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	idx := do(h, "GET", "/", nil)
	if idx.Code != 200 || !strings.HasPrefix(idx.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %q; want 200 text/html", idx.Code, idx.Header().Get("Content-Type"))
	}
	html := idx.Body.String()
	if regexp.MustCompile(`<script(?:\s+type="module")?\s*>`).MatchString(html) {
		t.Errorf("index.html has an inline script; the Content-Security-Policy forbids it")
	}
	refs := refPattern.FindAllStringSubmatch(html, -1)
	if len(refs) == 0 {
		t.Fatalf("index.html references no assets/*.js or *.css:\n%s", html)
	}
	for _, m := range refs {
		w := do(h, "GET", "/"+m[1], nil)
		if w.Code != http.StatusOK {
			t.Errorf("GET /%s = %d; want 200", m[1], w.Code)
			continue
		}
		want := "text/javascript; charset=utf-8"
		if strings.HasSuffix(m[1], ".css") {
			want = "text/css; charset=utf-8"
		}
		if got := w.Header().Get("Content-Type"); got != want {
			t.Errorf("GET /%s Content-Type = %q; want %q", m[1], got, want)
		}
	}
	total := 0
	err = fs.WalkDir(web.DistFS(), "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".js") || strings.HasSuffix(p, ".css")) {
			return err
		}
		w := do(h, "GET", "/"+p, nil)
		n := gzippedLen(t, w.Body.Bytes())
		t.Logf("%s: %d bytes, %d gzipped", p, w.Body.Len(), n)
		total += n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("all JS+CSS: %d bytes gzipped (budget %d)", total, firstLoadBudget)
	if total > firstLoadBudget {
		t.Errorf("first load JS+CSS = %d bytes gzipped; budget is %d", total, firstLoadBudget)
	}
}

func gzippedLen(t *testing.T, b []byte) int {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Len()
}
