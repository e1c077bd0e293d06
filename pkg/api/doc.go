// Package api is cuttle's HTTP surface: OctoPrint-compatible REST routes on a
// gorilla/mux router, the authentication and permission middleware, and JSON
// encoding with OctoPrint's shapes and status codes.
//
// Every route is registered through Server.handle with a declared guard (a
// permission, AnyUser or Unguarded); a test walks the route table and fails
// for any route without one. Handlers hold no state: they decode, call one
// domain method and encode the answer.
//
// Rules every handler follows:
//   - a guarded route answers 401 when the request has no valid key or
//     session, 403 when the user lacks the permission;
//   - errors are JSON {"error": "..."} with the status;
//   - request bodies are JSON (Content-Type application/json) where OctoPrint
//     expects JSON, limited in size (413 beyond), and malformed JSON is 400.
package api
