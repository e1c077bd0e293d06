package profiles_test

import (
	"context"
	"fmt"
	"os"

	"github.com/cuttleprint/cuttle/pkg/profiles"
	"github.com/cuttleprint/cuttle/pkg/store"
)

func Example() {
	dir, _ := os.MkdirTemp("", "profiles")
	defer os.RemoveAll(dir)
	db, _ := store.Open(context.Background(), dir, store.Options{})
	defer db.Close()
	s := profiles.New(db)
	p, _ := s.Update(context.Background(), profiles.DefaultID, map[string]any{"volume": map[string]any{"width": 220, "depth": 220}})
	fmt.Println(p.Volume.Width, p.Volume.Depth, p.Volume.Height)
	// Output: 220 220 200
}
