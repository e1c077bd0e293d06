package threadprio

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// Ensure that the level Raise reports is the one the kernel applied to the
// calling thread, and that other threads keep theirs.
func TestRaiseAppliesToTheCallingThread(t *testing.T) {
	type result struct {
		level  Level
		err    error
		attr   *unix.SchedAttr
		getErr error
	}
	done := make(chan result)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		level, err := Raise(LinkRealtime, LinkNice)
		attr, getErr := unix.SchedGetAttr(0, 0)
		done <- result{level, err, attr, getErr}
	}()
	r := <-done
	if r.getErr != nil {
		t.Fatalf("sched_getattr: %v", r.getErr)
	}
	t.Logf("level %s (%v)", r.level, r.err)
	switch r.level {
	case Realtime:
		if r.err != nil || r.attr.Policy != unix.SCHED_FIFO || r.attr.Priority != LinkRealtime {
			t.Errorf("Realtime reported; thread has policy %d priority %d (err %v)", r.attr.Policy, r.attr.Priority, r.err)
		}
		if r.attr.Flags&unix.SCHED_FLAG_RESET_ON_FORK == 0 {
			t.Error("realtime thread would pass its policy on to the processes it forks")
		}
	case Nice:
		if r.err == nil || r.attr.Policy != 0 || int32(r.attr.Nice) != LinkNice {
			t.Errorf("Nice reported; thread has policy %d nice %d (err %v)", r.attr.Policy, int32(r.attr.Nice), r.err)
		}
	case Normal:
		if r.err == nil {
			t.Error("Normal reported without saying why")
		}
	default:
		t.Fatalf("level %q", r.level)
	}
	mine, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if mine.Policy != 0 || mine.Priority != 0 {
		t.Errorf("the test's own thread changed: policy %d priority %d", mine.Policy, mine.Priority)
	}
}
