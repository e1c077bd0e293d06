package api

import (
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/cuttleprint/cuttle/pkg/auth"
)

// Cookie names. The web UI reads csrf_token and echoes it in X-CSRF-Token.
const (
	cookieSession  = "cuttle_session"
	cookieRemember = "remember_token"
	cookieCSRF     = "csrf_token"
	headerCSRF     = "X-CSRF-Token"
)

// guarded wraps h with authentication, the permission check, CSRF and the
// body limit for route g.
func (s *Server) guarded(g guard, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.formKey && requestKey(r) == "" {
			peekFormKey(r)
		}
		id, keyErr := s.identify(w, r)
		r = r.WithContext(auth.WithIdentity(r.Context(), id))
		if g.perm != Unguarded {
			if id.User == nil {
				msg := "missing API key or session: send X-Api-Key or log in"
				if keyErr != nil {
					msg = "invalid API key"
				}
				writeError(w, http.StatusUnauthorized, msg)
				return
			}
			if g.perm != AnyUser && !g.checkAfter && !id.Has(g.perm) {
				writeError(w, http.StatusForbidden, "permission "+string(g.perm)+" required")
				return
			}
		}
		if needsCSRF(r, id) && !csrfOK(r) {
			writeError(w, http.StatusBadRequest, "CSRF validation failed")
			return
		}
		limit := g.maxBody
		if limit == 0 {
			limit = s.deps.MaxBodyBytes
		}
		if r.ContentLength > limit {
			writeError(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		h(w, r)
	})
}

// ambiguousKey stands for a request that sent several different keys; it
// matches no key, so such a request is refused rather than resolved by
// whichever header a proxy happened to put first.
const ambiguousKey = "\x00ambiguous"

// requestKey returns the API key a request carries: the apikey query value,
// then X-Api-Key, then Authorization: Bearer. An empty value counts as none.
func requestKey(r *http.Request) string {
	if ks := r.URL.Query()["apikey"]; len(ks) > 0 && ks[0] != "" {
		return oneKey(ks)
	}
	if ks := r.Header.Values("X-Api-Key"); len(ks) > 0 && ks[0] != "" {
		return oneKey(ks)
	}
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

func oneKey(ks []string) string {
	for _, k := range ks[1:] {
		if k != ks[0] {
			return ambiguousKey
		}
	}
	return ks[0]
}

var errBadKey = errors.New("invalid API key")

// identify resolves the request to an identity: an API key first, then the
// session cookie, then a remember-me cookie (which opens a new session). It
// returns the guest identity when nothing valid was sent, with errBadKey when
// a key was sent but did not match.
func (s *Server) identify(w http.ResponseWriter, r *http.Request) (*auth.Identity, error) {
	var keyErr error
	if key := requestKey(r); key != "" {
		u, err := s.deps.Auth.UserForKey(r.Context(), key)
		if err == nil {
			return auth.NewIdentity(u, auth.MechAPIKey, nil), nil
		}
		keyErr = errBadKey
	}
	if c, err := r.Cookie(cookieSession); err == nil && c.Value != "" {
		if sess, ok := s.deps.Auth.Session(c.Value); ok {
			if u, err := s.deps.Auth.User(r.Context(), sess.User); err == nil && u.Active {
				return auth.NewIdentity(u, sess.Mechanism, &sess), nil
			}
		}
	}
	if c, err := r.Cookie(cookieRemember); err == nil && c.Value != "" {
		if u, err := s.deps.Auth.Remembered(r.Context(), c.Value); err == nil {
			sess := s.deps.Auth.NewSession(u.Name, auth.MechRememberMe, false)
			s.setSessionCookie(w, r, sess.Token)
			return auth.NewIdentity(u, auth.MechRememberMe, sess), nil
		}
	}
	return auth.NewIdentity(nil, "", nil), keyErr
}

// needsCSRF reports whether the request must carry a CSRF token: a state-
// changing call authenticated by a session cookie. Key-authenticated clients
// are exempt, as in OctoPrint.
func needsCSRF(r *http.Request, id *auth.Identity) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	if id.User == nil || id.Mechanism == auth.MechAPIKey {
		return false
	}
	p := r.URL.Path
	if p == "/api/login" || p == "/api/logout" || p == "/plugin/appkeys/request" {
		return false
	}
	return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/plugin/")
}

func csrfOK(r *http.Request) bool {
	c, err := r.Cookie(cookieCSRF)
	h := r.Header.Get(headerCSRF)
	return err == nil && c.Value != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(h)) == 1
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{Name: cookieSession, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}

// EnsureCSRFCookie gives the browser a CSRF cookie if it has none; the web UI
// handler calls it when it serves the page.
func EnsureCSRFCookie(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieCSRF); err == nil && c.Value != "" {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieCSRF, Value: auth.NewKey(), Path: "/",
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

// clientIP is the address a request came from, for rate limits and the
// first-run check. cuttle does not trust X-Forwarded-For.
func clientIP(r *http.Request) net.IP {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return net.ParseIP(host)
}
