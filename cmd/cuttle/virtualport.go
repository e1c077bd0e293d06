package main

import (
	"context"
	"io"
	"net"

	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

// virtualPort is the built-in port "VIRTUAL": a simulated Marlin printer
// (package virtualprinter) served in-process over a pipe, as OctoPrint's
// virtual printer, with an in-memory SD card. Each connection gets the same
// printer; the firmware goroutine ends when the
// connection closes its end or the connection's context ends.
func virtualPort(*app) printer.PortOpener {
	vp := virtualprinter.New(virtualprinter.Config{})
	return func(ctx context.Context, baud int) (io.ReadWriteCloser, error) {
		host, fw := net.Pipe()
		go func() {
			vp.Serve(ctx, fw)
			fw.Close()
		}()
		return host, nil
	}
}
