package push_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/push"
)

func target(v float64) *float64 { return &v }

func temp(sec int64, actual float64) push.TempPoint {
	return push.TempPoint{Time: sec, Heaters: map[string]push.Temp{"tool0": {Actual: actual, Target: target(200)}, "bed": {Actual: 60}}}
}

// Ensure that an anonymous socket gets connected and nothing else, even while
// the printer changes and events fly.
func TestAnonymousGetsConnectedOnly(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(nil)
	m := c.next()
	if m.kind != "connected" {
		t.Fatalf("first message = %s; want connected", m.raw)
	}
	var conn struct {
		Version     string            `json:"version"`
		Permissions []json0           `json:"permissions"`
		PluginHash  string            `json:"plugin_hash"`
		Extra       map[string]string `json:"-"`
	}
	m.decode(t, &conn)
	if conn.Version != "1.11.2" || len(conn.Permissions) == 0 || conn.PluginHash == "" {
		t.Errorf("connected payload = %s; want version, permissions and plugin_hash", m.payload)
	}
	e.src.record([]push.TempPoint{temp(1, 20)}, "Recv: ok")
	e.bus.Publish(events.StateChanged{Source: "printer"})
	e.bus.Publish(events.PrintStarted{User: "someone"})
	e.bus.Publish(events.PluginMessage{Plugin: "psucontrol", Data: map[string]bool{"isPSUOn": true}})
	c.quiet(300 * time.Millisecond)
}

type json0 = map[string]any

// Ensure that passive login with an API key plus auth gives history then current,
// with temperatures accumulated since the previous message, and that events held
// back while anonymous arrive after the auth.
func TestAuthHistoryThenCurrent(t *testing.T) {
	e := newEnv(t, nil)
	key := e.user("alice")
	e.src.setState("Operational")
	e.src.record([]push.TempPoint{temp(1, 20), temp(2, 21)}, "Send: M105", "Recv: ok T:21")
	e.bus.Publish(events.StateChanged{Source: "printer"})
	session := e.passiveSession(key)

	c := e.dial(nil)
	c.until("connected")
	e.bus.Publish(events.Connected{Port: "VIRTUAL", Baudrate: 115200}) // held back: anonymous
	c.send(`{"auth":"alice:` + session + `"}`)
	ev, skipped := c.untilEvent("Connected")
	if len(skipped) != 0 {
		t.Errorf("before the held-back event got %v; want only its own ClientOpened", skipped)
	}
	var evp struct {
		Type    string `json:"type"`
		Payload struct {
			Port     string `json:"port"`
			Baudrate int    `json:"baudrate"`
		} `json:"payload"`
	}
	ev.decode(t, &evp)
	if evp.Type != "Connected" || evp.Payload.Port != "VIRTUAL" || evp.Payload.Baudrate != 115200 {
		t.Errorf("held-back event = %s; want Connected VIRTUAL 115200", ev.payload)
	}
	h := c.next()
	if h.kind != "history" {
		t.Fatalf("after auth got %s; want history", h.raw)
	}
	var hist struct {
		State struct {
			Text  string          `json:"text"`
			Flags map[string]bool `json:"flags"`
		} `json:"state"`
		Job        map[string]any   `json:"job"`
		Progress   map[string]any   `json:"progress"`
		Temps      []map[string]any `json:"temps"`
		Logs       []string         `json:"logs"`
		Messages   []string         `json:"messages"`
		ServerTime float64          `json:"serverTime"`
	}
	h.decode(t, &hist)
	if hist.State.Text != "Operational" || !hist.State.Flags["operational"] {
		t.Errorf("history state = %+v; want Operational", hist.State)
	}
	if len(hist.Temps) != 2 || hist.Temps[1]["time"] != 2.0 || hist.Temps[1]["tool0"].(map[string]any)["actual"] != 21.0 {
		t.Errorf("history temps = %v; want the 2 recorded points", hist.Temps)
	}
	if !slices.Equal(hist.Logs, []string{"Send: M105", "Recv: ok T:21"}) || hist.Messages == nil {
		t.Errorf("history logs = %q, messages = %q; want the 2 lines and []", hist.Logs, hist.Messages)
	}
	if hist.Job == nil || hist.Progress == nil || hist.ServerTime < float64(time.Now().Unix()-60) {
		t.Errorf("history lacks job, progress or serverTime: %s", h.payload)
	}

	// Two rounds: each current carries only the points recorded since the previous message.
	for round, want := range [][]float64{{3}, {4, 5}} {
		var pts []push.TempPoint
		for _, s := range want {
			pts = append(pts, temp(int64(s), 20+s))
		}
		e.src.record(pts, "Recv: ok")
		e.bus.Publish(events.StateChanged{Source: "printer"})
		cur, _ := c.until("current")
		var cp struct {
			Temps []struct {
				Time float64 `json:"time"`
			} `json:"temps"`
			Logs []string `json:"logs"`
		}
		cur.decode(t, &cp)
		var got []float64
		for _, p := range cp.Temps {
			got = append(got, p.Time)
		}
		if !slices.Equal(got, want) || !slices.Equal(cp.Logs, []string{"Recv: ok"}) {
			t.Errorf("round %d: current temps %v logs %q; want %v and [Recv: ok]", round, got, cp.Logs, want)
		}
	}
}

