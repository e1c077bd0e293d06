package serial_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/cuttleprint/cuttle/pkg/serial"
	"go.bug.st/serial/enumerator"
)

// newPty returns a pseudo-terminal: the master end (the "firmware" side) and
// the path of the slave end that cuttle opens like a serial port.
func newPty(t *testing.T) (*os.File, string) {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	t.Cleanup(func() { master.Close(); slave.Close() })
	return master, slave.Name()
}

func TestList(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"ttyUSB0", "ttyACM1", "other"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink(filepath.Join(dir, "ttyUSB0"), filepath.Join(dir, "usb-Prusa_MK3-if00"))
	_, ptyPath := newPty(t)
	l := serial.Lister{
		Globs:    []string{filepath.Join(dir, "ttyUSB*"), filepath.Join(dir, "ttyACM*")},
		Extra:    []string{filepath.Join(dir, "usb-*")},
		Explicit: []string{ptyPath, filepath.Join(dir, "missing")},
		Details: func() ([]*enumerator.PortDetails, error) {
			return []*enumerator.PortDetails{{Name: filepath.Join(dir, "ttyUSB0"), IsUSB: true, VID: "2c99", PID: "0002", Product: "Original Prusa i3 MK3"}}, nil
		},
	}
	ports, err := l.List()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{ptyPath, filepath.Join(dir, "ttyACM1"), filepath.Join(dir, "ttyUSB0"), filepath.Join(dir, "usb-Prusa_MK3-if00")}
	if got := serial.Names(ports); !reflect.DeepEqual(got, want) {
		t.Fatalf("List() names = %q; want %q", got, want)
	}
	for _, p := range ports {
		isUSB0 := strings.HasSuffix(p.Name, "ttyUSB0") || strings.HasSuffix(p.Name, "if00")
		if p.USB != isUSB0 || (isUSB0 && (p.VID != "2c99" || p.PID != "0002")) {
			t.Errorf("port %+v: USB details wrong", p)
		}
	}
	if _, err := (serial.Lister{Globs: []string{"[bad"}}).List(); err == nil {
		t.Error("List with a bad pattern: no error")
	}
}

func TestOpen_Pty(t *testing.T) {
	master, path := newPty(t)
	rwc, err := serial.Open(path, 250000)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	defer rwc.Close()
	if _, err := io.WriteString(rwc, "M105\n"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(master).ReadString('\n')
	if err != nil || line != "M105\n" {
		t.Fatalf("firmware side read %q, %v", line, err)
	}
	io.WriteString(master, "ok T:20.0 /0.0\n")
	line, err = bufio.NewReader(rwc).ReadString('\n')
	if err != nil || line != "ok T:20.0 /0.0\n" {
		t.Fatalf("host side read %q, %v", line, err)
	}
	if _, err := serial.Open(path, 0); err == nil {
		t.Error("Open with baud 0: no error")
	}
	if _, err := serial.Open(filepath.Join(t.TempDir(), "nope"), 115200); err == nil {
		t.Error("Open of a missing port: no error")
	}
}

// answer plays firmware on a pty master: it answers M105 with ok when live.
func answer(master *os.File, live bool) {
	sc := bufio.NewScanner(master)
	for sc.Scan() {
		if live && strings.TrimSpace(sc.Text()) == "M105" {
			io.WriteString(master, "ok T:21.0 /0.0 B:20.0 /0.0\n")
		}
	}
}

func TestDetect(t *testing.T) {
	deadMaster, dead := newPty(t)
	liveMaster, live := newPty(t)
	go answer(deadMaster, false)
	go answer(liveMaster, true)
	var opened []string
	d := serial.Detector{
		Timeout: 200 * time.Millisecond,
		Open: func(name string, baud int) (io.ReadWriteCloser, error) {
			opened = append(opened, name)
			return serial.Open(name, baud)
		},
	}
	port, baud, rwc, err := d.Detect(context.Background(), []string{filepath.Join(t.TempDir(), "missing"), dead, live}, []int{115200, 250000})
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	defer rwc.Close()
	if port != live || baud != 115200 {
		t.Errorf("Detect = %s, %d; want %s, 115200", port, baud, live)
	}
	// The missing port is tried once, the silent one at both rates.
	if len(opened) != 4 {
		t.Errorf("opened %q; want missing once, dead twice, live once", opened)
	}
	_, _, _, err = d.Detect(context.Background(), []string{dead}, []int{115200})
	if !errors.Is(err, serial.ErrNotDetected) {
		t.Errorf("Detect(silent port) = %v; want ErrNotDetected", err)
	}
}
