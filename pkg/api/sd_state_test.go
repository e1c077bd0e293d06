package api_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

// stateTexts collects every PrinterStateChanged text published on bus.
func stateTexts(t *testing.T, bus *events.Bus) func() []string {
	t.Helper()
	sub := bus.Subscribe(events.Options{Match: func(e events.Event) bool { _, ok := e.(events.PrinterStateChanged); return ok }})
	t.Cleanup(sub.Close)
	var seen []string
	return func() []string {
		for _, e := range sub.Take(nil) {
			seen = append(seen, e.(events.PrinterStateChanged).StateString)
		}
		return slices.Clone(seen)
	}
}

// An SD print on the virtual printer reads "Starting print from SD" until
// the firmware reports progress, then "Printing from SD" (in GET
// /api/printer, GET /api/job and the state events); an upload to the card
// reads "Sending file to SD".
func TestSDStateTexts(t *testing.T) {
	e := newFilesEnv(t, filesOpts{scripts: &testScripts, virtual: &virtualprinter.Config{TimeScale: 20}})
	texts := stateTexts(t, e.bus)
	if err := e.vp.AddSDFile("long.gco", []byte(strings.Repeat("G1 X10 Y10 F3000\nG1 X100 Y100\n", 2000))); err != nil {
		t.Fatal(err)
	}
	e.connect()
	wantCode(t, "refresh", e.json("POST", "/api/printer/sd", e.adminKey, `{"command":"refresh"}`), 204)
	wantCode(t, "select+print sd", e.json("POST", "/api/files/sdcard/LONG.GCO", e.adminKey, `{"command":"select","print":true}`), 204)
	if !await(30*time.Second, func() bool { return slices.Contains(texts(), "Printing from SD") }) {
		t.Fatalf("state texts %v; want Printing from SD", texts())
	}
	got := texts()
	if i := slices.Index(got, "Starting print from SD"); i < 0 || i > slices.Index(got, "Printing from SD") {
		t.Errorf("state texts %v; want Starting print from SD before Printing from SD", got)
	}
	pr := e.json("GET", "/api/printer", e.roKey, "").json(t)["state"].(map[string]any)
	flags, _ := pr["flags"].(map[string]any)
	if pr["text"] != "Printing from SD" || flags["printing"] != true {
		t.Errorf("GET /api/printer state = %v", pr)
	}
	if s := e.state(); s != "Printing from SD" {
		t.Errorf("GET /api/job state = %q", s)
	}
	wantCode(t, "cancel", e.json("POST", "/api/job", e.adminKey, `{"command":"cancel"}`), 204)
	if !await(10*time.Second, func() bool { return e.state() == "Operational" }) {
		t.Fatalf("after cancel: %q", e.state())
	}

	ct, body := multipartBody(part{name: "file", filename: "cube.gcode", value: "G28\nG1 X10 Y10\n"})
	wantCode(t, "upload to sd", e.raw("POST", "/api/files/sdcard", e.adminKey, ct, body), 201)
	if !await(10*time.Second, func() bool { _, ok := e.vp.SDFile("CUBE.GCO"); return ok && e.state() == "Operational" }) {
		t.Fatalf("transfer did not end: %q", e.state())
	}
	if got := texts(); !slices.Contains(got, "Sending file to SD") {
		t.Errorf("state texts %v; want Sending file to SD during the upload", got)
	}
}
