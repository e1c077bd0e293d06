package api

import (
	"errors"
	"io/fs"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/bootcfg"
)

// routesAppliance serves what the Raspberry Pi image adds: the outcome of
// applying the boot-partition files, and the webcam stream (ustreamer on
// loopback) under /webcam/, where OctoPrint clients expect it.
func (s *Server) routesAppliance() {
	s.handle("GET", "/api/cuttle/bootstatus", auth.PermStatus, s.getBootStatus)
	s.handlePrefix("/webcam/", auth.PermWebcam, s.webcamProxy())
}

// getBootStatus answers the report cuttle-bootconfig wrote on this boot
// (the same as cuttle-status.txt on the boot partition), so the web UI can
// show a Wi-Fi or settings mistake instead of leaving it silent.
func (s *Server) getBootStatus(w http.ResponseWriter, r *http.Request) {
	rep, err := bootcfg.ReadReport(s.deps.DataDir)
	if errors.Is(err, fs.ErrNotExist) {
		writeError(w, http.StatusNotFound, "no boot status: cuttle is not running on the cuttle image")
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// webcamProxy forwards /webcam/... to Deps.WebcamUpstream with the prefix
// stripped, streaming (MJPEG) without buffering.
func (s *Server) webcamProxy() http.Handler {
	up := s.deps.WebcamUpstream
	if up == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusServiceUnavailable, "no webcam configured")
		})
	}
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(up)
			pr.Out.URL.Path = strings.TrimSuffix(up.Path, "/") + "/" + strings.TrimPrefix(pr.In.URL.Path, "/webcam/")
			pr.Out.URL.RawPath = ""
			pr.Out.Header.Del("Cookie")
			pr.Out.Header.Del("Authorization")
			pr.Out.Header.Del("X-Api-Key")
		},
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.deps.Log.Warn("webcam unreachable", "upstream", up.String(), "err", err)
			writeError(w, http.StatusBadGateway, "webcam not reachable: is a camera connected?")
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path)
			return
		}
		r.URL.RawQuery = stripAPIKey(r.URL.Query()).Encode()
		p.ServeHTTP(w, r)
	})
}

// stripAPIKey drops the apikey query parameter, which must not travel on.
func stripAPIKey(q url.Values) url.Values {
	q.Del("apikey")
	return q
}
