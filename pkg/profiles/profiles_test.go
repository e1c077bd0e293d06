package profiles_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/profiles"
	"github.com/cuttleprint/cuttle/pkg/store"
)

func open(t *testing.T) *profiles.Store {
	db, err := store.Open(context.Background(), t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return profiles.New(db)
}

func TestDefaultAlwaysThere(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	p, err := s.Get(ctx, profiles.DefaultID)
	if err != nil || p.Name != "Default" || !p.HeatedBed || p.Extruder.Count != 1 {
		t.Fatalf("Get(_default) = %+v, %v", p, err)
	}
	if s.Current(ctx) != profiles.DefaultID || s.Default(ctx) != profiles.DefaultID {
		t.Errorf("current %q default %q", s.Current(ctx), s.Default(ctx))
	}
	if err := s.Delete(ctx, profiles.DefaultID); !errors.Is(err, profiles.ErrInUse) {
		t.Errorf("Delete(_default) = %v; want ErrInUse", err)
	}
}

func TestAddUpdateDelete(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	base := profiles.Builtin()
	base.ID, base.Name = "mk3", "MK3"
	if _, err := s.Add(ctx, base); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, base); !errors.Is(err, profiles.ErrExists) {
		t.Errorf("second Add = %v; want ErrExists", err)
	}
	base.ID = "bad id!"
	if _, err := s.Add(ctx, base); !errors.Is(err, profiles.ErrInvalid) {
		t.Errorf("Add(bad id) = %v; want ErrInvalid", err)
	}
	p, err := s.Update(ctx, "mk3", map[string]any{"axes": map[string]any{"z": map[string]any{"speed": 720}}})
	if err != nil || p.Axes.Z.Speed != 720 || p.Axes.X.Speed != 6000 {
		t.Fatalf("Update = %+v, %v", p.Axes, err)
	}
	if _, err := s.Update(ctx, "mk3", map[string]any{"heatedBed": "yes"}); !errors.Is(err, profiles.ErrInvalid) {
		t.Errorf("Update(wrong type) = %v; want ErrInvalid", err)
	}
	s.SetCurrent("mk3")
	if err := s.Delete(ctx, "mk3"); !errors.Is(err, profiles.ErrInUse) {
		t.Errorf("Delete(current) = %v; want ErrInUse", err)
	}
	s.SetCurrent("")
	if err := s.Delete(ctx, "mk3"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "mk3"); !errors.Is(err, profiles.ErrNotFound) {
		t.Errorf("Get after Delete = %v", err)
	}
}
