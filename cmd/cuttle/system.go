package main

import (
	"context"
	"path/filepath"
	"time"

	"github.com/cuttleprint/cuttle/pkg/system"
)

// wireSystem offers the configured system commands (none by default) and
// cuttle's log files.
func wireSystem(ctx context.Context, a *app) error {
	cmds := a.cfg.settings.Server.Commands
	custom := make([]system.Command, 0, len(cmds.Custom))
	for _, c := range cmds.Custom {
		custom = append(custom, system.Command{Action: c.Action, Name: c.Name, Confirm: c.Confirm, Argv: c.Command})
	}
	a.deps.Commands = system.NewCommands(system.CoreConfig{Shutdown: cmds.SystemShutdownCommand,
		Reboot: cmds.SystemRestartCommand, Restart: cmds.ServerRestartCommand}, custom)
	a.deps.Logs = &system.Logs{Dir: filepath.Join(a.cfg.dataDir, "logs"), Active: logFileName}
	a.deps.Started = time.Now()
	a.deps.DataDir = a.cfg.dataDir
	return nil
}

// logFileName is the file serve logs to inside DATA_DIR/logs.
const logFileName = "cuttle.log"
