package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/api"
	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/files"
	"github.com/cuttleprint/cuttle/pkg/gcode/gcodetest"
	"github.com/cuttleprint/cuttle/pkg/job"
	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/printer/printertest"
	"github.com/cuttleprint/cuttle/pkg/profiles"
	"github.com/cuttleprint/cuttle/pkg/store"
	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

// filesEnv is the API with files, a job controller and a printer over
// scripted firmware, served over loopback.
type filesEnv struct {
	t        testing.TB
	srv      *httptest.Server
	files    *files.Storage
	job      *job.Controller
	rig      *printertest.Rig
	machine  *printer.Machine
	vp       *virtualprinter.Printer
	root     string
	bus      *events.Bus
	adminKey string
	roKey    string
	userKey  string
}

type filesOpts struct {
	maxUpload int64
	reply     func(cmd string) ([]string, bool)
	scripts   *job.Scripts
	// virtual, when set, puts the virtual printer behind port VIRTUAL
	// instead of the scripted firmware.
	virtual *virtualprinter.Config
	// analyse is the storage's analyser (none when nil).
	analyse files.Analyser
}

func newFilesEnv(t testing.TB, o filesOpts) *filesEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := auth.NewService(db, auth.Options{Hash: cheap})
	e := &filesEnv{t: t, root: filepath.Join(dir, "uploads"), bus: events.NewBus()}
	for _, u := range []auth.NewUser{
		{Name: "admin", Password: "pw", Groups: []string{"admins", "users"}, Active: true},
		{Name: "ro", Password: "pw", Groups: []string{"readonly"}, Active: true},
		{Name: "user", Password: "pw", Groups: []string{"users"}, Active: true},
	} {
		if _, err := svc.AddUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	e.adminKey, _ = svc.GenerateKey(ctx, "admin")
	e.roKey, _ = svc.GenerateKey(ctx, "ro")
	e.userKey, _ = svc.GenerateKey(ctx, "user")
	e.files, err = files.Open(ctx, files.Options{Root: e.root, DB: db, Bus: e.bus, Analyse: o.analyse})
	if err != nil {
		t.Fatal(err)
	}
	if o.virtual != nil {
		e.vp = virtualprinter.New(*o.virtual)
		var serving sync.WaitGroup
		e.machine = printer.New(printer.Config{Events: e.bus, Builtin: map[string]printer.PortOpener{
			"VIRTUAL": func(ctx context.Context, baud int) (io.ReadWriteCloser, error) {
				host, fw := net.Pipe()
				serving.Add(1)
				go func() { defer serving.Done(); e.vp.Serve(ctx, fw) }()
				return host, nil
			}}})
		t.Cleanup(func() { e.machine.Close(); serving.Wait() })
	} else {
		e.rig = printertest.New(t, printer.Config{Events: e.bus}, o.reply)
		e.machine = e.rig.Machine
	}
	jo := job.Options{Files: e.files, Link: job.MachineLink{M: e.machine}, Bus: e.bus}
	if o.scripts != nil {
		s := *o.scripts
		jo.Scripts = func() job.Scripts { return s }
	}
	e.job = job.New(jo)
	job.Hook(e.machine, e.job)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); e.job.Run(ctx) }()
	go func() { defer wg.Done(); e.files.Run(ctx) }()
	s := api.New(api.Deps{Auth: svc, Version: "test", Files: e.files, Job: e.job, Events: e.bus,
		UploadMaxBytes: o.maxUpload, Profiles: profiles.New(db), Printer: e.machine})
	e.srv = httptest.NewServer(s)
	t.Cleanup(func() {
		e.srv.Close()
		cancel()
		wg.Wait()
		e.job.Close()
		db.Close()
	})
	return e
}

// part is one multipart field; file parts have a filename.
type part struct {
	name, filename, value string
}

func multipartBody(parts ...part) (string, *bytes.Buffer) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		if p.filename != "" || p.name == "file" {
			fw, _ := w.CreateFormFile(p.name, p.filename)
			fw.Write([]byte(p.value))
		} else {
			w.WriteField(p.name, p.value)
		}
	}
	w.Close()
	return w.FormDataContentType(), &b
}

func (e *filesEnv) upload(key string, parts ...part) resp {
	e.t.Helper()
	ct, body := multipartBody(parts...)
	return e.raw("POST", "/api/files/local", key, ct, body)
}

