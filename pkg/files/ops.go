package files

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/store"
	bolt "go.etcd.io/bbolt"
)

// Open opens the file at p for reading, with its entry. The caller closes it.
func (s *Storage) Open(ctx context.Context, p string) (*os.File, *Entry, error) {
	e, err := s.Get(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	if e.Folder {
		return nil, nil, fmt.Errorf("files: open %q: is a folder: %w", p, ErrNotFound)
	}
	full, err := s.abs(e.Path)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Open(full)
	if err != nil {
		return nil, nil, fmt.Errorf("files: open %q: %w", p, err)
	}
	return f, e, nil
}

// Remove deletes the file or folder (with everything in it) at p. It fails
// with ErrInUse when a job holds p or a file below it.
func (s *Storage) Remove(ctx context.Context, p string) error {
	e, err := s.Get(ctx, p)
	if err != nil {
		return err
	}
	if e.Path == "" {
		return fmt.Errorf("%w: cannot remove the root", ErrInvalidPath)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.heldLocked(e.Path) {
		return fmt.Errorf("files: remove %q: %w", e.Path, ErrInUse)
	}
	full, err := s.abs(e.Path)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(full); err != nil {
		return fmt.Errorf("files: remove %q: %w", e.Path, err)
	}
	var thumbs []string
	if err := s.db.Update(ctx, func(tx *bolt.Tx) error {
		var err error
		thumbs, err = deleteTree(tx, e.Path)
		return err
	}); err != nil {
		return fmt.Errorf("files: unindex %q: %w", e.Path, err)
	}
	s.dropThumbsLocked(ctx, thumbs...)
	s.queue.drop(e.Path)
	s.touchLocked()
	if e.Folder {
		s.publish(events.FolderRemoved{Storage: Location, Path: e.Path, FolderName: e.Name()})
	} else {
		s.publish(events.FileRemoved{Storage: Location, Path: e.Path, FileName: e.Name(), Type: TypePath(e.Name()), Operation: "remove"})
	}
	s.publish(events.UpdatedFiles{Type: "printables"})
	return nil
}

// deleteTree removes p and every key below it from the index and returns
// the thumbnails the removed entries named, for dropThumbsLocked.
func deleteTree(tx *bolt.Tx, p string) ([]string, error) {
	b := tx.Bucket(store.BucketFiles)
	var thumbs []string
	thumbOf := func(v []byte) {
		var e Entry
		// An undecodable entry names no image we could find; the sweep in
		// Reconcile removes the image it named.
		if json.Unmarshal(v, &e) == nil && e.Thumbnail != "" {
			thumbs = append(thumbs, e.Thumbnail)
		}
	}
	if v := b.Get([]byte(p)); v != nil {
		thumbOf(v)
	}
	if err := b.Delete([]byte(p)); err != nil {
		return nil, err
	}
	prefix := []byte(p + "/")
	var keys [][]byte
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
		thumbOf(v)
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return nil, err
		}
	}
	return thumbs, nil
}

// Destination resolves OctoPrint's copy/move destination for src: an
// existing folder means "into it, same name"; otherwise the destination is
// the new path and its parent must be an existing folder. It fails with
// ErrNotFound when neither holds.
func (s *Storage) Destination(ctx context.Context, src *Entry, dst string) (string, error) {
	dst, err := SanitizePath(dst)
	if err != nil {
		return "", err
	}
	if d, err := s.Get(ctx, dst); err == nil && d.Folder {
		return joinPath(dst, src.Name()), nil
	}
	parent, _ := splitPath(dst)
	if pd, err := s.Get(ctx, parent); err != nil || !pd.Folder {
		return "", fmt.Errorf("files: destination folder %q: %w", parent, ErrNotFound)
	}
	return dst, nil
}

// Move moves the file or folder at src to dst (a full new path; see
// Destination). It fails with ErrExists when dst exists, ErrInUse when src is
// held, ErrInvalidPath when moving a folder into itself.
func (s *Storage) Move(ctx context.Context, src, dst string) (*Entry, error) {
	return s.transfer(ctx, src, dst, true)
}

