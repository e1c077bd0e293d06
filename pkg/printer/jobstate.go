package printer

import "github.com/cuttleprint/cuttle/pkg/protocol"

// SetJobState moves an operational Machine between Operational and the job
// states (Printing, Pausing, Paused, Resuming, Cancelling, Finishing), so
// its state text and flags follow the print job. It does nothing when the
// printer is not operational or s is not one of those states.
func (m *Machine) SetJobState(s State) {
	if !s.Operational() {
		return
	}
	m.mu.Lock()
	if m.conn == nil || !m.state.Operational() {
		m.mu.Unlock()
		return
	}
	evs := m.setStateLocked(s)
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
