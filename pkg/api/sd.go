package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/job"
)

// routesSD registers the SD card routes (called by routesFiles).
func (s *Server) routesSD() {
	s.handle("GET", "/api/printer/sd", auth.PermStatus, s.getSD)
	s.handle("POST", "/api/printer/sd", auth.PermControl, s.postSD)
}

// sdEnabled reports whether SD support is on (feature.sdSupport) and a job
// controller is there to drive the card.
func (s *Server) sdEnabled() bool {
	if s.deps.Job == nil {
		return false
	}
	return s.deps.Settings == nil || s.deps.Settings.Get().Feature.SdSupport
}

func (s *Server) getSD(w http.ResponseWriter, r *http.Request) {
	if !s.sdEnabled() {
		writeError(w, http.StatusNotFound, "SD support is disabled")
		return
	}
	ready := false
	if s.deps.Printer != nil {
		ready = s.deps.Printer.Snapshot().Flags.SDReady
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ready": ready})
}

// postSD is POST /api/printer/sd: init, refresh or release.
func (s *Server) postSD(w http.ResponseWriter, r *http.Request) {
	if !s.sdEnabled() {
		writeError(w, http.StatusNotFound, "SD support is disabled")
		return
	}
	name, c := decodeCommand(w, r)
	if c == nil {
		return
	}
	if name != "init" && name != "refresh" && name != "release" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown command %q (init, refresh or release)", name))
		return
	}
	if err := s.deps.Job.SDCommand(r.Context(), name); err != nil {
		writeJobError(w, err)
		return
	}
	noContent(w)
}

// sdEntries lists the card's files in the files API shape.
func (s *Server) sdEntries(r *http.Request) []*fileJSON {
	out := []*fileJSON{}
	if !s.sdEnabled() {
		return out
	}
	for _, f := range s.deps.Job.SDFiles() {
		out = append(out, sdEntry(r, f))
	}
	return out
}

func sdEntry(r *http.Request, f job.SDFile) *fileJSON {
	e := &fileJSON{Name: f.Display(), Display: f.Display(), Path: f.Name, Type: "machinecode",
		TypePath: []string{"machinecode", "gcode"}, Origin: "sdcard",
		Refs: map[string]string{"resource": baseURL(r) + "/api/files/sdcard/" + escapePath(f.Name)}}
	if f.Size >= 0 {
		size := f.Size
		e.Size = &size
	}
	return e
}

// sdFile answers GET /api/files/sdcard/{name}.
func (s *Server) sdFile(w http.ResponseWriter, r *http.Request, name string) {
	for _, f := range s.deps.Job.SDFiles() {
		if f.Name == name || f.LongName == name {
			writeJSON(w, http.StatusOK, sdEntry(r, f))
			return
		}
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("no file %q on the SD card", name))
}

// sdCommand answers POST /api/files/sdcard/{name}: select (+print).
func (s *Server) sdCommand(w http.ResponseWriter, r *http.Request, cmd, name string, printToo bool) {
	if cmd != "select" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("command %q is not possible on the SD card", cmd))
		return
	}
	j := s.deps.Job
	id := auth.UserFrom(r.Context())
	if err := j.SelectSD(r.Context(), name, id.Name()); err != nil {
		if errors.Is(err, job.ErrNoFile) {
			writeError(w, http.StatusNotFound, err.Error())
			return
		}
		writeJobError(w, err)
		return
	}
	if printToo {
		if err := j.Start(r.Context(), id.Name()); err != nil {
			writeJobError(w, err)
			return
		}
	}
	noContent(w)
}

// sdDelete answers DELETE /api/files/sdcard/{name}.
func (s *Server) sdDelete(w http.ResponseWriter, r *http.Request, name string) {
	if err := s.deps.Job.DeleteSD(r.Context(), name); err != nil {
		if errors.Is(err, job.ErrNoFile) {
			writeError(w, http.StatusNotFound, err.Error())
			return
		}
		writeJobError(w, err)
		return
	}
	noContent(w)
}
