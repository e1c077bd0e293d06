package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/job"
	"github.com/cuttleprint/cuttle/pkg/printer"
)

// The printer resource (reference §3.5): state and temperatures, heater
// targets and offsets, head moves, raw commands and the last error. Every
// command needs an operational printer (409 otherwise), checked before the
// body, as OctoPrint does.

func (s *Server) routesPrinter() {
	s.handle("GET", "/api/printer", auth.PermStatus, s.getPrinter)
	s.handle("GET", "/api/printer/tool", auth.PermStatus, s.getPrinterTool)
	s.handle("POST", "/api/printer/tool", auth.PermControl, s.postPrinterTool)
	s.handle("GET", "/api/printer/bed", auth.PermStatus, s.getPrinterBed)
	s.handle("POST", "/api/printer/bed", auth.PermControl, s.postPrinterBed)
	s.handle("GET", "/api/printer/chamber", auth.PermStatus, s.getPrinterChamber)
	s.handle("POST", "/api/printer/chamber", auth.PermControl, s.postPrinterChamber)
	s.handle("POST", "/api/printer/printhead", auth.PermControl, s.postPrinthead)
	s.handle("POST", "/api/printer/command", auth.PermControl, s.postPrinterCommand)
	s.handle("GET", "/api/printer/command/custom", auth.PermControl, s.getCustomControls)
	s.handle("GET", "/api/printer/error", auth.PermStatus, s.getPrinterError)
}

type printerState struct {
	Text  string        `json:"text"`
	Flags printer.Flags `json:"flags"`
	Error string        `json:"error"`
}

// historyPoint encodes as {"time": 1700000000, "tool0": {...}, ...}.
type historyPoint struct {
	time    int64
	heaters map[string]printer.HistoryTemp
}

func (p historyPoint) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(p.heaters)+1)
	for k, v := range p.heaters {
		m[k] = v
	}
	m["time"] = p.time
	return json.Marshal(m)
}

// historyQuery reads ?history and ?limit.
func historyQuery(w http.ResponseWriter, r *http.Request) (want bool, limit int, ok bool) {
	q := r.URL.Query()
	want = parseBool(q.Get("history"))
	limit = 300
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit %q is not a non-negative integer", l))
			return false, 0, false
		}
		limit = n
	}
	return want, limit, true
}

// history returns the newest points holding only the heaters keep accepts.
func (s *Server) history(limit int, keep func(string) bool) []historyPoint {
	if limit == 0 {
		return []historyPoint{}
	}
	pts := s.deps.Printer.History(limit)
	out := make([]historyPoint, 0, len(pts))
	for _, p := range pts {
		hp := historyPoint{time: p.Time, heaters: map[string]printer.HistoryTemp{}}
		for k, v := range p.Heaters {
			if keep(k) {
				hp.heaters[k] = v
			}
		}
		out = append(out, hp)
	}
	return out
}

// temperatures returns the heaters keep accepts, plus history when asked.
func (s *Server) temperatures(snap printer.Snapshot, history bool, limit int, keep func(string) bool) map[string]any {
	out := map[string]any{}
	for k, v := range snap.Temps {
		if keep(k) {
			out[k] = v
		}
	}
	if history {
		out["history"] = s.history(limit, keep)
	}
	return out
}

func all(string) bool       { return true }
func isTool(k string) bool  { return strings.HasPrefix(k, "tool") }
func isBed(k string) bool   { return k == "bed" }
func isChamb(k string) bool { return k == "chamber" }

// operational answers 409 unless the printer is operational, checked from
// the snapshot before the body as OctoPrint does (a Machine call would find
// out only after the body was read).
func (s *Server) operational(w http.ResponseWriter, r *http.Request) (printer.Snapshot, bool) {
	snap := s.deps.Printer.Snapshot()
	if !snap.State.Operational() {
		s.fail(w, r, printer.ErrNotOperational)
		return snap, false
	}
	return snap, true
}

