package auth

import (
	"slices"
	"strings"
	"sync"
)

// Permission is an OctoPrint permission key, such as "STATUS".
type Permission string

// The core permissions, with OctoPrint's keys.
const (
	PermAdmin           Permission = "ADMIN"
	PermStatus          Permission = "STATUS"
	PermConnection      Permission = "CONNECTION"
	PermControl         Permission = "CONTROL"
	PermFilesList       Permission = "FILES_LIST"
	PermFilesUpload     Permission = "FILES_UPLOAD"
	PermFilesDownload   Permission = "FILES_DOWNLOAD"
	PermFilesDelete     Permission = "FILES_DELETE"
	PermFilesSelect     Permission = "FILES_SELECT"
	PermPrint           Permission = "PRINT"
	PermMonitorTerminal Permission = "MONITOR_TERMINAL"
	PermSettingsRead    Permission = "SETTINGS_READ"
	PermSettings        Permission = "SETTINGS"
	PermSystem          Permission = "SYSTEM"
	PermWebcam          Permission = "WEBCAM"
	PermGcodeViewer     Permission = "GCODE_VIEWER"
	PermSlice           Permission = "SLICE"
	PermTimelapseList   Permission = "TIMELAPSE_LIST"
	PermTimelapseDL     Permission = "TIMELAPSE_DOWNLOAD"
	PermTimelapseDelete Permission = "TIMELAPSE_DELETE"
	PermTimelapseUnrend Permission = "TIMELAPSE_MANAGE_UNRENDERED"
	PermTimelapseAdmin  Permission = "TIMELAPSE_ADMIN"
	// PermPower switches relays (PSU, LED): cuttle's own, granted to users.
	PermPower Permission = "POWER"
)

// The default groups.
const (
	GroupAdmins   = "admins"
	GroupUsers    = "users"
	GroupReadonly = "readonly"
	GroupGuests   = "guests"
)

// PermissionInfo describes a permission the way GET /api/access/permissions
// lists it.
type PermissionInfo struct {
	Key           Permission `json:"key"`
	Name          string     `json:"name"`
	Description   string     `json:"description"`
	Dangerous     bool       `json:"dangerous"`
	DefaultGroups []string   `json:"default_groups"`
	Needs         Needs      `json:"needs"`
}

// Needs is OctoPrint's needs record: the roles (lower-case permission keys)
// and groups something requires or grants.
type Needs struct {
	Role  []string `json:"role,omitempty"`
	Group []string `json:"group,omitempty"`
}

var (
	readers   = []string{GroupUsers, GroupReadonly}
	operators = []string{GroupUsers}
)

// Permissions returns every permission cuttle knows, in a stable order.
// Packages that add a permission (power control, app keys) add it here, so
// that the route table, the groups and the API agree.
func Permissions() []PermissionInfo { return slices.Clone(permissionTable()) }

// permissionTable and groupTable are computed once: they are constants that
// every request's permission check reads.
var (
	permissionTable = sync.OnceValue(buildPermissions)
	groupTable      = sync.OnceValue(buildGroups)
)

func buildPermissions() []PermissionInfo {
	p := func(k Permission, name, desc string, dangerous bool, groups []string) PermissionInfo {
		role := strings.ToLower(string(k))
		if k == PermGcodeViewer {
			role = "gcodeviewer"
		}
		return PermissionInfo{Key: k, Name: name, Description: desc, Dangerous: dangerous,
			DefaultGroups: slices.Clone(groups), Needs: Needs{Role: []string{role}}}
	}
	return []PermissionInfo{
		p(PermAdmin, "Admin", "Full admin access", true, []string{GroupAdmins}),
		p(PermStatus, "Status", "See printer and job status", false, readers),
		p(PermConnection, "Connection", "Connect to and disconnect from the printer", false, operators),
		p(PermWebcam, "Webcam", "Watch the webcam stream", false, readers),
		p(PermSystem, "System", "Run system commands (shutdown, reboot, restart)", true, nil),
		p(PermFilesList, "File List", "List uploaded files and their metadata", false, readers),
		p(PermFilesUpload, "File Upload", "Upload files and create folders", false, operators),
		p(PermFilesDownload, "File Download", "Download files", false, readers),
		p(PermFilesDelete, "File Delete", "Delete files and folders", false, operators),
		p(PermFilesSelect, "File Select", "Select a file for printing", false, operators),
		p(PermPrint, "Print", "Start, pause, resume and cancel prints", false, operators),
		p(PermGcodeViewer, "GCODE viewer", "Use the G-code viewer", false, readers),
		p(PermMonitorTerminal, "Terminal", "See the printer's serial log", false, readers),
		p(PermControl, "Control", "Control the printer: move, heat, send commands", false, operators),
		p(PermSlice, "Slice", "Slice models", false, operators),
		p(PermTimelapseList, "Timelapse List", "List timelapses", false, readers),
		p(PermTimelapseDL, "Timelapse Download", "Download timelapses", false, readers),
		p(PermTimelapseDelete, "Timelapse Delete", "Delete timelapses", false, operators),
		p(PermTimelapseUnrend, "Timelapse Manage Unrendered", "Manage unrendered timelapses", false, operators),
		p(PermTimelapseAdmin, "Timelapse Admin", "Change timelapse settings", false, operators),
		p(PermSettingsRead, "Settings Access", "Read the settings", false, readers),
		p(PermSettings, "Settings", "Change the settings", true, nil),
		p(PermAppKeysGrant, "Grant application keys", "Approve applications' requests for an API key for oneself", false, operators),
		p(PermAppKeysAdmin, "Application keys admin", "Manage every user's application keys", true, []string{GroupAdmins}),
		p(PermPower, "Power", "Switch the printer's power supply, light and other relays", false, operators),
	}
}

