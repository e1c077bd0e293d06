package main

import (
	"context"

	"github.com/cuttleprint/cuttle/pkg/web"
)

// wireWeb serves the embedded browser UI at / for every non-API path.
func wireWeb(_ context.Context, a *app) error {
	h, err := web.New()
	if err != nil {
		return err
	}
	a.deps.UI = h
	return nil
}
