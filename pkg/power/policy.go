package power

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cuttleprint/cuttle/pkg/events"
)

// GcodeMode says what happens to M80 (PSU on) and M81 (PSU off) commands.
type GcodeMode string

// G-code modes. The zero value behaves as GcodeRelay.
const (
	GcodeRelay GcodeMode = "relay" // switch the PSU relay and do not send the command
	GcodeBoth  GcodeMode = "both"  // switch the PSU relay and send the command
	GcodeSend  GcodeMode = "send"  // only send the command, as without power control
)

// PolicyConfig configures the automatic PSU and LED switching. Start from
// DefaultPolicyConfig and decode the config file over it.
type PolicyConfig struct {
	// PSU and LED name the relays used as power supply and light.
	PSU string `yaml:"psu" json:"psu"`
	LED string `yaml:"led" json:"led"`
	// OnBeforeConnect switches the PSU on before connecting and waits
	// SettleTime for the board to come up.
	OnBeforeConnect bool `yaml:"onBeforeConnect" json:"onBeforeConnect"`
	// OnBeforePrint switches the PSU on (and waits SettleTime) before a
	// print starts.
	OnBeforePrint bool          `yaml:"onBeforePrint" json:"onBeforePrint"`
	SettleTime    time.Duration `yaml:"settleTime" json:"settleTime"`
	// M80 and M81 say how those commands are handled.
	M80 GcodeMode `yaml:"m80" json:"m80"`
	M81 GcodeMode `yaml:"m81" json:"m81"`
	// IdleOff switches the PSU off after this long idle with every hotend
	// below IdleThreshold °C; 0 disables it. IdleWarning is how long before
	// the switch-off a PowerOffWarning event is published.
	IdleOff       time.Duration `yaml:"idleOff" json:"idleOff"`
	IdleThreshold float64       `yaml:"idleThreshold" json:"idleThreshold"`
	IdleWarning   time.Duration `yaml:"idleWarning" json:"idleWarning"`
	// LEDWhilePrinting switches the LED on when a print starts and off when
	// it ends.
	LEDWhilePrinting bool `yaml:"ledWhilePrinting" json:"ledWhilePrinting"`
}

// DefaultPolicyConfig returns the defaults: relays "psu" and "led", PSU on
// before connecting and printing with a 3 s settle time, M80/M81 switch the
// relay, idle switch-off disabled (50 °C threshold and a one-minute warning
// when enabled), LED left alone.
func DefaultPolicyConfig() PolicyConfig {
	return PolicyConfig{
		PSU:             "psu",
		LED:             "led",
		OnBeforeConnect: true,
		OnBeforePrint:   true,
		SettleTime:      3 * time.Second,
		M80:             GcodeRelay,
		M81:             GcodeRelay,
		IdleThreshold:   50,
		IdleWarning:     time.Minute,
	}
}

// Validate reports the first problem in c.
func (c PolicyConfig) Validate() error {
	for _, m := range []struct {
		name string
		mode GcodeMode
	}{{"m80", c.M80}, {"m81", c.M81}} {
		switch m.mode {
		case "", GcodeRelay, GcodeBoth, GcodeSend:
		default:
			return fmt.Errorf("%w: %s %q: want relay, both or send", ErrInvalidConfig, m.name, m.mode)
		}
	}
	if c.SettleTime < 0 || c.IdleOff < 0 || c.IdleWarning < 0 {
		return fmt.Errorf("%w: settleTime, idleOff and idleWarning must not be negative", ErrInvalidConfig)
	}
	return nil
}

// Snapshot is what the idle policy needs to know about the printer.
type Snapshot struct {
	// Connected is false when hotend temperatures are unknown; the idle
	// policy never switches off a printer it cannot see.
	Connected bool
	// Printing is true while a job runs or is paused.
	Printing bool
	// Hotends holds the current hotend temperatures in °C.
	Hotends []float64
	// TargetSet is true when any heater (hotend, bed, chamber) has a
	// non-zero target.
	TargetSet bool
}

