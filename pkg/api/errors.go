package api

import (
	"errors"
	"net/http"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/settings"
	"github.com/cuttleprint/cuttle/pkg/system"
)

// errorStatus maps one sentinel error to the status it answers. text, when
// set, is answered instead of the error's own: OctoPrint's wording for a
// refusal clients show their users, which the Go-style lower-case sentinel
// text (and any detail wrapped around it) would not match.
type errorStatus struct {
	err    error
	status int
	text   string
}

// errorStatuses maps the domain packages' sentinel errors to HTTP statuses,
// in one place, so every handler answers the same failure the same way.
func errorStatuses() []errorStatus {
	return []errorStatus{
		{err: auth.ErrNoUser, status: http.StatusNotFound},
		{err: auth.ErrUserExists, status: http.StatusConflict},
		{err: auth.ErrInvalid, status: http.StatusBadRequest},
		{err: auth.ErrNoRequest, status: http.StatusNotFound},
		{err: auth.ErrNotYours, status: http.StatusForbidden},
		{err: auth.ErrNoAppKey, status: http.StatusNotFound},
		{err: auth.ErrSetupDone, status: http.StatusConflict},
		// A printer that cannot do it now is 409, with OctoPrint's text
		// (reference §3.5) where it documents one.
		{err: printer.ErrNotOperational, status: http.StatusConflict, text: "Printer is not operational"},
		{err: printer.ErrBusy, status: http.StatusConflict, text: "Printer is busy printing"},
		{err: printer.ErrNoHeatedBed, status: http.StatusConflict, text: "Printer profile has no heated bed"},
		{err: printer.ErrNoHeatedChamber, status: http.StatusConflict, text: "Printer profile has no heated chamber"},
		// A bad value keeps its wrapped text: it names the value.
		{err: printer.ErrInvalid, status: http.StatusBadRequest},
		{err: settings.ErrType, status: http.StatusBadRequest},
		{err: settings.ErrInvalid, status: http.StatusBadRequest},
		{err: system.ErrUnknown, status: http.StatusNotFound},
		{err: system.ErrFailed, status: http.StatusInternalServerError},
		{err: system.ErrNoLog, status: http.StatusNotFound},
	}
}

// fail answers err with the status its sentinel maps to, or logs it and
// answers 500 when it is unexpected.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	for _, m := range errorStatuses() {
		if errors.Is(err, m.err) {
			text := m.text
			if text == "" {
				text = err.Error()
			}
			writeError(w, m.status, text)
			return
		}
	}
	s.internal(w, r, err)
}

// noContentOr ends a command handler that has handed its work to a domain
// call: 204 when err is nil, else what fail answers for it. OctoPrint
// answers its POST commands with an empty 204 (reference §3.5).
func (s *Server) noContentOr(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	noContent(w)
}
