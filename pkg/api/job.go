package api

import (
	"errors"
	"fmt"
	"github.com/cuttleprint/cuttle/pkg/printer"
	"net/http"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/job"
)

func (s *Server) routesJob() {
	s.handle("GET", "/api/job", auth.PermStatus, s.getJob)
	s.handle("POST", "/api/job", auth.PermPrint, s.postJob, CheckAfter())
}

// offlineJob is GET /api/job without a printer configured at all.
var offlineJob = job.Status{State: "Offline"}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	if s.deps.Job == nil {
		writeJSON(w, http.StatusOK, offlineJob)
		return
	}
	writeJSON(w, http.StatusOK, s.deps.Job.Status(r.Context()))
}

// postJob is POST /api/job. OctoPrint's order: not operational → 409 (even
// for callers without PRINT), then a bad command → 400, then 403, then the
// command's own precondition → 409.
func (s *Server) postJob(w http.ResponseWriter, r *http.Request) {
	j := s.deps.Job
	if j == nil || !j.Operational() {
		s.fail(w, r, printer.ErrNotOperational)
		return
	}
	name, c := decodeCommand(w, r)
	if c == nil {
		return
	}
	action := "toggle"
	switch name {
	case "start", "restart", "cancel":
	case "pause":
		if present, ok := c.get(w, "action", &action); !ok {
			return
		} else if !present {
			action = "toggle"
		}
		if action != "pause" && action != "resume" && action != "toggle" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown pause action %q (pause, resume or toggle)", action))
			return
		}
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown command %q", name))
		return
	}
	id := auth.UserFrom(r.Context())
	if !id.Has(auth.PermPrint) {
		writeError(w, http.StatusForbidden, "permission PRINT required")
		return
	}
	f := j.Flags()
	active := f.Printing || f.Paused || f.Pausing || f.Cancelling || f.Finishing
	var err error
	switch name {
	case "start":
		if active {
			writeError(w, http.StatusConflict, "printer is already printing")
			return
		}
		err = j.Start(r.Context(), id.Name())
		if errors.Is(err, job.ErrNoFile) {
			err = nil // OctoPrint silently does nothing without a selection
		}
	case "restart":
		if !f.Paused {
			writeError(w, http.StatusConflict, "printer is not paused, cannot restart")
			return
		}
		err = j.Restart(r.Context(), id.Name())
	case "pause":
		if !active || f.Cancelling {
			writeError(w, http.StatusConflict, "printer is neither printing nor paused")
			return
		}
		err = j.Pause(r.Context(), id.Name(), action)
	case "cancel":
		if !(active || f.Transferring) || f.Cancelling {
			writeError(w, http.StatusConflict, "printer is neither printing nor paused")
			return
		}
		err = j.Cancel(r.Context(), id.Name())
	}
	if err != nil {
		writeJobError(w, err)
		return
	}
	noContent(w)
}

func writeJobError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, job.ErrNotOperational), errors.Is(err, job.ErrBusy), errors.Is(err, job.ErrNotPrinting),
		errors.Is(err, job.ErrNotPaused), errors.Is(err, job.ErrNoFile):
		writeError(w, http.StatusConflict, err.Error())
	default:
		writeFilesError(w, err)
	}
}
