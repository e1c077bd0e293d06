package api_test

import (
	"testing"
)

func TestSettings_ShapeClientsRead(t *testing.T) {
	e := newEnv(t)
	r := e.do(nil, req{method: "GET", path: "/api/settings", key: e.roKey})
	wantCode(t, "GET /api/settings", r, 200)
	m := r.json(t)
	plugins, ok := m["plugins"].(map[string]any)
	if !ok {
		t.Fatalf("plugins = %T; want an object", m["plugins"])
	}
	if d, _ := plugins["discovery"].(map[string]any); d["upnpUuid"] == "" || d["upnpUuid"] == nil {
		t.Errorf("plugins.discovery.upnpUuid missing: %v", plugins)
	}
	if _, ok := plugins["tracking"].(map[string]any); !ok {
		t.Error("plugins.tracking missing (Home Assistant reads it)")
	}
	feature := m["feature"].(map[string]any)
	if _, ok := feature["sdSupport"].(bool); !ok {
		t.Error("feature.sdSupport is not a bool")
	}
	webcam := m["webcam"].(map[string]any)
	for _, k := range []string{"webcamEnabled", "streamUrl", "snapshotUrl", "flipH", "flipV", "rotate90", "snapshotSslValidation", "bitrate"} {
		if _, ok := webcam[k]; !ok {
			t.Errorf("webcam.%s missing", k)
		}
	}
	if webcam["streamUrl"] != "/webcam/?action=stream" {
		t.Errorf("webcam.streamUrl = %v", webcam["streamUrl"])
	}
	if m["gcodeAnalysis"].(map[string]any)["runAt"] != "idle" {
		t.Error("gcodeAnalysis.runAt missing")
	}
	if _, ok := m["server"].(map[string]any)["commands"]; ok {
		t.Error("a read-only user sees server.commands")
	}
	if m["api"].(map[string]any)["key"] != nil {
		t.Error("a read-only user sees the global key")
	}
	// ETag and 304.
	etag := r.header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	wantCode(t, "conditional GET", e.do(nil, req{method: "GET", path: "/api/settings", key: e.roKey, header: map[string]string{"If-None-Match": etag}}), 304)
}

func TestSettings_PostMergesValidatesAndPersists(t *testing.T) {
	e := newEnv(t)
	wantCode(t, "ro POST", e.do(nil, req{method: "POST", path: "/api/settings", key: e.roKey, body: `{"appearance":{"name":"x"}}`}), 403)
	r := e.do(nil, req{method: "POST", path: "/api/settings", key: e.adminKey, body: `{"appearance":{"name":"Voron 2.4"},"serial":{"autoconnect":true},"plugins":{"whatever":{}}}`})
	wantCode(t, "admin POST", r, 200)
	m := r.json(t)
	if m["appearance"].(map[string]any)["name"] != "Voron 2.4" || m["serial"].(map[string]any)["autoconnect"] != true {
		t.Errorf("POST answer does not show the merged values: %v %v", m["appearance"], m["serial"])
	}
	if m["serial"].(map[string]any)["baudrate"] != float64(115200) {
		t.Errorf("merge lost serial.baudrate: %v", m["serial"])
	}
	for name, body := range map[string]string{
		"wrong type":   `{"serial":{"baudrate":"fast"},"appearance":{"name":"half"}}`,
		"bad enum":     `{"gcodeAnalysis":{"runAt":"sometimes"},"appearance":{"name":"half"}}`,
		"not object":   `[1,2]`,
		"malformed":    `{"appearance":`,
		"block scalar": `{"webcam":true}`,
	} {
		wantCode(t, name, e.do(nil, req{method: "POST", path: "/api/settings", key: e.adminKey, body: body}), 400)
	}
	if got := e.settings.Get().Appearance.Name; got != "Voron 2.4" {
		t.Errorf("after rejected updates appearance.name = %q; want it unchanged", got)
	}
}
