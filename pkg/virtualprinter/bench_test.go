package virtualprinter_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

// benchLines loads a dense slicer file from the shared corpus, comments stripped.
func benchLines(b *testing.B) []string {
	b.Helper()
	data, err := os.ReadFile("../../../shared/gcode/ps_cube20.gcode")
	if err != nil {
		data, err = os.ReadFile("/work/shared/gcode/ps_cube20.gcode")
	}
	if err != nil {
		b.Skipf("G-code corpus not found: %v", err)
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if i := strings.IndexByte(l, ';'); i >= 0 {
			l = l[:i]
		}
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "M109") && !strings.HasPrefix(l, "M190") {
			out = append(out, l)
		}
	}
	return out
}

// BenchmarkLink streams a dense file through the emulated link with a minimal host and
// reports acknowledged lines/s and the link utilisation: for plain ok against the
// ping-pong bound 1/(line bytes/rate + ok bytes/rate + latency), for ADVANCED_OK against
// the link's byte capacity. It measures how faithfully the simulator models the link,
// not a host.
func BenchmarkLink(b *testing.B) {
	lines := benchLines(b)
	for _, baud := range []int{115200, 250000} {
		for _, adv := range []bool{false, true} {
			name := fmt.Sprintf("baud=%d/advanced_ok=%v", baud, adv)
			b.Run(name, func(b *testing.B) { benchLink(b, lines, baud, adv) })
		}
	}
}

func benchLink(b *testing.B, lines []string, baud int, adv bool) {
	cfg := virtualprinter.Config{Baud: baud, Latency: time.Millisecond, AdvancedOK: adv, TimeScale: 1e6, PreciseTiming: os.Getenv("VP_PRECISE") != ""}
	p := virtualprinter.New(cfg)
	a, fw := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, fw) }()
	defer func() { cancel(); a.Close(); <-done }()
	r := bufio.NewReader(a)
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			b.Fatal(err)
		}
		if l == "echo:SD card ok\n" {
			break
		}
	}
	oks := make(chan struct{}, 64)
	go func() {
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				close(oks)
				return
			}
			if strings.HasPrefix(l, "ok") {
				oks <- struct{}{}
			} else if strings.HasPrefix(l, "Resend") || strings.HasPrefix(l, "Error") {
				panic("unexpected " + l)
			}
		}
	}()
	rate := float64(baud) / 10
	var sentBytes int
	var inflight []int // bytes of unacknowledged lines
	window := 1
	if adv {
		window = cfg.RxBuffer - 1
		if window == -1 {
			window = virtualprinter.DefaultRxBuffer - 1
		}
	}
	inflightBytes := 0
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		line := numbered(i+1, lines[i%len(lines)]) + "\n"
		for len(inflight) > 0 && (inflightBytes+len(line) > window || !adv) {
			<-oks
			inflightBytes -= inflight[0]
			inflight = inflight[1:]
		}
		if _, err := a.Write([]byte(line)); err != nil {
			b.Fatal(err)
		}
		sentBytes += len(line)
		inflight = append(inflight, len(line))
		inflightBytes += len(line)
	}
	for range inflight {
		<-oks
	}
	elapsed := time.Since(start).Seconds()
	b.StopTimer()
	linesPerS := float64(b.N) / elapsed
	b.ReportMetric(linesPerS, "lines/s")
	if adv {
		b.ReportMetric(100*float64(sentBytes)/(elapsed*rate), "%link")
	} else {
		avg := float64(sentBytes) / float64(b.N)
		bound := 1 / (avg/rate + 3/rate + 0.001)
		b.ReportMetric(100*linesPerS/bound, "%pingpong")
	}
}
