package files

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/store"
	bolt "go.etcd.io/bbolt"
)

// Upload is a file being received. Write the bytes to it, then Commit it
// with Storage.Commit or drop it with Abort. An Upload is not safe for
// concurrent use.
type Upload struct {
	s       *Storage
	f       *os.File
	h       hash.Hash
	n       int64
	flushed int64 // bytes handed to startWriteback
	done    bool
}

// writebackChunk is how much an upload writes before it starts the
// write-back of what it wrote.
const writebackChunk = 8 << 20

// NewUpload starts an upload: a temporary file inside the storage, on the
// same file system as its destination.
func (s *Storage) NewUpload() (*Upload, error) {
	f, err := os.CreateTemp(s.tmp, "upload-*")
	if err != nil {
		return nil, fmt.Errorf("files: start upload: %w", err)
	}
	return &Upload{s: s, f: f, h: sha1.New()}, nil
}

// Write appends p to the upload.
func (u *Upload) Write(p []byte) (int, error) {
	n, err := u.f.Write(p)
	u.h.Write(p[:n])
	u.n += int64(n)
	if u.n-u.flushed >= writebackChunk {
		startWriteback(u.f, u.flushed, u.n-u.flushed)
		u.flushed = u.n
	}
	return n, err
}

// Size returns the bytes written so far.
func (u *Upload) Size() int64 { return u.n }

// Abort removes the temporary file. It is safe to call after Commit (it
// then does nothing) and more than once.
func (u *Upload) Abort() {
	if u.done {
		return
	}
	u.done = true
	u.f.Close()
	os.Remove(u.f.Name())
}

// CommitOptions say how an upload is stored.
type CommitOptions struct {
	// Display is the name as the client sent it (default: the stored name).
	Display string
	// User is the uploader.
	User string
	// Userdata is stored as the entry's userdata.
	Userdata json.RawMessage
	// NoOverwrite makes an existing file an ErrExists error.
	NoOverwrite bool
}

