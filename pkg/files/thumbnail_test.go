package files_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/files"
	"github.com/cuttleprint/cuttle/pkg/gcode/gcodetest"
	"github.com/cuttleprint/cuttle/pkg/store"
)

// thumbGcode returns G-code with an embedded preview; tag makes the content
// (and so the hash) differ.
func thumbGcode(t *testing.T, tag string) string {
	t.Helper()
	g, _ := gcodetest.ThumbnailGcode(t, tag)
	return g
}

// thumbEnv is a storage with the analyser running, over a real temp dir and
// bbolt file.
type thumbEnv struct {
	t    *testing.T
	s    *files.Storage
	db   *store.DB
	root string
	stop func()
}

func newThumbEnv(t *testing.T) *thumbEnv {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	env := &thumbEnv{t: t, db: db, root: filepath.Join(dir, "uploads")}
	env.open(nil)
	return env
}

// open opens the storage over env's root and index, as at start-up, and
// starts its analysis; log receives its log (nil: discarded).
func (env *thumbEnv) open(log *slog.Logger) {
	env.t.Helper()
	if env.stop != nil {
		env.stop()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := files.Open(ctx, files.Options{Root: env.root, DB: env.db, Analyse: files.GcodeAnalyser(), Log: log})
	if err != nil {
		cancel()
		env.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	env.s = s
	env.stop = func() { cancel(); <-done; env.stop = nil }
	env.t.Cleanup(func() {
		if env.stop != nil {
			env.stop()
		}
	})
}

// put uploads content to p and waits until its analysis has saved the
// thumbnail, whose name it returns.
func (env *thumbEnv) put(p, content string) string {
	env.t.Helper()
	return env.waitThumb(put(env.t, env.s, p, content))
}

// waitThumb waits until the analysis of e has saved its thumbnail and
// returns the thumbnail's name.
func (env *thumbEnv) waitThumb(e *files.Entry) string {
	env.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		cur, err := env.s.Get(context.Background(), e.Path)
		if err != nil {
			env.t.Fatalf("Get(%q) = %v", e.Path, err)
		}
		if cur.Hash == e.Hash && cur.Thumbnail != "" {
			return cur.Thumbnail
		}
		time.Sleep(5 * time.Millisecond)
	}
	env.t.Fatalf("no thumbnail for %q after its analysis", e.Path)
	return ""
}

// thumbs lists the images in .thumbs.
func (env *thumbEnv) thumbs() []string {
	env.t.Helper()
	ents, err := os.ReadDir(filepath.Join(env.root, ".thumbs"))
	if err != nil && !os.IsNotExist(err) {
		env.t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func (env *thumbEnv) wantThumbs(when string, want ...string) {
	env.t.Helper()
	sort.Strings(want)
	if got := env.thumbs(); strings.Join(got, ",") != strings.Join(want, ",") {
		env.t.Errorf("%s: .thumbs = %v; want %v", when, got, want)
	}
}

func (env *thumbEnv) remove(p string) {
	env.t.Helper()
	if err := env.s.Remove(context.Background(), p); err != nil {
		env.t.Fatalf("Remove(%q) = %v", p, err)
	}
}

func TestThumbnailRemovedWithFile(t *testing.T) {
	env := newThumbEnv(t)
	th := env.put("a.gcode", thumbGcode(t, "a"))
	env.wantThumbs("after the analysis", th)
	f, mt, err := env.s.Thumbnail(context.Background(), "a.gcode")
	if err != nil || mt != "image/png" {
		t.Fatalf("Thumbnail = %v, %q", err, mt)
	}
	f.Close()
	env.remove("a.gcode")
	env.wantThumbs("after removing the file")
}

func TestThumbnailSharedByCopiesStaysUntilLastGoes(t *testing.T) {
	env := newThumbEnv(t)
	ctx := context.Background()
	content := thumbGcode(t, "same")
	th := env.put("a.gcode", content)
	if th2 := env.put("b.gcode", content); th2 != th {
		t.Fatalf("same content, thumbnails %q and %q", th, th2)
	}
	if e, err := env.s.Copy(ctx, "a.gcode", "c.gcode"); err != nil || e.Thumbnail != th {
		t.Fatalf("Copy = %+v, %v; want the thumbnail %q kept", e, err, th)
	}
	env.remove("a.gcode")
	env.wantThumbs("after removing one of three", th)
	env.remove("b.gcode")
	env.wantThumbs("after removing two of three", th)
	if f, _, err := env.s.Thumbnail(ctx, "c.gcode"); err != nil {
		t.Errorf("Thumbnail of the last copy = %v", err)
	} else {
		f.Close()
	}
	env.remove("c.gcode")
	env.wantThumbs("after removing the last copy")
}

func TestThumbnailRemovedOnOverwrite(t *testing.T) {
	env := newThumbEnv(t)
	old := env.put("a.gcode", thumbGcode(t, "v1"))
	keep := env.put("other.gcode", thumbGcode(t, "other"))
	e := put(t, env.s, "a.gcode", thumbGcode(t, "v2"))
	// The new content's analysis may have saved its image already; the
	// old one must be gone whatever it did.
	for _, n := range env.thumbs() {
		if n == old {
			t.Errorf("old thumbnail %q still there after the overwrite", old)
		}
	}
	th := env.waitThumb(e)
	if th == old {
		t.Fatalf("new content kept the thumbnail name %q", th)
	}
	env.wantThumbs("after the new analysis", keep, th)
}

func TestThumbnailsRemovedWithFolder(t *testing.T) {
	env := newThumbEnv(t)
	ctx := context.Background()
	keep := env.put("top.gcode", thumbGcode(t, "top"))
	x := env.put("f/x.gcode", thumbGcode(t, "x"))
	y := env.put("f/sub/y.gcode", thumbGcode(t, "y"))
	m := env.put("m.gcode", thumbGcode(t, "m"))
	if _, err := env.s.Move(ctx, "m.gcode", "f/sub/m.gcode"); err != nil {
		t.Fatal(err)
	}
	env.wantThumbs("after moving a file into the folder", keep, x, y, m)
	env.remove("f")
	env.wantThumbs("after removing the folder", keep)
}

func TestOpenSweepsUnreferencedThumbnails(t *testing.T) {
	env := newThumbEnv(t)
	keep := env.put("a.gcode", thumbGcode(t, "a"))
	changed := env.put("b.gcode", thumbGcode(t, "b"))
	env.stop()
	dir := filepath.Join(env.root, ".thumbs")
	orphan := strings.Repeat("0", 40) + ".png"
	if err := os.WriteFile(filepath.Join(dir, orphan), []byte("left by a crash"), 0o644); err != nil {
		t.Fatal(err)
	}
	// b.gcode changed on disk while cuttle was down: its old image is
	// unreferenced once Open re-hashes it.
	later := time.Now().Add(time.Hour)
	bfile := filepath.Join(env.root, "b.gcode")
	if err := os.WriteFile(bfile, []byte("G28\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(bfile, later, later); err != nil {
		t.Fatal(err)
	}
	env.wantThumbs("before reopening", keep, changed, orphan)
	var log bytes.Buffer
	env.open(slog.New(slog.NewTextHandler(&log, nil)))
	env.wantThumbs("after reopening", keep)
	if !strings.Contains(log.String(), "removed unreferenced thumbnails") || !strings.Contains(log.String(), "count=2") {
		t.Errorf("log = %q; want the count of removed thumbnails (2)", log.String())
	}
	if e, err := env.s.Get(context.Background(), "b.gcode"); err != nil || e.Thumbnail != "" {
		t.Errorf("changed file = %+v, %v; want no thumbnail", e, err)
	}
	if f, _, err := env.s.Thumbnail(context.Background(), "a.gcode"); err != nil {
		t.Errorf("Thumbnail of a kept file = %v", err)
	} else {
		f.Close()
	}
}
