package api_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/power"
	"github.com/cuttleprint/cuttle/pkg/power/powertest"
	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

// watchedRelay is a fake PSU relay that records, at every switch, what the
// firmware had executed by then.
type watchedRelay struct {
	*powertest.Relay
	executed func() []string
	mu       sync.Mutex
	at       map[string][]string // "on"/"off" → executed lines at that switch
}

func (r *watchedRelay) note(call string) {
	ex := r.executed()
	r.mu.Lock()
	r.at[call] = ex
	r.mu.Unlock()
}

func (r *watchedRelay) seen(call string) ([]string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ex, ok := r.at[call]
	return ex, ok
}

func (r *watchedRelay) On(ctx context.Context) error  { r.note("on"); return r.Relay.On(ctx) }
func (r *watchedRelay) Off(ctx context.Context) error { r.note("off"); return r.Relay.Off(ctx) }

// hookPower hooks a power policy with a fake PSU relay to the env's printer,
// as cmd/cuttle does.
func hookPower(t *testing.T, e *filesEnv, cfg power.PolicyConfig) *watchedRelay {
	t.Helper()
	ctx := context.Background()
	relay := &watchedRelay{Relay: powertest.New(power.Off), executed: e.executed, at: map[string][]string{}}
	bank := power.NewBank(power.Announce(e.bus, cfg.PSU))
	if err := bank.Add(ctx, cfg.PSU, relay); err != nil {
		t.Fatal(err)
	}
	policy, err := power.NewPolicy(ctx, cfg, bank, powertest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), e.bus)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(policy.Close)
	e.machine.AddFilter(policy)
	return relay
}

// withoutPolls drops the host's own polling from executed lines.
func withoutPolls(ex []string) []string {
	return slices.DeleteFunc(slices.Clone(ex), func(s string) bool { return poll(s) || s == "M27 S2" })
}

// M80 and M81 in a printed file switch the PSU relay (mode "relay": the
// firmware never sees them); M81 only once the moves before it are done:
// M400 goes first and the relay switches when the firmware acknowledged it.
// The print still completes, and the lines after each stay behind it.
func TestJobPowerCommandsVirtual(t *testing.T) {
	e := newFilesEnv(t, filesOpts{scripts: &testScripts, virtual: &virtualprinter.Config{TimeScale: 50}})
	cfg := power.DefaultPolicyConfig()
	cfg.SettleTime, cfg.OnBeforeConnect, cfg.OnBeforePrint = 0, false, false
	relay := hookPower(t, e, cfg)
	e.connect()
	raw := "M80 ; power up\nG28\nG1 X100 Y100 F3000\nG1 X10 Y10\nM81\nG1 X20 Y20\n"
	e.printFile("power.gcode", []byte(raw))

	if got := relay.Switches(); !slices.Equal(got, []string{"on", "off"}) {
		t.Fatalf("relay switches = %v; want [on off]", got)
	}
	ex := withoutPolls(e.executed())
	if slices.Contains(ex, "M80") || slices.Contains(ex, "M81") {
		t.Errorf("the firmware got M80/M81 in relay mode: %v", ex)
	}
	i := slices.Index(ex, "G1 X10 Y10")
	if i < 0 || i+2 >= len(ex) || ex[i+1] != "M400" || ex[i+2] != "G1 X20 Y20" {
		t.Errorf("executed %v; want M400 between the last move before M81 and the line after it", ex)
	}
	on, _ := relay.seen("on")
	if slices.Contains(withoutPolls(on), "G28") {
		t.Errorf("at power-on the firmware had already run %v", on)
	}
	off, _ := relay.seen("off")
	off = withoutPolls(off)
	if len(off) == 0 || off[len(off)-1] != "M400" || !slices.Contains(off, "G1 X10 Y10") {
		t.Errorf("at power-off the firmware had run %v; want every move before M81, then M400", off)
	}

	// A file sent to the SD card is data: its M80/M81 are written, not run.
	ct, body := multipartBody(part{name: "file", filename: "off.gcode", value: "G1 X1\nM81\n"})
	wantCode(t, "upload to sd", e.raw("POST", "/api/files/sdcard", e.adminKey, ct, body), 201)
	if !await(10*time.Second, func() bool { got, ok := e.vp.SDFile("OFF.GCO"); return ok && string(got) == "G1 X1\r\nM81\r\n" }) {
		got, _ := e.vp.SDFile("OFF.GCO")
		t.Fatalf("card copy = %q", got)
	}
	if got := relay.Switches(); len(got) != 2 {
		t.Errorf("relay switches after the SD upload = %v; want the print's two only", got)
	}
}

