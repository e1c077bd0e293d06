package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/api"
	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/printer/printertest"
	"github.com/cuttleprint/cuttle/pkg/settings"
	"github.com/cuttleprint/cuttle/pkg/store"
)

// printerEnv is the API over a real store and a Machine whose port "FAKE"
// is scripted Marlin firmware.
type printerEnv struct {
	srv  *httptest.Server
	keys map[string]string // admin, operator (users), viewer (readonly), terminal (readonly + MONITOR_TERMINAL)
	rig  *printertest.Rig
	cfg  *settings.File
}

func newPrinterEnv(t *testing.T) *printerEnv {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := auth.NewService(db, auth.Options{Hash: auth.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}})
	e := &printerEnv{keys: map[string]string{}}
	for name, group := range map[string]string{"admin": auth.GroupAdmins, "operator": auth.GroupUsers, "viewer": auth.GroupReadonly} {
		if _, err := svc.AddUser(ctx, auth.NewUser{Name: name, Password: "pw-" + name, Groups: []string{group}, Active: true}); err != nil {
			t.Fatal(err)
		}
		if e.keys[name], err = svc.GenerateKey(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	e.rig = printertest.New(t, printer.Config{}, func(cmd string) ([]string, bool) {
		if cmd == "M155 S2" || cmd == "M27 S2" {
			return []string{"ok"}, true
		}
		return nil, false
	})
	e.cfg = settings.NewFile(filepath.Join(t.TempDir(), "config.yaml"), settings.Defaults())
	e.srv = httptest.NewServer(api.New(api.Deps{Auth: svc, Printer: e.rig.Machine, Settings: e.cfg}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *printerEnv) do(t *testing.T, user, method, path, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.Header.Set("X-Api-Key", e.keys[user])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// want checks a request's status and, for errors, the {"error"} shape.
func (e *printerEnv) want(t *testing.T, code int, method, path, body string) string {
	t.Helper()
	got, b := e.do(t, "admin", method, path, body)
	if got != code {
		t.Fatalf("%s %s %s = %d %s; want %d", method, path, body, got, b, code)
	}
	if code >= 400 {
		var m map[string]any
		if json.Unmarshal([]byte(b), &m) != nil || m["error"] == nil {
			t.Errorf("%s %s: error body %q is not {\"error\":…}", method, path, b)
		}
	}
	return b
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return m
}

func (e *printerEnv) connect(t *testing.T) {
	t.Helper()
	e.want(t, 204, "POST", "/api/connection", `{"command":"connect","port":"FAKE","baudrate":115200}`)
	if !e.rig.Await(func() bool { return e.rig.Machine.Snapshot().State == printer.StateOperational }) {
		t.Fatalf("not operational: %s", e.rig.Machine.Snapshot().StateText)
	}
}

func TestConnection_Offline(t *testing.T) {
	e := newPrinterEnv(t)
	b := decode(t, e.want(t, 200, "GET", "/api/connection", ""))
	cur := b["current"].(map[string]any)
	if cur["state"] != "Closed" || cur["port"] != nil || cur["baudrate"] != nil || cur["printerProfile"] != "_default" {
		t.Errorf("current = %v", cur)
	}
	opts := b["options"].(map[string]any)
	if !slices.Contains(opts["ports"].([]any), any("FAKE")) || len(opts["baudrates"].([]any)) != 7 ||
		opts["printerProfilePreference"] != "_default" {
		t.Errorf("options = %v", opts)
	}
	if p := opts["printerProfiles"].([]any)[0].(map[string]any); p["id"] != "_default" || p["name"] != "Default" {
		t.Errorf("profiles = %v", opts["printerProfiles"])
	}
	for _, body := range []string{
		`{"command":"connect","port":"/dev/nonexistent"}`,
		`{"command":"connect","port":"FAKE","baudrate":12345}`,
		`{"command":"connect","port":"FAKE","printerProfile":"other"}`,
		`{"command":"connect","port":7}`,
		`{"command":"explode"}`,
		`{"port":"FAKE"}`,
		`{"command":`,
	} {
		e.want(t, 400, "POST", "/api/connection", body)
	}
	// HA and Cura show "printer offline" on this 409; its text is OctoPrint's
	// (reference §3.5).
	if b := decode(t, e.want(t, 409, "GET", "/api/printer", "")); b["error"] != "Printer is not operational" {
		t.Errorf("offline GET /api/printer error = %v", b)
	}
	for _, p := range []struct{ path, body string }{
		{"/api/printer/tool", `{"command":"target","targets":{"tool0":200}}`},
		{"/api/printer/bed", `{"command":"target","target":60}`},
		{"/api/printer/printhead", `{"command":"home","axes":["x"]}`},
		{"/api/printer/command", `{"command":"G28"}`},
	} {
		e.want(t, 409, "POST", p.path, p.body)
	}
	e.want(t, 409, "GET", "/api/printer/tool", "")
	e.want(t, 204, "POST", "/api/connection", `{"command":"fake_ack"}`)
	e.want(t, 204, "POST", "/api/connection", `{"command":"disconnect"}`)
	if b := decode(t, e.want(t, 200, "GET", "/api/printer/error", "")); b["error"] != "" || b["reason"] != "" {
		t.Errorf("error = %v", b)
	}
}

func TestConnection_Guards(t *testing.T) {
	e := newPrinterEnv(t)
	for _, tc := range []struct {
		user, method, path, body string
		want                     int
	}{
		{"", "GET", "/api/connection", "", 401},
		{"", "GET", "/api/printer", "", 401},
		{"viewer", "POST", "/api/connection", `{"command":"connect"}`, 403},
		{"viewer", "POST", "/api/printer/tool", `{"command":"target","targets":{"tool0":1}}`, 403},
		{"viewer", "POST", "/api/printer/command", `{"command":"M112"}`, 403},
		{"viewer", "GET", "/api/connection", "", 200},
		{"viewer", "GET", "/api/printer", "", 409},
	} {
		if got, b := e.do(t, tc.user, tc.method, tc.path, tc.body); got != tc.want {
			t.Errorf("%s %s as %q = %d %s; want %d", tc.method, tc.path, tc.user, got, b, tc.want)
		}
	}
}

func TestPrinter_Session(t *testing.T) {
	e := newPrinterEnv(t)
	e.connect(t)
	cur := decode(t, e.want(t, 200, "GET", "/api/connection", ""))["current"].(map[string]any)
	if cur["state"] != "Operational" || cur["port"] != "FAKE" || cur["baudrate"] != 115200.0 {
		t.Errorf("current = %v", cur)
	}
	e.rig.Reply("T:25.50 /0.00 B:22.00 /0.00 @:0 B@:0")
	e.rig.Await(func() bool { return e.rig.Machine.Snapshot().Temps["tool0"].Actual == 25.5 })
	e.rig.Reply("T:26.50 /0.00 B:23.00 /0.00 @:0 B@:0")
	e.rig.Await(func() bool { return e.rig.Machine.Snapshot().Temps["tool0"].Actual == 26.5 })

	b := decode(t, e.want(t, 200, "GET", "/api/printer?history=true&limit=1", ""))
	temp := b["temperature"].(map[string]any)
	if tool := temp["tool0"].(map[string]any); tool["actual"] != 26.5 || tool["target"] != 0.0 || tool["offset"] != 0.0 {
		t.Errorf("tool0 = %v", tool)
	}
	hist := temp["history"].([]any)
	if len(hist) != 1 {
		t.Fatalf("history = %v; want 1 point", hist)
	}
	if p := hist[0].(map[string]any); p["bed"].(map[string]any)["actual"] != 23.0 || p["time"] == nil {
		t.Errorf("history point = %v", p)
	}
	st := b["state"].(map[string]any)
	flags := st["flags"].(map[string]any)
	if st["text"] != "Operational" || flags["operational"] != true || flags["ready"] != true || flags["closedOrError"] != false || len(flags) != 11 {
		t.Errorf("state = %v", st)
	}
	if b["sd"].(map[string]any)["ready"] != false {
		t.Errorf("sd = %v", b["sd"])
	}
	b = decode(t, e.want(t, 200, "GET", "/api/printer?exclude=temperature,sd", ""))
	if _, has := b["temperature"]; has || b["sd"] != nil || b["state"] == nil {
		t.Errorf("exclude: %v", b)
	}
	e.want(t, 400, "GET", "/api/printer?limit=x", "")
	tb := decode(t, e.want(t, 200, "GET", "/api/printer/tool?history=true", ""))
	if tb["tool0"] == nil || tb["bed"] != nil || len(tb["history"].([]any)) != 2 {
		t.Errorf("GET tool = %v", tb)
	}
	if bb := decode(t, e.want(t, 200, "GET", "/api/printer/bed", "")); bb["bed"] == nil || bb["tool0"] != nil {
		t.Errorf("GET bed = %v", bb)
	}
	e.want(t, 409, "GET", "/api/printer/chamber", "")

	steps := []struct {
		path, body string
		want       []string
	}{
		{"/api/printer/tool", `{"command":"target","targets":{"tool0":200}}`, []string{"M104 T0 S200"}},
		{"/api/printer/tool", `{"command":"select","tool":"tool0"}`, []string{"T0"}},
		{"/api/printer/tool", `{"command":"extrude","amount":5}`, []string{"G91", "M83", "G1 E5 F300", "M82", "G90"}},
		{"/api/printer/tool", `{"command":"flowrate","factor":95}`, []string{"M221 S95"}},
		{"/api/printer/bed", `{"command":"target","target":60}`, []string{"M140 S60"}},
		{"/api/printer/printhead", `{"command":"jog","x":10,"y":-5,"z":0.2}`, []string{"G91", "G1 X10 Y-5 Z0.2 F200", "G90"}},
		{"/api/printer/printhead", `{"command":"jog","x":50,"absolute":true,"speed":3000}`, []string{"G90", "G1 X50 F3000"}},
		{"/api/printer/printhead", `{"command":"home","axes":["x","y","z"]}`, []string{"G91", "G28 X0 Y0 Z0", "G90"}},
		{"/api/printer/printhead", `{"command":"feedrate","factor":1.1}`, []string{"M220 S110"}},
		{"/api/printer/command", `{"command":"m106 s255"}`, []string{"M106 S255"}},
		{"/api/printer/command", `{"commands":["M18","M117 Hi there"]}`, []string{"M18", "M117 Hi there"}},
		{"/api/printer/command", `{"commands":["M104 S%(temp)s"],"parameters":{"temp":180}}`, []string{"M104 S180"}},
	}
	for _, st := range steps {
		before := len(userCommands(e.rig.Executed()))
		e.want(t, 204, "POST", st.path, st.body)
		var got []string
		if !e.rig.Await(func() bool {
			got = userCommands(e.rig.Executed())[before:]
			return len(got) >= len(st.want)
		}) || !slices.Equal(got, st.want) {
			t.Errorf("POST %s %s sent %q; want %q", st.path, st.body, got, st.want)
		}
	}
	tool := decode(t, e.want(t, 200, "GET", "/api/printer/tool", ""))["tool0"].(map[string]any)
	if tool["target"] != 180.0 {
		t.Errorf("tool0 target after M104 S180 = %v", tool["target"])
	}
	e.want(t, 204, "POST", "/api/printer/tool", `{"command":"offset","offsets":{"tool0":5}}`)
	e.want(t, 204, "POST", "/api/printer/bed", `{"command":"offset","offset":-3}`)
	temp = decode(t, e.want(t, 200, "GET", "/api/printer", ""))["temperature"].(map[string]any)
	if temp["tool0"].(map[string]any)["offset"] != 5.0 || temp["bed"].(map[string]any)["offset"] != -3.0 {
		t.Errorf("offsets = %v", temp)
	}

	for _, bad := range []struct{ path, body string }{
		{"/api/printer/tool", `{"command":"nonsense"}`},
		{"/api/printer/tool", `{"command":"target","targets":{"tool1":200}}`},
		{"/api/printer/tool", `{"command":"target","targets":{"hotend":200}}`},
		{"/api/printer/tool", `{"command":"target","targets":{"tool0":"hot"}}`},
		{"/api/printer/tool", `{"command":"target"}`},
		{"/api/printer/tool", `{"command":"offset","offsets":{"tool0":99}}`},
		{"/api/printer/tool", `{"command":"select","tool":"tool7"}`},
		{"/api/printer/tool", `{"command":"extrude"}`},
		{"/api/printer/tool", `{"command":"flowrate","factor":500}`},
		{"/api/printer/bed", `{"command":"target","target":-20}`},
		{"/api/printer/bed", `{"command":"target","target":"60"}`},
		{"/api/printer/bed", `{"command":"warm"}`},
		{"/api/printer/printhead", `{"command":"jog"}`},
		{"/api/printer/printhead", `{"command":"jog","x":"far"}`},
		{"/api/printer/printhead", `{"command":"jog","x":1,"speed":-5}`},
		{"/api/printer/printhead", `{"command":"home","axes":["e"]}`},
		{"/api/printer/printhead", `{"command":"home"}`},
		{"/api/printer/printhead", `{"command":"feedrate","factor":10}`},
		{"/api/printer/command", `{}`},
		{"/api/printer/command", `{"command":"G28","commands":["G28"]}`},
		{"/api/printer/command", `{"commands":"G28"}`},
		{"/api/printer/command", `{"command":"G28\nM112"}`},
		{"/api/printer/command", `not json`},
	} {
		e.want(t, 400, "POST", bad.path, bad.body)
	}
	e.want(t, 409, "POST", "/api/printer/chamber", `{"command":"target","target":40}`)
	e.want(t, 404, "POST", "/api/printer/command", `{"script":"noSuchScript"}`)
	if b := decode(t, e.want(t, 200, "GET", "/api/printer/command/custom", "")); b["controls"] == nil {
		t.Errorf("custom controls = %v", b)
	}

	e.want(t, 204, "POST", "/api/connection", `{"command":"disconnect"}`)
	e.want(t, 409, "GET", "/api/printer", "")
	if cur := decode(t, e.want(t, 200, "GET", "/api/connection", ""))["current"].(map[string]any); cur["state"] != "Closed" {
		t.Errorf("after disconnect: %v", cur)
	}
}

func TestPrinter_ErrorAndLinkLoss(t *testing.T) {
	e := newPrinterEnv(t)
	e.connect(t)
	e.rig.Reply("Error:Thermal Runaway, system stopped! Heater_ID: 0", "Error:Printer halted. kill() called!")
	e.rig.Await(func() bool { return e.rig.Machine.Snapshot().State == printer.StateError })
	e.want(t, 409, "GET", "/api/printer", "")
	cur := decode(t, e.want(t, 200, "GET", "/api/connection", ""))["current"].(map[string]any)
	if !strings.HasPrefix(cur["state"].(string), "Error: ") {
		t.Errorf("state after halt = %v", cur["state"])
	}
	b := decode(t, e.want(t, 200, "GET", "/api/printer/error", ""))
	if !strings.Contains(b["error"].(string), "Thermal Runaway") || b["reason"] != "firmware" || b["logs"] == nil {
		t.Errorf("error = %v", b)
	}
	// Read-only users hold MONITOR_TERMINAL by default, so they see the logs too.
	if _, body := e.do(t, "viewer", "GET", "/api/printer/error", ""); !strings.Contains(body, `"logs"`) {
		t.Errorf("viewer with MONITOR_TERMINAL got no logs: %s", body)
	}

	e.connect(t) // reconnecting clears the error
	e.rig.Unplug()
	e.rig.Await(func() bool { return e.rig.Machine.Snapshot().State == printer.StateOfflineAfterError })
	cur = decode(t, e.want(t, 200, "GET", "/api/connection", ""))["current"].(map[string]any)
	if cur["state"] != "Offline after error" {
		t.Errorf("state after unplug = %v", cur["state"])
	}
	e.want(t, 409, "GET", "/api/printer", "")
}

func TestConnection_SaveAndAutoconnect(t *testing.T) {
	e := newPrinterEnv(t)
	e.want(t, 204, "POST", "/api/connection", `{"command":"connect","port":"FAKE","baudrate":250000,"save":true,"autoconnect":true}`)
	s := e.cfg.Get().Serial
	if s.Port != "FAKE" || s.Baudrate != 250000 || !s.Autoconnect {
		t.Errorf("saved serial settings = %+v", s)
	}
	opts := decode(t, e.want(t, 200, "GET", "/api/connection", ""))["options"].(map[string]any)
	if opts["portPreference"] != "FAKE" || opts["baudratePreference"] != 250000.0 {
		t.Errorf("preferences = %v", opts)
	}
}

// userCommands drops what the Machine sends on its own.
func userCommands(ex []string) []string {
	return slices.DeleteFunc(ex, func(s string) bool {
		return s == "M155 S2" || s == "M27 S2" || s == "M115" || s == "M110 N0" || s == "M105"
	})
}
