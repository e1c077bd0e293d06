package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestVersion_Shape(t *testing.T) {
	e := newEnv(t)
	r := e.do(nil, req{method: "GET", path: "/api/version", key: e.adminKey})
	wantCode(t, "GET /api/version", r, 200)
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	m := r.json(t)
	if m["api"] != "0.1" || m["server"] != "1.11.2" || !strings.HasPrefix(m["text"].(string), "OctoPrint 1.11.2") {
		t.Errorf("version body = %v", m)
	}
}

func TestCredentials(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		q    req
		want int
	}{
		{"no key", req{method: "GET", path: "/api/version"}, 401},
		{"bad key", req{method: "GET", path: "/api/version", key: "nope"}, 401},
		{"header key", req{method: "GET", path: "/api/version", key: e.roKey}, 200},
		{"query key", req{method: "GET", path: "/api/version?apikey=" + e.roKey}, 200},
		{"bearer", req{method: "GET", path: "/api/version", header: map[string]string{"Authorization": "Bearer " + e.roKey}}, 200},
		{"readonly lacks admin", req{method: "GET", path: "/api/access/users", key: e.roKey}, 403},
		{"admin", req{method: "GET", path: "/api/access/users", key: e.adminKey}, 200},
		{"empty query key falls through to header", req{method: "GET", path: "/api/version?apikey=", key: e.roKey}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.name, e.do(nil, tc.q), tc.want) })
	}
}

func TestLogin_SessionLifecycle(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := e.do(b, req{method: "POST", path: "/api/login", body: `{"user":"admin","pass":"admin-pw"}`})
	wantCode(t, "login", r, 200)
	m := r.json(t)
	for _, k := range []string{"name", "session", "groups", "permissions", "needs", "active", "admin", "user", "apikey", "settings", "_is_external_client", "_login_mechanism", "_credentials_seen"} {
		if _, ok := m[k]; !ok {
			t.Errorf("login record lacks %q", k)
		}
	}
	if m["_login_mechanism"] != "password" || m["name"] != "admin" {
		t.Errorf("login record = %v", m)
	}
	wantCode(t, "session GET", e.do(b, req{method: "GET", path: "/api/access/users"}), 200)
	cu := e.do(b, req{method: "GET", path: "/api/currentuser"}).json(t)
	if cu["name"] != "admin" {
		t.Errorf("currentuser = %v", cu)
	}
	// 14 minutes idle: still alive (and touched); another 16: stale.
	e.clock.Add(14 * time.Minute)
	wantCode(t, "after 14 min", e.do(b, req{method: "GET", path: "/api/version"}), 200)
	e.clock.Add(16 * time.Minute)
	wantCode(t, "after 16 idle min", e.do(b, req{method: "GET", path: "/api/version"}), 401)

	// Log in again, log out: the session is gone.
	e.do(b, req{method: "POST", path: "/api/login", body: `{"user":"admin","pass":"admin-pw"}`})
	lo := e.do(b, req{method: "POST", path: "/api/logout"})
	wantCode(t, "logout", lo, 200)
	if _, ok := lo.json(t)["needs"]; !ok {
		t.Errorf("logout body %q lacks needs", lo.body)
	}
	wantCode(t, "after logout", e.do(b, req{method: "GET", path: "/api/version"}), 401)
}

func TestLogin_RememberMeSurvivesSessionExpiry(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	wantCode(t, "login", e.do(b, req{method: "POST", path: "/api/login", body: `{"user":"admin","pass":"admin-pw","remember":true}`}), 200)
	e.clock.Add(24 * time.Hour)
	r := e.do(b, req{method: "POST", path: "/api/login", body: `{"passive":true}`})
	wantCode(t, "passive after a day", r, 200)
	if m := r.json(t); m["_login_mechanism"] != "remember_me" {
		t.Errorf("mechanism = %v; want remember_me", m["_login_mechanism"])
	}
	e.clock.Add(91 * 24 * time.Hour)
	if m := e.do(b, req{method: "POST", path: "/api/login", body: `{"passive":true}`}).json(t); m["name"] != nil {
		t.Errorf("remember-me worked after 91 days: %v", m)
	}
}

