package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// writeJSON writes v as the JSON body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(raw)
	w.Write([]byte("\n"))
}

// writeError writes {"error": msg} with status.
func writeError(w http.ResponseWriter, status int, msg string) {
	raw, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Del("Content-Length")
	w.WriteHeader(status)
	w.Write(raw)
	w.Write([]byte("\n"))
}

// noContent answers 204.
func noContent(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }

// isJSON reports whether the request declares a JSON body.
func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// decodeJSON decodes the request body into v. On failure it writes the error
// (415-free: OctoPrint answers 400 for a non-JSON body; 413 when the body is
// over the limit) and returns false.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if !isJSON(r) {
		writeError(w, http.StatusBadRequest, "expected a JSON body (Content-Type: application/json)")
		return false
	}
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", tooBig.Limit))
		case errors.As(err, &typeErr):
			writeError(w, http.StatusBadRequest, fmt.Sprintf("malformed JSON body: field %q must be %s, not %s", typeErr.Field, typeErr.Type, typeErr.Value))
		case errors.Is(err, io.EOF):
			writeError(w, http.StatusBadRequest, "empty JSON body")
		default:
			writeError(w, http.StatusBadRequest, "malformed JSON body: "+err.Error())
		}
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "malformed JSON body: trailing data after the object")
		return false
	}
	return true
}

// command is OctoPrint's {"command": "..."} envelope; handlers decode the
// body into a map first, read the command, then the parameters they need.
type command map[string]json.RawMessage

// decodeCommand decodes a command body and returns its name; it writes 400
// and returns "" when the body or the command is missing.
func decodeCommand(w http.ResponseWriter, r *http.Request) (string, command) {
	var c command
	if !decodeJSON(w, r, &c) {
		return "", nil
	}
	var name string
	if raw, ok := c["command"]; !ok || json.Unmarshal(raw, &name) != nil || name == "" {
		writeError(w, http.StatusBadRequest, "command is missing or not a string")
		return "", nil
	}
	return name, c
}

// get decodes parameter key of c into v. It reports false (having written a
// 400) when the key is present with the wrong type; a missing key leaves v
// alone and returns present=false.
func (c command) get(w http.ResponseWriter, key string, v any) (present, ok bool) {
	raw, found := c[key]
	if !found || string(raw) == "null" {
		return false, true
	}
	if err := json.Unmarshal(raw, v); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("parameter %q has the wrong type: %v", key, err))
		return true, false
	}
	return true, true
}

// parseBool reads OctoPrint's boolean strings: true|yes|y|1 (any case).
func parseBool(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "y", "1", "on":
		return true
	}
	return false
}
