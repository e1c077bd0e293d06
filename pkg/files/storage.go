package files

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/store"
	bolt "go.etcd.io/bbolt"
)

// Location names the local storage in OctoPrint's APIs and events.
const Location = "local"

// tmpDirName is the hidden folder inside the root that holds uploads in
// flight; it is on the same file system as the root, so a rename into place
// is atomic.
const tmpDirName = ".tmp"

// Options configure Open.
type Options struct {
	// Root is the uploads folder (DATA_DIR/uploads). It is created if missing.
	Root string
	// DB holds the index (bucket store.BucketFiles).
	DB *store.DB
	// Bus receives FileAdded, FolderAdded, … events; nil publishes nothing.
	Bus *events.Bus
	// Analyse analyses uploaded G-code in the background; nil leaves files
	// unanalysed.
	Analyse Analyser
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives background errors (default slog.Default()).
	Log *slog.Logger
}

// Storage is the local file storage. Create it with Open; it is safe for
// concurrent use.
type Storage struct {
	root    string // absolute, symlinks resolved
	tmp     string
	db      *store.DB
	bus     *events.Bus
	now     func() time.Time
	log     *slog.Logger
	analyse Analyser

	// mu serialises mutations of the tree and the index, and guards held,
	// gen and modified.
	mu       sync.Mutex
	held     map[string]int // path → hold count
	gen      uint64         // bumped on every change a listing would show
	modified time.Time      // time of the last such change

	queue analysisQueue
}

