package api

import (
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// routeDoc documents one route for the OpenAPI document. Every route in the
// router needs one (a test checks it both ways), so the published document
// cannot drift from the code.
type routeDoc struct {
	summary string
	tag     string
	// request names a schema in components for the JSON body ("" = none).
	request string
	// ok is the success status and the schema of its body ("" = no body).
	ok     int
	schema string
	// errors lists the documented error statuses.
	errors []int
}

func (s *Server) routesOpenAPI() {
	s.handle("GET", "/api/cuttle/openapi.json", Unguarded, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.OpenAPI(baseURL(r)))
	})
}

var muxVar = regexp.MustCompile(`\{([^{}:]+)(?::[^{}]*)?\}`)

// openAPIPath turns a mux template into an OpenAPI path.
func openAPIPath(tpl string) string { return muxVar.ReplaceAllString(tpl, "{$1}") }

// Undocumented lists the routes without documentation, and Stale the
// documentation entries without a route, as "METHOD path".
func (s *Server) Undocumented() (undocumented, stale []string) {
	docs := routeDocs()
	seen := map[string]bool{}
	for _, rt := range s.Routes() {
		key := rt.Method + " " + rt.Path
		if rt.Method == "" {
			key = "PREFIX " + rt.Path
		}
		seen[key] = true
		if _, ok := docs[key]; !ok {
			undocumented = append(undocumented, key)
		}
	}
	for key := range docs {
		if !seen[key] {
			stale = append(stale, key)
		}
	}
	sort.Strings(undocumented)
	sort.Strings(stale)
	return undocumented, stale
}

// OpenAPI renders the OpenAPI 3.1 document of every route in the router.
func (s *Server) OpenAPI(base string) map[string]any {
	docs := routeDocs()
	paths := map[string]map[string]any{}
	for _, rt := range s.Routes() {
		key := rt.Method + " " + rt.Path
		method := strings.ToLower(rt.Method)
		path := openAPIPath(rt.Path)
		if rt.Method == "" {
			key = "PREFIX " + rt.Path
			method = "get"
			path = strings.TrimRight(rt.Path, "/") + "/{rest}"
		}
		d, ok := docs[key]
		if !ok {
			d = routeDoc{summary: "(undocumented)", ok: 200}
		}
		op := map[string]any{"summary": d.summary, "operationId": operationID(rt.Method, path)}
		if d.tag != "" {
			op["tags"] = []string{d.tag}
		}
		var params []any
		for _, m := range muxVar.FindAllStringSubmatch(path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]string{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		switch rt.Permission {
		case Unguarded:
			op["security"] = []any{}
		case AnyUser:
			op["x-permission"] = "any authenticated user"
		default:
			op["x-permission"] = string(rt.Permission)
		}
		if d.request != "" {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": ref(d.request)}}}
		}
		resps := map[string]any{}
		okResp := map[string]any{"description": http.StatusText(d.ok)}
		if d.schema != "" {
			okResp["content"] = map[string]any{"application/json": map[string]any{"schema": ref(d.schema)}}
		}
		resps[strconv.Itoa(d.ok)] = okResp
		errs := d.errors
		if rt.Permission != Unguarded {
			errs = append([]int{401, 403}, errs...)
			if rt.Permission == AnyUser {
				errs = errs[:1:1]
				errs = append(errs, d.errors...)
			}
		}
		for _, code := range errs {
			resps[strconv.Itoa(code)] = map[string]any{"description": http.StatusText(code),
				"content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
		}
		op["responses"] = resps
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][method] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "cuttle API", "version": s.deps.Version,
			"description": "OctoPrint " + EmulatedOctoPrint + "-compatible REST API of cuttle, plus cuttle's own routes under /api/cuttle. " +
				"Guarded routes answer 401 without valid credentials and 403 without the permission named in x-permission."},
		"servers": []any{map[string]string{"url": base}},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"apiKeyHeader": map[string]string{"type": "apiKey", "in": "header", "name": "X-Api-Key"},
				"apiKeyQuery":  map[string]string{"type": "apiKey", "in": "query", "name": "apikey"},
				"bearer":       map[string]string{"type": "http", "scheme": "bearer"},
				"session":      map[string]string{"type": "apiKey", "in": "cookie", "name": cookieSession},
			},
			"schemas": schemas(),
		},
		"security": []any{map[string]any{"apiKeyHeader": []string{}}, map[string]any{"apiKeyQuery": []string{}},
			map[string]any{"bearer": []string{}}, map[string]any{"session": []string{}}},
	}
}