func (e *filesEnv) raw(method, path, key, ctype string, body io.Reader) resp {
	e.t.Helper()
	r, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	if key != "" {
		r.Header.Set("X-Api-Key", key)
	}
	res, err := e.srv.Client().Do(r)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return resp{code: res.StatusCode, header: res.Header, body: string(raw)}
}

func (e *filesEnv) json(method, path, key, body string) resp {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	if body != "" {
		rd, ct = strings.NewReader(body), "application/json"
	}
	return e.raw(method, path, key, ct, rd)
}

// onDisk lists the files under the storage root (temp folder included).
func (e *filesEnv) onDisk() map[string]string {
	out := map[string]string{}
	filepath.Walk(e.root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(e.root, p)
			raw, _ := os.ReadFile(p)
			out[filepath.ToSlash(rel)] = string(raw)
		}
		return nil
	})
	return out
}

func TestUploadCreatedWithLocation(t *testing.T) {
	e := newFilesEnv(t, filesOpts{})
	r := e.upload(e.adminKey, part{name: "print", value: "false"}, part{name: "path", value: "sub dir"},
		part{name: "file", filename: "my cube.gcode", value: "G28\nG1 X1\n"})
	wantCode(t, "upload", r, http.StatusCreated)
	loc := r.header.Get("Location")
	if want := e.srv.URL + "/api/files/local/sub_dir/my_cube.gcode"; loc != want {
		t.Errorf("Location = %q; want %q", loc, want)
	}
	var body struct {
		Files struct {
			Local struct {
				Name, Path, Origin string
				Refs               map[string]string
			}
		}
		Done, EffectiveSelect, EffectivePrint bool
	}
	json.Unmarshal([]byte(r.body), &body)
	if l := body.Files.Local; l.Name != "my_cube.gcode" || l.Path != "sub_dir/my_cube.gcode" || l.Origin != "local" ||
		l.Refs["resource"] != loc || !strings.HasSuffix(l.Refs["download"], "/downloads/files/local/sub_dir/my_cube.gcode") || !body.Done {
		t.Errorf("upload response = %s", r.body)
	}
	got := e.json("GET", "/api/files/local/sub_dir/my_cube.gcode", e.roKey, "")
	wantCode(t, "GET file", got, 200)
	m := got.json(t)
	if m["display"] != "my cube.gcode" || m["hash"] == "" || m["size"] != float64(10) || m["user"] != "admin" || m["type"] != "machinecode" {
		t.Errorf("entry = %s", got.body)
	}
	if d := e.onDisk(); d["sub_dir/my_cube.gcode"] != "G28\nG1 X1\n" || len(d) != 1 {
		t.Errorf("on disk = %v", d)
	}
}

func TestUploadFilenameWithFolder(t *testing.T) {
	e := newFilesEnv(t, filesOpts{})
	r := e.upload(e.adminKey, part{name: "file", filename: "a/b/c.gcode", value: "G1\n"})
	wantCode(t, "upload a/b/c.gcode", r, 201)
	if !strings.HasSuffix(r.header.Get("Location"), "/api/files/local/a/b/c.gcode") {
		t.Errorf("Location = %q", r.header.Get("Location"))
	}
	r = e.upload(e.adminKey, part{name: "file", filename: "x.gcode", value: "G1\n"}, part{name: "filename", value: "renamed.gcode"},
		part{name: "userdata", value: `{"k":1}`})
	wantCode(t, "upload with filename field", r, 201)
	got := e.json("GET", "/api/files/local/renamed.gcode", e.adminKey, "").json(t)
	if ud, _ := got["userdata"].(map[string]any); ud["k"] != float64(1) {
		t.Errorf("userdata = %v", got["userdata"])
	}
}

