package api_test

import (
	"encoding/json"
	"github.com/cuttleprint/cuttle/pkg/gcode/gcodetest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/gcode"
	"github.com/cuttleprint/cuttle/pkg/job"
	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

// testScripts mark each script's place in the executed log.
var testScripts = job.Scripts{
	BeforePrintStarted:  "M117 start",
	AfterPrintDone:      "M117 done",
	AfterPrintPaused:    "M117 paused",
	BeforePrintResumed:  "M117 resuming",
	AfterPrintCancelled: "M104 S0\nM140 S0",
}

// jobLines returns the commands a print of raw must execute: every line's
// code, comments and blank lines dropped, host pauses skipped.
func jobLines(t testing.TB, raw []byte) []string {
	rd := gcode.NewReader(strings.NewReader(string(raw)))
	var out []string
	for {
		l, err := rd.Next()
		if err != nil {
			return out
		}
		if len(l.Code) == 0 || (len(l.Cmd) > 0 && l.Cmd[0] == '@') || (l.Letter == 'M' && (l.Num == 0 || l.Num == 1)) {
			continue
		}
		out = append(out, string(l.Code))
	}
}

// await polls cond for up to d (a safety net for asynchronous work, not a
// timing assertion).
func await(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

func (e *filesEnv) jobStatus() map[string]any {
	e.t.Helper()
	var m map[string]any
	json.Unmarshal([]byte(e.json("GET", "/api/job", e.roKey, "").body), &m)
	return m
}

func (e *filesEnv) state() string { s, _ := e.jobStatus()["state"].(string); return s }

// printSection returns the executed commands from "M117 start" to the end.
func printSection(t testing.TB, executed []string) []string {
	i := slices.Index(executed, "M117 start")
	if i < 0 {
		t.Fatalf("beforePrintStarted never ran; executed %d commands", len(executed))
	}
	return executed[i+1:]
}

// matchInOrder checks that got holds want in order, each exactly once, with
// nothing else between consecutive lines except the allowed insertions.
func matchInOrder(t testing.TB, got, want []string, allowed func(s string) bool) {
	t.Helper()
	i := 0
	for k, g := range got {
		if i < len(want) && g == want[i] {
			i++
			continue
		}
		if i == len(want) {
			break
		}
		if !allowed(g) {
			t.Fatalf("executed[%d] = %q, expected job line %d %q", k, g, i, want[i])
		}
	}
	if i != len(want) {
		t.Fatalf("executed %d of %d job lines; next missing %q", i, len(want), want[i])
	}
}

func poll(s string) bool { return s == "M105" || strings.HasPrefix(s, "M155") || s == "M115" }

func (e *filesEnv) connect() {
	e.t.Helper()
	if e.rig != nil {
		e.rig.Connect(e.t)
		return
	}
	wantCode(e.t, "connect", e.json("POST", "/api/connection", e.adminKey, `{"command":"connect","port":"VIRTUAL","baudrate":115200}`), 204)
	if !await(10*time.Second, func() bool { return e.machine.Snapshot().State == printer.StateOperational }) {
		e.t.Fatalf("not operational: %q", e.machine.Snapshot().StateText)
	}
}

// executed is what the firmware executed so far.
func (e *filesEnv) executed() []string {
	if e.rig != nil {
		return e.rig.Executed()
	}
	return e.vp.Executed()
}

// printFile uploads raw as name, starts it over the API and waits until the
// print ends.
func (e *filesEnv) printFile(name string, raw []byte) {
	e.t.Helper()
	r := e.upload(e.adminKey, part{name: "file", filename: name, value: string(raw)})
	wantCode(e.t, "upload "+name, r, 201)
	wantCode(e.t, "select+print", e.json("POST", "/api/files/local/"+name, e.userKey, `{"command":"select","print":true}`), 204)
	if !await(2*time.Minute, func() bool {
		s := e.jobStatus()
		p, _ := s["progress"].(map[string]any)
		return s["state"] == "Operational" && p != nil && p["completion"] == float64(100)
	}) {
		e.t.Fatalf("print of %s did not complete: %v", name, e.jobStatus())
	}
}

func TestPrintTinyOverHTTP(t *testing.T) {
	e := newFilesEnv(t, filesOpts{scripts: &testScripts})
	wantCode(t, "start while offline", e.json("POST", "/api/job", e.adminKey, `{"command":"start"}`), 409)
	if s := e.jobStatus(); s["state"] != "Offline" {
		t.Errorf("offline job state = %v", s["state"])
	}
	e.connect()
	raw := []byte("; tiny\nG28 ; home\nG1 Z5 F600\n\nG1 X10 Y10 F3000\nM105\nT1\nG1 X20 Y20\n")
	e.printFile("tiny.gcode", raw)
	if !e.rig.AwaitExecuted("M117 done") {
		t.Errorf("afterPrintDone did not run: %v", e.rig.Executed())
	}
	got := printSection(t, e.rig.Executed())
	matchInOrder(t, got, jobLines(t, raw), poll)
	if got[len(got)-1] != "M117 done" {
		t.Errorf("afterPrintDone is not after the last job line: %v", got)
	}
	f := e.json("GET", "/api/files/local/tiny.gcode", e.roKey, "").json(t)
	prints, _ := f["prints"].(map[string]any)
	if !await(5*time.Second, func() bool {
		f = e.json("GET", "/api/files/local/tiny.gcode", e.roKey, "").json(t)
		prints, _ = f["prints"].(map[string]any)
		return prints != nil && prints["success"] == float64(1)
	}) {
		t.Errorf("history = %v", f["prints"])
	}
	s := e.jobStatus()
	jf := s["job"].(map[string]any)["file"].(map[string]any)
	if jf["name"] != "tiny.gcode" || jf["origin"] != "local" {
		t.Errorf("job file = %v", jf)
	}
	if u := s["job"].(map[string]any)["user"]; u != "user" {
		t.Errorf("job user = %v; want the user who started the print", u)
	}
	wantCode(t, "cancel when idle", e.json("POST", "/api/job", e.adminKey, `{"command":"cancel"}`), 409)
	wantCode(t, "bad pause action", e.json("POST", "/api/job", e.adminKey, `{"command":"pause","action":"sideways"}`), 400)
	wantCode(t, "unknown job command", e.json("POST", "/api/job", e.adminKey, `{"command":"dance"}`), 400)
	wantCode(t, "start by read-only", e.json("POST", "/api/job", e.roKey, `{"command":"start"}`), 403)
}

// gate makes the firmware hold its answer to the first n executions of one
// command until each is released.
type gate struct {
	cmd     string
	mu      sync.Mutex
	hits    int
	reached []chan struct{}
	release []chan struct{}
}

func newGate(cmd string, n int) *gate {
	g := &gate{cmd: cmd}
	for range n {
		g.reached = append(g.reached, make(chan struct{}))
		g.release = append(g.release, make(chan struct{}))
	}
	return g
}

func (g *gate) reply(cmd string) ([]string, bool) {
	if cmd != g.cmd {
		return nil, false
	}
	g.mu.Lock()
	i := g.hits
	g.hits++
	g.mu.Unlock()
	if i < len(g.reached) {
		close(g.reached[i])
		<-g.release[i]
	}
	return nil, false
}

func TestPauseResumeCancelScripts(t *testing.T) {
	var lines []string
	for i := range 200 {
		lines = append(lines, "G1 X"+itoa(i)+" Y1 E0.5")
	}
	raw := []byte("M83\n" + strings.Join(lines, "\n") + "\n")
	g := newGate("G1 X50 Y1 E0.5", 2)
	e := newFilesEnv(t, filesOpts{scripts: &testScripts, reply: g.reply})
	e.connect()
	wantCode(t, "upload", e.upload(e.adminKey, part{name: "file", filename: "p.gcode", value: string(raw)}), 201)
	wantCode(t, "select+print", e.json("POST", "/api/files/local/p.gcode", e.adminKey, `{"command":"select","print":true}`), 204)
	<-g.reached[0]
	wantCode(t, "delete the printing file", e.json("DELETE", "/api/files/local/p.gcode", e.adminKey, ""), 409)
	wantCode(t, "overwrite the printing file", e.upload(e.adminKey, part{name: "file", filename: "p.gcode", value: "G1\n"}), 409)
	wantCode(t, "pause (toggle)", e.json("POST", "/api/job", e.adminKey, `{"command":"pause"}`), 204)
	close(g.release[0])
	if !await(10*time.Second, func() bool { return e.state() == "Paused" }) {
		t.Fatalf("state = %q; want Paused", e.state())
	}
	if !e.rig.AwaitExecuted("M117 paused") {
		t.Fatal("pause script not executed")
	}
	wantCode(t, "resume", e.json("POST", "/api/job", e.adminKey, `{"command":"pause","action":"resume"}`), 204)
	if !await(30*time.Second, func() bool { return e.state() == "Operational" }) {
		t.Fatalf("print did not finish: %v", e.jobStatus())
	}
	got := printSection(t, e.rig.Executed())
	p := slices.Index(got, "M117 paused")
	if p < 0 || p+4 > len(got) || got[p+1] != "M117 resuming" || got[p+2] != "G90" || got[p+3] != "M83" {
		t.Fatalf("script block at %d: %v", p, got[max(0, p-2):min(len(got), p+6)])
	}
	rest := append(slices.Clone(got[:p]), got[p+4:]...)
	matchInOrder(t, rest, jobLines(t, raw), poll)
	if k := slices.Index(got, "G1 X50 Y1 E0.5"); k < 0 || k > p {
		t.Errorf("pause script ran before the line in flight at pause time (line at %d, script at %d)", k, p)
	}
	if d := e.onDisk(); d["p.gcode"] != string(raw) {
		t.Errorf("printing file changed by the refused delete/overwrite")
	}

	// Cancel a second print while paused.
	wantCode(t, "start again", e.json("POST", "/api/job", e.adminKey, `{"command":"start"}`), 204)
	<-g.reached[1]
	wantCode(t, "pause", e.json("POST", "/api/job", e.adminKey, `{"command":"pause","action":"pause"}`), 204)
	close(g.release[1])
	if !await(10*time.Second, func() bool { return e.state() == "Paused" }) {
		t.Fatalf("state = %q; want Paused", e.state())
	}
	wantCode(t, "start while paused", e.json("POST", "/api/job", e.adminKey, `{"command":"start"}`), 409)
	n := len(e.rig.Executed())
	wantCode(t, "cancel", e.json("POST", "/api/job", e.adminKey, `{"command":"cancel"}`), 204)
	if !await(10*time.Second, func() bool { return e.state() == "Operational" }) {
		t.Fatalf("state after cancel = %q", e.state())
	}
	if !e.rig.AwaitExecuted("M140 S0") {
		t.Fatal("cancel script not executed")
	}
	after := e.rig.Executed()[n:]
	for _, c := range after {
		if strings.HasPrefix(c, "G1 X") {
			t.Errorf("job line %q executed after cancel", c)
		}
	}
	if !await(5*time.Second, func() bool {
		f := e.json("GET", "/api/files/local/p.gcode", e.roKey, "").json(t)
		pr, _ := f["prints"].(map[string]any)
		return pr != nil && pr["success"] == float64(1) && pr["failure"] == float64(1)
	}) {
		t.Errorf("history after a success and a cancel: %s", e.json("GET", "/api/files/local/p.gcode", e.roKey, "").body)
	}
}

func TestHostPauseAndActionCommands(t *testing.T) {
	raw := []byte("G1 X1\nM0 ; wait for the user\nG1 X2\n@pause\nG1 X3\n")
	e := newFilesEnv(t, filesOpts{scripts: &testScripts})
	e.connect()
	wantCode(t, "upload", e.upload(e.adminKey, part{name: "file", filename: "h.gcode", value: string(raw)}), 201)
	wantCode(t, "select+print", e.json("POST", "/api/files/local/h.gcode", e.adminKey, `{"command":"select","print":true}`), 204)
	for i, next := range []string{"G1 X2", "G1 X3"} {
		if !await(10*time.Second, func() bool { return e.state() == "Paused" }) {
			t.Fatalf("pause %d: state = %q", i, e.state())
		}
		if slices.Contains(e.rig.Executed(), next) {
			t.Fatalf("%q executed while paused", next)
		}
		if err := e.rig.Reply("//action:resume"); err != nil {
			t.Fatal(err)
		}
		if !e.rig.AwaitExecuted(next) {
			t.Fatalf("//action:resume ignored: %q never executed", next)
		}
	}
	if !await(10*time.Second, func() bool { return e.state() == "Operational" }) {
		t.Fatalf("state = %q", e.state())
	}
	got := printSection(t, e.rig.Executed())
	if slices.Contains(got, "M0") || slices.Contains(got, "@pause") {
		t.Errorf("host commands reached the firmware: %v", got)
	}
	matchInOrder(t, got, []string{"G1 X1", "G1 X2", "G1 X3"}, func(s string) bool { return poll(s) || strings.HasPrefix(s, "M117") || s == "G90" || s == "M82" })
}

// TestPrintCorpus prints slicer files on the virtual printer over HTTP: by
// default a representative subset (a PrusaSlicer and a Cura cube and the
// 100-part plate, about 1.5 s; the whole corpus takes 12 s, 2 min under
// -race on 2 cores); CUTTLE_E2E_FULL=1 prints every corpus file.
func TestPrintCorpus(t *testing.T) {
	dir := corpusDir(t)
	names := []string{"ps_cube20.gcode", "cura_cube20.gcode", "ps_plate100.gcode"}
	if os.Getenv("CUTTLE_E2E_FULL") != "" {
		all, _ := filepath.Glob(filepath.Join(dir, "*.gcode"))
		names = names[:0]
		for _, p := range all {
			names = append(names, filepath.Base(p))
		}
	}
	// The virtual printer runs moves, heating and dwells 10000 times faster
	// than real time.
	e := newFilesEnv(t, filesOpts{scripts: &testScripts, virtual: &virtualprinter.Config{TimeScale: 10000}})
	e.connect()
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			before := len(e.executed())
			e.printFile(name, raw)
			got := printSection(t, e.executed()[before:])
			matchInOrder(t, got, jobLines(t, raw), poll)
			if !await(5*time.Second, func() bool {
				pr, _ := e.json("GET", "/api/files/local/"+name, e.roKey, "").json(t)["prints"].(map[string]any)
				return pr != nil && pr["success"] == float64(1)
			}) {
				t.Errorf("no PrintDone history for %s", name)
			}
		})
	}
}