// With scripted firmware that holds back M400's "ok", the relay stays on
// until the acknowledgement arrives; mode "both" sends M81 after switching.
func TestJobPowerOffWaitsForM400(t *testing.T) {
	g := newGate("M400", 1)
	e := newFilesEnv(t, filesOpts{scripts: &testScripts, reply: g.reply})
	cfg := power.DefaultPolicyConfig()
	cfg.SettleTime, cfg.OnBeforeConnect, cfg.OnBeforePrint = 0, false, false
	cfg.M81 = power.GcodeBoth
	relay := hookPower(t, e, cfg)
	relay.Set(power.On)
	e.connect()
	wantCode(t, "upload", e.upload(e.adminKey, part{name: "file", filename: "off.gcode", value: "G1 X5\nM81\nG1 X6\n"}), 201)
	wantCode(t, "print", e.json("POST", "/api/files/local/off.gcode", e.adminKey, `{"command":"select","print":true}`), 204)
	select {
	case <-g.reached[0]:
	case <-time.After(10 * time.Second):
		t.Fatalf("M400 never reached the firmware: %v", e.executed())
	}
	if got := relay.Switches(); len(got) != 0 {
		t.Errorf("relay switched %v before M400 was acknowledged", got)
	}
	if slices.Contains(e.executed(), "G1 X6") {
		t.Errorf("a line after M81 went out before the relay switched: %v", e.executed())
	}
	close(g.release[0])
	if !await(10*time.Second, func() bool { return e.state() == "Operational" }) {
		t.Fatalf("print did not end: %q %v", e.state(), e.executed())
	}
	if got := relay.Switches(); !slices.Equal(got, []string{"off"}) {
		t.Errorf("relay switches = %v; want [off]", got)
	}
	ex := withoutPolls(e.executed())
	if i := slices.Index(ex, "M400"); i < 0 || i+3 > len(ex) || !slices.Equal(ex[i:i+3], []string{"M400", "M81", "G1 X6"}) {
		t.Errorf("executed %v; want M400, M81, G1 X6 in a row", ex)
	}
}

// M81 sent through the API (or by a script such as afterPrintDone) also
// waits for the moves before it: the request answers once M400 was
// acknowledged and the relay switched.
func TestCommandPowerOffWaitsForM400(t *testing.T) {
	g := newGate("M400", 1)
	e := newFilesEnv(t, filesOpts{reply: g.reply})
	cfg := power.DefaultPolicyConfig()
	cfg.SettleTime, cfg.OnBeforeConnect = 0, false
	relay := hookPower(t, e, cfg)
	relay.Set(power.On)
	e.connect()
	answered := make(chan resp, 1)
	go func() {
		answered <- e.json("POST", "/api/printer/command", e.adminKey, `{"commands":["G1 X5","M81","G1 X6"]}`)
	}()
	select {
	case <-g.reached[0]:
	case <-time.After(10 * time.Second):
		t.Fatalf("M400 never reached the firmware: %v", e.executed())
	}
	if got := relay.Switches(); len(got) != 0 {
		t.Errorf("relay switched %v before M400 was acknowledged", got)
	}
	select {
	case r := <-answered:
		t.Errorf("the request answered %d before M400 was acknowledged", r.code)
	default:
	}
	close(g.release[0])
	wantCode(t, "M81 command", <-answered, 204)
	if got := relay.Switches(); !slices.Equal(got, []string{"off"}) {
		t.Errorf("relay switches = %v; want [off]", got)
	}
	if !e.rig.AwaitExecuted("G1 X6") {
		t.Fatalf("G1 X6 not sent: %v", e.executed())
	}
	if ex := withoutPolls(e.executed()); slices.Contains(ex, "M81") {
		t.Errorf("relay mode sent M81 to the firmware: %v", ex)
	}
}
