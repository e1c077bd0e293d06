package virtualprinter_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

// Ensure that a dropped ok leaves the command executed and the link answering.
func TestDropNextOK(t *testing.T) {
	h := startHost(t, virtualprinter.Config{})
	h.p.DropNextOK()
	h.send("G92 X1\n")
	h.silent(200 * time.Millisecond)
	if got := h.roundTrip("M105"); !strings.HasPrefix(got[0], "ok T:") {
		t.Errorf("M105 after a dropped ok -> %q", got)
	}
	if ex := h.p.Executed(); !slices.Equal(ex, []string{"G92 X1", "M105"}) {
		t.Errorf("Executed() = %q; want [G92 X1 M105]", ex)
	}
}

// Ensure that a spurious resend rejects an intact line, which is executed once resent.
func TestSpuriousResend(t *testing.T) {
	h := startHost(t, virtualprinter.Config{})
	h.p.SpuriousResend()
	want := []string{"Error:checksum mismatch, Last Line: 0", "Resend: 1", "ok"}
	if got := h.roundTrip(numbered(1, "G92 X1")); !slices.Equal(got, want) {
		t.Errorf("first send -> %q; want %q", got, want)
	}
	if got := h.roundTrip(numbered(1, "G92 X1")); !slices.Equal(got, []string{"ok"}) {
		t.Errorf("resend -> %q; want [ok]", got)
	}
	if ex := h.p.Executed(); !slices.Equal(ex, []string{"G92 X1"}) {
		t.Errorf("Executed() = %q; want [G92 X1]", ex)
	}
}

// Ensure that a firmware reset prints the banner again and forgets the line number.
func TestReset(t *testing.T) {
	h := startHost(t, virtualprinter.Config{})
	h.roundTrip(numbered(1, "M104 S200"))
	h.roundTrip(numbered(2, "G92 X0"))
	h.p.Reset()
	if got := h.until("echo:SD card ok"); got[0] != "start" {
		t.Errorf("after Reset got %q; want the banner", got)
	}
	if got := h.roundTrip(numbered(3, "G92 X0")); got[0] != "Error:Line Number is not Last Line Number+1, Last Line: 0" {
		t.Errorf("N3 after reset -> %q; want a line number error", got)
	}
	got := h.roundTrip(numbered(1, "M105"))
	if !strings.Contains(got[0], " /0.00 B:") {
		t.Errorf("M105 after reset -> %q; want target 0", got)
	}
}

// Ensure that Disconnect closes the link and ends Serve with ErrDisconnected.
func TestDisconnect(t *testing.T) {
	h := startHost(t, virtualprinter.Config{})
	h.p.Disconnect()
	for l := range h.lines {
		t.Errorf("got %q after Disconnect; want the link closed", l)
	}
	if err := h.stop(); !errors.Is(err, virtualprinter.ErrDisconnected) {
		t.Errorf("Serve() = %v; want ErrDisconnected", err)
	}
}

// Ensure that a thermal runaway reports, halts and silences the firmware.
func TestThermalRunaway(t *testing.T) {
	h := startHost(t, virtualprinter.Config{})
	h.roundTrip("M104 S200")
	h.p.ThermalRunaway()
	for _, w := range []string{"Error:Thermal Runaway, system stopped! Heater_ID: 0", "Error:Printer halted. kill() called!", "//action:poweroff"} {
		if got := h.next(); got != w {
			t.Fatalf("got %q; want %q", got, w)
		}
	}
	h.send("M105\n")
	h.silent(200 * time.Millisecond)
}

// Ensure that SendAction emits a host action command.
func TestSendAction(t *testing.T) {
	h := startHost(t, virtualprinter.Config{})
	h.p.SendAction("pause")
	if got := h.next(); got != "//action:pause" {
		t.Errorf("got %q; want //action:pause", got)
	}
}