// corpusDir finds ../shared/gcode (or $CUTTLE_GCODE_CORPUS) or skips.
func corpusDir(t testing.TB) string { return gcodetest.Dir(t) }

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// TestVirtualPauseResumeCancel pauses, resumes and cancels a slicer file on
// the virtual printer (moves 100 times faster than real time) and checks
// where the scripts' lines land among the job's.
func TestVirtualPauseResumeCancel(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(corpusDir(t), "ps_cube20.gcode"))
	if err != nil {
		t.Fatal(err)
	}
	want := jobLines(t, raw)
	e := newFilesEnv(t, filesOpts{scripts: &testScripts, virtual: &virtualprinter.Config{TimeScale: 100}})
	e.connect()
	wantCode(t, "upload", e.upload(e.adminKey, part{name: "file", filename: "cube.gcode", value: string(raw)}), 201)
	wantCode(t, "select+print", e.json("POST", "/api/files/local/cube.gcode", e.adminKey, `{"command":"select","print":true}`), 204)
	if !await(30*time.Second, func() bool { return len(e.executed()) > 400 }) {
		t.Fatal("print did not get going")
	}
	wantCode(t, "pause", e.json("POST", "/api/job", e.adminKey, `{"command":"pause","action":"pause"}`), 204)
	if !await(30*time.Second, func() bool { return e.state() == "Paused" && slices.Contains(e.executed(), "M117 paused") }) {
		t.Fatalf("not paused: %q", e.state())
	}
	if f := e.machine.Snapshot().Flags; !f.Paused {
		t.Errorf("printer flags %+v; want paused", f)
	}
	wantCode(t, "resume", e.json("POST", "/api/job", e.adminKey, `{"command":"pause","action":"resume"}`), 204)
	n := len(e.executed())
	if !await(30*time.Second, func() bool { return len(e.executed()) > n+200 }) {
		t.Fatal("print did not resume")
	}
	wantCode(t, "cancel", e.json("POST", "/api/job", e.adminKey, `{"command":"cancel"}`), 204)
	if !await(30*time.Second, func() bool { return e.state() == "Operational" && slices.Contains(e.executed(), "M140 S0") }) {
		t.Fatalf("not cancelled: %q", e.state())
	}
	got := printSection(t, e.executed())
	p := slices.Index(got, "M117 paused")
	if p < 0 || got[p+1] != "M117 resuming" || got[p+2] != "G90" || got[p+3] != "M83" {
		t.Fatalf("pause/resume block: %q", got[max(0, p-1):min(len(got), p+5)])
	}
	c := slices.Index(got, "M104 S0")
	if c < p || !slices.Equal(got[c:c+2], []string{"M104 S0", "M140 S0"}) || c+2 != len(got) {
		t.Fatalf("cancel script at %d of %d: %q", c, len(got), got[max(0, c-1):])
	}
	// Between start and cancel: a prefix of the job's lines, in order, each
	// once, with only the pause/resume block inserted.
	lines := append(slices.Clone(got[:p]), got[p+4:c]...)
	k := 0
	for _, g := range lines {
		if poll(g) {
			continue
		}
		if k >= len(want) || g != want[k] {
			t.Fatalf("executed %q where job line %d %q was due", g, k, want[k])
		}
		k++
	}
	if k < 400 || k >= len(want) {
		t.Errorf("executed %d of %d job lines before the cancel", k, len(want))
	}
}

