package printer

import (
	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/protocol"
)

// SetJobState moves an operational Machine between Operational and the job
// states (Printing, Pausing, Paused, Resuming, Cancelling, Finishing), so
// its state text and flags follow the print job. It does nothing when the
// printer is not operational or s is not one of those states.
func (m *Machine) SetJobState(s State) { m.SetJobStateText(s, "") }

// SetJobStateText is SetJobState with the state text the job wants shown
// instead of the state's own ("Starting print from SD", "Printing from SD",
// "Sending file to SD"); "" shows the state's. The flags follow s.
func (m *Machine) SetJobStateText(s State, text string) {
	if !s.Operational() {
		return
	}
	m.mu.Lock()
	if m.conn == nil || !m.state.Operational() || (m.state == s && m.jobText == text) {
		m.mu.Unlock()
		return
	}
	m.state = s
	m.jobText = text
	evs := []events.Event{events.PrinterStateChanged{StateID: s.ID(), StateString: m.stateTextLocked()}, events.StateChanged{Source: "printer"}}
	m.mu.Unlock()
	m.publishAll(evs)
}

// OnMessage registers fn to see every message the firmware sends (the job
// follows SD listings and SD print progress this way). It is called from the
// protocol's goroutine after the Machine has handled the message, and must
// return quickly without calling Machine methods that wait.
func (m *Machine) OnMessage(fn func(protocol.Message)) {
	m.hookMu.Lock()
	m.msgs = append(m.msgs, fn)
	m.hookMu.Unlock()
}
