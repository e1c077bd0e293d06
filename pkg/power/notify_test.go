package power_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/power"
	"github.com/cuttleprint/cuttle/pkg/power/powertest"
)

func TestAnnounce(t *testing.T) {
	ctx := context.Background()
	bus := events.NewBus()
	sub := bus.Subscribe(events.Options{})
	defer sub.Close()
	b := power.NewBank(power.Announce(bus, "psu"))
	for _, n := range []string{"psu", "led"} {
		if err := b.Add(ctx, n, powertest.New(power.Off)); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []struct {
		relay  string
		action power.Action
	}{{"psu", power.ActionOn}, {"led", power.ActionOn}, {"psu", power.ActionOff}} {
		if _, err := b.Switch(ctx, s.relay, s.action); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, e := range sub.Take(nil) {
		p, _ := json.Marshal(e.Payload())
		got = append(got, e.Name()+" "+string(p))
	}
	want := []string{
		`RelayChanged {"relay":"psu","state":"on","previous":"off"}`,
		`PowerOn null`,
		`cuttle.PluginMessage {"plugin":"psucontrol","data":{"isPSUOn":true}}`,
		`RelayChanged {"relay":"led","state":"on","previous":"off"}`,
		`RelayChanged {"relay":"psu","state":"off","previous":"on"}`,
		`PowerOff null`,
		`cuttle.PluginMessage {"plugin":"psucontrol","data":{"isPSUOn":false}}`,
	}
	if len(got) != len(want) {
		t.Fatalf("published %d events:\n%q\nwant %d:\n%q", len(got), got, len(want), want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %s; want %s", i, got[i], want[i])
		}
	}
}
