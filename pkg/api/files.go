package api

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/files"
	"github.com/cuttleprint/cuttle/pkg/job"
	"github.com/gorilla/mux"
)

// DefaultUploadMax is the upload limit when Deps.UploadMaxBytes is zero
// (OctoPrint's server.uploads.maxSize).
const DefaultUploadMax = 1 << 30

func (s *Server) routesFiles() {
	if s.deps.Files == nil {
		return
	}
	max := s.deps.UploadMaxBytes
	if max == 0 {
		max = DefaultUploadMax
	}
	s.handle("GET", "/api/files", auth.PermFilesList, s.listAllFiles)
	s.handle("POST", "/api/files/test", auth.PermFilesList, s.testFile)
	s.handle("GET", "/api/files/{loc}", auth.PermFilesList, s.listLocation)
	s.handle("POST", "/api/files/{loc}", auth.PermFilesUpload, s.upload, MaxBody(max), FormKey())
	s.handle("GET", "/api/files/{loc}/{path:.+}", auth.PermFilesList, s.getFile)
	s.handle("POST", "/api/files/{loc}/{path:.+}", AnyUser, s.fileCommand)
	s.handle("DELETE", "/api/files/{loc}/{path:.+}", auth.PermFilesDelete, s.deleteFile)
	s.handle("GET", "/downloads/files/{loc}/{path:.+}", auth.PermFilesDownload, s.download)
	s.handle("HEAD", "/downloads/files/{loc}/{path:.+}", auth.PermFilesDownload, s.download)
	s.handle("GET", "/api/cuttle/thumbnail/{loc}/{path:.+}", auth.PermFilesDownload, s.thumbnail)
	s.routesSD()
}

// thumbnail serves the preview image the analysis found in a file.
func (s *Server) thumbnail(w http.ResponseWriter, r *http.Request) {
	if mux.Vars(r)["loc"] != "local" {
		writeError(w, http.StatusNotFound, "only local files have thumbnails")
		return
	}
	f, mt, err := s.deps.Files.Thumbnail(r.Context(), mux.Vars(r)["path"])
	if err != nil {
		writeFilesError(w, err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", mt)
	w.Header().Set("Cache-Control", "max-age=86400")
	http.ServeContent(w, r, "", st.ModTime(), f)
}

// escapePath percent-escapes each component of a stored path for a URL.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, c := range parts {
		parts[i] = url.PathEscape(c)
	}
	return strings.Join(parts, "/")
}

func resourceURL(r *http.Request, p string) string {
	return baseURL(r) + "/api/files/local/" + escapePath(p)
}

func downloadURL(r *http.Request, p string) string {
	return baseURL(r) + "/downloads/files/local/" + escapePath(p)
}

// fileJSON is OctoPrint's file or folder entry.
type fileJSON struct {
	Name          string            `json:"name"`
	Display       string            `json:"display"`
	Path          string            `json:"path"`
	Type          string            `json:"type"`
	TypePath      []string          `json:"typePath"`
	Origin        string            `json:"origin"`
	Hash          string            `json:"hash,omitempty"`
	Size          *int64            `json:"size,omitempty"`
	Date          *int64            `json:"date,omitempty"`
	User          string            `json:"user,omitempty"`
	Refs          map[string]string `json:"refs"`
	GcodeAnalysis json.RawMessage   `json:"gcodeAnalysis,omitempty"`
	Prints        *files.Prints     `json:"prints,omitempty"`
	Statistics    *files.Statistics `json:"statistics,omitempty"`
	Userdata      json.RawMessage   `json:"userdata,omitempty"`
	Thumbnail     string            `json:"thumbnail,omitempty"`
	ThumbnailSrc  string            `json:"thumbnail_src,omitempty"`
	Children      *[]*fileJSON      `json:"children,omitempty"`
}

// entryJSON converts an index entry to its API shape (without children).
func (s *Server) entryJSON(r *http.Request, e *files.Entry) *fileJSON {
	name := e.Name()
	f := &fileJSON{Name: name, Display: e.Display, Path: e.Path, Origin: "local",
		Refs: map[string]string{"resource": resourceURL(r, e.Path)}}
	if f.Display == "" {
		f.Display = name
	}
	if e.Folder {
		f.Type, f.TypePath = "folder", []string{"folder"}
		return f
	}
	f.Type, f.TypePath = "machinecode", files.TypePath(name)
	f.Refs["download"] = downloadURL(r, e.Path)
	size, date := e.Size, e.Date
	f.Size, f.Date, f.Hash, f.User = &size, &date, e.Hash, e.User
	f.Prints, f.Statistics, f.Userdata = e.Prints, e.Statistics, e.Userdata
	f.GcodeAnalysis = e.Analysis
	if e.Thumbnail != "" {
		// Relative, as the slicer-thumbnail plugins clients know give it.
		f.Thumbnail = "api/cuttle/thumbnail/local/" + escapePath(e.Path) + "?" + e.Hash[:min(8, len(e.Hash))]
		f.ThumbnailSrc = "cuttle"
	}
	if frac, running := s.deps.Files.AnalysisProgress(e.Path); running {
		m := map[string]any{}
		if e.Analysis != nil {
			json.Unmarshal(e.Analysis, &m)
		}
		m["progress"] = frac
		f.GcodeAnalysis, _ = json.Marshal(m)
	}
	return f
}

