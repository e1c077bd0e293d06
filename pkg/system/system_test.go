package system_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/system"
)

func TestCommands_RunWithoutShell(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	c := system.NewCommands(system.CoreConfig{
		Shutdown: []string{"touch", marker},
		Reboot:   []string{"ls", filepath.Join(dir, "missing; touch "+marker+"2")},
	}, []system.Command{{Action: "hello", Name: "Hello", Argv: []string{"true"}}})
	if n := len(c.List("core")); n != 2 {
		t.Errorf("core commands = %d; want 2 (restart is not configured)", n)
	}
	if err := c.Run(context.Background(), "core", "shutdown"); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Error("shutdown command did not run")
	}
	err := c.Run(context.Background(), "core", "reboot")
	if !errors.Is(err, system.ErrFailed) || !strings.Contains(err.Error(), "No such file") {
		t.Errorf("failing command = %v; want ErrFailed with its stderr", err)
	}
	if _, err := os.Stat(marker + "2"); err == nil {
		t.Error("an argument was interpreted by a shell")
	}
	if err := c.Run(context.Background(), "core", "restart"); !errors.Is(err, system.ErrUnknown) {
		t.Errorf("unconfigured restart = %v; want ErrUnknown", err)
	}
	if err := c.Run(context.Background(), "custom", "hello"); err != nil {
		t.Errorf("custom: %v", err)
	}
}

func TestLogFile_RotatesAndLogsRefuseTraversal(t *testing.T) {
	dir := t.TempDir()
	lf, err := system.OpenLogFile(dir, "cuttle.log")
	if err != nil {
		t.Fatal(err)
	}
	lf.MaxBytes = 100
	for i := 0; i < 10; i++ {
		lf.Write([]byte(strings.Repeat("x", 39) + "\n"))
	}
	lf.Close()
	logs := system.Logs{Dir: dir, Active: "cuttle.log"}
	list, _ := logs.List()
	if len(list) != 4 { // cuttle.log + 3 kept
		t.Errorf("log files = %v; want the live one and 3 rotated", list)
	}
	for _, bad := range []string{"../cuttle.log", "/etc/passwd", "", ".hidden.log", "sub/x.log"} {
		if _, err := logs.Path(bad); !errors.Is(err, system.ErrNoLog) {
			t.Errorf("Path(%q) = %v; want ErrNoLog", bad, err)
		}
	}
	if err := logs.Delete("cuttle.log"); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dir, "cuttle.log")); err != nil || st.Size() != 0 {
		t.Error("deleting the live log should truncate it")
	}
	if err := logs.Delete("cuttle.log.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cuttle.log.1")); !os.IsNotExist(err) {
		t.Error("rotated log not deleted")
	}
}
