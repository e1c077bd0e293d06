package virtualprinter_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

// Ensure that line numbers and checksums are checked as Marlin does: an error naming the
// last good line, a Resend for the next, and a bare ok for the rejected line.
func TestLineChecks(t *testing.T) {
	h := startHost(t, virtualprinter.Config{AdvancedOK: true})
	steps := []struct {
		send string
		want []string
	}{
		{numbered(1, "M110 N0"), []string{"ok N1 P15 B3"}},
		{numbered(1, "G92 X0"), []string{"ok N1 P15 B3"}},
		{"N2 G92 X0*99", []string{"Error:checksum mismatch, Last Line: 1", "Resend: 2", "ok"}},
		{numbered(3, "G92 X0"), []string{"Error:Line Number is not Last Line Number+1, Last Line: 1", "Resend: 2", "ok"}},
		{"N2 G92 X0", []string{"Error:No Checksum with line number, Last Line: 1", "Resend: 2", "ok"}},
		{"G92 X0*5", []string{"Error:No Line Number with checksum, Last Line: 1", "Resend: 2", "ok"}},
		{numbered(1, "G92 X0"), []string{"Error:Line Number is not Last Line Number+1, Last Line: 1", "Resend: 2", "ok"}},
		{numbered(2, "G92 X0"), []string{"ok N2 P15 B3"}},
		{"G92 X0", []string{"ok P15 B3"}},
		{numbered(3, "M110 N100"), []string{"ok N3 P15 B3"}},
		{numbered(101, "M105"), []string{"ok T:25.00 /0.00 B:25.00 /0.00 @:0 B@:0"}},
	}
	for _, st := range steps {
		if got := h.roundTrip(st.send); !slices.Equal(got, st.want) {
			t.Errorf("%q -> %q; want %q", st.send, got, st.want)
		}
	}
	want := []string{"M110 N0", "G92 X0", "G92 X0", "G92 X0", "M110 N100", "M105"}
	if got := h.p.Executed(); !slices.Equal(got, want) {
		t.Errorf("Executed() = %q; want %q", got, want)
	}
}

// Ensure that under ADVANCED_OK an ok comes once a move is in the planner, the planner
// fills to Planner-1 blocks, and a command waiting for a slot sends busy keepalives.
func TestPlannerFillsAndBusy(t *testing.T) {
	// Each move is 200 mm at 1 mm/s: 200 s simulated, 2 s real at TimeScale 100.
	h := startHost(t, virtualprinter.Config{AdvancedOK: true, TimeScale: 100})
	for i := 1; i <= 15; i++ {
		x := 200 * (i % 2)
		if got, want := h.roundTrip(numbered(i, fmt.Sprintf("G1 X%d F60", x))), fmt.Sprintf("ok N%d P%d B3", i, 15-i); len(got) != 1 || got[0] != want {
			t.Fatalf("move %d -> %q; want [%s]", i, got, want)
		}
	}
	h.sendN(16, "G1 X0 F60") // waits for a planner slot
	for i := 0; i < 2; i++ {
		if got := h.next(); got != "echo:busy: processing" {
			t.Fatalf("while the planner is full got %q; want echo:busy: processing", got)
		}
	}
	h.send("M410\n") // quick stop frees the planner at once
	got := h.until("ok")
	if last := got[len(got)-1]; last != "ok N16 P14 B3" {
		t.Errorf("after M410 the waiting move -> %q; want ok N16 P14 B3", got)
	}
}

// Ensure that bytes arriving while the receive buffer is full are lost, and that the
// damaged line draws a Resend, after which the host's resends are executed exactly once.
func TestRxOverrunDrawsResend(t *testing.T) {
	h := startHost(t, virtualprinter.Config{TimeScale: 100})
	h.sendN(1, "M0") // waits for the user: commands are not read meanwhile
	h.until("//action:prompt_show")
	var burst strings.Builder
	var sent []string
	for i := 2; i <= 20; i++ {
		cmd := fmt.Sprintf("G1 X%d", i)
		sent = append(sent, cmd)
		burst.WriteString(numbered(i, cmd) + "\n")
	}
	h.send(burst.String()) // about 300 bytes into a 128-byte buffer
	// The write returns once the UART goroutine has read the bytes; it stores them just
	// after.
	for deadline := time.Now().Add(5 * time.Second); h.p.Overruns() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if h.p.Overruns() == 0 {
		t.Fatalf("Overruns() = 0 after %d bytes into a full buffer", burst.Len())
	}
	h.send("M108\n") // dropped from the full buffer, but the emergency parser sees it
	h.until("ok")    // M0's ok
	// The whole lines that fitted are executed; the cut-off one waits for its newline.
	next := 2
	for {
		got := h.next()
		if got != "ok" {
			t.Fatalf("after M108 got %q; want oks for the buffered lines", got)
		}
		next++
		ex := h.p.Executed()
		if len(ex) == next-1 && h.p.Overruns() > 0 {
			if _, ok := lastLineComplete(burst.String(), next); !ok {
				break
			}
		}
	}
	// Resend from the first line the firmware lacks, as a host would after the error.
	h.sendN(next, sent[next-2])
	got := h.until("ok")
	if !slices.Contains(got, fmt.Sprintf("Resend: %d", next)) {
		t.Fatalf("line after the overrun -> %q; want Resend: %d", got, next)
	}
	for i := next; i <= 20; i++ {
		if got := h.roundTrip(numbered(i, sent[i-2])); !slices.Equal(got, []string{"ok"}) {
			t.Fatalf("resent N%d -> %q; want [ok]", i, got)
		}
	}
	want := append([]string{"M0"}, sent...)
	if ex := h.p.Executed(); !slices.Equal(ex, want) {
		t.Errorf("Executed() = %q; want %q", ex, want)
	}
}

