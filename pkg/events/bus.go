package events

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// DefaultLimit is the number of non-coalescing events a subscription queues when
// [Options.Limit] is zero.
const DefaultLimit = 256

// Errors a [Subscription] ends with, reported by [Subscription.Err] and
// [Subscription.Next].
var (
	// ErrOverflow is returned when a subscription with the [Drop] policy fell
	// more than its limit behind and was ended by the bus.
	ErrOverflow = errors.New("events: subscriber fell behind and was dropped")
	// ErrClosed is returned after the subscription or its bus was closed.
	ErrClosed = errors.New("events: subscription closed")
)

// Overflow is what a [Subscription] does when its queue is full.
type Overflow int

const (
	// ReportLoss discards further events while the queue is full, counts them,
	// and delivers a [Lost] value after the events that were kept.
	ReportLoss Overflow = iota
	// Drop ends the subscription with [ErrOverflow].
	Drop
)

// String names the policy.
func (o Overflow) String() string {
	switch o {
	case ReportLoss:
		return "report-loss"
	case Drop:
		return "drop"
	}
	return "overflow(invalid)"
}

// Options configure a [Subscription]. The zero value queues [DefaultLimit] events
// of every kind with the [ReportLoss] policy.
type Options struct {
	// Limit is the maximum number of undelivered non-coalescing events; zero
	// means DefaultLimit.
	Limit int
	// Overflow is the policy once Limit events are waiting.
	Overflow Overflow
	// Match, when set, selects the events this subscriber wants; it runs in the
	// publisher's goroutine, so it must be fast and must not block. Values that
	// do not match are never queued and never count as lost.
	Match func(Event) bool
	// IgnoreCoalescing keeps every Coalescer value (state news) away from this
	// subscriber. Unlike a Match that rejects them, publishing one then costs
	// nothing per such subscriber: the bus does not visit it at all, which
	// matters when state news comes with every printed line.
	IgnoreCoalescing bool
}

// Bus delivers published events to subscribers. The zero value is not usable;
// create one with [NewBus]. A Bus is safe for concurrent use.
type Bus struct {
	mu     sync.Mutex                      // guards closed and writes of subs and state
	subs   atomic.Pointer[[]*Subscription] // copy-on-write list of all, read by Publish without mu
	state  atomic.Pointer[[]*Subscription] // the same for those that take Coalescer values
	closed bool
}

// NewBus returns an empty bus.
func NewBus() *Bus {
	b := &Bus{}
	b.subs.Store(&[]*Subscription{})
	b.state.Store(&[]*Subscription{})
	return b
}

// Publish hands e to every current subscriber. It never blocks on a subscriber and
// may be called from any goroutine. A nil event is ignored.
func (b *Bus) Publish(e Event) {
	if e == nil {
		return
	}
	key := ""
	subs := b.subs.Load()
	if c, ok := e.(Coalescer); ok {
		key = c.CoalesceKey()
		subs = b.state.Load()
	}
	for _, s := range *subs {
		if s.opts.Match != nil && !s.opts.Match(e) {
			continue
		}
		s.offer(e, key)
	}
}

// Subscribe adds a subscriber configured by o. It sees only events published after
// Subscribe returns. On a closed bus the subscription is returned already ended
// with [ErrClosed].
func (b *Bus) Subscribe(o Options) *Subscription {
	if o.Limit <= 0 {
		o.Limit = DefaultLimit
	}
	s := &Subscription{bus: b, opts: o, ready: make(chan struct{}, 1), done: make(chan struct{})}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		s.end(ErrClosed)
		return s
	}
	b.subs.Store(appended(b.subs.Load(), s))
	if !o.IgnoreCoalescing {
		b.state.Store(appended(b.state.Load(), s))
	}
	return s
}

// appended returns a new list: *list plus s.
func appended(list *[]*Subscription, s *Subscription) *[]*Subscription {
	next := make([]*Subscription, len(*list), len(*list)+1)
	copy(next, *list)
	next = append(next, s)
	return &next
}

// without returns a new list: *list minus s.
func without(list *[]*Subscription, s *Subscription) *[]*Subscription {
	next := make([]*Subscription, 0, len(*list))
	for _, x := range *list {
		if x != s {
			next = append(next, x)
		}
	}
	return &next
}