func ref(name string) map[string]string {
	return map[string]string{"$ref": "#/components/schemas/" + name}
}

func operationID(method, path string) string {
	id := strings.ToLower(method)
	if id == "" {
		id = "prefix"
	}
	for _, part := range strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '{' || r == '}' || r == '.' || r == '-' || r == '_' }) {
		id += strings.ToUpper(part[:1]) + part[1:]
	}
	return id
}

// obj is a JSON-schema object with the given property types.
func obj(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if required != nil {
		o["required"] = required
	}
	return o
}

func t(typ string) map[string]any { return map[string]any{"type": typ} }

func nullable(typ string) map[string]any { return map[string]any{"type": []string{typ, "null"}} }

func schemas() map[string]any {
	flags := map[string]any{}
	for _, f := range []string{"operational", "printing", "cancelling", "pausing", "resuming", "finishing", "closedOrError", "error", "paused", "ready", "sdReady"} {
		flags[f] = t("boolean")
	}
	temp := obj(map[string]any{"actual": t("number"), "target": nullable("number"), "offset": t("number")})
	return map[string]any{
		"Error":       obj(map[string]any{"error": t("string")}, "error"),
		"Object":      t("object"),
		"Command":     obj(map[string]any{"command": t("string")}, "command"),
		"Version":     obj(map[string]any{"api": t("string"), "server": t("string"), "text": t("string")}, "api", "server", "text"),
		"Server":      obj(map[string]any{"version": t("string"), "safemode": map[string]any{"type": []string{"boolean", "string"}}}),
		"Login":       obj(map[string]any{"user": t("string"), "pass": t("string"), "remember": t("boolean"), "passive": t("boolean")}),
		"CurrentUser": obj(map[string]any{"name": nullable("string"), "permissions": map[string]any{"type": "array", "items": t("string")}, "groups": map[string]any{"type": "array", "items": t("string")}}),
		"LoginRecord": obj(map[string]any{"name": t("string"), "session": t("string"), "active": t("boolean"), "admin": t("boolean"), "user": t("boolean"),
			"apikey": nullable("string"), "groups": map[string]any{"type": "array", "items": t("string")}, "permissions": map[string]any{"type": "array", "items": t("string")},
			"needs": t("object"), "settings": t("object"), "_is_external_client": t("boolean"), "_login_mechanism": t("string"), "_credentials_seen": map[string]any{"type": []string{"string", "boolean"}}}),
		"User":       obj(map[string]any{"name": t("string"), "active": t("boolean"), "admin": t("boolean"), "apikey": nullable("string"), "groups": map[string]any{"type": "array", "items": t("string")}}),
		"Users":      obj(map[string]any{"users": map[string]any{"type": "array", "items": ref("User")}}),
		"NewUser":    obj(map[string]any{"name": t("string"), "password": t("string"), "active": t("boolean"), "admin": t("boolean"), "groups": map[string]any{"type": "array", "items": t("string")}}, "name", "password"),
		"APIKey":     obj(map[string]any{"apikey": t("string")}, "apikey"),
		"Setup":      obj(map[string]any{"user": t("string"), "pass": t("string")}, "user", "pass"),
		"SetupState": obj(map[string]any{"needed": t("boolean")}),
		"Settings":   obj(map[string]any{"plugins": t("object"), "feature": t("object"), "webcam": t("object"), "serial": t("object"), "api": t("object")}, "plugins", "feature"),
		"State":      obj(map[string]any{"text": t("string"), "flags": obj(flags), "error": t("string")}),
		"Printer":    obj(map[string]any{"state": ref("State"), "temperature": map[string]any{"type": "object", "additionalProperties": temp}, "sd": obj(map[string]any{"ready": t("boolean")})}),
		"Connection": obj(map[string]any{"current": obj(map[string]any{"state": t("string"), "port": nullable("string"), "baudrate": nullable("integer"), "printerProfile": t("string")}), "options": t("object")}),
		"Job": obj(map[string]any{"job": t("object"), "state": t("string"),
			"progress": obj(map[string]any{"completion": nullable("number"), "filepos": nullable("integer"), "printTime": nullable("integer"), "printTimeLeft": nullable("integer"), "printTimeLeftOrigin": nullable("string")})}),
		"AppKeyRequest": obj(map[string]any{"app": t("string"), "user": t("string")}, "app"),
		"AppKeyToken":   obj(map[string]any{"app_token": t("string"), "auth_dialog": t("string")}),
		"AppKeyPoll":    obj(map[string]any{"api_key": t("string"), "message": t("string")}),
		"Decision":      obj(map[string]any{"decision": t("boolean")}, "decision"),
		"PSUState":      obj(map[string]any{"isPSUOn": t("boolean")}, "isPSUOn"),
	}
}

