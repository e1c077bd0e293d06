package events_test

import (
	"encoding/json"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/events"
)

// Ensure that power events carry their names and documented payloads.
func TestPowerEventsJSON(t *testing.T) {
	for _, tt := range []struct {
		e    events.Event
		name string
		want string
	}{
		{events.RelayChanged{Relay: "psu", State: "on", Previous: "off"}, "RelayChanged", `{"relay":"psu","state":"on","previous":"off"}`},
		{events.PowerOffWarning{Relay: "psu", Seconds: 60}, "PowerOffWarning", `{"relay":"psu","seconds":60}`},
		{events.PowerOffCancelled{Relay: "psu", Reason: "cancelled"}, "PowerOffCancelled", `{"relay":"psu","reason":"cancelled"}`},
	} {
		if got := tt.e.Name(); got != tt.name {
			t.Errorf("Name() = %q; want %q", got, tt.name)
		}
		b, err := json.Marshal(tt.e.Payload())
		if err != nil || string(b) != tt.want {
			t.Errorf("payload of %s = %s, %v; want %s", tt.name, b, err, tt.want)
		}
	}
}
