package files

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cuttleprint/cuttle/pkg/store"
	bolt "go.etcd.io/bbolt"
)

// thumbDirName is the hidden folder inside the root that holds preview
// images, named by the SHA-1 of the G-code they came from, so copies share
// one and a changed file gets a new one.
//
// An image lives as long as an index entry names it as its Thumbnail. Every
// writer of Entry.Thumbnail holds s.mu, and so does every remover of an
// image, which checks the committed index first: an image is written before
// the entry naming it is committed and removed only after the last entry
// naming it is gone. A crash in between leaves an unreferenced image, never a
// reference to a missing one; Reconcile sweeps such leftovers.
const thumbDirName = ".thumbs"

// saveThumbnailLocked stores a preview image for the file with content hash
// and returns its name. s.mu must be held: otherwise the image could be
// written just before a removal that found it unreferenced deletes it, and
// the entry then committed would name a missing file.
func (s *Storage) saveThumbnailLocked(hash, ext string, data []byte) (string, error) {
	if ext != "png" && ext != "jpg" {
		return "", fmt.Errorf("files: thumbnail format %q", ext)
	}
	dir := filepath.Join(s.root, thumbDirName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("files: create %q: %w", dir, err)
	}
	name := hash + "." + ext
	f, err := os.CreateTemp(s.tmp, "thumb-*")
	if err != nil {
		return "", fmt.Errorf("files: thumbnail %q: %w", name, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("files: thumbnail %q: %w", name, err)
	}
	return name, nil
}

// Thumbnail opens the preview image of the file at p. It returns the open
// image, its media type and ErrNotFound when the file has none.
func (s *Storage) Thumbnail(ctx context.Context, p string) (*os.File, string, error) {
	e, err := s.Get(ctx, p)
	if err != nil {
		return nil, "", err
	}
	if !validThumbName(e.Thumbnail) {
		return nil, "", fmt.Errorf("files: thumbnail of %q: %w", p, ErrNotFound)
	}
	f, err := os.Open(filepath.Join(s.root, thumbDirName, e.Thumbnail))
	if err != nil {
		return nil, "", fmt.Errorf("files: thumbnail of %q: %w", p, ErrNotFound)
	}
	mt := "image/png"
	if strings.HasSuffix(e.Thumbnail, ".jpg") {
		mt = "image/jpeg"
	}
	return f, mt, nil
}

// validThumbName reports whether name can be an image in the thumbnail
// folder. Index entries are data read back from disk, so a name is checked
// before it is joined to a path that is opened or removed.
func validThumbName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\`)
}

// unreferenced returns those of names that no index entry in tx names as
// its Thumbnail.
func unreferenced(tx *bolt.Tx, names map[string]bool) (map[string]bool, error) {
	left := make(map[string]bool, len(names))
	for n := range names {
		left[n] = true
	}
	if len(left) == 0 {
		return left, nil
	}
	key := []byte(`"thumbnail"`)
	err := tx.Bucket(store.BucketFiles).ForEach(func(k, v []byte) error {
		if !bytes.Contains(v, key) {
			return nil // most entries have none; skip decoding them
		}
		var e struct {
			Thumbnail string `json:"thumbnail"`
		}
		if err := json.Unmarshal(v, &e); err != nil {
			// An unreadable entry might name any image: fail, so that
			// nothing is removed on its account.
			return fmt.Errorf("files: index entry %q: %w", k, err)
		}
		delete(left, e.Thumbnail)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return left, nil
}

// dropThumbsLocked removes those of the images names that no index entry
// refers to any more. Call it after the transaction that dropped the
// references has committed, with s.mu held since before that transaction so
// that no new reference can appear in between. Failures are logged, not
// returned: the operation that dropped the references has succeeded, and a
// leftover image is swept by the next Reconcile.
func (s *Storage) dropThumbsLocked(ctx context.Context, names ...string) {
	cand := map[string]bool{}
	for _, n := range names {
		if validThumbName(n) {
			cand[n] = true
		}
	}
	if len(cand) == 0 {
		return
	}
	var orphans map[string]bool
	// The references are gone already; a cancelled request must not
	// leave the images behind.
	err := s.db.View(context.WithoutCancel(ctx), func(tx *bolt.Tx) error {
		var err error
		orphans, err = unreferenced(tx, cand)
		return err
	})
	if err != nil {
		s.log.Warn("files: thumbnail references", "err", err)
		return
	}
	for n := range orphans {
		full := filepath.Join(s.root, thumbDirName, n)
		if err := os.Remove(full); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("files: remove thumbnail", "path", full, "err", fmt.Errorf("files: remove thumbnail %q: %w", full, err))
		}
	}
}

// sweepThumbsLocked removes every image in the thumbnail folder that no
// index entry refers to (left by a crash between an index commit and the
// removal, or by a version that never removed them) and returns how many it
// removed. s.mu must be held.
func (s *Storage) sweepThumbsLocked(ctx context.Context) (int, error) {
	dir := filepath.Join(s.root, thumbDirName)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("files: read %q: %w", dir, err)
	}
	onDisk := map[string]bool{}
	for _, e := range ents {
		if !e.IsDir() && validThumbName(e.Name()) {
			onDisk[e.Name()] = true
		}
	}
	var orphans map[string]bool
	err = s.db.View(ctx, func(tx *bolt.Tx) error {
		var err error
		orphans, err = unreferenced(tx, onDisk)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("files: thumbnail references in %q: %w", dir, err)
	}
	n := 0
	for name := range orphans {
		full := filepath.Join(dir, name)
		if err := os.Remove(full); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("files: remove thumbnail %q: %w", full, err)
		}
		n++
	}
	return n, nil
}
