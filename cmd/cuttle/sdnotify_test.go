package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/settings"
)

// TestServeNotifiesSystemd runs serve as systemd would (Type=notify,
// WatchdogSec=): READY=1 once HTTP answers, a watchdog ping, and STOPPING=1
// on shutdown, all over a real unixgram socket.
func TestServeNotifiesSystemd(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "60000000")
	t.Setenv("WATCHDOG_PID", "")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := make(chan string, 1)
	cfg := serveConfig{dataDir: t.TempDir(), listen: "127.0.0.1:0", settings: settings.Defaults(),
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), ready: func(a string) { addr <- a }}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg) }()

	next := func() string {
		t.Helper()
		buf := make([]byte, 128)
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no notification from serve: %v", err)
		}
		return string(buf[:n])
	}
	seen := map[string]bool{}
	for !seen["READY=1"] || !seen["WATCHDOG=1"] {
		seen[next()] = true
	}
	res, err := http.Get("http://" + <-addr + "/api/version")
	if err != nil {
		t.Fatalf("READY=1 sent but HTTP does not answer: %v", err)
	}
	res.Body.Close()
	cancel()
	for msg := next(); msg != "STOPPING=1"; msg = next() {
		if msg != "WATCHDOG=1" {
			t.Fatalf("unexpected notification %q during shutdown", msg)
		}
	}
	if err := <-done; err != nil {
		t.Errorf("serve after cancel: %v", err)
	}
}
