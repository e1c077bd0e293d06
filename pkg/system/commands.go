package system

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Command is one system action offered to admins.
type Command struct {
	Source  string   `json:"source"`
	Action  string   `json:"action"`
	Name    string   `json:"name"`
	Confirm string   `json:"confirm,omitempty"`
	Argv    []string `json:"-"`
}

// Errors returned by Run.
var (
	// ErrUnknown is returned for an action that is not configured.
	ErrUnknown = errors.New("system: no such command")
	// ErrFailed is returned when the command ran and failed; the error text
	// carries its stderr.
	ErrFailed = errors.New("system: command failed")
)

// Commands is the configured set of system commands.
type Commands struct {
	list []Command
	// Timeout bounds one command (default 30 s).
	Timeout time.Duration
}

// CoreConfig is the argv of each core action; an empty argv leaves the
// action out.
type CoreConfig struct {
	Shutdown, Reboot, Restart []string
}

// NewCommands returns the core actions that are configured plus custom ones.
func NewCommands(core CoreConfig, custom []Command) *Commands {
	c := &Commands{Timeout: 30 * time.Second}
	add := func(action, name, confirm string, argv []string) {
		if len(argv) > 0 && argv[0] != "" {
			c.list = append(c.list, Command{Source: "core", Action: action, Name: name, Confirm: confirm, Argv: argv})
		}
	}
	add("shutdown", "Shutdown system", "<strong>You are about to shut down the system.</strong>", core.Shutdown)
	add("reboot", "Reboot system", "<strong>You are about to reboot the system.</strong>", core.Reboot)
	add("restart", "Restart cuttle", "<strong>You are about to restart the cuttle server.</strong>", core.Restart)
	for _, cc := range custom {
		if cc.Action != "" && len(cc.Argv) > 0 {
			cc.Source = "custom"
			c.list = append(c.list, cc)
		}
	}
	return c
}

// List returns the commands of source ("core" or "custom"; "" for all).
func (c *Commands) List(source string) []Command {
	out := []Command{}
	for _, cmd := range c.list {
		if source == "" || cmd.Source == source {
			out = append(out, cmd)
		}
	}
	return out
}

// Run runs the command source/action and waits for it (within Timeout).
func (c *Commands) Run(ctx context.Context, source, action string) error {
	for _, cmd := range c.list {
		if cmd.Source != source || cmd.Action != action {
			continue
		}
		ctx, cancel := context.WithTimeout(ctx, c.Timeout)
		defer cancel()
		var stderr bytes.Buffer
		x := exec.CommandContext(ctx, cmd.Argv[0], cmd.Argv[1:]...)
		x.Stderr = &stderr
		if err := x.Run(); err != nil {
			msg := strings.TrimSpace(stderr.String())
			if msg == "" {
				msg = err.Error()
			}
			return fmt.Errorf("%w: %s/%s (%s): %s", ErrFailed, source, action, cmd.Argv[0], msg)
		}
		return nil
	}
	return fmt.Errorf("%w: %s/%s", ErrUnknown, source, action)
}
