package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/settings"
)

// ptyFirmware answers a host on the other end of a pty like a minimal
// Marlin: "ok" to everything, a name for M115 and temperatures for M105. It
// records the commands it received.
type ptyFirmware struct {
	mu   sync.Mutex
	cmds []string
}

func (f *ptyFirmware) serve(rw io.ReadWriter) {
	sc := bufio.NewScanner(rw)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '*'); i >= 0 {
			line = line[:i]
		}
		if strings.HasPrefix(line, "N") {
			if i := strings.IndexByte(line, ' '); i >= 0 {
				line = line[i+1:]
			}
		}
		f.mu.Lock()
		f.cmds = append(f.cmds, line)
		f.mu.Unlock()
		reply := "ok\n"
		switch {
		case strings.HasPrefix(line, "M115"):
			reply = "FIRMWARE_NAME:PtyMarlin\nok\n"
		case strings.HasPrefix(line, "M105"):
			reply = "ok T:22.0 /0.0 B:21.0 /0.0\n"
		}
		if _, err := io.WriteString(rw, reply); err != nil {
			return
		}
	}
}

func (f *ptyFirmware) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.cmds)
}

// Ensure that power control works end to end in the wired app, over a real
// serial link (a pty): the PSU comes on before connecting and before a print,
// M80/M81 sent through the API switch the relay instead of reaching the
// firmware, and the LED follows the print.
func TestPowerEndToEnd(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	fw := &ptyFirmware{}
	go fw.serve(ptmx)

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	yml := `
serial:
  port: ` + tty.Name() + `
  additionalPorts: [` + tty.Name() + `]
power:
  relays:
    - name: psu
      driver: sim
    - name: led
      driver: sim
  policy:
    settleTime: 0s
    ledWhilePrinting: true
`
	if err := os.WriteFile(cfgPath, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := settings.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := newApp(ctx, serveConfig{configPath: cfgPath, dataDir: filepath.Join(dir, "data"), settings: s, log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	wait := a.start(ctx)
	defer wait()
	defer cancel()
	if _, err := a.auth.AddUser(ctx, auth.NewUser{Name: "op", Password: "pw", Active: true}); err != nil {
		t.Fatal(err)
	}
	key, err := a.auth.GenerateKey(ctx, "op")
	if err != nil {
		t.Fatal(err)
	}
	sub := a.bus.Subscribe(events.Options{Limit: 10000, Match: func(e events.Event) bool {
		switch e.(type) {
		case events.RelayChanged, events.PrintStarted, events.PrintDone, events.Connected:
			return true
		}
		return false
	}})
	defer sub.Close()
	var seen []string
	next := func(want string) {
		t.Helper()
		if slices.Contains(seen, want) { // events of one step may arrive in either order
			return
		}
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second) // a safety net for a hung test
		defer wcancel()
		for {
			e, err := sub.Next(wctx)
			if err != nil {
				t.Fatalf("waiting for %s: %v (seen %q, printer %s, idle %+v)", want, err, seen, a.deps.Printer.Snapshot().StateText, a.deps.PowerPolicy.IdleStatus())
			}
			name := e.Name()
			if rc, ok := e.(events.RelayChanged); ok {
				name += " " + rc.Relay + " " + rc.State
			}
			seen = append(seen, name)
			if name == want {
				return
			}
		}
	}
	srv := httptest.NewServer(a.handler())
	defer srv.Close()
	do := func(method, path, ctype string, body []byte) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
		req.Header.Set("X-Api-Key", key)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	post := func(path, body string, want int) {
		t.Helper()
		if code, got := do("POST", path, "application/json", []byte(body)); code != want {
			t.Fatalf("POST %s %s = %d %s; want %d", path, body, code, got, want)
		}
	}
	psuOn := func() bool {
		t.Helper()
		_, body := do("GET", "/api/plugin/psucontrol", "", nil)
		var st struct{ IsPSUOn bool }
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatalf("psucontrol state %q: %v", body, err)
		}
		return st.IsPSUOn
	}

	if psuOn() {
		t.Fatal("PSU on at start; want off (start-up off)")
	}
	post("/api/connection", `{"command":"connect","port":"`+tty.Name()+`","baudrate":115200}`, 204)
	next("RelayChanged psu on")
	next("Connected")

	post("/api/printer/command", `{"commands":["M81"]}`, 204)
	if psuOn() {
		t.Error("PSU still on after M81")
	}
	post("/api/printer/command", `{"command":"M80"}`, 204)
	if !psuOn() {
		t.Error("PSU off after M80")
	}
	post("/api/plugin/psucontrol", `{"command":"turnPSUOff"}`, 204)

	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	fwr, _ := w.CreateFormFile("file", "cube.gcode")
	io.WriteString(fwr, "G28\nG1 X10 Y10\nG1 X20\n")
	w.WriteField("print", "true")
	w.Close()
	if code, body := do("POST", "/api/files/local", w.FormDataContentType(), mp.Bytes()); code != 201 {
		t.Fatalf("upload with print=true = %d %s", code, body)
	}
	next("PrintStarted")
	// The last PSU change before the print started switched it on.
	last := ""
	for _, e := range seen[:slices.Index(seen, "PrintStarted")] {
		if strings.HasPrefix(e, "RelayChanged psu ") {
			last = e
		}
	}
	if last != "RelayChanged psu on" {
		t.Errorf("events %q; want the PSU switched back on before PrintStarted", seen)
	}
	if !psuOn() {
		t.Error("PSU off while printing")
	}
	next("RelayChanged led on")
	next("RelayChanged led off")
	next("PrintDone")
	for _, c := range fw.received() {
		if c == "M80" || c == "M81" {
			t.Errorf("firmware received %s; want it handled by the relay (received %q)", c, fw.received())
		}
	}
	if !slices.Contains(fw.received(), "G1 X20") {
		t.Errorf("firmware received %q; want the printed file", fw.received())
	}
}
