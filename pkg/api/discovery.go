package api

import (
	"net/http"
)

func (s *Server) routesDiscovery() {
	if s.deps.DiscoveryXML == nil {
		return
	}
	// Unguarded: SSDP clients (Home Assistant) fetch it anonymously, as they
	// do from OctoPrint; it holds nothing the announcement does not.
	s.handle("GET", "/plugin/discovery/discovery.xml", Unguarded, func(w http.ResponseWriter, r *http.Request) {
		raw, err := s.deps.DiscoveryXML(baseURL(r))
		if err != nil {
			s.internal(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Write(raw)
	})
}
