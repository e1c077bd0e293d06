package virtualprinter_test

import (
	"testing"

	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

func TestSmoke(t *testing.T) {
	h := startHost(t, virtualprinter.Config{AdvancedOK: true, TimeScale: 100})
	for _, c := range []string{"M105", "M115", "G28", "G1 X10 Y10 F3000", "M114", "M9999", "M20 L"} {
		t.Logf("%s -> %q", c, h.roundTrip(c))
	}
	h.sendN(1, "M105")
	t.Log(h.until("ok"))
	h.sendN(3, "M105")
	t.Log(h.until("ok"))
}
