package sdnotify_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/sdnotify"
)

// listen opens a real unixgram socket standing in for systemd's.
func listen(t *testing.T) (*net.UnixConn, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("ListenUnixgram(%q): %v", path, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, path
}

func receive(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 256)
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("reading notification: %v", err)
	}
	return string(buf[:n])
}

func TestReadySendsReadyToNotifySocket(t *testing.T) {
	conn, path := listen(t)
	t.Setenv("NOTIFY_SOCKET", path)
	if err := sdnotify.Ready(); err != nil {
		t.Fatalf("Ready() = %v; want nil", err)
	}
	if got := receive(t, conn); got != "READY=1" {
		t.Errorf("Ready() sent %q; want %q", got, "READY=1")
	}
	if err := sdnotify.Stopping(); err != nil {
		t.Fatalf("Stopping() = %v; want nil", err)
	}
	if got := receive(t, conn); got != "STOPPING=1" {
		t.Errorf("Stopping() sent %q; want %q", got, "STOPPING=1")
	}
}

func TestAbstractSocket(t *testing.T) {
	name := "@cuttle-sdnotify-test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Skipf("abstract sockets unavailable: %v", err)
	}
	defer conn.Close()
	if err := sdnotify.New(name).Notify("STATUS=hi"); err != nil {
		t.Fatalf("Notify to %q = %v; want nil", name, err)
	}
	if got := receive(t, conn); got != "STATUS=hi" {
		t.Errorf("got %q; want %q", got, "STATUS=hi")
	}
}

func TestOutsideSystemdIsNoop(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	if err := sdnotify.Ready(); err != nil {
		t.Errorf("Ready() without NOTIFY_SOCKET = %v; want nil", err)
	}
	every, err := sdnotify.StartWatchdog(context.Background())
	if every != 0 || err != nil {
		t.Errorf("StartWatchdog() without WATCHDOG_USEC = %v, %v; want 0, nil", every, err)
	}
}

func TestNotifyMissingSocketFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.sock")
	err := sdnotify.New(path).Notify(sdnotify.MsgReady)
	if err == nil {
		t.Fatalf("Notify to missing socket %q = nil; want an error", path)
	}
}

func TestWatchdogInterval(t *testing.T) {
	tests := []struct {
		name, usec, pid string
		want            time.Duration
		wantErr         bool
	}{
		{name: "unset", want: 0},
		{name: "half of timeout", usec: "20000000", want: 10 * time.Second},
		{name: "for this pid", usec: "2000000", pid: "self", want: time.Second},
		{name: "for another pid", usec: "2000000", pid: "1", want: 0},
		{name: "garbage", usec: "soon", wantErr: true},
		{name: "zero", usec: "0", wantErr: true},
		{name: "bad pid", usec: "2000000", pid: "x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pid := tt.pid
			if pid == "self" {
				pid = strconv.Itoa(os.Getpid())
			}
			t.Setenv("WATCHDOG_USEC", tt.usec)
			t.Setenv("WATCHDOG_PID", pid)
			got, err := sdnotify.WatchdogInterval()
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("WatchdogInterval(USEC=%q, PID=%q) = %v, %v; want %v, error %v",
					tt.usec, pid, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestStartWatchdogPingsUntilCancelled(t *testing.T) {
	conn, path := listen(t)
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "20000") // ping every 10ms
	t.Setenv("WATCHDOG_PID", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	every, err := sdnotify.StartWatchdog(ctx)
	if err != nil || every != 10*time.Millisecond {
		t.Fatalf("StartWatchdog() = %v, %v; want 10ms, nil", every, err)
	}
	for i := 0; i < 3; i++ {
		if got := receive(t, conn); got != "WATCHDOG=1" {
			t.Fatalf("ping %d = %q; want %q", i, got, "WATCHDOG=1")
		}
	}
}

func TestWatchdogReturnsWhenContextDone(t *testing.T) {
	conn, path := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		sdnotify.New(path).Watchdog(ctx, time.Hour)
		close(done)
	}()
	if got := receive(t, conn); got != "WATCHDOG=1" {
		t.Fatalf("first ping = %q; want %q", got, "WATCHDOG=1")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Watchdog did not return after its context was cancelled")
	}
}
