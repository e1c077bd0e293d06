package files_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/files"
	"github.com/cuttleprint/cuttle/pkg/store"
)

func TestSanitizeName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"cube.gcode", "cube.gcode"},
		{"my cube.gcode", "my_cube.gcode"},
		{"Würfel größe.gcode", "Wurfel_grosse.gcode"},
		{".hidden.gcode", "hidden.gcode"},
		{"a#b$c.gcode", "a_b_c.gcode"},
		{"x (1) [2].gcode", "x_(1)_[2].gcode"},
	} {
		got, err := files.SanitizeName(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("SanitizeName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "..", ".", "a/b", `a\b`, "a\x00b.gcode", "a\nb.gcode", "###", strings.Repeat("a", 256) + ".gcode"} {
		if got, err := files.SanitizeName(bad); !errors.Is(err, files.ErrInvalidPath) {
			t.Errorf("SanitizeName(%q) = %q, %v; want ErrInvalidPath", bad, got, err)
		}
	}
}

func TestSanitizePath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""}, {"a/b c/d.gcode", "a/b_c/d.gcode"}, {"a//b/", "a/b"}, {"./a", "a"},
	} {
		got, err := files.SanitizePath(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("SanitizePath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"/etc/x.gcode", "../x.gcode", "a/../../x", "a/\x01/b"} {
		if got, err := files.SanitizePath(bad); !errors.Is(err, files.ErrInvalidPath) {
			t.Errorf("SanitizePath(%q) = %q, %v; want ErrInvalidPath", bad, got, err)
		}
	}
}

// newStorage opens a storage over a fresh data dir.
func newStorage(t *testing.T) (*files.Storage, *store.DB, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	root := filepath.Join(dir, "uploads")
	s, err := files.Open(context.Background(), files.Options{Root: root, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	return s, db, root
}

func put(t *testing.T, s *files.Storage, p, content string) *files.Entry {
	t.Helper()
	u, err := s.NewUpload()
	if err != nil {
		t.Fatal(err)
	}
	u.Write([]byte(content))
	e, err := s.Commit(context.Background(), u, p, files.CommitOptions{User: "alice"})
	if err != nil {
		t.Fatalf("Commit(%q) = %v", p, err)
	}
	return e
}

func TestCommitIndexesAndHashes(t *testing.T) {
	s, _, root := newStorage(t)
	ctx := context.Background()
	e := put(t, s, "dir/sub/a.gcode", "G28\n")
	sum := sha1.Sum([]byte("G28\n"))
	if e.Hash != hex.EncodeToString(sum[:]) || e.Size != 4 || e.User != "alice" || e.Display != "a.gcode" {
		t.Errorf("entry = %+v; want sha1 %x, size 4, user alice", e, sum)
	}
	raw, err := os.ReadFile(filepath.Join(root, "dir/sub/a.gcode"))
	if err != nil || string(raw) != "G28\n" {
		t.Fatalf("file on disk = %q, %v", raw, err)
	}
	for _, p := range []string{"dir", "dir/sub"} {
		if f, err := s.Get(ctx, p); err != nil || !f.Folder {
			t.Errorf("Get(%q) = %+v, %v; want an indexed folder", p, f, err)
		}
	}
	all, _ := s.List(ctx, "", true)
	if len(all) != 3 {
		t.Errorf("List recursive = %d entries; want 3", len(all))
	}
	top, _ := s.List(ctx, "", false)
	if len(top) != 1 || top[0].Path != "dir" {
		t.Errorf("List root = %v; want [dir]", top)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, ".tmp")); len(ents) != 0 {
		t.Errorf("temp files left: %v", ents)
	}
}

func TestCommitRefuses(t *testing.T) {
	s, _, root := newStorage(t)
	ctx := context.Background()
	put(t, s, "a.gcode", "old\n")
	try := func(p string, o files.CommitOptions) error {
		u, _ := s.NewUpload()
		u.Write([]byte("new\n"))
		_, err := s.Commit(ctx, u, p, o)
		return err
	}
	if err := try("a.txt", files.CommitOptions{}); !errors.Is(err, files.ErrUnsupportedType) {
		t.Errorf("Commit(a.txt) = %v; want ErrUnsupportedType", err)
	}
	if err := try("a.gcode", files.CommitOptions{NoOverwrite: true}); !errors.Is(err, files.ErrExists) {
		t.Errorf("Commit(noOverwrite) = %v; want ErrExists", err)
	}
	release := s.Hold("a.gcode")
	if err := try("a.gcode", files.CommitOptions{}); !errors.Is(err, files.ErrInUse) {
		t.Errorf("Commit(held) = %v; want ErrInUse", err)
	}
	if err := s.Remove(ctx, "a.gcode"); !errors.Is(err, files.ErrInUse) {
		t.Errorf("Remove(held) = %v; want ErrInUse", err)
	}
	release()
	if raw, _ := os.ReadFile(filepath.Join(root, "a.gcode")); string(raw) != "old\n" {
		t.Errorf("refused commits changed the file: %q", raw)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, ".tmp")); len(ents) != 0 {
		t.Errorf("refused commits left temp files: %d", len(ents))
	}
	if err := try("a.gcode", files.CommitOptions{}); err != nil {
		t.Errorf("overwrite = %v", err)
	}
}

func TestSymlinkOutOfRootRefused(t *testing.T) {
	s, _, root := newStorage(t)
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "escape")); err != nil {
		t.Skip(err)
	}
	u, _ := s.NewUpload()
	u.Write([]byte("G1\n"))
	if _, err := s.Commit(context.Background(), u, "escape/x.gcode", files.CommitOptions{}); !errors.Is(err, files.ErrInvalidPath) {
		t.Errorf("Commit through symlink = %v; want ErrInvalidPath", err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("file written outside the root: %v", ents)
	}
}