// Ensure that throttle N spaces currents at least N × the interval apart.
func TestThrottle(t *testing.T) {
	e := newEnv(t, func(o *push.Options) { o.CurrentInterval = 40 * time.Millisecond })
	key := e.user("alice")
	c := e.dial(nil)
	c.until("connected")
	c.send(`{"throttle":3}`)
	c.send(`{"throttle":"fast"}`) // ignored
	c.send(`{"throttle":0}`)      // ignored
	c.authed("alice", e.passiveSession(key))
	c.until("history")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // the printer changes far more often than currents may go out
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				e.bus.Publish(events.StateChanged{Source: "printer"})
			}
		}
	}()
	var times []float64
	for len(times) < 6 {
		m, _ := c.until("current")
		var p struct {
			ServerTime float64 `json:"serverTime"`
		}
		m.decode(t, &p)
		times = append(times, p.ServerTime)
	}
	for i := 1; i < len(times); i++ {
		if gap := times[i] - times[i-1]; gap < 0.120-0.001 {
			t.Errorf("currents %d and %d are %.3f s apart; want >= 0.120 s at throttle 3", i-1, i, gap)
		}
	}
}

// Ensure that subscribe filters events, plugins and state, and that turning
// state on sends a new history.
func TestSubscribe(t *testing.T) {
	e := newEnv(t, nil)
	key := e.user("alice")
	c := e.dial(nil)
	c.until("connected")
	c.send(`{"subscribe":{"state":false,"events":["PrintDone"],"plugins":["psucontrol"]}}`)
	c.authed("alice", e.passiveSession(key))
	e.bus.Publish(events.ZChange{New: 0.2})
	e.bus.Publish(events.PluginMessage{Plugin: "other", Data: 1})
	e.bus.Publish(events.StateChanged{Source: "printer"})
	e.bus.Publish(events.PrintDone{Time: 3})
	e.bus.Publish(events.PluginMessage{Plugin: "psucontrol", Data: map[string]bool{"isPSUOn": true}})
	if m := c.next(); m.kind != "event" || !strings.Contains(m.raw, `"PrintDone"`) {
		t.Errorf("first message after auth = %s; want the PrintDone event", m.raw)
	}
	if m := c.next(); m.raw != `{"plugin":{"plugin":"psucontrol","data":{"isPSUOn":true}}}` {
		t.Errorf("second message = %s; want the psucontrol plugin message", m.raw)
	}
	c.quiet(200 * time.Millisecond)

	c.send(`{"subscribe":{"state":{"logs":"^Recv","messages":false},"events":false}}`)
	h, skipped := c.until("history")
	if len(skipped) != 0 {
		t.Errorf("before history got %v", skipped)
	}
	if strings.Contains(h.raw, `"messages"`) {
		t.Errorf("history with messages:false carries messages: %s", h.raw)
	}
	e.src.record(nil, "Send: G28", "Recv: ok")
	e.bus.Publish(events.StateChanged{Source: "printer"})
	e.bus.Publish(events.PrintDone{})
	cur, _ := c.until("current")
	var cp struct {
		Logs []string `json:"logs"`
	}
	cur.decode(t, &cp)
	if !slices.Equal(cp.Logs, []string{"Recv: ok"}) {
		t.Errorf("logs with regex ^Recv = %q; want [Recv: ok]", cp.Logs)
	}
	c.quiet(150*time.Millisecond, "current")
}

