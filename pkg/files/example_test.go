package files_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cuttleprint/cuttle/pkg/files"
	"github.com/cuttleprint/cuttle/pkg/store"
)

func Example() {
	dir, _ := os.MkdirTemp("", "files")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, _ := store.Open(ctx, filepath.Join(dir, "data"), store.Options{})
	defer db.Close()
	s, _ := files.Open(ctx, files.Options{Root: filepath.Join(dir, "uploads"), DB: db})

	name, _ := files.SanitizePath("parts/Gear wheel.gcode")
	u, _ := s.NewUpload()
	fmt.Fprint(u, "G28\nG1 X10\n")
	e, _ := s.Commit(ctx, u, name, files.CommitOptions{Display: "Gear wheel.gcode"})
	fmt.Println(e.Path, e.Size, e.Display)
	// Output: parts/Gear_wheel.gcode 11 Gear wheel.gcode
}
