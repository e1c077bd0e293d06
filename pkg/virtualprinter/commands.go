package virtualprinter

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// FirmwareVersion is the Marlin version the printer reports.
const FirmwareVersion = "2.1.2.4"

// dispatch executes one command. It reports whether the command wants the usual ok (M105
// sends its own) and fails only when the session must end or the command was aborted.
func (s *session) dispatch(text string) (bool, error) {
	if s.sd.saving {
		return true, saveLine(s, text)
	}
	c := parseCommand(text)
	switch c.letter {
	case 'G':
		return dispatchG(s, c)
	case 'M':
		return dispatchM(s, c)
	case 'T':
		if c.code != 0 {
			s.send(fmt.Sprintf("echo:Invalid extruder %d", c.code))
		}
		return true, nil
	}
	unknown(s, c)
	return true, nil
}

func unknown(s *session, c command) {
	s.send(`echo:Unknown command: "` + c.text + `"`)
}

func dispatchG(s *session, c command) (bool, error) {
	m := s.mo
	switch c.code {
	case 0, 1:
		return true, move(s, c)
	case 2, 3:
		return arc(s, c, c.code == 2)
	case 4:
		return true, dwell(s, c)
	case 20:
		m.unit = 25.4
	case 21:
		m.unit = 1
	case 28:
		return true, home(s, c)
	case 90:
		m.relative = false
	case 91:
		m.relative = true
	case 92:
		setPosition(s, c)
	default:
		unknown(s, c)
	}
	return true, nil
}

func dispatchM(s *session, c command) (bool, error) {
	m := s.mo
	switch c.code {
	case 0, 1:
		return true, waitForUser(s, c)
	case 17, 18, 84, 73, 117, 999:
		// Motors, progress and LCD message have nothing to show on a virtual printer.
	case 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30:
		sdCommand(s, c)
	case 82:
		m.relativeE = false
	case 83:
		m.relativeE = true
	case 104, 140:
		h := s.th.hotend
		if c.code == 140 {
			h = s.th.bed
		}
		s.th.update(s.now())
		setTarget(s, c, h)
	case 105:
		s.th.update(s.now())
		if !s.cur.fromSD {
			s.okToSend(s.cur, s.th.report())
		}
		return false, nil
	case 106:
		m.fanSpeed = max(0, min(255, c.int('S', 255)))
	case 107:
		m.fanSpeed = 0
	case 108, 112, 410, 876, 110:
		// The emergency parser acted on these on arrival; M110 acted when the line
		// was checked.
	case 109, 190:
		h := s.th.hotend
		if c.code == 190 {
			h = s.th.bed
		}
		s.th.update(s.now())
		if !setTarget(s, c, h) {
			return true, nil
		}
		return true, waitHeater(s, c, h)
	case 113:
		if c.has('S') {
			s.keepalive = time.Duration(max(0, min(60, c.int('S', 2)))) * time.Second
		} else {
			s.send(fmt.Sprintf("echo:M113 S%d", int(s.keepalive.Seconds())))
		}
	case 114:
		s.send(m.positionLine())
	case 115:
		m115(s)
	case 118:
		m118(s, c)
	case 155:
		s.autoTemp = secondsParam(c, 'S')
		s.nextTemp = s.now() + s.autoTemp
	case 201, 205:
		// Per-axis acceleration limits and jerk: accepted; the simple model ignores them.
	case 203:
		for a := range numAxes {
			if v := c.float(axisLetters[a], 0); v > 0 {
				m.maxFeed[a] = v
			}
		}
	case 204:
		if v := c.float('S', 0); v > 0 {
			m.accel, m.travel = v, v
		}
		if v := c.float('P', 0); v > 0 {
			m.accel = v
		}
		if v := c.float('T', 0); v > 0 {
			m.travel = v
		}
	case 220:
		if c.has('S') {
			m.feedPct = math.Max(10, math.Min(999, c.float('S', 100)))
		} else {
			s.send(fmt.Sprintf("FR:%d%%", int(m.feedPct)))
		}
	case 221:
		if c.has('S') {
			m.flowPct = math.Max(10, math.Min(999, c.float('S', 100)))
		} else {
			s.send(fmt.Sprintf("echo:E0 Flow: %d%%", int(m.flowPct)))
		}
	case 400:
		return true, waitPlannerEmpty(s)
	default:
		unknown(s, c)
	}
	return true, nil
}

