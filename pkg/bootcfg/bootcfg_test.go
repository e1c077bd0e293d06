package bootcfg_test

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/cuttleprint/cuttle/pkg/bootcfg"
)

var now = time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)

type card struct {
	boot, data string
	hostname   string
}

func newCard(t *testing.T) *card {
	t.Helper()
	return &card{boot: t.TempDir(), data: t.TempDir()}
}

func (c *card) put(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(c.boot, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (c *card) apply(t *testing.T, validate func([]byte) error) bootcfg.Report {
	t.Helper()
	r, err := bootcfg.Apply(bootcfg.Options{
		BootDir: c.boot, DataDir: c.data, Now: now,
		SetHostname:      func(n string) error { c.hostname = n; return nil },
		ValidateSettings: validate,
	})
	if err != nil {
		t.Fatalf("Apply() error = %v", err)
	}
	return r
}

func (c *card) read(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	return string(b)
}

func (c *card) exists(name string) bool {
	_, err := os.Stat(filepath.Join(c.data, name))
	return err == nil
}

func item(t *testing.T, r bootcfg.Report, name string) bootcfg.Item {
	t.Helper()
	for _, it := range r.Items {
		if it.Name == name {
			return it
		}
	}
	t.Fatalf("report has no item %q: %+v", name, r.Items)
	return bootcfg.Item{}
}

func pubKey(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))) + " me@laptop"
}

func TestApplyFreshCardTouchesNothing(t *testing.T) {
	c := newCard(t)
	r := c.apply(t, nil)
	if !r.OK {
		t.Errorf("Apply on an empty boot partition: OK = false; report %+v", r.Items)
	}
	for _, p := range []string{bootcfg.WPAConfPath, bootcfg.HostnamePath, bootcfg.AuthorizedKeys, bootcfg.ConfigPath} {
		if c.exists(p) {
			t.Errorf("Apply on an empty boot partition wrote %s", p)
		}
	}
	if c.hostname != "" {
		t.Errorf("Apply set hostname %q without cuttle.yaml", c.hostname)
	}
	status := c.read(t, c.boot, bootcfg.StatusFile)
	if !strings.Contains(status, "SSH: no authorized_keys; SSH is off\r\n") {
		t.Errorf("status file = %q; want the SSH line with CRLF", status)
	}
}

func TestApplyEverything(t *testing.T) {
	c := newCard(t)
	key := pubKey(t)
	c.put(t, bootcfg.WifiFile, "ssid=Workshop\r\npassword=\u201cprinter-net\u201d\r\ncountry=gb\r\n")
	c.put(t, bootcfg.SettingsFile, "hostname: Voron\nserver:\n  maxBodyBytes: 2048\n")
	c.put(t, bootcfg.KeysFile, "# mine\n"+key+"\n")
	r := c.apply(t, nil)
	if !r.OK {
		t.Fatalf("Apply: OK = false; report %+v", r.Items)
	}
	if c.hostname != "voron" {
		t.Errorf("SetHostname got %q; want %q", c.hostname, "voron")
	}
	if got := c.read(t, c.data, bootcfg.HostnamePath); got != "voron\n" {
		t.Errorf("%s = %q; want %q", bootcfg.HostnamePath, got, "voron\n")
	}
	conf := c.read(t, c.data, bootcfg.WPAConfPath)
	for _, want := range []string{"country=GB\n", "psk=\"printer-net\"\n", "ssid=576f726b73686f70\n"} {
		if !strings.Contains(conf, want) {
			t.Errorf("wpa_supplicant conf = %q; want %q in it", conf, want)
		}
	}
	if fi, _ := os.Stat(filepath.Join(c.data, bootcfg.WPAConfPath)); fi.Mode().Perm() != 0o600 {
		t.Errorf("wpa_supplicant conf mode = %v; want 0600 (it holds the password)", fi.Mode().Perm())
	}
	if got := c.read(t, c.data, bootcfg.AuthorizedKeys); got != key+"\n" {
		t.Errorf("authorized_keys = %q; want %q", got, key+"\n")
	}
	if got := c.read(t, c.data, bootcfg.ConfigPath); got != "server:\n    maxBodyBytes: 2048\n" {
		t.Errorf("config.yaml = %q; want the settings without the hostname", got)
	}
	if notes := item(t, r, "Wi-Fi").Notes; len(notes) != 1 || !strings.Contains(notes[0], "curly quotes") {
		t.Errorf("Wi-Fi notes = %q; want one about curly quotes", notes)
	}
	var js bootcfg.Report
	if err := json.Unmarshal([]byte(c.read(t, c.data, bootcfg.StatusJSONPath)), &js); err != nil {
		t.Fatalf("boot-status.json: %v", err)
	}
	if !js.OK || len(js.Items) != 4 || !js.Time.Equal(now) {
		t.Errorf("boot-status.json = %+v; want ok with 4 items at %v", js, now)
	}
}

