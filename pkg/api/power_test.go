package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/api"
	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/power"
	"github.com/cuttleprint/cuttle/pkg/power/powertest"
	"github.com/cuttleprint/cuttle/pkg/store"
)

// powerEnv is a real API server over a real store, with three users and a
// bank of fake relays announcing changes on a bus.
type powerEnv struct {
	srv  *httptest.Server
	h    http.Handler
	keys map[string]string // user → API key: admin, operator (users), viewer (readonly)
	psu  *powertest.Relay
	led  *powertest.Relay
	bus  *events.Bus
	pol  *power.Policy
	clk  *powertest.Clock
}

func newPowerEnv(t testing.TB, withPSU bool) *powerEnv {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := auth.NewService(db, auth.Options{Hash: auth.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}})
	e := &powerEnv{keys: map[string]string{}, bus: events.NewBus(), psu: powertest.New(power.Off), led: powertest.New(power.Off)}
	for name, group := range map[string]string{"admin": auth.GroupAdmins, "operator": auth.GroupUsers, "viewer": auth.GroupReadonly} {
		if _, err := svc.AddUser(ctx, auth.NewUser{Name: name, Password: "pw-" + name, Groups: []string{group}, Active: true}); err != nil {
			t.Fatal(err)
		}
		if e.keys[name], err = svc.GenerateKey(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	bank := power.NewBank(power.Announce(e.bus, "psu"))
	if withPSU {
		must(t, bank.Add(ctx, "psu", e.psu))
	}
	must(t, bank.Add(ctx, "led", e.led))
	must(t, bank.Add(ctx, "fan", power.NewUnavailable("fan", "GPIO22", `line "GPIO22" not found: permission denied on /dev/gpiochip0`, nil)))
	cfg := power.DefaultPolicyConfig()
	cfg.IdleOff = 10 * time.Minute
	e.clk = powertest.NewClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	if e.pol, err = power.NewPolicy(ctx, cfg, bank, e.clk, e.bus); err != nil {
		t.Fatal(err)
	}
	e.h = api.New(api.Deps{Auth: svc, Power: bank, PowerPolicy: e.pol, Now: e.clk.Now})
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(e.srv.Close)
	return e
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// do sends a request as user ("" for none) and returns status and body.
func (e *powerEnv) do(t *testing.T, user, method, path, body string) (int, string) {
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

func TestPower_Guards(t *testing.T) {
	e := newPowerEnv(t, true)
	for _, tc := range []struct {
		method, path, body string
		user               string
		want               int
	}{
		{"GET", "/api/plugin/psucontrol", "", "", 401},
		{"POST", "/api/plugin/psucontrol", `{"command":"turnPSUOn"}`, "", 401},
		{"GET", "/api/cuttle/power", "", "", 401},
		{"POST", "/api/cuttle/power", `{"command":"cancelIdleOff"}`, "", 401},
		{"GET", "/api/cuttle/power/psu", "", "", 401},
		{"POST", "/api/cuttle/power/psu", `{"command":"on"}`, "", 401},
		{"POST", "/api/plugin/psucontrol", `{"command":"turnPSUOn"}`, "viewer", 403},
		{"POST", "/api/plugin/psucontrol", `{"command":"getPSUState"}`, "viewer", 403},
		{"POST", "/api/cuttle/power", `{"command":"cancelIdleOff"}`, "viewer", 403},
		{"POST", "/api/cuttle/power/psu", `{"command":"on"}`, "viewer", 403},
		{"GET", "/api/plugin/psucontrol", "", "viewer", 200},
		{"GET", "/api/cuttle/power", "", "viewer", 200},
		{"GET", "/api/cuttle/power/led", "", "viewer", 200},
		{"POST", "/api/plugin/psucontrol", `{"command":"getPSUState"}`, "operator", 200},
		{"POST", "/api/cuttle/power/led", `{"command":"toggle"}`, "operator", 200},
	} {
		if got, body := e.do(t, tc.user, tc.method, tc.path, tc.body); got != tc.want {
			t.Errorf("%s %s as %q = %d %s; want %d", tc.method, tc.path, tc.user, got, body, tc.want)
		}
	}
	if got := e.psu.Switches(); got != nil {
		t.Errorf("PSU switched by refused requests: %v", got)
	}
}

func TestPower_PSUControl(t *testing.T) {
	e := newPowerEnv(t, true)
	sub := e.bus.Subscribe(events.Options{Match: func(ev events.Event) bool { _, ok := ev.(events.PluginMessage); return ok }})
	defer sub.Close()
	state := func(step string, want bool) {
		t.Helper()
		wantBody := `{"isPSUOn":false}`
		if want {
			wantBody = `{"isPSUOn":true}`
		}
		for _, r := range []struct{ method, body string }{{"GET", ""}, {"POST", `{"command":"getPSUState"}`}} {
			code, body := e.do(t, "operator", r.method, "/api/plugin/psucontrol", r.body)
			if code != 200 || strings.TrimSpace(body) != wantBody {
				t.Errorf("%s: %s psucontrol %s = %d %s; want 200 %s", step, r.method, r.body, code, body, wantBody)
			}
		}
	}
	state("start", false)
	for _, s := range []struct {
		cmd  string
		want bool
	}{{"turnPSUOn", true}, {"turnPSUOn", true}, {"togglePSU", false}, {"togglePSU", true}, {"turnPSUOff", false}} {
		if code, body := e.do(t, "operator", "POST", "/api/plugin/psucontrol", `{"command":"`+s.cmd+`"}`); code != 204 || body != "" {
			t.Errorf("POST %s = %d %q; want 204 and no body", s.cmd, code, body)
		}
		state(s.cmd, s.want)
	}
	// One push plugin message per change, none for the repeated turnPSUOn.
	var got []string
	for _, ev := range sub.Take(nil) {
		b, _ := json.Marshal(ev.Payload())
		got = append(got, string(b))
	}
	on, off := `{"plugin":"psucontrol","data":{"isPSUOn":true}}`, `{"plugin":"psucontrol","data":{"isPSUOn":false}}`
	want := []string{on, off, on, off}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plugin messages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPower_PSUControlErrors(t *testing.T) {
	e := newPowerEnv(t, true)
	for _, tc := range []struct {
		body string
		want int
		msg  string
	}{
		{`{"command":"explode"}`, 400, "unknown command"},
		{`{"command":42}`, 400, "command"},
		{`{}`, 400, "command"},
		{`{"command":`, 400, "malformed"},
		{``, 400, "JSON"},
	} {
		code, body := e.do(t, "admin", "POST", "/api/plugin/psucontrol", tc.body)
		if code != tc.want || !strings.Contains(body, tc.msg) || !strings.Contains(body, `"error"`) {
			t.Errorf("POST psucontrol %q = %d %s; want %d with error containing %q", tc.body, code, body, tc.want, tc.msg)
		}
	}
	e.psu.Lock()
	e.psu.Err = power.NewUnavailable("psu", "GPIO17", "no GPIO character device (/dev/gpiochip*) on this host", nil).Err()
	e.psu.Unlock()
	for _, r := range []struct{ method, body string }{{"GET", ""}, {"POST", `{"command":"turnPSUOn"}`}, {"POST", `{"command":"getPSUState"}`}} {
		code, body := e.do(t, "admin", r.method, "/api/plugin/psucontrol", r.body)
		if code != 503 || !strings.Contains(body, "no GPIO character device") {
			t.Errorf("%s psucontrol %s on an unavailable PSU = %d %s; want 503 with the reason", r.method, r.body, code, body)
		}
	}
}

func TestPower_NoPSUConfigured(t *testing.T) {
	e := newPowerEnv(t, false)
	code, body := e.do(t, "admin", "GET", "/api/plugin/psucontrol", "")
	if code != 503 || !strings.Contains(body, `no relay named \"psu\"`) {
		t.Errorf("GET psucontrol without a PSU = %d %s; want 503 naming the missing relay", code, body)
	}
	if code, _ := e.do(t, "admin", "POST", "/api/plugin/psucontrol", `{"command":"explode"}`); code != 400 {
		t.Errorf("bad command without a PSU = %d; want 400", code)
	}
}

func TestPower_CuttleAPI(t *testing.T) {
	e := newPowerEnv(t, true)
	code, body := e.do(t, "viewer", "GET", "/api/cuttle/power", "")
	if code != 200 {
		t.Fatalf("GET /api/cuttle/power = %d %s", code, body)
	}
	var list struct {
		Relays []map[string]any `json:"relays"`
		PSU    string           `json:"psu"`
		Idle   map[string]any   `json:"idleOff"`
	}
	must(t, json.Unmarshal([]byte(body), &list))
	if len(list.Relays) != 3 || list.PSU != "psu" || list.Idle["enabled"] != true {
		t.Fatalf("GET /api/cuttle/power = %s", body)
	}
	fan := list.Relays[2]
	if fan["name"] != "fan" || fan["available"] != false || !strings.Contains(fan["reason"].(string), "permission denied") || fan["state"] != "unknown" {
		t.Errorf("unavailable relay listed as %v", fan)
	}
	if r := list.Relays[0]; r["name"] != "psu" || r["available"] != true || r["state"] != "off" || r["isOn"] != false {
		t.Errorf("psu listed as %v", r)
	}

	for _, s := range []struct {
		cmd, want string
	}{{"on", "on"}, {"toggle", "off"}, {"toggle", "on"}, {"off", "off"}} {
		code, body := e.do(t, "operator", "POST", "/api/cuttle/power/led", `{"command":"`+s.cmd+`"}`)
		var r map[string]any
		_ = json.Unmarshal([]byte(body), &r)
		if code != 200 || r["state"] != s.want || r["name"] != "led" {
			t.Errorf("POST led %s = %d %s; want 200 state %s", s.cmd, code, body, s.want)
		}
	}
	for _, tc := range []struct {
		method, path, body string
		want               int
		msg                string
	}{
		{"POST", "/api/cuttle/power/led", `{"command":"explode"}`, 400, "unknown command"},
		{"POST", "/api/cuttle/power/led", `{"command":["on"]}`, 400, "command"},
		{"POST", "/api/cuttle/power/nope", `{"command":"on"}`, 404, `no relay named \"nope\"`},
		{"GET", "/api/cuttle/power/nope", "", 404, "unknown relay"},
		{"POST", "/api/cuttle/power/fan", `{"command":"on"}`, 503, "permission denied on /dev/gpiochip0"},
		{"POST", "/api/cuttle/power", `{"command":"explode"}`, 400, "unknown command"},
	} {
		code, body := e.do(t, "admin", tc.method, tc.path, tc.body)
		if code != tc.want || !strings.Contains(body, tc.msg) {
			t.Errorf("%s %s %s = %d %s; want %d with %q", tc.method, tc.path, tc.body, code, body, tc.want, tc.msg)
		}
	}
}

func TestPower_CancelIdleOff(t *testing.T) {
	e := newPowerEnv(t, true)
	sub := e.bus.Subscribe(events.Options{})
	defer sub.Close()
	if code, body := e.do(t, "operator", "POST", "/api/plugin/psucontrol", `{"command":"turnPSUOn"}`); code != 204 {
		t.Fatalf("turnPSUOn = %d %s", code, body)
	}
	e.pol.Observe(context.Background(), power.Snapshot{Connected: true, Hotends: []float64{22}})
	e.clk.Advance(9*time.Minute + 15*time.Second - 300*time.Millisecond)
	code, body := e.do(t, "viewer", "GET", "/api/cuttle/power", "")
	if code != 200 || !strings.Contains(body, `"pending":true`) || !strings.Contains(body, `"secondsLeft":46`) || !strings.Contains(body, `"warned":true`) {
		t.Fatalf("GET power during the countdown = %d %s; want pending, warned, 45.3 s left rounded up to 46", code, body)
	}
	code, body = e.do(t, "operator", "POST", "/api/cuttle/power", `{"command":"cancelIdleOff"}`)
	if code != 200 || !strings.Contains(body, `"cancelled":true`) {
		t.Fatalf("cancelIdleOff = %d %s", code, body)
	}
	e.clk.Advance(time.Minute)
	if e.psu.Get() != power.On {
		t.Error("PSU switched off after the idle switch-off was cancelled")
	}
	var names []string
	for _, ev := range sub.Take(nil) {
		names = append(names, ev.Name())
	}
	want := "RelayChanged PowerOn cuttle.PluginMessage PowerOffWarning PowerOffCancelled"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("events = %s; want %s", got, want)
	}
}

// BenchmarkPSUControlGet measures GET /api/plugin/psucontrol through the
// whole handler: API key lookup in bbolt, permission check, relay state.
func BenchmarkPSUControlGet(b *testing.B) {
	e := newPowerEnv(b, true)
	req := httptest.NewRequest("GET", "/api/plugin/psucontrol", nil)
	req.Header.Set("X-Api-Key", e.keys["viewer"])
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
