package protocol_test

import (
	"context"
	"fmt"

	"github.com/cuttleprint/cuttle/pkg/protocol"
	"github.com/cuttleprint/cuttle/pkg/protocol/protocoltest"
)

type printAcks struct{ done chan struct{} }

func (printAcks) Received(string, protocol.Message) {}
func (printAcks) Sent(string, bool)                 {}
func (p printAcks) Acked(c protocol.Command) {
	fmt.Println("acked", c.Text)
	if c.Text == "M105" {
		close(p.done)
	}
}
func (printAcks) Closed(error) {}

// A Conn over scripted firmware: Dial shakes hands, Send queues commands and
// the observer hears each acknowledgement in order.
func Example() {
	link, fw := protocoltest.Pipe()
	go (&protocoltest.Marlin{F: fw}).Serve()
	obs := printAcks{done: make(chan struct{})}
	c, err := protocol.Dial(context.Background(), link, protocol.Options{Observer: obs})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	c.Send("G28 ; home")
	c.Send("M105")
	<-obs.done
	// Output:
	// acked G28
	// acked M105
}
