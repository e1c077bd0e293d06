package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBootconfigValidatesSettingsLikeServe(t *testing.T) {
	boot, data := t.TempDir(), t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(boot, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("cuttle.yaml", "hostname: shop\nserver:\n  maxBodyBytes: 4096\n")
	write("cuttle-wifi.txt", "ssid=Shop\npassword=abc\ncountry=US\n")
	var out bytes.Buffer
	args := []string{"--boot", boot, "--data", data}
	if err := runBootconfig(context.Background(), args, nil, &out, &out); err != nil {
		t.Fatalf("bootconfig %v: %v", args, err)
	}
	for _, want := range []string{"ok: hostname: shop", "ok: settings: copied", "ERROR: Wi-Fi:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("bootconfig output = %q; want %q in it", out.String(), want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(data, "cuttle", "config.yaml")); err != nil || !strings.Contains(string(b), "maxBodyBytes: 4096") {
		t.Errorf("config.yaml = %q, %v; want the server settings", b, err)
	}

	// A key serve would reject must not reach the device's settings.
	write("cuttle.yaml", "hostname: shop\nsevrer:\n  listen: ':80'\n")
	out.Reset()
	if err := runBootconfig(context.Background(), args, nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "ERROR: settings:") || !strings.Contains(out.String(), "sevrer") {
		t.Errorf("bootconfig output = %q; want a settings error naming the bad key", out.String())
	}
	status, err := os.ReadFile(filepath.Join(boot, "cuttle-status.txt"))
	if err != nil || !strings.Contains(string(status), "[ERROR] settings:") {
		t.Errorf("cuttle-status.txt = %q, %v; want the settings error", status, err)
	}
}
