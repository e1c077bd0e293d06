package job_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/files"
	"github.com/cuttleprint/cuttle/pkg/job"
	"github.com/cuttleprint/cuttle/pkg/protocol"
	"github.com/cuttleprint/cuttle/pkg/store"
)

// fakeLink records what the controller sends; the test pulls lines and
// acknowledges them itself.
type fakeLink struct {
	mu     sync.Mutex
	log    []string // script lines sent, and "<job> line" for pulled lines
	state  job.State
	src    job.Source
	wakes  int
	online bool
}

func (l *fakeLink) Operational() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.online }
func (l *fakeLink) StateText() string { return "Operational" }
func (l *fakeLink) Send(cmd string) error {
	l.mu.Lock()
	l.log = append(l.log, cmd)
	l.mu.Unlock()
	return nil
}
func (l *fakeLink) Stream(src job.Source, _ bool) error {
	l.mu.Lock()
	l.src = src
	l.mu.Unlock()
	return nil
}
func (l *fakeLink) StopStream()                       { l.mu.Lock(); l.src = nil; l.mu.Unlock() }
func (l *fakeLink) Wake()                             { l.mu.Lock(); l.wakes++; l.mu.Unlock() }
func (l *fakeLink) SetJobState(s job.State, _ string) { l.mu.Lock(); l.state = s; l.mu.Unlock() }

func (l *fakeLink) lines() []string { l.mu.Lock(); defer l.mu.Unlock(); return slices.Clone(l.log) }

// pull takes one job line as the connection would, recording it.
func (l *fakeLink) pull() (string, any, bool) {
	l.mu.Lock()
	src := l.src
	l.mu.Unlock()
	if src == nil {
		return "", nil, false
	}
	text, tag, ok := src.Next()
	if ok {
		l.Send("job:" + text)
	}
	return text, tag, ok
}

type rig struct {
	t    *testing.T
	fs   *files.Storage
	link *fakeLink
	c    *job.Controller
	bus  *events.Bus
	now  time.Time
	mu   sync.Mutex
}

func newRig(t *testing.T, content string) *rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := files.Open(ctx, files.Options{Root: filepath.Join(dir, "up"), DB: db})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := fs.NewUpload()
	u.Write([]byte(content))
	if _, err := fs.Commit(ctx, u, "f.gcode", files.CommitOptions{}); err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, fs: fs, link: &fakeLink{online: true}, bus: events.NewBus(), now: time.Unix(1000, 0)}
	r.c = job.New(job.Options{Files: fs, Link: r.link, Bus: r.bus, Now: r.clock, SDPoll: time.Millisecond, Scripts: func() job.Scripts {
		return job.Scripts{AfterPrinterConnected: "M117 hello", BeforePrintStarted: "M117 start", AfterPrintPaused: "M117 paused {{.Z}}",
			BeforePrintResumed: "M117 resume X{{.X}}", AfterPrintCancelled: "M104 S0", AfterPrintDone: "M117 done"}
	}})
	done := make(chan struct{})
	go func() { r.c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; r.c.Close(); db.Close() })
	return r
}

func (r *rig) clock() time.Time { r.mu.Lock(); defer r.mu.Unlock(); return r.now }
func (r *rig) advance(d time.Duration) {
	r.mu.Lock()
	r.now = r.now.Add(d)
	r.mu.Unlock()
}

// waitFor waits for the worker to send line (a safety net, not timing).
func (r *rig) waitFor(line string) {
	r.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Contains(r.link.lines(), line) {
		if time.Now().After(deadline) {
			r.t.Fatalf("%q never sent; log %v", line, r.link.lines())
		}
		time.Sleep(time.Millisecond)
	}
}

// pullAck pulls up to n lines, acknowledging each.
func (r *rig) pullAck(n int) int {
	got := 0
	deadline := time.Now().Add(5 * time.Second)
	for got < n && time.Now().Before(deadline) {
		_, tag, ok := r.link.pull()
		if !ok {
			time.Sleep(time.Millisecond)
			if st := r.c.Flags(); !st.Printing {
				return got
			}
			continue
		}
		r.c.Acked(tag)
		got++
	}
	return got
}

