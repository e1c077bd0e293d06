package main

import (
	"runtime"
	"testing"
)

func TestGCPercent(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if p, ok := gcPercent(getenv); !ok || p != serveGCPercent {
		t.Errorf("without GOGC: %d %v; want %d true", p, ok, serveGCPercent)
	}
	env["GOGC"] = "200"
	if _, ok := gcPercent(getenv); ok {
		t.Error("with GOGC=200: serve overrides the environment's choice")
	}
}

func TestMaxProcs(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if n, ok := maxProcs(getenv); !ok || n != runtime.NumCPU()+1 {
		t.Errorf("without GOMAXPROCS: %d %v; want %d true", n, ok, runtime.NumCPU()+1)
	}
	env["GOMAXPROCS"] = "1"
	if _, ok := maxProcs(getenv); ok {
		t.Error("with GOMAXPROCS=1: serve overrides the environment's choice")
	}
}
