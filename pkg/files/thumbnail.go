package files

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// thumbDirName is the hidden folder inside the root that holds preview
// images, named by the SHA-1 of the G-code they came from, so copies share
// one and a changed file gets a new one.
const thumbDirName = ".thumbs"

// saveThumbnail stores a preview image for the file with content hash and
// returns its name.
func (s *Storage) saveThumbnail(hash, ext string, data []byte) (string, error) {
	if ext != "png" && ext != "jpg" {
		return "", fmt.Errorf("files: thumbnail format %q", ext)
	}
	dir := filepath.Join(s.root, thumbDirName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	name := hash + "." + ext
	f, err := os.CreateTemp(s.tmp, "thumb-*")
	if err != nil {
		return "", err
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
		return "", err
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
	if e.Thumbnail == "" || strings.ContainsAny(e.Thumbnail, `/\`) {
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
