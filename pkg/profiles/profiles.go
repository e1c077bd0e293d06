package profiles

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"sync"

	"github.com/cuttleprint/cuttle/pkg/store"
	bolt "go.etcd.io/bbolt"
)

// DefaultID is the id of the built-in profile.
const DefaultID = "_default"

// Errors returned by Store.
var (
	// ErrNotFound is returned for an unknown profile id.
	ErrNotFound = errors.New("profiles: no such profile")
	// ErrExists is returned when adding a profile whose id is taken.
	ErrExists = errors.New("profiles: profile exists")
	// ErrInvalid is returned for a profile without id or name, or with a
	// malformed field.
	ErrInvalid = errors.New("profiles: invalid profile")
	// ErrInUse is returned when deleting the default or current profile.
	ErrInUse = errors.New("profiles: profile is the default or the current one")
)

// Profile is a printer profile in OctoPrint's shape (without the computed
// fields default, current and resource).
type Profile struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Color         string   `json:"color"`
	Model         string   `json:"model"`
	Volume        Volume   `json:"volume"`
	HeatedBed     bool     `json:"heatedBed"`
	HeatedChamber bool     `json:"heatedChamber"`
	Axes          Axes     `json:"axes"`
	Extruder      Extruder `json:"extruder"`
}

// Volume is the build volume.
type Volume struct {
	FormFactor string  `json:"formFactor"`
	Origin     string  `json:"origin"`
	Width      float64 `json:"width"`
	Depth      float64 `json:"depth"`
	Height     float64 `json:"height"`
	CustomBox  any     `json:"custom_box"`
}

// Axes are the axes' speeds (mm/min) and directions.
type Axes struct {
	X Axis `json:"x"`
	Y Axis `json:"y"`
	Z Axis `json:"z"`
	E Axis `json:"e"`
}

// Axis is one axis.
type Axis struct {
	Speed    float64 `json:"speed"`
	Inverted bool    `json:"inverted"`
}

// Extruder describes the extruders.
type Extruder struct {
	Count                  int          `json:"count"`
	Offsets                [][2]float64 `json:"offsets"`
	NozzleDiameter         float64      `json:"nozzleDiameter"`
	SharedNozzle           bool         `json:"sharedNozzle"`
	DefaultExtrusionLength float64      `json:"defaultExtrusionLength"`
}

// Builtin returns the "_default" profile: a generic 200×200×200 mm printer
// with a heated bed and one 0.4 mm extruder, as OctoPrint ships it.
func Builtin() Profile {
	return Profile{ID: DefaultID, Name: "Default", Color: "default", Model: "Generic RepRap Printer",
		Volume:    Volume{FormFactor: "rectangular", Origin: "lowerleft", Width: 200, Depth: 200, Height: 200, CustomBox: false},
		HeatedBed: true,
		Axes:      Axes{X: Axis{Speed: 6000}, Y: Axis{Speed: 6000}, Z: Axis{Speed: 200}, E: Axis{Speed: 300}},
		Extruder:  Extruder{Count: 1, Offsets: [][2]float64{{0, 0}}, NozzleDiameter: 0.4, DefaultExtrusionLength: 5}}
}

var validID = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

var keyDefault = []byte("\x00default")

// Store holds the profiles.
type Store struct {
	db *store.DB
	// mu guards current.
	mu      sync.Mutex
	current string
}

// New returns the Store over db (bucket store.BucketPrinterProfiles).
func New(db *store.DB) *Store { return &Store{db: db} }

// List returns every profile by id, "_default" included.
func (s *Store) List(ctx context.Context) (map[string]Profile, error) {
	out := map[string]Profile{DefaultID: Builtin()}
	err := s.db.View(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(store.BucketPrinterProfiles).ForEach(func(k, v []byte) error {
			if k[0] == 0 {
				return nil
			}
			var p Profile
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("profiles: stored %q: %w", k, err)
			}
			out[string(k)] = p
			return nil
		})
	})
	return out, err
}

