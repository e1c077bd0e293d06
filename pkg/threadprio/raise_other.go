//go:build !linux

package threadprio

import "errors"

// Raise leaves the thread alone: only Linux is supported.
func Raise(rtPriority, nice int) (Level, error) {
	return Normal, errors.New("threadprio: not supported on this system")
}
