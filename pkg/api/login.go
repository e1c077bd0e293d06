package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/events"
)

func (s *Server) routesLogin() {
	s.handle("POST", "/api/login", Unguarded, s.postLogin)
	s.handle("POST", "/api/logout", Unguarded, s.postLogout)
	s.handle("GET", "/api/currentuser", Unguarded, s.getCurrentUser)
}

// loginRecord is OctoPrint's login answer: the user record plus session data.
type loginRecord struct {
	userRecord
	Session         string `json:"session"`
	IsExternal      bool   `json:"_is_external_client"`
	LoginMechanism  string `json:"_login_mechanism"`
	CredentialsSeen any    `json:"_credentials_seen"`
}

// userRecord is OctoPrint's user shape.
type userRecord struct {
	Name        string         `json:"name"`
	Active      bool           `json:"active"`
	User        bool           `json:"user"`
	Admin       bool           `json:"admin"`
	APIKey      *string        `json:"apikey"`
	Settings    map[string]any `json:"settings"`
	Groups      []string       `json:"groups"`
	Permissions []string       `json:"permissions"`
	Needs       auth.Needs     `json:"needs"`
	Roles       []string       `json:"roles"`
}

// guestRecord is what passive login and logout answer for the anonymous user.
type guestRecord struct {
	Needs           auth.Needs `json:"needs"`
	IsExternal      bool       `json:"_is_external_client"`
	CredentialsSeen bool       `json:"_credentials_seen"`
}

func newUserRecord(u *auth.User, showKey bool) userRecord {
	perms := u.Perms()
	rec := userRecord{Name: u.Name, Active: u.Active, User: true, Admin: perms[auth.PermAdmin],
		Settings: u.Settings, Groups: append([]string{}, u.Groups...), Permissions: perms.Keys(),
		Needs: auth.Needs{Role: perms.Roles(), Group: append([]string{}, u.Groups...)}, Roles: perms.Roles()}
	if rec.Settings == nil {
		rec.Settings = map[string]any{}
	}
	if showKey && u.APIKey != "" {
		k := u.APIKey
		rec.APIKey = &k
	}
	return rec
}

func guest() guestRecord {
	return guestRecord{Needs: auth.Needs{Role: auth.Effective([]string{auth.GroupGuests}, nil).Roles(),
		Group: []string{auth.GroupGuests}}}
}

func isExternal(r *http.Request) bool {
	ip := clientIP(r)
	return ip == nil || !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast())
}

type loginRequest struct {
	User     string `json:"user"`
	Pass     string `json:"pass"`
	Remember bool   `json:"remember"`
	Passive  bool   `json:"passive"`
}

// readLogin takes the login values from a JSON body, or from form and query
// values (Printoid sends POST /api/login?passive=true with no body).
func readLogin(w http.ResponseWriter, r *http.Request) (loginRequest, bool) {
	var lr loginRequest
	if isJSON(r) {
		var raw map[string]json.RawMessage
		if !decodeJSON(w, r, &raw) {
			return lr, false
		}
		str := func(k string) (string, bool) {
			var v string
			if b, ok := raw[k]; ok && json.Unmarshal(b, &v) != nil {
				writeError(w, http.StatusBadRequest, "parameter "+k+" must be a string")
				return "", false
			}
			return v, true
		}
		flag := func(k string) (bool, bool) {
			b, ok := raw[k]
			if !ok {
				return false, true
			}
			var v bool
			if json.Unmarshal(b, &v) == nil {
				return v, true
			}
			var sv string
			if json.Unmarshal(b, &sv) == nil {
				return parseBool(sv), true
			}
			var n float64
			if json.Unmarshal(b, &n) == nil {
				return n != 0, true
			}
			writeError(w, http.StatusBadRequest, "parameter "+k+" must be a boolean")
			return false, false
		}
		var ok bool
		if lr.User, ok = str("user"); !ok {
			return lr, false
		}
		if lr.Pass, ok = str("pass"); !ok {
			return lr, false
		}
		if lr.Remember, ok = flag("remember"); !ok {
			return lr, false
		}
		if lr.Passive, ok = flag("passive"); !ok {
			return lr, false
		}
		return lr, true
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "malformed form body: "+err.Error())
		return lr, false
	}
	lr.User, lr.Pass = r.Form.Get("user"), r.Form.Get("pass")
	lr.Remember = parseBool(r.Form.Get("remember"))
	_, hasPassive := r.Form["passive"]
	lr.Passive = hasPassive && (r.Form.Get("passive") == "" || parseBool(r.Form.Get("passive")))
	return lr, true
}