// IdleStatus describes the idle switch-off countdown.
type IdleStatus struct {
	Enabled  bool
	Pending  bool      // a countdown runs
	Deadline time.Time // when the PSU goes off; zero unless Pending
	Warned   bool      // the PowerOffWarning was published
	Blocked  string    // why no countdown runs: "printing", "heating", "hot", "disconnected", "relay"
	LastErr  string    // the last failed automatic switch, if any
}

// Policy switches the PSU and LED automatically. Its methods are safe for
// concurrent use; the Machine calls BeforeConnect, BeforePrint, Intercept,
// Observe and Activity, users reach CancelIdleOff through the API.
type Policy struct {
	cfg   PolicyConfig
	bank  *Bank
	clock Clock
	pub   Publisher

	mu       sync.Mutex // guards the fields below; never held while switching relays or publishing
	psuOn    bool
	snap     Snapshot
	gen      uint64 // countdown generation: timer callbacks of older ones do nothing
	timer    Timer
	deadline time.Time // zero when no countdown runs
	warned   bool
	blocked  string
	lastErr  string
	closed   bool
}

// NewPolicy returns a policy over bank, which it listens to for PSU changes.
// pub receives the warning and cancellation events.
func NewPolicy(ctx context.Context, cfg PolicyConfig, bank *Bank, clock Clock, pub Publisher) (*Policy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.IdleWarning > cfg.IdleOff {
		cfg.IdleWarning = cfg.IdleOff
	}
	p := &Policy{cfg: cfg, bank: bank, clock: clock, pub: pub}
	if cfg.IdleOff > 0 {
		p.blocked = "disconnected" // until the first Observe
	}
	if s, err := bank.State(ctx, cfg.PSU); err == nil {
		p.psuOn = s == On
	}
	bank.Listen(p.relayChanged)
	return p, nil
}

// Config returns the policy's configuration.
func (p *Policy) Config() PolicyConfig { return p.cfg }

// BeforeConnect switches the PSU on when configured to, and waits the settle
// time if it was off. Without a PSU relay it does nothing. The error names
// the relay and the reason, so a connection attempt can report it.
func (p *Policy) BeforeConnect(ctx context.Context) error {
	if !p.cfg.OnBeforeConnect {
		return nil
	}
	return p.ensureOn(ctx, "connecting")
}

// BeforePrint switches the PSU on when configured to, and waits the settle
// time if it was off.
func (p *Policy) BeforePrint(ctx context.Context) error {
	if !p.cfg.OnBeforePrint {
		return nil
	}
	return p.ensureOn(ctx, "printing")
}

func (p *Policy) ensureOn(ctx context.Context, why string) error {
	if !p.bank.Has(p.cfg.PSU) {
		return nil
	}
	s, err := p.bank.State(ctx, p.cfg.PSU)
	if err != nil {
		return fmt.Errorf("power: switch %q on before %s: %w", p.cfg.PSU, why, err)
	}
	p.Activity()
	if s == On {
		return nil
	}
	if _, err := p.bank.Switch(ctx, p.cfg.PSU, ActionOn); err != nil {
		return fmt.Errorf("power: switch %q on before %s: %w", p.cfg.PSU, why, err)
	}
	if err := p.sleep(ctx, p.cfg.SettleTime); err != nil {
		return err
	}
	// A sense line that still reads off means the supply did not come up.
	if st, err := p.bank.StatusOf(ctx, p.cfg.PSU); err == nil && st.SensePin != "" && st.Sensed != On {
		return fmt.Errorf("power: %q switched on before %s, but its sense line %s still reads off after %s: %w",
			p.cfg.PSU, why, st.SensePin, p.cfg.SettleTime, ErrNotPowered)
	}
	return nil
}

func (p *Policy) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	done := make(chan struct{})
	t := p.clock.AfterFunc(d, func() { close(done) })
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	}
}

