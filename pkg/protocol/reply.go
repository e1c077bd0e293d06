package protocol

import (
	"strconv"
	"strings"
)

// Message is one parsed line from the firmware. The concrete types are the
// exported structs of this file; Other carries every line no type matched.
type Message interface{ isMessage() }

// Ok acknowledges one line. N, P and B are -1 when absent; P and B come from
// ADVANCED_OK firmware (free planner blocks and free command slots). Temps is
// set when the ok carries an M105 report ("ok T:25 /0 B:24 /0").
type Ok struct {
	N, P, B int
	Temps   *Temperatures
}

// Resend asks for every line from Line on again ("Resend: 12", "rs N12").
type Resend struct{ Line int }

// Busy is a keep-alive during a long command ("echo:busy: processing").
type Busy struct{ Reason string }

// Wait is the idle keep-alive some firmware prints ("wait").
type Wait struct{}

// Start is the firmware's boot line ("start"): it (re)started.
type Start struct{}

// Error is an "Error:" line or a "!!" line. Fatal is true when the firmware
// stopped (halted, killed, thermal runaway, MINTEMP/MAXTEMP, "!!").
type Error struct {
	Text  string
	Fatal bool
}

// Reading is one sensor's temperature; Target is nil when none was reported.
type Reading struct {
	Actual float64
	Target *float64
}

// Temperatures is a temperature report. Tools is indexed by tool number;
// "T:" without numbered tools is tool 0. Extra holds other named sensors
// (Prusa's P: PINDA and A: ambient, R: redundant) by their letter; Power the
// heater outputs ("@" tool, "B@" bed, "@1" tool 1) as reported.
type Temperatures struct {
	Tools   []Reading
	Bed     *Reading
	Chamber *Reading
	Extra   map[string]Reading
	Power   map[string]float64
}

// FirmwareInfo is the M115 report: Name is FIRMWARE_NAME, Fields every KEY:value.
type FirmwareInfo struct {
	Name   string
	Fields map[string]string
}

// Capability is one "Cap:NAME:0|1" line of the M115 report.
type Capability struct {
	Name    string
	Enabled bool
}

// Position is an M114 report (the part before "Count").
type Position struct{ X, Y, Z, E float64 }

// SDListBegin and SDListEnd bracket an M20 listing; SDFile is one entry.
type (
	SDListBegin struct{}
	SDListEnd   struct{}
	SDFile      struct {
		Name     string
		Size     int64
		LongName string
	}
)

// SDState reports the card: "SD card ok" (Ready true), "SD init fail" /
// "No SD card" (Ready false).
type SDState struct{ Ready bool }

// SDProgress is "SD printing byte P/S"; NotPrinting is set for "Not SD printing".
type SDProgress struct {
	Pos, Size   int64
	NotPrinting bool
}

// SDFileOpened is "File opened: NAME Size: N".
type SDFileOpened struct {
	Name string
	Size int64
}

// SDDone is "Done printing file".
type SDDone struct{}

// Action is a host action command ("//action:pause", "//action:prompt_begin Msg").
type Action struct {
	Name   string
	Params string
}

// UnknownCommand is Marlin's 'echo:Unknown command: "M9999"'.
type UnknownCommand struct{ Command string }

// Echo is any other "echo:" line, without the prefix.
type Echo struct{ Text string }

// Other is a line no other type matched.
type Other struct{ Text string }

func (Ok) isMessage()             {}
func (Resend) isMessage()         {}
func (Busy) isMessage()           {}
func (Wait) isMessage()           {}
func (Start) isMessage()          {}
func (Error) isMessage()          {}
func (Temperatures) isMessage()   {}
func (FirmwareInfo) isMessage()   {}
func (Capability) isMessage()     {}
func (Position) isMessage()       {}
func (SDListBegin) isMessage()    {}
func (SDListEnd) isMessage()      {}
func (SDFile) isMessage()         {}
func (SDState) isMessage()        {}
func (SDProgress) isMessage()     {}
func (SDFileOpened) isMessage()   {}
func (SDDone) isMessage()         {}
func (Action) isMessage()         {}
func (UnknownCommand) isMessage() {}
func (Echo) isMessage()           {}
func (Other) isMessage()          {}