// Ensure that a logout, a revoked key, a modified user and a bad auth each send
// reauthRequired with OctoPrint's reason and make the socket anonymous.
func TestReauthRequired(t *testing.T) {
	e := newEnv(t, nil)
	key := e.user("alice")
	reason := func(c *wsClient) string {
		m, _ := c.until("reauthRequired")
		var p struct {
			Reason string `json:"reason"`
		}
		m.decode(t, &p)
		return p.Reason
	}

	t.Run("bad auth", func(t *testing.T) {
		c := e.dial(nil)
		c.until("connected")
		c.send(`{"auth":"alice:not-a-session","ack":true}`)
		if m := c.next(); m.raw != `{"cuttleAuth":{"ok":false,"reason":"stale"}}` {
			t.Errorf("negative ack = %s", m.raw)
		}
		if r := reason(c); r != "stale" {
			t.Errorf("reason = %q; want stale", r)
		}
		c.send(`{"auth":"bob:` + e.passiveSession(key) + `"}`) // alice's session, wrong name
		if r := reason(c); r != "stale" {
			t.Errorf("reason for a session of another user = %q; want stale", r)
		}
	})

	t.Run("logout", func(t *testing.T) {
		var rec struct {
			Session string `json:"session"`
		}
		resp := e.call("POST", "/api/login", "", map[string]string{"user": "alice", "pass": "pw-alice"}, nil, &rec)
		if resp.StatusCode != 200 {
			t.Fatalf("login: %d", resp.StatusCode)
		}
		c := e.dial(nil)
		c.until("connected")
		c.authed("alice", rec.Session)
		c.until("history")
		e.call("POST", "/api/logout", "", nil, resp.Cookies(), nil)
		if r := reason(c); r != "logout" {
			t.Errorf("reason = %q; want logout", r)
		}
		e.bus.Publish(events.PrintDone{}) // anonymous now: held back, not sent
		c.quiet(200*time.Millisecond, "current")
	})

	t.Run("revoked key", func(t *testing.T) {
		k := e.user("carol")
		c := e.dial(nil)
		c.until("connected")
		c.authed("carol", e.passiveSession(k))
		if resp := e.call("DELETE", "/api/access/users/carol/apikey", k, nil, nil, nil); resp.StatusCode/100 != 2 {
			t.Fatalf("revoke key: %d", resp.StatusCode)
		}
		if r := reason(c); r != "stale" {
			t.Errorf("reason = %q; want stale", r)
		}
	})

	t.Run("modified user", func(t *testing.T) {
		k := e.user("dave")
		c := e.dial(nil)
		c.until("connected")
		c.authed("dave", e.passiveSession(k))
		groups := []string{auth.GroupReadonly}
		if _, err := e.auth.UpdateUser(context.Background(), "dave", auth.UserUpdate{Groups: &groups}); err != nil {
			t.Fatal(err)
		}
		if r := reason(c); r != "modified" {
			t.Errorf("reason = %q; want modified", r)
		}
	})

	t.Run("removed user", func(t *testing.T) {
		k := e.user("erin")
		c := e.dial(nil)
		c.until("connected")
		c.authed("erin", e.passiveSession(k))
		if err := e.auth.DeleteUser(context.Background(), "erin"); err != nil {
			t.Fatal(err)
		}
		if r := reason(c); r != "removed" {
			t.Errorf("reason = %q; want removed", r)
		}
		c.send(`{"auth":"erin:x"}`)
		if r := reason(c); r != "stale" {
			t.Errorf("reason after auth as the removed user = %q; want stale", r)
		}
	})
}