func TestMoveCopyRemove(t *testing.T) {
	s, _, root := newStorage(t)
	ctx := context.Background()
	put(t, s, "a.gcode", "G1 X1\n")
	if _, err := s.AddFolder(ctx, "f", "f"); err != nil {
		t.Fatal(err)
	}
	src, _ := s.Get(ctx, "a.gcode")
	dst, err := s.Destination(ctx, src, "f")
	if err != nil || dst != "f/a.gcode" {
		t.Fatalf("Destination = %q, %v", dst, err)
	}
	if _, err := s.Copy(ctx, "a.gcode", dst); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Copy(ctx, "a.gcode", dst); !errors.Is(err, files.ErrExists) {
		t.Errorf("second copy = %v; want ErrExists", err)
	}
	if _, err := s.Move(ctx, "a.gcode", "b.gcode"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "a.gcode"); !errors.Is(err, files.ErrNotFound) {
		t.Errorf("moved source still indexed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "b.gcode")); err != nil {
		t.Error(err)
	}
	if _, err := s.Move(ctx, "f", "f/inner"); !errors.Is(err, files.ErrInvalidPath) {
		t.Errorf("move into itself = %v", err)
	}
	if err := s.Remove(ctx, "f"); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.List(ctx, "", true); len(all) != 1 {
		t.Errorf("after removing f: %d entries; want 1", len(all))
	}
}

func TestReconcile(t *testing.T) {
	s, db, root := newStorage(t)
	ctx := context.Background()
	put(t, s, "gone.gcode", "x\n")
	os.Remove(filepath.Join(root, "gone.gcode"))
	os.MkdirAll(filepath.Join(root, "ssh"), 0o755)
	os.WriteFile(filepath.Join(root, "ssh", "copied.gcode"), []byte("G28\n"), 0o644)
	os.WriteFile(filepath.Join(root, "notes.txt"), []byte("no"), 0o644)
	s2, err := files.Open(ctx, files.Options{Root: root, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	all, _ := s2.List(ctx, "", true)
	var paths []string
	for _, e := range all {
		paths = append(paths, e.Path)
	}
	if strings.Join(paths, ",") != "ssh,ssh/copied.gcode" {
		t.Errorf("after reconcile: %v", paths)
	}
	_ = s
}

func TestAnalysisPausedWhilePrinting(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	db, err := store.Open(ctx, filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	started := make(chan struct{}, 4)
	release := make(chan struct{})
	runs := 0
	analyse := func(ctx context.Context, r io.Reader, size int64, progress func(float64)) (files.Analysis, error) {
		runs++
		started <- struct{}{}
		select {
		case <-release:
			return files.Analysis{Result: map[string]int{"runs": runs}}, nil
		case <-ctx.Done():
			return files.Analysis{}, ctx.Err()
		}
	}
	s, err := files.Open(ctx, files.Options{Root: filepath.Join(dir, "up"), DB: db, Analyse: analyse})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	put(t, s, "a.gcode", "G1\n")
	<-started
	s.SetAnalysisPaused(true) // a print starts: the analysis stops and waits
	if _, queued := s.AnalysisProgress("a.gcode"); !queued {
		t.Error("paused analysis is not queued any more")
	}
	select {
	case <-started:
		t.Fatal("analysis restarted while paused")
	case <-time.After(50 * time.Millisecond): // a negative check: nothing may start
	}
	s.SetAnalysisPaused(false)
	<-started
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if e, _ := s.Get(ctx, "a.gcode"); string(e.Analysis) == `{"runs":2}` {
			return
		}
		time.Sleep(time.Millisecond)
	}
	e, _ := s.Get(ctx, "a.gcode")
	t.Errorf("analysis = %s; want the second run's result", e.Analysis)
}
