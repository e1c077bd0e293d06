package push_test

import (
	"sync"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/push"
)

// clock is a settable time source for auth.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// touching reports every session lookup push makes.
type touching struct {
	push.Sessions
	touched chan string
}

func (t touching) Session(token string) (auth.Session, bool) {
	s, ok := t.Sessions.Session(token)
	select {
	case t.touched <- token:
	default:
	}
	return s, ok
}

// Ensure that an authenticated socket keeps its session alive past the idle
// limit, while a session without a socket goes stale.
func TestKeepAlive(t *testing.T) {
	clk := &clock{now: time.Now()}
	touched := make(chan string, 1)
	e := newEnvWith(t, auth.Options{Hash: cheapHash, Now: clk.Now, SessionIdle: 15 * time.Minute}, func(o *push.Options) {
		o.Sessions = touching{Sessions: o.Sessions, touched: touched}
		o.KeepAlive = 10 * time.Millisecond
	})
	key := e.user("alice")
	kept, idle := e.passiveSession(key), e.passiveSession(key)
	c := e.dial(nil)
	c.until("connected")
	c.authed("alice", kept)
	// Each step is under the idle limit, their sum over it; a keep-alive
	// touch happens after each step.
	for range 3 {
		clk.advance(10 * time.Minute)
		for tok := <-touched; tok != kept; tok = <-touched {
		}
		for tok := <-touched; tok != kept; tok = <-touched { // one made after the step for sure
		}
	}
	if _, ok := e.auth.Session(kept); !ok {
		t.Error("the socket's session went stale after 30 min with keep-alives every 10 min")
	}
	if _, ok := e.auth.Session(idle); ok {
		t.Error("a session without a socket survived 30 idle minutes")
	}
	c.quiet(50*time.Millisecond, "event", "history", "current") // no reauthRequired
}
