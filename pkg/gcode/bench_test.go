package gcode_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/gcode"
)

// largestCorpusFile returns the contents of the biggest corpus file.
func largestCorpusFile(b *testing.B) (string, []byte) {
	var best string
	var size int64
	for _, p := range corpusFiles(b) {
		if st, err := os.Stat(p); err == nil && st.Size() > size {
			best, size = p, st.Size()
		}
	}
	data, err := os.ReadFile(best)
	if err != nil {
		b.Fatal(err)
	}
	return filepath.Base(best), data
}

// BenchmarkAnalyse measures analysis throughput on the largest corpus file
// (MB/s from SetBytes; lines/s and CPU milliseconds per analysis as custom
// metrics).
func BenchmarkAnalyse(b *testing.B) {
	name, data := largestCorpusFile(b)
	lines := bytes.Count(data, []byte{'\n'})
	b.Logf("%s: %d bytes, %d lines", name, len(data), lines)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		if _, err := gcode.Analyse(context.Background(), bytes.NewReader(data), int64(len(data)), gcode.Options{}, nil); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	// CPU time per analysis: unlike ns/op it does not grow when other
	// processes compete for the cores.
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}

// BenchmarkReader measures the bare line reader on the same file.
func BenchmarkReader(b *testing.B) {
	_, data := largestCorpusFile(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for range b.N {
		r := gcode.NewReader(bytes.NewReader(data))
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}
