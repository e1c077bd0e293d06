package push

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/events"
)

// Sessions is what push needs from auth: resolving a login session (marking it
// used), the user behind it, and notifications of logouts, expiries and user
// changes. *auth.Service implements it.
type Sessions interface {
	// Session returns the live session with token and marks it used.
	Session(token string) (auth.Session, bool)
	// User returns a stored user.
	User(ctx context.Context, name string) (*auth.User, error)
	// Watch registers fn for session and user changes; fn must not block.
	Watch(fn func(auth.Change))
}

// Options configure a [Server]. Sessions and Bus are required.
type Options struct {
	// Sessions resolves `auth` messages and reports logouts and user changes.
	Sessions Sessions
	// Bus carries the events forwarded to clients and the StateChanged news
	// that trigger `current` messages.
	Bus *events.Bus
	// Source is the printer; nil reports an offline printer.
	Source Source
	// Version is the OctoPrint version cuttle emulates, sent in `connected`.
	Version string
	// AllowCrossOrigin reports whether browsers on other origins may connect
	// (OctoPrint's api.allowCrossOrigin); it is asked at each request, so a
	// settings change applies at once. Nil means never. Same-origin and
	// Origin-less clients always may.
	AllowCrossOrigin func() bool
	// Log receives connection errors; default slog.Default().
	Log *slog.Logger
	// Now is the clock for serverTime and session keep-alive; default time.Now.
	Now func() time.Time

	// CurrentInterval is the minimum time between `current` messages at
	// throttle 1; default 500 ms.
	CurrentInterval time.Duration
	// Heartbeat is the SockJS heartbeat interval; default 25 s.
	Heartbeat time.Duration
	// KeepAlive is how often an authenticated socket marks its session used;
	// default 60 s.
	KeepAlive time.Duration
	// DisconnectDelay is how long an XHR SockJS session lives without a
	// receiving request; default 5 s.
	DisconnectDelay time.Duration
	// EventLimit bounds the events queued for one client; a client further
	// behind is disconnected. Default 1024.
	EventLimit int
	// OutboxLimit bounds the bytes an XHR session holds for its client; default 1 MiB.
	OutboxLimit int
}

// Server serves the push API under /sockjs. Create it with [New], start its hub
// with [Server.Run], and mount it as an http.Handler for the /sockjs prefix.
type Server struct {
	opts    Options
	src     Source
	hash    string // plugin_hash/config_hash of the connected message
	closing chan struct{}

	snap     atomic.Pointer[snapshot] // the newest shared state; never nil
	currentZ atomic.Pointer[float64]  // the Z of the last ZChange, for sources that know none

	mu      sync.Mutex // guards clients, xhr, ctx
	clients map[*client]struct{}
	xhr     map[string]*xhrSession
	ctx     context.Context // Run's context: the parent of XHR sessions; nil before Run
	wg      sync.WaitGroup  // XHR session goroutines

	feedMu sync.Mutex // guards cursor and the building of snapshots
	cursor Cursor
}

// New returns a Server; it serves connections at once, and [Server.Run] keeps
// their state fresh.
func New(o Options) *Server {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CurrentInterval <= 0 {
		o.CurrentInterval = 500 * time.Millisecond
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 25 * time.Second
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = 60 * time.Second
	}
	if o.DisconnectDelay <= 0 {
		o.DisconnectDelay = 5 * time.Second
	}
	if o.EventLimit <= 0 {
		o.EventLimit = 1024
	}
	if o.OutboxLimit <= 0 {
		o.OutboxLimit = 1 << 20
	}
	s := &Server{opts: o, src: o.Source, clients: map[*client]struct{}{}, xhr: map[string]*xhrSession{},
		closing: make(chan struct{})}
	if s.src == nil {
		s.src = offline{}
	}
	sum := sha256.Sum256([]byte("cuttle " + o.Version))
	s.hash = hex.EncodeToString(sum[:8])
	s.snap.Store(&snapshot{})
	s.refresh()
	o.Sessions.Watch(s.authChanged)
	return s
}

