// Package version reports which cuttle this is. The build stamps Version
// with -ldflags "-X github.com/cuttleprint/cuttle/pkg/version.Version=...".
package version

import "runtime/debug"

// Version is set at link time; it is never changed at run time.
var Version = ""

// String returns the stamped version, else the module version or VCS
// revision recorded by the Go toolchain, else "dev".
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return "dev"
}
