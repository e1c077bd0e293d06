package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/files"
	"github.com/gorilla/mux"
)

// maxFieldBytes bounds each non-file form field of an upload.
const maxFieldBytes = 64 << 10

// copyBufs are the buffers uploads are streamed through.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// upload is POST /api/files/{loc}: a multipart upload streamed to a
// temporary file in the storage, or a folder creation.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	if !s.knownLocation(w, r) {
		return
	}
	toSD := mux.Vars(r)["loc"] == "sdcard"
	if toSD && !s.deps.Job.Ready() {
		writeError(w, http.StatusConflict, "printer is not ready for a transfer to the SD card")
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		writeError(w, http.StatusBadRequest, "expected a multipart/form-data body with a file or a foldername")
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "malformed multipart body: "+err.Error())
		return
	}
	fields := map[string]string{}
	var up *files.Upload
	var upName string
	defer func() {
		if up != nil {
			up.Abort()
		}
	}()
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			writeUploadReadError(w, err)
			return
		}
		name := part.FormName()
		if name == "file" && part.FileName() != "" || name == "file" && up == nil && hasFilenameParam(part.Header.Get("Content-Disposition")) {
			if up != nil {
				writeError(w, http.StatusBadRequest, "more than one file in the upload")
				return
			}
			upName = rawFileName(part.Header.Get("Content-Disposition"), part.FileName())
			if up, err = s.deps.Files.NewUpload(); err != nil {
				writeError(w, http.StatusInternalServerError, err.Error())
				return
			}
			bp := copyBufs.Get().(*[]byte)
			_, err = io.CopyBuffer(up, part, *bp)
			copyBufs.Put(bp)
			if err != nil {
				writeUploadReadError(w, err)
				return
			}
			continue
		}
		raw, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
		if err != nil {
			writeUploadReadError(w, err)
			return
		}
		if len(raw) > maxFieldBytes {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("form field %q is longer than %d bytes", name, maxFieldBytes))
			return
		}
		fields[name] = string(raw)
	}
	if up == nil {
		if fn, ok := fields["foldername"]; ok {
			s.createFolder(w, r, fields["path"], fn)
			return
		}
		writeError(w, http.StatusBadRequest, "no file to upload and no folder to create")
		return
	}
	s.commitUpload(w, r, up, upName, fields, toSD)
	up = nil
}

// hasFilenameParam reports whether a Content-Disposition names a file,
// even an empty name.
func hasFilenameParam(cd string) bool {
	_, params, err := mime.ParseMediaType(cd)
	if err != nil {
		return false
	}
	_, ok := params["filename"]
	return ok
}

// rawFileName returns the filename parameter as sent, including any
// folders (Go's FileName keeps only the last element).
func rawFileName(cd, fallback string) string {
	if _, params, err := mime.ParseMediaType(cd); err == nil {
		if fn, ok := params["filename"]; ok {
			return fn
		}
	}
	return fallback
}

func writeUploadReadError(w http.ResponseWriter, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("upload larger than %d bytes", tooBig.Limit))
		return
	}
	writeError(w, http.StatusBadRequest, "malformed or interrupted upload: "+err.Error())
}

