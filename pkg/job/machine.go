package job

import (
	"context"

	"github.com/cuttleprint/cuttle/pkg/printer"
)

// MachineLink adapts a printer.Machine to Link.
type MachineLink struct{ M *printer.Machine }

var _ Link = MachineLink{}

// Operational reports whether the Machine can take commands.
func (l MachineLink) Operational() bool { return l.M.Snapshot().State.Operational() }

// StateText is the Machine's state text.
func (l MachineLink) StateText() string { return l.M.Snapshot().StateText }

// Send queues cmd on the Machine.
func (l MachineLink) Send(cmd string) error { return l.M.Send(context.Background(), cmd) }

// StopStream detaches the job feed.
func (l MachineLink) StopStream() { l.M.StopStream() }

// Wake tells the Machine the feed has lines.
func (l MachineLink) Wake() { l.M.Wake() }

// Stream attaches src; when src is a Controller its Acked hears every
// acknowledgement. Job lines pass the Machine's filters, raw ones not.
func (l MachineLink) Stream(src Source, raw bool) error {
	onAck := func(printer.Command) {}
	if a, ok := src.(interface{ Acked(any) }); ok {
		onAck = func(c printer.Command) { a.Acked(c.Tag) }
	}
	if raw {
		return l.M.StreamRaw(protoSource{src}, onAck)
	}
	return l.M.Stream(protoSource{src}, onAck)
}

// machineStates maps the job's states to the Machine's.
var machineStates = map[State]printer.State{
	StateIdle: printer.StateOperational, StatePrinting: printer.StatePrinting,
	StatePausing: printer.StatePausing, StatePaused: printer.StatePaused,
	StateResuming: printer.StateResuming, StateCancelling: printer.StateCancelling,
	StateFinishing: printer.StateFinishing, StateTransferring: printer.StatePrinting,
}

// SetJobState moves the Machine to the matching state, showing text.
func (l MachineLink) SetJobState(s State, text string) {
	if s == StateIdle {
		text = ""
	}
	l.M.SetJobStateText(machineStates[s], text)
}

// protoSource adapts a Source to the protocol's.
type protoSource struct{ src Source }

func (s protoSource) Next() (printer.Command, bool) {
	text, tag, ok := s.src.Next()
	return printer.Command{Text: text, Tag: tag}, ok
}

// Hook makes c hear m's host action commands and firmware messages (SD
// listings and progress).
func Hook(m *printer.Machine, c *Controller) {
	m.OnAction(func(name, _ string) { c.Action(name) })
	m.OnMessage(c.Message)
}
