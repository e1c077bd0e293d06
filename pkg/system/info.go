package system

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Info returns facts about the host as flat dotted keys, OctoPrint's
// systeminfo shape. dataDir is measured for free space.
func Info(version, dataDir string, started time.Time) map[string]any {
	info := map[string]any{
		"cuttle.version":       version,
		"octoprint.version":    "1.11.2",
		"env.os.platform":      runtime.GOOS,
		"env.os.arch":          runtime.GOARCH,
		"env.go.version":       runtime.Version(),
		"env.hardware.cores":   runtime.NumCPU(),
		"systeminfo.generator": "cuttle",
		"uptime.seconds":       int(time.Since(started).Seconds()),
	}
	if h, err := os.Hostname(); err == nil {
		info["env.hostname"] = h
	}
	if raw, err := os.ReadFile("/proc/device-tree/model"); err == nil {
		info["env.plugins.pi_support.model"] = strings.TrimRight(string(raw), "\x00\n")
	}
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(raw), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					info["env.hardware.ram"] = kb * 1024
				}
			}
		}
	}
	var st syscall.Statfs_t
	if syscall.Statfs(dataDir, &st) == nil {
		info["env.disk.free"] = int64(st.Bavail) * int64(st.Bsize)
		info["env.disk.total"] = int64(st.Blocks) * int64(st.Bsize)
	}
	return info
}
