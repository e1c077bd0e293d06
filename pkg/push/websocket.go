package push

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// Limits of the websocket transports.
const (
	readLimit    = 64 << 10         // largest client message accepted
	writeTimeout = 10 * time.Second // a client that accepts nothing for this long is dropped
)

// wsTransport writes to a websocket: raw (one JSON object per text frame) or
// SockJS (`a[…]` frames and `h` heartbeats).
type wsTransport struct {
	conn   *websocket.Conn
	sockjs bool
}

func (t *wsTransport) send(ctx context.Context, msgs [][]byte) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if t.sockjs {
		return t.conn.Write(ctx, websocket.MessageText, sockjsFrame(msgs))
	}
	for _, m := range msgs {
		if err := t.conn.Write(ctx, websocket.MessageText, m); err != nil {
			return err
		}
	}
	return nil
}

func (t *wsTransport) heartbeat(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return t.conn.Write(ctx, websocket.MessageText, []byte("h"))
}

func (t *wsTransport) heartbeats() bool { return t.sockjs }

// sockjsFrame joins messages into one `a[m1,m2,…]` frame. Like OctoPrint, the
// array holds JSON objects, not the strings the SockJS protocol specifies; the
// SockJS client hands each element to the application as it is.
func sockjsFrame(msgs [][]byte) []byte {
	n := 3
	for _, m := range msgs {
		n += len(m) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, "a["...)
	for i, m := range msgs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, m...)
	}
	return append(b, ']')
}

// decodeSockJS splits a SockJS client frame (`["m1","m2"]` or `"m"`) into its
// messages; ok is false for anything else.
func decodeSockJS(data []byte) (msgs []string, ok bool) {
	if json.Unmarshal(data, &msgs) == nil {
		return msgs, true
	}
	var one string
	if json.Unmarshal(data, &one) == nil {
		return []string{one}, true
	}
	return nil, false
}

func (s *Server) serveRawWebsocket(w http.ResponseWriter, r *http.Request) {
	s.serveWebsocket(w, r, false)
}

func (s *Server) serveSockJSWebsocket(w http.ResponseWriter, r *http.Request) {
	s.serveWebsocket(w, r, true)
}

// serveWebsocket upgrades the request and serves one client until either side
// closes. The origin was checked by ServeHTTP.
func (s *Server) serveWebsocket(w http.ResponseWriter, r *http.Request, sockjs bool) {
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		s.opts.Log.Debug("push: websocket upgrade", "remote", r.RemoteAddr, "err", err)
		return // Accept wrote the error response
	}
	defer conn.CloseNow()
	conn.SetReadLimit(readLimit)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := context.AfterFunc(r.Context(), cancel)
	defer stop()

	tr := &wsTransport{conn: conn, sockjs: sockjs}
	if sockjs {
		if err := conn.Write(ctx, websocket.MessageText, []byte("o")); err != nil {
			return
		}
	}
	c := s.newClient(tr, r.RemoteAddr)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer cancel()
		s.readWebsocket(ctx, conn, c, sockjs)
	}()
	err = c.run(ctx)
	switch {
	case errors.Is(err, errSlow):
		_ = conn.Close(websocket.StatusPolicyViolation, "client too slow")
	case sockjs:
		wctx, wcancel := context.WithTimeout(context.Background(), time.Second)
		_ = conn.Write(wctx, websocket.MessageText, []byte(`c[3000,"Go away!"]`))
		wcancel()
		_ = conn.Close(websocket.StatusNormalClosure, "")
	default:
		_ = conn.Close(websocket.StatusNormalClosure, "")
	}
	cancel()
	<-readerDone
}

// readWebsocket hands the client's messages to c until the connection ends.
func (s *Server) readWebsocket(ctx context.Context, conn *websocket.Conn, c *client, sockjs bool) {
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		if !sockjs {
			if !c.receive(ctx, data) {
				return
			}
			continue
		}
		msgs, ok := decodeSockJS(data)
		if !ok {
			return // SockJS closes the session on broken framing
		}
		for _, m := range msgs {
			if !c.receive(ctx, []byte(m)) {
				return
			}
		}
	}
}

// receive hands one client message to the client's goroutine; false when ctx ended.
func (c *client) receive(ctx context.Context, m []byte) bool {
	select {
	case c.in <- m:
		return true
	case <-ctx.Done():
		return false
	}
}

// serveInfo answers /sockjs/info, which SockJS clients fetch before choosing a
// transport.
func (s *Server) serveInfo(w http.ResponseWriter, r *http.Request) {
	s.corsHeaders(w, r)
	w.Header().Set("Cache-Control", "no-store, no-cache, no-transform, must-revalidate, max-age=0")
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		b, _ := jsonMarshal(map[string]any{"websocket": true, "cookie_needed": false,
			"origins": []string{"*:*"}, "entropy": entropy()})
		_, _ = w.Write(b)
	case http.MethodOptions:
		w.Header().Set("Access-Control-Allow-Methods", "OPTIONS, GET")
		w.Header().Set("Access-Control-Max-Age", "31536000")
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSONError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on /sockjs/info")
	}
}

// corsHeaders reflects an allowed cross-origin request's Origin. Same-origin
// requests need none; disallowed origins never reach here.
func (s *Server) corsHeaders(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" && s.crossOrigin() {
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Set("Vary", "Origin")
		if h := r.Header.Get("Access-Control-Request-Headers"); h != "" {
			w.Header().Set("Access-Control-Allow-Headers", h)
		}
	}
}
