package main

import (
	"context"
	"fmt"
	"io"

	"github.com/cuttleprint/cuttle/pkg/api"
	"github.com/cuttleprint/cuttle/pkg/version"
)

func runVersion(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fmt.Fprintf(stdout, "cuttle %s (OctoPrint API %s)\n", version.String(), api.EmulatedOctoPrint)
	return nil
}
