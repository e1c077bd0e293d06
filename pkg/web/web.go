package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed all:dist
var embedded embed.FS

// ErrNoIndex is returned by New and NewFS when the file system holds no
// index.html: the bundle was not built.
var ErrNoIndex = errors.New("web: bundle has no index.html")

// contentType maps the extensions a Vite build produces to their media
// types, so the answer does not depend on the host's mime database.
func contentType(ext string) string {
	switch ext {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json", ".map":
		return "application/json"
	case ".webmanifest":
		return "application/manifest+json"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".ico":
		return "image/x-icon"
	case ".webp":
		return "image/webp"
	case ".woff2":
		return "font/woff2"
	case ".woff":
		return "font/woff"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// compressible reports whether files with the extension are worth gzipping.
func compressible(ext string) bool {
	switch ext {
	case ".html", ".js", ".mjs", ".css", ".json", ".svg", ".webmanifest", ".txt", ".map":
		return true
	}
	return false
}

// contentSecurityPolicy allows the page's own scripts and styles, webcam
// images and streams from any host (cameras often run on another port), and
// connections back to this host only.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src * data: blob:; media-src * blob:; connect-src 'self' ws: wss:; object-src 'none'; " +
	"base-uri 'self'; form-action 'self'; frame-ancestors 'self'"

type asset struct {
	body      []byte
	gz        []byte // nil when compression does not pay
	ctype     string
	etag      string
	immutable bool
}

// Handler serves the embedded single-page app. It is immutable after
// construction and safe for concurrent use.
type Handler struct {
	files map[string]*asset // keyed by slash path without the leading slash
	index *asset
}

// New returns a Handler for the bundle embedded at build time.
func New() (*Handler, error) {
	return NewFS(DistFS())
}

// DistFS returns the embedded bundle, rooted at its index.html.
func DistFS() fs.FS {
	sub, err := fs.Sub(embedded, "dist")
	if err != nil {
		panic("web: embedded dist: " + err.Error()) // fs.Sub fails only on an invalid name
	}
	return sub
}

// NewFS returns a Handler serving the files of fsys, which must hold
// index.html at its root. Every file is read and, where it pays, gzipped once.
func NewFS(fsys fs.FS) (*Handler, error) {
	h := &Handler{files: make(map[string]*asset)}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("web: read %q: %w", p, err)
		}
		a, err := newAsset(p, body)
		if err != nil {
			return err
		}
		h.files[p] = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	h.index = h.files["index.html"]
	if h.index == nil {
		return nil, ErrNoIndex
	}
	return h, nil
}

func newAsset(p string, body []byte) (*asset, error) {
	ext := strings.ToLower(path.Ext(p))
	ctype := contentType(ext)
	sum := sha256.Sum256(body)
	a := &asset{
		body:      body,
		ctype:     ctype,
		etag:      `"` + hex.EncodeToString(sum[:12]) + `"`,
		immutable: strings.HasPrefix(p, "assets/"),
	}
	if compressible(ext) && len(body) > 512 {
		var buf bytes.Buffer
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if err != nil {
			return nil, fmt.Errorf("web: gzip %q: %w", p, err)
		}
		if _, err := zw.Write(body); err != nil {
			return nil, fmt.Errorf("web: gzip %q: %w", p, err)
		}
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("web: gzip %q: %w", p, err)
		}
		if buf.Len() < len(body)*9/10 {
			a.gz = buf.Bytes()
		}
	}
	return a, nil
}

// ServeHTTP answers GET and HEAD for the bundle's files and client routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	a, ok := h.files[p]
	switch {
	case ok:
	case p == "" || path.Ext(p) == "" && !strings.HasPrefix(p, "assets/"):
		a = h.index // a client route
	default:
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	h.serve(w, r, a)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, a *asset) {
	hd := w.Header()
	hd.Set("Content-Type", a.ctype)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("ETag", a.etag)
	if a.immutable {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	if a == h.index {
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Frame-Options", "SAMEORIGIN")
		hd.Set("Referrer-Policy", "same-origin")
	}
	if a.gz != nil {
		hd.Add("Vary", "Accept-Encoding")
	}
	if etagMatch(r.Header.Get("If-None-Match"), a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if a.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		hd.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// etagMatch reports whether an If-None-Match header names etag (or is "*").
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		t = strings.TrimPrefix(t, "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip
// (a q=0 weight refuses it).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
