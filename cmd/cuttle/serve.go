package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/cuttleprint/cuttle/pkg/sdnotify"
	"github.com/cuttleprint/cuttle/pkg/settings"
	"github.com/cuttleprint/cuttle/pkg/system"
	"github.com/cuttleprint/cuttle/pkg/version"
)

// serveConfig is what `cuttle serve` was asked to do.
type serveConfig struct {
	configPath string
	dataDir    string
	listen     string
	settings   *settings.Settings
	log        *slog.Logger
	// ready, when set, receives the bound address once the server accepts
	// connections (tests use it).
	ready func(addr string)
}

func runServe(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, dir := newFlags("serve", stderr)
	configPath := fs.String("config", "", "YAML config file (default: DATA_DIR/config.yaml if it exists)")
	listen := fs.String("listen", "", "address to serve on (default 127.0.0.1:5000, or server.listen from the config)")
	logJSON := fs.Bool("log-json", false, "log as JSON lines instead of text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tuneRuntime(os.Getenv)
	// Logs go to stderr (the journal on the appliance) and to a rotated file
	// in the data dir that the API lists for download.
	logFile, err := system.OpenLogFile(filepath.Join(*dir, "logs"), logFileName)
	if err != nil {
		return err
	}
	defer logFile.Close()
	out := io.MultiWriter(stderr, logFile)
	var h slog.Handler = slog.NewTextHandler(out, nil)
	if *logJSON {
		h = slog.NewJSONHandler(out, nil)
	}
	cfg := serveConfig{configPath: *configPath, dataDir: *dir, listen: *listen, log: slog.New(h)}
	if cfg.configPath == "" {
		cfg.configPath = *dir + "/config.yaml"
	}
	s, err := settings.Load(cfg.configPath)
	if err != nil {
		return err
	}
	cfg.settings = s
	if cfg.listen == "" {
		cfg.listen = s.Server.Listen
	}
	return serve(ctx, cfg)
}

// serve runs cuttle until ctx ends, then shuts down gracefully: in-flight
// requests finish (for up to 10 s), background work stops, the db closes.
func serve(ctx context.Context, cfg serveConfig) error {
	log := cfg.log
	a, err := newApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.close()
	ctx, cancel := context.WithCancel(ctx)
	wait := a.start(ctx)
	defer wait() // runs after cancel: background work has stopped before the closers run
	defer cancel()

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.listen, err)
	}
	srv := &http.Server{Handler: a.handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Serve(ln) }()
	log.Info("cuttle serving", "addr", "http://"+ln.Addr().String(), "data_dir", cfg.dataDir, "version", version.String(), "pid", os.Getpid())
	if cfg.ready != nil {
		cfg.ready(ln.Addr().String())
	}
	notifySystemd(ctx, log)
	select {
	case err := <-srvErr:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	_ = sdnotify.Stopping()
	shutCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}
