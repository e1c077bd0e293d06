package virtualprinter_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

// Ensure that the emulated link is never faster than Baud/10 bytes per second in either
// direction, and that Latency is spent on each command. Only lower bounds are checked:
// a loaded machine may be slower, never faster.
func TestLinkRateAndLatency(t *testing.T) {
	const baud = 57600 // 5760 bytes/s
	h := startHost(t, virtualprinter.Config{Baud: baud, Latency: 5 * time.Millisecond})

	start := time.Now()
	got := h.roundTrip("M115")
	elapsed := time.Since(start)
	n := 0
	for _, l := range got {
		n += len(l) + 1
	}
	if min := time.Duration(float64(n) / (baud / 10) * 0.9 * float64(time.Second)); elapsed < min {
		t.Errorf("M115's %d bytes took %v; want at least %v at %d baud", n, elapsed, min, baud)
	}

	long := "M117 " + strings.Repeat("x", 80)
	start = time.Now()
	for range 10 {
		h.roundTrip(long)
	}
	elapsed = time.Since(start)
	perLine := float64(len(long)+1+3) / (baud / 10) // the line and its "ok\n"
	if min := time.Duration((perLine*0.9 + 0.005) * 10 * float64(time.Second)); elapsed < min {
		t.Errorf("10 round trips of %d bytes took %v; want at least %v", len(long)+1, elapsed, min)
	}
}
