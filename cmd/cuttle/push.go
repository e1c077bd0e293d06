package main

import (
	"context"

	"github.com/cuttleprint/cuttle/pkg/api"
	"github.com/cuttleprint/cuttle/pkg/push"
)

// wirePush serves the push API under /sockjs over the event bus, with the
// printer's state and the job's when they are wired (so it comes after them in
// wiring). Its hub runs in the background until the app stops, which also ends
// every socket.
func wirePush(_ context.Context, a *app) error {
	var src push.Source
	if a.deps.Printer != nil {
		var jobStatus func() push.JobStatus
		if a.deps.Job != nil {
			jobStatus = push.JobStatusOf(a.deps.Job)
		}
		src = push.NewMachineSource(a.deps.Printer, jobStatus)
	}
	p := push.New(push.Options{Sessions: a.auth, Bus: a.bus, Source: src,
		Version: api.EmulatedOctoPrint, Log: a.cfg.log,
		AllowCrossOrigin: func() bool { return a.settings != nil && a.settings.Get().API.AllowCrossOrigin }})
	a.deps.Push = p
	a.goBackground(p.Run)
	return nil
}
