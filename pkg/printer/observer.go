package printer

import (
	"errors"
	"strconv"
	"strings"

	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/protocol"
)

// observer is the protocol.Observer of one connection (generation gen). Its
// methods run on the protocol's reader or loop goroutine, one at a time: they
// hold m.mu only to update the snapshot and publish after releasing it.
type observer struct {
	m   *Machine
	gen uint64
}

func (o *observer) Received(line string, msg protocol.Message) {
	m := o.m
	if m.linkGen.Load() != o.gen {
		return
	}
	m.termMu.Lock()
	m.term.add("Recv: " + line)
	m.termMu.Unlock()
	var evs []events.Event
	var send []string
	var actions []func(string, string)
	var action protocol.Action
	var conn *protocol.Conn
	if changesState(msg) {
		m.mu.Lock()
		if m.gen != o.gen {
			m.mu.Unlock()
			return
		}
		switch v := msg.(type) {
		case protocol.Ok:
			m.addTempsLocked(*v.Temps)
		case protocol.Temperatures:
			m.addTempsLocked(v)
		case protocol.FirmwareInfo:
			m.firmware.Name = v.Name
			m.firmware.Fields = v.Fields
			evs = append(evs, events.FirmwareData{FirmwareName: v.Name, Data: v.Fields})
		case protocol.Capability:
			if m.firmware.Capabilities == nil {
				m.firmware.Capabilities = map[string]bool{}
			}
			m.firmware.Capabilities[v.Name] = v.Enabled
			if v.Enabled {
				secs := strconv.Itoa(max(1, int(m.cfg.PollInterval.Seconds())))
				switch v.Name {
				case "AUTOREPORT_TEMP":
					send = append(send, "M155 S"+secs)
				case "AUTOREPORT_SD_STATUS":
					send = append(send, "M27 S"+secs)
				}
			}
		case protocol.Position:
			m.position = &Position{X: v.X, Y: v.Y, Z: v.Z, E: v.E}
			evs = append(evs, events.PositionUpdate{X: v.X, Y: v.Y, Z: v.Z, E: v.E, T: m.tool})
		case protocol.SDState:
			m.sdReady = v.Ready
		}
		conn = m.conn
		m.mu.Unlock()
	}
	if v, ok := msg.(protocol.Action); ok {
		action = v
		m.hookMu.Lock()
		actions = m.actions
		m.hookMu.Unlock()
	}
	evs = append(evs, events.StateChanged{Source: "printer"})
	m.publishAll(evs)
	if conn != nil {
		for _, c := range send {
			conn.Send(c)
		}
	}
	for _, fn := range actions {
		fn(action.Name, action.Params)
	}
	m.hookMu.Lock()
	msgs := m.msgs
	m.hookMu.Unlock()
	for _, fn := range msgs {
		fn(msg)
	}
}

// changesState reports whether a received message updates the Machine's
// state (and so needs m.mu): a plain ok, the bulk of the traffic, does not.
func changesState(msg protocol.Message) bool {
	switch v := msg.(type) {
	case protocol.Ok:
		return v.Temps != nil
	case protocol.Temperatures, protocol.FirmwareInfo, protocol.Capability, protocol.Position, protocol.SDState:
		return true
	}
	return false
}

func (m *Machine) addTempsLocked(t protocol.Temperatures) {
	applyTemps(m.temps, t)
	p := TempPoint{Time: m.cfg.Clock.Now().Unix(), Heaters: make(map[string]HistoryTemp, len(m.temps))}
	for k, v := range m.temps {
		h := HistoryTemp{Actual: v.Actual}
		if v.Target != nil {
			tv := *v.Target
			h.Target = &tv
		}
		p.Heaters[k] = h
	}
	m.hist.add(p)
}

func (o *observer) Sent(line string, resend bool) {
	m := o.m
	if m.linkGen.Load() != o.gen {
		return
	}
	m.termMu.Lock()
	m.term.add("Send: " + line)
	m.termMu.Unlock()
	var evs []events.Event
	if !resend {
		cmd := commandOf(line)
		code := gcodeOf(cmd)
		if setsState(code) {
			m.mu.Lock()
			if m.gen == o.gen {
				evs = m.noteSentLocked(cmd)
			}
			m.mu.Unlock()
		} else {
			evs = gcodeEvents(code)
		}
	}
	evs = append(evs, events.StateChanged{Source: "printer"})
	m.publishAll(evs)
}

