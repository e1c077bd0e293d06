package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/cuttleprint/cuttle/pkg/store"
	bolt "go.etcd.io/bbolt"
)

// Errors returned by the Service.
var (
	// ErrNoUser is returned when a named user does not exist.
	ErrNoUser = errors.New("auth: no such user")
	// ErrUserExists is returned when adding a user whose name is taken.
	ErrUserExists = errors.New("auth: user already exists")
	// ErrInvalid is returned for a bad user name, password or group.
	ErrInvalid = errors.New("auth: invalid value")
	// ErrBadCredentials is returned when a user name and password do not match
	// an active user.
	ErrBadCredentials = errors.New("auth: wrong user name or password")
)

// User is a stored account.
type User struct {
	Name         string         `json:"name"`
	PasswordHash string         `json:"password_hash"`
	Active       bool           `json:"active"`
	Groups       []string       `json:"groups"`
	Permissions  []Permission   `json:"permissions"`
	Settings     map[string]any `json:"settings"`
	APIKey       string         `json:"apikey,omitempty"`
	Created      time.Time      `json:"created"`
}

// Perms returns the user's effective permissions.
func (u *User) Perms() PermSet { return Effective(u.Groups, u.Permissions) }

// IsAdmin reports whether the user holds ADMIN.
func (u *User) IsAdmin() bool { return u.Perms()[PermAdmin] }

// GlobalUserName is the pseudo user the global API key acts as.
const GlobalUserName = "_api"

// ChangeKind says what happened to a user or session, for watchers such as
// the push API which must ask affected sockets to re-authenticate.
type ChangeKind string

// The kinds of change a watcher is told about.
const (
	ChangeLogout   ChangeKind = "logout"
	ChangeStale    ChangeKind = "stale"
	ChangeRemoved  ChangeKind = "removed"
	ChangeModified ChangeKind = "modified"
)

// Change tells a watcher that a user or one of its sessions changed.
// Session is empty when the change concerns every session of the user.
type Change struct {
	Kind    ChangeKind
	User    string
	Session string
}

