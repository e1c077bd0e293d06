package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/cuttleprint/cuttle/pkg/api"
	"github.com/cuttleprint/cuttle/pkg/files"
	"github.com/cuttleprint/cuttle/pkg/job"
	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/profiles"
)

// wireFiles opens the local storage under DATA_DIR/uploads and runs its
// background analysis queue.
func wireFiles(ctx context.Context, a *app) error {
	var analyse files.Analyser
	if a.cfg.settings.GcodeAnalysis.RunAt != "never" {
		analyse = files.GcodeAnalyser()
	}
	st, err := files.Open(ctx, files.Options{Root: filepath.Join(a.cfg.dataDir, "uploads"), DB: a.db,
		Bus: a.bus, Log: a.cfg.log, Analyse: analyse})
	if err != nil {
		return err
	}
	a.deps.Files = st
	a.deps.UploadMaxBytes = a.cfg.settings.Server.Uploads.MaxSize
	a.goBackground(st.Run)
	return nil
}

// wireProfiles serves printer profiles from the store.
func wireProfiles(_ context.Context, a *app) error {
	a.deps.Profiles = profiles.New(a.db)
	return nil
}

// wireJob builds the print job controller with the configured scripts. The
// printer link attaches to it when it connects.
func wireJob(_ context.Context, a *app) error {
	if _, err := jobScripts(a.cfg.settings.Scripts.Gcode); err != nil {
		return err
	}
	scripts := func() job.Scripts {
		cfg := a.cfg.settings.Scripts.Gcode
		if a.deps.Settings != nil {
			cfg = a.deps.Settings.Get().Scripts.Gcode
		}
		s, err := jobScripts(cfg)
		if err != nil {
			a.cfg.log.Warn("invalid G-code scripts in the settings; using the defaults", "err", err)
			return job.DefaultScripts()
		}
		return s
	}
	o := job.Options{Files: a.deps.Files, Bus: a.bus, Scripts: scripts, Log: a.cfg.log}
	if a.cfg.settings.GcodeAnalysis.RunAt != "always" {
		o.Busy = a.deps.Files.SetAnalysisPaused // gcodeAnalysis.runAt idle: no analysis while printing
	}
	if a.deps.Profiles != nil {
		o.Profile = func() string { return a.deps.Profiles.Current(context.Background()) }
	}
	if a.deps.Printer != nil {
		o.Link = job.MachineLink{M: a.deps.Printer}
	}
	if p := a.deps.PowerPolicy; p != nil {
		o.BeforePrint = p.BeforePrint // the PSU comes on (and settles) before the first line
	}
	j := job.New(o)
	if a.deps.Printer != nil {
		job.Hook(a.deps.Printer, j)
	}
	a.deps.Job = j
	a.goBackground(j.Run)
	a.onClose(j.Close)
	return nil
}

// jobScripts applies the config's scripts over the defaults.
func jobScripts(cfg map[string]string) (job.Scripts, error) {
	s := job.DefaultScripts()
	fields := map[string]*string{
		"afterPrinterConnected": &s.AfterPrinterConnected, "beforePrintStarted": &s.BeforePrintStarted,
		"afterPrintDone": &s.AfterPrintDone, "afterPrintCancelled": &s.AfterPrintCancelled,
		"afterPrintPaused": &s.AfterPrintPaused, "beforePrintResumed": &s.BeforePrintResumed,
	}
	for name, src := range cfg {
		f, ok := fields[name]
		if !ok {
			return s, fmt.Errorf("config: scripts.gcode.%s: unknown script", name)
		}
		*f = src
	}
	if err := s.Validate(); err != nil {
		return s, fmt.Errorf("config: scripts.gcode: %w", err)
	}
	return s, nil
}

// machineProfile is the part of the default printer profile (from the
// profile store, when wired before the printer) that the Machine uses.
func machineProfile(ctx context.Context, a *app) printer.Profile {
	if a.deps.Profiles == nil {
		return printer.DefaultProfile()
	}
	p, err := a.deps.Profiles.Get(ctx, a.deps.Profiles.Default(ctx))
	if err != nil {
		a.cfg.log.Warn("printer profile: using the built-in default", "err", err)
		return printer.DefaultProfile()
	}
	return api.MachineProfile(p)
}
