package virtualprinter_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

// A host talks to the simulated firmware over an in-process pipe.
func Example() {
	p := virtualprinter.New(virtualprinter.Config{AdvancedOK: true})
	hostSide, printerSide := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, printerSide) }()

	r := bufio.NewReader(hostSide)
	for { // wait for the banner to end
		l, _ := r.ReadString('\n')
		if strings.HasPrefix(l, "echo:SD card ok") {
			break
		}
	}
	fmt.Fprint(hostSide, "N1 M105*38\n")
	l, _ := r.ReadString('\n')
	fmt.Print(l)
	fmt.Println(p.Executed())

	cancel()
	hostSide.Close()
	<-done
	// Output:
	// ok T:25.00 /0.00 B:25.00 /0.00 @:0 B@:0
	// [M105]
}