// Options tune a Service.
type Options struct {
	Hash HashParams
	// SessionIdle is how long a session lives without use (default 15 min).
	SessionIdle time.Duration
	// RememberFor is how long a remember-me token lives (default 90 days).
	RememberFor time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Service manages users, keys and sessions. It is safe for concurrent use.
type Service struct {
	db   *store.DB
	opts Options

	mu       sync.Mutex // guards sessions and watchers
	sessions map[string]*Session
	watchers []func(Change)

	resolversMu sync.RWMutex // guards resolvers
	resolvers   []KeyResolver

	cacheMu  sync.RWMutex     // guards keyCache
	keyCache map[string]*User // sha256 of a user or global key → its user
	cacheGen uint64           // bumped by forget; a lookup that raced a write is not cached
}

// forget empties the key cache; every write that can change what a key
// resolves to calls it after its transaction commits.
func (s *Service) forget() {
	s.cacheMu.Lock()
	s.keyCache = nil
	s.cacheGen++
	s.cacheMu.Unlock()
}

// KeyResolver maps an API key that is not a user or global key (an app key,
// say) to the user it acts as. ok is false when the key is not its.
type KeyResolver func(ctx context.Context, key string) (user string, ok bool)

// NewService returns a Service over db.
func NewService(db *store.DB, opts Options) *Service {
	if opts.Hash.MemoryKiB == 0 {
		opts.Hash = DefaultHashParams
	}
	if opts.SessionIdle == 0 {
		opts.SessionIdle = 15 * time.Minute
	}
	if opts.RememberFor == 0 {
		opts.RememberFor = 90 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{db: db, opts: opts, sessions: map[string]*Session{}}
}

// Watch registers fn to be told about logouts, expired sessions and changed
// or removed users. fn runs on the goroutine that made the change and must
// not block.
func (s *Service) Watch(fn func(Change)) {
	s.mu.Lock()
	s.watchers = append(s.watchers, fn)
	s.mu.Unlock()
}

func (s *Service) notify(c Change) {
	s.mu.Lock()
	ws := slices.Clone(s.watchers)
	s.mu.Unlock()
	for _, w := range ws {
		w(c)
	}
}

// AddKeyResolver registers an extra source of API keys (app keys).
func (s *Service) AddKeyResolver(r KeyResolver) {
	s.resolversMu.Lock()
	s.resolvers = append(s.resolvers, r)
	s.resolversMu.Unlock()
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// NewUser describes a user to add.
type NewUser struct {
	Name     string
	Password string
	Groups   []string
	Active   bool
}

// ErrSetupDone is returned by AddFirstAdmin when an admin exists already.
var ErrSetupDone = errors.New("auth: setup is done: an admin exists")

// AddUser creates a user. Groups default to ["users"].
func (s *Service) AddUser(ctx context.Context, nu NewUser) (*User, error) {
	return s.addUser(ctx, nu, false)
}

// AddFirstAdmin creates nu as an admin if, and only if, no active admin
// exists, checking and creating in one transaction so two racing first-run
// requests cannot both succeed.
func (s *Service) AddFirstAdmin(ctx context.Context, nu NewUser) (*User, error) {
	nu.Groups = []string{GroupAdmins, GroupUsers}
	nu.Active = true
	return s.addUser(ctx, nu, true)
}

func (s *Service) addUser(ctx context.Context, nu NewUser, onlyFirst bool) (*User, error) {
	if !validName.MatchString(nu.Name) || nu.Name == GlobalUserName {
		return nil, fmt.Errorf("%w: user name %q (letters, digits and ._@- up to 64)", ErrInvalid, nu.Name)
	}
	if len(nu.Password) < 1 {
		return nil, fmt.Errorf("%w: empty password", ErrInvalid)
	}
	groups := nu.Groups
	if len(groups) == 0 {
		groups = []string{GroupUsers}
	}
	for _, g := range groups {
		if !IsGroup(g) {
			return nil, fmt.Errorf("%w: unknown group %q", ErrInvalid, g)
		}
	}
	hash, err := hashPassword(nu.Password, s.opts.Hash)
	if err != nil {
		return nil, err
	}
	u := &User{Name: nu.Name, PasswordHash: hash, Active: nu.Active, Groups: slices.Clone(groups),
		Permissions: []Permission{}, Settings: map[string]any{}, Created: s.opts.Now().UTC()}
	err = s.db.Update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(store.BucketUsers)
		if onlyFirst {
			if err := b.ForEach(func(k, v []byte) error {
				var other User
				if json.Unmarshal(v, &other) == nil && other.Active && other.IsAdmin() {
					return ErrSetupDone
				}
				return nil
			}); err != nil {
				return err
			}
		}
		if b.Get([]byte(u.Name)) != nil {
			return fmt.Errorf("%w: %q", ErrUserExists, u.Name)
		}
		return putUser(b, u)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

func putUser(b *bolt.Bucket, u *User) error {
	raw, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("auth: encode user %q: %w", u.Name, err)
	}
	return b.Put([]byte(u.Name), raw)
}

func getUser(tx *bolt.Tx, name string) (*User, error) {
	raw := tx.Bucket(store.BucketUsers).Get([]byte(name))
	if raw == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoUser, name)
	}
	u := &User{}
	if err := json.Unmarshal(raw, u); err != nil {
		return nil, fmt.Errorf("auth: decode user %q: %w", name, err)
	}
	return u, nil
}

// User returns the named user.
func (s *Service) User(ctx context.Context, name string) (*User, error) {
	var u *User
	err := s.db.View(ctx, func(tx *bolt.Tx) (err error) {
		u, err = getUser(tx, name)
		return err
	})
	return u, err
}

// Users returns every user, sorted by name.
func (s *Service) Users(ctx context.Context) ([]*User, error) {
	var out []*User
	err := s.db.View(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(store.BucketUsers).ForEach(func(k, v []byte) error {
			u := &User{}
			if err := json.Unmarshal(v, u); err != nil {
				return fmt.Errorf("auth: decode user %q: %w", k, err)
			}
			out = append(out, u)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// HasAdmin reports whether any active user holds ADMIN.
func (s *Service) HasAdmin(ctx context.Context) (bool, error) {
	users, err := s.Users(ctx)
	for _, u := range users {
		if u.Active && u.IsAdmin() {
			return true, nil
		}
	}
	return false, err
}

// UserUpdate is a partial change to a user; nil fields stay as they are.
type UserUpdate struct {
	Active      *bool
	Groups      *[]string
	Permissions *[]Permission
	Settings    map[string]any // merged key by key
}

// UpdateUser applies up to the named user.
func (s *Service) UpdateUser(ctx context.Context, name string, up UserUpdate) (*User, error) {
	defer s.forget()
	if up.Groups != nil {
		for _, g := range *up.Groups {
			if !IsGroup(g) {
				return nil, fmt.Errorf("%w: unknown group %q", ErrInvalid, g)
			}
		}
	}
	if up.Permissions != nil {
		known := map[Permission]bool{}
		for _, p := range Permissions() {
			known[p.Key] = true
		}
		for _, p := range *up.Permissions {
			if !known[p] {
				return nil, fmt.Errorf("%w: unknown permission %q", ErrInvalid, p)
			}
		}
	}
	var u *User
	err := s.db.Update(ctx, func(tx *bolt.Tx) (err error) {
		if u, err = getUser(tx, name); err != nil {
			return err
		}
		if up.Active != nil {
			u.Active = *up.Active
		}
		if up.Groups != nil {
			u.Groups = slices.Clone(*up.Groups)
		}
		if up.Permissions != nil {
			u.Permissions = slices.Clone(*up.Permissions)
		}
		for k, v := range up.Settings {
			if u.Settings == nil {
				u.Settings = map[string]any{}
			}
			u.Settings[k] = v
		}
		return putUser(tx.Bucket(store.BucketUsers), u)
	})
	if err != nil {
		return nil, err
	}
	if up.Active != nil || up.Groups != nil || up.Permissions != nil {
		if !u.Active {
			s.dropSessions(name)
		}
		s.notify(Change{Kind: ChangeModified, User: name})
	}
	return u, nil
}

// SetPassword replaces the named user's password.
func (s *Service) SetPassword(ctx context.Context, name, pw string) error {
	defer s.forget()
	if pw == "" {
		return fmt.Errorf("%w: empty password", ErrInvalid)
	}
	hash, err := hashPassword(pw, s.opts.Hash)
	if err != nil {
		return err
	}
	return s.db.Update(ctx, func(tx *bolt.Tx) error {
		u, err := getUser(tx, name)
		if err != nil {
			return err
		}
		u.PasswordHash = hash
		return putUser(tx.Bucket(store.BucketUsers), u)
	})
}

// DeleteUser removes a user, its key and its sessions.
func (s *Service) DeleteUser(ctx context.Context, name string) error {
	defer s.forget()
	err := s.db.Update(ctx, func(tx *bolt.Tx) error {
		u, err := getUser(tx, name)
		if err != nil {
			return err
		}
		if err := dropKey(tx, u); err != nil {
			return err
		}
		if err := deleteRemembered(tx, name); err != nil {
			return err
		}
		return tx.Bucket(store.BucketUsers).Delete([]byte(name))
	})
	if err != nil {
		return err
	}
	s.dropSessions(name)
	s.notify(Change{Kind: ChangeRemoved, User: name})
	return nil
}

// CheckPassword returns the user if name and pw match an active account.
func (s *Service) CheckPassword(ctx context.Context, name, pw string) (*User, error) {
	u, err := s.User(ctx, name)
	if errors.Is(err, ErrNoUser) {
		// Spend the same time as a real check so timing does not reveal names.
		checkPassword("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g", pw)
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	ok, err := checkPassword(u.PasswordHash, pw)
	if err != nil {
		return nil, fmt.Errorf("auth: user %q: %w", name, err)
	}
	if !ok || !u.Active {
		return nil, ErrBadCredentials
	}
	return u, nil
}

// keyID is what the key index stores: a hash, so the index never holds a key
// in the clear and lookups compare fixed-size digests.
func keyID(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// GenerateKey gives the named user a new API key, replacing the old one at
// once.
func (s *Service) GenerateKey(ctx context.Context, name string) (string, error) {
	defer s.forget()
	key := NewKey()
	err := s.db.Update(ctx, func(tx *bolt.Tx) error {
		u, err := getUser(tx, name)
		if err != nil {
			return err
		}
		if err := dropKey(tx, u); err != nil {
			return err
		}
		u.APIKey = key
		if err := tx.Bucket(store.BucketAPIKeys).Put(keyID(key), []byte(name)); err != nil {
			return err
		}
		return putUser(tx.Bucket(store.BucketUsers), u)
	})
	if err != nil {
		return "", err
	}
	s.dropKeySessions(name)
	return key, nil
}

// dropKey removes u's API key from the key index and from u (the caller
// stores u).
func dropKey(tx *bolt.Tx, u *User) error {
	if u.APIKey == "" {
		return nil
	}
	if err := tx.Bucket(store.BucketAPIKeys).Delete(keyID(u.APIKey)); err != nil {
		return fmt.Errorf("auth: drop key of %q: %w", u.Name, err)
	}
	u.APIKey = ""
	return nil
}

// RevokeKey removes the named user's API key; it stops working at once, and
// so do sessions opened with it.
func (s *Service) RevokeKey(ctx context.Context, name string) error {
	defer s.forget()
	err := s.db.Update(ctx, func(tx *bolt.Tx) error {
		u, err := getUser(tx, name)
		if err != nil {
			return err
		}
		if err := dropKey(tx, u); err != nil {
			return err
		}
		return putUser(tx.Bucket(store.BucketUsers), u)
	})
	if err != nil {
		return err
	}
	s.dropKeySessions(name)
	return nil
}

var keyGlobal = []byte("global_apikey")

// GlobalKey returns the global API key, or "" when none is set.
func (s *Service) GlobalKey(ctx context.Context) (string, error) {
	var key string
	err := s.db.View(ctx, func(tx *bolt.Tx) error {
		key = string(tx.Bucket(store.BucketSettings).Get(keyGlobal))
		return nil
	})
	return key, err
}

// GenerateGlobalKey sets a new global API key and returns it.
func (s *Service) GenerateGlobalKey(ctx context.Context) (string, error) {
	defer s.forget()
	key := NewKey()
	err := s.db.Update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(store.BucketSettings).Put(keyGlobal, []byte(key))
	})
	if err == nil {
		s.dropKeySessions(GlobalUserName)
	}
	return key, err
}

// DeleteGlobalKey removes the global API key.
func (s *Service) DeleteGlobalKey(ctx context.Context) error {
	defer s.forget()
	err := s.db.Update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(store.BucketSettings).Delete(keyGlobal)
	})
	if err == nil {
		s.dropKeySessions(GlobalUserName)
	}
	return err
}

// GlobalUser is the pseudo user the global key acts as: admins and users.
func GlobalUser() *User {
	return &User{Name: GlobalUserName, Active: true, Groups: []string{GroupAdmins, GroupUsers},
		Permissions: []Permission{}, Settings: map[string]any{}}
}

// UserForKey returns the user an API key acts as: the global key's pseudo
// user, a user's own key, or a key from a registered resolver. It returns
// ErrBadCredentials for an unknown key or an inactive user.
//
// User and global keys are cached (every request carries one, and decoding
// the user each time dominated the cost of a request); the returned user
// must be treated as read-only.
func (s *Service) UserForKey(ctx context.Context, key string) (*User, error) {
	if key == "" {
		return nil, ErrBadCredentials
	}
	// Keyed by the key's hash, so the lookup's timing says nothing about the
	// key itself.
	id := string(keyID(key))
	s.cacheMu.RLock()
	u, hit := s.keyCache[id]
	gen := s.cacheGen
	s.cacheMu.RUnlock()
	if hit {
		return u, nil
	}
	u, cacheable, err := s.userForKey(ctx, key)
	if err == nil && cacheable {
		s.cacheMu.Lock()
		if s.cacheGen != gen {
			cacheable = false // a write committed meanwhile: what we read may be stale
		}
		if cacheable && s.keyCache == nil {
			s.keyCache = map[string]*User{}
		}
		if cacheable && len(s.keyCache) < 1024 {
			s.keyCache[id] = u
		}
		s.cacheMu.Unlock()
	}
	return u, err
}

// userForKey looks a key up; cacheable is false for keys found through a
// resolver (app keys), whose revocation the Service does not see.
func (s *Service) userForKey(ctx context.Context, key string) (u *User, cacheable bool, err error) {
	global := false
	err = s.db.View(ctx, func(tx *bolt.Tx) error {
		if g := tx.Bucket(store.BucketSettings).Get(keyGlobal); len(g) > 0 &&
			subtle.ConstantTimeCompare(g, []byte(key)) == 1 {
			global = true
			return nil
		}
		name := tx.Bucket(store.BucketAPIKeys).Get(keyID(key))
		if name == nil {
			return nil
		}
		var err error
		u, err = getUser(tx, string(name))
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if global {
		return GlobalUser(), true, nil
	}
	cacheable = u != nil
	if u == nil {
		s.resolversMu.RLock()
		rs := slices.Clone(s.resolvers)
		s.resolversMu.RUnlock()
		for _, r := range rs {
			if name, ok := r(ctx, key); ok {
				if u, err = s.User(ctx, name); err != nil {
					return nil, false, ErrBadCredentials
				}
				break
			}
		}
	}
	if u == nil || !u.Active {
		return nil, false, ErrBadCredentials
	}
	return u, cacheable, nil
}
