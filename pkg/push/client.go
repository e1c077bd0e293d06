package push

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/events"
)

// transport carries one client's messages: a raw websocket (one JSON object per
// frame) or a SockJS session (frames of `a[…]`).
type transport interface {
	// send writes msgs, each one encoded JSON object, in order.
	send(ctx context.Context, msgs [][]byte) error
	// heartbeat sends a SockJS heartbeat; heartbeats reports whether the
	// transport uses them.
	heartbeat(ctx context.Context) error
	heartbeats() bool
}

// backlogLimit is how many messages an unauthenticated client holds back for
// delivery after a successful auth (OctoPrint's limit).
const backlogLimit = 100

// authState is what the auth watcher needs to know about a client, read
// without the client's goroutine.
type authState struct {
	user    string
	session string
}

func (a *authState) matches(ch auth.Change) bool {
	if ch.Session != "" {
		return ch.Session == a.session
	}
	return ch.User == a.user
}

// client is one push connection, transport-independent. Its fields below the
// channels belong to the goroutine running run.
type client struct {
	srv    *Server
	tr     transport
	remote string
	sub    *events.Subscription

	in     chan []byte      // client messages, from the transport's reader
	dirty  chan struct{}    // the shared state changed (capacity 1)
	reauth chan auth.Change // a session or user change that concerns this client
	authed atomic.Pointer[authState]

	id       *auth.Identity
	filter   filter
	throttle int
	backlog  []events.Event
	temps    uint64 // next temperature sequence number to send
	logs     uint64
	messages uint64
	lastCur  time.Time // when the last current was sent
	pending  bool      // a current is due when the interval allows
	out      [][]byte  // messages to send at the end of this turn
	curBuf   []byte    // the last current message, reused for the next
}

func (s *Server) newClient(tr transport, remote string) *client {
	c := &client{srv: s, tr: tr, remote: remote,
		in: make(chan []byte, 8), dirty: make(chan struct{}, 1), reauth: make(chan auth.Change, 4),
		id: auth.NewIdentity(nil, "", nil), filter: defaultFilter(), throttle: 1}
	// State news reaches clients through the hub (wakeClients), so the
	// printer's per-line StateChanged costs nothing per client.
	c.sub = s.opts.Bus.Subscribe(events.Options{Limit: s.opts.EventLimit, Overflow: events.Drop,
		IgnoreCoalescing: true})
	return c
}

// run serves the client until ctx ends, the transport fails or the client falls
// behind. The caller closes the transport afterwards.
func (c *client) run(ctx context.Context) error {
	s := c.srv
	s.register(c)
	defer s.unregister(c)
	defer c.sub.Close()
	s.opts.Bus.Publish(events.ClientOpened{RemoteAddress: c.remote})
	defer s.opts.Bus.Publish(events.ClientClosed{RemoteAddress: c.remote})

	// Writes give up as soon as the client overflows its queue: a write
	// blocked on a client that stopped reading must not hold its goroutine
	// (and the queue) for the whole write timeout.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-c.sub.Done():
			cancel()
		case <-ctx.Done():
		}
	}()

	c.emit(c.connectedMessage())
	if c.registered() {
		c.sendHistory()
	}
	if err := c.flush(ctx); err != nil {
		return err
	}
	curTimer := time.NewTimer(time.Hour)
	curTimer.Stop()
	defer curTimer.Stop()
	var beat <-chan time.Time
	if c.tr.heartbeats() {
		t := time.NewTicker(s.opts.Heartbeat)
		defer t.Stop()
		beat = t.C
	}
	keep := time.NewTicker(s.opts.KeepAlive)
	defer keep.Stop()
	var evs []events.Event
	for {
		select {
		case <-c.sub.Done():
			return c.ended(nil)
		case <-ctx.Done():
			return c.ended(ctx.Err())
		case <-s.closing:
			return nil
		case <-c.sub.Ready():
			evs = c.sub.Take(evs[:0])
			for _, e := range evs {
				c.deliver(e)
			}
			clear(evs)
		case m := <-c.in:
			c.handle(ctx, m)
		case ch := <-c.reauth:
			c.reauthenticate(ch)
		case <-c.dirty:
			c.pending = true
		case <-curTimer.C:
		case <-beat:
			if err := c.tr.heartbeat(ctx); err != nil {
				return err
			}
		case <-keep.C:
			c.keepAlive()
		}
		if c.pending && c.registered() && c.filter.state {
			interval := time.Duration(c.throttle) * s.opts.CurrentInterval
			if wait := interval - s.opts.Now().Sub(c.lastCur); wait > 0 {
				curTimer.Reset(wait)
			} else {
				c.sendCurrent()
			}
		}
		if err := c.flush(ctx); err != nil {
			return c.ended(err)
		}
	}
}

// ended says why the client stops: errSlow when its queue overflowed (whatever
// else went wrong in consequence), nil when the bus closed (shutdown), else err.
func (c *client) ended(err error) error {
	switch c.sub.Err() {
	case events.ErrOverflow:
		return errSlow
	case events.ErrClosed:
		return nil
	}
	return err
}

