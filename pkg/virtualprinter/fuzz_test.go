package virtualprinter

import (
	"context"
	"io"
	"testing"
	"time"
)

// FuzzLineParsing feeds arbitrary bytes through the line assembler, the line checks, the
// command parser and the emergency parser: none may panic, and an accepted numbered line
// must carry the expected number.
func FuzzLineParsing(f *testing.F) {
	for _, s := range []string{
		"N1 M105*38\n", "N0 M110 N0*125\n", "G1 X10 Y-2.5 E.3 F3000 ; move\n", "M117 *\n",
		"N*\n", "N-5 M110*0\n", "M23 CUBE~1.GCO\n", "N12 M112*0\n", "\r\n\n;\n", "M118 A1 action:pause\n",
		"G1X1Y2Z3\n", "T0\n", "M876 S1\n", "N99999999999999999999 G1*1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var a lineAssembler
		var ep emergencyParser
		ep.feed(data, func(string) {})
		lastN := 0
		for _, c := range data {
			line, ok := a.add(c)
			if !ok {
				continue
			}
			if len(line) >= maxCmdSize {
				t.Fatalf("line of %d bytes exceeds MAX_CMD_SIZE-1", len(line))
			}
			chk := checkLine(line, lastN, false)
			if chk.err == "" && chk.hasN {
				lastN = chk.n
			}
			cmd := parseCommand(stripLine(line))
			for l := byte('A'); l <= 'Z'; l++ {
				if _, ok := cmd.param(l); ok != cmd.has(l) {
					t.Fatalf("param(%c) and has(%c) disagree on %q", l, l, line)
				}
				_ = cmd.float(l, 0) + float64(cmd.int(l, 0))
			}
			_ = emergencyCommand(line)
		}
	})
}

// discardLink is a link whose writes vanish and whose reads never happen.
type discardLink struct{ io.Writer }

func (discardLink) Read([]byte) (int, error) { return 0, io.EOF }

// FuzzFirmware executes arbitrary input as the firmware would: no input may panic it. Each
// input gets 20 ms, after which blocking commands (M0, long dwells) are aborted.
func FuzzFirmware(f *testing.F) {
	for _, s := range []string{
		"G28\nG1 X10 F3000\nM114\n", "M104 S200\nM109 S200\nM105\n", "M20 L\nM23 x\nM24\nM27\n",
		"M28 a.g\nN1 G1*1\nM29\n", "N1 M105*38\nN3 M105*38\n", "M155 S1\nM27 S1\nG4 S1\n",
		"M0\n", "M118 E1 A1 hi\nM220\nM221 S50\nG20\nG91\nG1 X1\nG92 E3\n", "M112\n", "M410\nM876 S1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		p := New(Config{TimeScale: 1e6, AdvancedOK: true})
		_ = p.AddSDFile("x", []byte("G1 X1\nM105\nG4 S1\n"))
		s := newSession(p, discardLink{io.Discard}, ctx.Done(), ctx.Err)
		s.receive(append([]byte(nil), data...), time.Now(), 0)
		s.receive([]byte("\n"), time.Now(), 0)
		for ctx.Err() == nil {
			if err := s.idle(); err != nil {
				return
			}
			s.readCommands()
			s.readSD()
			if len(s.queue) == 0 {
				return
			}
			if err := s.executeNext(); err != nil {
				return
			}
		}
	})
}
