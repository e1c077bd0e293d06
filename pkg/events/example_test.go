package events_test

import (
	"context"
	"fmt"

	"github.com/cuttleprint/cuttle/pkg/events"
)

// A publisher (the printer) and a subscriber (push) share one bus built in main.
func Example() {
	bus := events.NewBus()

	sub := bus.Subscribe(events.Options{Limit: 100}) // ReportLoss by default
	defer sub.Close()

	bus.Publish(events.PrintStarted{PrintFile: events.PrintFile{FileName: "cube.gcode", Path: "cube.gcode", Origin: "local"}, User: "admin"})
	bus.Publish(events.StateChanged{Source: "printer"}) // coalesced: only the newest waits
	bus.Publish(events.StateChanged{Source: "printer"})
	bus.Publish(events.ZChange{New: 0.2})

	ctx := context.Background()
	for range 3 {
		e, err := sub.Next(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(e.Name())
	}
	// Output:
	// PrintStarted
	// ZChange
	// cuttle.StateChanged
}
