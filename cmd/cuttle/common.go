package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
)

// defaultDataDir is $XDG_DATA_HOME/cuttle, else ~/.local/share/cuttle.
func defaultDataDir() string {
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "cuttle")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "cuttle-data"
	}
	return filepath.Join(home, ".local", "share", "cuttle")
}

// newFlags returns a flag set that reports errors to stderr instead of
// exiting, with the --data-dir flag every subcommand takes.
func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("cuttle "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data-dir", defaultDataDir(), "data directory (database, uploads, logs)")
	return fs, dir
}