func (s *Server) postLogin(w http.ResponseWriter, r *http.Request) {
	lr, ok := readLogin(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	switch {
	case lr.User != "" && lr.Pass != "":
		client := clientIP(r).String()
		if !s.deps.LoginLimit.Allowed(client) {
			writeError(w, http.StatusTooManyRequests, "too many failed logins; try again in a minute")
			return
		}
		u, err := s.deps.Auth.CheckPassword(ctx, lr.User, lr.Pass)
		if errors.Is(err, auth.ErrBadCredentials) {
			s.deps.LoginLimit.Fail(client)
			writeError(w, http.StatusForbidden, "wrong user name or password, or the account is inactive")
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		sess := s.deps.Auth.NewSession(u.Name, auth.MechPassword, false)
		s.setSessionCookie(w, r, sess.Token)
		EnsureCSRFCookie(w, r)
		if lr.Remember {
			tok, exp, err := s.deps.Auth.Remember(ctx, u.Name)
			if err != nil {
				s.internal(w, r, err)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: cookieRemember, Value: tok, Path: "/", Expires: exp,
				HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
		}
		s.publish(events.UserLoggedIn{Username: u.Name})
		writeJSON(w, http.StatusOK, s.loginRecord(r, u, sess))
	case lr.Passive:
		id := auth.UserFrom(ctx)
		if id.User == nil {
			writeJSON(w, http.StatusOK, guest())
			return
		}
		sess := id.Session
		if sess == nil {
			// Every passive login with a key opens a session for the push API.
			sess = s.deps.Auth.NewSession(id.User.Name, auth.MechAPIKey, true)
		}
		writeJSON(w, http.StatusOK, s.loginRecord(r, id.User, sess))
	default:
		writeError(w, http.StatusBadRequest, "give user and pass, or passive")
	}
}

func (s *Server) loginRecord(r *http.Request, u *auth.User, sess *auth.Session) loginRecord {
	return loginRecord{userRecord: newUserRecord(u, true), Session: sess.Token, IsExternal: isExternal(r),
		LoginMechanism: sess.Mechanism, CredentialsSeen: sess.CredentialsSeen.UTC().Format(time.RFC3339)}
}

func (s *Server) postLogout(w http.ResponseWriter, r *http.Request) {
	id := auth.UserFrom(r.Context())
	if id.Session != nil {
		s.deps.Auth.EndSession(id.Session.Token)
		s.publish(events.UserLoggedOut{Username: id.Name()})
	}
	if c, err := r.Cookie(cookieRemember); err == nil {
		s.deps.Auth.Forget(r.Context(), c.Value)
	}
	for _, n := range []string{cookieSession, cookieRemember} {
		http.SetCookie(w, &http.Cookie{Name: n, Value: "", Path: "/", MaxAge: -1})
	}
	http.SetCookie(w, &http.Cookie{Name: "active_logout", Value: "true", Path: "/"})
	writeJSON(w, http.StatusOK, guest())
}

func (s *Server) getCurrentUser(w http.ResponseWriter, r *http.Request) {
	id := auth.UserFrom(r.Context())
	var name *string
	groups := []string{auth.GroupGuests}
	if id.User != nil {
		n := id.User.Name
		name = &n
		groups = id.User.Groups
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": name, "permissions": id.Perms().Keys(), "groups": groups})
}

// internal logs err and answers 500.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.deps.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, err.Error())
}
