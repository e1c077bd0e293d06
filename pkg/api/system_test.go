package api_test

import (
	"strings"
	"testing"
)

func TestSystemCommands(t *testing.T) {
	e := newEnv(t)
	wantCode(t, "ro lists commands", e.do(nil, req{method: "GET", path: "/api/system/commands", key: e.roKey}), 403)
	r := e.do(nil, req{method: "GET", path: "/api/system/commands", key: e.adminKey})
	wantCode(t, "list", r, 200)
	core := r.json(t)["core"].([]any)
	if len(core) != 2 {
		t.Fatalf("core = %v; want restart and reboot only", core)
	}
	first := core[0].(map[string]any)
	for _, k := range []string{"action", "name", "source", "resource"} {
		if _, ok := first[k]; !ok {
			t.Errorf("command entry lacks %q: %v", k, first)
		}
	}
	wantCode(t, "core source", e.do(nil, req{method: "GET", path: "/api/system/commands/core", key: e.adminKey}), 200)
	wantCode(t, "bad source", e.do(nil, req{method: "GET", path: "/api/system/commands/other", key: e.adminKey}), 404)
	// Home Assistant posts with a double slash and no body, and wants 204.
	wantCode(t, "restart", e.do(nil, req{method: "POST", path: "//api/system/commands/core/restart", key: e.adminKey}), 204)
	wantCode(t, "shutdown not configured", e.do(nil, req{method: "POST", path: "/api/system/commands/core/shutdown", key: e.adminKey}), 404)
	fail := e.do(nil, req{method: "POST", path: "/api/system/commands/core/reboot", key: e.adminKey})
	wantCode(t, "failing reboot", fail, 500)
	if !strings.Contains(fail.body, "nonexistent-cuttle-dir") {
		t.Errorf("500 body %q lacks the command's stderr", fail.body)
	}
	info := e.do(nil, req{method: "GET", path: "/api/system/info", key: e.adminKey}).json(t)
	if si, _ := info["systeminfo"].(map[string]any); si["env.os.platform"] == nil {
		t.Errorf("systeminfo = %v", info)
	}
}

func TestLogs(t *testing.T) {
	e := newEnv(t)
	r := e.do(nil, req{method: "GET", path: "/api/logs", key: e.adminKey})
	wantCode(t, "list", r, 200)
	files := r.json(t)["files"].([]any)
	if len(files) != 1 || files[0].(map[string]any)["name"] != "cuttle.log" {
		t.Fatalf("files = %v", files)
	}
	dl := e.do(nil, req{method: "GET", path: "/downloads/logs/cuttle.log", key: e.adminKey, header: map[string]string{"Range": "bytes=5-7"}})
	if dl.code != 206 || dl.body != "one" {
		t.Errorf("ranged download = %d %q; want 206 \"one\"", dl.code, dl.body)
	}
	wantCode(t, "traversal", e.do(nil, req{method: "GET", path: "/downloads/logs/..%2f..%2fetc%2fpasswd", key: e.adminKey}), 404)
	wantCode(t, "ro", e.do(nil, req{method: "GET", path: "/api/logs", key: e.roKey}), 403)
	wantCode(t, "delete", e.do(nil, req{method: "DELETE", path: "/plugin/logging/logs/cuttle.log", key: e.adminKey}), 204)
	wantCode(t, "delete unknown", e.do(nil, req{method: "DELETE", path: "/api/logs/nope.log", key: e.adminKey}), 404)
}
