package virtualprinter_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.bug.st/serial"

	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

// openSerial opens the pty slave the way cuttle opens a real port.
func openSerial(t *testing.T, path string) (serial.Port, *bufio.Reader) {
	t.Helper()
	port, err := serial.Open(path, &serial.Mode{BaudRate: 115200})
	if err != nil {
		t.Fatalf("serial.Open(%q) = %v", path, err)
	}
	if err := port.SetReadTimeout(10 * time.Second); err != nil {
		t.Fatalf("SetReadTimeout: %v", err)
	}
	return port, bufio.NewReader(port)
}

func readUntil(t *testing.T, r *bufio.Reader, prefix string) []string {
	t.Helper()
	var got []string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read after %q: %v", got, err)
		}
		l = strings.TrimRight(l, "\r\n")
		got = append(got, l)
		if strings.HasPrefix(l, prefix) {
			return got
		}
	}
}

// Ensure that a host can open the pty through its link with go.bug.st/serial, sees the
// banner, and gets a fresh boot each time it reopens the port.
func TestPTY_SerialSession(t *testing.T) {
	p := virtualprinter.New(virtualprinter.Config{Baud: 250000, AdvancedOK: true, TimeScale: 50})
	link := filepath.Join(t.TempDir(), "printer")
	pt, err := virtualprinter.OpenPTY(context.Background(), p, link)
	if err != nil {
		t.Fatalf("OpenPTY: %v", err)
	}
	defer func() {
		if err := pt.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
		if _, err := os.Lstat(link); !os.IsNotExist(err) {
			t.Errorf("link %s still exists after Close: %v", link, err)
		}
	}()
	if dest, err := os.Readlink(link); err != nil || dest != pt.Path() {
		t.Fatalf("Readlink(%q) = %q, %v; want %q", link, dest, err, pt.Path())
	}

	for session := 1; session <= 2; session++ {
		port, r := openSerial(t, link)
		readUntil(t, r, "start")
		readUntil(t, r, "echo:SD card ok")
		for i, cmd := range []string{"M110 N0", "M105", "G28", "M114"} {
			if _, err := port.Write([]byte(numbered(i, cmd) + "\n")); err != nil {
				t.Fatal(err)
			}
			got := readUntil(t, r, "ok")
			if cmd == "M105" && !strings.HasPrefix(got[0], "ok T:") {
				t.Errorf("M105 -> %q; want ok T:...", got)
			}
			if cmd == "G28" && got[len(got)-2] != "X:0.00 Y:0.00 Z:0.00 E:0.00 Count X:0 Y:0 Z:0" {
				t.Errorf("G28 -> %q; want a position line before ok", got)
			}
		}
		if err := port.Close(); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"M110 N0", "M105", "G28", "M114", "M110 N0", "M105", "G28", "M114"}
	if got := p.Executed(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Executed() = %q; want %q", got, want)
	}
}
