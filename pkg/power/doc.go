// Package power switches the printer's power supply, its light and any other
// load through relays wired to GPIO lines.
//
// # Relays
//
// A [Relay] is semantically an output that is either on or off; callers never
// see pin levels. The [GPIO] driver maps on/off to a line level (active-high
// or active-low), applies a start-up state and, when a sense input is wired
// (for example an optocoupler on the PSU's 5 V rail), reports what the sense
// line says rather than what was commanded.
//
// # Hosts without GPIO
//
// [Host] brings up periph.io once and opens relays by line name. Where GPIO is
// missing — not a Raspberry Pi, an unknown line name, permission denied on
// /dev/gpiochip* — Open still returns a Relay: it answers every call with an
// error matching [ErrUnavailable] that carries the reason. Nothing panics and
// nothing is silently ignored.
//
// # Bank
//
// A [Bank] holds the configured relays by name, serialises switching and
// reports every change of state to a callback, whether it came from a command
// or from a sense line noticed by [Bank.Watch].
//
// # Policies
//
// [Policy] decides when the PSU should come on (before connecting, before a
// print, on M80) and when it may go off (M81, or after an idle time with every
// hotend cool and no heater target set), with a warning before the automatic
// switch-off that activity or a call to [Policy.CancelIdleOff] cancels. It reads
// time from an injected [Clock], so tests never sleep. [Feed] keeps it informed
// from the event bus: the printer's state and the activity that restarts the
// countdown. [Announce] publishes every relay change on the bus.
//
// # Concurrency
//
// Every exported type is safe for concurrent use unless its doc says otherwise.
package power
