package api

import (
	"net/http"
	"strings"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/gorilla/mux"
)

func (s *Server) routesAccess() {
	s.handle("GET", "/api/access/users", auth.PermAdmin, s.listUsers)
	s.handle("POST", "/api/access/users", auth.PermAdmin, s.addUser)
	s.handle("GET", "/api/access/users/{name}", AnyUser, s.getUser)
	s.handle("PUT", "/api/access/users/{name}", auth.PermAdmin, s.updateUser)
	s.handle("DELETE", "/api/access/users/{name}", auth.PermAdmin, s.deleteUser)
	s.handle("PUT", "/api/access/users/{name}/password", AnyUser, s.changePassword)
	s.handle("GET", "/api/access/users/{name}/settings", AnyUser, s.getUserSettings)
	s.handle("PATCH", "/api/access/users/{name}/settings", AnyUser, s.patchUserSettings)
	s.handle("POST", "/api/access/users/{name}/apikey", AnyUser, s.generateUserKey)
	s.handle("DELETE", "/api/access/users/{name}/apikey", AnyUser, s.revokeUserKey)
	s.handle("GET", "/api/access/groups", auth.PermAdmin, s.listGroups)
	s.handle("GET", "/api/access/permissions", Unguarded, s.listPermissions)
	s.handle("GET", "/api/users", Unguarded, redirectUsers)
	s.handle("GET", "/api/users/{rest:.*}", Unguarded, redirectUsers)
	s.handle("POST", "/api/settings/apikey", auth.PermAdmin, s.generateGlobalKey)
	s.handle("DELETE", "/api/settings/apikey", auth.PermAdmin, s.deleteGlobalKey)
}

// redirectUsers answers the deprecated /api/users paths with 307 to
// /api/access/users, as OctoPrint 1.11 does (FDM Monster follows it).
func redirectUsers(w http.ResponseWriter, r *http.Request) {
	target := "/api/access/users" + strings.TrimPrefix(r.URL.Path, "/api/users")
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, target, http.StatusTemporaryRedirect)
}

// selfOrAdmin reports whether the caller may act on user name; it writes 403
// when not.
func selfOrAdmin(w http.ResponseWriter, r *http.Request, name string) bool {
	id := auth.UserFrom(r.Context())
	if id.Has(auth.PermAdmin) || id.Name() == name {
		return true
	}
	writeError(w, http.StatusForbidden, "only admins may act on other users")
	return false
}

