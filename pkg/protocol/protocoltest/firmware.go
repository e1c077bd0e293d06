package protocoltest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Firmware is the firmware end of a net.Pipe. Tests either script it line
// by line (Next, Reply) or let Marlin answer like Marlin 2.1 would.
type Firmware struct {
	conn  net.Conn
	lines chan string
	wmu   sync.Mutex // serialises writes
	done  chan struct{}
}

// Pipe returns the host end of a net.Pipe and the Firmware on the other end.
// The test must Close the Firmware (t.Cleanup does it well).
func Pipe() (io.ReadWriteCloser, *Firmware) {
	host, fw := net.Pipe()
	f := &Firmware{conn: fw, lines: make(chan string, 1<<16), done: make(chan struct{})}
	go f.read()
	return host, f
}

func (f *Firmware) read() {
	defer close(f.lines)
	br := bufio.NewReader(f.conn)
	for {
		s, err := br.ReadString('\n')
		if s != "" {
			f.lines <- strings.TrimRight(s, "\r\n")
		}
		if err != nil {
			return
		}
	}
}

// Next returns the next line the host wrote, or an error when none comes
// within d (a safety net for a broken test, not a timing assertion).
func (f *Firmware) Next(d time.Duration) (string, error) {
	select {
	case l, ok := <-f.lines:
		if !ok {
			return "", io.EOF
		}
		return l, nil
	case <-time.After(d):
		return "", fmt.Errorf("protocoltest: nothing received within %s", d)
	}
}

// Lines is the channel of lines the host wrote; it closes when the host side closes.
func (f *Firmware) Lines() <-chan string { return f.lines }

// Reply writes lines to the host, each followed by a newline.
func (f *Firmware) Reply(lines ...string) error {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	for _, l := range lines {
		if _, err := io.WriteString(f.conn, l+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the firmware end of the pipe.
func (f *Firmware) Close() error { return f.conn.Close() }

// ParseFrame parses "N<n> <cmd>*<sum>" the way Marlin does, independently of
// package protocol. ok is false when the line is unnumbered; err is set when the
// number or checksum is wrong.
func ParseFrame(line string) (n int, cmd string, numbered bool, err error) {
	if !strings.HasPrefix(line, "N") {
		if strings.Contains(line, "*") {
			return 0, "", false, frameError("No Line Number with checksum")
		}
		return 0, line, false, nil
	}
	star := strings.LastIndex(line, "*")
	if star < 0 {
		return 0, "", true, frameError("No Checksum with line number")
	}
	var sum byte
	for i := 0; i < star; i++ {
		sum ^= line[i]
	}
	want, err := strconv.Atoi(line[star+1:])
	if err != nil || int(sum) != want {
		return 0, "", true, frameError("checksum mismatch")
	}
	head, rest, _ := strings.Cut(line[:star], " ")
	n, err = strconv.Atoi(head[1:])
	if err != nil {
		return 0, "", true, frameError("Line Number is not a number")
	}
	return n, rest, true, nil
}

// frameError is a framing error worded as Marlin words it in its "Error:" line.
type frameError string

func (e frameError) Error() string { return string(e) }

// Marlin answers like Marlin 2.1 with default settings: line-number and
// checksum checks with "Error:…", "Resend: N" and a bare "ok", "ok" after each
// accepted command (with " P15 B3" when Advanced), temperatures for M105,
// and a record of every executed command. Hooks let a test change replies.
type Marlin struct {
	F        *Firmware
	Advanced bool
	// Reply, when set, is asked first for every accepted command; returning
	// handled=true skips the default answer.
	Reply func(cmd string) (lines []string, handled bool)

	mu       sync.Mutex // guards lastN and executed
	lastN    int
	executed []string
}

// Serve answers lines until the host closes its end. Run it in a goroutine.
func (m *Marlin) Serve() {
	for line := range m.F.Lines() {
		m.handle(line)
	}
}

// Executed returns the commands executed so far, in order.
func (m *Marlin) Executed() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.executed...)
}

func (m *Marlin) ok() string {
	if m.Advanced {
		m.mu.Lock()
		defer m.mu.Unlock()
		return fmt.Sprintf("ok N%d P15 B3", m.lastN)
	}
	return "ok"
}

func (m *Marlin) handle(line string) {
	n, cmd, numbered, err := ParseFrame(line)
	m.mu.Lock()
	// Marlin checks the line number before the checksum.
	if rawN, ok := leadingN(line); ok && !strings.Contains(line, "M110") && rawN != m.lastN+1 {
		last := m.lastN
		m.mu.Unlock()
		m.F.Reply(fmt.Sprintf("Error:Line Number is not Last Line Number+1, Last Line: %d", last), fmt.Sprintf("Resend: %d", last+1), "ok")
		return
	}
	if err != nil {
		last := m.lastN
		m.mu.Unlock()
		m.F.Reply(fmt.Sprintf("Error:%v, Last Line: %d", err, last), fmt.Sprintf("Resend: %d", last+1), "ok")
		return
	}
	if numbered {
		isM110 := strings.HasPrefix(cmd, "M110")
		if !isM110 && n != m.lastN+1 {
			last := m.lastN
			m.mu.Unlock()
			m.F.Reply(fmt.Sprintf("Error:Line Number is not Last Line Number+1, Last Line: %d", last), fmt.Sprintf("Resend: %d", last+1), "ok")
			return
		}
		m.lastN = n
	}
	m.executed = append(m.executed, cmd)
	m.mu.Unlock()
	if m.Reply != nil {
		if lines, handled := m.Reply(cmd); handled {
			m.F.Reply(lines...)
			return
		}
	}
	switch {
	case strings.HasPrefix(cmd, "M105"):
		m.F.Reply(m.ok() + " T:21.30 /0.00 B:20.90 /0.00 @:0 B@:0")
	case strings.HasPrefix(cmd, "M112"):
		m.F.Reply("echo:M112 Shutdown", "Error:Printer halted. kill() called!", "//action:poweroff")
	case strings.HasPrefix(cmd, "M115"):
		m.F.Reply("FIRMWARE_NAME:Marlin 2.1.2.4 (Github) SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin PROTOCOL_VERSION:1.0 MACHINE_TYPE:3D Printer EXTRUDER_COUNT:1 UUID:cede2a2f-41a2-4748-9b12-c55c62f367ff",
			"Cap:SERIAL_XON_XOFF:0", "Cap:AUTOREPORT_TEMP:1", "Cap:AUTOREPORT_SD_STATUS:1", "Cap:EMERGENCY_PARSER:1", m.ok())
	default:
		m.F.Reply(m.ok())
	}
}

// leadingN reads the number after a leading 'N', as Marlin's strtol does.
func leadingN(line string) (int, bool) {
	if !strings.HasPrefix(line, "N") {
		return 0, false
	}
	i := 1
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(line[1:i])
	return n, err == nil
}
