package api

// routesPush mounts the push API (the raw websocket and SockJS under /sockjs,
// served by pkg/push). It is unguarded here because push clients authenticate
// inside the socket with an auth message.
func (s *Server) routesPush() {
	if s.deps.Push != nil {
		s.handlePrefix("/sockjs", Unguarded, s.deps.Push)
	}
}