func TestStreamProgressAndHistory(t *testing.T) {
	r := newRig(t, "; comment\nG28\nG1 Z0.2 F600 ; first layer\n\nG1 X10 E1\nT1\nG1 Z0.4\n")
	ctx := context.Background()
	if err := r.c.Select(ctx, "f.gcode", "alice"); err != nil {
		t.Fatal(err)
	}
	zs := r.bus.Subscribe(events.Options{Match: func(e events.Event) bool {
		switch e.(type) {
		case events.ZChange, events.ToolChange, events.PrintDone:
			return true
		}
		return false
	}})
	defer zs.Close()
	if err := r.c.Start(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	r.waitFor("M117 start")
	r.advance(100 * time.Second)
	if n := r.pullAck(10); n != 5 {
		t.Fatalf("pulled %d lines; want 5", n)
	}
	r.waitFor("M117 done")
	got := r.link.lines()
	want := []string{"M117 start", "job:G28", "job:G1 Z0.2 F600", "job:G1 X10 E1", "job:T1", "job:G1 Z0.4", "M117 done"}
	if !slices.Equal(got, want) {
		t.Errorf("sent %q; want %q", got, want)
	}
	st := r.c.Status(ctx)
	if st.State != "Operational" || *st.Progress.Completion != 100 || *st.Progress.PrintTime != 100 {
		t.Errorf("status = %+v %+v", st.State, st.Progress)
	}
	deadline := time.Now().Add(5 * time.Second)
	var evs []string
	for time.Now().Before(deadline) && !slices.Contains(evs, "PrintDone") {
		ev, err := zs.Next(ctx)
		if err != nil {
			break
		}
		evs = append(evs, ev.Name())
	}
	if strings.Join(evs, ",") != "ZChange,ZChange,ToolChange,ZChange,PrintDone" {
		t.Errorf("events %v", evs)
	}
	e, _ := r.fs.Get(ctx, "f.gcode")
	if e.Prints == nil || e.Prints.Success != 1 || e.Statistics.LastPrintTime["_default"] != 100 {
		t.Errorf("history = %+v %+v", e.Prints, e.Statistics)
	}
}

func TestPauseResumeCancelOrder(t *testing.T) {
	r := newRig(t, "G1 Z1\nG1 X1\nG1 X2\nG1 X3\nG1 X4\n")
	ctx := context.Background()
	r.c.Select(ctx, "f.gcode", "")
	r.c.Start(ctx, "bob")
	r.waitFor("M117 start")
	if n := r.pullAck(2); n != 2 {
		t.Fatalf("pulled %d", n)
	}
	// One line in flight, not yet acknowledged, when the pause comes.
	_, tag, ok := r.link.pull()
	if !ok {
		t.Fatal("no third line")
	}
	if err := r.c.Pause(ctx, "bob", "toggle"); err != nil {
		t.Fatal(err)
	}
	if f := r.c.Flags(); !f.Pausing {
		t.Errorf("flags %+v; want pausing while a line is in flight", f)
	}
	if _, _, ok := r.link.pull(); ok {
		t.Fatal("a line was fed while pausing")
	}
	r.c.Acked(tag)
	if f := r.c.Flags(); !f.Paused {
		t.Errorf("flags %+v; want paused", f)
	}
	r.waitFor("M117 paused 1.000")
	if err := r.c.Pause(ctx, "bob", "pause"); err != nil {
		t.Fatal(err) // pausing a paused print is a no-op
	}
	r.c.Pause(ctx, "bob", "resume")
	r.waitFor("M82")
	r.pullAck(1)
	r.c.Cancel(ctx, "bob")
	r.waitFor("M104 S0")
	got := r.link.lines()
	want := []string{"M117 start", "job:G1 Z1", "job:G1 X1", "job:G1 X2", "M117 paused 1.000", "M117 resume X2.000", "G90", "M82", "job:G1 X3", "M104 S0"}
	if !slices.Equal(got, want) {
		t.Errorf("sent %q\nwant %q", got, want)
	}
	if err := r.c.Cancel(ctx, "bob"); err == nil {
		t.Error("cancel of an idle printer succeeded")
	}
	e, _ := r.fs.Get(ctx, "f.gcode")
	deadline := time.Now().Add(5 * time.Second)
	for (e.Prints == nil || e.Prints.Failure != 1) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		e, _ = r.fs.Get(ctx, "f.gcode")
	}
	if e.Prints == nil || e.Prints.Failure != 1 || e.Prints.Last.Success {
		t.Errorf("history = %+v", e.Prints)
	}
}

