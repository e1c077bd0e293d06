package main

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"

	"github.com/cuttleprint/cuttle/pkg/api"
	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/settings"
	"github.com/cuttleprint/cuttle/pkg/store"
	"github.com/cuttleprint/cuttle/pkg/version"
)

// app is a wired cuttle: the components, the API handler built over them,
// the background work they need and what must be closed at the end. serve
// runs it; tests build one over a temporary data dir.
type app struct {
	cfg  serveConfig
	db   *store.DB
	auth *auth.Service
	// bus carries events from every capability to push and to each other.
	bus *events.Bus
	// settings is the live, persisted configuration; cfg.settings is its
	// value at start-up.
	settings *settings.File
	// deps collects the domain objects for the API as wire functions add them.
	deps api.Deps
	// api is built last, once every wire function has filled deps.
	api *api.Server

	background []func(ctx context.Context) // each runs until ctx ends
	closers    []func() error              // closed in reverse order
}

// wireFunc adds one capability to the app: it builds the component, puts it
// into a.deps, and registers background work and closers.
type wireFunc func(ctx context.Context, a *app) error

// wiring lists the capabilities in the order they are built. Capabilities
// add one line.
func wiring() []wireFunc {
	return []wireFunc{
		wireAuth,
		wireSettings,
		wireAppKeys,
		wireSystem,
		wireDiscovery,
		wireFiles,
		wireProfiles,
		wireWeb,
		wireWebcam,
		wirePower,
		wirePrinter,
		wireJob,  // after the printer: the job streams through it
		wirePush, // after the printer and the job: it reports both
	}
}

// newApp opens the store and wires every capability. On error, whatever was
// opened is closed.
func newApp(ctx context.Context, cfg serveConfig) (a *app, err error) {
	a = &app{cfg: cfg, settings: settings.NewFile(cfg.configPath, cfg.settings)}
	db, err := store.Open(ctx, cfg.dataDir, store.Options{})
	if err != nil {
		return nil, err
	}
	a.db = db
	a.onClose(db.Close)
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	a.bus = events.NewBus()
	a.onClose(func() error { a.bus.Close(); return nil })
	a.deps = api.Deps{Log: cfg.log, Version: version.String(), MaxBodyBytes: cfg.settings.Server.MaxBodyBytes, Events: a.bus}
	for _, w := range wiring() {
		if err := w(ctx, a); err != nil {
			return nil, err
		}
	}
	a.api = api.New(a.deps)
	return a, nil
}

func wireAuth(ctx context.Context, a *app) error {
	a.auth = auth.NewService(a.db, auth.Options{})
	a.deps.Auth = a.auth
	a.goBackground(a.auth.Run)
	if has, err := a.auth.HasAdmin(ctx); err == nil && !has {
		a.cfg.log.Warn("no admin yet: open the web UI from this machine or the local network to create one, or run `cuttle user add --admin NAME`")
	}
	return nil
}

func wireSettings(ctx context.Context, a *app) error {
	a.deps.Settings = a.settings
	if a.deps.PluginSettings == nil {
		a.deps.PluginSettings = map[string]api.PluginSettings{}
	}
	return nil
}

// goBackground registers fn to run, once the app starts, until its context
// ends.
func (a *app) goBackground(fn func(ctx context.Context)) { a.background = append(a.background, fn) }

// onClose registers fn to run when the app closes, after background work
// has stopped; closers run in reverse order of registration.
func (a *app) onClose(fn func() error) { a.closers = append(a.closers, fn) }

// handler is the HTTP handler for the whole app.
func (a *app) handler() http.Handler { return a.api }

// start runs the background work; the returned wait blocks until all of it
// has returned after ctx ends.
func (a *app) start(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	for _, fn := range a.background {
		wg.Add(1)
		go func() { defer wg.Done(); fn(ctx) }()
	}
	return wg.Wait
}

// close runs the closers in reverse order and joins their errors.
func (a *app) close() error {
	var errs []error
	for _, c := range slices.Backward(a.closers) {
		errs = append(errs, c())
	}
	a.closers = nil
	return errors.Join(errs...)
}
