package sdnotify

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// Messages understood by systemd's notification socket.
const (
	// MsgReady reports that start-up finished and the service is serving.
	MsgReady = "READY=1"
	// MsgStopping reports that the service began its shutdown.
	MsgStopping = "STOPPING=1"
	// MsgWatchdog is the keep-alive that resets the unit's watchdog timer.
	MsgWatchdog = "WATCHDOG=1"
)

// Notifier sends state messages to one notification socket. The zero value
// (and a Notifier made from an empty socket path) sends nothing. A Notifier
// is safe for concurrent use: each message opens its own connection.
type Notifier struct {
	socket string
}

// New returns a Notifier for the unix datagram socket at path. A path that
// starts with '@' names a socket in the abstract namespace, as systemd
// writes it into $NOTIFY_SOCKET.
func New(path string) Notifier {
	return Notifier{socket: path}
}

// FromEnv returns a Notifier for the socket named by $NOTIFY_SOCKET; it is
// disabled when the variable is unset, as it is outside systemd.
func FromEnv() Notifier {
	return New(os.Getenv("NOTIFY_SOCKET"))
}

// Enabled reports whether the Notifier has a socket to send to.
func (n Notifier) Enabled() bool {
	return n.socket != ""
}

// Notify sends one state message such as MsgReady. It returns nil without
// sending when the Notifier is disabled.
func (n Notifier) Notify(state string) error {
	if !n.Enabled() {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: n.socket, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sdnotify: dial %q: %w", n.socket, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("sdnotify: send %q to %q: %w", state, n.socket, err)
	}
	return nil
}

// Ready tells systemd, through $NOTIFY_SOCKET, that the daemon is serving.
// It is a no-op outside systemd.
func Ready() error {
	return FromEnv().Notify(MsgReady)
}

// Stopping tells systemd, through $NOTIFY_SOCKET, that the daemon is
// shutting down. It is a no-op outside systemd.
func Stopping() error {
	return FromEnv().Notify(MsgStopping)
}

// WatchdogInterval reads the watchdog timeout systemd passes in
// $WATCHDOG_USEC (and $WATCHDOG_PID, when set, must name this process) and
// returns how often to send MsgWatchdog: half the timeout, as sd_notify(3)
// recommends. It returns 0 when the watchdog is not enabled for this process.
func WatchdogInterval() (time.Duration, error) {
	return watchdogInterval(os.Getenv("WATCHDOG_USEC"), os.Getenv("WATCHDOG_PID"), os.Getpid())
}

func watchdogInterval(usec, pid string, self int) (time.Duration, error) {
	if usec == "" {
		return 0, nil
	}
	if pid != "" {
		p, err := strconv.Atoi(pid)
		if err != nil {
			return 0, fmt.Errorf("sdnotify: WATCHDOG_PID %q: %w", pid, err)
		}
		if p != self {
			return 0, nil
		}
	}
	u, err := strconv.ParseInt(usec, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("sdnotify: WATCHDOG_USEC %q: %w", usec, err)
	}
	if u <= 0 {
		return 0, fmt.Errorf("sdnotify: WATCHDOG_USEC %q: must be positive", usec)
	}
	return time.Duration(u) * time.Microsecond / 2, nil
}

// StartWatchdog starts a goroutine that sends MsgWatchdog to $NOTIFY_SOCKET
// at half the interval systemd set in $WATCHDOG_USEC, until ctx is done. It
// returns the send interval, or 0 (and starts nothing) when no watchdog is
// configured. The goroutine is owned by ctx: cancel it to stop the pings.
func StartWatchdog(ctx context.Context) (time.Duration, error) {
	every, err := WatchdogInterval()
	if err != nil || every == 0 {
		return 0, err
	}
	n := FromEnv()
	if !n.Enabled() {
		return 0, nil
	}
	go n.Watchdog(ctx, every)
	return every, nil
}

// Watchdog sends MsgWatchdog once right away and then every interval until
// ctx is done; it blocks, so run it in a goroutine. Send errors are not
// fatal: a missed ping is what the systemd watchdog exists to notice.
func (n Notifier) Watchdog(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		_ = n.Notify(MsgWatchdog)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
