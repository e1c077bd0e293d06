package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cuttleprint/cuttle/pkg/bootcfg"
	"github.com/cuttleprint/cuttle/pkg/settings"
)

// runBootconfig applies the files on the appliance's boot partition (Wi-Fi,
// hostname, settings, SSH keys) and writes cuttle-status.txt back there; the
// image runs it on every boot from cuttle-bootconfig.service. Mistakes in
// the user's files are reported in the status file and on stdout, and do
// not fail the command: the rest of the boot must go on.
func runBootconfig(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, _ := newFlags("bootconfig", stderr)
	boot := fs.String("boot", "/boot", "where the FAT boot partition is mounted")
	data := fs.String("data", "/data", "where the data partition is mounted")
	setHost := fs.Bool("set-hostname", false, "also set the running system's hostname")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o := bootcfg.Options{BootDir: *boot, DataDir: *data, Now: time.Now(), ValidateSettings: validateSettings}
	if *setHost {
		o.SetHostname = setHostname
	}
	r, err := bootcfg.Apply(o)
	for _, it := range r.Items {
		mark := "ok"
		if !it.OK {
			mark = "ERROR"
		}
		fmt.Fprintf(stdout, "%s: %s: %s\n", mark, it.Name, it.Message)
	}
	return err
}

// validateSettings checks settings YAML the way `cuttle serve` will read it.
func validateSettings(yaml []byte) error {
	f, err := os.CreateTemp("", "cuttle-settings-*.yaml")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(yaml)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	_, err = settings.Load(f.Name())
	return err
}
