package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"gopkg.in/yaml.v3"
)

// File is the config file and the live settings it holds. Reads return a
// copy; Update merges a partial tree, validates it, writes the file
// atomically (keeping the comments of keys that stay) and only then makes the
// new settings live and tells watchers. It is safe for concurrent use.
type File struct {
	path string

	mu       sync.RWMutex // guards cur and watchers; Update holds it while writing
	cur      *Settings
	watchers []func(*Settings)
}

// OpenFile loads path (a missing file yields the defaults; it is created on
// the first Update).
func OpenFile(path string) (*File, error) {
	s, err := Load(path)
	if err != nil {
		return nil, err
	}
	return &File{path: path, cur: s}, nil
}

// NewFile wraps already loaded settings that persist to path.
func NewFile(path string, s *Settings) *File { return &File{path: path, cur: s} }

// Path is where the settings persist ("" keeps them in memory only).
func (f *File) Path() string { return f.path }

// Get returns a copy of the live settings.
func (f *File) Get() *Settings {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return clone(f.cur)
}

// Watch registers fn to be called with the new settings after every
// successful Update. fn must not block.
func (f *File) Watch(fn func(*Settings)) {
	f.mu.Lock()
	f.watchers = append(f.watchers, fn)
	f.mu.Unlock()
}

func clone(s *Settings) *Settings {
	raw, err := json.Marshal(s)
	if err != nil {
		panic("settings: marshal: " + err.Error()) // only plain data in Settings
	}
	c := &Settings{}
	if err := json.Unmarshal(raw, c); err != nil {
		panic("settings: unmarshal: " + err.Error())
	}
	return c
}

// ErrType is returned when a merged value has the wrong JSON type.
var ErrType = errors.New("settings: wrong type")

// Update deep-merges patch (a JSON object in OctoPrint's settings tree;
// unknown keys are ignored, as OctoPrint does) into the live settings. A
// value of the wrong type or out of range fails the whole update: nothing is
// half-applied.
func (f *File) Update(patch map[string]any) (*Settings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	base, err := json.Marshal(f.cur)
	if err != nil {
		return nil, fmt.Errorf("settings: encode: %w", err)
	}
	var tree map[string]any
	if err := json.Unmarshal(base, &tree); err != nil {
		return nil, fmt.Errorf("settings: decode: %w", err)
	}
	merge(tree, patch)
	merged, _ := json.Marshal(tree)
	next := Defaults()
	next.Scripts.Gcode = map[string]string{}
	dec := json.NewDecoder(bytes.NewReader(merged))
	if err := dec.Decode(next); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("%w: %s must be %s, not %s", ErrType, te.Field, te.Type, te.Value)
		}
		return nil, fmt.Errorf("%w: %v", ErrType, err)
	}
	if err := next.Validate(); err != nil {
		return nil, err
	}
	if err := f.save(next); err != nil {
		return nil, err
	}
	f.cur = next
	ws := slices.Clone(f.watchers)
	out := clone(next)
	for _, w := range ws {
		w(clone(next))
	}
	return out, nil
}

// merge copies src into dst, recursing into objects; other values replace.
func merge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// save writes s to the file atomically, keeping the comments of keys that
// already were in the file.
func (f *File) save(s *Settings) error {
	if f.path == "" {
		return nil
	}
	var fresh yaml.Node
	if err := fresh.Encode(s); err != nil {
		return fmt.Errorf("settings: encode yaml: %w", err)
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{&fresh}}
	if old, err := os.ReadFile(f.path); err == nil {
		var prev yaml.Node
		if yaml.Unmarshal(old, &prev) == nil && len(prev.Content) == 1 && prev.Content[0].Kind == yaml.MappingNode {
			mergeNodes(prev.Content[0], &fresh)
			doc = &prev
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("settings: read %q: %w", f.path, err)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("settings: encode yaml: %w", err)
	}
	enc.Close()
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".config-*.yaml")
	if err != nil {
		return fmt.Errorf("settings: write %q: %w", f.path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("settings: write %q: %w", f.path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("settings: sync %q: %w", f.path, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("settings: replace %q: %w", f.path, err)
	}
	return nil
}

// mergeNodes updates the mapping dst with the values of src in place, so the
// comments attached to dst's keys survive; keys only in src are appended.
func mergeNodes(dst, src *yaml.Node) {
	for i := 0; i+1 < len(src.Content); i += 2 {
		k, v := src.Content[i], src.Content[i+1]
		found := false
		for j := 0; j+1 < len(dst.Content); j += 2 {
			if dst.Content[j].Value != k.Value {
				continue
			}
			found = true
			dv := dst.Content[j+1]
			if dv.Kind == yaml.MappingNode && v.Kind == yaml.MappingNode {
				mergeNodes(dv, v)
			} else {
				v.HeadComment, v.LineComment, v.FootComment = dv.HeadComment, dv.LineComment, dv.FootComment
				dst.Content[j+1] = v
			}
			break
		}
		if !found {
			dst.Content = append(dst.Content, k, v)
		}
	}
}
