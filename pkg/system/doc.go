// Package system runs the host's configured system commands (shutdown,
// reboot, restart), reports facts about the host, and keeps cuttle's own log
// files (a size-capped, rotated file in the data dir).
//
// Commands are argv lists run without a shell, so no configuration value is
// ever interpreted by one; none is configured by default.
package system
