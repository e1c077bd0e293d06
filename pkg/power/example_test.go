package power_test

import (
	"context"
	"fmt"

	"github.com/cuttleprint/cuttle/pkg/power"
)

func Example() {
	ctx := context.Background()
	bank := power.NewBank(func(c power.Change) { fmt.Printf("%s: %s -> %s\n", c.Relay, c.From, c.To) })
	host := power.NewHost()
	// On a Pi this would be Pin: "GPIO17"; the sim driver needs no hardware.
	_ = bank.Add(ctx, "psu", host.Open(power.RelayConfig{Name: "psu", Driver: power.DriverSim, ActiveLow: true}))
	_ = bank.Add(ctx, "led", host.Open(power.RelayConfig{Name: "led", Pin: "NO_SUCH_LINE"}))

	s, err := bank.Switch(ctx, "psu", power.ActionToggle)
	fmt.Println(s, err)
	_, err = bank.Switch(ctx, "led", power.ActionOn)
	fmt.Println(err != nil)
	// Output:
	// psu: off -> on
	// on <nil>
	// true
}
