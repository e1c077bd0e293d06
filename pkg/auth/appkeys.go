package auth

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/cuttleprint/cuttle/pkg/store"
	bolt "go.etcd.io/bbolt"
)

// App-key permissions, named the way OctoPrint names plugin permissions.
const (
	// PermAppKeysGrant lets a user approve access requests for themselves.
	PermAppKeysGrant Permission = "PLUGIN_APPKEYS_GRANT"
	// PermAppKeysAdmin lets a user manage every user's app keys.
	PermAppKeysAdmin Permission = "PLUGIN_APPKEYS_ADMIN"
)

// Errors returned by AppKeys.
var (
	// ErrNoRequest is returned for an unknown, expired or decided request.
	ErrNoRequest = errors.New("auth: no such pending access request")
	// ErrNotYours is returned when a user decides a request addressed to
	// another user, or manages another user's keys without admin rights.
	ErrNotYours = errors.New("auth: request or key belongs to another user")
	// ErrNoAppKey is returned when a user has no key for an app.
	ErrNoAppKey = errors.New("auth: no key for that app")
)

// AppKeysOptions tune AppKeys.
type AppKeysOptions struct {
	// PollGrace is how long a pending request survives without a poll
	// (default 30 s; OctoPrint's 5 s loses requests on slow clients).
	PollGrace time.Duration
	// Lifetime bounds a pending request however often it is polled
	// (default 10 min).
	Lifetime time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Notify is told when a request opens or ends, so logged-in browsers can
	// show or drop their prompt. It must not block.
	Notify func(AppKeyNotice)
}

// AppKeyNotice tells browsers about a request, as OctoPrint's appkeys plugin
// messages: Type is "request_access" or "end_request".
type AppKeyNotice struct {
	Type          string `json:"type"`
	AppName       string `json:"app_name,omitempty"`
	UserToken     string `json:"user_token"`
	UserID        string `json:"user_id,omitempty"`
	RemoteAddress string `json:"remote_address,omitempty"`
}

// PendingRequest is an application waiting for a user's decision.
type PendingRequest struct {
	AppToken  string
	UserToken string
	App       string
	// User, when set, is the only user who may decide.
	User     string
	Remote   string
	Created  time.Time
	lastPoll time.Time
	decided  bool
	key      string // set once approved, delivered once
}

// AppKey is one application's key for one user.
type AppKey struct {
	User    string    `json:"user_id"`
	App     string    `json:"app_id"`
	Key     string    `json:"api_key,omitempty"`
	Created time.Time `json:"created"`
}

// AppKeys implements OctoPrint's application-key workflow: an app asks for
// access, a user approves it in the browser, the app polls for its key.
// Approved keys act as their user through Service.AddKeyResolver. It is safe
// for concurrent use.
type AppKeys struct {
	db   *store.DB
	opts AppKeysOptions

	mu      sync.Mutex // guards pending
	pending map[string]*PendingRequest
}