func TestLogin_BadInput(t *testing.T) {
	e := newEnv(t)
	wantCode(t, "wrong password", e.do(nil, req{method: "POST", path: "/api/login", body: `{"user":"admin","pass":"x"}`}), 403)
	wantCode(t, "neither", e.do(nil, req{method: "POST", path: "/api/login", body: `{}`}), 400)
	wantCode(t, "malformed", e.do(nil, req{method: "POST", path: "/api/login", body: `{"user":`}), 400)
	wantCode(t, "wrong type", e.do(nil, req{method: "POST", path: "/api/login", body: `{"user":1,"pass":"x"}`}), 400)
	// Printoid: passive as a query value with no body.
	r := e.do(nil, req{method: "POST", path: "/api/login?passive=true", key: e.adminKey})
	wantCode(t, "query passive", r, 200)
	if r.json(t)["session"] == nil {
		t.Error("query passive login gave no session")
	}
	anon := e.do(nil, req{method: "POST", path: "/api/login", body: `{"passive":true}`}).json(t)
	if _, has := anon["name"]; has || anon["_credentials_seen"] != false {
		t.Errorf("anonymous passive login = %v", anon)
	}
}

func TestLogin_RateLimit(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 5; i++ {
		wantCode(t, "bad login", e.do(nil, req{method: "POST", path: "/api/login", body: `{"user":"admin","pass":"wrong"}`}), 403)
	}
	wantCode(t, "6th attempt", e.do(nil, req{method: "POST", path: "/api/login", body: `{"user":"admin","pass":"admin-pw"}`}), 429)
	e.clock.Add(61 * time.Second)
	wantCode(t, "after a minute", e.do(nil, req{method: "POST", path: "/api/login", body: `{"user":"admin","pass":"admin-pw"}`}), 200)
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.do(b, req{method: "POST", path: "/api/login", body: `{"user":"admin","pass":"admin-pw"}`})
	tok := e.cookie(b, "csrf_token")
	if tok == "" {
		t.Fatal("login set no csrf_token cookie")
	}
	body := `{"name":"u1","password":"pw-123456"}`
	wantCode(t, "session POST without token", e.do(b, req{method: "POST", path: "/api/access/users", body: body}), 400)
	wantCode(t, "session POST with wrong token", e.do(b, req{method: "POST", path: "/api/access/users", body: body, header: map[string]string{"X-CSRF-Token": "bad"}}), 400)
	wantCode(t, "session POST with token", e.do(b, req{method: "POST", path: "/api/access/users", body: body, header: map[string]string{"X-CSRF-Token": tok}}), 201)
	wantCode(t, "key POST needs no token", e.do(nil, req{method: "POST", path: "/api/access/users", key: e.adminKey, body: `{"name":"u2","password":"pw-123456"}`}), 201)
}

func TestAPIKey_RegenerateAndRevokeTakeEffectAtOnce(t *testing.T) {
	e := newEnv(t)
	old := e.roKey
	r := e.do(nil, req{method: "POST", path: "/api/access/users/ro/apikey", key: e.adminKey})
	wantCode(t, "regenerate", r, 200)
	fresh, _ := r.json(t)["apikey"].(string)
	if len(fresh) != 32 {
		t.Fatalf("new key %q is not 32 characters", fresh)
	}
	wantCode(t, "old key", e.do(nil, req{method: "GET", path: "/api/version", key: old}), 401)
	wantCode(t, "new key", e.do(nil, req{method: "GET", path: "/api/version", key: fresh}), 200)
	// A passive session opened with the key dies with it.
	sess := e.do(nil, req{method: "POST", path: "/api/login", key: fresh, body: `{"passive":true}`}).json(t)["session"]
	if sess == nil {
		t.Fatal("no session from passive login")
	}
	if _, ok := e.auth.Session(sess.(string)); !ok {
		t.Fatal("passive session not live")
	}
	wantCode(t, "revoke", e.do(nil, req{method: "DELETE", path: "/api/access/users/ro/apikey", key: e.adminKey}), 204)
	wantCode(t, "revoked key", e.do(nil, req{method: "GET", path: "/api/version", key: fresh}), 401)
	if _, ok := e.auth.Session(sess.(string)); ok {
		t.Error("session opened with a revoked key is still live")
	}
	// Users may manage their own key but nobody else's.
	wantCode(t, "ro regenerates admin's key", e.do(nil, req{method: "POST", path: "/api/access/users/admin/apikey", key: mustKey(t, e, "ro")}), 403)
}

func mustKey(t *testing.T, e *env, user string) string {
	t.Helper()
	r := e.do(nil, req{method: "POST", path: "/api/access/users/" + user + "/apikey", key: e.adminKey})
	k, _ := r.json(t)["apikey"].(string)
	return k
}

func TestGlobalKey(t *testing.T) {
	e := newEnv(t)
	r := e.do(nil, req{method: "POST", path: "/api/settings/apikey", key: e.adminKey})
	wantCode(t, "generate global", r, 200)
	g, _ := r.json(t)["apikey"].(string)
	wantCode(t, "global key works as admin", e.do(nil, req{method: "GET", path: "/api/access/users", key: g}), 200)
	if m := e.do(nil, req{method: "GET", path: "/api/currentuser", key: g}).json(t); m["name"] != "_api" {
		t.Errorf("global key acts as %v; want _api", m["name"])
	}
	wantCode(t, "ro cannot set it", e.do(nil, req{method: "POST", path: "/api/settings/apikey", key: e.roKey}), 403)
	wantCode(t, "delete global", e.do(nil, req{method: "DELETE", path: "/api/settings/apikey", key: e.adminKey}), 204)
	wantCode(t, "deleted global key", e.do(nil, req{method: "GET", path: "/api/version", key: g}), 401)
}