func TestApplyBadWifiKeepsPreviousAndSaysWhy(t *testing.T) {
	c := newCard(t)
	c.put(t, bootcfg.WifiFile, "ssid=Home\npassword=goodpassword\ncountry=DE\n")
	c.apply(t, nil)
	before := c.read(t, c.data, bootcfg.WPAConfPath)

	c.put(t, bootcfg.WifiFile, "ssid=Home\npassword=short\ncountry=DE\n")
	r := c.apply(t, nil)
	it := item(t, r, "Wi-Fi")
	if r.OK || it.OK {
		t.Fatalf("Apply with a 5-character password: OK = %v/%v; want false", r.OK, it.OK)
	}
	if !strings.Contains(it.Message, "yours has 5") || !strings.Contains(it.Message, "previous Wi-Fi settings are kept") {
		t.Errorf("Wi-Fi message = %q; want the reason and that the old settings are kept", it.Message)
	}
	if after := c.read(t, c.data, bootcfg.WPAConfPath); after != before {
		t.Errorf("a bad cuttle-wifi.txt changed the working configuration to %q", after)
	}
	status := c.read(t, c.boot, bootcfg.StatusFile)
	if !strings.Contains(status, "SOMETHING NEEDS FIXING") || !strings.Contains(status, "[ERROR] Wi-Fi:") {
		t.Errorf("status file = %q; want the error marked for the user", status)
	}
}

func TestApplyEmptySSIDTurnsWifiOff(t *testing.T) {
	c := newCard(t)
	c.put(t, bootcfg.WifiFile, "ssid=Home\npassword=goodpassword\ncountry=DE\n")
	c.apply(t, nil)
	c.put(t, bootcfg.WifiFile, "ssid=\npassword=\ncountry=\n")
	r := c.apply(t, nil)
	if !r.OK || c.exists(bootcfg.WPAConfPath) {
		t.Errorf("emptied cuttle-wifi.txt: OK = %v, conf still there = %v; want true, false", r.OK, c.exists(bootcfg.WPAConfPath))
	}
}

func TestApplyRemovedKeyFileTurnsSSHOff(t *testing.T) {
	c := newCard(t)
	c.put(t, bootcfg.KeysFile, pubKey(t)+"\n")
	c.apply(t, nil)
	if !c.exists(bootcfg.AuthorizedKeys) {
		t.Fatal("authorized_keys not installed")
	}
	if err := os.Remove(filepath.Join(c.boot, bootcfg.KeysFile)); err != nil {
		t.Fatal(err)
	}
	c.apply(t, nil)
	if c.exists(bootcfg.AuthorizedKeys) {
		t.Error("SSH key still installed after authorized_keys was removed from the boot partition")
	}
}

func TestApplyRejectsGarbageKey(t *testing.T) {
	c := newCard(t)
	c.put(t, bootcfg.KeysFile, "ssh-ed25519 notbase64!!\n")
	r := c.apply(t, nil)
	if it := item(t, r, "SSH"); it.OK || !strings.Contains(it.Message, "line 1 is not an SSH public key") {
		t.Errorf("SSH item = %+v; want an error naming line 1", it)
	}
	if c.exists(bootcfg.AuthorizedKeys) {
		t.Error("a malformed key was installed")
	}
}

