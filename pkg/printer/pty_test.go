package printer_test

// Scenarios over a real pseudo-terminal: the virtual printer serves one side,
// the Machine opens the other with go.bug.st/serial, as it opens a USB port.

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/protocol"
	"github.com/cuttleprint/cuttle/pkg/protocol/protocoltest"
	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

// corpusFile finds ps_vase_spiral.gcode (a dense slicer file) in
// $CUTTLE_GCODE_CORPUS or the first shared/gcode folder above the working
// directory, and skips the test without it.
func corpusFile(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("CUTTLE_GCODE_CORPUS")
	if dir == "" {
		wd, _ := os.Getwd()
		for d := wd; ; d = filepath.Dir(d) {
			if st, err := os.Stat(filepath.Join(d, "shared", "gcode")); err == nil && st.IsDir() {
				dir = filepath.Join(d, "shared", "gcode")
				break
			}
			if filepath.Dir(d) == d {
				tb.Skip("no shared/gcode corpus above the working directory; set CUTTLE_GCODE_CORPUS")
			}
		}
	}
	return filepath.Join(dir, "ps_vase_spiral.gcode")
}

// corpus returns the first n command lines of a dense slicer file.
func corpus(tb testing.TB, n int) []string {
	tb.Helper()
	f, err := os.Open(corpusFile(tb))
	if err != nil {
		tb.Skipf("corpus: %v", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(out) < n {
		l := sc.Text()
		if i := strings.IndexByte(l, ';'); i >= 0 {
			l = l[:i]
		}
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	if len(out) < n {
		for i := 0; len(out) < n; i++ {
			out = append(out, out[i])
		}
	}
	return out
}

type ptyRig struct {
	vp   *virtualprinter.Printer
	pty  *virtualprinter.PTY
	m    *printer.Machine
	path string
}

// newPtyRig serves vp on a pty and builds a Machine that lists its path.
func newPtyRig(tb testing.TB, vcfg virtualprinter.Config, mcfg printer.Config) *ptyRig {
	tb.Helper()
	vp := virtualprinter.New(vcfg)
	pt, err := virtualprinter.OpenPTY(context.Background(), vp, "")
	if err != nil {
		tb.Skipf("pty: %v", err)
	}
	tb.Cleanup(func() { pt.Close() })
	mcfg.Lister.Globs = []string{}
	mcfg.Lister.Explicit = []string{pt.Path()}
	if mcfg.TerminalSize == 0 {
		mcfg.TerminalSize = 100000
	}
	m := printer.New(mcfg)
	tb.Cleanup(func() { m.Close() })
	return &ptyRig{vp: vp, pty: pt, m: m, path: pt.Path()}
}

func (r *ptyRig) connect(tb testing.TB) {
	tb.Helper()
	if err := r.m.Connect(context.Background(), r.path, 115200); err != nil {
		tb.Fatal(err)
	}
	r.await(tb, "operational", func() bool { return r.m.Snapshot().State == printer.StateOperational })
}

// await polls cond (every millisecond, for up to 20 s: a safety net, never a
// timing assertion).
func (r *ptyRig) await(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("waiting for %s: state %q, stats %+v", what, r.m.Snapshot().StateText, r.m.Snapshot().Stats)
		}
		time.Sleep(time.Millisecond)
	}
}

// sentSequence rebuilds, from the terminal, the commands in the order of
// their line numbers: what the host sent, each once, whatever was resent.
func sentSequence(m *printer.Machine) []string {
	lines, _ := m.Terminal(0)
	byN := map[int]string{}
	maxN := -1
	for _, l := range lines {
		f, ok := strings.CutPrefix(l, "Send: ")
		if !ok {
			continue
		}
		n, cmd, err := protocol.Unframe(f)
		if err != nil {
			byN[-1] = f // unnumbered (emergency) lines are not expected here
			continue
		}
		byN[n] = cmd
		maxN = max(maxN, n)
	}
	var out []string
	for n := 0; n <= maxN; n++ {
		out = append(out, byN[n])
	}
	if u, ok := byN[-1]; ok {
		out = append(out, "unnumbered: "+u)
	}
	return out
}

// stream feeds lines through Machine.Stream and waits until all are
// acknowledged, each once: a job counts acknowledgements to know it is done.
func stream(tb testing.TB, r *ptyRig, lines []string) time.Duration {
	tb.Helper()
	src := &listSource{lines: lines}
	var mu sync.Mutex
	acked := 0
	seen := make(map[any]bool, len(lines))
	done := make(chan struct{})
	start := time.Now()
	if err := r.m.Stream(src, func(c printer.Command) {
		mu.Lock()
		if seen[c.Tag] {
			tb.Errorf("line %v (%q) acknowledged twice", c.Tag, c.Text)
		}
		seen[c.Tag] = true
		acked++
		if acked == len(lines) {
			close(done)
		}
		mu.Unlock()
	}); err != nil {
		tb.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(streamWait):
		mu.Lock()
		defer mu.Unlock()
		logTail(tb, r.m, 30)
		tb.Fatalf("acked %d of %d; state %q stats %+v", acked, len(lines), r.m.Snapshot().StateText, r.m.Snapshot().Stats)
	}
	return time.Since(start)
}

// logTail logs the last n lines of the terminal, without temperature reports.
func logTail(tb testing.TB, m *printer.Machine, n int) {
	tb.Helper()
	term, _ := m.Terminal(0)
	term = slices.DeleteFunc(term, func(l string) bool { return strings.HasPrefix(l, "Recv:  T:") })
	for _, l := range term[max(0, len(term)-n):] {
		tb.Log(l)
	}
}

func TestPty_NormalSession(t *testing.T) {
	r := newPtyRig(t, virtualprinter.Config{TimeScale: 20}, printer.Config{})
	r.connect(t)
	r.await(t, "firmware info", func() bool { return strings.HasPrefix(r.m.Snapshot().Firmware.Name, "Marlin") })
	r.await(t, "temperatures", func() bool { return r.m.Snapshot().Temps["tool0"].Actual > 0 })
	if err := r.m.SetToolTargets(context.Background(), map[string]float64{"tool0": 200}); err != nil {
		t.Fatal(err)
	}
	r.await(t, "heating", func() bool { return r.m.Snapshot().Temps["tool0"].Actual > 40 })
	if err := r.m.Home(context.Background(), []string{"x", "y", "z"}); err != nil {
		t.Fatal(err)
	}
	r.m.Send(context.Background(), "M114")
	r.await(t, "position", func() bool { return r.m.Snapshot().Position != nil && slices.Contains(r.vp.Executed(), "M114") })
	if got, want := r.vp.Executed(), sentSequence(r.m); !slices.Equal(got, want) {
		t.Errorf("executed %q\nsent     %q", got, want)
	}
	r.m.Disconnect()
	if s := r.m.Snapshot(); s.StateText != "Offline" {
		t.Errorf("after disconnect: %q", s.StateText)
	}
}

// Ensure that with 1 % of the bytes corrupted, resends recover and the
// firmware executes exactly what the host sent: no loss, no duplicate, same order.
func TestPty_CorruptedBytes(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 2000
	}
	for _, advanced := range []bool{false, true} {
		t.Run(fmt.Sprintf("advanced=%v", advanced), func(t *testing.T) {
			r := newPtyRig(t, virtualprinter.Config{TimeScale: 100, AdvancedOK: advanced, Seed: 7,
				Faults: virtualprinter.Faults{CorruptRate: 0.01}},
				printer.Config{Protocol: protocol.Options{Timeout: 300 * time.Millisecond, MaxTimeouts: 50}})
			r.connect(t)
			lines := n
			if advanced {
				lines = 3000 // slower: each resend waits for the stale lines to drain
			}
			stream(t, r, corpus(t, lines))
			// Every line is acknowledged, but a poke the host sent after a
			// timeout may still be on its way: wait until the firmware has
			// run what was sent. Nothing else follows the stream, so a line
			// the firmware lost is asked for again only if the host keeps
			// probing after a timeout.
			deadline := time.Now().Add(20 * time.Second)
			got, want := r.vp.Executed(), sentSequence(r.m)
			for !slices.Equal(got, want) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
				got, want = r.vp.Executed(), sentSequence(r.m)
			}
			if !slices.Equal(got, want) {
				logTail(t, r.m, 40)
				for i := range min(len(got), len(want)) {
					if got[i] != want[i] {
						t.Fatalf("executed[%d] = %q; sent %q (executed %d, sent %d)", i, got[i], want[i], len(got), len(want))
					}
				}
				t.Fatalf("executed %d commands; sent %d", len(got), len(want))
			}
			st := r.m.Snapshot().Stats
			if st.Resends == 0 {
				t.Errorf("no resends at 1 %% corruption: %+v", st)
			}
			t.Logf("%d lines, stats %+v", lines, st)
		})
	}
}