func (c *client) emit(msg []byte) { c.out = append(c.out, msg) }

func (c *client) flush(ctx context.Context) error {
	if len(c.out) == 0 {
		return nil
	}
	err := c.tr.send(ctx, c.out)
	clear(c.out)
	c.out = c.out[:0]
	return err
}

// registered reports whether the client receives printer data: OctoPrint
// registers a socket for callbacks once its user holds STATUS.
func (c *client) registered() bool { return c.id.Has(auth.PermStatus) }

func (c *client) terminal() bool { return c.id.Has(auth.PermMonitorTerminal) }

// handle applies one client message; anything that is not a JSON object with a
// known key is ignored, as in OctoPrint.
func (c *client) handle(ctx context.Context, raw []byte) {
	var m struct {
		Auth      *string         `json:"auth"`
		Ack       bool            `json:"ack"`
		Throttle  json.RawMessage `json:"throttle"`
		Subscribe json.RawMessage `json:"subscribe"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return
	}
	if m.Subscribe != nil {
		wasState := c.filter.state
		if f, ok := parseFilter(m.Subscribe); ok {
			c.filter = f
			if f.state && !wasState && c.registered() {
				c.sendHistory()
			}
		}
	}
	if m.Throttle != nil {
		var n int
		if json.Unmarshal(m.Throttle, &n) == nil && n >= 1 {
			c.throttle = n
		}
	}
	if m.Auth != nil {
		c.authenticate(ctx, *m.Auth, m.Ack)
	}
}

// authenticate handles {"auth":"user:session"}.
func (c *client) authenticate(ctx context.Context, v string, ack bool) {
	s := c.srv
	name, token, _ := strings.Cut(v, ":")
	var u *auth.User
	sess, ok := s.opts.Sessions.Session(token)
	if ok && sess.User == name {
		u = s.lookupUser(ctx, name)
	}
	if u == nil {
		s.opts.Log.Info("push: rejected auth", "remote", c.remote, "user", name)
		c.setIdentity(auth.NewIdentity(nil, "", nil), "")
		if ack {
			c.emit(mustMessage("cuttleAuth", map[string]any{"ok": false, "reason": auth.ChangeStale}))
		}
		c.emit(mustMessage("reauthRequired", map[string]auth.ChangeKind{"reason": auth.ChangeStale}))
		return
	}
	// Events published before this auth count as held back: take them now,
	// so they arrive before the history, in order.
	for _, e := range c.sub.Take(nil) {
		c.deliver(e)
	}
	c.setIdentity(auth.NewIdentity(u, sess.Mechanism, &sess), token)
	s.opts.Bus.Publish(events.ClientAuthed{Username: u.Name, RemoteAddress: c.remote})
	if ack {
		c.emit(mustMessage("cuttleAuth", map[string]any{"ok": true, "name": u.Name,
			"permissions": c.id.Perms().Keys()}))
	}
	held := c.backlog
	c.backlog = nil
	for _, e := range held {
		c.deliver(e)
	}
	if c.registered() && c.filter.state {
		c.sendHistory()
	}
}

// lookupUser returns the active user name, or nil.
func (s *Server) lookupUser(ctx context.Context, name string) *auth.User {
	if name == auth.GlobalUserName {
		return auth.GlobalUser()
	}
	u, err := s.opts.Sessions.User(ctx, name)
	if err != nil || u == nil || !u.Active {
		return nil
	}
	return u
}

func (c *client) setIdentity(id *auth.Identity, session string) {
	c.id = id
	if id.User == nil {
		c.authed.Store(nil)
		c.pending = false
		return
	}
	c.authed.Store(&authState{user: id.User.Name, session: session})
}

// reauthenticate handles a logout, expiry or user change reported by auth.
func (c *client) reauthenticate(ch auth.Change) {
	a := c.authed.Load()
	if a == nil || !a.matches(ch) {
		return // already handled, or the client has authenticated anew
	}
	c.setIdentity(auth.NewIdentity(nil, "", nil), "")
	c.emit(mustMessage("reauthRequired", map[string]string{"reason": string(ch.Kind)}))
}

// keepAlive marks the session used, as OctoPrint does every 60 s for an
// authenticated socket; a session that is gone asks for re-authentication.
func (c *client) keepAlive() {
	a := c.authed.Load()
	if a == nil || a.session == "" {
		return
	}
	if _, ok := c.srv.opts.Sessions.Session(a.session); !ok {
		c.reauthenticate(auth.Change{Kind: auth.ChangeStale, User: a.user, Session: a.session})
	}
}

// sendHistory queues a history message and moves the record cursors to now.
// It refreshes the shared state first, so that the history is as new as the
// source (the hub may not have caught up with the latest change yet).
func (c *client) sendHistory() {
	c.srv.refresh()
	snap := c.srv.snap.Load()
	c.emit(c.stateMessage(nil, "history", snap, snap.temps.first, snap.logs.first, snap.messages.first))
	c.pending = false
}

// sendCurrent queues a current message with what was recorded since the last
// one. Its buffer is reused for the next current: a turn sends at most one,
// and transports keep no message after send returns (the XHR outbox keeps its
// own frame).
func (c *client) sendCurrent() {
	snap := c.srv.snap.Load()
	c.curBuf = c.stateMessage(c.curBuf[:0], "current", snap, c.temps, c.logs, c.messages)
	c.emit(c.curBuf)
	c.pending = false
}

// stateMessage builds `{"<kind>":{status…,"temps":[…],"logs":[…],"messages":[…],"serverTime":…}}`
// from shared encoded parts, and advances the client's cursors. Everything but
// serverTime is shared by the clients that are at the same cursors with the
// same view (most of them, since they follow the same refreshes), so it is
// built once per snapshot and copied.
//
// The message is appended to dst.
func (c *client) stateMessage(dst []byte, kind string, snap *snapshot, temps, logs, msgs uint64) []byte {
	v := view{kind: kind, temps: temps, logs: logs, msgs: msgs, terminal: c.terminal(),
		logsOn: c.filter.logs.on, msgsOn: c.filter.messages.on}
	var body []byte
	if c.filter.logs.re == nil && c.filter.messages.re == nil {
		body = snap.body(v, nil, nil)
	} else {
		body = buildBody(snap, v, c.filter.logs.keep(), c.filter.messages.keep())
	}
	now := c.srv.opts.Now()
	b := append(dst, body...)
	b = append(b, `,"serverTime":`...)
	b = strconv.AppendFloat(b, float64(now.UnixMicro())/1e6, 'f', -1, 64)
	b = append(b, "}}"...)
	c.temps, c.logs, c.messages = snap.temps.end(), snap.logs.end(), snap.messages.end()
	c.lastCur = now
	return b
}

// deliver sends one bus value if the client may see it, or holds it back until
// an auth when the client is anonymous.
func (c *client) deliver(e events.Event) {
	switch v := e.(type) {
	case events.PluginMessage:
		if !c.filter.plugin(v.Plugin) {
			return
		}
		perm := auth.PermStatus
		if v.Permission != "" {
			perm = auth.Permission(v.Permission)
		}
		if !c.id.Has(perm) {
			c.holdBack(e)
			return
		}
		c.emit(mustMessage("plugin", v))
		return
	case events.Lost, events.StateChanged:
		return
	}
	name := e.Name()
	if strings.HasPrefix(name, "cuttle.") || !c.filter.event(name) {
		return
	}
	if !c.registered() || !c.id.Has(eventPermission(e)) {
		c.holdBack(e)
		return
	}
	payload := e.Payload()
	if blankForNonAdmins(e) && !c.id.Has(auth.PermAdmin) {
		payload = struct{}{}
	}
	c.emit(mustMessage("event", eventMessage{Type: name, Payload: payload}))
}

// holdBack keeps e for delivery after an auth (anonymous clients only).
func (c *client) holdBack(e events.Event) {
	if c.id.User != nil {
		return
	}
	if len(c.backlog) == backlogLimit {
		copy(c.backlog, c.backlog[1:])
		c.backlog = c.backlog[:backlogLimit-1]
	}
	c.backlog = append(c.backlog, e)
}

type eventMessage struct {
	Type    string `json:"type"`
	Payload any    `json:"payload"`
}

// eventPermission is the permission a client needs for an event: ADMIN for the
// login events (OctoPrint sends them to admins only), FILES_LIST for file
// events, STATUS for the rest.
func eventPermission(e events.Event) auth.Permission {
	switch e.(type) {
	case events.UserLoggedIn, events.UserLoggedOut:
		return auth.PermAdmin
	case events.Upload, events.FileAdded, events.FileRemoved, events.FileMoved, events.FolderAdded,
		events.FolderRemoved, events.FolderMoved, events.UpdatedFiles, events.MetadataAnalysisStarted,
		events.MetadataAnalysisFinished, events.MetadataStatisticsUpdated:
		return auth.PermFilesList
	}
	return auth.PermStatus
}

// blankForNonAdmins reports whether non-admins get `{}` as the payload: the
// client events carry remote addresses.
func blankForNonAdmins(e events.Event) bool {
	switch e.(type) {
	case events.ClientOpened, events.ClientAuthed, events.ClientClosed:
		return true
	}
	return false
}

// mustMessage encodes `{"<kind>":payload}`. Payloads are cuttle's own types,
// so an encoding error is a programming error and becomes a logged error
// message instead of a crash.
func mustMessage(kind string, payload any) []byte {
	b, err := jsonMarshal(map[string]any{kind: payload})
	if err != nil {
		b, _ = jsonMarshal(map[string]any{kind: nil, "error": err.Error()})
	}
	return b
}

// connectedMessage is the greeting every socket gets at once.
func (c *client) connectedMessage() []byte {
	s := c.srv
	return mustMessage("connected", map[string]any{
		"version":         s.opts.Version,
		"display_version": s.opts.Version,
		"branch":          "",
		"python_version":  "",
		"plugin_hash":     s.hash,
		"config_hash":     s.hash,
		"debug":           false,
		"safe_mode":       false,
		"online":          true,
		"permissions":     auth.Permissions(),
	})
}
