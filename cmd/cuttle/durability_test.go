package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/store"
)

// buildCuttle compiles cmd/cuttle once per test binary run.
func buildCuttle(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the cuttle binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "cuttle")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs `cuttle serve` and waits until it answers.
func startServe(t *testing.T, bin, dir string) (*exec.Cmd, string) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--data-dir", dir, "--listen", addr)
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := "http://" + addr
	for i := 0; i < 200; i++ {
		if r, err := http.Get(base + "/online.txt"); err == nil {
			r.Body.Close()
			return cmd, base
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("cuttle serve did not answer")
	return nil, ""
}

func cliAdmin(t *testing.T, bin, dir string) string {
	t.Helper()
	add := exec.Command(bin, "user", "add", "--data-dir", dir, "--admin", "admin")
	add.Stdin = strings.NewReader("secret-pw\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "user", "apikey", "--data-dir", dir, "admin").Output()
	if err != nil {
		t.Fatalf("user apikey: %v", err)
	}
	key := strings.TrimSpace(string(out))
	if len(key) != 32 {
		t.Fatalf("user apikey printed %q; want a 32-character key alone", out)
	}
	return key
}

// TestDurability_SIGKILLWhileWriting kills cuttle with SIGKILL while it
// creates users as fast as a client can ask, then reopens the database: it
// must open, and every user whose creation was acknowledged must be there.
func TestDurability_SIGKILLWhileWriting(t *testing.T) {
	bin := buildCuttle(t)
	dir := t.TempDir()
	key := cliAdmin(t, bin, dir)
	cmd, base := startServe(t, bin, dir)

	acked := make(chan string, 10000)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		client := &http.Client{Timeout: 5 * time.Second}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			name := fmt.Sprintf("u%05d", i)
			body := fmt.Sprintf(`{"name":%q,"password":"pw-%d","groups":["users"]}`, name, i)
			req, _ := http.NewRequest("POST", base+"/api/access/users", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Api-Key", key)
			r, err := client.Do(req)
			if err != nil {
				return // the server died mid-request: not acknowledged
			}
			r.Body.Close()
			if r.StatusCode == http.StatusCreated {
				acked <- name
			}
		}
	}()
	// Let a good number of writes through, then kill without warning.
	deadline := time.Now().Add(20 * time.Second)
	for len(acked) < 40 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	close(stop)
	<-done
	close(acked)

	db, err := store.Open(context.Background(), dir, store.Options{})
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	defer db.Close()
	svc := auth.NewService(db, auth.Options{})
	n := 0
	for name := range acked {
		n++
		if _, err := svc.User(context.Background(), name); err != nil {
			t.Errorf("acknowledged user %s lost: %v", name, err)
		}
	}
	if n < 10 {
		t.Fatalf("only %d users acknowledged before the kill; the test proves nothing", n)
	}
	t.Logf("%d acknowledged users all present after SIGKILL", n)
}

// TestServe_GracefulShutdownAndLock checks the CLI end to end: a second
// instance on the same data dir fails at once naming the owner, SIGTERM
// shuts down cleanly (exit 0) and releases the lock.
func TestServe_GracefulShutdownAndLock(t *testing.T) {
	bin := buildCuttle(t)
	dir := t.TempDir()
	key := cliAdmin(t, bin, dir)
	cmd, base := startServe(t, bin, dir)

	second := exec.Command(bin, "serve", "--data-dir", dir, "--listen", freeAddr(t))
	start := time.Now()
	out, err := second.CombinedOutput()
	if err == nil || !strings.Contains(string(out), fmt.Sprintf("data dir already in use by pid %d", cmd.Process.Pid)) {
		t.Errorf("second serve: err %v, output %q; want a failure naming pid %d", err, out, cmd.Process.Pid)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second serve took %v to fail", d)
	}

	req, _ := http.NewRequest("GET", base+"/api/version", nil)
	req.Header.Set("X-Api-Key", key)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 200 {
		t.Fatalf("GET /api/version: %v %v", r, err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v; want exit 0", err)
	}
	list := exec.Command(bin, "user", "list", "--data-dir", dir)
	out, err = list.CombinedOutput()
	if err != nil || !bufio.NewScanner(strings.NewReader(string(out))).Scan() || !strings.Contains(string(out), "admin") {
		t.Errorf("user list after shutdown: %v\n%s", err, out)
	}
}
