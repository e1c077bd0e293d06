package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.bug.st/serial"
)

// Ensure that `cuttle virtual-printer` serves a printer a serial client can talk to, and
// stops cleanly when its context ends.
func TestRunVirtualPrinter(t *testing.T) {
	link := filepath.Join(t.TempDir(), "vp")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &strings.Builder{}
	done := make(chan error, 1)
	go func() {
		done <- runVirtualPrinter(ctx, []string{"--pty-link", link, "--baud", "250000", "--time-scale", "20"}, nil, out, io.Discard)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(link); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("link %s did not appear", link)
		}
		time.Sleep(10 * time.Millisecond)
	}
	port, err := serial.Open(link, &serial.Mode{BaudRate: 250000})
	if err != nil {
		t.Fatalf("serial.Open(%q) = %v", link, err)
	}
	if err := port.SetReadTimeout(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(port)
	if l, err := r.ReadString('\n'); err != nil || l != "start\n" {
		t.Fatalf("first line = %q, %v; want start", l, err)
	}
	_ = port.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runVirtualPrinter() = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("runVirtualPrinter did not return after cancel")
	}
	if !strings.Contains(out.String(), "linked at "+link) {
		t.Errorf("output = %q; want it to name the link", out.String())
	}
	if _, err := os.Lstat(link); !os.IsNotExist(err) {
		t.Errorf("link still there after exit: %v", err)
	}
}

func TestRunVirtualPrinter_BadFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--pty-link", "x", "--baud", "-1"},
		{"--pty-link", "x", "--corrupt-rate", "2"},
		{"--pty-link", "x", "--time-scale", "0"},
		{"--pty-link", "x", "extra"},
		{"--nonsense"},
	} {
		if err := runVirtualPrinter(context.Background(), args, nil, io.Discard, io.Discard); err == nil {
			t.Errorf("runVirtualPrinter(%q) = nil; want an error", args)
		}
	}
}
