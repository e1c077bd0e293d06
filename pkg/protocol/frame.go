package protocol

import (
	"fmt"
	"strconv"
	"strings"
)

// Checksum is the XOR of every byte of s: the checksum RepRap firmware expects
// after the '*' of a numbered line.
func Checksum(s string) byte {
	var c byte
	for i := 0; i < len(s); i++ {
		c ^= s[i]
	}
	return c
}

// AppendFrame appends "N<n> <cmd>*<checksum>\n" to dst and returns the result.
// The command must already be clean (see CleanCommand).
func AppendFrame(dst []byte, n int, cmd string) []byte {
	start := len(dst)
	dst = append(dst, 'N')
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, ' ')
	dst = append(dst, cmd...)
	var c byte
	for _, b := range dst[start:] {
		c ^= b
	}
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(c), 10)
	return append(dst, '\n')
}

// Frame returns the framed line for command cmd numbered n, with its newline.
func Frame(n int, cmd string) string {
	return string(AppendFrame(nil, n, cmd))
}

// Unframe parses a framed line ("N12 G28*34", with or without the newline)
// and returns its number and command. It checks the checksum the way the
// firmware does, and errors name what is wrong.
func Unframe(line string) (n int, cmd string, err error) {
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "N") {
		return 0, "", fmt.Errorf("protocol: unframe %q: no line number", line)
	}
	star := strings.LastIndexByte(line, '*')
	if star < 0 {
		return 0, "", fmt.Errorf("protocol: unframe %q: no checksum", line)
	}
	want, err := strconv.Atoi(line[star+1:])
	if err != nil || want < 0 || want > 255 {
		return 0, "", fmt.Errorf("protocol: unframe %q: bad checksum field", line)
	}
	body := line[:star]
	if int(Checksum(body)) != want {
		return 0, "", fmt.Errorf("protocol: unframe %q: checksum mismatch", line)
	}
	sp := strings.IndexByte(body, ' ')
	if sp < 0 {
		sp = len(body)
	}
	n, err = strconv.Atoi(body[1:sp])
	if err != nil || n < 0 {
		return 0, "", fmt.Errorf("protocol: unframe %q: bad line number", line)
	}
	if sp < len(body) {
		cmd = body[sp+1:]
	}
	return n, cmd, nil
}

// CleanCommand prepares a command for framing: it drops a ';' comment and
// surrounding blanks. It returns ErrBadCommand (wrapped, naming the input) when
// nothing is left or the command holds a line break, a NUL or a '*', which would
// corrupt the frame.
func CleanCommand(cmd string) (string, error) {
	if i := strings.IndexByte(cmd, ';'); i >= 0 {
		cmd = cmd[:i]
	}
	cmd = strings.TrimSpace(cmd)
	if cmd == "" {
		return "", fmt.Errorf("empty command: %w", ErrBadCommand)
	}
	if strings.ContainsAny(cmd, "\r\n*\x00") {
		return "", fmt.Errorf("command %q: %w", cmd, ErrBadCommand)
	}
	return cmd, nil
}

// isEmergency reports whether cmd is one of the commands Marlin's
// EMERGENCY_PARSER acts on as soon as the bytes arrive.
func isEmergency(cmd string) bool {
	code := cmd
	if i := strings.IndexByte(cmd, ' '); i >= 0 {
		code = cmd[:i]
	}
	switch strings.ToUpper(code) {
	case "M112", "M108", "M410", "M876":
		return true
	}
	return false
}

// IsEmergency reports whether cmd (already cleaned) is an emergency command
// (M112, M108, M410, M876) that Conn.Send writes ahead of the queue.
func IsEmergency(cmd string) bool { return isEmergency(cmd) }

// lineNumberReset returns the target line number of an "M110 [N<n>]" command.
func lineNumberReset(cmd string) (int, bool) {
	f := strings.Fields(cmd)
	if len(f) == 0 || !strings.EqualFold(f[0], "M110") {
		return 0, false
	}
	for _, a := range f[1:] {
		if len(a) > 1 && (a[0] == 'N' || a[0] == 'n') {
			if v, err := strconv.Atoi(a[1:]); err == nil && v >= 0 {
				return v, true
			}
		}
	}
	return 0, true
}
