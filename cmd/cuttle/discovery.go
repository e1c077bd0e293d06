package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"

	"github.com/cuttleprint/cuttle/pkg/api"
	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/discovery"
)

// wireDiscovery gives the install its stable UUID (always: Home Assistant
// reads it from the settings), serves the UPnP description, and announces
// on the LAN only when discovery.enabled is set.
func wireDiscovery(ctx context.Context, a *app) error {
	uuid, err := discovery.LoadUUID(ctx, a.db)
	if err != nil {
		return err
	}
	s := a.cfg.settings
	info := discovery.Info{UUID: uuid, Name: s.Appearance.Name, Version: api.EmulatedOctoPrint,
		Path: orSlash(s.Discovery.PathPrefix), Model: s.Discovery.Model, Vendor: s.Discovery.Vendor, Port: s.Discovery.PublicPort}
	if info.Port == 0 {
		if _, p, err := net.SplitHostPort(a.cfg.listen); err == nil {
			info.Port, _ = strconv.Atoi(p)
		}
	}
	a.deps.DiscoveryXML = func(base string) ([]byte, error) { return discovery.DescriptionXML(info, base) }
	a.deps.PluginSettings["discovery"] = func(r *http.Request, id *auth.Identity) any {
		return map[string]any{"upnpUuid": uuid, "publicHost": s.Discovery.PublicHost, "publicPort": s.Discovery.PublicPort,
			"pathPrefix": s.Discovery.PathPrefix, "httpUsername": "", "httpPassword": "", "zeroConf": []any{},
			"model": map[string]any{"name": s.Discovery.Model, "vendor": s.Discovery.Vendor}, "enabled": s.Discovery.Enabled}
	}
	if s.Discovery.Enabled {
		logger := slog.NewLogLogger(a.cfg.log.Handler(), slog.LevelDebug)
		a.goBackground(func(ctx context.Context) {
			if err := discovery.Announce(ctx, info, logger); err != nil {
				a.cfg.log.Warn("LAN discovery unavailable", "err", err)
			}
		})
	}
	return nil
}

func orSlash(p string) string {
	if p == "" {
		return "/"
	}
	return p
}