// Ensure that cancelling the context stops Serve.
func TestServeStopsOnCancel(t *testing.T) {
	p := virtualprinter.New(virtualprinter.Config{})
	a, b := net.Pipe()
	defer a.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, b) }()
	r := bufio.NewReader(a)
	if l, err := r.ReadString('\n'); l != "start\n" || err != nil {
		t.Fatalf("first line = %q, %v; want start", l, err)
	}
	// The host stops reading: the firmware's writes block until the cancel.
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Serve() = %v; want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not stop after cancel")
	}
}

// Ensure that with 1 % of bytes corrupted a host that follows Resend requests gets every
// line executed exactly once, in order.
func TestCorruptionRecovers(t *testing.T) {
	lines := 2000
	if testing.Short() {
		lines = 300
	}
	h := startHost(t, virtualprinter.Config{TimeScale: 1e6, Faults: virtualprinter.Faults{CorruptRate: 0.01}, Seed: 7})
	var sent []string
	for i := 1; i <= lines; i++ {
		sent = append(sent, fmt.Sprintf("G1 X%d.%d Y%d E%d.5 F%d", i%200, i%10, (i*7)%200, i, 1200+i%600))
	}
	errs, timeouts := 0, 0
	for n := 1; n <= lines; {
		h.sendN(n, sent[n-1])
		next := n + 1
		for {
			// A line split in two by a corrupted byte draws two errors, each with an ok:
			// the host gets ahead, and a line it sent early may be flushed with the
			// receive buffer and never answered. Like a real host, it then times out
			// and sends the line again.
			l, ok := h.nextWithin(300 * time.Millisecond)
			if !ok {
				next = n
				timeouts++
				break
			}
			if after, ok := strings.CutPrefix(l, "Resend: "); ok {
				k, err := strconv.Atoi(after)
				if err != nil {
					t.Fatalf("bad resend line %q", l)
				}
				next = k
				errs++
			}
			if l == "ok" {
				break
			}
		}
		n = next
	}
	if errs == 0 {
		t.Errorf("no resend in %d lines at 1%% corruption", lines)
	}
	if ex := h.p.Executed(); !slices.Equal(ex, sent) {
		t.Errorf("Executed() differs from the sent lines: %d executed, %d sent", len(ex), len(sent))
	}
	t.Logf("%d lines, %d resend requests, %d timeouts", lines, errs, timeouts)
}

// Ensure that a second Serve takes the printer over from the first, which returns
// ErrReplaced, and boots afresh.
func TestServeReplaces(t *testing.T) {
	p := virtualprinter.New(virtualprinter.Config{})
	h1 := connect(t, p)
	h1.until("echo:SD card ok")
	h1.roundTrip(numbered(1, "G92 X0"))
	h2 := connect(t, p)
	if err := <-h1.done; !errors.Is(err, virtualprinter.ErrReplaced) {
		t.Errorf("first Serve() = %v; want ErrReplaced", err)
	}
	h1.done <- nil // for h1's cleanup
	h2.until("echo:SD card ok")
	if got := h2.roundTrip(numbered(1, "G92 X0")); !slices.Equal(got, []string{"ok"}) {
		t.Errorf("N1 on the new link -> %q; want [ok] (line numbers reset)", got)
	}
}

// Ensure that the executed log keeps only the most recent ExecutedLimit commands.
func TestExecutedLimit(t *testing.T) {
	h := startHost(t, virtualprinter.Config{ExecutedLimit: 8})
	for i := range 20 {
		h.roundTrip(fmt.Sprintf("G92 X%d", i))
	}
	ex := h.p.Executed()
	if len(ex) > 8 || len(ex) < 6 || ex[len(ex)-1] != "G92 X19" {
		t.Errorf("Executed() = %q; want the last 6..8 commands ending in G92 X19", ex)
	}
	for i := 1; i < len(ex); i++ {
		var a, b int
		fmt.Sscanf(ex[i-1], "G92 X%d", &a)
		fmt.Sscanf(ex[i], "G92 X%d", &b)
		if b != a+1 {
			t.Errorf("Executed() = %q; want consecutive commands", ex)
			break
		}
	}
}
