package power

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Change reports that a relay's state changed.
type Change struct {
	Relay string
	From  State
	To    State
}

// Bank holds the configured relays by name, in configuration order. It
// serialises switching, so the states it reports before and after a command
// belong to that command, and it calls its notify function once for every
// change it sees — from Switch or from Watch — after releasing its lock.
type Bank struct {
	lmu       sync.Mutex // guards listeners; never held while calling them
	listeners []func(Change)

	mu     sync.Mutex // serialises Switch and Watch; guards order, relays, last
	order  []string
	relays map[string]Relay
	last   map[string]State // last state reported per relay
}

// NewBank returns an empty Bank. notify, which may be nil, is its first
// listener (see Listen).
func NewBank(notify func(Change)) *Bank {
	b := &Bank{relays: map[string]Relay{}, last: map[string]State{}}
	if notify != nil {
		b.Listen(notify)
	}
	return b
}

// Listen adds a function called, in the order added, for every change of
// state. Listeners run on the goroutine that caused the change, after the
// Bank's lock is released, so they may call the Bank.
func (b *Bank) Listen(fn func(Change)) {
	b.lmu.Lock()
	defer b.lmu.Unlock()
	b.listeners = append(b.listeners, fn)
}

func (b *Bank) notify(c Change) {
	b.lmu.Lock()
	ls := append([]func(Change){}, b.listeners...)
	b.lmu.Unlock()
	for _, fn := range ls {
		fn(c)
	}
}

// Add registers r under name. Adding a name twice is an error.
func (b *Bank) Add(ctx context.Context, name string, r Relay) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.relays[name]; ok {
		return fmt.Errorf("%w %q", ErrDuplicateRelay, name)
	}
	b.relays[name] = r
	b.order = append(b.order, name)
	s, _ := r.State(ctx)
	b.last[name] = s
	return nil
}

// Names returns the relay names in the order they were added.
func (b *Bank) Names() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.order...)
}

// Has reports whether the bank holds a relay called name.
func (b *Bank) Has(name string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.relays[name]
	return ok
}

func (b *Bank) get(name string) (Relay, error) {
	r, ok := b.relays[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownRelay, name)
	}
	return r, nil
}

// Switch applies a to the named relay and returns its state afterwards.
func (b *Bank) Switch(ctx context.Context, name string, a Action) (State, error) {
	if _, err := ParseAction(string(a)); err != nil {
		return Unknown, err
	}
	b.mu.Lock()
	r, err := b.get(name)
	if err != nil {
		b.mu.Unlock()
		return Unknown, err
	}
	s, err := apply(ctx, r, a)
	if err != nil {
		b.mu.Unlock()
		return Unknown, fmt.Errorf("power: %s %q: %w", a, name, err)
	}
	ch, changed := b.recordLocked(name, s)
	b.mu.Unlock()
	if changed {
		b.notify(ch)
	}
	return s, nil
}

func (b *Bank) recordLocked(name string, s State) (Change, bool) {
	prev := b.last[name]
	if prev == s {
		return Change{}, false
	}
	b.last[name] = s
	return Change{Relay: name, From: prev, To: s}, true
}

// State returns the named relay's state.
func (b *Bank) State(ctx context.Context, name string) (State, error) {
	b.mu.Lock()
	r, err := b.get(name)
	b.mu.Unlock()
	if err != nil {
		return Unknown, err
	}
	return r.State(ctx)
}

// Status reports every relay, in order. Relays that do not implement
// Reporter are described from their State.
func (b *Bank) Status(ctx context.Context) []Status {
	b.mu.Lock()
	names := append([]string(nil), b.order...)
	relays := make([]Relay, len(names))
	for i, n := range names {
		relays[i] = b.relays[n]
	}
	b.mu.Unlock()
	out := make([]Status, len(names))
	for i, r := range relays {
		out[i] = describe(ctx, names[i], r)
	}
	return out
}

// StatusOf reports one relay.
func (b *Bank) StatusOf(ctx context.Context, name string) (Status, error) {
	b.mu.Lock()
	r, err := b.get(name)
	b.mu.Unlock()
	if err != nil {
		return Status{}, err
	}
	return describe(ctx, name, r), nil
}

func describe(ctx context.Context, name string, r Relay) Status {
	var st Status
	if rep, ok := r.(Reporter); ok {
		st = rep.Status(ctx)
	} else {
		s, err := r.State(ctx)
		st = Status{State: s, Commanded: s, Available: err == nil}
		if err != nil {
			st.Reason = err.Error()
		}
	}
	st.Name = name
	return st
}

// Poll reads every relay once and reports changes that did not come through
// Switch, such as a PSU switched by hand and seen on its sense line.
func (b *Bank) Poll(ctx context.Context) {
	var changes []Change
	b.mu.Lock()
	for _, n := range b.order {
		s, err := b.relays[n].State(ctx)
		if err != nil {
			continue
		}
		if ch, ok := b.recordLocked(n, s); ok {
			changes = append(changes, ch)
		}
	}
	b.mu.Unlock()
	for _, ch := range changes {
		b.notify(ch)
	}
}

// Watch polls the relays on every tick until ctx is done. The caller owns
// the ticker (time.NewTicker(...).C in production, a channel in tests).
func (b *Bank) Watch(ctx context.Context, tick <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			b.Poll(ctx)
		}
	}
}
