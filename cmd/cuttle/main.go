// Command cuttle is a 3D-printer host that speaks OctoPrint's REST and push
// APIs. Subcommands: serve, user, version (and those listed by `cuttle help`).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// subcommand is one `cuttle NAME` entry point. run follows the house style:
// run(ctx, args, stdout, stderr) error.
type subcommand struct {
	summary string
	run     func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

// subcommands returns the table of subcommands. Capabilities add one line.
func subcommands() map[string]subcommand {
	return map[string]subcommand{
		"analyse":         {"analyse G-code files: print time, filament, areas, slicer estimate", runAnalyse},
		"bootconfig":      {"apply the appliance's boot-partition settings (Wi-Fi, hostname, SSH key)", runBootconfig},
		"serve":           {"run the printer host (HTTP API, web UI, printer link)", runServe},
		"user":            {"manage users: add, apikey, list", runUser},
		"version":         {"print cuttle's version", runVersion},
		"virtual-printer": {"serve a simulated Marlin printer on a pseudo-terminal (--pty-link PATH)", runVirtualPrinter},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "cuttle:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmds := subcommands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return errors.New("no subcommand given")
		}
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		usage(stderr, cmds)
		return fmt.Errorf("unknown subcommand %q", args[0])
	}
	return c.run(ctx, args[1:], stdin, stdout, stderr)
}

func usage(w io.Writer, cmds map[string]subcommand) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: cuttle SUBCOMMAND [flags] [args]")
	for _, n := range names {
		fmt.Fprintf(w, "  %-16s %s\n", n, cmds[n].summary)
	}
}
