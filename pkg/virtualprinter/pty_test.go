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

// Ensure that over a pty M112 silences the firmware until the port is reopened, and that
// Disconnect tears the pty down (the host's reads fail) and a new one takes its place
// behind the same link.
func TestPTY_HaltAndDisconnect(t *testing.T) {
	p := virtualprinter.New(virtualprinter.Config{})
	link := filepath.Join(t.TempDir(), "printer")
	pt, err := virtualprinter.OpenPTY(context.Background(), p, link)
	if err != nil {
		t.Fatalf("OpenPTY: %v", err)
	}
	defer pt.Close()

	port, r := openSerial(t, link)
	readUntil(t, r, "echo:SD card ok")
	if _, err := port.Write([]byte("M112\n")); err != nil {
		t.Fatal(err)
	}
	readUntil(t, r, "//action:poweroff")
	if _, err := port.Write([]byte("M105\n")); err != nil {
		t.Fatal(err)
	}
	if err := port.SetReadTimeout(300 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if r.Buffered() > 0 {
		t.Errorf("halted firmware sent more: %d bytes buffered", r.Buffered())
	}
	if n, err := port.Read(make([]byte, 64)); n != 0 {
		t.Errorf("halted firmware answered %d bytes (%v); want silence", n, err)
	}
	port.Close()

	port, r = openSerial(t, link) // reopening resets the board
	if got := readUntil(t, r, "echo:SD card ok"); got[0] != "start" {
		t.Errorf("after reopening got %q; want the banner", got)
	}
	p.Disconnect()
	buf := make([]byte, 64)
	if err := port.SetReadTimeout(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var readErr error
	start := time.Now()
	for deadline := time.Now().Add(5 * time.Second); readErr == nil && time.Now().Before(deadline); {
		_, readErr = port.Read(buf)
	}
	t.Logf("read after Disconnect: %v after %v", readErr, time.Since(start))
	if readErr == nil {
		t.Errorf("reads on the old port still succeed after Disconnect")
	}
	port.Close()
	// Like a USB device re-enumerating, the new pty appears behind the link shortly after.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(link); err == nil {
			break
		}
	}
	port, r = openSerial(t, link)
	defer port.Close()
	if got := readUntil(t, r, "echo:SD card ok"); got[0] != "start" {
		t.Errorf("on the new pty got %q; want the banner", got)
	}
}
