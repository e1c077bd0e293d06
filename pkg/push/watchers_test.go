package push_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/cuttleprint/cuttle/pkg/events"
)

// The print benchmark's clients run in a child process (this test binary with
// PUSH_BENCH_WATCHERS set), as real clients run on other machines: their reads
// do not compete with the server and the printer inside one Go runtime.
const watchersEnv = "PUSH_BENCH_WATCHERS"

func TestMain(m *testing.M) {
	if spec := os.Getenv(watchersEnv); spec != "" {
		if err := runWatchers(spec, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "watchers:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runWatchers connects n clients (spec "url key n"), authenticates each with a
// passive login, prints "ready" once all have their history and "settled" once
// all have seen the marker event (ZChange new -1); then, for every "report" line
// on in, prints the messages and bytes received since the previous report.
func runWatchers(spec string, in io.Reader, out io.Writer) error {
	var url, key string
	var n int
	if _, err := fmt.Sscan(spec, &url, &key, &n); err != nil {
		return fmt.Errorf("spec %q: %w", spec, err)
	}
	var msgs, size, marked atomic.Int64
	settled := make(chan struct{})
	var once sync.Once
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := 0; i < n; i++ {
		req, _ := http.NewRequest("POST", url+"/api/login", strings.NewReader(`{"passive":true}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		var rec struct{ Name, Session string }
		err = json.NewDecoder(resp.Body).Decode(&rec)
		resp.Body.Close()
		if err != nil {
			return err
		}
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/sockjs/websocket", nil)
		if err != nil {
			return err
		}
		conn.SetReadLimit(16 << 20)
		if err := conn.Write(ctx, websocket.MessageText, []byte(`{"auth":"`+rec.Name+":"+rec.Session+`"}`)); err != nil {
			return err
		}
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				return err
			}
			if bytes.HasPrefix(data, []byte(`{"history"`)) {
				break
			}
		}
		go func() {
			for {
				_, data, err := conn.Read(ctx)
				if err != nil {
					return
				}
				msgs.Add(1)
				size.Add(int64(len(data)))
				if bytes.HasPrefix(data, []byte(`{"event":{"type":"ZChange","payload":{"new":-1,`)) && marked.Add(1) == int64(n) {
					once.Do(func() { close(settled) })
				}
			}
		}()
	}
	fmt.Fprintln(out, "ready")
	<-settled
	fmt.Fprintln(out, "settled")
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if sc.Text() == "report" {
			fmt.Fprintln(out, msgs.Swap(0), size.Swap(0))
		}
	}
	return nil
}

// watchers is the benchmark's handle on the child process.
type watchers struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// startWatchers runs n clients of e as user admin (key) in a child process and
// returns once they have read everything published so far.
func (e *env) startWatchers(b *testing.B, key string, n int) *watchers {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %d", watchersEnv, e.url, key, n))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
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
	w := &watchers{cmd: cmd, in: in, out: bufio.NewScanner(stdout)}
	b.Cleanup(func() { in.Close(); cmd.Wait() })
	w.expect(b, "ready")
	e.bus.Publish(events.ZChange{New: -1})
	w.expect(b, "settled")
	return w
}

func (w *watchers) expect(b *testing.B, line string) {
	done := make(chan bool, 1)
	go func() { done <- w.out.Scan() && w.out.Text() == line }()
	select {
	case ok := <-done:
		if !ok {
			b.Fatalf("watchers: want %q, got %q (%v)", line, w.out.Text(), w.out.Err())
		}
	case <-time.After(60 * time.Second):
		b.Fatalf("watchers: no %q within 60 s", line)
	}
}

// report returns the messages and bytes received since the previous report.
func (w *watchers) report(b *testing.B) (msgs, size int64) {
	fmt.Fprintln(w.in, "report")
	if !w.out.Scan() {
		b.Fatalf("watchers: no report: %v", w.out.Err())
	}
	if _, err := fmt.Sscan(w.out.Text(), &msgs, &size); err != nil {
		b.Fatalf("watchers: report %q: %v", w.out.Text(), err)
	}
	return msgs, size
}
