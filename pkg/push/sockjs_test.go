package push_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/cuttleprint/cuttle/pkg/push"
)

// Ensure that /sockjs/info has the shape SockJS clients read.
func TestSockJSInfo(t *testing.T) {
	e := newEnv(t, nil)
	resp, err := http.Get(e.url + "/sockjs/info")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || info["websocket"] != true || info["cookie_needed"] != false {
		t.Errorf("GET /sockjs/info = %d %v; want 200 with websocket true, cookie_needed false", resp.StatusCode, info)
	}
	if o, ok := info["origins"].([]any); !ok || len(o) != 1 || o[0] != "*:*" {
		t.Errorf("origins = %v; want [*:*]", info["origins"])
	}
	if _, ok := info["entropy"].(float64); !ok {
		t.Errorf("entropy = %v; want a number", info["entropy"])
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control = %q; want no-store", cc)
	}
}

// frameMsgs decodes an `a[…]` frame into its messages.
func frameMsgs(t *testing.T, frame string) []msg {
	t.Helper()
	if !strings.HasPrefix(frame, "a") {
		t.Fatalf("frame %q is not an a-frame", frame)
	}
	var arr []json.RawMessage
	if err := json.Unmarshal([]byte(frame[1:]), &arr); err != nil {
		t.Fatalf("frame %q: %v", frame, err)
	}
	var out []msg
	for _, m := range arr {
		out = append(out, parseMsg(t, m))
	}
	return out
}

func kinds(ms []msg) string {
	var k []string
	for _, m := range ms {
		k = append(k, m.kind)
	}
	return strings.Join(k, ",")
}

// Ensure that a SockJS websocket session opens with o, frames messages as
// a[{…}], takes client messages as a JSON array of strings and sends h heartbeats.
func TestSockJSWebsocket(t *testing.T) {
	e := newEnv(t, func(o *push.Options) { o.Heartbeat = 30 * time.Millisecond })
	key := e.user("alice")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(e.url, "http") + "/sockjs/123/abcdefgh/websocket"
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	read := func() string {
		t.Helper()
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if f := read(); f != "o" {
		t.Fatalf("first frame = %q; want o", f)
	}
	if ms := frameMsgs(t, read()); kinds(ms) != "connected" {
		t.Fatalf("second frame carries %s; want connected", kinds(ms))
	}
	auth, _ := json.Marshal([]string{`{"auth":"alice:` + e.passiveSession(key) + `","ack":true}`})
	if err := conn.Write(ctx, websocket.MessageText, auth); err != nil {
		t.Fatal(err)
	}
	var got []string
	heartbeat := false
	for !heartbeat || !strings.Contains(strings.Join(got, ","), "history") {
		f := read()
		if f == "h" {
			heartbeat = true
			continue
		}
		for _, m := range frameMsgs(t, f) {
			got = append(got, m.kind)
		}
	}
	if !strings.HasPrefix(strings.Join(got, ","), "cuttleAuth,") {
		t.Errorf("messages after auth = %v; want cuttleAuth first", got)
	}
}

// post sends a SockJS XHR request and returns status and body.
func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Ensure the XHR polling fallback: o, then a-frames per poll, messages in by
// xhr_send, errors for unknown sessions and broken bodies.
func TestSockJSXHRPolling(t *testing.T) {
	e := newEnv(t, nil)
	key := e.user("alice")
	base := e.url + "/sockjs/000/poll1/"
	if code, body := post(t, base+"xhr", ""); code != 200 || body != "o\n" {
		t.Fatalf("first poll = %d %q; want 200 o", code, body)
	}
	code, body := post(t, base+"xhr", "")
	if code != 200 || kinds(frameMsgs(t, strings.TrimSuffix(body, "\n"))) != "connected" {
		t.Fatalf("second poll = %d %q; want the connected frame", code, body)
	}
	auth, _ := json.Marshal([]string{`{"auth":"alice:` + e.passiveSession(key) + `","ack":true}`})
	if code, body := post(t, base+"xhr_send", string(auth)); code != 204 {
		t.Fatalf("xhr_send = %d %q; want 204", code, body)
	}
	var got []string
	for !strings.Contains(strings.Join(got, ","), "history") {
		code, body := post(t, base+"xhr", "")
		if code != 200 {
			t.Fatalf("poll = %d %q", code, body)
		}
		for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
			if line != "h" {
				for _, m := range frameMsgs(t, line) {
					got = append(got, m.kind)
				}
			}
		}
	}
	if got[0] != "cuttleAuth" {
		t.Errorf("messages after auth = %v; want cuttleAuth first", got)
	}
	for _, tt := range []struct {
		path, body string
		want       int
	}{
		{"/sockjs/000/nosuch/xhr_send", `["x"]`, 404},
		{"/sockjs/000/poll1/xhr_send", `["x"`, 500},
		{"/sockjs/000/poll1/xhr_send", ``, 500},
		{"/sockjs/000/poll1/eventsource", ``, 404},
		{"/sockjs/0.0/poll1/xhr", ``, 404},
	} {
		if code, body := post(t, e.url+tt.path, tt.body); code != tt.want {
			t.Errorf("POST %s %q = %d %q; want %d", tt.path, tt.body, code, body, tt.want)
		}
	}
}

// Ensure the XHR streaming fallback: a 2 KiB prelude, o, then a-frames on one
// response.
func TestSockJSXHRStreaming(t *testing.T) {
	e := newEnv(t, nil)
	resp, err := http.Post(e.url+"/sockjs/000/stream1/xhr_streaming", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	line := func() string {
		t.Helper()
		s, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSuffix(s, "\n")
	}
	if p := line(); p != strings.Repeat("h", 2048) {
		t.Errorf("prelude is %d bytes; want 2048 h", len(p))
	}
	if o := line(); o != "o" {
		t.Errorf("open frame = %q; want o", o)
	}
	if ms := frameMsgs(t, line()); kinds(ms) != "connected" {
		t.Errorf("first message frame carries %s; want connected", kinds(ms))
	}
	// A second receiver on the same session is told it cannot attach.
	if code, body := post(t, e.url+"/sockjs/000/stream1/xhr", ""); code != 200 || body != "c[2010,\"Another connection still open\"]\n" {
		t.Errorf("second receiver = %d %q; want the 2010 close frame", code, body)
	}
}