func (s *Server) getPrinter(w http.ResponseWriter, r *http.Request) {
	snap, ok := s.operational(w, r)
	if !ok {
		return
	}
	history, limit, ok := historyQuery(w, r)
	if !ok {
		return
	}
	exclude := map[string]bool{}
	for _, e := range strings.Split(r.URL.Query().Get("exclude"), ",") {
		exclude[strings.TrimSpace(e)] = true
	}
	out := map[string]any{}
	if !exclude["temperature"] {
		out["temperature"] = s.temperatures(snap, history, limit, all)
	}
	if !exclude["sd"] {
		out["sd"] = map[string]bool{"ready": snap.SDReady}
	}
	if !exclude["state"] {
		out["state"] = printerState{Text: snap.StateText, Flags: snap.Flags, Error: snap.Error.Error}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getHeaters(w http.ResponseWriter, r *http.Request, keep func(string) bool, missing error) {
	snap, ok := s.operational(w, r)
	if !ok {
		return
	}
	if missing != nil {
		s.fail(w, r, missing)
		return
	}
	history, limit, ok := historyQuery(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, s.temperatures(snap, history, limit, keep))
}

func (s *Server) getPrinterTool(w http.ResponseWriter, r *http.Request) {
	s.getHeaters(w, r, isTool, nil)
}

func (s *Server) getPrinterBed(w http.ResponseWriter, r *http.Request) {
	var missing error
	if !s.deps.Printer.Profile().HeatedBed {
		missing = printer.ErrNoHeatedBed
	}
	s.getHeaters(w, r, isBed, missing)
}

func (s *Server) getPrinterChamber(w http.ResponseWriter, r *http.Request) {
	var missing error
	if !s.deps.Printer.Profile().HeatedChamber {
		missing = printer.ErrNoHeatedChamber
	}
	s.getHeaters(w, r, isChamb, missing)
}

// number reads a required number parameter, writing 400 when it is missing
// or not a number.
func number(w http.ResponseWriter, c command, key string) (float64, bool) {
	var v float64
	present, ok := c.get(w, key, &v)
	if !ok {
		return 0, false
	}
	if !present {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Mandatory parameter %q missing", key))
		return 0, false
	}
	return v, true
}

// numberMap reads a required {"name": number} parameter.
func numberMap(w http.ResponseWriter, c command, key string) (map[string]float64, bool) {
	var v map[string]float64
	present, ok := c.get(w, key, &v)
	if !ok {
		return nil, false
	}
	if !present || len(v) == 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Mandatory parameter %q missing", key))
		return nil, false
	}
	return v, true
}

func (s *Server) postPrinterTool(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.operational(w, r); !ok {
		return
	}
	name, c := decodeCommand(w, r)
	if name == "" {
		return
	}
	m, ctx := s.deps.Printer, r.Context()
	var err error
	switch name {
	case "target":
		targets, ok := numberMap(w, c, "targets")
		if !ok {
			return
		}
		err = m.SetToolTargets(ctx, targets)
	case "offset":
		offsets, ok := numberMap(w, c, "offsets")
		if !ok {
			return
		}
		err = m.SetToolOffsets(offsets)
	case "select":
		var tool string
		present, ok := c.get(w, "tool", &tool)
		if !ok {
			return
		}
		if !present {
			writeError(w, http.StatusBadRequest, `Mandatory parameter "tool" missing`)
			return
		}
		err = m.SelectTool(ctx, tool)
	case "extrude":
		amount, ok := number(w, c, "amount")
		if !ok {
			return
		}
		var speed float64
		if _, ok := c.get(w, "speed", &speed); !ok {
			return
		}
		err = m.Extrude(ctx, amount, speed)
	case "flowrate":
		f, ok := number(w, c, "factor")
		if !ok {
			return
		}
		err = m.SetFlowrate(ctx, f)
	default:
		writeError(w, http.StatusBadRequest, "command is invalid")
		return
	}
	s.noContentOr(w, r, err)
}

func (s *Server) postPrinterBed(w http.ResponseWriter, r *http.Request) {
	m := s.deps.Printer
	s.postHeater(w, r, m.SetBedTarget, m.SetBedOffset, m.Profile().HeatedBed, printer.ErrNoHeatedBed)
}

func (s *Server) postPrinterChamber(w http.ResponseWriter, r *http.Request) {
	m := s.deps.Printer
	s.postHeater(w, r, m.SetChamberTarget, m.SetChamberOffset, m.Profile().HeatedChamber, printer.ErrNoHeatedChamber)
}

func (s *Server) postHeater(w http.ResponseWriter, r *http.Request, target func(context.Context, float64) error,
	offset func(float64) error, exists bool, missing error) {
	if _, ok := s.operational(w, r); !ok {
		return
	}
	if !exists {
		s.fail(w, r, missing)
		return
	}
	name, c := decodeCommand(w, r)
	if name == "" {
		return
	}
	var err error
	switch name {
	case "target":
		v, ok := number(w, c, "target")
		if !ok {
			return
		}
		err = target(r.Context(), v)
	case "offset":
		v, ok := number(w, c, "offset")
		if !ok {
			return
		}
		err = offset(v)
	default:
		writeError(w, http.StatusBadRequest, "command is invalid")
		return
	}
	s.noContentOr(w, r, err)
}

// optNumber reads an optional number parameter into a pointer.
func optNumber(w http.ResponseWriter, c command, key string) (*float64, bool) {
	var v float64
	present, ok := c.get(w, key, &v)
	if !ok || !present {
		return nil, ok
	}
	return &v, true
}

func (s *Server) postPrinthead(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.operational(w, r); !ok {
		return
	}
	name, c := decodeCommand(w, r)
	if name == "" {
		return
	}
	m, ctx := s.deps.Printer, r.Context()
	var err error
	switch name {
	case "jog":
		var axes [3]*float64
		for i, k := range []string{"x", "y", "z"} {
			v, ok := optNumber(w, c, k)
			if !ok {
				return
			}
			axes[i] = v
		}
		var absolute bool
		if _, ok := c.get(w, "absolute", &absolute); !ok {
			return
		}
		speed, ok := optNumber(w, c, "speed")
		if !ok {
			return
		}
		sp := 0.0
		if speed != nil {
			sp = *speed
			if sp <= 0 {
				writeError(w, http.StatusBadRequest, "speed must be a positive number")
				return
			}
		}
		err = m.Jog(ctx, axes[0], axes[1], axes[2], absolute, sp)
	case "home":
		var axes []string
		raw, present := c["axes"]
		if !present {
			writeError(w, http.StatusBadRequest, `Mandatory parameter "axes" missing`)
			return
		}
		if json.Unmarshal(raw, &axes) != nil {
			var one string
			if json.Unmarshal(raw, &one) != nil {
				writeError(w, http.StatusBadRequest, "axes must be a list of x, y and z")
				return
			}
			axes = []string{one}
		}
		err = m.Home(ctx, axes)
	case "feedrate":
		f, ok := number(w, c, "factor")
		if !ok {
			return
		}
		err = m.SetFeedrate(ctx, f)
	default:
		writeError(w, http.StatusBadRequest, "command is invalid")
		return
	}
	s.noContentOr(w, r, err)
}

func (s *Server) postPrinterCommand(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.operational(w, r); !ok {
		return
	}
	var c command
	if !decodeJSON(w, r, &c) {
		return
	}
	var one, script string
	var many []string
	var params map[string]any
	hasOne, ok1 := c.get(w, "command", &one)
	if !ok1 {
		return
	}
	hasMany, ok2 := c.get(w, "commands", &many)
	if !ok2 {
		return
	}
	hasScript, ok3 := c.get(w, "script", &script)
	if !ok3 {
		return
	}
	if _, ok := c.get(w, "parameters", &params); !ok {
		return
	}
	modes := 0
	for _, b := range []bool{hasOne, hasMany, hasScript} {
		if b {
			modes++
		}
	}
	if modes != 1 {
		writeError(w, http.StatusBadRequest, "give exactly one of command, commands or script")
		return
	}
	if hasScript {
		var tctx map[string]any
		if _, ok := c.get(w, "context", &tctx); !ok {
			return
		}
		s.runScript(w, r, script, params, tctx)
		return
	}
	cmds := many
	if hasOne {
		cmds = []string{one}
	}
	for i, cmd := range cmds {
		cmds[i] = substitute(cmd, params)
		if strings.ContainsAny(cmds[i], "\r\n") {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("command %q holds a line break: send one command per entry", cmd))
			return
		}
	}
	s.noContentOr(w, r, s.deps.Printer.Send(r.Context(), cmds...))
}