// NewAppKeys returns the app-key workflow over db and registers its keys
// with svc.
func NewAppKeys(db *store.DB, svc *Service, opts AppKeysOptions) *AppKeys {
	if opts.PollGrace == 0 {
		opts.PollGrace = 30 * time.Second
	}
	if opts.Lifetime == 0 {
		opts.Lifetime = 10 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Notify == nil {
		opts.Notify = func(AppKeyNotice) {}
	}
	k := &AppKeys{db: db, opts: opts, pending: map[string]*PendingRequest{}}
	svc.AddKeyResolver(k.resolve)
	return k
}

// Request opens an access request for app, optionally addressed to user.
func (k *AppKeys) Request(app, user, remote string) (PendingRequest, error) {
	if app == "" || len(app) > 200 {
		return PendingRequest{}, fmt.Errorf("%w: app name must be 1 to 200 characters", ErrInvalid)
	}
	now := k.opts.Now()
	p := &PendingRequest{AppToken: randomHex(16), UserToken: randomHex(16), App: app, User: user, Remote: remote,
		Created: now, lastPoll: now}
	k.mu.Lock()
	k.sweepLocked(now)
	if len(k.pending) >= 1000 {
		k.mu.Unlock()
		return PendingRequest{}, fmt.Errorf("%w: too many pending requests", ErrInvalid)
	}
	k.pending[p.AppToken] = p
	k.mu.Unlock()
	k.opts.Notify(AppKeyNotice{Type: "request_access", AppName: app, UserToken: p.UserToken, UserID: user, RemoteAddress: remote})
	return *p, nil
}

// PollResult is what an app's poll learns.
type PollResult int

// Poll outcomes.
const (
	PollUnknown PollResult = iota // denied, expired, consumed or never existed
	PollPending
	PollApproved
)

// Poll reports the state of the request behind appToken; an approved key is
// returned once and the request is then gone.
func (k *AppKeys) Poll(appToken string) (PollResult, string) {
	now := k.opts.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sweepLocked(now)
	p := k.pending[appToken]
	if p == nil {
		return PollUnknown, ""
	}
	if p.decided {
		delete(k.pending, appToken)
		if p.key == "" {
			return PollUnknown, ""
		}
		return PollApproved, p.key
	}
	p.lastPoll = now
	return PollPending, ""
}

// Pending returns the undecided request behind appToken, for the approval
// page.
func (k *AppKeys) Pending(appToken string) (PendingRequest, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sweepLocked(k.opts.Now())
	p := k.pending[appToken]
	if p == nil || p.decided {
		return PendingRequest{}, false
	}
	return *p, true
}

// PendingFor lists the undecided requests user may decide, oldest first.
func (k *AppKeys) PendingFor(user string) []PendingRequest {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sweepLocked(k.opts.Now())
	var out []PendingRequest
	for _, p := range k.pending {
		if !p.decided && (p.User == "" || p.User == user) {
			out = append(out, *p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out
}

// Decide approves or denies the request behind userToken on behalf of
// decider, who must hold PLUGIN_APPKEYS_GRANT and, for a request naming a
// user, be that user. Approving reuses the user's existing key for the app.
func (k *AppKeys) Decide(ctx context.Context, userToken string, decider *User, approve bool) error {
	if !decider.Perms().Has(PermAppKeysGrant) {
		return fmt.Errorf("%w: %s may not grant access", ErrNotYours, decider.Name)
	}
	k.mu.Lock()
	k.sweepLocked(k.opts.Now())
	var p *PendingRequest
	for _, c := range k.pending {
		if c.UserToken == userToken && !c.decided {
			p = c
		}
	}
	if p == nil {
		k.mu.Unlock()
		return ErrNoRequest
	}
	if p.User != "" && p.User != decider.Name {
		k.mu.Unlock()
		return fmt.Errorf("%w: the request is for %s", ErrNotYours, p.User)
	}
	app := p.App
	k.mu.Unlock()
	key := ""
	if approve {
		ak, err := k.Generate(ctx, decider.Name, app)
		if err != nil {
			return err
		}
		key = ak.Key
	}
	k.mu.Lock()
	p.decided, p.key = true, key
	// The app may take a while to come back for its key: the grace period
	// restarts at the decision.
	p.lastPoll = k.opts.Now()
	k.mu.Unlock()
	k.opts.Notify(AppKeyNotice{Type: "end_request", UserToken: userToken})
	return nil
}

// Run drops expired requests every few seconds until ctx ends, telling
// browsers to close their prompts.
func (k *AppKeys) Run(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			k.mu.Lock()
			k.sweepLocked(k.opts.Now())
			k.mu.Unlock()
		}
	}
}

// sweepLocked drops requests not polled within the grace or past their
// lifetime; k.mu must be held.
func (k *AppKeys) sweepLocked(now time.Time) {
	for tok, p := range k.pending {
		if now.Sub(p.lastPoll) > k.opts.PollGrace || now.Sub(p.Created) > k.opts.Lifetime {
			delete(k.pending, tok)
			if !p.decided {
				go k.opts.Notify(AppKeyNotice{Type: "end_request", UserToken: p.UserToken})
			}
		}
	}
}

// The app-key bucket holds records under "r:" + user + NUL + app and an
// index from the key's hash, "k:" + sha256(key), to the record's id, so a
// request's key resolves with one lookup.
func appKeyID(user, app string) []byte { return []byte("r:" + user + "\x00" + app) }

func appKeyIndex(key string) []byte { return append([]byte("k:"), keyID(key)...) }

// Generate returns user's key for app, creating it if there is none.
func (k *AppKeys) Generate(ctx context.Context, user, app string) (AppKey, error) {
	if app == "" {
		return AppKey{}, fmt.Errorf("%w: empty app name", ErrInvalid)
	}
	var out AppKey
	err := k.db.Update(ctx, func(tx *bolt.Tx) error {
		if _, err := getUser(tx, user); err != nil {
			return err
		}
		b := tx.Bucket(store.BucketAppKeys)
		if raw := b.Get(appKeyID(user, app)); raw != nil {
			return json.Unmarshal(raw, &out)
		}
		out = AppKey{User: user, App: app, Key: NewKey(), Created: k.opts.Now().UTC()}
		raw, err := json.Marshal(out)
		if err != nil {
			return err
		}
		if err := b.Put(appKeyIndex(out.Key), appKeyID(user, app)); err != nil {
			return err
		}
		return b.Put(appKeyID(user, app), raw)
	})
	return out, err
}

// Keys lists user's app keys ("" lists every user's), without the keys.
func (k *AppKeys) Keys(ctx context.Context, user string) ([]AppKey, error) {
	out := []AppKey{}
	err := k.db.View(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(store.BucketAppKeys).Cursor()
		prefix := []byte("r:")
		for id, raw := c.Seek(prefix); id != nil && bytes.HasPrefix(id, prefix); id, raw = c.Next() {
			var ak AppKey
			if err := json.Unmarshal(raw, &ak); err != nil {
				return fmt.Errorf("auth: decode app key %q: %w", id, err)
			}
			if user == "" || ak.User == user {
				ak.Key = ""
				out = append(out, ak)
			}
		}
		return nil
	})
	return out, err
}

// Key returns user's key for app, with the key.
func (k *AppKeys) Key(ctx context.Context, user, app string) (AppKey, error) {
	var out AppKey
	err := k.db.View(ctx, func(tx *bolt.Tx) error {
		raw := tx.Bucket(store.BucketAppKeys).Get(appKeyID(user, app))
		if raw == nil {
			return fmt.Errorf("%w: %s/%s", ErrNoAppKey, user, app)
		}
		return json.Unmarshal(raw, &out)
	})
	return out, err
}

// Revoke deletes user's key for app; it stops working at once.
func (k *AppKeys) Revoke(ctx context.Context, user, app string) error {
	return k.db.Update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(store.BucketAppKeys)
		raw := b.Get(appKeyID(user, app))
		if raw == nil {
			return fmt.Errorf("%w: %s/%s", ErrNoAppKey, user, app)
		}
		var ak AppKey
		if err := json.Unmarshal(raw, &ak); err != nil {
			return fmt.Errorf("auth: decode app key %s/%s: %w", user, app, err)
		}
		if err := b.Delete(appKeyIndex(ak.Key)); err != nil {
			return err
		}
		return b.Delete(appKeyID(user, app))
	})
}

// Owner returns the user and app a key belongs to.
func (k *AppKeys) Owner(ctx context.Context, key string) (AppKey, error) {
	var out AppKey
	err := k.db.View(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(store.BucketAppKeys)
		id := b.Get(appKeyIndex(key))
		if id == nil {
			return ErrNoAppKey
		}
		raw := b.Get(id)
		if raw == nil {
			return ErrNoAppKey
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(out.Key), []byte(key)) != 1 {
			return ErrNoAppKey
		}
		return nil
	})
	return out, err
}

// resolve is the key resolver registered with the Service.
func (k *AppKeys) resolve(ctx context.Context, key string) (string, bool) {
	ak, err := k.Owner(ctx, key)
	if err != nil {
		return "", false
	}
	return ak.User, true
}