func TestUploadBadInput(t *testing.T) {
	e := newFilesEnv(t, filesOpts{maxUpload: 4096})
	good := e.upload(e.adminKey, part{name: "file", filename: "keep.gcode", value: "G28\n"})
	wantCode(t, "first upload", good, 201)
	long := strings.Repeat("a", 300) + ".gcode"
	for _, tc := range []struct {
		name  string
		parts []part
		want  int
	}{
		{"traversal in filename", []part{{name: "file", filename: "../../evil.gcode", value: "x"}}, 400},
		{"traversal in path", []part{{name: "path", value: "../.."}, {name: "file", filename: "evil.gcode", value: "x"}}, 400},
		{"absolute filename", []part{{name: "file", filename: "/etc/evil.gcode", value: "x"}}, 400},
		{"control character", []part{{name: "file", filename: "a\x01b.gcode", value: "x"}}, 400},
		{"overlong name", []part{{name: "file", filename: long, value: "x"}}, 400},
		{"unknown type", []part{{name: "file", filename: "x.exe", value: "x"}}, 415},
		{"bad userdata", []part{{name: "file", filename: "u.gcode", value: "x"}, {name: "userdata", value: "{nope"}}, 400},
		{"no file", []part{{name: "path", value: ""}}, 400},
		{"over the limit", []part{{name: "file", filename: "big.gcode", value: strings.Repeat("G1 X1\n", 2000)}}, 413},
		{"noOverwrite", []part{{name: "file", filename: "keep.gcode", value: "other"}, {name: "noOverwrite", value: "true"}}, 409},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, tc.name, e.upload(e.adminKey, tc.parts...), tc.want)
		})
	}
	// Malformed multipart: a body cut off mid-part, a wrong content type.
	ct, body := multipartBody(part{name: "file", filename: "cut.gcode", value: strings.Repeat("G1 X1\n", 100)})
	wantCode(t, "truncated multipart", e.raw("POST", "/api/files/local", e.adminKey, ct, bytes.NewReader(body.Bytes()[:body.Len()-60])), 400)
	wantCode(t, "wrong content type", e.raw("POST", "/api/files/local", e.adminKey, "application/json", strings.NewReader(`{}`)), 400)
	wantCode(t, "unknown location", e.raw("POST", "/api/files/elsewhere", e.adminKey, ct, bytes.NewReader(body.Bytes())), 404)
	// Overwriting needs FILES_DELETE: a read-only user can't even upload.
	wantCode(t, "upload by read-only user", e.upload(e.roKey, part{name: "file", filename: "keep.gcode", value: "x"}), 403)
	if d := e.onDisk(); len(d) != 1 || d["keep.gcode"] != "G28\n" {
		t.Errorf("after bad uploads, on disk = %v; want only keep.gcode intact", d)
	}
}

func TestUploadFormFieldKey(t *testing.T) {
	e := newFilesEnv(t, filesOpts{})
	r := e.upload("", part{name: "apikey", value: e.adminKey}, part{name: "file", filename: "k.gcode", value: "G1\n"})
	wantCode(t, "upload with apikey form field", r, 201)
	wantCode(t, "upload without credentials", e.upload("", part{name: "file", filename: "k2.gcode", value: "G1\n"}), 401)
	wantCode(t, "upload with a bad form key", e.upload("", part{name: "apikey", value: "wrong"}, part{name: "file", filename: "k3.gcode", value: "G1\n"}), 401)
	if d := e.onDisk(); len(d) != 1 {
		t.Errorf("on disk = %v", d)
	}
}

func TestConcurrentUploadsSameName(t *testing.T) {
	e := newFilesEnv(t, filesOpts{})
	const n = 8
	contents := make([]string, n)
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		contents[i] = strings.Repeat(fmt.Sprintf("G1 X%d\n", i), 20000)
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = e.upload(e.adminKey, part{name: "file", filename: "same.gcode", value: contents[i]}).code
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != 201 {
			t.Errorf("upload %d = %d; want 201", i, c)
		}
	}
	d := e.onDisk()
	if len(d) != 1 {
		t.Fatalf("on disk = %d files; want 1 (no temp files left)", len(d))
	}
	got := d["same.gcode"]
	found := false
	for _, c := range contents {
		found = found || got == c
	}
	if !found {
		t.Fatalf("same.gcode (%d bytes) is none of the uploads: interleaved or truncated", len(got))
	}
	m := e.json("GET", "/api/files/local/same.gcode", e.adminKey, "").json(t)
	if m["size"] != float64(len(got)) {
		t.Errorf("indexed size %v; file has %d bytes", m["size"], len(got))
	}
}

