package api_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/printer"
)

// Connecting with a printerProfile from the profile store makes it the
// current one and applies it to the printer: GET /api/printer's temperature
// keys follow its heaters and extruder count; an unknown id is refused.
func TestConnection_PrinterProfiles(t *testing.T) {
	e := newFilesEnv(t, filesOpts{})
	wantCode(t, "add ender", e.json("POST", "/api/printerprofiles", e.adminKey,
		`{"profile":{"id":"ender","name":"Ender 3","heatedBed":false,"heatedChamber":false,"extruder":{"count":1}}}`), 200)
	wantCode(t, "add idex", e.json("POST", "/api/printerprofiles", e.adminKey,
		`{"profile":{"id":"idex","name":"IDEX","heatedBed":true,"heatedChamber":true,"extruder":{"count":2}}}`), 200)

	r := e.json("GET", "/api/connection", e.roKey, "")
	wantCode(t, "connection", r, 200)
	opts := r.json(t)["options"].(map[string]any)
	var ids []string
	for _, p := range opts["printerProfiles"].([]any) {
		pm := p.(map[string]any)
		ids = append(ids, pm["id"].(string)+"="+pm["name"].(string))
	}
	if !slices.Equal(ids, []string{"_default=Default", "ender=Ender 3", "idex=IDEX"}) || opts["printerProfilePreference"] != "_default" {
		t.Errorf("options = %v", opts)
	}

	bad := e.json("POST", "/api/connection", e.adminKey, `{"command":"connect","port":"FAKE","baudrate":115200,"printerProfile":"prusa"}`)
	wantCode(t, "unknown profile", bad, 400)
	if !strings.Contains(bad.body, "printerProfile is invalid") {
		t.Errorf("unknown profile: %s", bad.body)
	}
	if e.machine.Snapshot().State != printer.StateOffline {
		t.Errorf("a refused connect still connected: %s", e.machine.Snapshot().StateText)
	}

	connect := func(profile string) map[string]any {
		t.Helper()
		wantCode(t, "connect "+profile, e.json("POST", "/api/connection", e.adminKey,
			`{"command":"connect","port":"FAKE","baudrate":115200,"printerProfile":"`+profile+`"}`), 204)
		if !await(5*time.Second, func() bool { return e.machine.Snapshot().State == printer.StateOperational }) {
			t.Fatalf("not operational: %s", e.machine.Snapshot().StateText)
		}
		cur := e.json("GET", "/api/connection", e.roKey, "").json(t)["current"].(map[string]any)
		if cur["printerProfile"] != profile {
			t.Errorf("current printerProfile = %v; want %s", cur["printerProfile"], profile)
		}
		if got := e.json("GET", "/api/printerprofiles/"+profile, e.adminKey, "").json(t)["current"]; got != true {
			t.Errorf("profile %s current = %v", profile, got)
		}
		r := e.json("GET", "/api/printer", e.roKey, "")
		wantCode(t, "printer", r, 200)
		return r.json(t)["temperature"].(map[string]any)
	}
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			if k != "history" {
				out = append(out, k)
			}
		}
		slices.Sort(out)
		return out
	}

	if got := keys(connect("ender")); !slices.Equal(got, []string{"tool0"}) {
		t.Errorf("ender temperature keys = %v; want [tool0]", got)
	}
	wantCode(t, "bed target without a heated bed", e.json("POST", "/api/printer/bed", e.adminKey, `{"command":"target","target":60}`), 409)
	if got := keys(connect("idex")); !slices.Equal(got, []string{"bed", "chamber", "tool0", "tool1"}) {
		t.Errorf("idex temperature keys = %v; want [bed chamber tool0 tool1]", got)
	}
	wantCode(t, "second tool", e.json("POST", "/api/printer/tool", e.adminKey, `{"command":"target","targets":{"tool1":200}}`), 204)
	// Editing the profile in use reaches the printer at once.
	wantCode(t, "patch idex", e.json("PATCH", "/api/printerprofiles/idex", e.adminKey, `{"profile":{"heatedChamber":false}}`), 200)
	if got := keys(e.json("GET", "/api/printer", e.roKey, "").json(t)["temperature"].(map[string]any)); slices.Contains(got, "chamber") {
		t.Errorf("after removing the chamber: keys %v", got)
	}
	// No printerProfile: the default profile.
	if got := keys(connect("_default")); !slices.Equal(got, []string{"bed", "tool0"}) {
		t.Errorf("default temperature keys = %v", got)
	}
}
