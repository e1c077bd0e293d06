package serial

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bugst "go.bug.st/serial"
	"go.bug.st/serial/enumerator"
)

// DefaultBaudrates are the rates offered and tried, fastest first (OctoPrint's list).
var DefaultBaudrates = []int{250000, 230400, 115200, 57600, 38400, 19200, 9600}

// DefaultGlobs are the patterns List searches.
var DefaultGlobs = []string{"/dev/ttyUSB*", "/dev/ttyACM*", "/dev/serial/by-id/*"}

// Port is one candidate port.
type Port struct {
	// Name is the path to open.
	Name string
	// USB is true when the system reports a USB adapter; VID and PID are then
	// its hexadecimal vendor and product IDs, Serial and Product its strings.
	USB          bool
	VID, PID     string
	Serial       string
	Product      string
	resolvedPath string
}

// Lister lists ports. The zero value searches DefaultGlobs.
type Lister struct {
	// Globs replaces DefaultGlobs when set.
	Globs []string
	// Extra are more glob patterns, searched as well (from the config file).
	Extra []string
	// Explicit are paths listed whenever they exist (a pty from the config).
	Explicit []string
	// Details returns USB details; nil uses go.bug.st/serial/enumerator.
	Details func() ([]*enumerator.PortDetails, error)
}

// List returns the existing ports, sorted by name, without duplicates.
func (l Lister) List() ([]Port, error) {
	globs := l.Globs
	if globs == nil {
		globs = DefaultGlobs
	}
	seen := map[string]bool{}
	var out []Port
	add := func(name string) {
		if seen[name] {
			return
		}
		if _, err := os.Stat(name); err != nil {
			return
		}
		seen[name] = true
		p := Port{Name: name, resolvedPath: name}
		if r, err := filepath.EvalSymlinks(name); err == nil {
			p.resolvedPath = r
		}
		out = append(out, p)
	}
	for _, g := range append(append([]string(nil), globs...), l.Extra...) {
		matches, err := filepath.Glob(g)
		if err != nil {
			return nil, fmt.Errorf("serial: list: pattern %q: %w", g, err)
		}
		for _, m := range matches {
			add(m)
		}
	}
	for _, e := range l.Explicit {
		add(e)
	}
	details := l.Details
	if details == nil {
		details = enumerator.GetDetailedPortsList
	}
	if len(out) > 0 {
		if ds, err := details(); err == nil {
			byPath := map[string]*enumerator.PortDetails{}
			for _, d := range ds {
				byPath[d.Name] = d
			}
			for i := range out {
				if d := byPath[out[i].resolvedPath]; d != nil && d.IsUSB {
					out[i].USB, out[i].VID, out[i].PID = true, d.VID, d.PID
					out[i].Serial, out[i].Product = d.SerialNumber, d.Product
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Names returns the names of ports.
func Names(ports []Port) []string {
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = p.Name
	}
	return out
}

// Open opens the port name at baud (8N1, no flow control, modem lines left
// alone). Reads block until data arrives or the port is closed.
func Open(name string, baud int) (io.ReadWriteCloser, error) {
	if baud <= 0 {
		return nil, fmt.Errorf("serial: open %s: baud rate %d", name, baud)
	}
	p, err := bugst.Open(name, &bugst.Mode{BaudRate: baud, DataBits: 8, Parity: bugst.NoParity, StopBits: bugst.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("serial: open %s at %d: %w", name, baud, err)
	}
	return p, nil
}

// ErrNotDetected is returned by Detect when no port and baud rate answered.
var ErrNotDetected = errors.New("serial: no printer answered")

// Detector tries ports and baud rates until Probe succeeds.
type Detector struct {
	// Open opens a port; nil uses Open.
	Open func(name string, baud int) (io.ReadWriteCloser, error)
	// Probe checks that firmware answers on an opened port; nil uses ProbeM105.
	Probe func(ctx context.Context, rw io.ReadWriter) error
	// Timeout bounds each probe (2 s when zero).
	Timeout time.Duration
}

// Detect tries every port at every baud rate, in order, and returns the
// first combination whose probe succeeds, with the port still open.
func (d Detector) Detect(ctx context.Context, ports []string, bauds []int) (string, int, io.ReadWriteCloser, error) {
	open, probe, timeout := d.Open, d.Probe, d.Timeout
	if open == nil {
		open = Open
	}
	if probe == nil {
		probe = ProbeM105
	}
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	if len(bauds) == 0 {
		bauds = DefaultBaudrates
	}
	var tried []string
	for _, p := range ports {
		for _, b := range bauds {
			if err := ctx.Err(); err != nil {
				return "", 0, nil, err
			}
			rwc, err := open(p, b)
			if err != nil {
				tried = append(tried, err.Error())
				break // the port does not open at any rate
			}
			pctx, cancel := context.WithTimeout(ctx, timeout)
			err = probeClosing(pctx, rwc, probe)
			cancel()
			if err == nil {
				return p, b, rwc, nil
			}
			rwc.Close()
			tried = append(tried, fmt.Sprintf("%s at %d: %v", p, b, err))
		}
	}
	return "", 0, nil, fmt.Errorf("%w (tried: %s)", ErrNotDetected, strings.Join(tried, "; "))
}

// probeClosing runs probe and makes sure a blocked read ends with ctx: the
// port is closed when ctx ends first, which unblocks the read.
func probeClosing(ctx context.Context, rwc io.ReadWriteCloser, probe func(context.Context, io.ReadWriter) error) error {
	res := make(chan error, 1)
	go func() { res <- probe(ctx, rwc) }()
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		rwc.Close()
		<-res
		return ctx.Err()
	}
}

// ProbeM105 writes "M105" and waits for an answer that only firmware gives:
// a line starting with "ok" or holding a temperature ("T:").
func ProbeM105(ctx context.Context, rw io.ReadWriter) error {
	if _, err := io.WriteString(rw, "\nM105\n"); err != nil {
		return fmt.Errorf("write M105: %w", err)
	}
	sc := bufio.NewScanner(rw)
	for sc.Scan() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "ok") || strings.Contains(l, "T:") {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF
}