func TestFolderListAndETag(t *testing.T) {
	e := newFilesEnv(t, filesOpts{})
	wantCode(t, "create folder", e.upload(e.adminKey, part{name: "foldername", value: "My Folder"}, part{name: "path", value: ""}), 201)
	wantCode(t, "create it again", e.upload(e.adminKey, part{name: "foldername", value: "My Folder"}), 409)
	wantCode(t, "empty folder name", e.upload(e.adminKey, part{name: "foldername", value: ""}), 400)
	wantCode(t, "upload into it", e.upload(e.adminKey, part{name: "path", value: "My_Folder"}, part{name: "file", filename: "in.gcode", value: "G1\n"}), 201)
	wantCode(t, "upload deeper", e.upload(e.adminKey, part{name: "file", filename: "My_Folder/deep/x.gcode", value: "G1\n"}), 201)
	r := e.json("GET", "/api/files?recursive=true", e.roKey, "")
	wantCode(t, "list", r, 200)
	var l struct {
		Files []struct {
			Name     string
			Type     string
			Size     int64
			Children []struct {
				Name     string
				Children []map[string]any
			}
		}
		Free, Total int64
	}
	if err := json.Unmarshal([]byte(r.body), &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Files) != 1 || l.Files[0].Name != "My_Folder" || l.Files[0].Type != "folder" || len(l.Files[0].Children) != 2 || l.Free <= 0 || l.Total < l.Free {
		t.Fatalf("listing = %s", r.body)
	}
	if !strings.Contains(r.body, `"free":`) || strings.Contains(r.body, `"free":"`) {
		t.Errorf("free is not an integer: %s", r.body)
	}
	etag := r.header.Get("ETag")
	if etag == "" || r.header.Get("Last-Modified") == "" {
		t.Fatalf("no ETag/Last-Modified: %v", r.header)
	}
	r2, _ := http.NewRequest("GET", e.srv.URL+"/api/files?recursive=true", nil)
	r2.Header.Set("X-Api-Key", e.roKey)
	r2.Header.Set("If-None-Match", etag)
	res, err := http.DefaultClient.Do(r2)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 304 {
		t.Errorf("If-None-Match = %d; want 304", res.StatusCode)
	}
	wantCode(t, "another upload", e.upload(e.adminKey, part{name: "file", filename: "new.gcode", value: "G1\n"}), 201)
	if r := e.json("GET", "/api/files?recursive=true", e.roKey, ""); r.header.Get("ETag") == etag {
		t.Errorf("ETag unchanged after an upload")
	}
	// A single folder: its direct children.
	f := e.json("GET", "/api/files/local/My_Folder", e.roKey, "").json(t)
	if kids, _ := f["children"].([]any); len(kids) != 2 {
		t.Errorf("folder children = %v", f["children"])
	}
	wantCode(t, "missing file", e.json("GET", "/api/files/local/nope.gcode", e.roKey, ""), 404)
	wantCode(t, "delete folder", e.json("DELETE", "/api/files/local/My_Folder", e.adminKey, ""), 204)
	if d := e.onDisk(); len(d) != 1 {
		t.Errorf("after deleting the folder: %v", d)
	}
}

