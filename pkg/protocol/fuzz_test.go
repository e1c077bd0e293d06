package protocol_test

import (
	"strings"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/protocol"
	"github.com/cuttleprint/cuttle/pkg/protocol/protocoltest"
)

// FuzzParse feeds arbitrary lines to the reply parser: it must never panic,
// and a temperature report must never name more tools than it can hold.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"ok", "ok N123 P15 B3", "ok T:25.45 /0.00 B:25.45 /0.00 @:0 B@:0", "Resend: 4", "rs N12",
		"echo:busy: processing", "Error:checksum mismatch, Last Line: 3", "!! halted",
		"FIRMWARE_NAME:Marlin 2.1.2.4 (Github) UUID:x", "Cap:AUTOREPORT_TEMP:1", "X:1 Y:2 Z:3 E:4 Count X:1",
		"Begin file list", "A.GCO 12 long name", "End file list", "SD printing byte 1/2", "File opened: A Size: 3",
		"//action:prompt_begin x", "T:21.5 /0.0 @0 B:21.4 /0.0 @0", "T9:1 /2", "T:210/215 B:60/60",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var p protocol.Parser
		for _, l := range strings.Split(line, "\n") {
			m := p.Parse(l)
			if tp, ok := m.(protocol.Temperatures); ok && len(tp.Tools) > 16 {
				t.Fatalf("Parse(%q): %d tools", l, len(tp.Tools))
			}
		}
	})
}

// FuzzFrame frames arbitrary commands: whatever CleanCommand accepts must
// frame into a line that Unframe and an independent firmware-side parser read
// back unchanged, with a single line break at the end.
func FuzzFrame(f *testing.F) {
	f.Add(0, "M110 N0")
	f.Add(123456, "G1 X10 Y10 ; comment")
	f.Add(7, "M117 héllo")
	f.Fuzz(func(t *testing.T, n int, cmd string) {
		if n < 0 {
			n = -n
		}
		if n < 0 {
			return
		}
		clean, err := protocol.CleanCommand(cmd)
		if err != nil {
			return
		}
		line := protocol.Frame(n, clean)
		if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
			t.Fatalf("Frame(%d, %q) = %q: not one line", n, clean, line)
		}
		gn, gcmd, err := protocol.Unframe(line)
		if err != nil || gn != n || gcmd != clean {
			t.Fatalf("Unframe(Frame(%d, %q)) = %d, %q, %v", n, clean, gn, gcmd, err)
		}
		fn, fcmd, numbered, err := protocoltest.ParseFrame(strings.TrimSuffix(line, "\n"))
		if err != nil || !numbered || fn != n || fcmd != clean {
			t.Fatalf("firmware parse of %q = %d, %q, %v, %v", line, fn, fcmd, numbered, err)
		}
	})
}

// FuzzUnframe must never panic on arbitrary input, and what it accepts is a
// number and a single-line command.
func FuzzUnframe(f *testing.F) {
	f.Add("N1 G28*18")
	f.Add("N*")
	f.Fuzz(func(t *testing.T, line string) {
		n, cmd, err := protocol.Unframe(line)
		if err == nil && (n < 0 || strings.ContainsAny(cmd, "\n")) {
			t.Fatalf("Unframe(%q) = %d, %q", line, n, cmd)
		}
	})
}
