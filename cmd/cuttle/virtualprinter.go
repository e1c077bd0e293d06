package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

// runVirtualPrinter is `cuttle virtual-printer --pty-link PATH [flags]`: it serves a
// simulated Marlin printer on a pseudo-terminal whose slave PATH links to, until ctx ends
// or SIGINT/SIGTERM arrives.
func runVirtualPrinter(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("virtual-printer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	link := fs.String("pty-link", "", "create a symbolic `path` to the pseudo-terminal the host opens (required)")
	var cfg virtualprinter.Config
	fs.IntVar(&cfg.Baud, "baud", 0, "emulated link rate in baud: caps bytes/s at baud/10 each way (0: unlimited)")
	fs.DurationVar(&cfg.Latency, "latency", 0, "firmware processing time per command, e.g. 1ms")
	fs.IntVar(&cfg.BufSize, "bufsize", virtualprinter.DefaultBufSize, "command buffer lines (Marlin BUFSIZE)")
	fs.IntVar(&cfg.PlannerSize, "planner", virtualprinter.DefaultPlannerSize, "planner blocks (Marlin BLOCK_BUFFER_SIZE)")
	fs.IntVar(&cfg.RxBuffer, "rx-buffer", virtualprinter.DefaultRxBuffer, "serial receive buffer bytes (Marlin RX_BUFFER_SIZE)")
	fs.BoolVar(&cfg.AdvancedOK, "advanced-ok", false, "answer ok N<line> P<planner free> B<buffer free> (ADVANCED_OK)")
	fs.Float64Var(&cfg.TimeScale, "time-scale", 1, "run moves, heating and intervals this many times faster")
	fs.StringVar(&cfg.SDDir, "sd-dir", "", "directory holding the virtual SD card's files (default: in memory)")
	fs.Float64Var(&cfg.Faults.CorruptRate, "corrupt-rate", 0, "probability that a received byte is corrupted (0..1)")
	fs.Float64Var(&cfg.Faults.DropOKRate, "drop-ok-rate", 0, "probability that an ok is not sent (0..1)")
	fs.Int64Var(&cfg.Seed, "seed", 1, "seed of the fault injection")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("virtual-printer: unexpected argument %q", fs.Arg(0))
	case *link == "":
		return errors.New("virtual-printer: --pty-link is required")
	case cfg.Baud < 0:
		return fmt.Errorf("virtual-printer: --baud %d: must not be negative", cfg.Baud)
	case cfg.Latency < 0:
		return fmt.Errorf("virtual-printer: --latency %v: must not be negative", cfg.Latency)
	case cfg.BufSize < 1, cfg.PlannerSize < 2, cfg.RxBuffer < 2:
		return fmt.Errorf("virtual-printer: --bufsize %d, --planner %d, --rx-buffer %d: too small",
			cfg.BufSize, cfg.PlannerSize, cfg.RxBuffer)
	case cfg.TimeScale <= 0:
		return fmt.Errorf("virtual-printer: --time-scale %v: must be positive", cfg.TimeScale)
	case cfg.Faults.CorruptRate < 0 || cfg.Faults.CorruptRate > 1:
		return fmt.Errorf("virtual-printer: --corrupt-rate %v: must be within 0..1", cfg.Faults.CorruptRate)
	case cfg.Faults.DropOKRate < 0 || cfg.Faults.DropOKRate > 1:
		return fmt.Errorf("virtual-printer: --drop-ok-rate %v: must be within 0..1", cfg.Faults.DropOKRate)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	pt, err := virtualprinter.OpenPTY(ctx, virtualprinter.New(cfg), *link)
	if err != nil {
		return fmt.Errorf("virtual-printer: %w", err)
	}
	fmt.Fprintf(stdout, "virtual printer (Marlin %s) on %s, linked at %s\n",
		virtualprinter.FirmwareVersion, pt.Path(), *link)
	select {
	case <-ctx.Done():
	case <-pt.Done():
	}
	if err := pt.Close(); err != nil {
		return fmt.Errorf("virtual-printer: %w", err)
	}
	return nil
}
