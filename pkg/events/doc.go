// Package events is cuttle's typed in-process event bus.
//
// # Events
//
// An [Event] is a typed value that knows OctoPrint's name for itself
// ([Event.Name], e.g. "PrintStarted") and its OctoPrint payload ([Event.Payload]):
// either nil (events without a payload, such as [Home] or [Disconnected]) or the
// event value itself, whose JSON encoding uses OctoPrint's field names
// (`{"name":…,"path":…,"origin":…,"size":…,"owner":…,"user":…}` for
// [PrintStarted]). The push API forwards events to clients as
// `{"event":{"type":Name(),"payload":Payload()}}`.
//
// A few bus values are cuttle-internal and are not OctoPrint events; their names
// start with "cuttle." and push never forwards them as event messages:
// [StateChanged] (the printer's state snapshot changed: coalesced), [PluginMessage]
// (forwarded as a push `plugin` message) and [Lost] (the bus tells a subscriber it
// dropped messages).
//
// # Publishing
//
// [Bus.Publish] never blocks and never fails: it appends the event to the queue of
// every subscriber whose filter accepts it and wakes that subscriber. Publishers
// need no knowledge of who listens. Publish is safe from any goroutine; events
// published by one goroutine reach each subscriber in publish order.
//
// # Subscribing and overflow policy
//
// [Bus.Subscribe] returns a [Subscription] with its own bounded queue
// ([Options.Limit], default [DefaultLimit] events). Two kinds of values are queued:
//
//   - Coalescing values (those implementing [Coalescer], e.g. [StateChanged]) do not
//     count towards the limit: an undelivered value with the same CoalesceKey is
//     replaced by the newer one, so a slow subscriber always gets the newest state
//     and never more than one per key. Subscribers that set
//     [Options.IgnoreCoalescing] never see them and cost a publisher of them
//     nothing.
//   - All other events are kept in order up to the limit. What happens to a
//     subscriber whose queue is full is its [Overflow] policy: with [ReportLoss]
//     (the default) further events are discarded and counted, and the subscriber
//     receives a [Lost] value carrying the count right after the events that were
//     kept; with [Drop] the subscription ends with [ErrOverflow].
//
// A subscriber waits on [Subscription.Ready] and collects everything waiting with
// [Subscription.Take], or blocks for one value with [Subscription.Next]. It must
// call [Subscription.Close] when done; [Bus.Close] ends all subscriptions.
//
// # Concurrency
//
// Bus and Subscription are safe for concurrent use. The bus holds no goroutines of
// its own, so there is nothing to stop besides closing subscriptions.
package events
