package api

import (
	"errors"
	"net/http"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/settings"
	"github.com/cuttleprint/cuttle/pkg/system"
)

// errorStatuses maps the domain packages' sentinel errors to HTTP statuses,
// in one place, so every handler answers the same failure the same way.
func errorStatuses() []struct {
	err    error
	status int
} {
	return []struct {
		err    error
		status int
	}{
		{auth.ErrNoUser, http.StatusNotFound},
		{auth.ErrUserExists, http.StatusConflict},
		{auth.ErrInvalid, http.StatusBadRequest},
		{auth.ErrNoRequest, http.StatusNotFound},
		{auth.ErrNotYours, http.StatusForbidden},
		{auth.ErrNoAppKey, http.StatusNotFound},
		{auth.ErrSetupDone, http.StatusConflict},
		{settings.ErrType, http.StatusBadRequest},
		{settings.ErrInvalid, http.StatusBadRequest},
		{system.ErrUnknown, http.StatusNotFound},
		{system.ErrFailed, http.StatusInternalServerError},
		{system.ErrNoLog, http.StatusNotFound},
	}
}

// fail answers err with the status its sentinel maps to, or logs it and
// answers 500 when it is unexpected.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	for _, m := range errorStatuses() {
		if errors.Is(err, m.err) {
			writeError(w, m.status, err.Error())
			return
		}
	}
	s.internal(w, r, err)
}