// Len reports the number of live subscriptions.
func (b *Bus) Len() int { return len(*b.subs.Load()) }

// Close ends every subscription with [ErrClosed]; later subscriptions start ended
// and Publish becomes a no-op.
func (b *Bus) Close() {
	b.mu.Lock()
	old := *b.subs.Load()
	b.closed = true
	b.subs.Store(&[]*Subscription{})
	b.state.Store(&[]*Subscription{})
	b.mu.Unlock()
	for _, s := range old {
		s.end(ErrClosed)
	}
}

func (b *Bus) remove(s *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs.Store(without(b.subs.Load(), s))
	b.state.Store(without(b.state.Load(), s))
}

// Subscription is one subscriber's bounded queue. It is safe for concurrent use,
// though usually one goroutine consumes it.
type Subscription struct {
	bus   *Bus
	opts  Options
	ready chan struct{} // capacity 1: a token means "something may be waiting"
	done  chan struct{} // closed when the subscription ends

	mu       sync.Mutex // guards the fields below
	queue    []Event    // undelivered non-coalescing events, oldest first
	coalesce []keyed    // undelivered coalescing values, one per key, in first-seen order
	lost     int        // events discarded since the last Take (ReportLoss)
	err      error      // why the subscription ended; nil while live
}

type keyed struct {
	key string
	e   Event
}

func (s *Subscription) offer(e Event, key string) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	switch {
	case key != "":
		replaced := false
		for i := range s.coalesce {
			if s.coalesce[i].key == key {
				s.coalesce[i].e = e
				replaced = true
				break
			}
		}
		if !replaced {
			s.coalesce = append(s.coalesce, keyed{key, e})
		}
	case len(s.queue) < s.opts.Limit:
		s.queue = append(s.queue, e)
	case s.opts.Overflow == Drop:
		// The owner still calls Close, which removes it from the bus; until
		// then offer returns early on the recorded error.
		s.err = ErrOverflow
		close(s.done)
	default:
		s.lost++
	}
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// Ready returns a channel that receives a value when events may be waiting. After
// receiving from it, call [Subscription.Take]; a wake-up with nothing to take is
// possible and harmless.
func (s *Subscription) Ready() <-chan struct{} { return s.ready }

// Done returns a channel closed when the subscription has ended (Close, bus
// Close, or a [Drop] overflow). Events queued before the end can still be taken.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err reports why the subscription ended, or nil while it is live.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Take appends every waiting value to dst and returns it: queued events in publish
// order, then a [Lost] value if events were discarded, then the newest value of
// each coalescing key. It never blocks.
func (s *Subscription) Take(dst []Event) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	dst = append(dst, s.queue...)
	clear(s.queue)
	s.queue = s.queue[:0]
	if s.lost > 0 {
		dst = append(dst, Lost{Count: s.lost})
		s.lost = 0
	}
	for i := range s.coalesce {
		dst = append(dst, s.coalesce[i].e)
	}
	clear(s.coalesce)
	s.coalesce = s.coalesce[:0]
	return dst
}

// Next blocks until a value is waiting and returns the oldest one (with the same
// ordering as Take), or returns an error when ctx ends or the subscription has
// ended with nothing left to take.
func (s *Subscription) Next(ctx context.Context) (Event, error) {
	for {
		if e, ok := s.pop(); ok {
			return e, nil
		}
		if err := s.Err(); err != nil {
			if e, ok := s.pop(); ok {
				return e, nil
			}
			return nil, err
		}
		select {
		case <-s.ready:
		case <-s.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (s *Subscription) pop() (Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case len(s.queue) > 0:
		e := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		return e, true
	case s.lost > 0:
		e := Lost{Count: s.lost}
		s.lost = 0
		return e, true
	case len(s.coalesce) > 0:
		e := s.coalesce[0].e
		s.coalesce[0] = keyed{}
		s.coalesce = s.coalesce[1:]
		return e, true
	}
	return nil, false
}

// Close ends the subscription with [ErrClosed] (unless it already ended) and
// removes it from the bus. Every subscriber calls Close, also after a [Drop]
// overflow; closing twice is harmless.
func (s *Subscription) Close() {
	s.end(ErrClosed)
	s.bus.remove(s)
}

// end records err as the reason and closes done, unless the subscription already ended.
func (s *Subscription) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	s.err = err
	close(s.done)
}