// IDs returns the profile ids sorted.
func (s *Store) IDs(ctx context.Context) ([]string, error) {
	m, err := s.List(ctx)
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, err
}

// Get returns the profile id.
func (s *Store) Get(ctx context.Context, id string) (Profile, error) {
	m, err := s.List(ctx)
	if err != nil {
		return Profile{}, err
	}
	p, ok := m[id]
	if !ok {
		return Profile{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return p, nil
}

// Default returns the id of the default profile.
func (s *Store) Default(ctx context.Context) string {
	id := DefaultID
	s.db.View(ctx, func(tx *bolt.Tx) error {
		if v := tx.Bucket(store.BucketPrinterProfiles).Get(keyDefault); v != nil {
			id = string(v)
		}
		return nil
	})
	return id
}

// SetDefault makes id the default profile.
func (s *Store) SetDefault(ctx context.Context, id string) error {
	if _, err := s.Get(ctx, id); err != nil {
		return err
	}
	return s.db.Update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(store.BucketPrinterProfiles).Put(keyDefault, []byte(id))
	})
}

// Current returns the id of the connected printer's profile (the default
// when none was chosen).
func (s *Store) Current(ctx context.Context) string {
	s.mu.Lock()
	cur := s.current
	s.mu.Unlock()
	if cur != "" {
		if _, err := s.Get(ctx, cur); err == nil {
			return cur
		}
	}
	return s.Default(ctx)
}

// SetCurrent records the connected printer's profile ("" clears it).
func (s *Store) SetCurrent(id string) {
	s.mu.Lock()
	s.current = id
	s.mu.Unlock()
}

// Add stores a new profile. It fails with ErrInvalid or ErrExists.
func (s *Store) Add(ctx context.Context, p Profile) (Profile, error) {
	if !validID.MatchString(p.ID) || p.Name == "" {
		return Profile{}, fmt.Errorf("%w: id (letters, digits, _.-) and name are required", ErrInvalid)
	}
	if _, err := s.Get(ctx, p.ID); err == nil {
		return Profile{}, fmt.Errorf("%w: %q", ErrExists, p.ID)
	}
	return p, s.put(ctx, p)
}

func (s *Store) put(ctx context.Context, p Profile) error {
	if p.Extruder.Count < 1 {
		return fmt.Errorf("%w: extruder.count must be at least 1", ErrInvalid)
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.db.Update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(store.BucketPrinterProfiles).Put([]byte(p.ID), raw)
	})
}

// Update merges the JSON object patch into profile id (nested objects merge
// key by key) and stores the result; "_default" becomes a stored override.
func (s *Store) Update(ctx context.Context, id string, patch map[string]any) (Profile, error) {
	cur, err := s.Get(ctx, id)
	if err != nil {
		return Profile{}, err
	}
	p, err := Merge(cur, patch)
	if err != nil {
		return Profile{}, err
	}
	p.ID = id
	if p.Name == "" {
		return Profile{}, fmt.Errorf("%w: name is required", ErrInvalid)
	}
	return p, s.put(ctx, p)
}

// Merge returns base with the JSON object patch merged in.
func Merge(base Profile, patch map[string]any) (Profile, error) {
	raw, _ := json.Marshal(base)
	var m map[string]any
	json.Unmarshal(raw, &m)
	merge(m, patch)
	raw, _ = json.Marshal(m)
	var out Profile
	if err := json.Unmarshal(raw, &out); err != nil {
		return Profile{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return out, nil
}

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

// Delete removes profile id. The default and the current profile cannot be
// deleted (ErrInUse); nor can "_default".
func (s *Store) Delete(ctx context.Context, id string) error {
	if _, err := s.Get(ctx, id); err != nil {
		return err
	}
	if id == DefaultID || id == s.Default(ctx) || id == s.Current(ctx) {
		return fmt.Errorf("%w: %q", ErrInUse, id)
	}
	return s.db.Update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(store.BucketPrinterProfiles).Delete([]byte(id))
	})
}
