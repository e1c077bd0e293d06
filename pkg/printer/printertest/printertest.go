// Package printertest builds Machines over scripted Marlin firmware (package
// protocoltest) for tests of the packages above printer, so they need not reach
// for the wire themselves.
package printertest

import (
	"context"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/protocol/protocoltest"
)

// Port is the name of the fake firmware's built-in port.
const Port = "FAKE"

// Rig is a Machine with fake firmware behind its port "FAKE".
type Rig struct {
	Machine *printer.Machine

	mu   sync.Mutex // guards fw and fake
	fw   *protocoltest.Firmware
	fake *protocoltest.Marlin
}

// New returns a Rig; cfg.Builtin gains the "FAKE" port, cfg.Lister lists no
// serial ports. reply, when set, answers commands first (see
// protocoltest.Marlin.Reply). The Machine is closed when the test ends.
func New(tb testing.TB, cfg printer.Config, reply func(cmd string) ([]string, bool)) *Rig {
	tb.Helper()
	r := &Rig{}
	builtin := map[string]printer.PortOpener{}
	for k, v := range cfg.Builtin {
		builtin[k] = v
	}
	builtin[Port] = func(ctx context.Context, baud int) (io.ReadWriteCloser, error) {
		host, fw := protocoltest.Pipe()
		fake := &protocoltest.Marlin{F: fw, Reply: reply}
		go fake.Serve()
		r.mu.Lock()
		r.fw, r.fake = fw, fake
		r.mu.Unlock()
		return host, nil
	}
	cfg.Builtin = builtin
	cfg.Lister.Globs = []string{}
	r.Machine = printer.New(cfg)
	tb.Cleanup(func() { r.Machine.Close() })
	return r
}

// Connect connects to "FAKE" and waits (up to 5 s) until operational.
func (r *Rig) Connect(tb testing.TB) {
	tb.Helper()
	if err := r.Machine.Connect(context.Background(), Port, 115200); err != nil {
		tb.Fatal(err)
	}
	if !r.Await(func() bool { return r.Machine.Snapshot().State == printer.StateOperational }) {
		tb.Fatalf("not operational: %q", r.Machine.Snapshot().StateText)
	}
}

// Await polls cond every millisecond for up to 5 s and reports whether it
// became true (a safety net for asynchronous effects, not a timing assertion).
func (r *Rig) Await(cond func() bool) bool {
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// Executed returns the commands the firmware executed so far.
func (r *Rig) Executed() []string {
	r.mu.Lock()
	fake := r.fake
	r.mu.Unlock()
	if fake == nil {
		return nil
	}
	return fake.Executed()
}

// AwaitExecuted waits until the firmware executed cmd.
func (r *Rig) AwaitExecuted(cmd string) bool {
	return r.Await(func() bool { return slices.Contains(r.Executed(), cmd) })
}

// Reply makes the firmware write lines.
func (r *Rig) Reply(lines ...string) error {
	r.mu.Lock()
	fw := r.fw
	r.mu.Unlock()
	if fw == nil {
		return io.ErrClosedPipe
	}
	return fw.Reply(lines...)
}

// Unplug closes the firmware's end, as if the cable were pulled.
func (r *Rig) Unplug() {
	r.mu.Lock()
	fw := r.fw
	r.mu.Unlock()
	if fw != nil {
		fw.Close()
	}
}