// tree builds the nested listing of entries (sorted by path) below root.
// depth 0 is unlimited; depth 1 gives root's direct children; depth 2 also
// the children of first-level folders (OctoPrint's non-recursive listing).
func (s *Server) tree(r *http.Request, root string, es []*files.Entry, depth int, filter string) []*fileJSON {
	out := []*fileJSON{}
	byPath := map[string]*fileJSON{}
	level := func(p string) int {
		rel := p
		if root != "" {
			rel = p[len(root)+1:]
		}
		return strings.Count(rel, "/") + 1
	}
	for _, e := range es {
		lv := level(e.Path)
		if depth > 0 && lv > depth {
			continue
		}
		if !e.Folder && filter != "" && filter != "machinecode" {
			continue
		}
		f := s.entryJSON(r, e)
		if e.Folder && (depth == 0 || lv < depth) {
			kids := []*fileJSON{}
			f.Children = &kids
		}
		byPath[e.Path] = f
		parent := e.Dir()
		if lv == 1 {
			out = append(out, f)
		} else if p, ok := byPath[parent]; ok && p.Children != nil {
			*p.Children = append(*p.Children, f)
		}
	}
	if depth == 0 {
		for _, f := range out {
			folderSize(f)
		}
	}
	return out
}

// folderSize fills the size of folders (recursive listings only).
func folderSize(f *fileJSON) int64 {
	if f.Children == nil {
		if f.Size != nil {
			return *f.Size
		}
		return 0
	}
	var n int64
	for _, c := range *f.Children {
		n += folderSize(c)
	}
	f.Size = &n
	return n
}

