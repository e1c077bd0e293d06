package main

import (
	"context"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/events"
)

// wireAppKeys adds OctoPrint's application-key workflow; its prompts reach
// logged-in browsers as "appkeys" plugin messages.
func wireAppKeys(ctx context.Context, a *app) error {
	bus := a.bus
	keys := auth.NewAppKeys(a.db, a.auth, auth.AppKeysOptions{Notify: func(n auth.AppKeyNotice) {
		bus.Publish(events.PluginMessage{Plugin: "appkeys", Data: n, Permission: string(auth.PermAppKeysGrant)})
	}})
	a.deps.AppKeys = keys
	a.goBackground(keys.Run)
	return nil
}
