package api

import (
	"html/template"
	"net/http"
	"net/url"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/gorilla/mux"
)

func (s *Server) routesAppKeys() {
	if s.deps.AppKeys == nil {
		return
	}
	s.handle("GET", "/plugin/appkeys/probe", Unguarded, func(w http.ResponseWriter, r *http.Request) { noContent(w) })
	s.handle("POST", "/plugin/appkeys/request", Unguarded, s.appKeyRequest)
	s.handle("GET", "/plugin/appkeys/request/{token}", Unguarded, s.appKeyPoll)
	s.handle("GET", "/plugin/appkeys/auth/{token}", Unguarded, s.appKeyDialog)
	s.handle("POST", "/plugin/appkeys/decision/{token}", AnyUser, s.appKeyDecision)
	s.handle("GET", "/api/plugin/appkeys", AnyUser, s.appKeyList)
	s.handle("POST", "/api/plugin/appkeys", AnyUser, s.appKeyCommand)
}

// baseURL is the absolute URL of the server as the client addressed it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

type appKeyRequestBody struct {
	App  string `json:"app"`
	User string `json:"user"`
}

func (s *Server) appKeyRequest(w http.ResponseWriter, r *http.Request) {
	client := clientIP(r).String()
	if !s.deps.AppKeyLimit.Allowed(client) {
		writeError(w, http.StatusTooManyRequests, "too many access requests; try again in a minute")
		return
	}
	s.deps.AppKeyLimit.Fail(client) // every request counts
	var body appKeyRequestBody
	if !decodeJSON(w, r, &body) {
		return
	}
	if body.App == "" {
		writeError(w, http.StatusBadRequest, "app is required")
		return
	}
	p, err := s.deps.AppKeys.Request(body.App, body.User, client)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	base := baseURL(r)
	dialog := base + "/plugin/appkeys/auth/" + p.AppToken
	if body.User != "" {
		dialog += "?user=" + url.QueryEscape(body.User)
	}
	w.Header().Set("Location", base+"/plugin/appkeys/request/"+p.AppToken)
	writeJSON(w, http.StatusCreated, map[string]string{"app_token": p.AppToken, "auth_dialog": dialog})
}

func (s *Server) appKeyPoll(w http.ResponseWriter, r *http.Request) {
	switch res, key := s.deps.AppKeys.Poll(mux.Vars(r)["token"]); res {
	case auth.PollPending:
		writeJSON(w, http.StatusAccepted, map[string]string{"message": "Awaiting decision"})
	case auth.PollApproved:
		writeJSON(w, http.StatusOK, map[string]string{"api_key": key})
	default:
		writeError(w, http.StatusNotFound, "no such request: it was denied, has expired or never existed")
	}
}

type decisionBody struct {
	Decision *bool `json:"decision"`
}

func (s *Server) appKeyDecision(w http.ResponseWriter, r *http.Request) {
	var body decisionBody
	if !decodeJSON(w, r, &body) {
		return
	}
	if body.Decision == nil {
		writeError(w, http.StatusBadRequest, "decision (true or false) is required")
		return
	}
	id := auth.UserFrom(r.Context())
	if err := s.deps.AppKeys.Decide(r.Context(), mux.Vars(r)["token"], id.User, *body.Decision); err != nil {
		s.fail(w, r, err)
		return
	}
	noContent(w)
}

// appKeyTarget is the user whose keys a management call is about: the
// caller, or (for admins) the named user.
func appKeyTarget(w http.ResponseWriter, r *http.Request, named string) (string, bool) {
	id := auth.UserFrom(r.Context())
	if named == "" || named == id.Name() {
		return id.Name(), true
	}
	if id.Has(auth.PermAppKeysAdmin) {
		return named, true
	}
	writeError(w, http.StatusForbidden, "only admins manage other users' application keys")
	return "", false
}

func (s *Server) appKeyList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id := auth.UserFrom(r.Context())
	if app := q.Get("app"); app != "" {
		user, ok := appKeyTarget(w, r, q.Get("user"))
		if !ok {
			return
		}
		ak, err := s.deps.AppKeys.Key(r.Context(), user, app)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"key": ak})
		return
	}
	user := id.Name()
	if parseBool(q.Get("all")) {
		if !id.Has(auth.PermAppKeysAdmin) {
			writeError(w, http.StatusForbidden, "only admins list every user's application keys")
			return
		}
		user = ""
	}
	keys, err := s.deps.AppKeys.Keys(r.Context(), user)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	pending := map[string]any{}
	for _, p := range s.deps.AppKeys.PendingFor(id.Name()) {
		pending[p.UserToken] = map[string]string{"app_id": p.App, "user_id": p.User, "user_token": p.UserToken, "remote_address": p.Remote}
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys, "pending": pending})
}