// ownUser resolves the {name} of the path to a user the caller may act on
// (themselves, or anyone for an admin); it answers 403 or 404 when not.
func (s *Server) ownUser(w http.ResponseWriter, r *http.Request) (*auth.User, bool) {
	name := mux.Vars(r)["name"]
	if !selfOrAdmin(w, r, name) {
		return nil, false
	}
	u, err := s.deps.Auth.User(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return u, true
}

func (s *Server) usersList(w http.ResponseWriter, r *http.Request, status int) {
	users, err := s.deps.Auth.Users(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	recs := make([]userRecord, 0, len(users))
	for _, u := range users {
		recs = append(recs, newUserRecord(u, true))
	}
	writeJSON(w, status, map[string]any{"users": recs})
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) { s.usersList(w, r, http.StatusOK) }

type addUserRequest struct {
	Name        string             `json:"name"`
	Password    string             `json:"password"`
	Active      *bool              `json:"active"`
	Admin       bool               `json:"admin"`
	Groups      []string           `json:"groups"`
	Permissions *[]auth.Permission `json:"permissions"`
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request) {
	var req addUserRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	if req.Name == "" || req.Password == "" {
		writeError(w, http.StatusBadRequest, "name and password are required")
		return
	}
	groups := req.Groups
	if req.Admin && !contains(groups, auth.GroupAdmins) {
		groups = append(groups, auth.GroupAdmins)
	}
	active := req.Active == nil || *req.Active
	_, err := s.deps.Auth.AddUser(r.Context(), auth.NewUser{Name: req.Name, Password: req.Password, Groups: groups, Active: active})
	if err == nil && req.Permissions != nil {
		_, err = s.deps.Auth.UpdateUser(r.Context(), req.Name, auth.UserUpdate{Permissions: req.Permissions})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.usersList(w, r, http.StatusCreated)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u, ok := s.ownUser(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, newUserRecord(u, true))
}

type updateUserRequest struct {
	Active      *bool              `json:"active"`
	Admin       *bool              `json:"admin"`
	Groups      *[]string          `json:"groups"`
	Permissions *[]auth.Permission `json:"permissions"`
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	var req updateUserRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	up := auth.UserUpdate{Active: req.Active, Groups: req.Groups, Permissions: req.Permissions}
	if req.Admin != nil {
		u, err := s.deps.Auth.User(r.Context(), name)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		groups := u.Groups
		if up.Groups != nil {
			groups = *up.Groups
		}
		next := []string{}
		for _, g := range groups {
			if g != auth.GroupAdmins {
				next = append(next, g)
			}
		}
		if *req.Admin {
			next = append(next, auth.GroupAdmins)
		}
		up.Groups = &next
	}
	if _, err := s.deps.Auth.UpdateUser(r.Context(), name, up); err != nil {
		s.fail(w, r, err)
		return
	}
	s.usersList(w, r, http.StatusOK)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	if name == auth.UserFrom(r.Context()).Name() {
		writeError(w, http.StatusBadRequest, "you cannot delete your own account")
		return
	}
	if err := s.deps.Auth.DeleteUser(r.Context(), name); err != nil {
		s.fail(w, r, err)
		return
	}
	s.usersList(w, r, http.StatusOK)
}

type passwordRequest struct {
	Password string `json:"password"`
	Current  string `json:"current"`
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	if !selfOrAdmin(w, r, name) {
		return
	}
	var req passwordRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	if req.Password == "" {
		writeError(w, http.StatusBadRequest, "password is required")
		return
	}
	id := auth.UserFrom(r.Context())
	if !id.Has(auth.PermAdmin) {
		if _, err := s.deps.Auth.CheckPassword(r.Context(), name, req.Current); err != nil {
			writeError(w, http.StatusForbidden, "the current password is wrong")
			return
		}
	}
	if err := s.deps.Auth.SetPassword(r.Context(), name, req.Password); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (s *Server) getUserSettings(w http.ResponseWriter, r *http.Request) {
	u, ok := s.ownUser(w, r)
	if !ok {
		return
	}
	if u.Settings == nil {
		u.Settings = map[string]any{}
	}
	writeJSON(w, http.StatusOK, u.Settings)
}

func (s *Server) patchUserSettings(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	if !selfOrAdmin(w, r, name) {
		return
	}
	var patch map[string]any
	if !decodeJSON(w, r, &patch) {
		return
	}
	u, err := s.deps.Auth.UpdateUser(r.Context(), name, auth.UserUpdate{Settings: patch})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u.Settings)
}

func (s *Server) generateUserKey(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	if !selfOrAdmin(w, r, name) {
		return
	}
	key, err := s.deps.Auth.GenerateKey(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"apikey": key})
}

func (s *Server) revokeUserKey(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	if !selfOrAdmin(w, r, name) {
		return
	}
	if err := s.deps.Auth.RevokeKey(r.Context(), name); err != nil {
		s.fail(w, r, err)
		return
	}
	noContent(w)
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"groups": auth.Groups()})
}

func (s *Server) listPermissions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"permissions": auth.Permissions()})
}

func (s *Server) generateGlobalKey(w http.ResponseWriter, r *http.Request) {
	key, err := s.deps.Auth.GenerateGlobalKey(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"apikey": key})
}

func (s *Server) deleteGlobalKey(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.Auth.DeleteGlobalKey(r.Context()); err != nil {
		s.internal(w, r, err)
		return
	}
	noContent(w)
}
