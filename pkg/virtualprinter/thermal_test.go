package virtualprinter_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

// parseTemps reads the hotend and bed actual and target from a Marlin temperature line.
func parseTemps(t *testing.T, line string) (tool, toolTarget, bed, bedTarget float64) {
	t.Helper()
	i := strings.Index(line, "T:")
	if i < 0 {
		t.Fatalf("no temperatures in %q", line)
	}
	if _, err := fmt.Sscanf(line[i:], "T:%f /%f B:%f /%f", &tool, &toolTarget, &bed, &bedTarget); err != nil {
		t.Fatalf("parse %q: %v", line, err)
	}
	return
}

// Ensure that M109 waits until the hotend has settled at its target, printing the
// temperatures every second with the residency countdown, and that M190 does the same for
// the bed.
func TestHeatAndWait(t *testing.T) {
	h := startHost(t, virtualprinter.Config{TimeScale: 200})
	for _, tc := range []struct {
		cmd    string
		target float64
		bed    bool
	}{{"M109 S200", 200, false}, {"M190 S60", 60, true}} {
		got := h.roundTrip(tc.cmd)
		temps, prev := 0, 0.0
		for _, l := range got[:len(got)-1] {
			if l == "echo:busy: processing" {
				continue
			}
			if !strings.HasPrefix(l, " T:") || !strings.Contains(l, " W:") {
				t.Fatalf("%s printed %q; want temperature lines with W:", tc.cmd, l)
			}
			tool, _, bed, _ := parseTemps(t, l)
			cur := tool
			if tc.bed {
				cur = bed
			}
			if cur+0.5 < prev {
				t.Errorf("%s: temperature fell from %.2f to %.2f while heating", tc.cmd, prev, cur)
			}
			prev = cur
			temps++
		}
		if temps < 20 {
			t.Errorf("%s printed %d temperature lines; want one a second while heating", tc.cmd, temps)
		}
		tool, toolTarget, bed, bedTarget := parseTemps(t, h.roundTrip("M105")[0])
		cur, target := tool, toolTarget
		if tc.bed {
			cur, target = bed, bedTarget
		}
		if target != tc.target || cur < tc.target-1 || cur > tc.target+1 {
			t.Errorf("after %s: %.2f /%.2f; want within 1 °C of %.0f", tc.cmd, cur, target, tc.target)
		}
	}
	// Cooling: M104 S0 lets the hotend fall towards ambient.
	h.roundTrip("M104 S0")
	time.Sleep(100 * time.Millisecond) // 20 s simulated
	tool, target, _, _ := parseTemps(t, h.roundTrip("M105")[0])
	if target != 0 || tool > 150 {
		t.Errorf("20 s after M104 S0: %.2f /%.2f; want cooling", tool, target)
	}
}

// Ensure that M109 S does not wait for cooling, M109 R does, and M108 cancels a wait.
func TestHeatWaitVariants(t *testing.T) {
	h := startHost(t, virtualprinter.Config{TimeScale: 200})
	h.roundTrip("M109 S100")
	if got := h.roundTrip("M109 S50"); len(got) != 1 {
		t.Errorf("M109 S50 while hotter -> %q; want an immediate ok", got)
	}
	got := h.roundTrip("M109 R50")
	tool, _, _, _ := parseTemps(t, h.roundTrip("M105")[0])
	if len(got) < 2 || tool > 51 {
		t.Errorf("M109 R50 -> %d lines, then %.2f °C; want a wait down to 50", len(got), tool)
	}
	h.send("M190 S110\n")
	h.until(" T:")
	h.send("M108\n")
	got = h.until("ok") // M190's
	h.until("ok")       // M108 goes through the buffer too, as a no-op
	_, _, bed, _ := parseTemps(t, h.roundTrip("M105")[0])
	if bed > 100 {
		t.Errorf("M108 did not cancel M190: bed at %.2f (%d lines)", bed, len(got))
	}
}

// Ensure that M155 auto-reports temperatures at its interval until switched off.
func TestAutoReportTemp(t *testing.T) {
	h := startHost(t, virtualprinter.Config{TimeScale: 20})
	h.roundTrip("M155 S1")
	for range 3 {
		if l := h.next(); !strings.HasPrefix(l, " T:25.00 /0.00 B:25.00 /0.00 @:0 B@:0") {
			t.Fatalf("auto-report -> %q", l)
		}
	}
	h.send("M155 S0\n")
	h.until("ok")
	h.silent(200 * time.Millisecond) // four intervals
}

// Ensure that at a huge TimeScale the heaters settle exactly on their targets (the model
// is solved exactly, not stepped, so long jumps neither oscillate nor cost time).
func TestThermalSettlesAtHugeTimeScale(t *testing.T) {
	h := startHost(t, virtualprinter.Config{TimeScale: 1e6})
	h.roundTrip("M104 S210")
	h.roundTrip("M140 S60")
	time.Sleep(5 * time.Millisecond) // 5000 s simulated: long settled
	tool, _, bed, _ := parseTemps(t, h.roundTrip("M105")[0])
	if tool < 209.99 || tool > 210.01 || bed < 59.99 || bed > 60.01 {
		t.Errorf("settled at T:%.3f B:%.3f; want 210 and 60", tool, bed)
	}
}
