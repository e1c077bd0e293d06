package main

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/profiles"
	"github.com/cuttleprint/cuttle/pkg/settings"
	"github.com/cuttleprint/cuttle/pkg/store"
)

// TestMachineFollowsDefaultProfile checks that the printer is built from the
// default printer profile in the store: a profile without a heated bed makes
// a Machine without one.
func TestMachineFollowsDefaultProfile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := profiles.New(db).Update(ctx, profiles.DefaultID, map[string]any{"heatedBed": false, "extruder": map[string]any{"count": 2}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	cfg := serveConfig{dataDir: dir, listen: "127.0.0.1:0", settings: settings.Defaults(), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	a, err := newApp(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	if p := a.deps.Printer.Profile(); p.HeatedBed || p.Extruders != 2 {
		t.Errorf("Machine profile = %+v; want no heated bed, 2 extruders", p)
	}
	if _, err := jobScripts(map[string]string{"nope": "G28"}); err == nil {
		t.Error("an unknown script name was accepted")
	}
}
