package apitest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/api"
	"github.com/cuttleprint/cuttle/pkg/api/apitest"
	"github.com/cuttleprint/cuttle/pkg/auth"
)

func TestAuthMatrix_ReportsUndeclaredAndWrongGuards(t *testing.T) {
	open := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	routes := []api.RouteInfo{
		{Name: "GET /api/rogue", Method: "GET", Path: "/api/rogue"},
		{Name: "GET /api/open", Method: "GET", Path: "/api/open", Permission: auth.PermStatus},
	}
	problems := apitest.AuthMatrix(open, routes, apitest.Keys{Admin: "a", NoPerms: "n"})
	joined := strings.Join(problems, "\n")
	if !strings.Contains(joined, "/api/rogue: route declares no permission") {
		t.Errorf("undeclared route not reported; problems:\n%s", joined)
	}
	if !strings.Contains(joined, "GET /api/open without a key = 200; want 401") {
		t.Errorf("unguarded handler behind a permission not reported; problems:\n%s", joined)
	}
}

func TestPath(t *testing.T) {
	for tpl, want := range map[string]string{
		"/api/access/users/{name}":               "/api/access/users/x",
		"/api/files/{location:local|sdcard}":     "/api/files/local",
		"/api/files/{loc}/{path:.+}":             "/api/files/x/x",
		"/api/system/commands/{source}/{action}": "/api/system/commands/x/x",
		"/api/printer/{tool:tool[0-9]+}":         "/api/printer/tool0",
	} {
		got, err := apitest.Path(tpl)
		if err != nil || got != want {
			t.Errorf("Path(%q) = %q, %v; want %q", tpl, got, err, want)
		}
	}
}
