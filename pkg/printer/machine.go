package printer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/protocol"
	"github.com/cuttleprint/cuttle/pkg/serial"
)

// PortAuto asks Connect to find the port (and baud rate) itself.
const PortAuto = "AUTO"

// PortOpener opens a built-in port such as "VIRTUAL". The link it returns
// is closed by the Machine.
type PortOpener func(ctx context.Context, baud int) (io.ReadWriteCloser, error)

// Publisher receives the Machine's events; *events.Bus is one. Publish
// must not block.
type Publisher interface{ Publish(events.Event) }

// Filter sees every command before it is queued; send=false swallows it
// (a PSU relay handling M80/M81). *power.Policy is one.
type Filter interface {
	Intercept(ctx context.Context, line string) (send bool, err error)
}

// ConnectHook runs before a port is opened (a PSU switching on); an error
// aborts the connection. *power.Policy is one.
type ConnectHook interface {
	BeforeConnect(ctx context.Context) error
}

// Config configures a Machine. Zero fields take the defaults noted.
type Config struct {
	// Profile is the printer profile (DefaultProfile()).
	Profile Profile
	// Lister lists serial ports (the zero Lister: USB serial devices).
	Lister serial.Lister
	// Builtin are ports served in-process, by name ("VIRTUAL").
	Builtin map[string]PortOpener
	// Baudrates offered and tried (serial.DefaultBaudrates).
	Baudrates []int
	// PortPreference and BaudratePreference are used when Connect is given
	// no port or baud rate.
	PortPreference     string
	BaudratePreference int
	// Protocol tunes the link; its Observer and Clock are set by the Machine.
	Protocol protocol.Options
	// Clock is the time source (protocol.SystemClock).
	Clock protocol.Clock
	// PollInterval is how often M105 is sent when the firmware does not
	// auto-report temperatures (2 s); it is also the M155 interval.
	PollInterval time.Duration
	// HistorySize is how many temperature points are kept (300).
	HistorySize int
	// TerminalSize is how many terminal lines are kept (300).
	TerminalSize int
	// Events receives events (none when nil).
	Events Publisher
	// Log receives connection errors (slog.Default()).
	Log *slog.Logger
}

// FirmwareInfo is what the firmware said about itself (M115).
type FirmwareInfo struct {
	Name         string
	Fields       map[string]string
	Capabilities map[string]bool
}

// Position is the last M114 report.
type Position struct{ X, Y, Z, E float64 }

// ErrorInfo describes the last error, as /api/printer/error shows it.
type ErrorInfo struct {
	Error       string
	Reason      string // "firmware", "timeout", "connection", "resend"
	Consequence string // "disconnect", "emergency" or ""
}

// Machine is the printer. Create it with New; it is safe for concurrent use.
type Machine struct {
	cfg Config

	hookMu  sync.Mutex // guards hooks, filters, actions (registration is rare)
	hooks   []ConnectHook
	filters []Filter
	actions []func(name, params string)
	msgs    []func(protocol.Message) // see OnMessage

	connMu sync.Mutex // serialises Connect, Disconnect and Close

	// The link goroutine's callbacks run on every line sent and received; so
	// that they never wait for an HTTP handler reading a snapshot, the
	// terminal has a lock of its own and the connection generation and
	// acknowledgement callback are mirrored in atomics. Lock order: mu, then
	// termMu.
	termMu  sync.Mutex // guards term
	term    terminal
	linkGen atomic.Uint64                          // gen, stored whenever gen changes (under mu)
	ackFn   atomic.Pointer[func(protocol.Command)] // the running stream's acknowledgement callback, set under mu

	mu       sync.Mutex // guards every field below
	state    State
	profile  Profile
	jobText  string // the job's own text for a job state ("Printing from SD"); "" for the state's
	errInfo  ErrorInfo
	port     string
	baud     int
	temps    map[string]*Temp
	offsets  map[string]float64
	hist     history
	firmware FirmwareInfo
	sdReady  bool
	position *Position
	tool     int
	conn     *protocol.Conn
	gen      uint64 // connection generation: callbacks of older ones are ignored
	cancel   context.CancelFunc
	done     chan struct{}   // closed when the connection goroutine ends
	filtered *filteredSource // the job feed's filters, nil without
	closed   bool
	prefPort string
	prefBaud int
}