func TestUsersRedirect(t *testing.T) {
	e := newEnv(t)
	r := e.do(e.browser(), req{method: "GET", path: "/api/users?x=1", key: e.adminKey})
	if r.code != 307 || r.header.Get("Location") != "/api/access/users?x=1" {
		t.Errorf("GET /api/users = %d Location %q; want 307 to /api/access/users?x=1", r.code, r.header.Get("Location"))
	}
}

func TestDoubleSlash(t *testing.T) {
	e := newEnv(t)
	wantCode(t, "//api/version", e.do(e.browser(), req{method: "GET", path: "//api/version", key: e.adminKey}), 200)
	// A POST through a double slash is served, not redirected into a GET.
	wantCode(t, "POST //api/access/users", e.do(e.browser(), req{method: "POST", path: "//api//access/users", key: e.adminKey, body: `{"name":"ds","password":"pw-1234567"}`}), 201)
}

func TestBadBodies(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, body, ctype string
		want              int
	}{
		{"malformed", `{nope`, "", 400},
		{"wrong type", `{"name":5,"password":"x"}`, "", 400},
		{"not JSON content type", `name=x`, "application/x-www-form-urlencoded", 400},
		{"trailing garbage", `{"name":"a","password":"b"} {}`, "", 400},
		{"missing fields", `{}`, "", 400},
		{"oversized", `{"name":"` + strings.Repeat("a", 2<<20) + `","password":"x"}`, "", 413},
		{"unknown group", `{"name":"g","password":"x","groups":["wizards"]}`, "", 400},
		{"duplicate user", `{"name":"ro","password":"x"}`, "", 409},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, tc.name, e.do(nil, req{method: "POST", path: "/api/access/users", key: e.adminKey, body: tc.body, ctype: tc.ctype}), tc.want)
		})
	}
	wantCode(t, "unknown route", e.do(nil, req{method: "GET", path: "/api/nothing", key: e.adminKey}), 404)
	wantCode(t, "wrong method", e.do(nil, req{method: "PATCH", path: "/api/version", key: e.adminKey}), 405)
	wantCode(t, "unknown user", e.do(nil, req{method: "GET", path: "/api/access/users/ghost", key: e.adminKey}), 404)
}

func TestSetup_FirstRun(t *testing.T) {
	e := newEnv(t)
	// The env already has an admin: setup is closed.
	if m := e.do(nil, req{method: "GET", path: "/api/cuttle/setup"}).json(t); m["needed"] != false {
		t.Errorf("setup needed = %v with an admin present", m["needed"])
	}
	wantCode(t, "setup after admin", e.do(nil, req{method: "POST", path: "/api/cuttle/setup", body: `{"user":"x","pass":"y"}`}), 409)
}

func TestSetup_OnlyFromLocalNetworks(t *testing.T) {
	e := newEnv(t)
	h := e.srv.Config.Handler
	for addr, want := range map[string]int{"8.8.8.8:1234": 403, "[2001:db8::1]:80": 403, "192.168.1.5:999": 409, "[fe80::1]:1": 409} {
		r := httptest.NewRequest("POST", "/api/cuttle/setup", strings.NewReader(`{"user":"x","pass":"y"}`))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = addr
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("setup from %s = %d; want %d", addr, w.Code, want)
		}
	}
}

func TestOnline(t *testing.T) {
	e := newEnv(t)
	r := e.do(nil, req{method: "GET", path: "/online.txt"})
	if r.code != 200 || r.body != "online\n" {
		t.Errorf("/online.txt = %d %q", r.code, r.body)
	}
	if r := e.do(nil, req{method: "GET", path: "/online.gif"}); r.code != 200 || r.header.Get("Content-Type") != "image/gif" {
		t.Errorf("/online.gif = %d %s", r.code, r.header.Get("Content-Type"))
	}
}

// BenchmarkVersionAuthenticated measures an API-key-authenticated
// GET /api/version through the whole middleware (slash cleaning, headers,
// key lookup in bbolt, permission check, JSON encoding), without the network.
func BenchmarkVersionAuthenticated(b *testing.B) {
	e := newEnv(b)
	h := e.srv.Config.Handler
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("GET", "/api/version", nil)
			r.Header.Set("X-Api-Key", e.adminKey)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}
