package power_test

import (
	"context"
	"testing"

	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/cuttleprint/cuttle/pkg/power"
)

// BenchmarkBankSwitch measures a toggle through the Bank (lock, line write,
// state read, change notification) on a gpiotest line with a sense line.
func BenchmarkBankSwitch(b *testing.B) {
	ctx := context.Background()
	out, sense := &gpiotest.Pin{N: "OUT"}, &gpiotest.Pin{N: "SENSE"}
	g, err := power.NewGPIO(power.RelayConfig{Name: "psu", Pin: "OUT", SensePin: "SENSE"}, out, sense)
	if err != nil {
		b.Fatal(err)
	}
	changes := 0
	bank := power.NewBank(func(power.Change) { changes++ })
	if err := bank.Add(ctx, "psu", g); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bank.Switch(ctx, "psu", power.ActionToggle); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatus measures the listing behind GET /api/cuttle/power for
// three relays.
func BenchmarkStatus(b *testing.B) {
	ctx := context.Background()
	h := power.NewHost()
	bank := power.NewBank(nil)
	for _, n := range []string{"psu", "led", "fan"} {
		if err := bank.Add(ctx, n, h.Open(power.RelayConfig{Name: n, Driver: power.DriverSim, SensePin: "S"})); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(bank.Status(ctx)) != 3 {
			b.Fatal("want 3 relays")
		}
	}
}