// New returns an offline Machine.
func New(cfg Config) *Machine {
	cfg.Profile = normalizeProfile(cfg.Profile)
	if len(cfg.Baudrates) == 0 {
		cfg.Baudrates = serial.DefaultBaudrates
	}
	if cfg.Clock == nil {
		cfg.Clock = protocol.SystemClock{}
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 2 * time.Second
	}
	if cfg.HistorySize <= 0 {
		cfg.HistorySize = 300
	}
	if cfg.TerminalSize <= 0 {
		cfg.TerminalSize = 300
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Machine{
		cfg:     cfg,
		profile: cfg.Profile,
		temps:   map[string]*Temp{},
		offsets: map[string]float64{},
		hist:    newHistory(cfg.HistorySize),
		term:    newTerminal(cfg.TerminalSize),

		prefPort: cfg.PortPreference,
		prefBaud: cfg.BaudratePreference,
	}
}

// AddConnectHook registers a hook run before every connection.
func (m *Machine) AddConnectHook(h ConnectHook) {
	m.hookMu.Lock()
	m.hooks = append(m.hooks, h)
	m.hookMu.Unlock()
}

// AddFilter registers a filter run on every command before it is queued.
func (m *Machine) AddFilter(f Filter) {
	m.hookMu.Lock()
	m.filters = append(m.filters, f)
	m.hookMu.Unlock()
}

// OnAction registers fn to be called for every host action command
// ("//action:pause" → fn("pause", "")), from the protocol's goroutine: it
// must return quickly.
func (m *Machine) OnAction(fn func(name, params string)) {
	m.hookMu.Lock()
	m.actions = append(m.actions, fn)
	m.hookMu.Unlock()
}

// Profile returns the printer profile in force.
func (m *Machine) Profile() Profile {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.profile
}

// SetProfile makes p the printer profile: its heaters and extruder count
// decide the temperature keys of Snapshot and which heater commands are
// accepted. A connect request choosing a profile sets it.
func (m *Machine) SetProfile(p Profile) {
	p = normalizeProfile(p)
	m.mu.Lock()
	changed := m.profile != p
	m.profile = p
	m.mu.Unlock()
	if changed {
		m.publish(events.StateChanged{Source: "printer"})
	}
}

// normalizeProfile fills an empty profile with the default and gives it at
// least one extruder.
func normalizeProfile(p Profile) Profile {
	if p.ID == "" {
		p = DefaultProfile()
	}
	if p.Extruders < 1 {
		p.Extruders = 1
	}
	return p
}

// Baudrates returns the baud rates offered.
func (m *Machine) Baudrates() []int { return slices.Clone(m.cfg.Baudrates) }

// Preferences returns the preferred port and baud rate.
func (m *Machine) Preferences() (string, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.prefPort, m.prefBaud
}

// SetPreferences changes the preferred port and baud rate (from the
// settings, or a connect request with save).
func (m *Machine) SetPreferences(port string, baud int) {
	m.mu.Lock()
	m.prefPort, m.prefBaud = port, baud
	m.mu.Unlock()
}

// Ports lists the ports a connection can use: serial ports, then the
// built-in ones.
func (m *Machine) Ports() []string {
	var out []string
	if ports, err := m.cfg.Lister.List(); err == nil {
		out = serial.Names(ports)
	}
	for name := range m.cfg.Builtin {
		out = append(out, name)
	}
	slices.Sort(out[len(out)-len(m.cfg.Builtin):])
	return out
}

func (m *Machine) publish(e events.Event) {
	if m.cfg.Events != nil {
		m.cfg.Events.Publish(e)
	}
}

// setStateLocked changes the state and returns the events to publish once
// m.mu is released.
func (m *Machine) setStateLocked(s State) []events.Event {
	if m.state == s {
		return nil
	}
	m.state = s
	m.jobText = ""
	return []events.Event{events.PrinterStateChanged{StateID: s.ID(), StateString: m.stateTextLocked()}, events.StateChanged{Source: "printer"}}
}

func (m *Machine) stateTextLocked() string {
	if m.state == StateError && m.errInfo.Error != "" {
		return "Error: " + m.errInfo.Error
	}
	if m.jobText != "" {
		return m.jobText
	}
	return m.state.String()
}

func (m *Machine) publishAll(evs []events.Event) {
	for _, e := range evs {
		m.publish(e)
	}
}

// Connect starts connecting to port at baud and returns at once; the state
// moves through Opening/Detecting/Connecting to Operational, or to Offline
// after error. An empty port or zero baud takes the preference, then
// auto-detection. An existing connection is closed first.
func (m *Machine) Connect(ctx context.Context, port string, baud int) error {
	prefPort, prefBaud := m.Preferences()
	if port == "" {
		port = prefPort
	}
	if port == "" {
		port = PortAuto
	}
	if baud == 0 {
		baud = prefBaud
	}
	if baud < 0 {
		return fmt.Errorf("baudrate %d: %w", baud, ErrInvalid)
	}
	m.connMu.Lock()
	defer m.connMu.Unlock()
	m.disconnectLocked(false)
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return fmt.Errorf("printer: connect: machine closed")
	}
	m.gen++
	m.linkGen.Store(m.gen)
	gen := m.gen
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel, m.done = cancel, make(chan struct{})
	m.port, m.baud = port, baud
	m.errInfo = ErrorInfo{}
	m.firmware = FirmwareInfo{}
	m.temps = map[string]*Temp{}
	m.sdReady = false
	evs := m.setStateLocked(StateOpening)
	done := m.done
	m.mu.Unlock()
	m.publish(events.Connecting{})
	m.publishAll(evs)
	go m.run(cctx, gen, port, baud, done)
	return nil
}