// lastLineComplete reports whether line n of the burst lies entirely within the first
// 127 bytes (the receive buffer).
func lastLineComplete(burst string, n int) (int, bool) {
	end := 0
	for i := 2; i <= n; i++ {
		j := strings.IndexByte(burst[end:], '\n')
		end += j + 1
	}
	return end, end <= virtualprinter.DefaultRxBuffer-1
}

// Ensure that a long command sends busy keepalives every 2 s (simulated) and then its ok.
func TestBusyKeepalive(t *testing.T) {
	h := startHost(t, virtualprinter.Config{TimeScale: 50})
	got := h.roundTrip("G4 S11")
	busy := 0
	for _, l := range got[:len(got)-1] {
		if l != "echo:busy: processing" {
			t.Fatalf("G4 S11 -> %q; want only busy lines before ok", got)
		}
		busy++
	}
	if busy < 4 || busy > 6 {
		t.Errorf("G4 S11 sent %d busy lines; want about 5 (one per 2 s)", busy)
	}
	if got := h.roundTrip("M113 S0"); !slices.Equal(got, []string{"ok"}) {
		t.Fatalf("M113 S0 -> %q", got)
	}
	if got := h.roundTrip("G4 S5"); !slices.Equal(got, []string{"ok"}) {
		t.Errorf("G4 S5 with keepalive off -> %q; want [ok]", got)
	}
}

// Ensure that G28 reports busy, then the homed position, then ok.
func TestHome(t *testing.T) {
	h := startHost(t, virtualprinter.Config{AdvancedOK: true, TimeScale: 50})
	h.roundTrip("G1 X50 Y60 Z10 F6000")
	got := h.roundTrip("G28")
	n := len(got)
	if n < 3 || got[0] != "echo:busy: processing" || got[n-2] != "X:0.00 Y:0.00 Z:0.00 E:0.00 Count X:0 Y:0 Z:0" || got[n-1] != "ok P15 B3" {
		t.Errorf("G28 -> %q; want busy lines, the position and ok P15 B3", got)
	}
}

// Ensure that M112 acts at once even behind a blocked command, halts the firmware and
// leaves it silent until the link is served again.
func TestM112HaltsAndSilences(t *testing.T) {
	p := virtualprinter.New(virtualprinter.Config{TimeScale: 10})
	h := connect(t, p)
	h.until("echo:SD card ok")
	h.sendN(1, "G4 S1000") // blocks the firmware
	h.sendN(2, "M105")
	h.sendN(3, "M105")
	h.until("echo:busy: processing")
	h.send(numbered(4, "M112") + "\n")
	want := []string{"echo:M112 Shutdown", "Error:Printer halted. kill() called!", "//action:poweroff"}
	for _, w := range want {
		if got := h.next(); got != w {
			if got == "echo:busy: processing" {
				got = h.next()
			}
			if got != w {
				t.Fatalf("after M112 got %q; want %q", got, w)
			}
		}
	}
	h.send("M105\nM115\n")
	h.silent(300 * time.Millisecond)
	if ex := p.Executed(); !slices.Equal(ex, []string{"G4 S1000", "M112"}) {
		t.Errorf("Executed() = %q; want [G4 S1000 M112]", ex)
	}
	// Reopening the port resets the board.
	if err := h.stop(); err != nil {
		t.Fatalf("Serve() after closing the port = %v; want nil", err)
	}
	h2 := connect(t, p)
	h2.until("echo:SD card ok")
	if got := h2.roundTrip(numbered(1, "M105")); !strings.HasPrefix(got[0], "ok T:") {
		t.Errorf("after reopening, N1 M105 -> %q; want ok T:...", got)
	}
}

// Ensure that ADVANCED_OK reports the free command buffer slots while lines queue up.
func TestAdvancedOKBufferSlots(t *testing.T) {
	h := startHost(t, virtualprinter.Config{AdvancedOK: true, TimeScale: 10})
	// One write, so that all four lines are in the buffer before the first executes; G4
	// lasts 1 s real.
	h.send(numbered(1, "G4 S10") + "\n" + numbered(2, "G92 X0") + "\n" + numbered(3, "G92 X0") + "\n" + numbered(4, "G92 X0") + "\n")
	var oks []string
	for len(oks) < 4 {
		if l := h.next(); strings.HasPrefix(l, "ok") {
			oks = append(oks, l)
		}
	}
	want := []string{"ok N1 P15 B0", "ok N2 P15 B1", "ok N3 P15 B2", "ok N4 P15 B3"}
	if !slices.Equal(oks, want) {
		t.Errorf("oks = %q; want %q", oks, want)
	}
}

// Ensure that an arc takes one planner block per millimetre (up to the free slots) and
// lasts as long as its length at the feedrate.
func TestArcSegments(t *testing.T) {
	h := startHost(t, virtualprinter.Config{AdvancedOK: true, TimeScale: 1})
	// A quarter circle of radius 5 mm around the origin (7.85 mm): 8 segments, slow
	// enough to stay queued.
	h.roundTrip("G92 X5 Y0")
	if got := h.roundTrip("G3 X0 Y5 I-5 J0 F60"); len(got) != 1 || got[0] != "ok P7 B3" {
		t.Errorf("G3 quarter circle -> %q; want ok P7 B3 (8 blocks planned)", got)
	}
}