// Intercept handles M80 and M81 in a command about to be sent, per the
// config, and reports whether the command should still go to the printer.
// Other commands pass untouched. Line numbers, checksums and comments are
// ignored when recognising the command.
func (p *Policy) Intercept(ctx context.Context, line string) (send bool, err error) {
	var mode GcodeMode
	var action Action
	switch commandCode(line) {
	case "M80":
		mode, action = p.cfg.M80, ActionOn
	case "M81":
		mode, action = p.cfg.M81, ActionOff
	default:
		return true, nil
	}
	if mode == GcodeSend || !p.bank.Has(p.cfg.PSU) {
		return true, nil
	}
	send = mode == GcodeBoth
	if _, err := p.bank.Switch(ctx, p.cfg.PSU, action); err != nil {
		return send, fmt.Errorf("power: %s: %w", commandCode(line), err)
	}
	return send, nil
}

// Match tells a printer streaming a job which lines Intercept must see: M80
// and M81 when they switch the PSU relay. M81 also needs the moves before it
// finished (drain), as firmware powers off only once its planner is empty.
// It never blocks on a relay.
func (p *Policy) Match(line string) (intercept, drain bool) {
	var mode GcodeMode
	code := commandCode(line)
	switch code {
	case "M80":
		mode = p.cfg.M80
	case "M81":
		mode = p.cfg.M81
	default:
		return false, false
	}
	if mode == GcodeSend || !p.bank.Has(p.cfg.PSU) {
		return false, false
	}
	return true, code == "M81"
}

// commandCode returns the upper-case command word of a G-code line ("M80"),
// skipping a line number and dropping comments and checksum.
func commandCode(line string) string {
	if i := strings.IndexAny(line, ";*("); i >= 0 {
		line = line[:i]
	}
	f := strings.Fields(strings.ToUpper(line))
	if len(f) > 0 && strings.HasPrefix(f[0], "N") && len(f[0]) > 1 && f[0][1] >= '0' && f[0][1] <= '9' {
		f = f[1:]
	}
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// Observe tells the policy the printer's current state. Call it whenever
// the state or temperatures change. It runs the idle countdown and, when
// configured, switches the LED with the print.
func (p *Policy) Observe(ctx context.Context, s Snapshot) {
	p.mu.Lock()
	wasPrinting := p.snap.Printing
	p.snap = Snapshot{Connected: s.Connected, Printing: s.Printing, Hotends: append([]float64(nil), s.Hotends...), TargetSet: s.TargetSet}
	evs := p.reconsiderLocked("")
	p.mu.Unlock()
	p.publish(evs)
	if p.cfg.LEDWhilePrinting && s.Printing != wasPrinting && p.bank.Has(p.cfg.LED) {
		a := ActionOff
		if s.Printing {
			a = ActionOn
		}
		if _, err := p.bank.Switch(ctx, p.cfg.LED, a); err != nil {
			p.setErr(err)
		}
	}
}

// Activity restarts the idle countdown: a user command, a connection, a
// file selected. A pending warning is cancelled with reason "activity".
func (p *Policy) Activity() { p.restart("activity") }

// CancelIdleOff cancels a pending idle switch-off and starts the countdown
// afresh. It reports whether a countdown was pending.
func (p *Policy) CancelIdleOff() bool { return p.restart("cancelled") }

func (p *Policy) restart(reason string) bool {
	p.mu.Lock()
	pending := !p.deadline.IsZero()
	evs := p.stopLocked(reason)
	evs = append(evs, p.reconsiderLocked("")...)
	p.mu.Unlock()
	p.publish(evs)
	return pending
}

// IdleStatus reports the idle countdown.
func (p *Policy) IdleStatus() IdleStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return IdleStatus{
		Enabled:  p.cfg.IdleOff > 0,
		Pending:  !p.deadline.IsZero(),
		Deadline: p.deadline,
		Warned:   p.warned,
		Blocked:  p.blocked,
		LastErr:  p.lastErr,
	}
}

func (p *Policy) relayChanged(c Change) {
	if c.Relay != p.cfg.PSU {
		return
	}
	p.mu.Lock()
	p.psuOn = c.To == On
	evs := p.reconsiderLocked("relay")
	p.mu.Unlock()
	p.publish(evs)
}

