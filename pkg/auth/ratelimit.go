package auth

import (
	"sync"
	"time"
)

// Limiter counts failed logins per client and refuses a client that failed
// too often within a window. It is safe for concurrent use.
type Limiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex // guards fails
	fails map[string][]time.Time
}

// NewLimiter allows max failures per client within window. now may be nil.
func NewLimiter(max int, window time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{max: max, window: window, now: now, fails: map[string][]time.Time{}}
}

// Allowed reports whether client may try again now.
func (l *Limiter) Allowed(client string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(client)) < l.max
}

// Fail records a failed attempt by client.
func (l *Limiter) Fail(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fails[client] = append(l.recent(client), l.now())
	if len(l.fails) > 10000 { // bound memory under a spray of addresses
		for k := range l.fails {
			if len(l.recent(k)) == 0 {
				delete(l.fails, k)
			}
		}
	}
}

// recent drops failures older than the window; l.mu must be held.
func (l *Limiter) recent(client string) []time.Time {
	cut := l.now().Add(-l.window)
	ts := l.fails[client]
	i := 0
	for i < len(ts) && ts[i].Before(cut) {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, client)
		return nil
	}
	l.fails[client] = ts
	return ts
}
