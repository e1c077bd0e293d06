package threadprio

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Raise asks for SCHED_FIFO at rtPriority (1-99) for the calling thread,
// which needs CAP_SYS_NICE or an RLIMIT_RTPRIO of at least rtPriority (the
// appliance's unit sets LimitRTPRIO); failing that, for the nice value nice,
// which needs CAP_SYS_NICE or RLIMIT_NICE; failing that it leaves the thread
// alone. It returns the level reached and, below Realtime, why the better
// ones were refused. Processes the thread forks do not inherit the realtime
// policy.
func Raise(rtPriority, nice int) (Level, error) {
	attr := unix.SchedAttr{
		Size:     unix.SizeofSchedAttr,
		Policy:   unix.SCHED_FIFO,
		Flags:    unix.SCHED_FLAG_RESET_ON_FORK,
		Priority: uint32(rtPriority),
	}
	rtErr := unix.SchedSetAttr(0, &attr, 0)
	if rtErr == nil {
		return Realtime, nil
	}
	rtErr = fmt.Errorf("threadprio: SCHED_FIFO %d: %w", rtPriority, rtErr)
	niceErr := unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), nice)
	if niceErr == nil {
		return Nice, rtErr
	}
	return Normal, errors.Join(rtErr, fmt.Errorf("threadprio: nice %d: %w", nice, niceErr))
}
