package main

import "testing"

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