// Ensure that terminal lines need MONITOR_TERMINAL and login events need ADMIN.
func TestPermissionFilters(t *testing.T) {
	e := newEnv(t, nil)
	e.user("viewer")
	noGroups := []string{}
	status := []auth.Permission{auth.PermStatus}
	if _, err := e.auth.UpdateUser(context.Background(), "viewer", auth.UserUpdate{Groups: &noGroups, Permissions: &status}); err != nil {
		t.Fatal(err)
	}
	viewerKey, _ := e.auth.GenerateKey(context.Background(), "viewer")
	adminKey := e.user("root", auth.GroupAdmins)
	e.src.record(nil, "Send: M105")
	e.bus.Publish(events.StateChanged{Source: "printer"})

	v := e.dial(nil)
	v.until("connected")
	v.authed("viewer", e.passiveSession(viewerKey))
	a := e.dial(nil)
	a.until("connected")
	a.authed("root", e.passiveSession(adminKey))
	vh, _ := v.until("history")
	ah, _ := a.until("history")
	if strings.Contains(vh.raw, `"logs"`) || strings.Contains(vh.raw, "M105") {
		t.Errorf("history without MONITOR_TERMINAL has terminal lines: %s", vh.raw)
	}
	if !strings.Contains(ah.raw, `"logs":["Send: M105"]`) {
		t.Errorf("admin history lacks the logs: %s", ah.raw)
	}
	e.bus.Publish(events.UserLoggedIn{Username: "x"})
	e.bus.Publish(events.ClientOpened{RemoteAddress: "10.0.0.7"})
	e.bus.Publish(events.PrintDone{})
	for _, c := range []*wsClient{v, a} {
		var got []string
		for {
			m := c.next()
			if m.kind == "event" {
				got = append(got, m.raw)
			}
			if strings.Contains(m.raw, `"PrintDone"`) {
				break
			}
		}
		joined := strings.Join(got, "\n")
		if c == v {
			if strings.Contains(joined, "UserLoggedIn") || strings.Contains(joined, "10.0.0.7") || !strings.Contains(joined, `{"event":{"type":"ClientOpened","payload":{}}}`) {
				t.Errorf("viewer events:\n%s\nwant no UserLoggedIn and a blank ClientOpened", joined)
			}
		} else if !strings.Contains(joined, "UserLoggedIn") || !strings.Contains(joined, "10.0.0.7") {
			t.Errorf("admin events:\n%s\nwant UserLoggedIn and the address", joined)
		}
	}
}

// Ensure the origin check: same origin and no origin pass, another origin is
// refused unless cross-origin access is on.
func TestOrigin(t *testing.T) {
	for _, cross := range []bool{false, true} {
		e := newEnv(t, func(o *push.Options) { o.AllowCrossOrigin = func() bool { return cross } })
		for _, tt := range []struct {
			origin string
			want   int
		}{
			{"", 101},
			{e.url, 101},
			{"http://evil.example", map[bool]int{false: 403, true: 101}[cross]},
		} {
			req, _ := http.NewRequest("GET", e.url+"/sockjs/websocket", nil)
			for k, v := range map[string]string{"Connection": "Upgrade", "Upgrade": "websocket",
				"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="} {
				req.Header.Set(k, v)
			}
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("cross=%v origin %q: status %d; want %d", cross, tt.origin, resp.StatusCode, tt.want)
			}
		}
	}
}