// Disconnect closes the connection (if any) and waits until it is closed.
func (m *Machine) Disconnect() {
	m.connMu.Lock()
	defer m.connMu.Unlock()
	m.disconnectLocked(true)
}

func (m *Machine) disconnectLocked(announce bool) {
	m.mu.Lock()
	cancel, done, st, filtered := m.cancel, m.done, m.state, m.filtered
	m.cancel, m.done, m.filtered = nil, nil, nil
	m.gen++ // callbacks of the old connection are ignored from here on
	m.linkGen.Store(m.gen)
	m.conn = nil
	m.setAckLocked(nil)
	m.mu.Unlock()
	if filtered != nil {
		filtered.stop()
	}
	if cancel == nil && st == StateOffline {
		return
	}
	if announce {
		m.publish(events.Disconnecting{})
	}
	if cancel != nil {
		cancel()
		<-done
	}
	m.mu.Lock()
	m.errInfo = ErrorInfo{}
	m.port, m.baud = "", 0
	evs := m.setStateLocked(StateOffline)
	m.mu.Unlock()
	m.publishAll(evs)
	if announce {
		m.publish(events.Disconnected{})
	}
}

// Close disconnects and refuses further connections.
func (m *Machine) Close() error {
	m.Disconnect()
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	return nil
}

