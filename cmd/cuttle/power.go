package main

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/cuttleprint/cuttle/pkg/api"
	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/power"
	"github.com/cuttleprint/cuttle/pkg/printer"
)

// wirePower opens the configured relays, announces their changes on the bus,
// starts the power policy and, when a relay has a sense line, polls it. A
// relay whose GPIO is missing is logged with the reason and answers 503; it
// never stops cuttle from starting.
func wirePower(ctx context.Context, a *app) error {
	c := a.cfg.settings.Power
	bank := power.NewBank(power.Announce(a.bus, c.Policy.PSU))
	host := power.NewHost() // periph.io is initialised on the first GPIO relay only
	sense := false
	for _, rc := range c.Relays {
		r := host.Open(rc)
		st := r.(power.Reporter).Status(ctx)
		if st.Available {
			a.cfg.log.Info("relay ready", "relay", rc.Name, "pin", st.Pin, "state", st.State.String())
		} else {
			a.cfg.log.Warn("relay unavailable", "relay", rc.Name, "pin", rc.Pin, "reason", st.Reason)
		}
		if err := bank.Add(ctx, rc.Name, r); err != nil {
			return err
		}
		sense = sense || rc.SensePin != ""
	}
	policy, err := power.NewPolicy(ctx, c.Policy, bank, power.SystemClock{}, a.bus)
	if err != nil {
		return err
	}
	a.onClose(func() error { policy.Close(); return nil })
	if sense && c.SensePoll > 0 {
		a.goBackground(func(ctx context.Context) {
			t := time.NewTicker(c.SensePoll)
			defer t.Stop()
			bank.Watch(ctx, t.C)
		})
	}
	a.deps.Power, a.deps.PowerPolicy = bank, policy
	if a.deps.PluginSettings == nil {
		a.deps.PluginSettings = map[string]api.PluginSettings{}
	}
	a.deps.PluginSettings[power.PSUControlPlugin] = func(*http.Request, *auth.Identity) any {
		return a.settings.Get().Power.PSUControlSettings()
	}
	return nil
}

// The policy sees job lines too: M80/M81 in a print file switch the PSU.
var _ printer.StreamFilter = (*power.Policy)(nil)

// hookPowerToPrinter lets the power policy act on the printer: it switches
// the PSU on before every connection (an error fails the connection with the
// reason), handles M80/M81 among the commands sent and the lines a job
// streams (M81 after an acknowledged M400), and follows the printer's state
// and activity for the idle switch-off and the LED while printing.
func hookPowerToPrinter(a *app, m *printer.Machine) {
	p := a.deps.PowerPolicy
	if p == nil || m == nil {
		return
	}
	m.AddConnectHook(p)
	m.AddFilter(p)
	sub := a.bus.Subscribe(events.Options{Match: power.FeedMatch})
	a.goBackground(func(ctx context.Context) {
		defer sub.Close()
		power.Feed(ctx, p, sub, func() power.Snapshot { return powerSnapshot(m.Snapshot()) })
	})
}

// powerSnapshot is what the power policy needs of the printer's state.
func powerSnapshot(s printer.Snapshot) power.Snapshot {
	out := power.Snapshot{
		Connected: s.State.Operational(),
		Printing:  s.State >= printer.StatePrinting && s.State <= printer.StateFinishing,
	}
	for k, t := range s.Temps {
		if strings.HasPrefix(k, "tool") {
			out.Hotends = append(out.Hotends, t.Actual)
		}
		if t.Target != nil && *t.Target > 0 {
			out.TargetSet = true
		}
	}
	return out
}
