package gcode

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// DefaultBufferSize is the read buffer NewReader uses. Lines up to this length
// are returned without copying.
const DefaultBufferSize = 256 << 10

// MaxLineLength is the longest line a Reader accepts. Longer lines make Next
// fail with ErrLineTooLong; no G-code dialect needs anything near it.
const MaxLineLength = 4 << 20

// MaxFields is how many words after the command a Line keeps. Further words
// are counted in Line.Dropped but not parsed.
const MaxFields = 24

// ErrLineTooLong is returned (wrapped) by Reader.Next when a line exceeds
// MaxLineLength bytes.
var ErrLineTooLong = errors.New("gcode: line too long")

// Field is one parameter word of a command, such as X12.5 or E-.8.
type Field struct {
	// Letter is the word's letter, upper-cased ('X', 'E', 'F', …).
	Letter byte
	// HasValue is false for a bare letter (as in "M84 X Y") or a value
	// that is not a decimal number.
	HasValue bool
	// Value is the parsed number; 0 when HasValue is false.
	Value float64
	// Raw is the value's text as written; it aliases the Reader's buffer.
	Raw []byte
}

// Line is one line of G-code as returned by Reader.Next. Its byte slices
// alias the Reader's buffer: they are valid only until the next call to Next.
// Copy what must outlive that.
type Line struct {
	// Raw is the whole line without its line terminator ("\n" or "\r\n").
	Raw []byte
	// Code is the part before any ';' comment, with the checksum ("*NN")
	// removed and surrounding white space trimmed. Empty for comment-only
	// and blank lines.
	Code []byte
	// Comment is the text after the first ';', without leading white
	// space; nil when the line has no comment.
	Comment []byte
	// Cmd is the command word: "G1", "M117", "T0", "G29.1", or for
	// non-standard commands the first word as written ("@pause",
	// "SET_VELOCITY_LIMIT"). Empty when Code is empty.
	Cmd []byte
	// Letter is the command letter upper-cased ('G', 'M', 'T', …), or 0
	// when the command is not a letter followed by a number.
	Letter byte
	// Num is the command number (1 for G1), valid when Letter != 0.
	Num int
	// Sub is the number after a dot (1 for G29.1), or -1 when absent.
	Sub int
	// Param is Code after the command word, trimmed: the argument text of
	// commands such as M117 or M23 that take free text.
	Param []byte
	// N is the line number word ("N123 G1 …") when present, else -1.
	N int64
	// Offset is the byte offset of the start of the line in the stream.
	Offset int64
	// Number is the 1-based line number in the stream.
	Number int64
	// Dropped counts parameter words beyond MaxFields.
	Dropped int

	fields []Field
}

// Fields returns the parameter words of the command in the order written.
// Commands with free-text arguments (M23, M28, M30, M32, M117, M118, M928,
// M0/M1 and non-letter commands) have no fields; see Param.
func (l *Line) Fields() []Field { return l.fields }

// Value returns the value of the first field with the given upper-case
// letter, and whether such a field with a numeric value exists.
func (l *Line) Value(letter byte) (float64, bool) {
	for i := range l.fields {
		if l.fields[i].Letter == letter {
			return l.fields[i].Value, l.fields[i].HasValue
		}
	}
	return 0, false
}

// Has reports whether the command has a field with the given upper-case
// letter, with or without a value.
func (l *Line) Has(letter byte) bool {
	for i := range l.fields {
		if l.fields[i].Letter == letter {
			return true
		}
	}
	return false
}

// Is reports whether the command is letter+num with no sub-code, e.g.
// l.Is('G', 1).
func (l *Line) Is(letter byte, num int) bool {
	return l.Letter == letter && l.Num == num && l.Sub < 0
}

// String returns the raw line text.
func (l *Line) String() string { return string(l.Raw) }

// Reader reads G-code line by line from an io.Reader. It does not allocate
// per line: each Line and its slices are reused by the next call to Next.
// A Reader is not safe for concurrent use.
type Reader struct {
	br     *bufio.Reader
	line   Line
	long   []byte // assembles lines longer than the buffer
	offset int64  // offset of the next line
	number int64
	fields [MaxFields]Field
}

// NewReader returns a Reader over r with a DefaultBufferSize buffer.
func NewReader(r io.Reader) *Reader { return NewReaderSize(r, DefaultBufferSize) }

