package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/gcode/gcodetest"
	"github.com/cuttleprint/cuttle/pkg/settings"
)

// These tests replay, request for request, what real OctoPrint clients send
// (see ../shared/reference/octoprint-api.md §1) against the fully wired app
// over HTTP, and check the response fields each client reads.

// clientRig is a running app with an admin, its key and an HTTP server.
type clientRig struct {
	t    *testing.T
	a    *app
	srv  *httptest.Server
	key  string
	jar  http.CookieJar
	http *http.Client
}

func newClientRig(t *testing.T) *clientRig {
	t.Helper()
	a := newTestAppWith(t, func(s *settings.Settings) {
		s.Server.Commands.ServerRestartCommand = []string{"true"}
	})
	ctx := context.Background()
	if _, err := a.auth.AddUser(ctx, auth.NewUser{Name: "admin", Password: "admin-pw", Groups: []string{auth.GroupAdmins, auth.GroupUsers}, Active: true}); err != nil {
		t.Fatal(err)
	}
	key, _ := a.auth.GenerateKey(ctx, "admin")
	srv := httptest.NewServer(a.handler())
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return &clientRig{t: t, a: a, srv: srv, key: key, jar: jar,
		http: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type answer struct {
	code   int
	header http.Header
	body   []byte
}

func (a answer) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", a.body, err)
	}
	return m
}

// call sends one request; key "" sends none. body may be a string (JSON)
// or a *multipart request built by form.
func (r *clientRig) call(method, path, key string, body any, hdr ...string) answer {
	r.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case string:
		rd, ctype = strings.NewReader(b), "application/json"
	case *form:
		rd, ctype = bytes.NewReader(b.buf.Bytes()), b.w.FormDataContentType()
	}
	req, _ := http.NewRequest(method, r.srv.URL+path, rd)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := r.http.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return answer{code: res.StatusCode, header: res.Header, body: raw}
}

func (r *clientRig) want(what string, got answer, codes ...int) {
	r.t.Helper()
	for _, c := range codes {
		if got.code == c {
			return
		}
	}
	r.t.Errorf("%s = %d %s; want %v", what, got.code, bytes.TrimSpace(got.body), codes)
}

// form builds a multipart body with parts in the order they are added, as
// each client orders them.
type form struct {
	buf bytes.Buffer
	w   *multipart.Writer
}

func newForm() *form { f := &form{}; f.w = multipart.NewWriter(&f.buf); return f }

func (f *form) field(k, v string) *form { f.w.WriteField(k, v); return f }

func (f *form) file(name string, content []byte) *form {
	p, _ := f.w.CreateFormFile("file", name)
	p.Write(content)
	return f
}

func (f *form) done() *form { f.w.Close(); return f }

func corpus(t *testing.T, name string) []byte { return gcodetest.Read(t, name) }

// approve plays the user's side of an app-key request: log in in a browser
// and allow the request.
func (r *clientRig) approve(appToken string) {
	r.t.Helper()
	p, ok := r.a.deps.AppKeys.Pending(appToken)
	if !ok {
		r.t.Fatalf("request %s not pending", appToken)
	}
	browser := &http.Client{Jar: r.jar}
	login, _ := http.NewRequest("POST", r.srv.URL+"/api/login", strings.NewReader(`{"user":"admin","pass":"admin-pw"}`))
	login.Header.Set("Content-Type", "application/json")
	res, err := browser.Do(login)
	if err != nil || res.StatusCode != 200 {
		r.t.Fatalf("browser login: %v %v", res, err)
	}
	res.Body.Close()
	csrf := ""
	for _, c := range r.jar.Cookies(res.Request.URL) {
		if c.Name == "csrf_token" {
			csrf = c.Value
		}
	}
	dec, _ := http.NewRequest("POST", r.srv.URL+"/plugin/appkeys/decision/"+p.UserToken, strings.NewReader(`{"decision":true}`))
	dec.Header.Set("Content-Type", "application/json")
	dec.Header.Set("X-CSRF-Token", csrf)
	res, err = browser.Do(dec)
	if err != nil || res.StatusCode != 204 {
		r.t.Fatalf("decision: %v %v", res.StatusCode, err)
	}
	res.Body.Close()
}