// blockedLocked says why the PSU may not go off now; "" means it may.
func (p *Policy) blockedLocked() string {
	switch {
	case !p.psuOn:
		return "relay"
	case !p.snap.Connected:
		return "disconnected"
	case p.snap.Printing:
		return "printing"
	case p.snap.TargetSet:
		return "heating"
	}
	for _, t := range p.snap.Hotends {
		if t >= p.cfg.IdleThreshold {
			return "hot"
		}
	}
	return ""
}

// reconsiderLocked starts or stops the countdown to match the state and
// returns the events to publish once the lock is released. reason overrides
// the cancellation reason.
func (p *Policy) reconsiderLocked(reason string) []events.Event {
	if p.cfg.IdleOff <= 0 || p.closed {
		return nil
	}
	p.blocked = p.blockedLocked()
	if p.blocked != "" {
		if reason == "" {
			reason = p.blocked
		}
		return p.stopLocked(reason)
	}
	if p.deadline.IsZero() {
		p.gen++
		p.deadline = p.clock.Now().Add(p.cfg.IdleOff)
		p.warned = false
		gen := p.gen
		p.timer = p.clock.AfterFunc(p.cfg.IdleOff-p.cfg.IdleWarning, func() { p.fire(gen) })
	}
	return nil
}

// stopLocked ends a running countdown, announcing the cancellation if a
// warning went out.
func (p *Policy) stopLocked(reason string) []events.Event {
	if p.deadline.IsZero() {
		return nil
	}
	p.gen++
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.deadline = time.Time{}
	warned := p.warned
	p.warned = false
	if !warned {
		return nil
	}
	return []events.Event{events.PowerOffCancelled{Relay: p.cfg.PSU, Reason: reason}}
}

// fire runs when a countdown timer of generation gen is due: first the
// warning, then the switch-off.
func (p *Policy) fire(gen uint64) {
	p.mu.Lock()
	if gen != p.gen || p.deadline.IsZero() {
		p.mu.Unlock()
		return
	}
	now := p.clock.Now()
	if !p.warned {
		p.warned = true
		left := p.deadline.Sub(now)
		p.timer = p.clock.AfterFunc(left, func() { p.fire(gen) })
		p.mu.Unlock()
		p.publish([]events.Event{events.PowerOffWarning{Relay: p.cfg.PSU, Seconds: left.Seconds()}})
		return
	}
	if b := p.blockedLocked(); b != "" {
		evs := p.stopLocked(b)
		p.mu.Unlock()
		p.publish(evs)
		return
	}
	p.gen++
	p.timer, p.deadline, p.warned = nil, time.Time{}, false
	p.mu.Unlock()
	if _, err := p.bank.Switch(context.Background(), p.cfg.PSU, ActionOff); err != nil {
		p.setErr(err)
	}
}

func (p *Policy) setErr(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastErr = err.Error()
}

func (p *Policy) publish(evs []events.Event) {
	if p.pub == nil {
		return
	}
	for _, e := range evs {
		p.pub.Publish(e)
	}
}

// Close stops the idle countdown for good; the policy switches nothing
// automatically afterwards. Call it on shutdown.
func (p *Policy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.stopLocked("shutdown")
}

// LEDDuring switches the LED on while fn runs (a webcam snapshot, say) and
// restores its previous state after. Without an LED relay it just runs fn.
func (p *Policy) LEDDuring(ctx context.Context, fn func() error) error {
	if !p.bank.Has(p.cfg.LED) {
		return fn()
	}
	prev, err := p.bank.State(ctx, p.cfg.LED)
	if err != nil {
		return fmt.Errorf("power: LED: %w", err)
	}
	if prev != On {
		if _, err := p.bank.Switch(ctx, p.cfg.LED, ActionOn); err != nil {
			return fmt.Errorf("power: LED on: %w", err)
		}
	}
	ferr := fn()
	if prev != On {
		if _, err := p.bank.Switch(ctx, p.cfg.LED, ActionOff); err != nil {
			return errors.Join(ferr, fmt.Errorf("power: LED off: %w", err))
		}
	}
	return ferr
}