// gcodeOf returns a command's code in upper case ("g1" → "G1").
func gcodeOf(cmd string) string {
	cmd = strings.TrimLeft(cmd, " \t")
	if i := strings.IndexAny(cmd, " \t"); i >= 0 {
		cmd = cmd[:i]
	}
	return strings.ToUpper(cmd)
}

// setsState reports whether sending a command with this code changes the
// Machine's state (targets, the tool), which noteSentLocked records.
func setsState(code string) bool {
	switch code {
	case "M104", "M109", "M140", "M190", "M141", "M191":
		return true
	}
	return len(code) > 1 && code[0] == 'T'
}

// commandOf strips "N<n> " and "*<sum>" from a framed line.
func commandOf(line string) string {
	if strings.HasPrefix(line, "N") {
		if i := strings.IndexByte(line, ' '); i >= 0 {
			line = line[i+1:]
		}
		if i := strings.LastIndexByte(line, '*'); i >= 0 {
			line = line[:i]
		}
	}
	return line
}

// noteSentLocked updates targets and the tool from a sent command and
// returns the G-code events OctoPrint fires for it.
func (m *Machine) noteSentLocked(cmd string) []events.Event {
	fields := strings.Fields(cmd)
	if len(fields) == 0 {
		return nil
	}
	code := strings.ToUpper(fields[0])
	param := func(letter byte) (float64, bool) {
		for _, f := range fields[1:] {
			if len(f) > 1 && (f[0] == letter || f[0] == letter+'a'-'A') {
				if v, err := strconv.ParseFloat(f[1:], 64); err == nil {
					return v, true
				}
			}
		}
		return 0, false
	}
	setTarget := func(key string) {
		if s, ok := param('S'); ok {
			t := m.temps[key]
			if t == nil {
				t = &Temp{}
				m.temps[key] = t
			}
			t.Target = &s
		}
	}
	switch code {
	case "M104", "M109":
		tool := m.tool
		if t, ok := param('T'); ok {
			tool = int(t)
		}
		setTarget(toolKey(tool))
	case "M140", "M190":
		setTarget("bed")
	case "M141", "M191":
		setTarget("chamber")
	}
	if len(code) > 1 && code[0] == 'T' {
		if n, err := strconv.Atoi(code[1:]); err == nil && n != m.tool {
			old := m.tool
			m.tool = n
			return []events.Event{events.ToolChange{Old: old, New: n}}
		}
	}
	return gcodeEvents(code)
}

// gcodeEvents returns the G-code events OctoPrint fires for a sent command.
func gcodeEvents(code string) []events.Event {
	switch code {
	case "G28":
		return []events.Event{events.Home{}}
	case "G4":
		return []events.Event{events.Dwell{}}
	case "M109", "M190", "M191", "M116":
		return []events.Event{events.Waiting{}}
	case "M245":
		return []events.Event{events.Cooling{}}
	case "M300":
		return []events.Event{events.Alert{}}
	case "M240":
		return []events.Event{events.Conveyor{}}
	case "M40":
		return []events.Event{events.Eject{}}
	case "M112":
		return []events.Event{events.EStop{}}
	case "M600", "M701", "M702":
		return []events.Event{events.FilamentChange{}}
	case "M80":
		return []events.Event{events.PowerOn{}}
	case "M81":
		return []events.Event{events.PowerOff{}}
	}
	return nil
}

func (o *observer) Acked(c protocol.Command) {
	if b, ok := c.Tag.(sendBarrier); ok {
		b.release()
		return
	}
	m := o.m
	fn := m.ackFn.Load()
	if fn != nil && c.Tag != nil && m.linkGen.Load() == o.gen {
		(*fn)(c)
	}
}

func (o *observer) Closed(err error) {
	if errors.Is(err, protocol.ErrClosed) {
		return
	}
	reason := "connection"
	o.m.fail(o.gen, err, reason)
}