// listingFresh answers 304 when the client's validators match the current
// listing, having set ETag and Last-Modified either way.
func (s *Server) listingFresh(w http.ResponseWriter, r *http.Request, free int64) bool {
	gen, mod := s.deps.Files.Version()
	h := sha1.New()
	fmt.Fprintf(h, "%d|%d|%s|%d", gen, mod.UnixNano(), r.URL.RawQuery, free>>20)
	if s.deps.Job != nil {
		p, _ := s.deps.Job.Selected()
		fmt.Fprintf(h, "|%s", p)
		for _, f := range s.deps.Job.SDFiles() {
			fmt.Fprintf(h, "|%s:%d", f.Name, f.Size)
		}
	}
	etag := `"` + hex.EncodeToString(h.Sum(nil))[:20] + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	if !mod.IsZero() {
		w.Header().Set("Last-Modified", mod.UTC().Format(http.TimeFormat))
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			if t = strings.TrimSpace(t); t == etag || t == "W/"+etag || t == "*" {
				w.WriteHeader(http.StatusNotModified)
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" && !mod.IsZero() {
		if t, err := http.ParseTime(ims); err == nil && !mod.Truncate(time.Second).After(t) {
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	return false
}

// listing answers a listing of the local files ({"files": [...], "free",
// "total"}), with the SD card's files too when withSD is set.
func (s *Server) listing(w http.ResponseWriter, r *http.Request, withSD bool) {
	q := r.URL.Query()
	if parseBool(q.Get("force")) {
		if err := s.deps.Files.Reconcile(r.Context()); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
	}
	free, total, _ := s.deps.Files.Usage()
	if s.listingFresh(w, r, free) {
		return
	}
	recursive := parseBool(q.Get("recursive"))
	es, err := s.deps.Files.List(r.Context(), "", recursive)
	if err != nil {
		writeFilesError(w, err)
		return
	}
	depth := 2
	if recursive {
		depth = 0
	}
	all := s.tree(r, "", es, depth, q.Get("filter"))
	if withSD {
		all = append(all, s.sdEntries(r)...)
	}
	writeJSON(w, http.StatusOK, map[string]any{"files": all, "free": free, "total": total})
}

func (s *Server) listAllFiles(w http.ResponseWriter, r *http.Request) { s.listing(w, r, true) }

func (s *Server) listLocation(w http.ResponseWriter, r *http.Request) {
	if !s.knownLocation(w, r) {
		return
	}
	if mux.Vars(r)["loc"] == "sdcard" {
		writeJSON(w, http.StatusOK, map[string]any{"files": s.sdEntries(r)})
		return
	}
	s.listing(w, r, false)
}

// knownLocation writes 404 for anything but "local" (and "sdcard" with SD
// support) and reports whether the request may go on.
func (s *Server) knownLocation(w http.ResponseWriter, r *http.Request) bool {
	switch loc := mux.Vars(r)["loc"]; loc {
	case "local":
		return true
	case "sdcard":
		if s.sdEnabled() {
			return true
		}
		writeError(w, http.StatusNotFound, "SD card support is disabled")
		return false
	default:
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown location %q", loc))
		return false
	}
}

func (s *Server) getFile(w http.ResponseWriter, r *http.Request) {
	if !s.knownLocation(w, r) {
		return
	}
	if mux.Vars(r)["loc"] == "sdcard" {
		s.sdFile(w, r, mux.Vars(r)["path"])
		return
	}
	e, err := s.deps.Files.Get(r.Context(), mux.Vars(r)["path"])
	if err != nil {
		writeFilesError(w, err)
		return
	}
	f := s.entryJSON(r, e)
	if e.Folder {
		es, err := s.deps.Files.List(r.Context(), e.Path, parseBool(r.URL.Query().Get("recursive")))
		if err != nil {
			writeFilesError(w, err)
			return
		}
		depth := 1
		if parseBool(r.URL.Query().Get("recursive")) {
			depth = 0
		}
		kids := s.tree(r, e.Path, es, depth, r.URL.Query().Get("filter"))
		f.Children = &kids
	}
	writeJSON(w, http.StatusOK, f)
}

func (s *Server) deleteFile(w http.ResponseWriter, r *http.Request) {
	if !s.knownLocation(w, r) {
		return
	}
	p := mux.Vars(r)["path"]
	if mux.Vars(r)["loc"] == "sdcard" {
		s.sdDelete(w, r, p)
		return
	}
	e, err := s.deps.Files.Get(r.Context(), p)
	if err != nil {
		writeFilesError(w, err)
		return
	}
	if s.deps.Job != nil {
		if err := s.deps.Job.Release(e.Path); err != nil {
			writeError(w, http.StatusConflict, err.Error())
			return
		}
	}
	if err := s.deps.Files.Remove(r.Context(), e.Path); err != nil {
		writeFilesError(w, err)
		return
	}
	noContent(w)
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	if mux.Vars(r)["loc"] != "local" {
		writeError(w, http.StatusNotFound, "only local files can be downloaded")
		return
	}
	f, e, err := s.deps.Files.Open(r.Context(), mux.Vars(r)["path"])
	if err != nil {
		writeFilesError(w, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+strings.ReplaceAll(e.Name(), `"`, "")+`"`)
	w.Header().Set("ETag", `"`+e.Hash+`"`)
	http.ServeContent(w, r, e.Name(), time.Unix(e.Date, 0), f)
}

// writeFilesError maps a files error to its status.
func writeFilesError(w http.ResponseWriter, err error) {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("upload larger than %d bytes", tooBig.Limit))
	case errors.Is(err, files.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, files.ErrInvalidPath):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, files.ErrExists), errors.Is(err, files.ErrInUse), errors.Is(err, job.ErrBusy):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, files.ErrUnsupportedType):
		writeError(w, http.StatusUnsupportedMediaType, err.Error())
	case errors.Is(err, files.ErrNotFolder):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, job.ErrNotOperational):
		writeError(w, http.StatusConflict, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

// testFile is POST /api/files/test: sanitize or exists.
func (s *Server) testFile(w http.ResponseWriter, r *http.Request) {
	name, c := decodeCommand(w, r)
	if c == nil {
		return
	}
	var storage, p, filename string
	for k, v := range map[string]*string{"storage": &storage, "path": &p, "filename": &filename} {
		if _, ok := c.get(w, k, v); !ok {
			return
		}
	}
	if storage != "" && storage != "local" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown storage %q", storage))
		return
	}
	switch name {
	case "sanitize":
		full := p
		if filename != "" {
			full = strings.TrimSuffix(p, "/") + "/" + filename
		}
		sp, err := files.SanitizePath(strings.TrimLeft(full, "/"))
		if err != nil {
			writeFilesError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"sanitized": sp})
	case "exists":
		full := strings.TrimLeft(strings.TrimSuffix(p, "/")+"/"+filename, "/")
		sp, err := files.SanitizePath(full)
		if err != nil {
			writeFilesError(w, err)
			return
		}
		e, err := s.deps.Files.Get(r.Context(), sp)
		if errors.Is(err, files.ErrNotFound) {
			writeJSON(w, http.StatusOK, map[string]any{"exists": false})
			return
		}
		if err != nil {
			writeFilesError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"exists": true, "suggestion": s.suggest(r, sp),
			"size": e.Size, "date": e.Date})
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown command %q", name))
	}
}

// suggest returns the first free "name_N.ext" next to p.
func (s *Server) suggest(r *http.Request, p string) string {
	dir, name := "", p
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		dir, name = p[:i+1], p[i+1:]
	}
	base, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		base, ext = name[:i], name[i:]
	}
	for n := 1; n < 10000; n++ {
		cand := base + "_" + strconv.Itoa(n) + ext
		if _, err := s.deps.Files.Get(r.Context(), dir+cand); errors.Is(err, files.ErrNotFound) {
			return cand
		}
	}
	return name
}
