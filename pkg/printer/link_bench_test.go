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
// and their share of the unloaded run's. The virtual printer runs in a third
// process (TestVirtualPrinterProcess), as firmware runs on a board of its own:
// in this one it would wait for the same scheduler as the HTTP handlers, and
// the benchmark would measure the emulator's stalls rather than the host's.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/api"
	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/protocol"
	"github.com/cuttleprint/cuttle/pkg/store"
	"github.com/cuttleprint/cuttle/pkg/threadprio"
	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
	"golang.org/x/sys/unix"
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
	// As cuttle serve runs: a spare P for the link's reader.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threadprio.GoMaxProcs()))
	vcfg := benchPrinter(baud, advanced)
	// The reader thread as cuttle serve runs it (realtime when allowed).
	mcfg := printer.Config{PollInterval: 60 * time.Second, TerminalSize: 300,
		Protocol: protocol.Options{ReaderThread: func() {
			if level, err := threadprio.Raise(threadprio.LinkRealtime, threadprio.LinkNice); err != nil {
				b.Logf("link reader thread at %s priority: %v", level, err)
			}
		}}}
	var r *ptyRig
	if clients == 0 {
		r = newPtyRig(b, vcfg, mcfg)
		r.connect(b)
		r.await(b, "auto-report on", func() bool { return len(r.vp.Executed()) >= 4 })
	} else {
		r = newProcessRig(b, baud, advanced, mcfg)
		r.connect(b)
		r.await(b, "auto-report on", func() bool { return r.m.Snapshot().Stats.Lines >= 3 })
		time.Sleep(100 * time.Millisecond) // its ok
	}
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
	requests := requestsAnswered(h.stop(b))
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

// Environment variables that turn this test binary into a helper process:
// the load generator (TestAPIHammerProcess) or the virtual printer
// (TestVirtualPrinterProcess).
const (
	hammerURL     = "CUTTLE_BENCH_HAMMER_URL"
	hammerKey     = "CUTTLE_BENCH_HAMMER_KEY"
	hammerClients = "CUTTLE_BENCH_HAMMER_CLIENTS"
	printerBaud   = "CUTTLE_BENCH_PRINTER_BAUD"
	printerAdv    = "CUTTLE_BENCH_PRINTER_ADVANCED"
)

// benchPrinter is the virtual printer of the link benchmarks.
func benchPrinter(baud int, advanced bool) virtualprinter.Config {
	return virtualprinter.Config{Baud: baud, Latency: benchLatency, AdvancedOK: advanced, TimeScale: 1000, PreciseTiming: true}
}

// childProc is this test binary re-executed as one helper test. It runs
// until its stdin closes and talks over its stdout.
type childProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
}

// startChild runs the test named test in a child process with env added and
// returns once it printed a line starting with ready, with the rest of it.
func startChild(b *testing.B, test string, env []string, ready string) (*childProc, string) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
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
	c := &childProc{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	b.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	for c.out.Scan() {
		if rest, ok := strings.CutPrefix(c.out.Text(), ready); ok {
			return c, rest
		}
	}
	b.Fatalf("%s ended before it was ready: %v", test, c.out.Err())
	return nil, ""
}

// stop closes the child's stdin and returns the lines it printed after ready.
func (c *childProc) stop(b *testing.B) []string {
	b.Helper()
	c.stdin.Close()
	var lines []string
	for c.out.Scan() {
		lines = append(lines, c.out.Text())
	}
	if err := c.cmd.Wait(); err != nil {
		b.Fatalf("%s: %v", c.cmd.Args[1], err)
	}
	return lines
}

// newProcessRig serves the benchmark's virtual printer from a child process on
// a pty and builds a Machine that lists its path.
func newProcessRig(b *testing.B, baud int, advanced bool, mcfg printer.Config) *ptyRig {
	b.Helper()
	_, path := startChild(b, "TestVirtualPrinterProcess", []string{
		printerBaud + "=" + strconv.Itoa(baud), printerAdv + "=" + strconv.FormatBool(advanced)}, "pty ")
	mcfg.Lister.Globs = []string{}
	mcfg.Lister.Explicit = []string{path}
	m := printer.New(mcfg)
	b.Cleanup(func() { m.Close() })
	return &ptyRig{m: m, path: path}
}

// TestVirtualPrinterProcess is the virtual printer of
// BenchmarkLinkUnderAPILoad, run in a process of its own; in a normal test run
// it does nothing. It prints "pty PATH" and serves until its stdin closes.
func TestVirtualPrinterProcess(t *testing.T) {
	baud, err := strconv.Atoi(os.Getenv(printerBaud))
	if err != nil {
		t.Skip("the virtual printer of BenchmarkLinkUnderAPILoad")
	}
	advanced, _ := strconv.ParseBool(os.Getenv(printerAdv))
	if err := realtimeProcess(); err != nil {
		// Still a valid run, but the emulated firmware then waits for the
		// CPU like the host's threads, which real firmware never does.
		fmt.Fprintf(os.Stderr, "virtual printer at normal priority (figures under load are pessimistic): %v\n", err)
	}
	pt, err := virtualprinter.OpenPTY(context.Background(), virtualprinter.New(benchPrinter(baud, advanced)), "")
	if err != nil {
		t.Fatal(err)
	}
	defer pt.Close()
	fmt.Println("pty " + pt.Path())
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// realtimeProcess puts every thread of this process under SCHED_FIFO, so
// that the virtual printer runs as if on a board of its own: threads the Go
// runtime starts later inherit the policy from the thread that starts them.
func realtimeProcess() error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: 20}
		if err := unix.SchedSetAttr(tid, &attr, 0); err != nil {
			return fmt.Errorf("thread %d: %w", tid, err)
		}
	}
	return nil
}

// startHammer starts the load generator with clients connections on url and
// returns once every one has been answered.
func startHammer(b *testing.B, url, key string, clients int) *childProc {
	b.Helper()
	c, _ := startChild(b, "TestAPIHammerProcess", []string{
		hammerURL + "=" + url, hammerKey + "=" + key, hammerClients + "=" + strconv.Itoa(clients)}, "ready")
	return c
}

// requestsAnswered reads the load generator's final count.
func requestsAnswered(lines []string) int64 {
	var n int64
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l, "requests "); ok {
			n, _ = strconv.ParseInt(v, 10, 64)
		}
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