// NewReaderSize returns a Reader over r with a buffer of at least size bytes.
func NewReaderSize(r io.Reader, size int) *Reader {
	if size < 64 {
		size = 64
	}
	return &Reader{br: bufio.NewReaderSize(r, size)}
}

// Offset returns the number of bytes consumed so far, i.e. the offset of the
// line the next call to Next will return.
func (r *Reader) Offset() int64 { return r.offset }

// Next reads and parses the next line. It returns io.EOF after the last line
// (a final line without a terminator is still returned first). The returned
// Line is owned by the Reader and valid until the next call to Next.
func (r *Reader) Next() (*Line, error) {
	raw, n, err := r.readLine()
	if err != nil {
		return nil, err
	}
	r.number++
	l := &r.line
	l.Offset = r.offset
	l.Number = r.number
	r.offset += int64(n)
	r.parse(raw)
	return l, nil
}

// readLine returns the next line without its terminator and the number of
// bytes it occupied in the stream.
func (r *Reader) readLine() ([]byte, int, error) {
	b, err := r.br.ReadSlice('\n')
	if err == nil {
		n := len(b)
		return trimEOL(b), n, nil
	}
	if errors.Is(err, bufio.ErrBufferFull) {
		r.long = append(r.long[:0], b...)
		for {
			b, err = r.br.ReadSlice('\n')
			if len(r.long)+len(b) > MaxLineLength {
				return nil, 0, fmt.Errorf("%w: line %d at byte %d exceeds %d bytes", ErrLineTooLong, r.number+1, r.offset, MaxLineLength)
			}
			r.long = append(r.long, b...)
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, 0, fmt.Errorf("gcode: read line %d: %w", r.number+1, err)
			}
			return trimEOL(r.long), len(r.long), nil
		}
	}
	if errors.Is(err, io.EOF) {
		if len(b) == 0 {
			return nil, 0, io.EOF
		}
		return trimEOL(b), len(b), nil
	}
	return nil, 0, fmt.Errorf("gcode: read line %d: %w", r.number+1, err)
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// Parse parses one line of G-code (without its terminator) into a new Line.
// It allocates; use a Reader for bulk input.
func Parse(text []byte) *Line {
	r := &Reader{}
	r.parse(text)
	l := r.line
	l.fields = append([]Field(nil), l.fields...)
	return &l
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' }

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func isLetter(c byte) bool { c = upper(c); return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// parse fills r.line from raw.
func (r *Reader) parse(raw []byte) {
	l := &r.line
	l.Raw = raw
	l.Comment = nil
	l.Cmd = nil
	l.Letter = 0
	l.Num = 0
	l.Sub = -1
	l.Param = nil
	l.N = -1
	l.Dropped = 0
	l.fields = r.fields[:0]

	code := raw
	if i := bytes.IndexByte(raw, ';'); i >= 0 {
		code = raw[:i]
		c := raw[i+1:]
		for len(c) > 0 && isSpace(c[0]) {
			c = c[1:]
		}
		l.Comment = c
	}
	if i := bytes.IndexByte(code, '*'); i >= 0 {
		code = code[:i]
	}
	code = trimSpace(code)
	l.Code = code
	if len(code) == 0 {
		return
	}

	// Optional line number word.
	if upper(code[0]) == 'N' && len(code) > 1 && isDigit(code[1]) {
		i := 1
		var n int64
		for i < len(code) && isDigit(code[i]) {
			if n < 1<<58 {
				n = n*10 + int64(code[i]-'0')
			}
			i++
		}
		l.N = n
		code = trimSpace(code[i:])
		l.Code = code
		if len(code) == 0 {
			return
		}
	}

	// Command word.
	i := 0
	if isLetter(code[0]) && len(code) > 1 && isDigit(code[1]) {
		l.Letter = upper(code[0])
		i = 1
		n := 0
		for i < len(code) && isDigit(code[i]) {
			if n < 1<<24 {
				n = n*10 + int(code[i]-'0')
			}
			i++
		}
		l.Num = n
		if i+1 < len(code) && code[i] == '.' && isDigit(code[i+1]) {
			i++
			s := 0
			for i < len(code) && isDigit(code[i]) {
				if s < 1<<24 {
					s = s*10 + int(code[i]-'0')
				}
				i++
			}
			l.Sub = s
		}
		if i < len(code) && !isSpace(code[i]) && !isLetter(code[i]) {
			// Something like "G1-" or "M117:": not a plain command word.
			l.Letter, l.Num, l.Sub = 0, 0, -1
			i = 0
		}
	}
	if i == 0 {
		for i < len(code) && !isSpace(code[i]) {
			i++
		}
		l.Cmd = code[:i]
		l.Param = trimSpace(code[i:])
		return
	}
	l.Cmd = code[:i]
	l.Param = trimSpace(code[i:])
	if l.Letter == 'M' && freeText(l.Num) {
		return
	}
	r.parseFields(l.Param)
}

// freeText reports whether M<num> takes a free-text argument.
func freeText(num int) bool {
	switch num {
	case 0, 1, 23, 28, 30, 32, 33, 117, 118, 928:
		return true
	}
	return false
}

// parseFields splits p into letter+number words. Words may be separated by
// white space or run together ("X1Y2"). Parenthesised comments are skipped.
func (r *Reader) parseFields(p []byte) {
	l := &r.line
	i := 0
	for i < len(p) {
		c := p[i]
		if isSpace(c) {
			i++
			continue
		}
		if c == '(' {
			for i < len(p) && p[i] != ')' {
				i++
			}
			i++
			continue
		}
		if !isLetter(c) {
			i++
			continue
		}
		i++
		v, ok, j := scanNumber(p, i)
		if j < len(p) && isNumberChar(p[j]) {
			// Malformed ("1-2", "1..2"): take the whole run, as before.
			for j < len(p) && isNumberChar(p[j]) {
				j++
			}
			v, ok = parseNumber(p[i:j])
		}
		raw := p[i:j]
		i = j
		// Skip any non-numeric remainder of the word (e.g. "S1.5abc").
		for i < len(p) && !isSpace(p[i]) && !isLetter(p[i]) && p[i] != '(' {
			i++
		}
		if len(l.fields) == MaxFields {
			l.Dropped++
			continue
		}
		l.fields = append(l.fields, Field{Letter: upper(c), HasValue: ok, Value: v, Raw: raw})
	}
}

func isNumberChar(c byte) bool { return isDigit(c) || c == '.' || c == '-' || c == '+' }

// scanNumber parses the longest decimal number at p[i:] in one pass and
// returns it with the index just past it. It is parseNumber's fast path
// for the analyser's hot loop; anything unusual goes to parseNumber.
func scanNumber(p []byte, i int) (float64, bool, int) {
	start := i
	neg := false
	if i < len(p) && (p[i] == '-' || p[i] == '+') {
		neg = p[i] == '-'
		i++
	}
	var mant uint64
	sig, frac := 0, 0
	digits, dot := false, false
	for ; i < len(p); i++ {
		c := p[i]
		if c >= '0' && c <= '9' {
			digits = true
			if mant == 0 && c == '0' {
				if dot {
					frac++
				}
				continue
			}
			mant = mant*10 + uint64(c-'0')
			sig++
			if dot {
				frac++
			}
			continue
		}
		if c == '.' && !dot {
			dot = true
			continue
		}
		break
	}
	if !digits {
		return 0, false, i
	}
	if sig > 15 || frac >= len(pow10) {
		v, ok := parseNumber(p[start:i])
		return v, ok, i
	}
	v := float64(mant) / pow10[frac]
	if neg {
		v = -v
	}
	return v, true, i
}

var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseNumber parses a decimal number [+-]digits[.digits] without
// allocating. Exponents are not G-code (E is an axis), so they are not
// accepted. Results are correctly rounded.
func parseNumber(b []byte) (float64, bool) {
	i := 0
	neg := false
	if i < len(b) && (b[i] == '-' || b[i] == '+') {
		neg = b[i] == '-'
		i++
	}
	var mant uint64
	sig, frac := 0, 0
	digits, dot := false, false
	for ; i < len(b); i++ {
		c := b[i]
		if c == '.' {
			if dot {
				return 0, false
			}
			dot = true
			continue
		}
		if !isDigit(c) {
			return 0, false
		}
		digits = true
		if mant == 0 && c == '0' {
			// Leading zeros carry no significance.
			if dot {
				frac++
			}
			continue
		}
		if sig == 19 {
			return parseSlow(b)
		}
		mant = mant*10 + uint64(c-'0')
		sig++
		if dot {
			frac++
		}
	}
	if !digits {
		return 0, false
	}
	if mant >= 1<<53 || frac >= len(pow10) {
		return parseSlow(b)
	}
	v := float64(mant) / pow10[frac]
	if neg {
		v = -v
	}
	return v, true
}

func parseSlow(b []byte) (float64, bool) {
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, false
	}
	return v, true
}
