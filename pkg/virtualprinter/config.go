package virtualprinter

import (
	"time"
)

// Defaults of the simulated Marlin build (an ATmega2560 board with Marlin's default buffers).
const (
	// DefaultBufSize is Marlin's BUFSIZE: how many commands the firmware's command buffer holds.
	DefaultBufSize = 4
	// DefaultPlannerSize is Marlin's BLOCK_BUFFER_SIZE: the planner ring; one slot always stays
	// empty, so an idle planner reports P15 with the default of 16.
	DefaultPlannerSize = 16
	// DefaultRxBuffer is Marlin's RX_BUFFER_SIZE in bytes. As in Marlin's ring buffer, one byte
	// stays unused, so 127 bytes fit before input is lost.
	DefaultRxBuffer = 128
	// DefaultAmbient is the room temperature the heaters start at and cool down to, in °C.
	DefaultAmbient = 25.0
	// DefaultExecutedLimit is how many executed commands the log keeps by default.
	DefaultExecutedLimit = 1 << 16
	// maxCmdSize is Marlin's MAX_CMD_SIZE: longer lines are cut to MAX_CMD_SIZE-1 characters.
	maxCmdSize = 96
)

// Config describes the simulated firmware and the link it sits behind. The zero value is a
// plain-ok Marlin with default buffers on an unthrottled link.
type Config struct {
	// Baud caps the link's byte rate in both directions at Baud/10 bytes per second, as a UART
	// with 8N1 framing does. 0 means unlimited.
	Baud int
	// Latency is the processing time the firmware spends on each command before executing it
	// (real time, not scaled by TimeScale).
	Latency time.Duration
	// PreciseTiming makes link waits (Baud, Latency) sleep their last stretch in the
	// kernel (nanosleep, exact to tens of microseconds) instead of trusting the runtime's
	// timers, which wake up to a millisecond late. It costs a blocked thread per wait;
	// use it for benchmarks that measure the link.
	PreciseTiming bool
	// BufSize is the command buffer length (Marlin's BUFSIZE); 0 means DefaultBufSize.
	BufSize int
	// PlannerSize is the planner ring length (Marlin's BLOCK_BUFFER_SIZE); 0 means
	// DefaultPlannerSize.
	PlannerSize int
	// RxBuffer is the serial receive ring in bytes (Marlin's RX_BUFFER_SIZE); 0 means
	// DefaultRxBuffer. Bytes arriving while it is full are lost, which the checksum then
	// catches and answers with a Resend.
	RxBuffer int
	// AdvancedOK makes every ok carry the line number and free planner/buffer slots:
	// "ok N123 P15 B3".
	AdvancedOK bool
	// TimeScale speeds up simulated durations (moves, heating, dwell, busy and auto-report
	// intervals): 10 makes them ten times shorter. 0 means 1. Link timing (Baud, Latency)
	// is never scaled.
	TimeScale float64
	// Ambient is the room temperature in °C; 0 means DefaultAmbient.
	Ambient float64
	// BootDelay is how long the firmware takes from reset to printing "start".
	BootDelay time.Duration
	// SDDir, when set, is the virtual SD card: its regular files are listed and printed
	// (read when listed or opened), M28/M29 uploads are written there and M30 deletes
	// there. When empty the card lives in memory.
	SDDir string
	// Faults are the fault rates in effect from the start; they can be changed at runtime.
	Faults Faults
	// Seed seeds the fault injection's random source; 0 picks 1, so runs are repeatable.
	Seed int64
	// ExecutedLimit bounds the log of executed commands to the most recent ones, so a
	// printer serving for days does not grow; 0 means DefaultExecutedLimit, < 0 no limit.
	ExecutedLimit int
}

// Faults are the probabilistic faults the printer injects.
type Faults struct {
	// CorruptRate is the probability that a received byte has one bit flipped. At most
	// one byte per line is corrupted, so every corruption is detectable by the checksum
	// (two flips of the same bit in one line would cancel in Marlin's XOR checksum).
	CorruptRate float64
	// DropOKRate is the probability that the ok of an executed command is not sent.
	DropOKRate float64
}

func (c Config) withDefaults() Config {
	if c.BufSize <= 0 {
		c.BufSize = DefaultBufSize
	}
	if c.PlannerSize <= 1 {
		c.PlannerSize = DefaultPlannerSize
	}
	if c.RxBuffer <= 1 {
		c.RxBuffer = DefaultRxBuffer
	}
	if c.TimeScale <= 0 {
		c.TimeScale = 1
	}
	if c.Ambient == 0 {
		c.Ambient = DefaultAmbient
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.ExecutedLimit == 0 {
		c.ExecutedLimit = DefaultExecutedLimit
	}
	return c
}

// byteRate is the link's bytes per second, 0 for unlimited.
func (c Config) byteRate() float64 {
	if c.Baud <= 0 {
		return 0
	}
	return float64(c.Baud) / 10
}
