package api

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/printer"
)

// TestFail_PrinterErrors pins what clients see for the Machine's errors: 409
// with OctoPrint's capitalised text for a printer that cannot do it now (the
// same text when the sentinel comes wrapped), 400 naming the bad value, and
// 500 for anything unexpected.
func TestFail_PrinterErrors(t *testing.T) {
	s := New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, c := range []struct {
		err    error
		status int
		body   string
	}{
		{printer.ErrNotOperational, 409, `{"error":"Printer is not operational"}`},
		{fmt.Errorf("printer: wait for the moves before %q: %w", "M400", printer.ErrNotOperational), 409, `{"error":"Printer is not operational"}`},
		{printer.ErrBusy, 409, `{"error":"Printer is busy printing"}`},
		{printer.ErrNoHeatedBed, 409, `{"error":"Printer profile has no heated bed"}`},
		{printer.ErrNoHeatedChamber, 409, `{"error":"Printer profile has no heated chamber"}`},
		{fmt.Errorf("baudrate 1: %w", printer.ErrInvalid), 400, `{"error":"baudrate 1: invalid value"}`},
		{errors.New("open /dev/ttyACM0: permission denied"), 500, `{"error":"open /dev/ttyACM0: permission denied"}`},
	} {
		w := httptest.NewRecorder()
		s.fail(w, httptest.NewRequest("POST", "/api/printer/tool", nil), c.err)
		if body := strings.TrimSpace(w.Body.String()); w.Code != c.status || body != c.body {
			t.Errorf("fail(%v) = %d %s; want %d %s", c.err, w.Code, body, c.status, c.body)
		}
	}
}