func TestFileCommandsAndTest(t *testing.T) {
	e := newFilesEnv(t, filesOpts{})
	e.upload(e.adminKey, part{name: "file", filename: "a.gcode", value: "G1 X5\n"})
	e.upload(e.adminKey, part{name: "foldername", value: "dst"})
	r := e.json("POST", "/api/files/local/a.gcode", e.adminKey, `{"command":"copy","destination":"dst"}`)
	wantCode(t, "copy", r, 201)
	if !strings.HasSuffix(r.header.Get("Location"), "/api/files/local/dst/a.gcode") {
		t.Errorf("copy Location = %q", r.header.Get("Location"))
	}
	wantCode(t, "copy again", e.json("POST", "/api/files/local/a.gcode", e.adminKey, `{"command":"copy","destination":"dst"}`), 409)
	wantCode(t, "copy to missing", e.json("POST", "/api/files/local/a.gcode", e.adminKey, `{"command":"copy","destination":"nowhere/x.gcode"}`), 404)
	wantCode(t, "move", e.json("POST", "/api/files/local/a.gcode", e.adminKey, `{"command":"move","destination":"b.gcode"}`), 201)
	wantCode(t, "move by read-only", e.json("POST", "/api/files/local/b.gcode", e.roKey, `{"command":"move","destination":"c.gcode"}`), 403)
	wantCode(t, "unknown command", e.json("POST", "/api/files/local/b.gcode", e.adminKey, `{"command":"fly"}`), 400)
	wantCode(t, "select while offline", e.json("POST", "/api/files/local/b.gcode", e.adminKey, `{"command":"select"}`), 409)
	if d := e.onDisk(); d["b.gcode"] != "G1 X5\n" || d["dst/a.gcode"] != "G1 X5\n" || len(d) != 2 {
		t.Errorf("on disk = %v", d)
	}
	r = e.json("POST", "/api/files/test", e.roKey, `{"command":"sanitize","storage":"local","path":"x y","filename":"ü.gcode"}`)
	if r.json(t)["sanitized"] != "x_y/u.gcode" {
		t.Errorf("sanitize = %s", r.body)
	}
	r = e.json("POST", "/api/files/test", e.roKey, `{"command":"exists","storage":"local","path":"","filename":"b.gcode"}`)
	if m := r.json(t); m["exists"] != true || m["suggestion"] != "b_1.gcode" {
		t.Errorf("exists = %s", r.body)
	}
	// Download with a Range.
	req, _ := http.NewRequest("GET", e.srv.URL+"/downloads/files/local/b.gcode?apikey="+e.roKey, nil)
	req.Header.Set("Range", "bytes=3-4")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 206 || string(raw) != "X5" {
		t.Errorf("ranged download = %d %q; want 206 \"X5\"", res.StatusCode, raw)
	}
	wantCode(t, "download missing", e.json("GET", "/downloads/files/local/none.gcode", e.adminKey, ""), 404)
}

func TestPrinterProfiles(t *testing.T) {
	e := newFilesEnv(t, filesOpts{})
	r := e.json("GET", "/api/printerprofiles", e.userKey, "")
	wantCode(t, "list", r, 200)
	var l struct {
		Profiles map[string]map[string]any
	}
	json.Unmarshal([]byte(r.body), &l)
	d := l.Profiles["_default"]
	if d["current"] != true || d["default"] != true || d["heatedBed"] != true {
		t.Fatalf("_default = %v", d)
	}
	wantCode(t, "add", e.json("POST", "/api/printerprofiles", e.adminKey, `{"profile":{"id":"ender","name":"Ender 3","volume":{"width":220}}}`), 200)
	wantCode(t, "add twice", e.json("POST", "/api/printerprofiles", e.adminKey, `{"profile":{"id":"ender","name":"Ender 3"}}`), 400)
	wantCode(t, "add without name", e.json("POST", "/api/printerprofiles", e.adminKey, `{"profile":{"id":"x"}}`), 400)
	r = e.json("PATCH", "/api/printerprofiles/ender", e.adminKey, `{"profile":{"volume":{"height":250}}}`)
	wantCode(t, "patch", r, 200)
	p := r.json(t)["profile"].(map[string]any)
	if v := p["volume"].(map[string]any); v["width"] != float64(220) || v["height"] != float64(250) || v["depth"] != float64(200) {
		t.Errorf("patched volume = %v", v)
	}
	wantCode(t, "patch by read-only", e.json("PATCH", "/api/printerprofiles/ender", e.userKey, `{"profile":{}}`), 403)
	wantCode(t, "delete default", e.json("DELETE", "/api/printerprofiles/_default", e.adminKey, ""), 409)
	wantCode(t, "delete", e.json("DELETE", "/api/printerprofiles/ender", e.adminKey, ""), 204)
	wantCode(t, "get deleted", e.json("GET", "/api/printerprofiles/ender", e.adminKey, ""), 404)
}