// m115 reports the firmware and its capabilities.
func m115(s *session) {
	s.send("FIRMWARE_NAME:Marlin " + FirmwareVersion + " (Jun 11 2024 12:00:00) " +
		"SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin PROTOCOL_VERSION:1.0 " +
		"MACHINE_TYPE:cuttle virtual printer EXTRUDER_COUNT:1 UUID:cede2a2f-41a2-4748-9b12-c55c62f367ff")
	adv := 0
	if s.cfg.AdvancedOK {
		adv = 1
	}
	for _, c := range []struct {
		name string
		on   int
	}{
		{"SERIAL_XON_XOFF", 0}, {"BINARY_FILE_TRANSFER", 0}, {"EEPROM", 0}, {"VOLUMETRIC", 1},
		{"AUTOREPORT_POS", 0}, {"AUTOREPORT_TEMP", 1}, {"PROGRESS", 0}, {"PRINT_JOB", 1},
		{"AUTOLEVEL", 0}, {"RUNOUT", 0}, {"Z_PROBE", 0}, {"LEVELING_DATA", 0},
		{"BUILD_PERCENT", 0}, {"SOFTWARE_POWER", 0}, {"TOGGLE_LIGHTS", 0},
		{"CASE_LIGHT_BRIGHTNESS", 0}, {"EMERGENCY_PARSER", 1}, {"HOST_ACTION_COMMANDS", 1},
		{"PROMPT_SUPPORT", 1}, {"SDCARD", 1}, {"REPEAT", 0}, {"SD_WRITE", 1},
		{"AUTOREPORT_SD_STATUS", 1}, {"LONG_FILENAME", 1}, {"LFN_WRITE", 0},
		{"CUSTOM_FIRMWARE_UPLOAD", 0}, {"EXTENDED_M20", 1}, {"THERMAL_PROTECTION", 1},
		{"MOTION_MODES", 0}, {"ARCS", 1}, {"BABYSTEPPING", 0}, {"CHAMBER_TEMPERATURE", 0},
		{"COOLER_TEMPERATURE", 0}, {"MEATPACK", 0}, {"CONFIG_EXPORT", 0}, {"ADVANCED_OK", adv},
	} {
		s.send(fmt.Sprintf("Cap:%s:%d", c.name, c.on))
	}
}

// m118 echoes text: "A1" prefixes "//" (so "M118 A1 action:pause" sends a host action
// command), "E1" prefixes "echo:".
func m118(s *session, c command) {
	text := c.args
	echo, action := false, false
	for {
		switch {
		case strings.HasPrefix(text, "A1"):
			action = true
		case strings.HasPrefix(text, "E1"):
			echo = true
		case len(text) >= 2 && text[0] == 'P' && text[1] >= '0' && text[1] <= '9':
		default:
			goto done
		}
		i := strings.IndexByte(text, ' ')
		if i < 0 {
			text = ""
			break
		}
		text = strings.TrimLeft(text[i:], " ")
	}
done:
	prefix := ""
	if echo {
		prefix = "echo:"
	}
	if action {
		prefix += "//"
	}
	s.send(prefix + text)
}

// waitForUser is M0/M1: wait for M108 or a prompt response (M876), or for the S/P
// timeout, announcing a host prompt.
func waitForUser(s *session, c command) error {
	d := time.Duration(c.float('P', 0) * float64(time.Millisecond))
	if c.has('S') {
		d = time.Duration(c.float('S', 0) * float64(time.Second))
	}
	if err := waitPlannerEmpty(s); err != nil {
		return err
	}
	s.send("//action:prompt_end")
	s.send("//action:prompt_begin M0/1 Break Called")
	s.send("//action:prompt_button Continue")
	s.send("//action:prompt_show")
	s.waitingUser = true
	end := s.now() + d
	err := s.waitFor(busyPausedForUser, func() (bool, time.Duration) {
		if !s.waitingUser {
			return true, 0
		}
		if d > 0 {
			now := s.now()
			return now >= end, end - now
		}
		return false, -1
	})
	s.waitingUser = false
	return err
}
