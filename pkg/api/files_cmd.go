package api

import (
	"fmt"
	"net/http"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/files"
	"github.com/gorilla/mux"
)

// fileCommand is POST /api/files/{loc}/{path}: select, unselect, analyse,
// copy, move, uploadSd. Each command checks its own permissions.
func (s *Server) fileCommand(w http.ResponseWriter, r *http.Request) {
	if !s.knownLocation(w, r) {
		return
	}
	name, c := decodeCommand(w, r)
	if c == nil {
		return
	}
	id := auth.UserFrom(r.Context())
	need := map[string][]auth.Permission{
		"select":   {auth.PermFilesSelect},
		"unselect": {auth.PermFilesSelect},
		"analyse":  {auth.PermFilesUpload},
		"copy":     {auth.PermFilesUpload},
		"move":     {auth.PermFilesUpload, auth.PermFilesDelete},
		"uploadSd": {auth.PermFilesUpload},
	}[name]
	if need == nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown command %q", name))
		return
	}
	var printToo bool
	if name == "select" {
		if _, ok := c.get(w, "print", &printToo); !ok {
			return
		}
		if printToo {
			need = append(need, auth.PermPrint)
		}
	}
	for _, p := range need {
		if !id.Has(p) {
			writeError(w, http.StatusForbidden, "permission "+string(p)+" required")
			return
		}
	}
	p := mux.Vars(r)["path"]
	if mux.Vars(r)["loc"] == "sdcard" && name != "unselect" {
		s.sdCommand(w, r, name, p, printToo)
		return
	}
	if name == "unselect" {
		s.unselect(w, r, p)
		return
	}
	e, err := s.deps.Files.Get(r.Context(), p)
	if err != nil {
		writeFilesError(w, err)
		return
	}
	switch name {
	case "select":
		s.selectFile(w, r, e, printToo)
	case "analyse":
		if err := s.deps.Files.Analyse(r.Context(), e.Path); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		noContent(w)
	case "copy", "move":
		var dst string
		if ok, good := c.get(w, "destination", &dst); !good {
			return
		} else if !ok {
			writeError(w, http.StatusBadRequest, "destination is missing")
			return
		}
		to, err := s.deps.Files.Destination(r.Context(), e, dst)
		if err != nil {
			writeFilesError(w, err)
			return
		}
		var ne *files.Entry
		if name == "copy" {
			ne, err = s.deps.Files.Copy(r.Context(), e.Path, to)
		} else {
			if s.deps.Job != nil {
				if err := s.deps.Job.Release(e.Path); err != nil {
					writeError(w, http.StatusConflict, err.Error())
					return
				}
			}
			ne, err = s.deps.Files.Move(r.Context(), e.Path, to)
		}
		if err != nil {
			writeFilesError(w, err)
			return
		}
		loc := resourceURL(r, ne.Path)
		w.Header().Set("Location", loc)
		refs := map[string]string{"resource": loc}
		if !ne.Folder {
			refs["download"] = downloadURL(r, ne.Path)
		}
		writeJSON(w, http.StatusCreated, map[string]any{"origin": "local", "name": ne.Name(), "path": ne.Path, "refs": refs})
	case "uploadSd":
		if !s.sdEnabled() {
			writeError(w, http.StatusNotFound, "SD support is disabled")
			return
		}
		if e.Folder {
			writeError(w, http.StatusBadRequest, "a folder cannot be copied to the SD card")
			return
		}
		s.transferResponse(w, r, e)
	}
}

func (s *Server) selectFile(w http.ResponseWriter, r *http.Request, e *files.Entry, printToo bool) {
	if e.Folder || !files.IsMachineCode(e.Name()) {
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("%q is not a machine-code file", e.Path))
		return
	}
	j := s.deps.Job
	if j == nil {
		writeError(w, http.StatusConflict, "no printer is configured")
		return
	}
	if printToo && !j.Operational() {
		writeError(w, http.StatusConflict, "printer is not operational, cannot print")
		return
	}
	id := auth.UserFrom(r.Context())
	if err := j.Select(r.Context(), e.Path, id.Name()); err != nil {
		writeFilesError(w, err)
		return
	}
	if printToo {
		if err := j.Start(r.Context(), id.Name()); err != nil {
			writeFilesError(w, err)
			return
		}
	}
	noContent(w)
}

func (s *Server) unselect(w http.ResponseWriter, r *http.Request, p string) {
	j := s.deps.Job
	if j == nil {
		writeError(w, http.StatusConflict, "no file is selected")
		return
	}
	cur, ok := j.Selected()
	if !ok {
		writeError(w, http.StatusConflict, "no file is selected")
		return
	}
	if p != "current" && p != cur {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%q is not the selected file", p))
		return
	}
	if err := j.Unselect(); err != nil {
		writeFilesError(w, err)
		return
	}
	noContent(w)
}