func TestApplySettingsOnlyWhenChangedAndValid(t *testing.T) {
	c := newCard(t)
	c.put(t, bootcfg.SettingsFile, "server:\n  listen: ':80'\n")
	calls := 0
	validate := func(b []byte) error {
		calls++
		if strings.Contains(string(b), "bogus") {
			return errors.New(`unknown field "bogus"`)
		}
		return nil
	}
	c.apply(t, validate)
	// The device changes its own settings (through the web UI, say) ...
	if err := os.WriteFile(filepath.Join(c.data, bootcfg.ConfigPath), []byte("edited: true\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	// ... and an unchanged cuttle.yaml on the next boot must not undo that.
	r := c.apply(t, validate)
	if got := c.read(t, c.data, bootcfg.ConfigPath); got != "edited: true\n" {
		t.Errorf("unchanged cuttle.yaml overwrote the device's settings: %q", got)
	}
	if calls != 1 || !strings.Contains(item(t, r, "settings").Message, "unchanged") {
		t.Errorf("validate calls = %d, message %q; want 1 and 'unchanged'", calls, item(t, r, "settings").Message)
	}
	c.put(t, bootcfg.SettingsFile, "bogus: 1\n")
	r = c.apply(t, validate)
	if it := item(t, r, "settings"); it.OK || !strings.Contains(it.Message, `unknown field "bogus"`) {
		t.Errorf("settings item = %+v; want the validator's error", it)
	}
	if got := c.read(t, c.data, bootcfg.ConfigPath); got != "edited: true\n" {
		t.Errorf("invalid settings were copied: %q", got)
	}
}

func TestApplyBadHostnameAndYAML(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"spaces", "hostname: my printer\n", "letters, digits and dashes"},
		{"number", "hostname: 42\n", "hostname must be text"},
		{"broken yaml", "hostname: [x\n", "not valid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCard(t)
			c.put(t, bootcfg.SettingsFile, tt.yaml)
			r := c.apply(t, nil)
			if it := item(t, r, "hostname"); it.OK || !strings.Contains(it.Message, tt.want) {
				t.Errorf("hostname item for %q = %+v; want an error containing %q", tt.yaml, it, tt.want)
			}
			if c.hostname != "" {
				t.Errorf("hostname set to %q from a bad cuttle.yaml", c.hostname)
			}
		})
	}
}

func TestApplyOversizedFile(t *testing.T) {
	c := newCard(t)
	c.put(t, bootcfg.WifiFile, strings.Repeat("#", 70<<10))
	r := c.apply(t, nil)
	if it := item(t, r, "Wi-Fi"); it.OK || !strings.Contains(it.Message, "larger than 64 KiB") {
		t.Errorf("Wi-Fi item = %+v; want a size error", it)
	}
}

func TestApplyUnwritableBootReportsError(t *testing.T) {
	c := newCard(t)
	_, err := bootcfg.Apply(bootcfg.Options{BootDir: filepath.Join(c.boot, "missing", "\x00"), DataDir: c.data, Now: now})
	if err == nil {
		t.Error("Apply with an unusable boot directory returned no error")
	}
	if !c.exists(bootcfg.StatusJSONPath) {
		t.Error("the JSON report was not written although the data directory is fine")
	}
}

func TestReadReport(t *testing.T) {
	c := newCard(t)
	c.put(t, bootcfg.WifiFile, "ssid=X\npassword=short\ncountry=GB\n")
	want := c.apply(t, nil)
	got, err := bootcfg.ReadReport(filepath.Join(c.data, "cuttle"))
	if err != nil {
		t.Fatalf("ReadReport: %v", err)
	}
	if got.OK != want.OK || len(got.Items) != len(want.Items) || got.Items[2].Message != want.Items[2].Message {
		t.Errorf("ReadReport = %+v; want %+v", got, want)
	}
	if _, err := bootcfg.ReadReport(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadReport(empty dir) error = %v; want one wrapping fs.ErrNotExist", err)
	}
}