// Parser turns firmware lines into Messages. It keeps the one bit of state the
// protocol needs (whether an M20 listing is open); the zero value is ready.
// A Parser is not safe for concurrent use.
type Parser struct{ inList bool }

// Parse parses one line (without its line break).
func (p *Parser) Parse(line string) Message {
	line = strings.TrimSpace(line)
	if p.inList {
		switch {
		case strings.EqualFold(line, "End file list"):
			p.inList = false
			return SDListEnd{}
		case line == "" || strings.HasPrefix(line, "ok") || strings.HasPrefix(line, "Error:") || strings.HasPrefix(line, "echo:"):
			// not a file entry; fall through to the general rules
		default:
			return parseSDFile(line)
		}
	}
	switch {
	case line == "ok" || strings.HasPrefix(line, "ok "):
		return parseOk(line[2:])
	case strings.HasPrefix(line, "Resend:") || strings.HasPrefix(line, "rs "):
		return parseResend(line)
	case line == "start":
		return Start{}
	case line == "wait":
		return Wait{}
	case strings.HasPrefix(line, "echo:busy:") || strings.HasPrefix(line, "busy:"):
		_, r, _ := strings.Cut(line, "busy:")
		return Busy{Reason: strings.TrimSpace(r)}
	case strings.HasPrefix(line, "!!"):
		return Error{Text: strings.TrimSpace(line[2:]), Fatal: true}
	case strings.HasPrefix(line, "Error:") || strings.HasPrefix(line, "error:"):
		t := strings.TrimSpace(line[6:])
		return Error{Text: t, Fatal: fatalError(t)}
	case strings.HasPrefix(line, "//action:"):
		name, params, _ := strings.Cut(line[len("//action:"):], " ")
		return Action{Name: strings.TrimSpace(name), Params: strings.TrimSpace(params)}
	case strings.HasPrefix(line, "FIRMWARE_NAME:"):
		return parseFirmware(line)
	case strings.HasPrefix(line, "Cap:"):
		name, val, _ := strings.Cut(line[4:], ":")
		return Capability{Name: strings.TrimSpace(name), Enabled: strings.TrimSpace(val) == "1"}
	case strings.EqualFold(line, "Begin file list"):
		p.inList = true
		return SDListBegin{}
	case strings.EqualFold(line, "End file list"):
		return SDListEnd{}
	case line == "SD card ok":
		return SDState{Ready: true}
	case line == "SD init fail" || line == "No SD card" || strings.HasPrefix(line, "echo:SD init fail") || strings.HasPrefix(line, "echo:No SD card"):
		return SDState{Ready: false}
	case strings.HasPrefix(line, "echo:SD card ok"):
		return SDState{Ready: true}
	case line == "Not SD printing":
		return SDProgress{NotPrinting: true}
	case strings.HasPrefix(line, "SD printing byte "):
		return parseSDProgress(line[len("SD printing byte "):])
	case line == "Done printing file":
		return SDDone{}
	case strings.HasPrefix(line, "File opened:") || strings.HasPrefix(line, "echo:File opened:"):
		return parseFileOpened(line)
	case strings.HasPrefix(line, "echo:Unknown command:"):
		c := strings.TrimSpace(line[len("echo:Unknown command:"):])
		return UnknownCommand{Command: strings.Trim(c, `"`)}
	case strings.HasPrefix(line, "X:") && strings.Contains(line, " Y:") && strings.Contains(line, " Z:"):
		if pos, ok := parsePosition(line); ok {
			return pos
		}
	case strings.HasPrefix(line, "echo:"):
		return Echo{Text: strings.TrimSpace(line[5:])}
	}
	if t, ok := ParseTemperatures(line); ok {
		return t
	}
	return Other{Text: line}
}

