package push_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/printer/printertest"
	"github.com/cuttleprint/cuttle/pkg/push"
)

// Ensure that a socket watching a real Machine (over scripted Marlin) sees the
// connection events, then history and currents with the Machine's state,
// temperatures and terminal lines.
func TestMachineSource(t *testing.T) {
	var rig *printertest.Rig
	e := newEnv(t, func(o *push.Options) {
		rig = printertest.New(t, printer.Config{Events: o.Bus, PollInterval: 20 * time.Millisecond}, nil)
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
	rig.Connect(t)
	ev, _ := c.untilEvent("Connected")
	if !strings.Contains(ev.raw, `"port":"FAKE"`) {
		t.Errorf("Connected event = %s; want port FAKE", ev.raw)
	}
	// Currents follow the Machine: a temperature request shows up as terminal
	// lines and a temperature point.
	if err := rig.Machine.Send(context.Background(), "M105"); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	for !strings.Contains(seen.String(), "Recv: ok T:21.30") {
		m, _ := c.until("current")
		seen.WriteString(m.raw)
	}
	for _, want := range []string{`"text":"Operational"`, `"operational":true`, `"tool0":{"actual":21.3`, ` M105*`} {
		if !strings.Contains(seen.String(), want) {
			t.Errorf("currents lack %s:\n%s", want, seen.String())
		}
	}
}
