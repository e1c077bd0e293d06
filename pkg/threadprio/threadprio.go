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
// priority (kernel threads that service devices run at 50) and, without
// realtime rights, the nice value of an interactive desktop's audio threads.
const (
	LinkRealtime = 10
	LinkNice     = -10
)