// fatalError reports whether an "Error:" text means the firmware stopped.
func fatalError(t string) bool {
	l := strings.ToLower(t)
	for _, s := range []string{"halted", "kill", "thermal runaway", "mintemp", "maxtemp", "heating failed", "stopped", "emergency stop"} {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func parseOk(rest string) Message {
	m := Ok{N: -1, P: -1, B: -1}
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return m
	}
	tempStart := -1
	fields := strings.Fields(rest)
	for i, f := range fields {
		if len(f) >= 2 && (f[0] == 'N' || f[0] == 'P' || f[0] == 'B') && f[1] != ':' {
			v, err := strconv.Atoi(f[1:])
			if err != nil {
				continue
			}
			switch f[0] {
			case 'N':
				m.N = v
			case 'P':
				m.P = v
			case 'B':
				m.B = v
			}
			continue
		}
		if strings.Contains(f, ":") {
			tempStart = i
			break
		}
	}
	if tempStart >= 0 {
		if t, ok := ParseTemperatures(strings.Join(fields[tempStart:], " ")); ok {
			m.Temps = &t
		}
	}
	return m
}

func parseResend(line string) Message {
	var s string
	if strings.HasPrefix(line, "Resend:") {
		s = line[len("Resend:"):]
	} else {
		s = line[len("rs "):]
	}
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "N")
	if i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		s = s[:i]
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return Other{Text: line}
	}
	return Resend{Line: n}
}

func parseFirmware(line string) Message {
	fi := FirmwareInfo{Fields: map[string]string{}}
	// Keys are upper-case words followed by ':' at the start or after a blank;
	// values run to the next key and may hold blanks ("Marlin 2.1.2.4 (Github)").
	type span struct{ key, start int }
	var keys []span
	for i := 0; i < len(line); i++ {
		if i > 0 && line[i-1] != ' ' {
			continue
		}
		j := i
		for j < len(line) && (line[j] == '_' || (line[j] >= 'A' && line[j] <= 'Z') || (j > i && line[j] >= '0' && line[j] <= '9')) {
			j++
		}
		if j > i+1 && j < len(line) && line[j] == ':' {
			keys = append(keys, span{i, j})
			i = j
		}
	}
	for k, s := range keys {
		end := len(line)
		if k+1 < len(keys) {
			end = keys[k+1].key
		}
		fi.Fields[line[s.key:s.start]] = strings.TrimSpace(line[s.start+1 : end])
	}
	fi.Name = fi.Fields["FIRMWARE_NAME"]
	return fi
}

func parsePosition(line string) (Position, bool) {
	if i := strings.Index(line, "Count"); i >= 0 {
		line = line[:i]
	}
	var p Position
	var seen int
	for _, f := range strings.Fields(line) {
		k, v, ok := strings.Cut(f, ":")
		if !ok {
			continue
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		switch k {
		case "X":
			p.X, seen = x, seen|1
		case "Y":
			p.Y, seen = x, seen|2
		case "Z":
			p.Z, seen = x, seen|4
		case "E":
			p.E = x
		}
	}
	return p, seen == 7
}

func parseSDFile(line string) Message {
	f := strings.Fields(line)
	out := SDFile{Name: f[0]}
	if len(f) > 1 {
		if n, err := strconv.ParseInt(f[1], 10, 64); err == nil {
			out.Size = n
			if len(f) > 2 {
				out.LongName = strings.Join(f[2:], " ")
			}
		}
	}
	return out
}

func parseSDProgress(s string) Message {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Other{Text: "SD printing byte " + s}
	}
	pos, err1 := strconv.ParseInt(a, 10, 64)
	size, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil {
		return Other{Text: "SD printing byte " + s}
	}
	return SDProgress{Pos: pos, Size: size}
}

func parseFileOpened(line string) Message {
	_, rest, _ := strings.Cut(line, "File opened:")
	name, size, _ := strings.Cut(rest, "Size:")
	n, _ := strconv.ParseInt(strings.TrimSpace(size), 10, 64)
	return SDFileOpened{Name: strings.TrimSpace(name), Size: n}
}
