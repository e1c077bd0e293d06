// Package push serves OctoPrint's push API: the raw websocket at
// /sockjs/websocket and the SockJS endpoints under /sockjs (reference §5).
//
// # Transports
//
// The raw websocket carries one JSON object per text frame both ways. SockJS
// clients fetch /sockjs/info, then open /sockjs/<server>/<session>/websocket
// (frames `o`, `a[…]`, `h` every 25 s, `c[…]`) or, behind proxies that block
// websockets, xhr_streaming or xhr (polling) with xhr_send for their messages.
// Like OctoPrint, `a[…]` holds JSON objects rather than strings. Browsers from
// another origin are refused unless Options.AllowCrossOrigin says yes; clients
// without an Origin header (apps) and same-origin pages always connect.
//
// # Messages
//
// Every socket gets `connected` at once. `{"auth":"user:session"}` (the session
// from POST /api/login) makes it that user: the events held back while it was
// anonymous (up to 100) are delivered, then `history` (state, full temperature
// history, terminal lines), then `current` on every state change, at most once
// per 0.5 s × throttle, with the temperatures and lines recorded since the last
// one. A bad auth, a logout, an expired session, a revoked key's session, a
// removed or modified user all send `{"reauthRequired":{"reason":…}}` and turn
// the socket anonymous again. `{"throttle":N}` and `{"subscribe":{…}}` work as
// in OctoPrint. Terminal lines need MONITOR_TERMINAL, UserLoggedIn/Out need
// ADMIN, file events FILES_LIST, and client events carry addresses for admins
// only. While a socket is authenticated its session is kept alive.
//
// cuttle extension (opt-in): a client that adds `"ack":true` to its auth message
// gets `{"cuttleAuth":{"ok":true,"name":…,"permissions":[…]}}` on success or
// `{"cuttleAuth":{"ok":false,"reason":"stale"}}` before the reauthRequired, so
// it need not guess from silence (OctoPrint issue #4653). OctoPrint ignores the
// extra key, so a client can send it to both.
//
// # Fan-out and slow clients
//
// [Server.Run] refreshes from the [Source] on a StateChanged from the bus (at
// most every 100 ms; a client about to get a history refreshes too): it encodes
// the status once and each new temperature sample and terminal line once, into
// an immutable snapshot every client shares, and a `current` body is built once
// per snapshot for all clients at the same position, then copied with each
// client's serverTime. Each client has its own bounded event subscription
// (events.Drop) that ignores state news, so the printer's per-line StateChanged
// costs nothing per client. A client that stops reading stops only itself,
// because nothing waits for it—the printer publishes without blocking, and the
// client is disconnected once its queue overflows or a write has stalled for
// 10 s. Memory per client is bounded by its event queue, one message in flight
// and, for XHR sessions, a 1 MiB outbox.
//
// # Goroutines
//
// A websocket connection runs two goroutines (reader and writer) owned by its
// HTTP handler. An XHR session's writer goroutine is owned by the Server and ends
// DisconnectDelay after its last receiving request or when Run's context ends;
// Run waits for them before returning.
package push
