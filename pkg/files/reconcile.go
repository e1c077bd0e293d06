package files

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cuttleprint/cuttle/pkg/store"
	bolt "go.etcd.io/bbolt"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// Reconcile brings the index in line with the tree: files and folders put
// there by other means (a copy over SSH) are indexed, entries whose file is
// gone are dropped, and files whose size or time changed are re-hashed (and
// re-analysed when the content changed). Hidden names, symlinks and files
// without a machine-code extension are ignored. It is the only operation
// that walks the tree. Last, it removes the images in .thumbs that no entry
// names (left by a crash, or by versions that kept them forever) and logs
// how many.
func (s *Storage) Reconcile(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	onDisk := map[string]fs.FileInfo{}
	err := filepath.WalkDir(s.root, func(full string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if full == s.root {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") || d.Type()&fs.ModeSymlink != 0 {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(s.root, full)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if _, err := CheckPath(rel); err != nil {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && (!d.Type().IsRegular() || !IsMachineCode(d.Name())) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		onDisk[rel] = info
		return ctx.Err()
	})
	if err != nil {
		return fmt.Errorf("files: scan %q: %w", s.root, err)
	}
	var stale []string
	var indexed = map[string]*Entry{}
	err = s.db.View(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(store.BucketFiles).ForEach(func(k, v []byte) error {
			e := new(Entry)
			if err := json.Unmarshal(v, e); err != nil {
				stale = append(stale, string(k))
				return nil
			}
			if _, ok := onDisk[string(k)]; !ok {
				stale = append(stale, string(k))
				return nil
			}
			indexed[string(k)] = e
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("files: read index: %w", err)
	}
	var changed []*Entry
	var analyse []string
	for p, info := range onDisk {
		e, ok := indexed[p]
		if info.IsDir() {
			if !ok || !e.Folder {
				changed = append(changed, &Entry{Path: p, Display: info.Name(), Folder: true, Date: info.ModTime().Unix()})
			}
			continue
		}
		if ok && !e.Folder && e.Size == info.Size() && e.Date == info.ModTime().Unix() {
			if e.Analysis == nil && e.AnalysisError == "" {
				analyse = append(analyse, p)
			}
			continue
		}
		sum, err := hashFile(filepath.Join(s.root, filepath.FromSlash(p)))
		if err != nil {
			s.log.Warn("files: cannot hash file, skipping", "path", p, "err", err)
			continue
		}
		if !ok || e.Folder {
			e = &Entry{Path: p, Display: info.Name()}
		}
		if e.Hash != sum {
			// The preview belongs to the old content, like the analysis;
			// the sweep below removes it unless a copy still names it.
			e.Analysis, e.AnalysisError, e.Thumbnail = nil, "", ""
		}
		e.Hash, e.Size, e.Date = sum, info.Size(), info.ModTime().Unix()
		changed = append(changed, e)
		if e.Analysis == nil {
			analyse = append(analyse, p)
		}
	}
	if len(stale) > 0 || len(changed) > 0 {
		if err := s.reindexLocked(ctx, stale, changed); err != nil {
			return err
		}
	}
	for _, p := range analyse {
		s.queue.push(p)
	}
	// After the index commit, so that images of the entries just dropped
	// are found unreferenced too.
	n, err := s.sweepThumbsLocked(ctx)
	if err != nil {
		// Leftover images only take space; the next sweep tries again.
		s.log.Warn("files: sweep thumbnails", "err", err)
	}
	if n > 0 {
		s.log.Info("files: removed unreferenced thumbnails", "count", n, "dir", filepath.Join(s.root, thumbDirName))
	} else {
		s.log.Debug("files: no unreferenced thumbnails", "dir", filepath.Join(s.root, thumbDirName))
	}
	return nil
}

// reindexLocked drops the stale keys from the index and stores the changed
// entries. s.mu must be held.
func (s *Storage) reindexLocked(ctx context.Context, stale []string, changed []*Entry) error {
	err := s.db.Update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(store.BucketFiles)
		for _, k := range stale {
			if err := b.Delete([]byte(k)); err != nil {
				return err
			}
		}
		for _, e := range changed {
			if err := s.put(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("files: update index of %q: %w", s.root, err)
	}
	s.touchLocked()
	return nil
}

func hashFile(full string) (string, error) {
	f, err := os.Open(full)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha1.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