// Run keeps the shared printer state fresh and wakes clients when it changes,
// at most every minRefresh, until ctx ends or the bus closes; then it closes
// every connection and waits for the XHR sessions it owns.
func (s *Server) Run(ctx context.Context) {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	sub := s.opts.Bus.Subscribe(events.Options{Limit: 256, Match: func(e events.Event) bool {
		switch e.(type) {
		case events.StateChanged, events.ZChange, events.Disconnected:
			return true
		}
		return false
	}})
	defer sub.Close()
	pace := time.NewTimer(0)
	defer pace.Stop()
	<-pace.C
	for {
		select {
		case <-ctx.Done():
		case <-sub.Done(): // the bus closed: shutting down
		case <-sub.Ready():
		}
		if ctx.Err() != nil || sub.Err() != nil {
			close(s.closing)
			s.wg.Wait()
			return
		}
		for _, e := range sub.Take(nil) {
			switch v := e.(type) {
			case events.ZChange:
				z := v.New
				s.currentZ.Store(&z)
			case events.Disconnected:
				s.currentZ.Store(nil)
			}
		}
		s.refresh()
		s.wakeClients()
		// Pace refreshes: the printer may announce a change per line, and
		// no client needs more than one current per minRefresh.
		pace.Reset(minRefresh)
		select {
		case <-ctx.Done():
		case <-pace.C:
		}
	}
}

// minRefresh is the shortest time between two refreshes of the shared state.
const minRefresh = 100 * time.Millisecond

// ServeHTTP routes /sockjs/websocket (raw), /sockjs/info and the SockJS
// transports /sockjs/<server>/<session>/<transport>.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/sockjs")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if !s.originAllowed(r) {
		writeJSONError(w, http.StatusForbidden, "cross-origin push connections are disabled")
		return
	}
	switch rest {
	case "", "/":
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		_, _ = w.Write([]byte("Welcome to SockJS!\n"))
		return
	case "/websocket":
		s.serveRawWebsocket(w, r)
		return
	case "/info":
		s.serveInfo(w, r)
		return
	}
	parts := strings.Split(strings.TrimPrefix(rest, "/"), "/")
	if len(parts) != 3 || !validID(parts[0]) || !validID(parts[1]) {
		writeJSONError(w, http.StatusNotFound, "no such push endpoint: "+r.URL.Path)
		return
	}
	switch parts[2] {
	case "websocket":
		s.serveSockJSWebsocket(w, r)
	case "xhr":
		s.serveXHR(w, r, parts[1], false)
	case "xhr_streaming":
		s.serveXHR(w, r, parts[1], true)
	case "xhr_send":
		s.serveXHRSend(w, r, parts[1])
	default:
		writeJSONError(w, http.StatusNotFound, "unsupported SockJS transport "+parts[2])
	}
}

// validID reports whether a SockJS server or session id is acceptable: not
// empty, no dots (SockJS forbids them).
func validID(id string) bool { return id != "" && !strings.Contains(id, ".") && len(id) <= 64 }

// originAllowed applies OctoPrint's rule: no Origin (native apps) and the same
// origin always pass; other origins only when cross-origin access is enabled.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || s.crossOrigin() {
		return true
	}
	_, host, ok := strings.Cut(origin, "://")
	return ok && strings.EqualFold(host, r.Host)
}

func (s *Server) crossOrigin() bool {
	return s.opts.AllowCrossOrigin != nil && s.opts.AllowCrossOrigin()
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := jsonMarshal(map[string]string{"error": msg})
	_, _ = w.Write(append(b, '\n'))
}

func (s *Server) register(c *client) {
	s.mu.Lock()
	s.clients[c] = struct{}{}
	s.mu.Unlock()
}

func (s *Server) unregister(c *client) {
	s.mu.Lock()
	delete(s.clients, c)
	s.mu.Unlock()
}

// Clients reports the number of connected push clients.
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

func (s *Server) wakeClients() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		select {
		case c.dirty <- struct{}{}:
		default:
		}
	}
}

// authChanged runs on the goroutine that changed a session or user; it only
// hands the change to the affected clients.
func (s *Server) authChanged(ch auth.Change) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		if a := c.authed.Load(); a != nil && a.matches(ch) {
			select {
			case c.reauth <- ch:
			default: // one pending re-authentication is enough
			}
		}
	}
}

// errSlow ends a client that fell too far behind.
var errSlow = errors.New("push: client fell behind")
