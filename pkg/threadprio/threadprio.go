// Package threadprio raises the scheduling priority of the calling OS thread,
// for the one goroutine whose latency is the printer link's round trip: the
// reader that answers each "ok" with the next line. Under load, a reply that
// waits behind ordinary threads for a CPU stretches every line; a thread that
// sleeps in read(2) almost all the time costs nothing when it runs first.
//
// The caller locks its goroutine to its thread (runtime.LockOSThread) before
// Raise and never unlocks it, so that the thread ends with the goroutine
// instead of going back to the Go runtime's pool with its priority.
package threadprio

import "runtime"

// Level is how the thread is scheduled after Raise.
type Level string

// The levels, from most to least effective.
const (
	// Realtime is SCHED_FIFO: the thread runs before any ordinary thread.
	// The kernel still keeps 5 % of each second for the others.
	Realtime Level = "realtime"
	// Nice is the ordinary scheduler at a lower nice value.
	Nice Level = "nice"
	// Normal means Raise changed nothing.
	Normal Level = "normal"
)

// The priorities cuttle asks for its printer link's reader: a low realtime
// priority (the kernel's threaded interrupt handlers run at 50, above it)
// and, without realtime rights, a nice value well ahead of ordinary work.
const (
	LinkRealtime = 10
	LinkNice     = -10
)

// GoMaxProcs is the number of Ps cuttle serve runs with: one more than the
// CPUs. The kernel wakes the raised reader thread first when a reply
// arrives, but the goroutine then needs a P, and while HTTP goroutines hold
// every P it queues behind them (the Go scheduler has no priorities). A spare
// P is most often idle at that moment. Measured with
// BenchmarkLinkUnderAPILoad on 2 CPUs: plain ok kept 89–93 % of its unloaded
// rate with 2 Ps and 94–97 % with 3.
func GoMaxProcs() int { return runtime.NumCPU() + 1 }
