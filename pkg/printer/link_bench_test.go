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
// 1 / (line bytes/rate + ok bytes/rate + latency) reached, where line bytes
// are the bytes the host actually wrote per line (framing included).
//
// BenchmarkLinkUnderAPILoad streams the same lines twice, back to back: once
// unloaded, then while a second process (this test binary, re-executed as
// TestAPIHammerProcess) keeps 16 connections busy with GET /api/printer
// against the API served from this process. It reports the loaded lines/s
// and their share of the unloaded run's.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
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

// BenchmarkLinkUnderAPILoad is BenchmarkLink, unloaded and then with a
// second process hammering GET /api/printer over 16 loopback connections.
func BenchmarkLinkUnderAPILoad(b *testing.B) {
	for _, advanced := range []bool{false, true} {
		name := fmt.Sprintf("ok=%s/baud=250000", map[bool]string{false: "plain", true: "advanced"}[advanced])
		b.Run(name, func(b *testing.B) { benchLink(b, 250000, advanced, 16) })
	}
}

// linkRun is one stream's figures: lines/s, link use and share of the
// ping-pong bound (percent), and how long it took.
type linkRun struct {
	lps, link, pingpong float64
	dur                 time.Duration
}

func benchLink(b *testing.B, baud int, advanced bool, clients int) {
	// Skip the start G-code (heating waits, homing): the body is what streams.
	lines := corpus(b, b.N+100)[100:]
	vcfg := virtualprinter.Config{Baud: baud, Latency: benchLatency, AdvancedOK: advanced, TimeScale: 1000, PreciseTiming: true}
	mcfg := printer.Config{PollInterval: 60 * time.Second, TerminalSize: 300}
	r := newPtyRig(b, vcfg, mcfg)
	r.connect(b)
	r.await(b, "auto-report on", func() bool { return len(r.vp.Executed()) >= 4 })
	b.ResetTimer()
	if clients == 0 {
		run := measureStream(b, r, lines, baud, advanced)
		b.ReportMetric(run.lps, "lines/s")
		b.ReportMetric(run.link, "%link")
		b.ReportMetric(run.pingpong, "%pingpong")
		return
	}
	unloaded := measureStream(b, r, lines, baud, advanced)
	url, key := apiServer(b, r.m)
	h := startHammer(b, url+"/api/printer", key, clients)
	loaded := measureStream(b, r, lines, baud, advanced)
	requests := h.stop(b)
	b.StopTimer()
	b.ReportMetric(loaded.lps, "lines/s")
	b.ReportMetric(loaded.link, "%link")
	b.ReportMetric(loaded.pingpong, "%pingpong")
	b.ReportMetric(unloaded.lps, "unloaded-lines/s")
	b.ReportMetric(100*loaded.lps/unloaded.lps, "%unloaded")
	b.ReportMetric(float64(requests)/loaded.dur.Seconds(), "req/s")
}

// measureStream streams lines and computes the figures of the run.
func measureStream(b *testing.B, r *ptyRig, lines []string, baud int, advanced bool) linkRun {
	before := r.m.Snapshot().Stats
	d := stream(b, r, lines)
	after := r.m.Snapshot().Stats
	sent := float64(after.BytesOut - before.BytesOut)
	rate := float64(baud) / 10
	// The bytes the host wrote per line, as framed ("N<n> <cmd>*<sum>\n").
	lineBytes := sent / float64(len(lines))
	okBytes := 3.0
	if advanced {
		okBytes = float64(len("ok N12345 P15 B3\n"))
	}
	bound := 1 / (lineBytes/rate + okBytes/rate + benchLatency.Seconds())
	lps := float64(len(lines)) / d.Seconds()
	if after.Resends != before.Resends {
		b.Logf("resends during the run: %d", after.Resends-before.Resends)
	}
	return linkRun{lps: lps, link: 100 * sent / (d.Seconds() * rate), pingpong: 100 * lps / bound, dur: d}
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

// hammerEnv names the environment variables that turn this test binary into
// the load generator (TestAPIHammerProcess).
const (
	hammerURL     = "CUTTLE_BENCH_HAMMER_URL"
	hammerKey     = "CUTTLE_BENCH_HAMMER_KEY"
	hammerClients = "CUTTLE_BENCH_HAMMER_CLIENTS"
)

// hammerProc is the load generator running in a second process.
type hammerProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
}

// startHammer re-executes this test binary as TestAPIHammerProcess with
// clients connections on url and waits until every one has been answered.
func startHammer(b *testing.B, url, key string, clients int) *hammerProc {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestAPIHammerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), hammerURL+"="+url, hammerKey+"="+key, hammerClients+"="+strconv.Itoa(clients))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	h := &hammerProc{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	b.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	for h.out.Scan() {
		if h.out.Text() == "ready" {
			return h
		}
	}
	b.Fatalf("load generator ended before it was ready: %v", h.out.Err())
	return nil
}

// stop ends the load and returns the number of requests answered.
func (h *hammerProc) stop(b *testing.B) int64 {
	b.Helper()
	h.stdin.Close()
	var n int64
	for h.out.Scan() {
		if v, ok := strings.CutPrefix(h.out.Text(), "requests "); ok {
			n, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if err := h.cmd.Wait(); err != nil {
		b.Fatalf("load generator: %v", err)
	}
	return n
}

// TestAPIHammerProcess is the load generator of BenchmarkLinkUnderAPILoad,
// run in a process of its own; in a normal test run it does nothing. It keeps
// CUTTLE_BENCH_HAMMER_CLIENTS connections busy with GET requests, prints
// "ready" once each has been answered, and stops when its stdin closes,
// printing "requests N".
func TestAPIHammerProcess(t *testing.T) {
	url := os.Getenv(hammerURL)
	if url == "" {
		t.Skip("the load generator of BenchmarkLinkUnderAPILoad")
	}
	key := os.Getenv(hammerKey)
	clients, err := strconv.Atoi(os.Getenv(hammerClients))
	if err != nil || clients < 1 {
		t.Fatalf("%s=%q: want a positive count", hammerClients, os.Getenv(hammerClients))
	}
	stop := make(chan struct{})
	var requests atomic.Int64
	var ready, wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			hammer(url, key, stop, &requests, ready.Done)
		}()
	}
	ready.Wait()
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	close(stop)
	wg.Wait()
	fmt.Printf("requests %d\n", requests.Load())
}

// hammer sends GET url on one connection until stop closes, counting the
// answers; first is called after the first one.
func hammer(url, key string, stop <-chan struct{}, n *atomic.Int64, first func()) {
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
			time.Sleep(time.Millisecond)
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n.Add(1) > 0 && first != nil {
			first()
			first = nil
		}
	}
}
