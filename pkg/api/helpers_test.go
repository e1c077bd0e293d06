package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/api"
	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/settings"
	"github.com/cuttleprint/cuttle/pkg/store"
	"github.com/cuttleprint/cuttle/pkg/system"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a real cuttle API over a real bbolt file, served over loopback.
type env struct {
	t        testing.TB
	clock    *clock
	auth     *auth.Service
	srv      *httptest.Server
	adminKey string
	roKey    string
	settings *settings.File
	appKeys  *auth.AppKeys
	logDir   string
}

// cheap keeps argon2 fast in tests; the format and code path are the same.
var cheap = auth.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	svc := auth.NewService(db, auth.Options{Hash: cheap, Now: clk.Now})
	e := &env{t: t, clock: clk, auth: svc}
	if _, err := svc.AddUser(ctx, auth.NewUser{Name: "admin", Password: "admin-pw", Groups: []string{"admins", "users"}, Active: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddUser(ctx, auth.NewUser{Name: "ro", Password: "ro-pw", Groups: []string{"readonly"}, Active: true}); err != nil {
		t.Fatal(err)
	}
	e.adminKey, _ = svc.GenerateKey(ctx, "admin")
	e.roKey, _ = svc.GenerateKey(ctx, "ro")
	e.settings = settings.NewFile(filepath.Join(t.TempDir(), "config.yaml"), settings.Defaults())
	e.appKeys = auth.NewAppKeys(db, svc, auth.AppKeysOptions{Now: clk.Now})
	e.logDir = t.TempDir()
	os.WriteFile(filepath.Join(e.logDir, "cuttle.log"), []byte("line one\nline two\n"), 0o600)
	cmds := system.NewCommands(system.CoreConfig{Restart: []string{"true"}, Reboot: []string{"ls", "/nonexistent-cuttle-dir"}}, nil)
	s := api.New(api.Deps{Auth: svc, Version: "test", Now: clk.Now, Settings: e.settings, AppKeys: e.appKeys,
		Commands: cmds, Logs: &system.Logs{Dir: e.logDir, Active: "cuttle.log"}, DataDir: e.logDir,
		PluginSettings: map[string]api.PluginSettings{"discovery": func(*http.Request, *auth.Identity) any {
			return map[string]any{"upnpUuid": "11111111-2222-3333-4444-555555555555"}
		}}})
	e.srv = httptest.NewServer(s)
	t.Cleanup(e.srv.Close)
	return e
}

// req describes one request.
type req struct {
	method, path, body, key string
	ctype                   string
	header                  map[string]string
}

type resp struct {
	code   int
	header http.Header
	body   string
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

func (e *env) do(c *http.Client, q req) resp {
	e.t.Helper()
	if c == nil {
		c = e.srv.Client()
	}
	var body io.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
	}
	r, err := http.NewRequest(q.method, e.srv.URL+q.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if q.body != "" {
		ct := q.ctype
		if ct == "" {
			ct = "application/json"
		}
		r.Header.Set("Content-Type", ct)
	}
	if q.key != "" {
		r.Header.Set("X-Api-Key", q.key)
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	res, err := c.Do(r)
	if err != nil {
		e.t.Fatalf("%s %s: %v", q.method, q.path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return resp{code: res.StatusCode, header: res.Header, body: string(raw)}
}

// browser returns a client with a cookie jar that does not follow
// redirects.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *env) cookie(c *http.Client, name string) string {
	u, _ := http.NewRequest("GET", e.srv.URL, nil)
	for _, ck := range c.Jar.Cookies(u.URL) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func wantCode(t testing.TB, what string, got resp, want int) {
	t.Helper()
	if got.code != want {
		t.Errorf("%s = %d %s; want %d", what, got.code, strings.TrimSpace(got.body), want)
	}
	if got.code >= 400 && !strings.Contains(got.body, `"error"`) {
		t.Errorf("%s: error body %q is not {\"error\": ...}", what, got.body)
	}
}
