package main

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/api/apitest"
	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/settings"
)

// newTestApp builds the same app serve runs, over a temporary data dir, and
// starts its background work.
func newTestApp(t *testing.T) *app {
	t.Helper()
	return newTestAppWith(t, nil)
}

// newTestAppWith is newTestApp with the settings adjusted by change first.
func newTestAppWith(t *testing.T, change func(*settings.Settings)) *app {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := settings.Defaults()
	if change != nil {
		change(s)
	}
	cfg := serveConfig{dataDir: t.TempDir(), listen: "127.0.0.1:0", settings: s,
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	a, err := newApp(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("newApp: %v", err)
	}
	wait := a.start(ctx)
	t.Cleanup(func() { cancel(); wait(); a.close() })
	return a
}

// TestAuthMatrix walks every route of the fully wired app: each must
// declare a guard, answer 401 without a key or with a bad one, 403 to a user
// lacking its permission, and never 401/403 to an admin. Routes added later
// are covered without touching this test.
func TestAuthMatrix(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	if _, err := a.auth.AddUser(ctx, auth.NewUser{Name: "admin", Password: "pw", Groups: []string{auth.GroupAdmins}, Active: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.auth.AddUser(ctx, auth.NewUser{Name: "nobody", Password: "pw", Active: true}); err != nil {
		t.Fatal(err)
	}
	none := []string{}
	if _, err := a.auth.UpdateUser(ctx, "nobody", auth.UserUpdate{Groups: &none}); err != nil {
		t.Fatal(err)
	}
	adminKey, _ := a.auth.GenerateKey(ctx, "admin")
	nobodyKey, _ := a.auth.GenerateKey(ctx, "nobody")
	routes := a.api.Routes()
	if len(routes) < 10 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	for _, p := range apitest.AuthMatrix(a.handler(), routes, apitest.Keys{Admin: adminKey, NoPerms: nobodyKey}) {
		t.Error(p)
	}
}

// TestOpenAPI_MatchesRouter: every route of the wired app is documented in
// /api/cuttle/openapi.json and every documented route exists.
func TestOpenAPI_MatchesRouter(t *testing.T) {
	a := newTestApp(t)
	undocumented, stale := a.api.Undocumented()
	for _, r := range undocumented {
		t.Errorf("route %s is not documented in pkg/api/openapi.go", r)
	}
	for _, r := range stale {
		t.Errorf("documented route %s does not exist", r)
	}
	doc := a.api.OpenAPI("http://example")
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v", doc["openapi"])
	}
	n := 0
	for _, ops := range doc["paths"].(map[string]map[string]any) {
		n += len(ops)
	}
	if routes := len(a.api.Routes()); n != routes {
		t.Errorf("document has %d operations; the router %d routes", n, routes)
	}
}
