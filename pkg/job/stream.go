package job

import (
	"context"
	"errors"
	"io"
	"os"
	"sync/atomic"

	"github.com/cuttleprint/cuttle/pkg/gcode"
)

// itemKind says what an item from the reader is.
type itemKind uint8

const (
	kindLine  itemKind = iota // a command for the firmware
	kindPause                 // M0, M1 or @pause: pause on the host
	kindEOF                   // the end of the file
	kindErr                   // a read error (text holds it)
)

// item is one entry of the reader's queue: a command with the file offset
// just after it and the machine state after it.
type item struct {
	kind itemKind
	text string
	end  int64
	pos  position
}

// position is the tracked machine state after a line.
type position struct {
	X, Y, Z, E, F float64
	RelXYZ, RelE  bool
	Tool          int
	zKnown        bool
}

// lineTag is the tag of a job line; gen tells lines of an abandoned print
// from the current one.
type lineTag struct {
	gen uint64
	end int64
}

// reader reads f into lines until the end, an error or ctx. It owns f and
// closes it; it closes done when it returns.
type reader struct {
	lines   chan item
	done    chan struct{}
	starved atomic.Bool // set by Next when it found the queue empty
}

func startReader(ctx context.Context, f *os.File, start position, buffer int, wake func()) *reader {
	rd := &reader{lines: make(chan item, buffer), done: make(chan struct{})}
	go rd.run(ctx, f, start, wake)
	return rd
}

func (rd *reader) run(ctx context.Context, f *os.File, pos position, wake func()) {
	defer close(rd.done)
	defer f.Close()
	gr := gcode.NewReader(f)
	push := func(it item) bool {
		select {
		case rd.lines <- it:
		case <-ctx.Done():
			return false
		}
		if rd.starved.Swap(false) {
			wake()
		}
		return true
	}
	for {
		l, err := gr.Next()
		if errors.Is(err, io.EOF) {
			push(item{kind: kindEOF, end: gr.Offset()})
			return
		}
		if err != nil {
			push(item{kind: kindErr, text: err.Error(), end: gr.Offset()})
			return
		}
		if len(l.Code) == 0 {
			continue
		}
		end := gr.Offset()
		if isHostPause(l) {
			if !push(item{kind: kindPause, text: string(l.Code), end: end, pos: pos}) {
				return
			}
			continue
		}
		if l.Letter == 0 && len(l.Cmd) > 0 && l.Cmd[0] == '@' {
			continue // other host commands (@resume, …) are not for the firmware
		}
		track(&pos, l)
		if !push(item{kind: kindLine, text: string(l.Code), end: end, pos: pos}) {
			return
		}
	}
}

// isHostPause reports whether l pauses the print on the host.
func isHostPause(l *gcode.Line) bool {
	if l.Letter == 'M' && (l.Num == 0 || l.Num == 1) && l.Sub < 0 {
		return true
	}
	return l.Letter == 0 && string(l.Cmd) == "@pause"
}

// track updates pos for the command l.
func track(p *position, l *gcode.Line) {
	switch l.Letter {
	case 'G':
		switch l.Num {
		case 0, 1, 2, 3:
			for _, f := range l.Fields() {
				if !f.HasValue {
					continue
				}
				switch f.Letter {
				case 'X':
					p.X = axis(p.X, f.Value, p.RelXYZ)
				case 'Y':
					p.Y = axis(p.Y, f.Value, p.RelXYZ)
				case 'Z':
					p.Z = axis(p.Z, f.Value, p.RelXYZ)
					p.zKnown = true
				case 'E':
					p.E = axis(p.E, f.Value, p.RelE)
				case 'F':
					p.F = f.Value
				}
			}
		case 28:
			all := !l.Has('X') && !l.Has('Y') && !l.Has('Z')
			if all || l.Has('X') {
				p.X = 0
			}
			if all || l.Has('Y') {
				p.Y = 0
			}
			if all || l.Has('Z') {
				p.Z, p.zKnown = 0, true
			}
		case 90:
			p.RelXYZ, p.RelE = false, false
		case 91:
			p.RelXYZ, p.RelE = true, true
		case 92:
			if v, ok := l.Value('E'); ok {
				p.E = v
			}
			if v, ok := l.Value('Z'); ok {
				p.Z = v
			}
		}
	case 'M':
		switch l.Num {
		case 82:
			p.RelE = false
		case 83:
			p.RelE = true
		}
	case 'T':
		p.Tool = l.Num
	}
}

func axis(cur, v float64, rel bool) float64 {
	if rel {
		return cur + v
	}
	return v
}