func (s *Server) appKeyCommand(w http.ResponseWriter, r *http.Request) {
	name, c := decodeCommand(w, r)
	if c == nil {
		return
	}
	var app, user, key string
	for k, v := range map[string]*string{"app": &app, "user": &user, "key": &key} {
		if _, ok := c.get(w, k, v); !ok {
			return
		}
	}
	switch name {
	case "generate":
		if app == "" {
			writeError(w, http.StatusBadRequest, "app is required")
			return
		}
		target, ok := appKeyTarget(w, r, user)
		if !ok {
			return
		}
		ak, err := s.deps.AppKeys.Generate(r.Context(), target, app)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, ak)
	case "revoke":
		if key != "" {
			ak, err := s.deps.AppKeys.Owner(r.Context(), key)
			if err != nil {
				writeError(w, http.StatusNotFound, "no such application key")
				return
			}
			app, user = ak.App, ak.User
		}
		if app == "" {
			writeError(w, http.StatusBadRequest, "app or key is required")
			return
		}
		target, ok := appKeyTarget(w, r, user)
		if !ok {
			return
		}
		if err := s.deps.AppKeys.Revoke(r.Context(), target, app); err != nil {
			s.fail(w, r, err)
			return
		}
		noContent(w)
	default:
		writeError(w, http.StatusBadRequest, "command is invalid: "+name+" (generate, revoke)")
	}
}

// appKeyDialog is the page an app opens for the user: log in, then allow or
// deny. It works without the web UI bundle.
func (s *Server) appKeyDialog(w http.ResponseWriter, r *http.Request) {
	p, ok := s.deps.AppKeys.Pending(mux.Vars(r)["token"])
	if !ok {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("<!doctype html><title>Request not found</title><p>This access request is unknown, was already decided, or has expired. Ask the application to request access again.</p>"))
		return
	}
	EnsureCSRFCookie(w, r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'")
	dialogPage.Execute(w, map[string]string{"App": p.App, "User": p.User, "Remote": p.Remote, "UserToken": p.UserToken})
}

var dialogPage = template.Must(template.New("dialog").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Allow {{.App}} to use cuttle?</title>
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}
input,button{font:inherit;padding:.5rem;margin:.25rem 0;width:100%;box-sizing:border-box}
.row{display:flex;gap:.5rem}.row button{flex:1}#msg{min-height:1.5rem;color:#a00}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}}</style></head>
<body><h1>Access request</h1>
<p><strong>{{.App}}</strong>{{if .Remote}} (from {{.Remote}}){{end}} asks for an API key{{if .User}} for user <strong>{{.User}}</strong>{{end}}.
It will be able to do everything that user can do.</p>
<form id="login"><label>User <input name="user" autocomplete="username" value="{{.User}}" required></label>
<label>Password <input name="pass" type="password" autocomplete="current-password" required></label>
<div class="row"><button type="submit" name="d" value="1">Log in and allow</button><button type="submit" name="d" value="0">Log in and deny</button></div></form>
<p id="msg" role="status"></p>
<script>
const token = {{.UserToken}};
const form = document.getElementById('login'), msg = document.getElementById('msg');
function csrf() { const m = document.cookie.match(/(?:^|; )csrf_token=([^;]*)/); return m ? decodeURIComponent(m[1]) : ''; }
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const allow = ev.submitter && ev.submitter.value === '1';
  msg.textContent = '';
  const login = await fetch('/api/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({user: form.user.value, pass: form.pass.value})});
  if (!login.ok) { msg.textContent = 'Login failed: wrong user name or password.'; return; }
  const r = await fetch('/plugin/appkeys/decision/' + token, {method: 'POST',
    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf()}, body: JSON.stringify({decision: allow})});
  if (r.status === 204) { form.remove(); msg.style.color = 'inherit';
    msg.textContent = allow ? 'Access granted. You can close this window.' : 'Access denied. You can close this window.'; return; }
  const e = await r.json().catch(() => ({}));
  msg.textContent = 'Could not record the decision: ' + (e.error || r.status);
});
</script></body></html>`))