// Group is a named bundle of permissions.
type Group struct {
	Key         string       `json:"key"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Permissions []Permission `json:"permissions"`
	Subgroups   []string     `json:"subgroups"`
	Needs       Needs        `json:"needs"`
	Default     bool         `json:"default"`
	Removable   bool         `json:"removable"`
	Changeable  bool         `json:"changeable"`
	Toggleable  bool         `json:"toggleable"`
	Dangerous   bool         `json:"dangerous"`
}

// Groups returns the default groups with the permissions Permissions assigns
// them.
func Groups() []Group { return slices.Clone(groupTable()) }

func buildGroups() []Group {
	perms := permissionTable()
	members := func(g string) []Permission {
		out := []Permission{}
		for _, p := range perms {
			if slices.Contains(p.DefaultGroups, g) {
				out = append(out, p.Key)
			}
		}
		return out
	}
	return []Group{
		{Key: GroupAdmins, Name: "Admins", Description: "Administrators", Permissions: members(GroupAdmins),
			Subgroups: []string{}, Needs: Needs{Group: []string{GroupAdmins}}, Dangerous: true, Toggleable: true},
		{Key: GroupUsers, Name: "Operator", Description: "Operators: can control and print", Permissions: members(GroupUsers),
			Subgroups: []string{}, Needs: Needs{Group: []string{GroupUsers}}, Default: true, Changeable: true, Toggleable: true},
		{Key: GroupReadonly, Name: "Read-only Access", Description: "Can see but not change anything", Permissions: members(GroupReadonly),
			Subgroups: []string{}, Needs: Needs{Group: []string{GroupReadonly}}, Changeable: true, Toggleable: true},
		{Key: GroupGuests, Name: "Guests", Description: "Anyone who is not logged in", Permissions: members(GroupGuests),
			Subgroups: []string{}, Needs: Needs{Group: []string{GroupGuests}}, Changeable: true},
	}
}

// IsGroup reports whether key names a default group that users may be put in
// (guests is not assignable).
func IsGroup(key string) bool {
	return key == GroupAdmins || key == GroupUsers || key == GroupReadonly
}

// PermSet is a set of permissions.
type PermSet map[Permission]bool

// Has reports whether the set grants p. ADMIN grants everything.
func (s PermSet) Has(p Permission) bool { return s[PermAdmin] || s[p] }

// Keys returns the effective permission keys, sorted, as /api/currentuser
// lists them: with ADMIN, every known permission.
func (s PermSet) Keys() []string {
	out := []string{}
	if s[PermAdmin] {
		for _, p := range permissionTable() {
			out = append(out, string(p.Key))
		}
	} else {
		for p, ok := range s {
			if ok {
				out = append(out, string(p))
			}
		}
	}
	slices.Sort(out)
	return out
}

// Roles returns the needs roles for the set (lower-case keys).
func (s PermSet) Roles() []string {
	keys := s.Keys()
	for i, k := range keys {
		keys[i] = strings.ToLower(k)
		if Permission(k) == PermGcodeViewer {
			keys[i] = "gcodeviewer"
		}
	}
	return keys
}

// Effective returns the permissions granted by groups plus extra.
func Effective(groups []string, extra []Permission) PermSet {
	set := PermSet{}
	for _, g := range groupTable() {
		if slices.Contains(groups, g.Key) {
			for _, p := range g.Permissions {
				set[p] = true
			}
		}
	}
	for _, p := range extra {
		set[p] = true
	}
	return set
}
