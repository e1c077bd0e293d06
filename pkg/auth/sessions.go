package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cuttleprint/cuttle/pkg/store"
	bolt "go.etcd.io/bbolt"
)

// Login mechanisms, as OctoPrint names them in `_login_mechanism`.
const (
	MechPassword   = "password"
	MechRememberMe = "remember_me"
	MechAPIKey     = "apikey"
)

// Session is a server-side login: a random token bound to a user. It lives
// while it is used at least every SessionIdle.
type Session struct {
	Token     string
	User      string
	Mechanism string
	// FromKey is set when the session was opened with an API key (passive
	// login); it ends when that key is revoked or regenerated.
	FromKey         bool
	Created         time.Time
	CredentialsSeen time.Time
	lastSeen        time.Time
}

// NewSession opens a session for user.
func (s *Service) NewSession(user, mechanism string, fromKey bool) *Session {
	now := s.opts.Now()
	sess := &Session{Token: randomHex(16), User: user, Mechanism: mechanism, FromKey: fromKey,
		Created: now, CredentialsSeen: now, lastSeen: now}
	s.mu.Lock()
	s.sessions[sess.Token] = sess
	s.mu.Unlock()
	return sess
}

// Session returns the live session with token and marks it used. ok is false
// when the token is unknown or went stale.
func (s *Service) Session(token string) (sess Session, ok bool) {
	now := s.opts.Now()
	s.mu.Lock()
	p := s.sessions[token]
	if p != nil && now.Sub(p.lastSeen) > s.opts.SessionIdle {
		delete(s.sessions, token)
		s.mu.Unlock()
		s.notify(Change{Kind: ChangeStale, User: p.User, Session: token})
		return Session{}, false
	}
	if p == nil {
		s.mu.Unlock()
		return Session{}, false
	}
	p.lastSeen = now
	sess = *p
	s.mu.Unlock()
	return sess, true
}

// EndSession logs a session out.
func (s *Service) EndSession(token string) {
	s.mu.Lock()
	p := s.sessions[token]
	delete(s.sessions, token)
	s.mu.Unlock()
	if p != nil {
		s.notify(Change{Kind: ChangeLogout, User: p.User, Session: token})
	}
}

// Run expires idle sessions every minute until ctx ends, telling watchers, so
// that an open socket learns its session went stale without waiting for its
// next request.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Sweep()
		}
	}
}

// Sweep ends every session idle for longer than SessionIdle.
func (s *Service) Sweep() {
	now := s.opts.Now()
	var stale []*Session
	s.mu.Lock()
	for tok, p := range s.sessions {
		if now.Sub(p.lastSeen) > s.opts.SessionIdle {
			stale = append(stale, p)
			delete(s.sessions, tok)
		}
	}
	s.mu.Unlock()
	for _, p := range stale {
		s.notify(Change{Kind: ChangeStale, User: p.User, Session: p.Token})
	}
}

func (s *Service) dropSessions(user string) {
	s.drop(func(p *Session) bool { return p.User == user }, ChangeRemoved)
}

func (s *Service) dropKeySessions(user string) {
	s.drop(func(p *Session) bool { return p.User == user && p.FromKey }, ChangeStale)
}

func (s *Service) drop(match func(*Session) bool, kind ChangeKind) {
	var gone []*Session
	s.mu.Lock()
	for tok, p := range s.sessions {
		if match(p) {
			gone = append(gone, p)
			delete(s.sessions, tok)
		}
	}
	s.mu.Unlock()
	for _, p := range gone {
		s.notify(Change{Kind: kind, User: p.User, Session: p.Token})
	}
}

type remembered struct {
	User    string    `json:"user"`
	Expires time.Time `json:"expires"`
}

// Remember stores a remember-me token for user and returns it with its
// expiry.
func (s *Service) Remember(ctx context.Context, user string) (string, time.Time, error) {
	tok := randomHex(32)
	exp := s.opts.Now().Add(s.opts.RememberFor)
	raw, _ := json.Marshal(remembered{User: user, Expires: exp})
	err := s.db.Update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(store.BucketSessions).Put(keyID(tok), raw)
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: store remember-me token: %w", err)
	}
	return tok, exp, nil
}

// Remembered returns the active user a remember-me token belongs to.
func (s *Service) Remembered(ctx context.Context, tok string) (*User, error) {
	var rec remembered
	err := s.db.View(ctx, func(tx *bolt.Tx) error {
		raw := tx.Bucket(store.BucketSessions).Get(keyID(tok))
		if raw == nil {
			return ErrBadCredentials
		}
		return json.Unmarshal(raw, &rec)
	})
	if err != nil || s.opts.Now().After(rec.Expires) {
		return nil, ErrBadCredentials
	}
	u, err := s.User(ctx, rec.User)
	if err != nil || !u.Active {
		return nil, ErrBadCredentials
	}
	return u, nil
}

// Forget deletes a remember-me token.
func (s *Service) Forget(ctx context.Context, tok string) error {
	return s.db.Update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(store.BucketSessions).Delete(keyID(tok))
	})
}

func deleteRemembered(tx *bolt.Tx, user string) error {
	b := tx.Bucket(store.BucketSessions)
	var dead [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var rec remembered
		if json.Unmarshal(v, &rec) == nil && rec.User == user {
			dead = append(dead, append([]byte(nil), k...))
		}
		return nil
	})
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return err
}

// randomHex returns n random bytes, hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error()) // the kernel's RNG does not fail
	}
	return hex.EncodeToString(b)
}

// Identity is who a request acts as: a user (or the anonymous guest) and how
// it proved it.
type Identity struct {
	// User is nil for the anonymous guest.
	User *User
	// Mechanism is how the identity was established (MechAPIKey, ...); empty
	// for guests.
	Mechanism string
	// Session is the session the request used, if any.
	Session *Session
	perms   PermSet
}

// NewIdentity returns the identity of u (nil: guest).
func NewIdentity(u *User, mechanism string, sess *Session) *Identity {
	id := &Identity{User: u, Mechanism: mechanism, Session: sess}
	if u != nil {
		id.perms = u.Perms()
	} else {
		id.perms = Effective([]string{GroupGuests}, nil)
	}
	return id
}

// Name returns the user name, or "" for guests.
func (id *Identity) Name() string {
	if id == nil || id.User == nil {
		return ""
	}
	return id.User.Name
}

// Perms returns the identity's effective permissions.
func (id *Identity) Perms() PermSet {
	if id == nil {
		return Effective([]string{GroupGuests}, nil)
	}
	return id.perms
}

// Has reports whether the identity holds p.
func (id *Identity) Has(p Permission) bool { return id.Perms().Has(p) }

type ctxKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// UserFrom returns the identity a request acts as; never nil (guest when the
// request carried no credentials).
func UserFrom(ctx context.Context) *Identity {
	if id, ok := ctx.Value(ctxKey{}).(*Identity); ok && id != nil {
		return id
	}
	return NewIdentity(nil, "", nil)
}
