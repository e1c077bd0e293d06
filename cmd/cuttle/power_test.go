package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/settings"
)

// Ensure that relays from the config file are wired into the API and announce
// changes on the app's bus: a simulated PSU, and a GPIO LED on a line this
// host does not have, which answers 503 with the reason while cuttle runs.
func TestWirePower_FromConfigFile(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	const yml = `
power:
  relays:
    - name: psu
      driver: sim
      activeLow: true
      sensePin: SIM_SENSE
    - name: led
      pin: CUTTLE_NO_SUCH_LINE
  policy:
    settleTime: 0s
`
	if err := os.WriteFile(cfgPath, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := settings.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(ctx, serveConfig{dataDir: filepath.Join(dir, "data"), settings: s, log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	wait := a.start(ctx)
	defer wait()
	defer cancel()
	if _, err := a.auth.AddUser(ctx, auth.NewUser{Name: "op", Password: "pw", Active: true}); err != nil {
		t.Fatal(err)
	}
	key, err := a.auth.GenerateKey(ctx, "op")
	if err != nil {
		t.Fatal(err)
	}
	sub := a.bus.Subscribe(events.Options{Match: func(e events.Event) bool { _, ok := e.(events.PluginMessage); return ok }})
	defer sub.Close()
	srv := httptest.NewServer(a.handler())
	defer srv.Close()
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("X-Api-Key", key)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	// A push client, logged in passively with the key, hears every change.
	code, body := do("POST", "/api/login", `{"passive":true}`)
	var login struct{ Session string }
	if err := json.Unmarshal([]byte(body), &login); code != 200 || err != nil || login.Session == "" {
		t.Fatalf("passive login = %d %s", code, body)
	}
	wsCtx, wsCancel := context.WithTimeout(ctx, 10*time.Second) // a safety net for a hung test
	defer wsCancel()
	ws, _, err := websocket.Dial(wsCtx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/sockjs/websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(16 << 20)
	until := func(kind string) string {
		t.Helper()
		for {
			_, data, err := ws.Read(wsCtx)
			if err != nil {
				t.Fatalf("waiting for a push %s message: %v", kind, err)
			}
			var m map[string]json.RawMessage
			if json.Unmarshal(data, &m) == nil && m[kind] != nil {
				return string(m[kind])
			}
		}
	}
	// Auth with cuttle's ack, so the switching below happens after push knows the user.
	if err := ws.Write(wsCtx, websocket.MessageText, []byte(`{"auth":"op:`+login.Session+`","ack":true}`)); err != nil {
		t.Fatal(err)
	}
	if ack := until("cuttleAuth"); !strings.Contains(ack, `"ok":true`) {
		t.Fatalf("push auth ack = %s", ack)
	}
	untilPlugin := func() string { t.Helper(); return until("plugin") }

	if code, body := do("GET", "/api/plugin/psucontrol", ""); code != 200 || body != `{"isPSUOn":false}` {
		t.Errorf("GET psucontrol = %d %s; want 200 off (start-up off)", code, body)
	}
	if code, body := do("POST", "/api/plugin/psucontrol", `{"command":"turnPSUOn"}`); code != 204 {
		t.Errorf("turnPSUOn = %d %s; want 204", code, body)
	}
	if got := untilPlugin(); got != `{"plugin":"psucontrol","data":{"isPSUOn":true}}` {
		t.Errorf("push plugin message after turnPSUOn = %s", got)
	}
	if code, body := do("GET", "/api/plugin/psucontrol", ""); code != 200 || body != `{"isPSUOn":true}` {
		t.Errorf("GET psucontrol after turnPSUOn = %d %s; want on", code, body)
	}
	if code, body := do("POST", "/api/cuttle/power/led", `{"command":"on"}`); code != 503 || !strings.Contains(body, "CUTTLE_NO_SUCH_LINE") {
		t.Errorf("POST led on = %d %s; want 503 naming the missing line", code, body)
	}
	code, body = do("GET", "/api/settings", "")
	if code != 200 || !strings.Contains(body, `"psucontrol":{`) || !strings.Contains(body, `"invertonoffGPIOPin":true`) || !strings.Contains(body, `"senseGPIOPin":"SIM_SENSE"`) {
		t.Errorf("GET /api/settings = %d, plugins.psucontrol missing or wrong: %.300s", code, body)
	}
	if evs := sub.Take(nil); len(evs) != 1 {
		t.Errorf("plugin messages on the bus = %v; want one", evs)
	}
}