func TestReplay_PrusaSlicer(t *testing.T) {
	r := newClientRig(t)
	v := r.call("GET", "/api/version", r.key, nil)
	r.want("version", v, 200)
	m := v.obj(t)
	if _, ok := m["api"]; !ok || !strings.HasPrefix(m["text"].(string), "OctoPrint") {
		t.Errorf("PrusaSlicer rejects version %s", v.body)
	}
	// "Upload": parts print, path, file in that order; only the status counts.
	up := r.call("POST", "/api/files/local", r.key, newForm().field("print", "false").field("path", "").file("ps_cube20.gcode", corpus(t, "ps_cube20.gcode")).done())
	r.want("upload", up, 201)
	// "Upload and print" while the printer is offline: still stored, not printed.
	up = r.call("POST", "/api/files/local", r.key, newForm().field("print", "true").field("path", "sub").file("again.gcode", corpus(t, "ps_cube20.gcode")).done())
	r.want("upload and print (offline)", up, 201)
	if m := up.obj(t); m["effectivePrint"] != false {
		t.Errorf("offline upload-and-print effectivePrint = %v", m["effectivePrint"])
	}
	r.want("the uploaded file", r.call("GET", "/api/files/local/sub/again.gcode", r.key, nil), 200)
}

func TestReplay_Cura(t *testing.T) {
	r := newClientRig(t)
	r.want("probe", r.call("GET", "/plugin/appkeys/probe", "", nil), 204)
	req := r.call("POST", "/plugin/appkeys/request", "", `{"app":"Cura"}`)
	r.want("request", req, 201, 202)
	loc := req.header.Get("Location")
	tok := req.obj(t)["app_token"].(string)
	r.want("poll", r.call("GET", strings.TrimPrefix(loc, r.srv.URL), "", nil), 202)
	r.approve(tok)
	got := r.call("GET", strings.TrimPrefix(loc, r.srv.URL), "", nil)
	r.want("poll after approval", got, 200)
	key := got.obj(t)["api_key"].(string)

	set := r.call("GET", "/api/settings", key, nil)
	r.want("key test: settings", set, 200)
	s := set.obj(t)
	if _, ok := s["feature"].(map[string]any)["sdSupport"]; !ok {
		t.Error("feature.sdSupport missing")
	}
	web := s["webcam"].(map[string]any)
	for _, k := range []string{"streamUrl", "rotate90", "flipH", "flipV"} {
		if _, ok := web[k]; !ok {
			t.Errorf("webcam.%s missing", k)
		}
	}
	if _, ok := s["plugins"].(map[string]any); !ok || s["gcodeAnalysis"].(map[string]any)["runAt"] == nil {
		t.Error("plugins or gcodeAnalysis.runAt missing")
	}
	if v := r.call("GET", "/api/version", key, nil).obj(t); v["server"] == "" {
		t.Error("version.server missing")
	}
	if l := r.call("POST", "/api/login", key, `{"passive":true}`).obj(t); l["name"] != "admin" {
		t.Errorf("passive login name = %v", l["name"])
	}
	profiles := r.call("GET", "/api/printerprofiles", key, nil)
	r.want("printerprofiles", profiles, 200)
	found := false
	for _, p := range profiles.obj(t)["profiles"].(map[string]any) {
		p := p.(map[string]any)
		if p["current"] == true {
			found = true
			axes := p["axes"].(map[string]any)
			for _, ax := range []string{"x", "y", "z", "e"} {
				a := axes[ax].(map[string]any)
				if _, ok := a["speed"]; !ok {
					t.Errorf("axes.%s.speed missing", ax)
				}
				if _, ok := a["inverted"]; !ok {
					t.Errorf("axes.%s.inverted missing", ax)
				}
			}
			if p["name"] == nil || p["model"] == nil {
				t.Errorf("current profile lacks name/model: %v", p)
			}
		}
	}
	if !found {
		t.Error("no profile with current==true")
	}
	// Polling while offline.
	r.want("printer offline", r.call("GET", "/api/printer", key, nil), 409)
	job := r.call("GET", "/api/job", key, nil)
	r.want("job offline", job, 200)
	if st := job.obj(t)["state"].(string); !strings.HasPrefix(st, "Offline") && !strings.HasPrefix(st, "Closed") {
		t.Errorf("job state offline = %q", st)
	}
	// Upload: Location split on "api/" gives files/local/<path>.
	up := r.call("POST", "/api/files/local", key, newForm().field("path", "").file("cura.gcode", corpus(t, "cura_cube20.gcode")).done())
	r.want("upload", up, 201)
	loc = up.header.Get("Location")
	parts := strings.SplitN(loc, "api/", 2)
	if len(parts) != 2 || parts[1] != "files/local/cura.gcode" || !strings.HasPrefix(loc, "http") {
		t.Fatalf("Location %q does not split on api/ into files/local/cura.gcode", loc)
	}
	// Delayed start: poll the file until gcodeAnalysis appears.
	deadline := time.Now().Add(30 * time.Second)
	for {
		f := r.call("GET", "/api/"+parts[1], key, nil).obj(t)
		if ga, ok := f["gcodeAnalysis"].(map[string]any); ok && ga["estimatedPrintTime"] != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no gcodeAnalysis after 30 s: %v", f)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Select+print and pause while offline: 409, which Cura reports.
	r.want("select+print offline", r.call("POST", "/api/"+parts[1], key, `{"command":"select","print":true}`), 409)
	r.want("pause toggle offline", r.call("POST", "/api/job", key, `{"command":"pause"}`), 409)
	r.want("commands offline", r.call("POST", "/api/printer/command", key, `{"commands":["M105"]}`), 409)
}

func TestReplay_HomeAssistant(t *testing.T) {
	r := newClientRig(t)
	r.want("probe without key", r.call("GET", "/plugin/appkeys/probe", "", nil), 204)
	req := r.call("POST", "/plugin/appkeys/request", "", `{"app":"Home Assistant","user":"admin"}`)
	r.want("request", req, 201)
	loc := req.header.Get("Location")
	token := loc[strings.LastIndex(loc, "/")+1:]
	poll := r.call("GET", "/plugin/appkeys/request/"+token, "", nil)
	r.want("poll", poll, 202)
	poll.obj(t) // a 202 body must be JSON: HA parses it
	r.approve(token)
	got := r.call("GET", "/plugin/appkeys/request/"+token, "", nil)
	r.want("poll after approval", got, 200)
	key := got.obj(t)["api_key"].(string)

	s := r.call("GET", "/api/settings", key, nil).obj(t)
	plugins := s["plugins"].(map[string]any)
	if uuid, _ := plugins["discovery"].(map[string]any)["upnpUuid"].(string); len(uuid) != 36 {
		t.Errorf("plugins.discovery.upnpUuid = %q", uuid)
	}
	if tr, ok := plugins["tracking"].(map[string]any); !ok || tr["enabled"] == nil {
		t.Errorf("plugins.tracking = %v", plugins["tracking"])
	}
	web := s["webcam"].(map[string]any)
	for _, k := range []string{"webcamEnabled", "streamUrl", "snapshotUrl", "flipH", "flipV", "rotate90", "snapshotSslValidation", "bitrate"} {
		if _, ok := web[k]; !ok {
			t.Errorf("webcam.%s missing", k)
		}
	}
	job := r.call("GET", "/api/job", key, nil)
	r.want("job", job, 200)
	jm := job.obj(t)
	for _, k := range []string{"job", "progress", "state"} {
		if _, ok := jm[k]; !ok {
			t.Errorf("job lacks %s", k)
		}
	}
	r.want("printer offline", r.call("GET", "/api/printer", key, nil), 409)
	// Double slashes, extra offset key ignored; offline → 409 (never a 301).
	r.want("//api/printer/bed", r.call("POST", "//api/printer/bed", key, `{"command":"target","target":60,"offset":0}`), 409)
	r.want("tool target offline", r.call("POST", "/api/printer/tool", key, `{"command":"target","targets":{"tool0":200}}`), 409)
	r.want("//api/system/commands/core/restart", r.call("POST", "//api/system/commands/core/restart", key, nil), 204)
	r.want("server", r.call("GET", "/api/server", key, nil), 200)
	// A wrong key gets 401 (HA's re-auth flow keys on 403; it treats any
	// non-2xx as a failed update and asks the user to re-authenticate).
	r.want("bad key", r.call("GET", "/api/job", "wrong-key", nil), 401)
}

func TestReplay_FDMMonster(t *testing.T) {
	r := newClientRig(t)
	for _, p := range []string{"/api/version", "/api/server", "/api/settings", "/api/connection", "/api/printerprofiles", "/api/system/info", "/api/system/commands", "/api/files/local?recursive=true"} {
		r.want(p, r.call("GET", p, r.key, nil), 200)
	}
	login := r.call("POST", "/api/login", r.key, `{"passive":true}`).obj(t)
	if login["name"] == "_api" || login["session"] == nil {
		t.Errorf("passive login = %v; FDM Monster rejects _api and needs a session", login)
	}
	if needs, _ := login["needs"].(map[string]any); needs != nil {
		if g, _ := needs["group"].([]any); len(g) > 0 && g[0] == "guests" {
			t.Error("needs.group[0] is guests")
		}
	}
	if cu := r.call("GET", "/api/currentuser", r.key, nil).obj(t); cu["name"] != "admin" {
		t.Errorf("currentuser = %v", cu)
	}
	red := r.call("GET", "/api/users", r.key, nil)
	if red.code != 307 || red.header.Get("Location") != "/api/access/users" {
		t.Errorf("/api/users = %d %q", red.code, red.header.Get("Location"))
	}
	r.want("settings appearance", r.call("POST", "/api/settings", r.key, `{"appearance":{"name":"farm-1"}}`), 200)
	r.want("printer?history=true offline", r.call("GET", "/api/printer?history=true&limit=5", r.key, nil), 409)
	// Folder creation, upload with print only when true, listing, Range download, move, delete.
	r.want("folder", r.call("POST", "/api/files/local", r.key, newForm().field("path", "").field("foldername", "jobs").done()), 201)
	content := corpus(t, "ps_cube20.gcode")
	r.want("upload", r.call("POST", "/api/files/local", r.key, newForm().field("path", "jobs").file("cube.gcode", content).done()), 201)
	list := r.call("GET", "/api/files/local?recursive=true", r.key, nil).obj(t)
	if files, _ := list["files"].([]any); len(files) == 0 {
		t.Errorf("listing = %v", list)
	}
	dl := r.call("GET", "/downloads/files/local/jobs/cube.gcode", r.key, nil, "Range", "bytes=0-99")
	if dl.code != 206 || !bytes.Equal(dl.body, content[:100]) {
		t.Errorf("ranged download = %d, %d bytes; want 206 and the first 100 bytes", dl.code, len(dl.body))
	}
	r.want("move", r.call("POST", "/api/files/local/jobs/cube.gcode", r.key, `{"command":"move","destination":""}`), 201)
	r.want("delete", r.call("DELETE", "/api/files/local/cube.gcode", r.key, nil), 204)
	r.want("restart", r.call("POST", "/api/system/commands/core/restart", r.key, nil), 204)
}

// waitFor polls cond every 50 ms for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReplay_Online replays the clients' actions against a connected
// printer (the built-in VIRTUAL port): Home Assistant's connect, targets
// and job control, Cura's select+print and pause toggle, FDM Monster's
// printhead and command calls. Each answer must be exactly 204.
func TestReplay_Online(t *testing.T) {
	r := newClientRig(t)
	k := r.key
	// Home Assistant's connect (its key is spelled printerprofile).
	r.want("connect", r.call("POST", "/api/connection", k, `{"command":"connect","port":"VIRTUAL","baudrate":115200,"printerprofile":"_default","save":false,"autoconnect":false}`), 204)
	waitFor(t, 20*time.Second, "operational", func() bool { return r.call("GET", "/api/printer", k, nil).code == 200 })
	p := r.call("GET", "/api/printer?history=true&limit=2", k, nil).obj(t)
	temp := p["temperature"].(map[string]any)
	if _, ok := temp["tool0"].(map[string]any)["actual"].(float64); !ok {
		t.Errorf("temperature.tool0.actual = %v", temp["tool0"])
	}
	if _, ok := temp["bed"]; !ok {
		t.Error("temperature.bed missing (HA reads it for has_heated_bed)")
	}
	flags := p["state"].(map[string]any)["flags"].(map[string]any)
	if flags["operational"] != true || flags["ready"] != true {
		t.Errorf("flags = %v", flags)
	}
	r.want("//api/printer/bed target", r.call("POST", "//api/printer/bed", k, `{"command":"target","target":60,"offset":0}`), 204)
	r.want("tool target", r.call("POST", "/api/printer/tool", k, `{"command":"target","targets":{"tool0":200}}`), 204)
	// FDM Monster.
	r.want("jog", r.call("POST", "/api/printer/printhead", k, `{"command":"jog","x":10,"y":-5,"z":1,"speed":3000}`), 204)
	r.want("home", r.call("POST", "/api/printer/printhead", k, `{"command":"home","axes":["x","y","z"]}`), 204)
	r.want("command", r.call("POST", "/api/printer/command", k, `{"command":"M105"}`), 204)
	r.want("commands (Cura)", r.call("POST", "/api/printer/command", k, `{"commands":["M18","M106 S0"]}`), 204)
	r.want("targets off", r.call("POST", "/api/printer/tool", k, `{"command":"target","targets":{"tool0":0}}`), 204)
	r.want("bed off", r.call("POST", "/api/printer/bed", k, `{"command":"target","target":0}`), 204)

	// Cura: upload, then select+print, then the pause toggle and cancel.
	up := r.call("POST", "/api/files/local", k, newForm().field("path", "").file("cura.gcode", corpus(t, "cura_cube20.gcode")).done())
	r.want("upload", up, 201)
	path := "/api/" + strings.SplitN(up.header.Get("Location"), "api/", 2)[1]
	r.want("select+print", r.call("POST", path, k, `{"command":"select","print":true}`), 204)
	waitFor(t, 20*time.Second, "printing", func() bool {
		return strings.HasPrefix(r.call("GET", "/api/job", k, nil).obj(t)["state"].(string), "Printing")
	})
	job := r.call("GET", "/api/job", k, nil).obj(t)
	if f := job["job"].(map[string]any)["file"].(map[string]any); f["name"] != "cura.gcode" || f["origin"] != "local" {
		t.Errorf("job.file = %v", f)
	}
	r.want("pause toggle (Cura, no action)", r.call("POST", "/api/job", k, `{"command":"pause"}`), 204)
	waitFor(t, 30*time.Second, "paused", func() bool { return r.call("GET", "/api/job", k, nil).obj(t)["state"] == "Paused" })
	// Home Assistant's explicit actions.
	r.want("resume (HA)", r.call("POST", "/api/job", k, `{"command":"pause","action":"resume"}`), 204)
	waitFor(t, 30*time.Second, "printing again", func() bool {
		return strings.HasPrefix(r.call("GET", "/api/job", k, nil).obj(t)["state"].(string), "Printing")
	})
	r.want("pause (HA)", r.call("POST", "/api/job", k, `{"command":"pause","action":"pause"}`), 204)
	r.want("bad action", r.call("POST", "/api/job", k, `{"command":"pause","action":"sideways"}`), 400)
	r.want("cancel (HA)", r.call("POST", "/api/job", k, `{"command":"cancel"}`), 204)
	waitFor(t, 30*time.Second, "operational after cancel", func() bool { return r.call("GET", "/api/job", k, nil).obj(t)["state"] == "Operational" })
	r.want("disconnect", r.call("POST", "/api/connection", k, `{"command":"disconnect"}`), 204)
	waitFor(t, 10*time.Second, "offline", func() bool { return r.call("GET", "/api/printer", k, nil).code == 409 })
}
