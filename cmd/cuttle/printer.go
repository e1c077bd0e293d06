package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/protocol"
	"github.com/cuttleprint/cuttle/pkg/serial"
	"github.com/cuttleprint/cuttle/pkg/settings"
	"github.com/cuttleprint/cuttle/pkg/threadprio"
)

// wirePrinter builds the Machine from the serial settings: USB serial ports
// plus the additional globs, the built-in ports, the link's timeout and
// receive buffer. It follows preference changes in the settings, lets the
// power policy switch the PSU before connecting and handle M80/M81, feeds the
// policy the printer's state, and connects at start when autoconnect is set.
func wirePrinter(ctx context.Context, a *app) error {
	s := a.settings.Get().Serial
	m := printer.New(printer.Config{
		Profile:            machineProfile(ctx, a),
		Lister:             serial.Lister{Extra: s.AdditionalPorts},
		Builtin:            builtinPorts(a),
		PortPreference:     s.Port,
		BaudratePreference: s.Baudrate,
		Protocol: protocol.Options{
			Timeout:      time.Duration(s.TimeoutCommunication * float64(time.Second)),
			RxBuffer:     s.RxBufferSize,
			ReaderThread: func() { raiseLinkReader(a.cfg.log) },
		},
		Events: a.bus,
		Log:    a.cfg.log,
	})
	a.settings.Watch(func(ns *settings.Settings) { m.SetPreferences(ns.Serial.Port, ns.Serial.Baudrate) })
	hookPowerToPrinter(a, m)
	a.onClose(m.Close)
	a.deps.Printer = m
	if s.Autoconnect {
		a.goBackground(func(ctx context.Context) {
			if err := m.Connect(ctx, "", 0); err != nil {
				a.cfg.log.Warn("autoconnect", "err", err)
			}
		})
	}
	return nil
}

// builtinPorts are the ports served in-process.
func builtinPorts(a *app) map[string]printer.PortOpener {
	return map[string]printer.PortOpener{"VIRTUAL": virtualPort(a)}
}

// raiseLinkReader runs on each connection's reader thread: the printer link
// keeps its pace while HTTP clients keep the CPUs busy when that thread runs
// first. The appliance's unit allows realtime (LimitRTPRIO); elsewhere cuttle
// runs at whatever level it is allowed, and says which.
func raiseLinkReader(log *slog.Logger) {
	level, err := threadprio.Raise(threadprio.LinkRealtime, threadprio.LinkNice)
	if err != nil {
		log.Info("printer link reader thread", "priority", level, "why", err)
		return
	}
	log.Info("printer link reader thread", "priority", level)
}