// run is the connection goroutine: open, handshake, poll, until ctx ends
// or the link dies.
func (m *Machine) run(ctx context.Context, gen uint64, port string, baud int, done chan struct{}) {
	defer close(done)
	m.hookMu.Lock()
	hooks := slices.Clone(m.hooks)
	m.hookMu.Unlock()
	for _, h := range hooks {
		if err := h.BeforeConnect(ctx); err != nil {
			m.fail(gen, fmt.Errorf("before connecting: %w", err), "connection")
			return
		}
	}
	rwc, port, baud, err := m.open(ctx, gen, port, baud)
	if err != nil {
		if ctx.Err() == nil {
			m.fail(gen, err, "connection")
		}
		return
	}
	m.mu.Lock()
	if m.gen != gen {
		m.mu.Unlock()
		rwc.Close()
		return
	}
	m.port, m.baud = port, baud
	evs := m.setStateLocked(StateConnecting)
	m.mu.Unlock()
	m.publishAll(evs)

	opts := m.cfg.Protocol
	opts.Clock = m.cfg.Clock
	if opts.Baud == 0 {
		opts.Baud = baud
	}
	opts.Observer = &observer{m: m, gen: gen}
	conn, err := protocol.Dial(ctx, rwc, opts)
	if err != nil {
		if ctx.Err() == nil {
			m.fail(gen, err, "connection")
		}
		return
	}
	m.mu.Lock()
	if m.gen != gen {
		m.mu.Unlock()
		conn.Close()
		return
	}
	m.conn = conn
	evs = m.setStateLocked(StateOperational)
	m.mu.Unlock()
	m.publish(events.Connected{Port: port, Baudrate: baud})
	m.publishAll(evs)
	conn.Send("M115")
	m.poll(ctx, conn)
	conn.Close()
}

// open opens the port, detecting port and baud rate when asked to.
func (m *Machine) open(ctx context.Context, gen uint64, port string, baud int) (io.ReadWriteCloser, string, int, error) {
	if opener, ok := m.cfg.Builtin[port]; ok {
		rwc, err := opener(ctx, baud)
		if err != nil {
			return nil, "", 0, fmt.Errorf("open %s: %w", port, err)
		}
		return rwc, port, baud, nil
	}
	if port != PortAuto && baud > 0 {
		rwc, err := serial.Open(port, baud)
		return rwc, port, baud, err
	}
	m.mu.Lock()
	var evs []events.Event
	if m.gen == gen {
		evs = m.setStateLocked(StateDetecting)
	}
	m.mu.Unlock()
	m.publishAll(evs)
	ports := []string{port}
	if port == PortAuto {
		list, err := m.cfg.Lister.List()
		if err != nil {
			return nil, "", 0, err
		}
		ports = serial.Names(list)
	}
	bauds := m.cfg.Baudrates
	if baud > 0 {
		bauds = []int{baud}
	}
	p, b, rwc, err := serial.Detector{}.Detect(ctx, ports, bauds)
	if err != nil {
		return nil, "", 0, err
	}
	return rwc, p, b, nil
}

// poll sends M105 every PollInterval unless the firmware auto-reports, until
// ctx ends or the connection stops.
func (m *Machine) poll(ctx context.Context, conn *protocol.Conn) {
	for {
		t := m.cfg.Clock.NewTimer(m.cfg.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-conn.Done():
			t.Stop()
			return
		case <-t.C():
		}
		m.mu.Lock()
		auto := m.firmware.Capabilities["AUTOREPORT_TEMP"]
		m.mu.Unlock()
		if !auto && conn.Queued() == 0 {
			conn.Send("M105")
		}
	}
}