// Ensure that a lost ok is recovered by the timeout: the host pokes with M105
// and carries on.
func TestPty_DroppedOk(t *testing.T) {
	clock := protocoltest.NewClock()
	r := newPtyRig(t, virtualprinter.Config{TimeScale: 1e3}, printer.Config{Clock: clock,
		Protocol: protocol.Options{Timeout: 5 * time.Second}})
	r.connect(t)
	// Wait until every handshake line (M110, M115, M155) has its ok, or
	// DropNextOK could drop one of those. Count oks rather than look for one
	// after M155's Send: the writer may log that Send before the reader logs
	// the previous line's ok.
	r.await(t, "handshake acknowledged", func() bool {
		term, _ := r.m.Terminal(0)
		sent, oks := 0, 0
		for _, l := range term {
			if strings.HasPrefix(l, "Send: ") {
				sent++
			} else if strings.HasPrefix(l, "Recv: ok") {
				oks++
			}
		}
		return sent > 0 && slices.ContainsFunc(term, func(l string) bool { return strings.Contains(l, "M155 S2") }) && oks >= sent
	})
	r.vp.DropNextOK()
	ctx := context.Background()
	r.m.Send(ctx, "G1 X10 F3000", "G1 X20 F3000")
	r.await(t, "first move executed", func() bool { return slices.Contains(r.vp.Executed(), "G1 X10 F3000") })
	if slices.Contains(r.vp.Executed(), "G1 X20 F3000") {
		t.Fatal("second move sent before the first was acknowledged")
	}
	clock.Advance(5 * time.Second) // the timeout: release the line, poke with M105
	r.await(t, "second move after the timeout", func() bool { return slices.Contains(r.vp.Executed(), "G1 X20 F3000") })
	if st := r.m.Snapshot(); st.Stats.Timeouts != 1 || st.State != printer.StateOperational {
		t.Errorf("after recovery: %q %+v", st.StateText, st.Stats)
	}
	ex := r.vp.Executed()
	if i := slices.Index(ex, "G1 X10 F3000"); i < 0 || ex[i+1] != "M105" || ex[i+2] != "G1 X20 F3000" {
		t.Errorf("executed %q; want the M105 poke between the moves", ex)
	}
}

