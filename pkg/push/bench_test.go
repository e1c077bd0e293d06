package push_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/printer/printertest"
	"github.com/cuttleprint/cuttle/pkg/push"
	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

// corpus is the dense file the print benchmark streams (its moves), looked up
// beside the checkout (../shared/gcode) or at $CUTTLE_CORPUS.
var corpus = []string{os.Getenv("CUTTLE_CORPUS"), "../../../shared/gcode/ps_vase_spiral.gcode",
	"../../../../shared/gcode/ps_vase_spiral.gcode"}

func corpusMoves(b *testing.B) []string {
	var f *os.File
	var err error
	for _, p := range corpus {
		if f, err = os.Open(p); p != "" && err == nil {
			break
		}
	}
	if f == nil || err != nil {
		b.Skipf("no corpus file (set CUTTLE_CORPUS): %v", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if i := strings.IndexByte(l, ';'); i >= 0 {
			l = l[:i]
		}
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "G1 ") || strings.HasPrefix(l, "G0 ") {
			out = append(out, l)
		}
	}
	return out
}

// feed feeds commands to the Machine and closes done when the last is acknowledged.
type feed struct {
	cmds []string
	i    int
	done chan struct{}
}

func (j *feed) Next() (printer.Command, bool) {
	if j.i >= len(j.cmds) {
		return printer.Command{}, false
	}
	c := printer.Command{Text: j.cmds[j.i]}
	if j.i == len(j.cmds)-1 {
		c.Tag = "last"
	}
	j.i++
	return c, true
}

// watcher is a push client that counts what it gets and discards it.
type watcher struct {
	conn       *websocket.Conn
	msgs, size atomic.Int64
	// arrived, when not nil, is signalled for every ZChange event.
	arrived chan struct{}
}

func (e *env) watch(b *testing.B, key string, arrived chan struct{}) *watcher {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(e.url, "http") + "/sockjs/websocket"
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	conn.SetReadLimit(16 << 20)
	w := &watcher{conn: conn, arrived: arrived}
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"auth":"admin:`+e.passiveSession(key)+`"}`)); err != nil {
		b.Fatal(err)
	}
	for { // wait for the history: the client is registered
		_, data, err := conn.Read(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if strings.HasPrefix(string(data), `{"history"`) {
			break
		}
	}
	go func() {
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			w.msgs.Add(1)
			w.size.Add(int64(len(data)))
			if w.arrived != nil && strings.HasPrefix(string(data), `{"event":{"type":"ZChange"`) {
				w.arrived <- struct{}{}
			}
		}
	}()
	b.Cleanup(func() { conn.CloseNow() })
	return w
}

// BenchmarkPrint streams the moves of a dense corpus file through a printer
// Machine while N admin clients watch over websockets, terminal lines
// included: it reports lines/s to the printer, the CPU per line of the server
// process (the clients run in a child process) and what the clients received. Two printers: "scripted" answers at once (the
// host's CPU is the limit, the worst case for push), "virtual" is the
// simulated Marlin at 250000 baud (the link is the limit, as on hardware).
func BenchmarkPrint(b *testing.B) {
	moves := corpusMoves(b)
	for _, fw := range []string{"scripted", "virtual"} {
		for _, n := range []int{0, 200} {
			b.Run(fmt.Sprintf("printer=%s/clients=%d", fw, n), func(b *testing.B) {
				benchPrint(b, fw, n, moves)
			})
		}
	}
}

func benchPrint(b *testing.B, fw string, n int, moves []string) {
	var rig *printertest.Rig
	port := printertest.Port
	if fw == "virtual" {
		moves = moves[:min(len(moves), 500)]
		port = "VIRTUAL"
	}
	e := newEnv(b, func(o *push.Options) {
		cfg := printer.Config{Events: o.Bus, Log: quietLog(), Builtin: map[string]printer.PortOpener{
			"VIRTUAL": func(ctx context.Context, baud int) (io.ReadWriteCloser, error) {
				host, dev := net.Pipe()
				vp := virtualprinter.New(virtualprinter.Config{Baud: 250000, AdvancedOK: true, TimeScale: 1000})
				go vp.Serve(ctx, dev)
				return host, nil
			}}}
		rig = printertest.New(b, cfg, nil)
		o.Source = push.NewMachineSource(rig.Machine, nil)
		o.Log = quietLog()
		o.CurrentInterval = 500 * time.Millisecond // OctoPrint's default rate
	})
	key := e.user("admin", auth.GroupAdmins)
	if err := rig.Machine.Connect(context.Background(), port, 250000); err != nil {
		b.Fatal(err)
	}
	if !rig.Await(func() bool { return rig.Machine.Snapshot().State == printer.StateOperational }) {
		b.Fatalf("%s printer not operational: %s", fw, rig.Machine.Snapshot().StateText)
	}
	var ws *watchers
	if n > 0 {
		ws = e.startWatchers(b, key, n)
	}
	var lines, msgs, size int64
	var elapsed, cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := &feed{cmds: moves, done: make(chan struct{})}
		var once sync.Once
		if ws != nil {
			ws.report(b)
		}
		start, cpu0 := time.Now(), cpuTime()
		if err := rig.Machine.Stream(j, func(c printer.Command) {
			if c.Tag != nil {
				once.Do(func() { close(j.done) })
			}
		}); err != nil {
			b.Fatal(err)
		}
		<-j.done
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
		rig.Machine.StopStream()
		lines += int64(len(moves))
		if ws != nil {
			m, sz := ws.report(b)
			msgs, size = msgs+m, size+sz
		}
	}
	b.StopTimer()
	if st := rig.Machine.Snapshot().Stats; st.Resends > 0 || st.Timeouts > 0 {
		b.Logf("%s printer: %d resends, %d timeouts over %d lines", fw, st.Resends, st.Timeouts, st.Lines)
	}
	b.ReportMetric(float64(lines)/elapsed.Seconds(), "lines/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(lines), "cpu-µs/line")
	if n > 0 {
		b.ReportMetric(float64(msgs)/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(float64(size)/elapsed.Seconds()/1e6, "MB/s")
	}
}

// BenchmarkFanout measures one event fanned out to 200 authenticated clients:
// from Publish until every client has read it. ns/op is the latency per event;
// cpu-ns/msg is the process's CPU per delivered message (server and the
// in-process clients' reads together).
func BenchmarkFanout(b *testing.B) {
	e := newEnv(b, func(o *push.Options) { o.Log = quietLog() })
	key := e.user("admin", auth.GroupAdmins)
	const n = 200
	arrived := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		e.watch(b, key, arrived)
	}
	e.settle(n, arrived)
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		e.bus.Publish(events.ZChange{New: float64(i)})
		for k := 0; k < n; k++ {
			<-arrived
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*n), "cpu-ns/msg")
}

// cpuTime is the CPU time (user+system) this process has used: the server,
// the Machine, the scripted firmware and, with clients, their readers too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// settle waits until n watchers have read everything published so far (the
// ClientOpened/ClientAuthed events of the setup): events arrive in order, so a
// marker event published now arrives last.
func (e *env) settle(n int, arrived chan struct{}) {
	e.bus.Publish(events.ZChange{New: -1})
	for k := 0; k < n; k++ {
		<-arrived
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