func TestSelectRules(t *testing.T) {
	r := newRig(t, "G1 X1\n")
	ctx := context.Background()
	if err := r.c.Start(ctx, ""); err == nil {
		t.Error("start without a selection succeeded")
	}
	if err := r.c.Select(ctx, "missing.gcode", ""); err == nil {
		t.Error("selected a missing file")
	}
	r.link.mu.Lock()
	r.link.online = false
	r.link.mu.Unlock()
	if err := r.c.Select(ctx, "f.gcode", ""); err == nil {
		t.Error("selected while offline")
	}
	if st := r.c.Status(ctx); st.State != "Operational" || st.Job.File.Name != nil {
		t.Errorf("status = %+v", st)
	}
}

func TestEstimate(t *testing.T) {
	r := newRig(t, strings.Repeat("G1 X1\n", 100))
	ctx := context.Background()
	r.c.Select(ctx, "f.gcode", "")
	r.c.Start(ctx, "")
	r.waitFor("M117 start")
	r.advance(60 * time.Second)
	r.pullAck(50)
	st := r.c.Status(ctx)
	if *st.Progress.Completion != 50 || *st.Progress.PrintTimeLeftOrigin != "linear" || *st.Progress.PrintTimeLeft != 60 {
		t.Errorf("progress %+v left %v %v", *st.Progress.Completion, *st.Progress.PrintTimeLeft, *st.Progress.PrintTimeLeftOrigin)
	}
}

func TestRenderScripts(t *testing.T) {
	lines, err := job.Render("x", "G1 X{{.X}} ; park\n\n  M400  \n", job.ScriptContext{X: 1.5})
	if err != nil || !slices.Equal(lines, []string{"G1 X1.500", "M400"}) {
		t.Errorf("Render = %q, %v", lines, err)
	}
	if _, err := job.Render("x", "{{.Nope}}", job.ScriptContext{}); err == nil {
		t.Error("unknown field accepted")
	}
	if err := (job.Scripts{AfterPrintDone: "{{"}).Validate(); err == nil {
		t.Error("broken template validated")
	}
}

func TestConnectScriptAndDisconnectFailsPrint(t *testing.T) {
	r := newRig(t, "G1 X1\nG1 X2\nG1 X3\n")
	ctx := context.Background()
	r.bus.Publish(events.Connected{Port: "VIRTUAL", Baudrate: 115200})
	r.waitFor("M117 hello")
	r.c.Select(ctx, "f.gcode", "")
	r.c.Start(ctx, "")
	r.waitFor("M117 start")
	r.pullAck(1)
	r.bus.Publish(events.Disconnected{})
	deadline := time.Now().Add(5 * time.Second)
	for r.c.Flags().Printing && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	st := r.c.Status(ctx)
	if st.State != "Operational" || st.Error == "" {
		t.Errorf("after a disconnect: state %q error %q", st.State, st.Error)
	}
	e, _ := r.fs.Get(ctx, "f.gcode")
	for (e.Prints == nil || e.Prints.Failure != 1) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		e, _ = r.fs.Get(ctx, "f.gcode")
	}
	if e.Prints == nil || e.Prints.Failure != 1 {
		t.Errorf("history = %+v; want one failure", e.Prints)
	}
}

func TestSDPrintProgressAndPolling(t *testing.T) {
	r := newRig(t, "G1\n")
	ctx := context.Background()
	r.c.Message(protocol.SDListBegin{})
	r.c.Message(protocol.SDFile{Name: "CUBE.GCO", LongName: "cube.gcode", Size: 100})
	r.c.Message(protocol.SDListEnd{})
	if f := r.c.SDFiles(); len(f) != 1 || f[0].Display() != "cube.gcode" {
		t.Fatalf("SD files = %+v", f)
	}
	if err := r.c.SelectSD(ctx, "cube.gcode", ""); err != nil {
		t.Fatal(err)
	}
	if err := r.c.Start(ctx, "ann"); err != nil {
		t.Fatal(err)
	}
	r.waitFor("M27 S2")
	r.c.Message(protocol.SDProgress{Pos: 50, Size: 100})
	if st := r.c.Status(ctx); *st.Progress.Completion != 50 || *st.Job.File.Origin != "sdcard" {
		t.Errorf("progress %v origin %v", *st.Progress.Completion, *st.Job.File.Origin)
	}
	r.advance(10 * time.Second) // the firmware stays silent: the controller asks
	r.waitFor("M27")
	r.c.Message(protocol.SDDone{})
	st := r.c.Status(ctx)
	if st.State != "Operational" || *st.Progress.Completion != 100 {
		t.Errorf("after Done printing file: %q %v", st.State, *st.Progress.Completion)
	}
	got := r.link.lines()
	if i := slices.Index(got, "M23 CUBE.GCO"); i < 0 || got[i+1] != "M24" {
		t.Errorf("sent %q", got)
	}
}