// Ensure that a firmware reset mid-job stops the stream: error state, and
// nothing more is sent after the firmware's "start".
func TestPty_FirmwareReset(t *testing.T) {
	r := newPtyRig(t, virtualprinter.Config{Baud: 115200, TimeScale: 100}, printer.Config{})
	r.connect(t)
	lines := corpus(t, 3000)
	src := &listSource{lines: lines}
	if err := r.m.Stream(src, func(printer.Command) {}); err != nil {
		t.Fatal(err)
	}
	r.await(t, "streaming", func() bool { return len(r.vp.Executed()) > 200 })
	r.vp.Reset()
	r.await(t, "error state", func() bool { return r.m.Snapshot().State == printer.StateError })
	s := r.m.Snapshot()
	if !strings.Contains(s.StateText, "restarted") || s.Error.Reason != "firmware" {
		t.Errorf("state %q error %+v", s.StateText, s.Error)
	}
	term, _ := r.m.Terminal(0)
	i := -1 // the last start: the first one is the banner at connection
	for j, l := range term {
		if l == "Recv: start" {
			i = j
		}
	}
	if i < 0 {
		t.Fatalf("no start in the terminal")
	}
	for _, l := range term[i:] {
		if strings.HasPrefix(l, "Send: ") {
			t.Errorf("sent after the reset: %q", l)
		}
	}
	if src.i == len(lines) {
		t.Error("the whole job was taken despite the reset")
	}
}

