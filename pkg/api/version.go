package api

import (
	"net/http"

	"github.com/cuttleprint/cuttle/pkg/auth"
)

func (s *Server) routesServer() {
	s.handle("GET", "/api/version", auth.PermStatus, s.getVersion)
	s.handle("GET", "/api/server", auth.PermStatus, s.getServer)
	s.handle("GET", "/online.txt", Unguarded, getOnlineTxt)
	s.handle("GET", "/online.gif", Unguarded, getOnlineGif)
}

// versionResponse is GET /api/version. PrusaSlicer requires "api" and a text
// beginning with "OctoPrint".
type versionResponse struct {
	API    string `json:"api"`
	Server string `json:"server"`
	Text   string `json:"text"`
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, versionResponse{API: "0.1", Server: EmulatedOctoPrint,
		Text: "OctoPrint " + EmulatedOctoPrint + " (cuttle " + s.deps.Version + ")"})
}

func (s *Server) getServer(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"version": EmulatedOctoPrint, "safemode": false})
}

func getOnlineTxt(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("online\n"))
}

// onlineGIF is a transparent 1×1 GIF.
var onlineGIF = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

func getOnlineGif(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/gif")
	w.Write(onlineGIF)
}
