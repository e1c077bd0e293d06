package events

// Event is a value published on a [Bus].
type Event interface {
	// Name is OctoPrint's event name ("PrintStarted"), or a "cuttle."-prefixed
	// name for cuttle-internal values that are not OctoPrint events.
	Name() string
	// Payload is what OctoPrint sends as the event's payload: nil for events
	// without one, otherwise a value whose JSON encoding has OctoPrint's fields.
	Payload() any
}

// Coalescer is implemented by events of which only the newest undelivered value
// matters (state snapshots). A subscription keeps at most one undelivered value per
// CoalesceKey, outside its event limit.
type Coalescer interface {
	Event
	// CoalesceKey groups values that supersede each other; it must not be "".
	CoalesceKey() string
}

// Lost tells a [ReportLoss] subscriber that Count events were discarded because
// its queue was full. It is created by the bus, never published.
type Lost struct {
	// Count is the number of events discarded since the previous delivery.
	Count int `json:"count"`
}

// Name returns "cuttle.Lost".
func (Lost) Name() string { return "cuttle.Lost" }

// Payload returns the Lost value.
func (l Lost) Payload() any { return l }

// StateChanged says that the state snapshot of Source (e.g. "printer") changed:
// state, progress, temperatures or terminal lines. Consumers read the snapshot from
// its owner; the bus only carries the news, coalesced per Source.
type StateChanged struct {
	// Source names the component whose state changed.
	Source string `json:"source"`
}

// Name returns "cuttle.StateChanged".
func (StateChanged) Name() string { return "cuttle.StateChanged" }

// Payload returns the StateChanged value.
func (s StateChanged) Payload() any { return s }

// CoalesceKey is "state:" + Source.
func (s StateChanged) CoalesceKey() string { return "state:" + s.Source }

// PluginMessage is a message from a plugin-compatible component to push clients,
// sent as `{"plugin":{"plugin":Plugin,"data":Data}}`; for example power control
// sends Plugin "psucontrol" with Data {"isPSUOn":true}. Data must not be modified
// after publishing.
type PluginMessage struct {
	// Plugin is the plugin identifier clients know ("psucontrol").
	Plugin string `json:"plugin"`
	// Data is the message body, any JSON-encodable value.
	Data any `json:"data"`
	// Permission, when set, is the permission key ("STATUS", "CONTROL", …) a
	// push client's user must hold to receive it; empty means STATUS.
	Permission string `json:"-"`
}

// Name returns "cuttle.PluginMessage".
func (PluginMessage) Name() string { return "cuttle.PluginMessage" }

// Payload returns the PluginMessage value.
func (p PluginMessage) Payload() any { return p }