// Open opens the storage at opts.Root, removes uploads left in flight by a
// previous run, and reconciles the index with the tree.
func Open(ctx context.Context, opts Options) (*Storage, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if err := os.MkdirAll(opts.Root, 0o755); err != nil {
		return nil, fmt.Errorf("files: create root %q: %w", opts.Root, err)
	}
	root, err := filepath.EvalSymlinks(opts.Root)
	if err == nil {
		root, err = filepath.Abs(root)
	}
	if err != nil {
		return nil, fmt.Errorf("files: resolve root %q: %w", opts.Root, err)
	}
	s := &Storage{root: root, tmp: filepath.Join(root, tmpDirName), db: opts.DB, bus: opts.Bus,
		now: opts.Now, log: opts.Log, analyse: opts.Analyse, held: map[string]int{}}
	s.queue.init()
	if err := os.RemoveAll(s.tmp); err != nil {
		return nil, fmt.Errorf("files: clear %q: %w", s.tmp, err)
	}
	if err := os.Mkdir(s.tmp, 0o700); err != nil {
		return nil, fmt.Errorf("files: create %q: %w", s.tmp, err)
	}
	if err := s.Reconcile(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Root returns the absolute path of the storage folder.
func (s *Storage) Root() string { return s.root }

// Version returns a counter that changes whenever a listing would, and the
// time of the last change, for ETag and Last-Modified.
func (s *Storage) Version() (uint64, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen, s.modified
}

// touchLocked records a change. s.mu must be held.
func (s *Storage) touchLocked() {
	s.gen++
	s.modified = s.now().Truncate(time.Second)
}

func (s *Storage) touch() {
	s.mu.Lock()
	s.touchLocked()
	s.mu.Unlock()
}

func (s *Storage) publish(e events.Event) {
	if s.bus != nil {
		s.bus.Publish(e)
	}
}

// Usage returns the free and total bytes of the file system holding the
// storage.
func (s *Storage) Usage() (free, total int64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(s.root, &st); err != nil {
		return 0, 0, fmt.Errorf("files: statfs %q: %w", s.root, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), int64(st.Blocks) * int64(st.Bsize), nil
}

// abs returns the OS path of the stored path p after checking that no
// existing component resolves outside the root through a symlink.
func (s *Storage) abs(p string) (string, error) {
	full := filepath.Join(s.root, filepath.FromSlash(p))
	probe := full
	for {
		real, err := filepath.EvalSymlinks(probe)
		if err == nil {
			if real != s.root && !strings.HasPrefix(real, s.root+string(filepath.Separator)) {
				return "", fmt.Errorf("%w: %q resolves outside the storage", ErrInvalidPath, p)
			}
			return full, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("files: resolve %q: %w", p, err)
		}
		parent := filepath.Dir(probe)
		if parent == probe || len(parent) < len(s.root) {
			return full, nil
		}
		probe = parent
	}
}

// Get returns the entry at path p (a stored path, see CheckPath), or
// ErrNotFound.
func (s *Storage) Get(ctx context.Context, p string) (*Entry, error) {
	p, err := CheckPath(p)
	if err != nil {
		return nil, err
	}
	if p == "" {
		return &Entry{Folder: true}, nil
	}
	var e *Entry
	err = s.db.View(ctx, func(tx *bolt.Tx) error {
		raw := tx.Bucket(store.BucketFiles).Get([]byte(p))
		if raw == nil {
			return fmt.Errorf("files: %q: %w", p, ErrNotFound)
		}
		e = new(Entry)
		return json.Unmarshal(raw, e)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// List returns every entry below folder dir ("" for the root) in path
// order, descending into sub-folders when recursive is true. It is one
// prefix scan of the index.
func (s *Storage) List(ctx context.Context, dir string, recursive bool) ([]*Entry, error) {
	dir, err := CheckPath(dir)
	if err != nil {
		return nil, err
	}
	if dir != "" {
		e, err := s.Get(ctx, dir)
		if err != nil {
			return nil, err
		}
		if !e.Folder {
			return nil, fmt.Errorf("files: list %q: %w", dir, ErrNotFolder)
		}
	}
	prefix := []byte(dir)
	if dir != "" {
		prefix = append(prefix, '/')
	}
	var out []*Entry
	err = s.db.View(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(store.BucketFiles).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if !recursive && bytes.IndexByte(k[len(prefix):], '/') >= 0 {
				continue
			}
			e := new(Entry)
			if err := json.Unmarshal(v, e); err != nil {
				return fmt.Errorf("files: index entry %q: %w", k, err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// put writes e to the index.
func (s *Storage) put(tx *bolt.Tx, e *Entry) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return tx.Bucket(store.BucketFiles).Put([]byte(e.Path), raw)
}

// update applies fn to the indexed entry at p and stores the result.
func (s *Storage) update(ctx context.Context, p string, fn func(e *Entry) error) (*Entry, error) {
	var e *Entry
	err := s.db.Update(ctx, func(tx *bolt.Tx) error {
		raw := tx.Bucket(store.BucketFiles).Get([]byte(p))
		if raw == nil {
			return fmt.Errorf("files: %q: %w", p, ErrNotFound)
		}
		e = new(Entry)
		if err := json.Unmarshal(raw, e); err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
		return s.put(tx, e)
	})
	if err != nil {
		return nil, err
	}
	s.touch()
	return e, nil
}

// SetUserdata replaces the user data of the entry at p.
func (s *Storage) SetUserdata(ctx context.Context, p string, data json.RawMessage) error {
	_, err := s.update(ctx, p, func(e *Entry) error { e.Userdata = data; return nil })
	return err
}

// RecordPrint adds a print to the history of the file at p and publishes
// MetadataStatisticsUpdated.
func (s *Storage) RecordPrint(ctx context.Context, p string, r PrintRecord) error {
	if r.End == 0 {
		r.End = float64(s.now().UnixMilli()) / 1000
	}
	if _, err := s.update(ctx, p, func(e *Entry) error { e.addPrint(r); return nil }); err != nil {
		return err
	}
	s.publish(events.MetadataStatisticsUpdated{Storage: Location, Path: p})
	return nil
}

// Hold marks the file at p as used by a job until release is called:
// overwriting, moving or deleting it fails with ErrInUse meanwhile.
func (s *Storage) Hold(p string) (release func()) {
	s.mu.Lock()
	s.held[p]++
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.held[p]--; s.held[p] <= 0 {
				delete(s.held, p)
			}
			s.mu.Unlock()
		})
	}
}

// heldLocked reports whether p, or anything below p when it is a folder, is
// held. s.mu must be held.
func (s *Storage) heldLocked(p string) bool {
	for h := range s.held {
		if h == p || strings.HasPrefix(h, p+"/") {
			return true
		}
	}
	return false
}

// InUse reports whether p (or a file below it) is held by a job.
func (s *Storage) InUse(p string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heldLocked(p)
}
