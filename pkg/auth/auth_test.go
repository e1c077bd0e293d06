package auth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/store"
)

var cheap = auth.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newService(t *testing.T) (*auth.Service, *store.DB, *clock) {
	t.Helper()
	db, err := store.Open(context.Background(), t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	return auth.NewService(db, auth.Options{Hash: cheap, Now: clk.Now}), db, clk
}

func TestNewKey(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		k := auth.NewKey()
		if len(k) != 32 || strings.Trim(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "" {
			t.Fatalf("NewKey() = %q; want 32 letters and digits", k)
		}
		if seen[k] {
			t.Fatalf("NewKey() repeated %q", k)
		}
		seen[k] = true
	}
}

func TestPasswords(t *testing.T) {
	s, _, _ := newService(t)
	ctx := context.Background()
	if _, err := s.AddUser(ctx, auth.NewUser{Name: "ana", Password: "correct horse", Active: true}); err != nil {
		t.Fatal(err)
	}
	u, _ := s.User(ctx, "ana")
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q is not a PHC argon2id string", u.PasswordHash)
	}
	for _, tc := range []struct {
		user, pw string
		ok       bool
	}{{"ana", "correct horse", true}, {"ana", "Correct horse", false}, {"ana", "", false}, {"bob", "correct horse", false}} {
		_, err := s.CheckPassword(ctx, tc.user, tc.pw)
		if (err == nil) != tc.ok {
			t.Errorf("CheckPassword(%q, %q) = %v; want ok=%v", tc.user, tc.pw, err, tc.ok)
		}
	}
	inactive := false
	s.UpdateUser(ctx, "ana", auth.UserUpdate{Active: &inactive})
	if _, err := s.CheckPassword(ctx, "ana", "correct horse"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("inactive user logged in: %v", err)
	}
}

func TestUsers_Validation(t *testing.T) {
	s, _, _ := newService(t)
	ctx := context.Background()
	for _, nu := range []auth.NewUser{{Name: "", Password: "x"}, {Name: "../etc", Password: "x"}, {Name: "_api", Password: "x"},
		{Name: "ok", Password: ""}, {Name: "ok", Password: "x", Groups: []string{"guests"}}} {
		if _, err := s.AddUser(ctx, nu); !errors.Is(err, auth.ErrInvalid) {
			t.Errorf("AddUser(%+v) = %v; want ErrInvalid", nu, err)
		}
	}
	s.AddUser(ctx, auth.NewUser{Name: "ok", Password: "x"})
	if _, err := s.AddUser(ctx, auth.NewUser{Name: "ok", Password: "y"}); !errors.Is(err, auth.ErrUserExists) {
		t.Errorf("duplicate = %v", err)
	}
}

func TestPermissions_GroupsAndAdmin(t *testing.T) {
	ro := auth.Effective([]string{auth.GroupReadonly}, nil)
	if !ro.Has(auth.PermStatus) || ro.Has(auth.PermControl) || ro.Has(auth.PermPrint) {
		t.Errorf("readonly = %v", ro.Keys())
	}
	users := auth.Effective([]string{auth.GroupUsers}, nil)
	if !users.Has(auth.PermPrint) || users.Has(auth.PermSystem) || users.Has(auth.PermSettings) {
		t.Errorf("users = %v", users.Keys())
	}
	admin := auth.Effective([]string{auth.GroupAdmins}, nil)
	if !admin.Has(auth.PermSystem) || len(admin.Keys()) != len(auth.Permissions()) {
		t.Errorf("admin keys = %d; want all %d", len(admin.Keys()), len(auth.Permissions()))
	}
	if g := auth.Effective([]string{auth.GroupGuests}, nil); len(g.Keys()) != 0 {
		t.Errorf("guests hold %v; want nothing", g.Keys())
	}
}

func TestFirstAdmin_OnlyOnce(t *testing.T) {
	s, _, _ := newService(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.AddFirstAdmin(ctx, auth.NewUser{Name: "admin" + string(rune('a'+i)), Password: "pw"})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !errors.Is(err, auth.ErrSetupDone) {
			t.Errorf("AddFirstAdmin = %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d racing first-run requests succeeded; want exactly 1", ok)
	}
}

func TestSessions_ExpiryNotifies(t *testing.T) {
	s, _, clk := newService(t)
	var got []auth.Change
	s.Watch(func(c auth.Change) { got = append(got, c) })
	a := s.NewSession("ana", auth.MechPassword, false)
	b := s.NewSession("bob", auth.MechAPIKey, true)
	clk.Add(10 * time.Minute)
	if _, ok := s.Session(a.Token); !ok {
		t.Fatal("session dead after 10 min")
	}
	clk.Add(10 * time.Minute)
	s.Sweep()
	if _, ok := s.Session(a.Token); !ok {
		t.Error("a session used 10 min ago was swept")
	}
	if _, ok := s.Session(b.Token); ok {
		t.Error("a session idle for 20 min is alive")
	}
	if len(got) != 1 || got[0].Kind != auth.ChangeStale || got[0].Session != b.Token {
		t.Errorf("changes = %+v; want one stale for bob", got)
	}
	s.EndSession(a.Token)
	if got[len(got)-1].Kind != auth.ChangeLogout {
		t.Errorf("logout not reported: %+v", got)
	}
}

func TestLimiter(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	l := auth.NewLimiter(2, time.Minute, clk.Now)
	l.Fail("a")
	l.Fail("a")
	if l.Allowed("a") || !l.Allowed("b") {
		t.Fatal("limiter allows a or blocks b")
	}
	clk.Add(61 * time.Second)
	if !l.Allowed("a") {
		t.Error("limiter still blocks after the window")
	}
}

func TestAppKeys_Domain(t *testing.T) {
	s, db, clk := newService(t)
	ctx := context.Background()
	s.AddUser(ctx, auth.NewUser{Name: "ana", Password: "pw", Active: true})
	var notes []auth.AppKeyNotice
	var mu sync.Mutex
	k := auth.NewAppKeys(db, s, auth.AppKeysOptions{Now: clk.Now, Notify: func(n auth.AppKeyNotice) { mu.Lock(); notes = append(notes, n); mu.Unlock() }})
	p, err := k.Request("Slicer", "", "10.0.0.9")
	if err != nil {
		t.Fatal(err)
	}
	ana, _ := s.User(ctx, "ana")
	if err := k.Decide(ctx, p.UserToken, ana, true); err != nil {
		t.Fatal(err)
	}
	res, key := k.Poll(p.AppToken)
	if res != auth.PollApproved {
		t.Fatalf("Poll = %v", res)
	}
	if u, err := s.UserForKey(ctx, key); err != nil || u.Name != "ana" {
		t.Errorf("app key resolves to %v, %v", u, err)
	}
	// Approving again for the same app reuses the key.
	p2, _ := k.Request("Slicer", "ana", "")
	k.Decide(ctx, p2.UserToken, ana, true)
	if _, again := k.Poll(p2.AppToken); again != key {
		t.Error("a second approval for the same app made a new key")
	}
	if err := k.Revoke(ctx, "ana", "Slicer"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserForKey(ctx, key); err == nil {
		t.Error("revoked app key still resolves")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notes) < 4 || notes[0].Type != "request_access" || notes[1].Type != "end_request" {
		t.Errorf("notices = %+v", notes)
	}
}
