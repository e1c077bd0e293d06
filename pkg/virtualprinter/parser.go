package virtualprinter

import (
	"strconv"
	"strings"
)

// Marlin's line error messages; each is followed by the last accepted line number.
const (
	errLineNumber   = "Line Number is not Last Line Number+1, Last Line: "
	errChecksum     = "checksum mismatch, Last Line: "
	errNoChecksum   = "No Checksum with line number, Last Line: "
	errNoLineNumber = "No Line Number with checksum, Last Line: "
)

// lineAssembler collects received characters into command lines the way Marlin's
// get_serial_commands does: leading spaces and ';' comments are dropped, characters beyond
// MAX_CMD_SIZE-1 are ignored, and empty lines vanish without an answer.
type lineAssembler struct {
	buf       []byte
	inComment bool
}

// add feeds one character and returns a completed, non-empty line.
func (a *lineAssembler) add(c byte) (string, bool) {
	switch {
	case c == '\n' || c == '\r':
		a.inComment = false
		if len(a.buf) == 0 {
			return "", false
		}
		line := string(a.buf)
		a.buf = a.buf[:0]
		return line, true
	case a.inComment:
	case c == ';':
		a.inComment = true
	case c == ' ' && len(a.buf) == 0:
	case len(a.buf) >= maxCmdSize-1:
	default:
		a.buf = append(a.buf, c)
	}
	return "", false
}

func (a *lineAssembler) reset() {
	a.buf = a.buf[:0]
	a.inComment = false
}

// checksum is the XOR of the bytes of s.
func checksum(s string) int {
	var cs byte
	for i := 0; i < len(s); i++ {
		cs ^= s[i]
	}
	return int(cs)
}

// strtol parses a leading signed decimal integer like C's strtol, returning 0 when there is
// none.
func strtol(s string) int {
	s = strings.TrimLeft(s, " \t")
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil {
		return 0
	}
	return n
}

// lineCheck is the outcome of checking a received line's number and checksum.
type lineCheck struct {
	n    int    // the line number the line carried (or M110 sets)
	hasN bool   // the line started with N
	err  string // Marlin's error text without the last line number, "" when accepted
}

// checkLine applies Marlin's line-number and checksum rules to line, given the last
// accepted line number. saving reports an M28 upload in progress, during which lines must
// be numbered (except M29).
func checkLine(line string, lastN int, saving bool) lineCheck {
	star := strings.LastIndexByte(line, '*')
	if line[0] != 'N' {
		if star >= 0 {
			return lineCheck{err: errNoLineNumber}
		}
		if saving && !isM29(line) {
			return lineCheck{err: errNoChecksum}
		}
		return lineCheck{}
	}
	npos := line
	isM110 := strings.Contains(line, "M110")
	if isM110 && len(line) > 4 {
		if i := strings.IndexByte(line[4:], 'N'); i >= 0 {
			npos = line[4+i:]
		}
	}
	n := strtol(npos[1:])
	if n != lastN+1 && !isM110 {
		return lineCheck{n: n, hasN: true, err: errLineNumber}
	}
	if star < 0 {
		return lineCheck{n: n, hasN: true, err: errNoChecksum}
	}
	if strtol(line[star+1:]) != checksum(line[:star]) {
		return lineCheck{n: n, hasN: true, err: errChecksum}
	}
	return lineCheck{n: n, hasN: true}
}

func isM29(line string) bool {
	s := stripLine(line)
	return s == "M29" || strings.HasPrefix(s, "M29 ")
}

// stripLine removes a leading line number and a trailing checksum with the spaces around
// them, leaving the command as the firmware executes it.
func stripLine(line string) string {
	s := line
	if strings.HasPrefix(s, "N") {
		i := 1
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		s = strings.TrimLeft(s[i:], " ")
	}
	if i := strings.IndexByte(s, '*'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimRight(s, " ")
}

// command is one parsed G-code command.
type command struct {
	text   string // the command without line number and checksum, e.g. "G1 X10 F3000"
	letter byte   // 'G', 'M' or 'T'; 0 when the line is not a command
	code   int
	args   string // everything after the command word, left-trimmed
}

// parseCommand splits a stripped line into its command word and arguments. Letters are
// case-insensitive, as with Marlin's GCODE_CASE_INSENSITIVE.
func parseCommand(text string) command {
	c := command{text: text}
	if text == "" {
		return c
	}
	l := upper(text[0])
	if l != 'G' && l != 'M' && l != 'T' {
		return c
	}
	i := 1
	for i < len(text) && text[i] >= '0' && text[i] <= '9' {
		i++
	}
	if i == 1 {
		return c
	}
	code, err := strconv.Atoi(text[1:i])
	if err != nil {
		return c
	}
	c.letter, c.code = l, code
	c.args = strings.TrimLeft(text[i:], " ")
	return c
}

func upper(b byte) byte {
	if b >= 'a' && b <= 'z' {
		return b - 'a' + 'A'
	}
	return b
}

func isLetter(b byte) bool { b = upper(b); return b >= 'A' && b <= 'Z' }

// param finds parameter letter l in the arguments and returns its text value.
func (c command) param(l byte) (string, bool) {
	a := c.args
	for i := 0; i < len(a); i++ {
		if upper(a[i]) != l || (i > 0 && isLetter(a[i-1])) {
			continue
		}
		j := i + 1
		for j < len(a) && !isLetter(a[j]) && a[j] != ' ' {
			j++
		}
		return a[i+1 : j], true
	}
	return "", false
}

// has reports whether parameter l is present, with or without a value.
func (c command) has(l byte) bool {
	_, ok := c.param(l)
	return ok
}

// float returns parameter l as a number, or def when it is absent or not a number.
func (c command) float(l byte, def float64) float64 {
	v, ok := c.param(l)
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return def
	}
	return f
}

// int returns parameter l as an integer (truncated), or def.
func (c command) int(l byte, def int) int {
	f := c.float(l, float64(def))
	return int(f)
}
