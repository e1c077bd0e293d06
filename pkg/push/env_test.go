package push_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/cuttleprint/cuttle/pkg/api"
	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/push"
	"github.com/cuttleprint/cuttle/pkg/store"
)

// fakeSource is a printer for push: a status and growing records.
type fakeSource struct {
	mu     sync.Mutex
	status push.Status
	temps  []push.TempPoint
	logs   []string
	msgs   []string
}

func newFakeSource() *fakeSource {
	return &fakeSource{status: push.OfflineStatus()}
}

func (f *fakeSource) Status() push.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

func (f *fakeSource) Feed(c push.Cursor) (push.Feed, push.Cursor) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fd := push.Feed{Temps: f.temps[c.Temps:], Logs: f.logs[c.Logs:], Messages: f.msgs[c.Messages:]}
	return fd, push.Cursor{Temps: uint64(len(f.temps)), Logs: uint64(len(f.logs)), Messages: uint64(len(f.msgs))}
}

func (f *fakeSource) record(temps []push.TempPoint, logs ...string) {
	f.mu.Lock()
	f.temps = append(f.temps, temps...)
	f.logs = append(f.logs, logs...)
	f.mu.Unlock()
}

func (f *fakeSource) setState(text string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status.State = map[string]any{"text": text, "error": "", "flags": map[string]bool{"operational": true}}
}

// env is a cuttle API with push mounted, over a fresh store.
type env struct {
	t    testing.TB
	url  string // http://127.0.0.1:port
	auth *auth.Service
	bus  *events.Bus
	push *push.Server
	src  *fakeSource
}

var cheapHash = auth.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}

func newEnv(t testing.TB, tune func(*push.Options)) *env {
	t.Helper()
	return newEnvWith(t, auth.Options{Hash: cheapHash}, tune)
}

// newEnvWith is newEnv with auth options (a clock, session lifetimes).
func newEnvWith(t testing.TB, ao auth.Options, tune func(*push.Options)) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db, err := store.Open(ctx, t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, auth: auth.NewService(db, ao), bus: events.NewBus(), src: newFakeSource()}
	opts := push.Options{Sessions: e.auth, Bus: e.bus, Source: e.src, Version: "1.11.2",
		CurrentInterval: 50 * time.Millisecond}
	if tune != nil {
		tune(&opts)
	}
	e.push = push.New(opts)
	done := make(chan struct{})
	go func() { defer close(done); e.push.Run(ctx) }()
	srv := httptest.NewServer(api.New(api.Deps{Auth: e.auth, Push: e.push}))
	e.url = srv.URL
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
		db.Close()
	})
	return e
}

// user creates name in groups (nil: users) and returns its API key.
func (e *env) user(name string, groups ...string) string {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.auth.AddUser(ctx, auth.NewUser{Name: name, Password: "pw-" + name, Groups: groups, Active: true}); err != nil {
		e.t.Fatal(err)
	}
	key, err := e.auth.GenerateKey(ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return key
}

// call makes an API request and decodes the JSON answer into out (if not nil).
func (e *env) call(method, path, key string, body any, cookies []*http.Cookie, out any) *http.Response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.url+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			e.t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
	return resp
}

// passiveSession does POST /api/login {"passive":true} with key and returns the session.
func (e *env) passiveSession(key string) string {
	e.t.Helper()
	var rec struct {
		Name    string `json:"name"`
		Session string `json:"session"`
	}
	resp := e.call("POST", "/api/login", key, map[string]any{"passive": true}, nil, &rec)
	if resp.StatusCode != 200 || rec.Session == "" {
		e.t.Fatalf("passive login: status %d, session %q", resp.StatusCode, rec.Session)
	}
	return rec.Session
}

// msg is one server message: its type and payload.
type msg struct {
	kind    string
	payload json.RawMessage
	raw     string
}

func (m msg) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(m.payload, v); err != nil {
		t.Fatalf("decode %s payload %s: %v", m.kind, m.payload, err)
	}
}

// wsClient is a raw websocket client that collects messages.
type wsClient struct {
	t    testing.TB
	conn *websocket.Conn
	msgs chan msg
}

func (e *env) dial(header http.Header) *wsClient {
	e.t.Helper()
	url := "ws" + strings.TrimPrefix(e.url, "http") + "/sockjs/websocket"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		e.t.Fatalf("dial %s: %v", url, err)
	}
	conn.SetReadLimit(16 << 20)
	c := &wsClient{t: e.t, conn: conn, msgs: make(chan msg, 1024)}
	go func() {
		defer close(c.msgs)
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			c.msgs <- parseMsg(e.t, data)
		}
	}()
	e.t.Cleanup(func() { conn.CloseNow() })
	return c
}

func parseMsg(t testing.TB, data []byte) msg {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil || len(m) != 1 {
		t.Errorf("server message %s: not a one-key JSON object (%v)", data, err)
		return msg{raw: string(data)}
	}
	for k, v := range m {
		return msg{kind: k, payload: v, raw: string(data)}
	}
	return msg{}
}

func (c *wsClient) send(v string) {
	c.t.Helper()
	if err := c.conn.Write(context.Background(), websocket.MessageText, []byte(v)); err != nil {
		c.t.Fatalf("send %s: %v", v, err)
	}
}

// next returns the next message, failing after 5 s.
func (c *wsClient) next() msg {
	c.t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			c.t.Fatal("connection closed while waiting for a message")
		}
		return m
	case <-time.After(5 * time.Second):
		c.t.Fatal("no message within 5 s")
	}
	return msg{}
}

// until returns the first message of kind, and the kinds skipped before it.
func (c *wsClient) until(kind string) (msg, []string) {
	c.t.Helper()
	var skipped []string
	for {
		m := c.next()
		if m.kind == kind {
			return m, skipped
		}
		skipped = append(skipped, m.kind)
	}
}

// quiet asserts that no message other than the given kinds arrives within d.
func (c *wsClient) quiet(d time.Duration, allowed ...string) {
	c.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				return
			}
			ok = false
			for _, a := range allowed {
				ok = ok || m.kind == a
			}
			if !ok {
				c.t.Errorf("unexpected message %s", m.raw)
			}
		case <-deadline:
			return
		}
	}
}

// authed sends an auth message with the cuttle ack and waits for the ack.
func (c *wsClient) authed(user, session string) {
	c.t.Helper()
	c.send(`{"auth":"` + user + ":" + session + `","ack":true}`)
	m, _ := c.until("cuttleAuth")
	var ack struct {
		OK bool `json:"ok"`
	}
	m.decode(c.t, &ack)
	if !ack.OK {
		c.t.Fatalf("auth as %s rejected: %s", user, m.raw)
	}
}

// untilEvent returns the first event message of type typ, and the kinds of the
// messages skipped before it except ClientOpened/ClientAuthed events.
func (c *wsClient) untilEvent(typ string) (msg, []string) {
	c.t.Helper()
	var skipped []string
	for {
		m := c.next()
		if m.kind != "event" {
			skipped = append(skipped, m.kind)
			continue
		}
		var ev struct {
			Type string `json:"type"`
		}
		m.decode(c.t, &ev)
		switch ev.Type {
		case typ:
			return m, skipped
		case "ClientOpened", "ClientAuthed":
		default:
			skipped = append(skipped, "event "+ev.Type)
		}
	}
}
