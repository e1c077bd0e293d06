package push

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// XHR transport limits.
const (
	streamLimit = 128 << 10 // bytes after which an xhr_streaming response ends (the client reopens)
	sendLimit   = 64 << 10  // largest xhr_send body
)

var (
	closeGoAway      = []byte(`c[3000,"Go away!"]`)
	closeAnotherOpen = []byte(`c[2010,"Another connection still open"]`)
)

// xhrSession is a SockJS session served over XHR requests: the client's
// messages arrive by xhr_send, and frames wait in an outbox until an xhr or
// xhr_streaming request takes them. Its client runs on a goroutine owned by
// the Server; the session ends DisconnectDelay after its last receiving
// request, or when the client ends.
type xhrSession struct {
	srv    *Server
	id     string
	c      *client
	cancel context.CancelFunc
	wake   chan struct{} // capacity 1: frames were added or the session ended
	done   chan struct{} // closed when the session has ended

	mu        sync.Mutex // guards the fields below
	frames    [][]byte
	size      int
	receiving bool
	opened    bool        // the open frame "o" has been taken
	idle      *time.Timer // ends the session when nobody receives for DisconnectDelay
}

func (x *xhrSession) send(_ context.Context, msgs [][]byte) error {
	return x.push(sockjsFrame(msgs))
}

func (x *xhrSession) heartbeat(context.Context) error { return x.push([]byte("h")) }

func (x *xhrSession) heartbeats() bool { return true }

// push adds a frame to the outbox; errSlow when the outbox is over its limit
// (the client stopped polling but the session has not yet expired).
func (x *xhrSession) push(f []byte) error {
	x.mu.Lock()
	if x.size+len(f) > x.srv.opts.OutboxLimit {
		x.mu.Unlock()
		return errSlow
	}
	x.frames = append(x.frames, f)
	x.size += len(f)
	x.mu.Unlock()
	x.signal()
	return nil
}

func (x *xhrSession) signal() {
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// take removes and returns every waiting frame. A polling request's first
// answer is the open frame alone, as the SockJS protocol has it, however
// quickly the first messages were queued behind it.
func (x *xhrSession) take(polling bool) [][]byte {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.opened && len(x.frames) > 0 {
		x.opened = true
		if polling {
			f := x.frames[:1]
			x.frames = x.frames[1:]
			x.size -= len(f[0])
			return f
		}
	}
	f := x.frames
	x.frames, x.size = nil, 0
	return f
}

// attach marks a receiving request; false when another one is attached.
func (x *xhrSession) attach() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.receiving {
		return false
	}
	x.receiving = true
	x.idle.Stop()
	return true
}

func (x *xhrSession) detach() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.receiving = false
	x.idle.Reset(x.srv.opts.DisconnectDelay)
}

// xhrSession returns the session with id; with create, a new one is opened when
// there is none.
func (s *Server) xhrSession(id, remote string, create bool) *xhrSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	if x := s.xhr[id]; x != nil || !create {
		return x
	}
	parent := s.ctx
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	x := &xhrSession{srv: s, id: id, cancel: cancel, wake: make(chan struct{}, 1), done: make(chan struct{})}
	x.idle = time.AfterFunc(s.opts.DisconnectDelay, cancel)
	x.frames = [][]byte{[]byte("o")}
	x.size = 1
	x.c = s.newClient(x, remote)
	s.xhr[id] = x
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = x.c.run(ctx)
		cancel()
		x.idle.Stop()
		s.mu.Lock()
		delete(s.xhr, id)
		s.mu.Unlock()
		close(x.done)
		x.signal()
	}()
	return x
}

// serveXHR answers xhr (polling) and xhr_streaming receive requests.
func (s *Server) serveXHR(w http.ResponseWriter, r *http.Request, id string, streaming bool) {
	if r.Method == http.MethodOptions {
		s.preflight(w, r)
		return
	}
	if r.Method != http.MethodPost {
		writeJSONError(w, http.StatusMethodNotAllowed, "SockJS XHR transports take POST")
		return
	}
	s.corsHeaders(w, r)
	h := w.Header()
	h.Set("Content-Type", "application/javascript; charset=UTF-8")
	h.Set("Cache-Control", "no-store, no-cache, no-transform, must-revalidate, max-age=0")
	x := s.xhrSession(id, r.RemoteAddr, true)
	if !x.attach() {
		_, _ = w.Write(append(closeAnotherOpen, '\n'))
		return
	}
	defer x.detach()
	flusher, _ := w.(http.Flusher)
	written := 0
	if streaming {
		w.WriteHeader(http.StatusOK)
		prelude := strings.Repeat("h", 2048) + "\n"
		_, _ = io.WriteString(w, prelude)
		if flusher != nil {
			flusher.Flush()
		}
	}
	for {
		frames := x.take(!streaming)
		ended := len(frames) == 0 && isClosed(x.done)
		if ended {
			frames = [][]byte{closeGoAway}
		}
		for _, f := range frames {
			n, err := w.Write(append(f, '\n'))
			written += n
			if err != nil {
				return
			}
		}
		if len(frames) > 0 {
			if !streaming || ended || written >= streamLimit {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		select {
		case <-x.wake:
		case <-x.done:
		case <-r.Context().Done():
			return
		}
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// serveXHRSend takes the client's messages (`["m1","m2"]`) for session id.
func (s *Server) serveXHRSend(w http.ResponseWriter, r *http.Request, id string) {
	if r.Method == http.MethodOptions {
		s.preflight(w, r)
		return
	}
	if r.Method != http.MethodPost {
		writeJSONError(w, http.StatusMethodNotAllowed, "SockJS xhr_send takes POST")
		return
	}
	s.corsHeaders(w, r)
	x := s.xhrSession(id, r.RemoteAddr, false)
	if x == nil {
		writeJSONError(w, http.StatusNotFound, "no SockJS session "+id)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, sendLimit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeJSONError(w, http.StatusRequestEntityTooLarge, "SockJS message too large")
		return
	case err != nil:
		writeJSONError(w, http.StatusBadRequest, "read SockJS message: "+err.Error())
		return
	case len(body) == 0:
		http.Error(w, "Payload expected.", http.StatusInternalServerError)
		return
	}
	msgs, ok := decodeSockJS(body)
	if !ok {
		http.Error(w, "Broken JSON encoding.", http.StatusInternalServerError)
		return
	}
	for _, m := range msgs {
		select {
		case x.c.in <- []byte(m):
		case <-x.done:
			writeJSONError(w, http.StatusNotFound, "SockJS session "+id+" ended")
			return
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.WriteHeader(http.StatusNoContent)
}

// preflight answers a CORS preflight for the XHR transports.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	s.corsHeaders(w, r)
	w.Header().Set("Access-Control-Allow-Methods", "OPTIONS, POST")
	w.Header().Set("Access-Control-Max-Age", "31536000")
	w.WriteHeader(http.StatusNoContent)
}

// entropy is the random number /sockjs/info carries.
func entropy() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}
