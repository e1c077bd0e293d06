package push_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/api"
	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/files"
	"github.com/cuttleprint/cuttle/pkg/job"
	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/printer/printertest"
	"github.com/cuttleprint/cuttle/pkg/push"
	"github.com/cuttleprint/cuttle/pkg/store"
)

// newPrintEnv is the API with files, jobs, a printer over scripted Marlin and
// push watching them all.
func newPrintEnv(t *testing.T) (*env, *printertest.Rig) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, auth: auth.NewService(db, auth.Options{Hash: cheapHash}), bus: events.NewBus()}
	fs, err := files.Open(ctx, files.Options{Root: filepath.Join(dir, "uploads"), DB: db, Bus: e.bus})
	if err != nil {
		t.Fatal(err)
	}
	rig := printertest.New(t, printer.Config{Events: e.bus}, nil)
	j := job.New(job.Options{Files: fs, Link: job.MachineLink{M: rig.Machine}, Bus: e.bus})
	e.push = push.New(push.Options{Sessions: e.auth, Bus: e.bus, Version: "1.11.2",
		Source: push.NewMachineSource(rig.Machine, push.JobStatusOf(j))})
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); j.Run(ctx) }()
	go func() { defer wg.Done(); fs.Run(ctx) }()
	go func() { defer wg.Done(); e.push.Run(ctx) }()
	srv := httptest.NewServer(api.New(api.Deps{Auth: e.auth, Files: fs, Job: j, Events: e.bus,
		Printer: rig.Machine, Push: e.push}))
	e.url = srv.URL
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		srv.Close()
		j.Close()
		db.Close()
	})
	return e, rig
}

// Ensure that every event of a print arrives in order with OctoPrint's payload
// fields, and that currents carry the job and its progress.
func TestPrintEvents(t *testing.T) {
	e, rig := newPrintEnv(t)
	key := e.user("admin", auth.GroupAdmins, auth.GroupUsers)
	rig.Connect(t)
	c := e.dial(nil)
	c.until("connected")
	c.authed("admin", e.passiveSession(key))
	c.until("history")

	gc := "G28\nG1 Z0.2 F600\nG1 X10 Y10 E1 F1200\nG1 Z0.4\nG1 X20 Y10 E2\nG1 Z0.6\nG1 X20 Y20 E3\n"
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "cube.gcode")
	fw.Write([]byte(gc))
	mw.WriteField("select", "true")
	mw.WriteField("print", "true")
	mw.Close()
	req, _ := http.NewRequest("POST", e.url+"/api/files/local", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-Api-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}

	type event struct {
		Type    string         `json:"type"`
		Payload map[string]any `json:"payload"`
	}
	var got []event
	sawJob := false
	deadline := time.Now().Add(20 * time.Second)
	for len(got) == 0 || got[len(got)-1].Type != "PrintDone" {
		if time.Now().After(deadline) {
			t.Fatalf("no PrintDone within 20 s; events %v", got)
		}
		m := c.next()
		switch m.kind {
		case "event":
			var ev event
			m.decode(t, &ev)
			got = append(got, ev)
		}
	}
	// The currents follow: the job stays selected, complete.
	for !sawJob {
		if time.Now().After(deadline) {
			t.Fatal("no current with the finished job within 20 s")
		}
		if m := c.next(); m.kind == "current" {
			sawJob = strings.Contains(m.raw, `"name":"cube.gcode"`) && strings.Contains(m.raw, `"completion":100`)
		}
	}
	first, last := map[string]int{}, map[string]int{}
	var zs []float64
	for i, ev := range got {
		if _, ok := first[ev.Type]; !ok {
			first[ev.Type] = i
		}
		last[ev.Type] = i
		if ev.Type == "ZChange" {
			zs = append(zs, ev.Payload["new"].(float64))
		}
	}
	// OctoPrint fires Upload after selecting and starting (its payload says
	// whether they happened), so it is only required to come after them.
	for _, step := range [][2]string{{"FileSelected", "PrintStarted"}, {"PrintStarted", "ZChange"}, {"PrintStarted", "Upload"}} {
		i, ok1 := first[step[0]]
		j, ok2 := first[step[1]]
		if !ok1 || !ok2 || i > j {
			t.Errorf("%s (at %v) does not come before %s (at %v) in %v", step[0], i, step[1], j, got)
		}
	}
	if last["ZChange"] > last["PrintDone"] {
		t.Errorf("a ZChange follows PrintDone: %v", got)
	}
	if b, _ := json.Marshal(zs); !strings.HasSuffix(string(b), "0.2,0.4,0.6]") {
		t.Errorf("ZChange new values = %s; want them to end with 0.2, 0.4, 0.6", b)
	}
	fields := map[string][]string{
		"PrintStarted": {"name", "path", "origin", "size", "owner", "user"},
		"PrintDone":    {"name", "path", "origin", "size", "owner", "time"},
		"FileSelected": {"name", "path", "origin", "size"},
		"Upload":       {"name", "path", "target", "select", "print", "effective_select", "effective_print"},
		"ZChange":      {"new", "old"},
	}
	for _, ev := range got {
		for _, f := range fields[ev.Type] {
			if _, ok := ev.Payload[f]; !ok {
				t.Errorf("%s payload %v lacks %q", ev.Type, ev.Payload, f)
			}
		}
	}
}
