// Package sdnotify tells systemd about the daemon's state over the
// notification socket named by $NOTIFY_SOCKET (see sd_notify(3)).
//
// It implements the two messages cuttle needs: READY=1 once the HTTP
// listener accepts connections (for Type=notify units) and a periodic
// WATCHDOG=1 keep-alive when the unit sets WatchdogSec=. Outside systemd
// (no $NOTIFY_SOCKET) every call is a no-op that returns nil, so the daemon
// runs the same way from a shell, under busybox init or in tests.
//
// The package holds no state of its own: a [Notifier] is a value that names
// one socket, and [StartWatchdog] runs one goroutine owned by the caller's
// context.
package sdnotify