// fail records a connection that ended with err.
func (m *Machine) fail(gen uint64, err error, reason string) {
	state := StateOfflineAfterError
	consequence := "disconnect"
	switch {
	case errors.Is(err, protocol.ErrFirmwareHalted), errors.Is(err, protocol.ErrFirmwareReset):
		state, reason = StateError, "firmware"
	case errors.Is(err, protocol.ErrResendOutOfWindow):
		state, reason = StateError, "resend"
	case errors.Is(err, protocol.ErrFirmwareGone):
		reason = "timeout"
	}
	m.mu.Lock()
	if m.gen != gen {
		m.mu.Unlock()
		return
	}
	m.conn = nil
	m.setAckLocked(nil)
	m.errInfo = ErrorInfo{Error: err.Error(), Reason: reason, Consequence: consequence}
	m.termMu.Lock()
	m.term.add("Error: " + err.Error())
	m.termMu.Unlock()
	evs := []events.Event{events.Error{Error: err.Error(), Reason: reason, Consequence: consequence}}
	if errors.Is(err, protocol.ErrFirmwareReset) {
		evs = append(evs, events.PrinterReset{})
	}
	evs = append(evs, m.setStateLocked(state)...)
	evs = append(evs, events.Disconnected{})
	m.mu.Unlock()
	m.cfg.Log.Warn("printer connection ended", "err", err)
	m.publishAll(evs)
}

// Snapshot is a copy of the Machine's state.
type Snapshot struct {
	State     State
	StateText string
	Flags     Flags
	Error     ErrorInfo
	Port      string
	Baudrate  int
	// Temps holds "tool0".."toolN", "bed" (heated bed) and "chamber"
	// (heated chamber) as far as known.
	Temps    map[string]Temp
	SDReady  bool
	Firmware FirmwareInfo
	Position *Position
	Tool     int
	// Stats are the link counters (zero when offline).
	Stats protocol.Stats
}

// Snapshot returns the current state.
func (m *Machine) Snapshot() Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := Snapshot{
		State: m.state, StateText: m.stateTextLocked(), Flags: flags(m.state, m.sdReady), Error: m.errInfo,
		Port: m.port, Baudrate: m.baud, SDReady: m.sdReady, Firmware: m.firmware, Tool: m.tool,
		Temps: make(map[string]Temp, len(m.temps)+2),
	}
	for i := 0; i < m.profile.Extruders; i++ {
		k := toolKey(i)
		s.Temps[k] = m.tempLocked(k)
	}
	if m.profile.HeatedBed {
		s.Temps["bed"] = m.tempLocked("bed")
	}
	if m.profile.HeatedChamber {
		s.Temps["chamber"] = m.tempLocked("chamber")
	}
	if m.position != nil {
		p := *m.position
		s.Position = &p
	}
	if m.conn != nil {
		s.Stats = m.conn.Stats()
	}
	return s
}

func (m *Machine) tempLocked(k string) Temp {
	t := Temp{Offset: m.offsets[k]}
	if cur := m.temps[k]; cur != nil {
		t.Actual = cur.Actual
		if cur.Target != nil {
			v := *cur.Target
			t.Target = &v
		}
	}
	return t
}

// History returns up to limit of the newest temperature points, oldest
// first (limit <= 0: all that are kept).
func (m *Machine) History(limit int) []TempPoint {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hist.last(limit)
}

// HistorySince returns the temperature points recorded after the first from
// ones (as far as still kept), oldest first, and the number to continue from.
func (m *Machine) HistorySince(from uint64) ([]TempPoint, uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hist.since(from)
}

// Terminal returns the terminal lines from sequence number from on, and the
// number to continue from.
func (m *Machine) Terminal(from uint64) ([]string, uint64) {
	m.termMu.Lock()
	defer m.termMu.Unlock()
	return m.term.since(from)
}

// setAckLocked sets the acknowledgement callback of the running stream.
func (m *Machine) setAckLocked(fn func(protocol.Command)) {
	if fn == nil {
		m.ackFn.Store(nil)
	} else {
		m.ackFn.Store(&fn)
	}
}

// ErrorInfo returns the last connection or firmware error.
func (m *Machine) ErrorInfo() ErrorInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.errInfo
}

// connIfOperational returns the live Conn, or ErrNotOperational.
func (m *Machine) connIfOperational() (*protocol.Conn, State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conn == nil || !m.state.Operational() {
		return nil, m.state, ErrNotOperational
	}
	return m.conn, m.state, nil
}