// routeDocs documents every route; keys are "METHOD template" as the router
// names them ("PREFIX /x" for prefix routes).
func routeDocs() map[string]routeDoc {
	d := func(summary, tag string, ok int, schema string, errs ...int) routeDoc {
		return routeDoc{summary: summary, tag: tag, ok: ok, schema: schema, errors: errs}
	}
	withBody := func(r routeDoc, req string) routeDoc { r.request = req; return r }
	return map[string]routeDoc{
		"GET /api/version":                            d("Server and API version (PrusaSlicer checks text starts with OctoPrint)", "server", 200, "Version"),
		"GET /api/server":                             d("Server version and safe mode", "server", 200, "Server"),
		"GET /online.txt":                             d("Liveness probe: online", "server", 200, ""),
		"GET /online.gif":                             d("Liveness probe: a 1×1 GIF", "server", 200, ""),
		"POST /api/login":                             withBody(d("Log in with user and password, or passively with a key or session", "access", 200, "LoginRecord", 400, 403, 429), "Login"),
		"POST /api/logout":                            d("Log out", "access", 200, "Object"),
		"GET /api/currentuser":                        d("The user the request acts as", "access", 200, "CurrentUser"),
		"GET /api/access/users":                       d("List users", "access", 200, "Users"),
		"POST /api/access/users":                      withBody(d("Add a user", "access", 201, "Users", 400, 409), "NewUser"),
		"GET /api/access/users/{name}":                d("One user (admin or self)", "access", 200, "User", 404),
		"PUT /api/access/users/{name}":                withBody(d("Change a user's groups, permissions, active flag", "access", 200, "Users", 400, 404), "Object"),
		"DELETE /api/access/users/{name}":             d("Delete a user", "access", 200, "Users", 400, 404),
		"PUT /api/access/users/{name}/password":       withBody(d("Change a password (self must send current)", "access", 200, "Object", 400, 404), "Object"),
		"GET /api/access/users/{name}/settings":       d("A user's UI settings", "access", 200, "Object", 404),
		"PATCH /api/access/users/{name}/settings":     withBody(d("Merge into a user's UI settings", "access", 200, "Object", 400, 404), "Object"),
		"POST /api/access/users/{name}/apikey":        d("Generate (replace) a user's API key", "access", 200, "APIKey", 404),
		"DELETE /api/access/users/{name}/apikey":      d("Revoke a user's API key", "access", 204, "", 404),
		"GET /api/access/groups":                      d("List groups", "access", 200, "Object"),
		"GET /api/access/permissions":                 d("List permissions", "access", 200, "Object"),
		"GET /api/users":                              d("Deprecated: 307 to /api/access/users", "access", 307, ""),
		"GET /api/users/{rest:.*}":                    d("Deprecated: 307 to /api/access/users/...", "access", 307, ""),
		"POST /api/settings/apikey":                   d("Generate the global API key", "settings", 200, "APIKey"),
		"DELETE /api/settings/apikey":                 d("Delete the global API key", "settings", 204, ""),
		"GET /api/cuttle/setup":                       d("Whether the first-run setup is open", "cuttle", 200, "SetupState"),
		"POST /api/cuttle/setup":                      withBody(d("Create the first admin (local network only, while none exists)", "cuttle", 201, "User", 400, 403, 409), "Setup"),
		"GET /api/cuttle/openapi.json":                d("This document", "cuttle", 200, "Object"),
		"GET /api/settings":                           d("Settings tree (sensitive values only for admins)", "settings", 200, "Settings"),
		"POST /api/settings":                          withBody(d("Deep-merge a partial settings tree", "settings", 200, "Settings", 400), "Object"),
		"GET /plugin/appkeys/probe":                   d("App keys are supported", "appkeys", 204, ""),
		"POST /plugin/appkeys/request":                withBody(d("An application asks for a key", "appkeys", 201, "AppKeyToken", 400, 429), "AppKeyRequest"),
		"GET /plugin/appkeys/request/{token}":         d("Poll a request: 202 pending, 200 with the key once", "appkeys", 200, "AppKeyPoll", 404),
		"GET /plugin/appkeys/auth/{token}":            d("Approval page (HTML)", "appkeys", 200, "", 404),
		"POST /plugin/appkeys/decision/{token}":       withBody(d("Approve or deny a request", "appkeys", 204, "", 400, 404), "Decision"),
		"GET /api/plugin/appkeys":                     d("List own (or, with all=true, every) app keys and pending requests", "appkeys", 200, "Object", 404),
		"POST /api/plugin/appkeys":                    withBody(d("Generate or revoke an app key", "appkeys", 200, "Object", 400, 404), "Command"),
		"GET /api/system/commands":                    d("Configured system commands", "system", 200, "Object"),
		"GET /api/system/commands/{source}":           d("System commands of one source", "system", 200, "Object", 404),
		"POST /api/system/commands/{source}/{action}": d("Run a system command", "system", 204, "", 404, 500),
		"GET /api/system/info":                        d("Host facts", "system", 200, "Object"),
		"GET /api/logs":                               d("List log files", "logs", 200, "Object"),
		"DELETE /api/logs/{name}":                     d("Delete a log file", "logs", 204, "", 404),
		"GET /plugin/logging/logs":                    d("List log files (OctoPrint logging plugin path)", "logs", 200, "Object"),
		"DELETE /plugin/logging/logs/{name}":          d("Delete a log file (logging plugin path)", "logs", 204, "", 404),
		"GET /downloads/logs/{name}":                  d("Download a log file (Range supported)", "logs", 200, "", 404),
		"GET /plugin/discovery/discovery.xml":         d("UPnP device description (XML)", "discovery", 200, ""),
		"GET /api/connection":                         d("Connection state and options", "connection", 200, "Connection"),
		"POST /api/connection":                        withBody(d("connect, disconnect or fake_ack", "connection", 204, "", 400, 409), "Command"),
		"GET /api/printer":                            d("Printer state, temperatures, SD (409 when not operational)", "printer", 200, "Printer", 409),
		"GET /api/printer/tool":                       d("Tool temperatures", "printer", 200, "Object", 409),
		"POST /api/printer/tool":                      withBody(d("target, offset, select, extrude, flowrate", "printer", 204, "", 400, 409), "Command"),
		"GET /api/printer/bed":                        d("Bed temperature", "printer", 200, "Object", 409),
		"POST /api/printer/bed":                       withBody(d("Bed target or offset", "printer", 204, "", 400, 409), "Command"),
		"GET /api/printer/chamber":                    d("Chamber temperature", "printer", 200, "Object", 409),
		"POST /api/printer/chamber":                   withBody(d("Chamber target or offset", "printer", 204, "", 400, 409), "Command"),
		"POST /api/printer/printhead":                 withBody(d("jog, home, feedrate", "printer", 204, "", 400, 409), "Command"),
		"POST /api/printer/command":                   withBody(d("Send G-code commands or a script", "printer", 204, "", 400, 404, 409), "Object"),
		"GET /api/printer/command/custom":             d("Custom control definitions", "printer", 200, "Object"),
		"GET /api/printer/error":                      d("Last printer error", "printer", 200, "Object"),
		"GET /api/files":                              d("All files and folders (recursive, force, filter); ETag/304", "files", 200, "Object"),
		"POST /api/files/test":                        withBody(d("sanitize a path or check whether it exists", "files", 200, "Object", 400), "Command"),
		"GET /api/files/{loc}":                        d("Files of a location with free and total bytes; ETag/304", "files", 200, "Object", 404),
		"POST /api/files/{loc}":                       d("Upload (multipart: file, path, select, print, userdata, filename, noOverwrite) or create a folder (foldername)", "files", 201, "Object", 400, 403, 404, 409, 413, 415),
		"GET /api/files/{loc}/{path:.+}":              d("One file or folder with its metadata", "files", 200, "Object", 404),
		"POST /api/files/{loc}/{path:.+}":             withBody(d("select (+print), unselect, analyse, copy, move, uploadSd", "files", 204, "", 400, 403, 404, 409, 415), "Command"),
		"DELETE /api/files/{loc}/{path:.+}":           d("Delete a file or a folder with its contents", "files", 204, "", 404, 409),
		"GET /downloads/files/{loc}/{path:.+}":        d("Download a file (Range supported)", "files", 200, "", 404),
		"HEAD /downloads/files/{loc}/{path:.+}":       d("Size and validators of a download", "files", 200, "", 404),
		"GET /api/printer/sd":                         d("SD card state", "printer", 200, "Object", 404),
		"POST /api/printer/sd":                        withBody(d("init, refresh or release the SD card", "printer", 204, "", 400, 404, 409), "Command"),
		"GET /api/cuttle/thumbnail/{loc}/{path:.+}":   d("The preview image embedded in a G-code file", "files", 200, "", 404),
		"GET /api/job":                                d("Current job, progress and state (200 even offline)", "job", 200, "Job"),
		"POST /api/job":                               withBody(d("start, restart, pause (action pause|resume|toggle), cancel", "job", 204, "", 400, 403, 409), "Command"),
		"GET /api/printerprofiles":                    d("Printer profiles by id", "printerprofiles", 200, "Object"),
		"POST /api/printerprofiles":                   withBody(d("Add a profile (profile, basedOn)", "printerprofiles", 200, "Object", 400, 404), "Object"),
		"GET /api/printerprofiles/{id}":               d("One printer profile", "printerprofiles", 200, "Object", 404),
		"PATCH /api/printerprofiles/{id}":             withBody(d("Merge into a profile", "printerprofiles", 200, "Object", 400, 404), "Object"),
		"DELETE /api/printerprofiles/{id}":            d("Delete a profile (not the default or current one)", "printerprofiles", 204, "", 404, 409),
		"GET /api/plugin/psucontrol":                  d("PSU state (PSU Control plugin compatible)", "power", 200, "PSUState", 503),
		"POST /api/plugin/psucontrol":                 withBody(d("turnPSUOn, turnPSUOff, togglePSU (204, no body); getPSUState (200, PSUState)", "power", 204, "", 400, 503), "Command"),
		"GET /api/cuttle/power":                       d("Every relay with state and availability, the PSU relay's name and the idle power-off countdown", "power", 200, "Object"),
		"POST /api/cuttle/power":                      withBody(d("Power policy commands: cancelIdleOff answers {cancelled, idleOff}", "power", 200, "Object", 400, 503), "Command"),
		"GET /api/cuttle/power/{name}":                d("One relay", "power", 200, "Object", 404),
		"POST /api/cuttle/power/{name}":               withBody(d("Switch a relay: on, off, toggle", "power", 200, "Object", 400, 404, 503), "Command"),
		"POST /api/util/test":                         withBody(d("Test a path in the data dir, a URL or server on this machine, a name, an address", "system", 200, "Object", 400), "Command"),
		"GET /api/cuttle/bootstatus":                  d("Outcome of applying the boot-partition files (Wi-Fi, hostname, settings, SSH) on the appliance", "appliance", 200, "Object", 404),
		"PREFIX /webcam/":                             d("The webcam stream (ustreamer on the appliance): ?action=stream, ?action=snapshot", "appliance", 200, "", 502, 503),
		"PREFIX /sockjs":                              d("Push API: raw websocket at /sockjs/websocket and SockJS transports", "push", 200, ""),
	}
}
