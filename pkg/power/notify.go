package power

import "github.com/cuttleprint/cuttle/pkg/events"

// Publisher is the part of the event bus power publishes to.
type Publisher interface {
	Publish(events.Event)
}

// PSUControlPlugin is the plugin identifier PSU Control clients know.
const PSUControlPlugin = "psucontrol"

// PSUControlData is the PSU Control plugin's state, as its API and push
// messages encode it.
type PSUControlData struct {
	IsPSUOn bool `json:"isPSUOn"`
}

// Announce returns a Bank listener that publishes every change on pub: a
// RelayChanged for any relay and, for the relay named psu, OctoPrint's
// PowerOn or PowerOff and the PSU Control push message
// {"plugin":"psucontrol","data":{"isPSUOn":…}}.
func Announce(pub Publisher, psu string) func(Change) {
	return func(c Change) {
		pub.Publish(events.RelayChanged{Relay: c.Relay, State: c.To.String(), Previous: c.From.String()})
		if c.Relay != psu {
			return
		}
		switch c.To {
		case On:
			pub.Publish(events.PowerOn{})
		case Off:
			pub.Publish(events.PowerOff{})
		}
		pub.Publish(events.PluginMessage{Plugin: PSUControlPlugin, Data: PSUControlData{IsPSUOn: c.To == On}})
	}
}
