package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRun_Subcommands(t *testing.T) {
	ctx := context.Background()
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"version"}, nil, &out, &errb); err != nil || !strings.HasPrefix(out.String(), "cuttle ") {
		t.Errorf("version = %q, %v", out.String(), err)
	}
	if err := run(ctx, []string{"frobnicate"}, nil, &out, &errb); err == nil {
		t.Error("unknown subcommand accepted")
	}
	dir := t.TempDir()
	if err := run(ctx, []string{"user", "add", "--data-dir", dir, "bob"}, strings.NewReader(""), &out, &errb); err == nil {
		t.Error("user add without a password on stdin succeeded")
	}
	out.Reset()
	if err := run(ctx, []string{"user", "add", "--data-dir", dir, "--admin", "bob"}, strings.NewReader("pw\n"), &out, &errb); err != nil {
		t.Fatalf("user add: %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"user", "apikey", "--data-dir", dir, "bob"}, nil, &out, &errb); err != nil || len(strings.TrimSpace(out.String())) != 32 {
		t.Errorf("user apikey = %q, %v", out.String(), err)
	}
	first := out.String()
	out.Reset()
	run(ctx, []string{"user", "apikey", "--data-dir", dir, "bob"}, nil, &out, &errb)
	if out.String() != first {
		t.Error("user apikey changed an existing key without --new")
	}
}