// Ensure that the link dropping (USB cable pulled) ends in "Offline after error".
func TestPty_Disconnect(t *testing.T) {
	r := newPtyRig(t, virtualprinter.Config{TimeScale: 1e3}, printer.Config{})
	r.connect(t)
	r.vp.Disconnect()
	r.await(t, "offline after error", func() bool { return r.m.Snapshot().State == printer.StateOfflineAfterError })
	s := r.m.Snapshot()
	if s.StateText != "Offline after error" || !s.Flags.Error || !s.Flags.ClosedOrError || s.Error.Reason != "connection" {
		t.Errorf("after disconnect: %q %+v %+v", s.StateText, s.Flags, s.Error)
	}
}

// Ensure that M112 goes out ahead of a full queue: the firmware halts before
// it has run the queued commands.
func TestPty_EmergencyAheadOfQueue(t *testing.T) {
	r := newPtyRig(t, virtualprinter.Config{Baud: 115200, TimeScale: 1}, printer.Config{})
	r.connect(t)
	ctx := context.Background()
	var queued []string
	for i := 0; i < 200; i++ {
		queued = append(queued, fmt.Sprintf("G4 P%d", 50+i))
	}
	if err := r.m.Send(ctx, queued...); err != nil {
		t.Fatal(err)
	}
	r.await(t, "first dwell", func() bool { return slices.Contains(r.vp.Executed(), "G4 P50") })
	if err := r.m.Send(ctx, "M112"); err != nil {
		t.Fatal(err)
	}
	r.await(t, "halt", func() bool { return r.m.Snapshot().State == printer.StateError })
	ex := r.vp.Executed()
	ran := 0
	for _, c := range ex {
		if strings.HasPrefix(c, "G4 ") {
			ran++
		}
	}
	if !slices.Contains(ex, "M112") || ran > 5 {
		t.Errorf("firmware ran %d of 200 queued dwells before M112 (executed %q)", ran, ex)
	}
	if s := r.m.Snapshot(); !strings.Contains(s.Error.Error, "halted") {
		t.Errorf("error after M112: %+v", s.Error)
	}
}

// Ensure that "busy: processing" keep-alives hold off the timeout during a
// command that runs longer than it.
func TestPty_BusyKeepsAlive(t *testing.T) {
	r := newPtyRig(t, virtualprinter.Config{TimeScale: 1}, printer.Config{
		Protocol: protocol.Options{Timeout: 3 * time.Second}})
	r.connect(t)
	ctx := context.Background()
	r.m.Send(ctx, "G4 S5", "M400")
	r.await(t, "dwell done", func() bool { return slices.Contains(r.vp.Executed(), "M400") })
	r.m.Send(ctx, "M105")
	r.await(t, "M105", func() bool { return slices.Contains(r.vp.Executed(), "M105") })
	if st := r.m.Snapshot().Stats; st.Timeouts != 0 {
		t.Errorf("timeouts during a 5 s dwell with keep-alives: %+v", st)
	}
	term, _ := r.m.Terminal(0)
	if !slices.ContainsFunc(term, func(l string) bool { return strings.Contains(l, "busy: processing") }) {
		t.Error("no busy keep-alive seen")
	}
}

var streamWait = 120 * time.Second
