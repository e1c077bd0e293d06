package push_test

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/printer/printertest"
	"github.com/cuttleprint/cuttle/pkg/push"
	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

// virtualPort serves the simulated Marlin on a net.Pipe.
func virtualPort(cfg virtualprinter.Config) printer.PortOpener {
	return func(ctx context.Context, baud int) (io.ReadWriteCloser, error) {
		host, dev := net.Pipe()
		go virtualprinter.New(cfg).Serve(ctx, dev)
		return host, nil
	}
}

// Ensure that a socket watching a real Machine sees the connection events, then
// history and currents with the Machine's state, temperatures and terminal
// lines; over scripted Marlin and over the simulated one.
func TestMachineSource(t *testing.T) {
	for _, port := range []string{printertest.Port, "VIRTUAL"} {
		t.Run(port, func(t *testing.T) {
			var rig *printertest.Rig
			e := newEnv(t, func(o *push.Options) {
				rig = printertest.New(t, printer.Config{Events: o.Bus, PollInterval: 20 * time.Millisecond,
					Builtin: map[string]printer.PortOpener{"VIRTUAL": virtualPort(virtualprinter.Config{AdvancedOK: true, TimeScale: 50})}}, nil)
				o.Source = push.NewMachineSource(rig.Machine, nil)
			})
			key := e.user("alice")
			c := e.dial(nil)
			c.until("connected")
			c.authed("alice", e.passiveSession(key))
			h, _ := c.until("history")
			if !strings.Contains(h.raw, `"text":"Offline"`) {
				t.Errorf("history before connecting = %s; want Offline", h.raw)
			}
			if err := rig.Machine.Connect(context.Background(), port, 115200); err != nil {
				t.Fatal(err)
			}
			ev, _ := c.untilEvent("Connected")
			if !strings.Contains(ev.raw, `"port":"`+port+`"`) {
				t.Errorf("Connected event = %s; want port %s", ev.raw, port)
			}
			if !rig.Await(func() bool { return rig.Machine.Snapshot().State == printer.StateOperational }) {
				t.Fatalf("not operational: %s", rig.Machine.Snapshot().StateText)
			}
			// A temperature request shows up as terminal lines and a
			// temperature point in the currents.
			if err := rig.Machine.Send(context.Background(), "M105"); err != nil {
				t.Fatal(err)
			}
			var seen strings.Builder
			deadline := time.Now().Add(10 * time.Second)
			// The handshake's own M105 may arrive in a current sent while the
			// state still read Connecting, so read on until an operational one
			// has been seen as well.
			for !strings.Contains(seen.String(), " M105*") || !strings.Contains(seen.String(), `"Recv: ok `) ||
				!strings.Contains(seen.String(), `"tool0":{"actual":`) ||
				!strings.Contains(seen.String(), `"text":"Operational"`) || !strings.Contains(seen.String(), `"operational":true`) {
				if time.Now().After(deadline) {
					t.Fatalf("within 10 s no operational current with the M105 exchange and a temperature:\n%s", seen.String())
				}
				m, _ := c.until("current")
				seen.WriteString(m.raw)
			}
		})
	}
}
