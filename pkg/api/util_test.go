package api_test

import (
	"fmt"
	"strings"
	"testing"
)

func TestUtilTest_OnlySafeTargets(t *testing.T) {
	e := newEnv(t)
	port := e.srv.URL[strings.LastIndex(e.srv.URL, ":")+1:]
	for _, tc := range []struct {
		name, body string
		code       int
		result     any
	}{
		{"path inside", `{"command":"path","path":"cuttle.log","check_type":"file","check_access":["r"]}`, 200, true},
		{"missing path inside", `{"command":"path","path":"nope.txt"}`, 200, false},
		{"path outside", `{"command":"path","path":"../../../../etc/passwd"}`, 400, nil},
		{"absolute outside", `{"command":"path","path":"/etc/passwd"}`, 400, nil},
		{"url on this server", fmt.Sprintf(`{"command":"url","url":"http://127.0.0.1:%s/online.txt","method":"GET"}`, port), 200, true},
		{"relative url", `{"command":"url","url":"/online.txt"}`, 200, true},
		{"url on the LAN", `{"command":"url","url":"http://192.168.1.1/"}`, 400, nil},
		{"url elsewhere", `{"command":"url","url":"http://example.com/"}`, 400, nil},
		{"file url", `{"command":"url","url":"file:///etc/passwd"}`, 400, nil},
		{"server here", fmt.Sprintf(`{"command":"server","host":"127.0.0.1","port":%s}`, port), 200, true},
		{"server elsewhere", `{"command":"server","host":"10.0.0.1","port":22}`, 400, nil},
		{"address", `{"command":"address","address":"192.168.0.3"}`, 200, true},
		{"unknown", `{"command":"frob"}`, 400, nil},
		{"wrong type", `{"command":"path","path":5}`, 400, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(nil, req{method: "POST", path: "/api/util/test", key: e.adminKey, body: tc.body})
			wantCode(t, tc.name, r, tc.code)
			if tc.code == 200 && r.json(t)["result"] != tc.result {
				t.Errorf("%s: result = %v; want %v (%s)", tc.name, r.json(t)["result"], tc.result, r.body)
			}
		})
	}
	wantCode(t, "ro", e.do(nil, req{method: "POST", path: "/api/util/test", key: e.roKey, body: `{"command":"address"}`}), 403)
}