// Copy copies the file or folder at src to dst (see Move). Copies keep the
// metadata but not the print history.
func (s *Storage) Copy(ctx context.Context, src, dst string) (*Entry, error) {
	return s.transfer(ctx, src, dst, false)
}

func (s *Storage) transfer(ctx context.Context, src, dst string, move bool) (*Entry, error) {
	se, err := s.Get(ctx, src)
	if err != nil {
		return nil, err
	}
	if dst, err = CheckPath(dst); err != nil {
		return nil, err
	}
	if se.Path == "" || dst == "" || dst == se.Path || (se.Folder && len(dst) > len(se.Path) && dst[:len(se.Path)+1] == se.Path+"/") {
		return nil, fmt.Errorf("%w: cannot put %q at %q", ErrInvalidPath, src, dst)
	}
	if !se.Folder && !IsMachineCode(baseName(dst)) {
		return nil, fmt.Errorf("files: %q: %w", dst, ErrUnsupportedType)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if move && s.heldLocked(se.Path) {
		return nil, fmt.Errorf("files: move %q: %w", se.Path, ErrInUse)
	}
	from, err := s.abs(se.Path)
	if err != nil {
		return nil, err
	}
	to, err := s.abs(dst)
	if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(to); err == nil {
		return nil, fmt.Errorf("files: %q: %w", dst, ErrExists)
	}
	if move {
		err = os.Rename(from, to)
	} else {
		err = copyTree(from, to)
	}
	if err != nil {
		os.RemoveAll(to)
		return nil, fmt.Errorf("files: %s %q to %q: %w", map[bool]string{true: "move", false: "copy"}[move], se.Path, dst, err)
	}
	syncDir(filepath.Dir(to))
	err = s.db.Update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(store.BucketFiles)
		type kv struct{ k, v []byte }
		var moved []kv
		c := b.Cursor()
		prefix := []byte(se.Path + "/")
		for k, v := c.Seek([]byte(se.Path)); k != nil && (string(k) == se.Path || bytes.HasPrefix(k, prefix)); k, v = c.Next() {
			moved = append(moved, kv{append([]byte(nil), k...), append([]byte(nil), v...)})
		}
		for _, m := range moved {
			var e Entry
			if err := jsonUnmarshal(m.v, &e); err != nil {
				return err
			}
			e.Path = dst + e.Path[len(se.Path):]
			if e.Path == dst {
				e.Display = baseName(dst)
			}
			if !move {
				e.Prints, e.Statistics = nil, nil
			}
			if err := s.put(tx, &e); err != nil {
				return err
			}
			if move {
				if err := b.Delete(m.k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("files: reindex %q: %w", dst, err)
	}
	s.touchLocked()
	name := baseName(dst)
	switch {
	case move && se.Folder:
		s.publish(events.FolderMoved{Storage: Location, SourcePath: se.Path, SourceName: se.Name(), DestinationPath: dst, DestinationName: name})
	case move:
		s.publish(events.FileMoved{Storage: Location, SourcePath: se.Path, SourceName: se.Name(), SourceType: TypePath(se.Name()),
			DestinationPath: dst, DestinationName: name, DestinationType: TypePath(name)})
	case se.Folder:
		s.publish(events.FolderAdded{Storage: Location, Path: dst, FolderName: name})
	default:
		s.publish(events.FileAdded{Storage: Location, Path: dst, FileName: name, Type: TypePath(name), Operation: "copy"})
	}
	s.publish(events.UpdatedFiles{Type: "printables"})
	return s.Get(ctx, dst)
}

// copyTree copies a file or a folder recursively, refusing symlinks.
func copyTree(from, to string) error {
	st, err := os.Lstat(from)
	if err != nil {
		return err
	}
	switch {
	case st.Mode()&os.ModeSymlink != 0:
		return nil
	case st.IsDir():
		if err := os.Mkdir(to, 0o755); err != nil {
			return err
		}
		ents, err := os.ReadDir(from)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if err := copyTree(filepath.Join(from, e.Name()), filepath.Join(to, e.Name())); err != nil {
				return err
			}
		}
		return nil
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
