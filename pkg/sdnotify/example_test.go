package sdnotify_test

import (
	"context"
	"log"

	"github.com/cuttleprint/cuttle/pkg/sdnotify"
)

// A daemon reports readiness once its listener is up and keeps the systemd
// watchdog fed for as long as its context lives.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := sdnotify.StartWatchdog(ctx); err != nil {
		log.Printf("watchdog: %v", err)
	}
	if err := sdnotify.Ready(); err != nil {
		log.Printf("notify: %v", err)
	}
	// Output:
}
