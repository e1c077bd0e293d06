package serial_test

import (
	"context"
	"fmt"

	"github.com/cuttleprint/cuttle/pkg/serial"
)

// List the candidate ports, then let Detect find the one with firmware on it.
func Example() {
	ports, err := serial.Lister{Explicit: []string{"/tmp/printer-pty"}}.List()
	if err != nil {
		fmt.Println(err)
		return
	}
	port, baud, link, err := serial.Detector{}.Detect(context.Background(), serial.Names(ports), serial.DefaultBaudrates)
	if err != nil {
		return // no printer attached
	}
	defer link.Close()
	fmt.Println("printer on", port, "at", baud)
}
