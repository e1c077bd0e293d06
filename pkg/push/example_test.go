package push_test

import (
	"context"
	"log"
	"net/http"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/push"
	"github.com/cuttleprint/cuttle/pkg/store"
)

// A push server over the printer and the event bus, mounted at /sockjs. main
// builds it once and runs its hub until shutdown.
func Example() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	db, err := store.Open(ctx, "/var/lib/cuttle", store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	sessions := auth.NewService(db, auth.Options{})
	bus := events.NewBus()
	machine := printer.New(printer.Config{Events: bus})
	defer machine.Close()

	p := push.New(push.Options{
		Sessions: sessions,
		Bus:      bus,
		Source:   push.NewMachineSource(machine, nil),
		Version:  "1.11.2",
	})
	go p.Run(ctx)

	mux := http.NewServeMux()
	mux.Handle("/sockjs/", p) // /sockjs/websocket, /sockjs/info, /sockjs/<server>/<session>/<transport>
	log.Fatal(http.ListenAndServe("127.0.0.1:5000", mux))
}
