package api_test

import (
	"strings"
	"testing"
	"time"
)

// requestAccess runs the app side of the flow up to the first poll and
// returns the app token and the user token from the pending list.
func requestAccess(t *testing.T, e *env, body string) (appToken, userToken string) {
	t.Helper()
	r := e.do(nil, req{method: "POST", path: "/plugin/appkeys/request", body: body})
	wantCode(t, "request", r, 201)
	loc := r.header.Get("Location")
	if !strings.HasPrefix(loc, e.srv.URL+"/plugin/appkeys/request/") {
		t.Fatalf("Location %q is not an absolute poll URL", loc)
	}
	m := r.json(t)
	appToken = m["app_token"].(string)
	if !strings.HasSuffix(loc, "/"+appToken) || !strings.Contains(m["auth_dialog"].(string), "/plugin/appkeys/auth/"+appToken) {
		t.Fatalf("request answer %v / Location %q disagree", m, loc)
	}
	for _, p := range e.appKeys.PendingFor("admin") {
		if p.AppToken == appToken {
			userToken = p.UserToken
		}
	}
	if userToken == "" {
		t.Fatal("request not pending for admin")
	}
	return appToken, userToken
}

func TestAppKeys_ApproveFlowAsClientsDriveIt(t *testing.T) {
	e := newEnv(t)
	wantCode(t, "probe without key", e.do(nil, req{method: "GET", path: "/plugin/appkeys/probe"}), 204)
	app, user := requestAccess(t, e, `{"app":"Home Assistant","user":"admin"}`)
	poll := e.do(nil, req{method: "GET", path: "/plugin/appkeys/request/" + app})
	wantCode(t, "first poll", poll, 202)
	if poll.json(t)["message"] != "Awaiting decision" {
		t.Errorf("202 body = %s", poll.body)
	}
	// Longer than OctoPrint's 5 s without a poll: still pending.
	e.clock.Add(20 * time.Second)
	wantCode(t, "poll after 20 s", e.do(nil, req{method: "GET", path: "/plugin/appkeys/request/" + app}), 202)

	dialog := e.do(nil, req{method: "GET", path: "/plugin/appkeys/auth/" + app})
	if dialog.code != 200 || !strings.Contains(dialog.body, "Home Assistant") {
		t.Errorf("auth dialog = %d", dialog.code)
	}
	wantCode(t, "decision without login", e.do(nil, req{method: "POST", path: "/plugin/appkeys/decision/" + user, body: `{"decision":true}`}), 401)

	b := e.browser()
	e.do(b, req{method: "POST", path: "/api/login", body: `{"user":"admin","pass":"admin-pw"}`})
	csrf := map[string]string{"X-CSRF-Token": e.cookie(b, "csrf_token")}
	wantCode(t, "decision without CSRF", e.do(b, req{method: "POST", path: "/plugin/appkeys/decision/" + user, body: `{"decision":true}`}), 400)
	wantCode(t, "decision", e.do(b, req{method: "POST", path: "/plugin/appkeys/decision/" + user, body: `{"decision":true}`, header: csrf}), 204)

	got := e.do(nil, req{method: "GET", path: "/plugin/appkeys/request/" + app})
	wantCode(t, "poll after approval", got, 200)
	key, _ := got.json(t)["api_key"].(string)
	if len(key) != 32 {
		t.Fatalf("api_key %q", key)
	}
	wantCode(t, "second poll", e.do(nil, req{method: "GET", path: "/plugin/appkeys/request/" + app}), 404)
	if m := e.do(nil, req{method: "GET", path: "/api/currentuser", key: key}).json(t); m["name"] != "admin" {
		t.Errorf("app key acts as %v; want admin", m["name"])
	}

	list := e.do(nil, req{method: "GET", path: "/api/plugin/appkeys", key: e.adminKey}).json(t)
	keys := list["keys"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["app_id"] != "Home Assistant" {
		t.Errorf("keys = %v", keys)
	}
	if _, shown := keys[0].(map[string]any)["api_key"]; shown {
		t.Error("the listing shows the key itself")
	}
	wantCode(t, "revoke", e.do(nil, req{method: "POST", path: "/api/plugin/appkeys", key: e.adminKey, body: `{"command":"revoke","app":"Home Assistant"}`}), 204)
	wantCode(t, "revoked app key", e.do(nil, req{method: "GET", path: "/api/version", key: key}), 401)
}

func TestAppKeys_DenyExpireAndWrongUser(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.do(b, req{method: "POST", path: "/api/login", body: `{"user":"admin","pass":"admin-pw"}`})
	csrf := map[string]string{"X-CSRF-Token": e.cookie(b, "csrf_token")}

	app, user := requestAccess(t, e, `{"app":"Cura"}`)
	wantCode(t, "deny", e.do(b, req{method: "POST", path: "/plugin/appkeys/decision/" + user, body: `{"decision":false}`, header: csrf}), 204)
	wantCode(t, "poll after deny", e.do(nil, req{method: "GET", path: "/plugin/appkeys/request/" + app}), 404)

	app, _ = requestAccess(t, e, `{"app":"OctoPod"}`)
	e.clock.Add(31 * time.Second)
	wantCode(t, "poll after 31 s of silence", e.do(nil, req{method: "GET", path: "/plugin/appkeys/request/" + app}), 404)
	if r := e.do(nil, req{method: "GET", path: "/plugin/appkeys/auth/" + app}); r.code != 404 || !strings.Contains(r.body, "expired") {
		t.Errorf("dialog of an expired request = %d %q; want 404 with an explanation", r.code, r.body)
	}

	// A request for user ro cannot be approved by admin.
	r := e.do(nil, req{method: "POST", path: "/plugin/appkeys/request", body: `{"app":"X","user":"ro"}`})
	tok := r.json(t)["app_token"].(string)
	p, _ := e.appKeys.Pending(tok)
	wantCode(t, "approve someone else's request", e.do(b, req{method: "POST", path: "/plugin/appkeys/decision/" + p.UserToken, body: `{"decision":true}`, header: csrf}), 403)
	wantCode(t, "unknown token", e.do(b, req{method: "POST", path: "/plugin/appkeys/decision/nope", body: `{"decision":true}`, header: csrf}), 404)
	wantCode(t, "missing decision", e.do(b, req{method: "POST", path: "/plugin/appkeys/decision/" + p.UserToken, body: `{}`, header: csrf}), 400)
}

func TestAppKeys_BadRequestsAndRateLimit(t *testing.T) {
	e := newEnv(t)
	wantCode(t, "no app", e.do(nil, req{method: "POST", path: "/plugin/appkeys/request", body: `{}`}), 400)
	wantCode(t, "not JSON", e.do(nil, req{method: "POST", path: "/plugin/appkeys/request", body: `app=x`, ctype: "text/plain"}), 400)
	for i := 0; i < 8; i++ {
		e.do(nil, req{method: "POST", path: "/plugin/appkeys/request", body: `{"app":"spam"}`})
	}
	wantCode(t, "11th request in a minute", e.do(nil, req{method: "POST", path: "/plugin/appkeys/request", body: `{"app":"spam"}`}), 429)
	wantCode(t, "unknown command", e.do(nil, req{method: "POST", path: "/api/plugin/appkeys", key: e.adminKey, body: `{"command":"frob"}`}), 400)
	wantCode(t, "ro revokes admin's key", e.do(nil, req{method: "POST", path: "/api/plugin/appkeys", key: e.roKey, body: `{"command":"revoke","app":"a","user":"admin"}`}), 403)
	gen := e.do(nil, req{method: "POST", path: "/api/plugin/appkeys", key: e.roKey, body: `{"command":"generate","app":"mine"}`})
	wantCode(t, "generate own", gen, 200)
	if gen.json(t)["user_id"] != "ro" {
		t.Errorf("generate = %s", gen.body)
	}
	one := e.do(nil, req{method: "GET", path: "/api/plugin/appkeys?app=mine", key: e.roKey})
	if k, _ := one.json(t)["key"].(map[string]any); k["api_key"] == nil {
		t.Errorf("?app= lookup = %s", one.body)
	}
	wantCode(t, "ro lists all", e.do(nil, req{method: "GET", path: "/api/plugin/appkeys?all=true", key: e.roKey}), 403)
}
