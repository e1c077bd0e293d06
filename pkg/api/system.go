package api

import (
	"net/http"
	"time"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/system"
	"github.com/gorilla/mux"
)

// PermLogs is the permission OctoPrint's logging plugin uses for log files.
const PermLogs = auth.PermAdmin

func (s *Server) routesSystem() {
	if s.deps.Commands != nil {
		s.handle("GET", "/api/system/commands", auth.PermSystem, s.listCommands)
		s.handle("GET", "/api/system/commands/{source}", auth.PermSystem, s.listCommands)
		s.handle("POST", "/api/system/commands/{source}/{action}", auth.PermSystem, s.runCommand)
		s.handle("GET", "/api/system/info", auth.PermSystem, s.systemInfo)
	}
	if s.deps.Logs != nil {
		for _, base := range []string{"/api/logs", "/plugin/logging/logs"} {
			s.handle("GET", base, PermLogs, s.listLogs)
			s.handle("DELETE", base+"/{name}", PermLogs, s.deleteLog)
		}
		s.handle("GET", "/downloads/logs/{name}", PermLogs, s.downloadLog)
	}
}

type commandRecord struct {
	system.Command
	Resource         string `json:"resource"`
	FreshCredentials bool   `json:"fresh_credentials"`
}

func (s *Server) listCommands(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r) + "/api/system/commands/"
	render := func(src string) []commandRecord {
		out := []commandRecord{}
		for _, c := range s.deps.Commands.List(src) {
			out = append(out, commandRecord{Command: c, Resource: base + c.Source + "/" + c.Action, FreshCredentials: c.Source == "core"})
		}
		return out
	}
	switch src, ok := mux.Vars(r)["source"]; {
	case !ok:
		writeJSON(w, http.StatusOK, map[string]any{"core": render("core"), "custom": render("custom")})
	case src == "core" || src == "custom":
		writeJSON(w, http.StatusOK, render(src))
	default:
		writeError(w, http.StatusNotFound, "no such command source: "+src+" (core, custom)")
	}
}

func (s *Server) runCommand(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	if err := s.deps.Commands.Run(r.Context(), v["source"], v["action"]); err != nil {
		s.fail(w, r, err)
		return
	}
	noContent(w)
}

func (s *Server) systemInfo(w http.ResponseWriter, r *http.Request) {
	dir := ""
	if s.deps.Logs != nil {
		dir = s.deps.Logs.Dir
	}
	writeJSON(w, http.StatusOK, map[string]any{"systeminfo": system.Info(s.deps.Version, dir, s.deps.Started)})
}

func (s *Server) listLogs(w http.ResponseWriter, r *http.Request) {
	list, err := s.deps.Logs.List()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	base := baseURL(r)
	files := []map[string]any{}
	var used int64
	for _, l := range list {
		used += l.Size
		files = append(files, map[string]any{"name": l.Name, "size": l.Size, "date": l.Date,
			"refs": map[string]string{"resource": base + "/plugin/logging/logs/" + l.Name, "download": base + "/downloads/logs/" + l.Name}})
	}
	info := system.Info(s.deps.Version, s.deps.Logs.Dir, time.Now())
	writeJSON(w, http.StatusOK, map[string]any{"files": files, "free": info["env.disk.free"], "total": info["env.disk.total"]})
}

func (s *Server) deleteLog(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.Logs.Delete(mux.Vars(r)["name"]); err != nil {
		s.fail(w, r, err)
		return
	}
	noContent(w)
}

func (s *Server) downloadLog(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	p, err := s.deps.Logs.Path(name)
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	http.ServeFile(w, r, p)
}