// Commit moves a complete upload to path p (already sanitised, see
// SanitizePath), creating missing parent folders, indexes it, publishes
// FileAdded and UpdatedFiles and queues its analysis. It fails with
// ErrUnsupportedType for a name without a machine-code extension, ErrExists
// when p is a folder or NoOverwrite is set and p exists, and ErrInUse when
// p is held by a job. The upload is removed on failure.
func (s *Storage) Commit(ctx context.Context, u *Upload, p string, o CommitOptions) (*Entry, error) {
	defer u.Abort()
	if u.done {
		return nil, fmt.Errorf("files: commit %q: upload already finished", p)
	}
	p, err := CheckPath(p)
	if err != nil {
		return nil, err
	}
	if p == "" {
		return nil, fmt.Errorf("%w: empty file name", ErrInvalidPath)
	}
	dir, name := splitPath(p)
	if !IsMachineCode(name) {
		return nil, fmt.Errorf("files: %q: %w", p, ErrUnsupportedType)
	}
	if err := u.f.Sync(); err != nil {
		return nil, fmt.Errorf("files: sync upload of %q: %w", p, err)
	}
	if err := u.f.Close(); err != nil {
		return nil, fmt.Errorf("files: close upload of %q: %w", p, err)
	}
	if o.Display == "" {
		o.Display = name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.heldLocked(p) {
		return nil, fmt.Errorf("files: overwrite %q: %w", p, ErrInUse)
	}
	full, err := s.abs(p)
	if err != nil {
		return nil, err
	}
	if st, err := os.Lstat(full); err == nil {
		if st.IsDir() || o.NoOverwrite {
			return nil, fmt.Errorf("files: %q: %w", p, ErrExists)
		}
	}
	added, err := s.mkdirAllLocked(ctx, dir)
	if err != nil {
		return nil, err
	}
	if err := os.Rename(u.f.Name(), full); err != nil {
		return nil, fmt.Errorf("files: store %q: %w", p, err)
	}
	u.done = true
	syncDir(filepath.Dir(full))
	st, err := os.Stat(full)
	if err != nil {
		return nil, fmt.Errorf("files: stat %q: %w", p, err)
	}
	e := &Entry{Path: p, Display: o.Display, Size: st.Size(), Date: st.ModTime().Unix(),
		Hash: hex.EncodeToString(u.h.Sum(nil)), User: o.User, Userdata: o.Userdata}
	old := "" // the thumbnail of the file overwritten, if any
	if err := s.db.Update(ctx, func(tx *bolt.Tx) error {
		if v := tx.Bucket(store.BucketFiles).Get([]byte(p)); v != nil {
			var prev Entry
			if json.Unmarshal(v, &prev) == nil {
				old = prev.Thumbnail
			}
		}
		return s.put(tx, e)
	}); err != nil {
		return nil, fmt.Errorf("files: index %q: %w", p, err)
	}
	// The new entry names no image until its analysis saves one, even for
	// the same content: the old one goes unless a copy still names it.
	s.dropThumbsLocked(ctx, old)
	s.touchLocked()
	for _, f := range added {
		s.publish(events.FolderAdded{Storage: Location, Path: f, FolderName: baseName(f)})
	}
	s.publish(events.FileAdded{Storage: Location, Path: p, FileName: name, Type: TypePath(name), Operation: "add"})
	s.publish(events.UpdatedFiles{Type: "printables"})
	s.queue.push(p)
	return e, nil
}

// AddFolder creates folder p (sanitised) and its missing parents. It fails
// with ErrExists when something exists at p.
func (s *Storage) AddFolder(ctx context.Context, p, display string) (*Entry, error) {
	p, err := CheckPath(p)
	if err != nil {
		return nil, err
	}
	if p == "" {
		return nil, fmt.Errorf("%w: empty folder name", ErrInvalidPath)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	full, err := s.abs(p)
	if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(full); err == nil {
		return nil, fmt.Errorf("files: folder %q: %w", p, ErrExists)
	}
	added, err := s.mkdirAllLocked(ctx, p)
	if err != nil {
		return nil, err
	}
	if display != "" {
		if err := s.db.Update(ctx, func(tx *bolt.Tx) error {
			e := &Entry{Path: p, Display: display, Folder: true, Date: s.now().Unix()}
			return s.put(tx, e)
		}); err != nil {
			return nil, err
		}
	}
	for _, f := range added {
		s.publish(events.FolderAdded{Storage: Location, Path: f, FolderName: baseName(f)})
	}
	s.publish(events.UpdatedFiles{Type: "printables"})
	return s.Get(ctx, p)
}

// mkdirAllLocked creates folder p and its parents on disk and in the index,
// returning the folders it created. s.mu must be held.
func (s *Storage) mkdirAllLocked(ctx context.Context, p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	var added []string
	cur := ""
	for _, c := range splitAll(p) {
		cur = joinPath(cur, c)
		full, err := s.abs(cur)
		if err != nil {
			return added, err
		}
		st, err := os.Lstat(full)
		switch {
		case err == nil && st.IsDir():
			continue
		case err == nil:
			return added, fmt.Errorf("files: folder %q: %w", cur, ErrNotFolder)
		case !errors.Is(err, fs.ErrNotExist):
			return added, fmt.Errorf("files: folder %q: %w", cur, err)
		}
		if err := os.Mkdir(full, 0o755); err != nil {
			return added, fmt.Errorf("files: create folder %q: %w", cur, err)
		}
		st, _ = os.Stat(full)
		e := &Entry{Path: cur, Display: c, Folder: true, Date: st.ModTime().Unix()}
		if err := s.db.Update(ctx, func(tx *bolt.Tx) error { return s.put(tx, e) }); err != nil {
			return added, fmt.Errorf("files: index folder %q: %w", cur, err)
		}
		added = append(added, cur)
	}
	if len(added) > 0 {
		s.touchLocked()
	}
	return added, nil
}

// syncDir fsyncs a directory so a rename in it survives a power cut.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func baseName(p string) string { _, n := splitPath(p); return n }