// TestSDPrintVirtual lists, selects, prints, pauses and cancels files on the
// virtual printer's SD card through the API.
func TestSDPrintVirtual(t *testing.T) {
	e := newFilesEnv(t, filesOpts{scripts: &testScripts, virtual: &virtualprinter.Config{TimeScale: 10000}})
	body := strings.Repeat("G1 X10 Y10 F3000\nG1 X20 Y20\n", 50)
	if err := e.vp.AddSDFile("cube.gco", []byte(body)); err != nil {
		t.Fatal(err)
	}
	e.connect()
	wantCode(t, "refresh", e.json("POST", "/api/printer/sd", e.adminKey, `{"command":"refresh"}`), 204)
	wantCode(t, "bad sd command", e.json("POST", "/api/printer/sd", e.adminKey, `{"command":"eject"}`), 400)
	r := e.json("GET", "/api/files/sdcard", e.roKey, "")
	wantCode(t, "sd listing", r, 200)
	var l struct {
		Files []struct{ Name, Path, Origin string }
	}
	json.Unmarshal([]byte(r.body), &l)
	if len(l.Files) != 1 || l.Files[0].Origin != "sdcard" || !strings.EqualFold(l.Files[0].Path, "cube.gco") {
		t.Fatalf("sd listing = %s", r.body)
	}
	path := l.Files[0].Path
	if all := e.json("GET", "/api/files", e.roKey, "").body; !strings.Contains(all, `"origin":"sdcard"`) {
		t.Errorf("GET /api/files lacks the SD file: %s", all)
	}
	wantCode(t, "select+print sd", e.json("POST", "/api/files/sdcard/"+path, e.adminKey, `{"command":"select","print":true}`), 204)
	if !await(30*time.Second, func() bool {
		s := e.jobStatus()
		p, _ := s["progress"].(map[string]any)
		return s["state"] == "Operational" && p != nil && p["completion"] == float64(100)
	}) {
		t.Fatalf("SD print did not complete: %v", e.jobStatus())
	}
	ex := e.executed()
	if !slices.Contains(ex, "M23 "+path) || !slices.Contains(ex, "M24") {
		t.Errorf("executed %v; want M23 %s and M24", ex, path)
	}
	if s := e.jobStatus(); s["job"].(map[string]any)["file"].(map[string]any)["origin"] != "sdcard" {
		t.Errorf("job file = %v", s["job"])
	}
	wantCode(t, "missing sd file", e.json("POST", "/api/files/sdcard/none.gco", e.adminKey, `{"command":"select"}`), 404)
	wantCode(t, "upload to sd", e.upload(e.adminKey, part{name: "file", filename: "x.gcode", value: "G1\n"}), 201)
	wantCode(t, "delete sd file", e.json("DELETE", "/api/files/sdcard/"+path, e.adminKey, ""), 204)
	if !await(10*time.Second, func() bool { return slices.Contains(e.executed(), "M30 "+path) }) {
		t.Errorf("M30 not sent: %v", e.executed())
	}
	wantCode(t, "sd state", e.json("GET", "/api/printer/sd", e.roKey, ""), 200)
}

