package bootcfg

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"gopkg.in/yaml.v3"
)

// Names of the files on the boot partition.
const (
	WifiFile     = "cuttle-wifi.txt"
	SettingsFile = "cuttle.yaml"
	KeysFile     = "authorized_keys"
	StatusFile   = "cuttle-status.txt"
)

// Paths written below the data directory.
const (
	WPAConfPath      = "etc/wpa_supplicant-wlan0.conf"
	HostnamePath     = "etc/hostname"
	AuthorizedKeys   = "ssh/authorized_keys"
	ConfigPath       = "cuttle/config.yaml"
	StatusJSONPath   = "cuttle/boot-status.json"
	settingsHashPath = "cuttle/.boot-settings.sha256"
)

// maxFileSize bounds every file read from the boot partition.
const maxFileSize = 64 << 10

// Options say where to read and write, and how to reach the system.
type Options struct {
	// BootDir is where the FAT boot partition is mounted (/boot).
	BootDir string
	// DataDir is where the data partition is mounted (/data).
	DataDir string
	// Now is the time stamped into the report.
	Now time.Time
	// SetHostname, when not nil, applies the hostname to the running system.
	SetHostname func(name string) error
	// ValidateSettings, when not nil, checks the settings YAML before it is
	// copied to the device's settings file.
	ValidateSettings func(yaml []byte) error
}

// Item is the outcome for one file or setting.
type Item struct {
	Name    string   `json:"name"`
	OK      bool     `json:"ok"`
	Message string   `json:"message"`
	Notes   []string `json:"notes,omitempty"`
}

// Report is what Apply did; it is written to the boot partition as text and
// to the data partition as JSON.
type Report struct {
	Time  time.Time `json:"time"`
	OK    bool      `json:"ok"`
	Items []Item    `json:"items"`
}

// Apply reads the boot-partition files, applies them and writes the report
// to BootDir/cuttle-status.txt and DataDir/cuttle/boot-status.json. Problems
// with the user's files are recorded in the report, not returned; the error
// is for failures to write the outputs themselves.
func Apply(o Options) (Report, error) {
	r := Report{Time: o.Now.UTC()}
	r.add(applyHostname(o))
	r.add(applySettings(o))
	r.add(applyWifi(o))
	r.add(applyKeys(o))
	r.OK = true
	for _, it := range r.Items {
		r.OK = r.OK && it.OK
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return r, fmt.Errorf("bootcfg: encode report: %w", err)
	}
	errJSON := writeFile(filepath.Join(o.DataDir, StatusJSONPath), append(js, '\n'), 0o644)
	errText := writeFile(filepath.Join(o.BootDir, StatusFile), r.Text(), 0o644)
	return r, errors.Join(errJSON, errText)
}

func (r *Report) add(it Item) { r.Items = append(r.Items, it) }

// Text renders the report for people: the status file on the boot
// partition, with CRLF line ends so that Notepad shows it properly.
func (r Report) Text() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "cuttle boot status, %s\n", r.Time.Format("2006-01-02 15:04:05 MST"))
	if r.OK {
		b.WriteString("Everything on the boot partition was applied.\n\n")
	} else {
		b.WriteString("SOMETHING NEEDS FIXING: see the lines marked ERROR below.\n\n")
	}
	for _, it := range r.Items {
		mark := "ok   "
		if !it.OK {
			mark = "ERROR"
		}
		fmt.Fprintf(&b, "[%s] %s: %s\n", mark, it.Name, it.Message)
		for _, n := range it.Notes {
			fmt.Fprintf(&b, "        note: %s\n", n)
		}
	}
	return []byte(strings.ReplaceAll(b.String(), "\n", "\r\n"))
}

// readBoot reads a boot-partition file; ok is false when it does not exist.
func readBoot(o Options, name string) (data []byte, ok bool, err error) {
	p := filepath.Join(o.BootDir, name)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, true, err
	}
	if len(data) > maxFileSize {
		return nil, true, fmt.Errorf("%s is larger than %d KiB", name, maxFileSize>>10)
	}
	return data, true, nil
}

// settingsFile is cuttle.yaml split into the hostname and the rest.
type settingsFile struct {
	hostname string
	rest     map[string]any
}

func readSettings(o Options) (settingsFile, bool, error) {
	data, ok, err := readBoot(o, SettingsFile)
	if !ok || err != nil {
		return settingsFile{}, ok, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return settingsFile{}, true, fmt.Errorf("%s is not valid YAML: %w", SettingsFile, err)
	}
	var s settingsFile
	if h, ok := m["hostname"]; ok {
		hs, isStr := h.(string)
		if !isStr {
			return settingsFile{}, true, fmt.Errorf("%s: hostname must be text, not %v", SettingsFile, h)
		}
		s.hostname = hs
		delete(m, "hostname")
	}
	s.rest = m
	return s, true, nil
}

func applyHostname(o Options) Item {
	it := Item{Name: "hostname"}
	s, ok, err := readSettings(o)
	if err != nil {
		it.Message = err.Error()
		return it
	}
	if !ok || s.hostname == "" {
		it.OK = true
		it.Message = "not set in " + SettingsFile + "; keeping the default"
		return it
	}
	name := strings.ToLower(strings.TrimSpace(s.hostname))
	if err := ValidHostname(name); err != nil {
		it.Message = fmt.Sprintf("%s: %v; keeping the previous name", SettingsFile, err)
		return it
	}
	if err := writeFile(filepath.Join(o.DataDir, HostnamePath), []byte(name+"\n"), 0o644); err != nil {
		it.Message = err.Error()
		return it
	}
	if o.SetHostname != nil {
		if err := o.SetHostname(name); err != nil {
			it.Message = fmt.Sprintf("could not set hostname %q: %v", name, err)
			return it
		}
	}
	it.OK = true
	it.Message = fmt.Sprintf("%s (http://%s.local)", name, name)
	return it
}