// uploadTarget works out where an upload goes: the folder from the `path`
// field (or from the file name when no path is given) and the name from
// the `filename` field or the file name. It returns the sanitised path and
// the display name.
func uploadTarget(fileName string, fields map[string]string) (string, string, error) {
	fileName = strings.ReplaceAll(fileName, `\`, "/")
	if strings.HasPrefix(fileName, "/") {
		return "", "", fmt.Errorf("%w: file name %q is absolute", files.ErrInvalidPath, fileName)
	}
	dir, name := "", fileName
	if i := strings.LastIndexByte(fileName, '/'); i >= 0 {
		dir, name = fileName[:i], fileName[i+1:]
	}
	if p, ok := fields["path"]; ok {
		dir = strings.Trim(strings.ReplaceAll(p, `\`, "/"), "/")
	}
	if fn := fields["filename"]; fn != "" {
		name = fn
	}
	if name == "" {
		return "", "", fmt.Errorf("%w: the file has no name", files.ErrInvalidPath)
	}
	sdir, err := files.SanitizePath(dir)
	if err != nil {
		return "", "", err
	}
	sname, err := files.SanitizeName(name)
	if err != nil {
		return "", "", err
	}
	if sdir != "" {
		return sdir + "/" + sname, name, nil
	}
	return sname, name, nil
}

func (s *Server) commitUpload(w http.ResponseWriter, r *http.Request, up *files.Upload, fileName string, fields map[string]string, toSD bool) {
	defer up.Abort()
	id := auth.UserFrom(r.Context())
	target, display, err := uploadTarget(fileName, fields)
	if err != nil {
		writeFilesError(w, err)
		return
	}
	if !files.IsMachineCode(target) {
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("%q is not a machine-code file (.gcode, .gco, .g)", display))
		return
	}
	var userdata json.RawMessage
	if u, ok := fields["userdata"]; ok && u != "" {
		if !json.Valid([]byte(u)) {
			writeError(w, http.StatusBadRequest, "userdata is not valid JSON")
			return
		}
		userdata = json.RawMessage(u)
	}
	if _, err := s.deps.Files.Get(r.Context(), target); err == nil && !id.Has(auth.PermFilesDelete) {
		writeError(w, http.StatusForbidden, "overwriting "+target+" needs permission FILES_DELETE")
		return
	}
	wantSelect, wantPrint := parseBool(fields["select"]), parseBool(fields["print"])
	e, err := s.deps.Files.Commit(r.Context(), up, target, files.CommitOptions{Display: display, User: id.Name(),
		Userdata: userdata, NoOverwrite: parseBool(fields["noOverwrite"])})
	if err != nil {
		writeFilesError(w, err)
		return
	}
	if toSD {
		s.transferResponse(w, r, e)
		return
	}
	effSelect, effPrint := false, false
	if (wantSelect || wantPrint) && s.deps.Job != nil && s.deps.Job.Ready() && id.Has(auth.PermFilesSelect) {
		if err := s.deps.Job.Select(r.Context(), e.Path, id.Name()); err == nil {
			effSelect = true
			if wantPrint && id.Has(auth.PermPrint) {
				effPrint = s.deps.Job.Start(r.Context(), id.Name()) == nil
			}
		}
	}
	var ud any
	if userdata != nil {
		ud = userdata
	}
	s.publish(events.Upload{FileName: e.Name(), Path: e.Path, Target: "local", Select: wantSelect,
		Print: wantPrint, EffectiveSelect: effSelect, EffectivePrint: effPrint, Userdata: ud})
	loc := resourceURL(r, e.Path)
	w.Header().Set("Location", loc)
	writeJSON(w, http.StatusCreated, map[string]any{
		"files": map[string]any{"local": map[string]any{"name": e.Name(), "display": e.Display, "path": e.Path, "origin": "local",
			"refs": map[string]string{"resource": loc, "download": downloadURL(r, e.Path)}}},
		"done": true, "effectiveSelect": effSelect, "effectivePrint": effPrint,
	})
}

func (s *Server) createFolder(w http.ResponseWriter, r *http.Request, parent, name string) {
	if strings.TrimSpace(name) == "" {
		writeError(w, http.StatusBadRequest, "foldername is empty")
		return
	}
	full := strings.Trim(strings.ReplaceAll(parent, `\`, "/"), "/")
	if full != "" {
		full += "/"
	}
	p, err := files.SanitizePath(full + name)
	if err != nil {
		writeFilesError(w, err)
		return
	}
	e, err := s.deps.Files.AddFolder(r.Context(), p, name)
	if err != nil {
		writeFilesError(w, err)
		return
	}
	loc := resourceURL(r, e.Path)
	w.Header().Set("Location", loc)
	writeJSON(w, http.StatusCreated, map[string]any{
		"folder": map[string]any{"name": e.Name(), "display": e.Display, "path": e.Path, "origin": "local",
			"refs": map[string]string{"resource": loc}},
		"done": true,
	})
}

// transferResponse starts streaming the local file e to the SD card and
// answers 201 with both entries (the SD one not done yet).
func (s *Server) transferResponse(w http.ResponseWriter, r *http.Request, e *files.Entry) {
	remote, err := s.deps.Job.TransferToSD(r.Context(), e.Path, auth.UserFrom(r.Context()).Name())
	if err != nil {
		writeJobError(w, err)
		return
	}
	loc := baseURL(r) + "/api/files/sdcard/" + escapePath(remote)
	w.Header().Set("Location", loc)
	writeJSON(w, http.StatusCreated, map[string]any{
		"files": map[string]any{
			"local": map[string]any{"name": e.Name(), "path": e.Path, "origin": "local",
				"refs": map[string]string{"resource": resourceURL(r, e.Path), "download": downloadURL(r, e.Path)}},
			"sdcard": map[string]any{"name": remote, "path": remote, "origin": "sdcard", "refs": map[string]string{"resource": loc}},
		},
		"done": false, "effectiveSelect": false, "effectivePrint": false,
	})
}