// TestSDUploadVirtual streams uploads to the virtual printer's SD card with
// M28/M29 and checks the card's copy line by line.
func TestSDUploadVirtual(t *testing.T) {
	e := newFilesEnv(t, filesOpts{scripts: &testScripts, virtual: &virtualprinter.Config{TimeScale: 10000}})
	wantCode(t, "upload to sd while offline", e.raw("POST", "/api/files/sdcard", e.adminKey, "multipart/form-data; boundary=x", strings.NewReader("--x--\r\n")), 409)
	e.connect()
	raw := "; cube\nG28\nG1 X10 Y10 ; move\nM0\nG1 X20\n"
	ct, body := multipartBody(part{name: "file", filename: "my cube.gcode", value: raw})
	r := e.raw("POST", "/api/files/sdcard", e.adminKey, ct, body)
	wantCode(t, "upload to sd", r, 201)
	if !strings.HasSuffix(r.header.Get("Location"), "/api/files/sdcard/MY_CUBE.GCO") {
		t.Errorf("Location = %q", r.header.Get("Location"))
	}
	want := "G28\r\nG1 X10 Y10\r\nM0\r\nG1 X20\r\n"
	if !await(10*time.Second, func() bool { got, ok := e.vp.SDFile("MY_CUBE.GCO"); return ok && string(got) == want }) {
		got, _ := e.vp.SDFile("MY_CUBE.GCO")
		t.Fatalf("card copy = %q; want %q", got, want)
	}
	if !await(10*time.Second, func() bool {
		return e.state() == "Operational" && strings.Contains(e.json("GET", "/api/files/sdcard", e.roKey, "").body, "MY_CUBE.GCO")
	}) {
		t.Fatalf("after the transfer: state %q, listing %s", e.state(), e.json("GET", "/api/files/sdcard", e.roKey, "").body)
	}
	// uploadSd copies a local file to the card under a free 8.3 name.
	wantCode(t, "uploadSd", e.json("POST", "/api/files/local/my_cube.gcode", e.adminKey, `{"command":"uploadSd"}`), 201)
	if !await(10*time.Second, func() bool { got, ok := e.vp.SDFile("MY_CUB~2.GCO"); return ok && string(got) == want }) {
		t.Errorf("uploadSd copy missing: %v", e.executed())
	}
}
