package virtualprinter

// SetCorruptRate sets the probability that a received byte has a bit flipped (at most one
// per line).
func (p *Printer) SetCorruptRate(rate float64) {
	p.mu.Lock()
	p.faults.CorruptRate = rate
	p.mu.Unlock()
}

// SetDropOKRate sets the probability that an ok is not sent.
func (p *Printer) SetDropOKRate(rate float64) {
	p.mu.Lock()
	p.faults.DropOKRate = rate
	p.mu.Unlock()
}

// DropNextOK makes the firmware swallow the next ok it would send; the command is still
// executed.
func (p *Printer) DropNextOK() {
	p.mu.Lock()
	p.dropNext++
	p.mu.Unlock()
}

// SpuriousResend makes the firmware reject the next numbered line although it arrived
// intact, answering with a checksum error and "Resend:" for it.
func (p *Printer) SpuriousResend() {
	p.mu.Lock()
	p.resendNext++
	p.mu.Unlock()
}

// Reset resets the firmware as a watchdog or brown-out would: it prints "start" and the
// banner again, forgets the line number, the buffers, the targets and any SD print.
func (p *Printer) Reset() {
	p.do(func(s *session) {
		s.powerOn()
		s.rx.flush()
		s.banner()
	})
}

// Disconnect drops the link, as pulling the USB cable does: Serve closes it and returns
// ErrDisconnected.
func (p *Printer) Disconnect() {
	p.do(func(s *session) {
		if s.stop == nil {
			s.stop = ErrDisconnected
		}
	})
}

// ThermalRunaway makes the hotend's thermal protection trip: the firmware reports
// "Error:Thermal Runaway, system stopped! Heater_ID: 0", halts and stays silent until
// the link is served again.
func (p *Printer) ThermalRunaway() {
	p.do(func(s *session) {
		if s.halted {
			return
		}
		s.send("Error:Thermal Runaway, system stopped! Heater_ID: 0")
		s.kill()
	})
}

// SendAction makes the firmware send the host action command "//action:" + action, e.g.
// "pause", "cancel" or "prompt_begin Filament runout".
func (p *Printer) SendAction(action string) {
	p.do(func(s *session) { s.send("//action:" + action) })
}

func (p *Printer) corruptRate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults.CorruptRate
}

// takeDropOK reports whether the ok about to be sent is to be dropped.
func (p *Printer) takeDropOK() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dropNext > 0 {
		p.dropNext--
		return true
	}
	return p.faults.DropOKRate > 0 && p.rng.Float64() < p.faults.DropOKRate
}

// takeSpuriousResend reports whether an intact line is to be rejected.
func (p *Printer) takeSpuriousResend() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.resendNext > 0 {
		p.resendNext--
		return true
	}
	return false
}
