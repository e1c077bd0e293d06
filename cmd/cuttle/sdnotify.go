package main

import (
	"context"
	"log/slog"

	"github.com/cuttleprint/cuttle/pkg/sdnotify"
)

// notifySystemd tells systemd (Type=notify, WatchdogSec= in cuttle.service)
// that cuttle is serving and keeps its watchdog fed until ctx ends. Outside
// systemd it does nothing.
func notifySystemd(ctx context.Context, log *slog.Logger) {
	if every, err := sdnotify.StartWatchdog(ctx); err != nil {
		log.Warn("systemd watchdog not started", "err", err)
	} else if every > 0 {
		log.Info("systemd watchdog", "interval", every)
	}
	if err := sdnotify.Ready(); err != nil {
		log.Warn("systemd notify failed", "err", err)
	}
}
