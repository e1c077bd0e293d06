package printer_test

// Link benchmarks: a Machine streams a dense slicer file (after its start
// G-code) to the virtual
// printer behind a real pty, at an emulated baud rate with 1 ms of firmware
// latency per command. Run them with
//
//	go test -run '^$' -bench Link -benchtime 3000x ./pkg/printer/
//
// Each reports acknowledged lines/s, the link's use (bytes sent over the
// link's byte capacity) and, with plain ok, the share of the ping-pong bound
// 1 / (line bytes/rate + ok bytes/rate + latency) reached.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/api"
	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/store"
	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

const benchLatency = time.Millisecond

func BenchmarkLink(b *testing.B) {
	for _, advanced := range []bool{false, true} {
		for _, baud := range []int{115200, 250000} {
			name := fmt.Sprintf("ok=%s/baud=%d", map[bool]string{false: "plain", true: "advanced"}[advanced], baud)
			b.Run(name, func(b *testing.B) { benchLink(b, baud, advanced, 0) })
		}
	}
}

// BenchmarkLinkUnderAPILoad is BenchmarkLink with 16 clients hammering
// GET /api/printer over loopback HTTP while the file streams.
func BenchmarkLinkUnderAPILoad(b *testing.B) {
	for _, advanced := range []bool{false, true} {
		name := fmt.Sprintf("ok=%s/baud=250000", map[bool]string{false: "plain", true: "advanced"}[advanced])
		b.Run(name, func(b *testing.B) { benchLink(b, 250000, advanced, 16) })
	}
}

func benchLink(b *testing.B, baud int, advanced bool, clients int) {
	// Skip the start G-code (heating waits, homing): the body is what streams.
	lines := corpus(b, b.N+100)[100:]
	r := newPtyRig(b, virtualprinter.Config{Baud: baud, Latency: benchLatency, AdvancedOK: advanced, TimeScale: 1000, PreciseTiming: true},
		printer.Config{PollInterval: 60 * time.Second, TerminalSize: 300})
	r.connect(b)
	r.await(b, "auto-report on", func() bool { return len(r.vp.Executed()) >= 4 })
	stop := make(chan struct{})
	var requests atomic.Int64
	var wg sync.WaitGroup
	if clients > 0 {
		url, key := apiServer(b, r.m)
		for i := 0; i < clients; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				hammer(url+"/api/printer", key, stop, &requests)
			}()
		}
	}
	before := r.m.Snapshot().Stats
	b.ResetTimer()
	d := stream(b, r, lines)
	b.StopTimer()
	close(stop)
	wg.Wait()
	after := r.m.Snapshot().Stats
	sent := float64(after.BytesOut - before.BytesOut)
	rate := float64(baud) / 10
	var lineBytes float64
	for i, l := range lines {
		lineBytes += float64(len(fmt.Sprintf("N%d %s*000\n", i+20, l)))
	}
	lineBytes /= float64(len(lines))
	okBytes := 3.0
	if advanced {
		okBytes = float64(len("ok N12345 P15 B3\n"))
	}
	bound := 1 / (lineBytes/rate + okBytes/rate + benchLatency.Seconds())
	lps := float64(len(lines)) / d.Seconds()
	b.ReportMetric(lps, "lines/s")
	b.ReportMetric(100*sent/(d.Seconds()*rate), "%link")
	b.ReportMetric(100*lps/bound, "%pingpong")
	if clients > 0 {
		b.ReportMetric(float64(requests.Load())/d.Seconds(), "req/s")
	}
	if st := after; st.Resends != before.Resends {
		b.Logf("resends during the run: %d", st.Resends-before.Resends)
	}
}

// apiServer serves the API over m with an admin API key.
func apiServer(b *testing.B, m *printer.Machine) (string, string) {
	ctx := context.Background()
	db, err := store.Open(ctx, b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	svc := auth.NewService(db, auth.Options{Hash: auth.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}})
	if _, err := svc.AddUser(ctx, auth.NewUser{Name: "admin", Password: "pw-admin", Groups: []string{auth.GroupAdmins}, Active: true}); err != nil {
		b.Fatal(err)
	}
	key, err := svc.GenerateKey(ctx, "admin")
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Deps{Auth: svc, Printer: m}))
	b.Cleanup(srv.Close)
	return srv.URL, key
}

func hammer(url, key string, stop <-chan struct{}, n *atomic.Int64) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	for {
		select {
		case <-stop:
			return
		default:
		}
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("X-Api-Key", key)
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		n.Add(1)
	}
}