func TestAnalysisProgressVisible(t *testing.T) {
	half := make(chan struct{})
	finish := make(chan struct{})
	var once sync.Once
	analyse := func(ctx context.Context, r io.Reader, size int64, progress func(float64)) (files.Analysis, error) {
		n, _ := io.Copy(io.Discard, r)
		progress(0.5)
		once.Do(func() { close(half) })
		select {
		case <-finish:
		case <-ctx.Done():
			return files.Analysis{}, ctx.Err()
		}
		return files.Analysis{Result: map[string]any{"estimatedPrintTime": float64(n) * 10, "filament": map[string]any{"tool0": map[string]any{"length": 1.5}}}}, nil
	}
	e := newFilesEnv(t, filesOpts{analyse: analyse})
	wantCode(t, "upload", e.upload(e.adminKey, part{name: "file", filename: "a.gcode", value: "G1 X1\n"}), 201)
	<-half
	ga := func() map[string]any {
		m, _ := e.json("GET", "/api/files/local/a.gcode", e.roKey, "").json(t)["gcodeAnalysis"].(map[string]any)
		return m
	}
	if m := ga(); m["progress"] != 0.5 {
		t.Errorf("gcodeAnalysis while running = %v; want progress 0.5", m)
	}
	close(finish)
	if !await(5*time.Second, func() bool { return ga()["estimatedPrintTime"] == float64(60) }) {
		t.Fatalf("gcodeAnalysis after the analysis = %v", ga())
	}
	if _, ok := ga()["progress"]; ok {
		t.Errorf("progress still shown after the analysis: %v", ga())
	}
	wantCode(t, "analyse again", e.json("POST", "/api/files/local/a.gcode", e.adminKey, `{"command":"analyse"}`), 204)
}

func TestThumbnail(t *testing.T) {
	g, pic := gcodetest.ThumbnailGcode(t, "th")
	e := newFilesEnv(t, filesOpts{analyse: files.GcodeAnalyser()})
	wantCode(t, "upload", e.upload(e.adminKey, part{name: "file", filename: "th.gcode", value: g}), 201)
	var entry map[string]any
	if !await(5*time.Second, func() bool {
		entry = e.json("GET", "/api/files/local/th.gcode", e.roKey, "").json(t)
		return entry["thumbnail"] != nil
	}) {
		t.Fatalf("no thumbnail in %v", entry)
	}
	url := entry["thumbnail"].(string)
	if !strings.HasPrefix(url, "api/cuttle/thumbnail/local/th.gcode?") {
		t.Errorf("thumbnail = %q", url)
	}
	r := e.raw("GET", "/"+url, e.roKey, "", nil)
	if r.code != 200 || r.header.Get("Content-Type") != "image/png" || r.body != string(pic) {
		t.Errorf("GET thumbnail = %d %s, %d bytes; want the PNG (%d bytes)", r.code, r.header.Get("Content-Type"), len(r.body), len(pic))
	}
	wantCode(t, "thumbnail of a file without one", e.json("GET", "/api/cuttle/thumbnail/local/none.gcode", e.roKey, ""), 404)
}

func TestUploadExpectContinueAndAbort(t *testing.T) {
	e := newFilesEnv(t, filesOpts{maxUpload: 1 << 20})
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: 5 * time.Second}}
	send := func(size int) (int, int64) {
		ct, body := multipartBody(part{name: "file", filename: "e.gcode", value: strings.Repeat("G1 X1\n", size/6)})
		counted := &countingReader{r: body}
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/files/local", counted)
		req.ContentLength = int64(body.Len())
		req.Header.Set("Content-Type", ct)
		req.Header.Set("X-Api-Key", e.adminKey)
		req.Header.Set("Expect", "100-continue")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, counted.n
	}
	if code, _ := send(4096); code != 201 {
		t.Errorf("upload with Expect: 100-continue = %d; want 201", code)
	}
	if code, n := send(2 << 20); code != 413 || n > 64<<10 {
		t.Errorf("oversized upload with Expect = %d after %d body bytes; want 413 before the body", code, n)
	}

	// A client that vanishes mid-upload leaves nothing behind.
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	ct, body := multipartBody(part{name: "file", filename: "gone.gcode", value: strings.Repeat("G1 X1\n", 50000)})
	fmt.Fprintf(conn, "POST /api/files/local HTTP/1.1\r\nHost: x\r\nX-Api-Key: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", e.adminKey, ct, body.Len())
	conn.Write(body.Bytes()[:body.Len()/2])
	if !await(5*time.Second, func() bool { return len(e.onDisk()) == 2 }) { // e.gcode + the upload in flight
		t.Fatalf("upload in flight not on disk: %v", keys(e.onDisk()))
	}
	conn.Close()
	if !await(5*time.Second, func() bool { return len(e.onDisk()) == 1 }) {
		t.Fatalf("after the client vanished: %v; want only e.gcode", keys(e.onDisk()))
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
