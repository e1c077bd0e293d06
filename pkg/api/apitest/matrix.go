// Package apitest holds test helpers for cuttle's HTTP API: the auth matrix
// that walks every route and checks its guard.
package apitest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"time"

	"github.com/cuttleprint/cuttle/pkg/api"
)

// Keys are the credentials the matrix uses.
type Keys struct {
	// Admin is a key of a user holding ADMIN.
	Admin string
	// NoPerms is a key of an active user holding no permission at all.
	NoPerms string
}

// Sample values tried, in order, for a path variable; the first that matches
// the variable's pattern is used.
var samples = []string{"x", "local", "tool0", "core", "1", "x/y.gcode"}

var varRe = regexp.MustCompile(`\{([^{}:]+)(?::([^{}]*))?\}`)

// Path turns a mux template into a concrete path, or reports why it can't.
func Path(tpl string) (string, error) {
	var err error
	out := varRe.ReplaceAllStringFunc(tpl, func(m string) string {
		sub := varRe.FindStringSubmatch(m)
		pat := sub[2]
		if pat == "" {
			pat = "[^/]+"
		}
		re, cerr := regexp.Compile("^(?:" + pat + ")$")
		if cerr != nil {
			err = cerr
			return m
		}
		for _, s := range samples {
			if re.MatchString(s) {
				return s
			}
		}
		// A plain alternation such as local|sdcard: take its first word.
		first := strings.Split(pat, "|")[0]
		if re.MatchString(first) {
			return first
		}
		err = fmt.Errorf("no sample value matches {%s:%s}", sub[1], pat)
		return m
	})
	return out, err
}

// AuthMatrix checks every route: it must declare a guard; a guarded route
// answers 401 without a key and with a bad key; a permission-guarded route
// answers 403 to a user without the permission (403 or 409 when the route
// checks the permission after its preconditions); and no guarded route
// answers 401 or 403 to an admin. Prefix routes (web UI, push transports)
// are only checked for a declaration. It returns one line per problem.
func AuthMatrix(h http.Handler, routes []api.RouteInfo, keys Keys) []string {
	var problems []string
	bad := func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }
	for _, rt := range routes {
		if rt.Permission == "" {
			bad("%s %s: route declares no permission (register it with Server.handle)", rt.Method, rt.Path)
			continue
		}
		if rt.Method == "" || rt.Permission == api.Unguarded {
			continue
		}
		path, err := Path(rt.Path)
		if err != nil {
			bad("%s %s: %v", rt.Method, rt.Path, err)
			continue
		}
		do := func(key string) int {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			req := httptest.NewRequestWithContext(ctx, rt.Method, path, nil)
			if key != "" {
				req.Header.Set("X-Api-Key", key)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec.Code
		}
		if c := do(""); c != http.StatusUnauthorized {
			bad("%s %s without a key = %d; want 401", rt.Method, path, c)
		}
		if c := do("not-a-valid-key-0123456789abcdef"); c != http.StatusUnauthorized {
			bad("%s %s with a bad key = %d; want 401", rt.Method, path, c)
		}
		if rt.Permission != api.AnyUser {
			c := do(keys.NoPerms)
			if c != http.StatusForbidden && !(rt.CheckAfter && c == http.StatusConflict) {
				bad("%s %s by a user without %s = %d; want 403", rt.Method, path, rt.Permission, c)
			}
		}
		if c := do(keys.Admin); c == http.StatusUnauthorized || c == http.StatusForbidden {
			bad("%s %s by an admin = %d; want neither 401 nor 403", rt.Method, path, c)
		}
	}
	return problems
}
