package push_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/push"
)

// Ensure that a client that never reads neither holds up the publisher nor a
// healthy client, that it is disconnected once its bounded queue overflows, and
// that the server's memory does not grow with what it was sent.
func TestSlowConsumer(t *testing.T) {
	e := newEnv(t, func(o *push.Options) { o.EventLimit = 32 })
	key := e.user("alice")

	stuck := e.dial(nil) // its reader is never drained past the greeting
	stuck.until("connected")
	stuck.authed("alice", e.passiveSession(key))
	// From here on nobody reads stuck's messages: stop its reader goroutine
	// from draining the socket by leaving its channel full.
	for len(stuck.msgs) < cap(stuck.msgs) {
		stuck.msgs <- msg{}
	}

	good := e.dial(nil)
	good.until("connected")
	good.authed("alice", e.passiveSession(key))
	good.until("history")

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	const n, size = 600, 32 << 10
	blob := strings.Repeat("x", size)
	start := time.Now()
	for i := 0; i < n; i++ {
		e.bus.Publish(events.PluginMessage{Plugin: "load", Data: struct {
			I    int    `json:"i"`
			Blob string `json:"blob"`
		}{i, blob}})
		// The healthy client keeps up: each message arrives before the next is sent.
		for {
			m := good.next()
			if m.kind == "plugin" {
				if !strings.Contains(m.raw[:40], `"i":`) {
					t.Fatalf("plugin message %d malformed: %.80s", i, m.raw)
				}
				break
			}
		}
	}
	elapsed := time.Since(start)

	// stuck fell behind by more than 32 events: the server dropped it.
	deadline := time.Now().Add(5 * time.Second)
	for e.push.Clients() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("Clients = %d after the flood; want 1 (the stuck client dropped)", e.push.Clients())
		}
		time.Sleep(10 * time.Millisecond)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapInuse) - int64(before.HeapInuse)
	if growth > 16<<20 {
		t.Errorf("heap grew by %d MiB while %d MiB went to a stuck client; want bounded", growth>>20, n*size>>20)
	}
	t.Logf("%d messages of %d KiB to the healthy client in %v; heap growth %d KiB", n, size>>10, elapsed, growth>>10)

	// The stuck client, once it reads again, finds its connection closed.
	timeout := time.After(5 * time.Second)
	for open := true; open; {
		select {
		case _, open = <-stuck.msgs:
		case <-timeout:
			t.Fatal("the stuck client's connection is still open")
		}
	}
}
