package main

import (
	"context"
	"net/http"
	"time"

	"github.com/cuttleprint/cuttle/pkg/api"
	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/power"
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
