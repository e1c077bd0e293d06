package events

// This file holds cuttle's own power-control events (relays switched by
// pkg/power). OctoPrint's PowerOn and PowerOff are in octoprint.go; power
// publishes them when the PSU relay changes state.

// RelayChanged: a relay changed state, by command, policy or by hand (seen on
// its sense line). Payload: {"relay":"psu","state":"on","previous":"off"}.
// States are "on", "off" or "unknown".
type RelayChanged struct {
	// Relay is the relay's configured name ("psu", "led", …).
	Relay string `json:"relay"`
	// State is the new state.
	State string `json:"state"`
	// Previous is the state before the change.
	Previous string `json:"previous"`
}

// Name returns "RelayChanged".
func (RelayChanged) Name() string { return "RelayChanged" }

// Payload returns the RelayChanged value.
func (e RelayChanged) Payload() any { return e }

// PowerOffWarning: the idle policy will switch Relay off in Seconds unless
// the printer becomes busy or a user cancels. Payload:
// {"relay":"psu","seconds":60}.
type PowerOffWarning struct {
	// Relay is the relay that will be switched off.
	Relay string `json:"relay"`
	// Seconds is the time left before the switch-off.
	Seconds float64 `json:"seconds"`
}

// Name returns "PowerOffWarning".
func (PowerOffWarning) Name() string { return "PowerOffWarning" }

// Payload returns the PowerOffWarning value.
func (e PowerOffWarning) Payload() any { return e }

// PowerOffCancelled: a pending idle switch-off announced by PowerOffWarning
// was cancelled. Payload: {"relay":"psu","reason":"printing"}.
type PowerOffCancelled struct {
	// Relay is the relay that stays on.
	Relay string `json:"relay"`
	// Reason is "cancelled" (by a user), "activity", "printing", "heating",
	// "hot", "disconnected" or "relay" (switched by other means).
	Reason string `json:"reason"`
}

// Name returns "PowerOffCancelled".
func (PowerOffCancelled) Name() string { return "PowerOffCancelled" }

// Payload returns the PowerOffCancelled value.
func (e PowerOffCancelled) Payload() any { return e }