// ValidHostname reports whether name is a usable single-label host name:
// 1 to 63 lower-case letters, digits and dashes, not starting or ending with
// a dash.
func ValidHostname(name string) error {
	if name == "" || len(name) > 63 {
		return fmt.Errorf("hostname %q must be 1 to 63 characters", name)
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' && i > 0 && i < len(name)-1
		if !ok {
			return fmt.Errorf("hostname %q may only hold letters, digits and dashes (not at either end)", name)
		}
	}
	return nil
}

func applySettings(o Options) Item {
	it := Item{Name: "settings"}
	s, ok, err := readSettings(o)
	if err != nil {
		it.Message = err.Error()
		return it
	}
	if !ok || len(s.rest) == 0 {
		it.OK = true
		it.Message = "no settings besides the hostname in " + SettingsFile
		return it
	}
	out, err := yaml.Marshal(s.rest)
	if err != nil {
		it.Message = fmt.Sprintf("%s: %v", SettingsFile, err)
		return it
	}
	sum := sha256.Sum256(out)
	hash := hex.EncodeToString(sum[:])
	hashFile := filepath.Join(o.DataDir, settingsHashPath)
	if prev, err := os.ReadFile(hashFile); err == nil && strings.TrimSpace(string(prev)) == hash {
		it.OK = true
		it.Message = "unchanged since the last boot; the device's own settings are kept"
		return it
	}
	if o.ValidateSettings != nil {
		if err := o.ValidateSettings(out); err != nil {
			it.Message = fmt.Sprintf("%s: %v; the device's settings were not changed", SettingsFile, err)
			return it
		}
	}
	if err := writeFile(filepath.Join(o.DataDir, ConfigPath), out, 0o640); err != nil {
		it.Message = err.Error()
		return it
	}
	if err := writeFile(hashFile, []byte(hash+"\n"), 0o644); err != nil {
		it.Message = err.Error()
		return it
	}
	it.OK = true
	it.Message = "copied to the device's settings"
	return it
}

func applyWifi(o Options) Item {
	it := Item{Name: "Wi-Fi"}
	conf := filepath.Join(o.DataDir, WPAConfPath)
	kept := ""
	if _, err := os.Stat(conf); err == nil {
		kept = "; the previous Wi-Fi settings are kept"
	}
	data, ok, err := readBoot(o, WifiFile)
	if err != nil {
		it.Message = fmt.Sprintf("%s: %v%s", WifiFile, err, kept)
		return it
	}
	if !ok {
		it.OK = true
		it.Message = "no " + WifiFile + "; Wi-Fi settings unchanged"
		return it
	}
	w, notes, err := ParseWifi(data)
	it.Notes = notes
	if err != nil {
		it.Message = err.Error() + kept
		if kept == "" {
			it.Message += "; Wi-Fi is not configured"
		}
		return it
	}
	if w.SSID == "" {
		if err := os.Remove(conf); err != nil && !errors.Is(err, fs.ErrNotExist) {
			it.Message = err.Error()
			return it
		}
		it.OK = true
		it.Message = "no network named in " + WifiFile + "; Wi-Fi is off (Ethernet only)"
		return it
	}
	if err := writeFile(conf, w.WPASupplicantConf(), 0o600); err != nil {
		it.Message = err.Error()
		return it
	}
	it.OK = true
	it.Message = fmt.Sprintf("joining %q (country %s)", w.SSID, w.Country)
	return it
}

func applyKeys(o Options) Item {
	it := Item{Name: "SSH"}
	dst := filepath.Join(o.DataDir, AuthorizedKeys)
	data, ok, err := readBoot(o, KeysFile)
	if err != nil {
		it.Message = fmt.Sprintf("%s: %v; SSH unchanged", KeysFile, err)
		return it
	}
	if !ok {
		if err := os.Remove(dst); err != nil && !errors.Is(err, fs.ErrNotExist) {
			it.Message = err.Error()
			return it
		}
		it.OK = true
		it.Message = "no " + KeysFile + "; SSH is off"
		return it
	}
	var keys []string
	for i, l := range lines(data) {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(l)); err != nil {
			it.Message = fmt.Sprintf("%s line %d is not an SSH public key (%v); SSH unchanged", KeysFile, i+1, err)
			return it
		}
		keys = append(keys, l)
	}
	if len(keys) == 0 {
		it.Message = KeysFile + " holds no key; SSH unchanged"
		return it
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		it.Message = err.Error()
		return it
	}
	if err := writeFile(dst, []byte(strings.Join(keys, "\n")+"\n"), 0o600); err != nil {
		it.Message = err.Error()
		return it
	}
	it.OK = true
	it.Message = fmt.Sprintf("SSH on, key login only (%d key(s))", len(keys))
	return it
}

// writeFile writes data to path through a temporary file, syncs it and
// renames it into place, creating parent directories: a power cut leaves
// the old or the new file, never half of one.
func writeFile(path string, data []byte, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("bootcfg: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("bootcfg: write %q: %w", path, err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("bootcfg: write %q: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// ReadReport reads the JSON report Apply left in the data partition, given
// cuttle's data directory (DataDir/cuttle). It returns an error wrapping
// fs.ErrNotExist when there is none: cuttle is not running on the image, or
// the image never ran cuttle-bootconfig.
func ReadReport(cuttleDir string) (Report, error) {
	var r Report
	p := filepath.Join(cuttleDir, filepath.Base(StatusJSONPath))
	b, err := os.ReadFile(p)
	if err != nil {
		return r, fmt.Errorf("bootcfg: %w", err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("bootcfg: read %q: %w", p, err)
	}
	return r, nil
}