// runScript renders the G-code script name from the settings (scripts.gcode)
// as a template over {"parameters": …, "context": …}, as OctoPrint hands
// them to its scripts, and sends its lines. An unknown name is 404, a
// template that fails (a parameter it needs is missing) 400.
func (s *Server) runScript(w http.ResponseWriter, r *http.Request, name string, params, tctx map[string]any) {
	var src string
	found := false
	if s.deps.Settings != nil {
		src, found = s.deps.Settings.Get().Scripts.Gcode[name]
	}
	if !found {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown script %q", name))
		return
	}
	if params == nil {
		params = map[string]any{}
	}
	if tctx == nil {
		tctx = map[string]any{}
	}
	lines, err := job.RenderWith(name, src, map[string]any{"parameters": params, "context": tctx})
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.noContentOr(w, r, s.deps.Printer.Send(r.Context(), lines...))
}

// substitute replaces OctoPrint's "%(name)s" placeholders with parameters.
func substitute(cmd string, params map[string]any) string {
	if len(params) == 0 || !strings.Contains(cmd, "%(") {
		return cmd
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := fmt.Sprint(params[k])
		for _, verb := range []string{"s", "d", "f", "i"} {
			cmd = strings.ReplaceAll(cmd, "%("+k+")"+verb, v)
		}
	}
	return cmd
}

func (s *Server) getCustomControls(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string][]any{"controls": {}})
}

type printerError struct {
	Error       string   `json:"error"`
	Reason      string   `json:"reason"`
	Consequence string   `json:"consequence,omitempty"`
	Logs        []string `json:"logs,omitempty"`
}

func (s *Server) getPrinterError(w http.ResponseWriter, r *http.Request) {
	e := s.deps.Printer.ErrorInfo()
	out := printerError{Error: e.Error, Reason: e.Reason, Consequence: e.Consequence}
	if e.Error != "" {
		if id := auth.UserFrom(r.Context()); id != nil && id.Has(auth.PermMonitorTerminal) {
			out.Logs, _ = s.deps.Printer.Terminal(0)
		}
	}
	writeJSON(w, http.StatusOK, out)
}
