package printer

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
