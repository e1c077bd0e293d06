package bootcfg

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Wifi is a parsed cuttle-wifi.txt. An empty SSID means "no Wi-Fi".
type Wifi struct {
	SSID       string
	Passphrase string // empty for an open network
	Country    string // ISO 3166-1 alpha-2, upper case
	Hidden     bool
}

// quotePairs are the quote characters editors wrap values in, opening and
// closing; straight quotes, typographic double and single quotes, German
// low-high quotes and guillemets.
var quotePairs = [][2]string{
	{`"`, `"`}, {"'", "'"}, {"\u201c", "\u201d"}, {"\u201d", "\u201d"}, {"\u201c", "\u201c"},
	{"\u2018", "\u2019"}, {"\u2019", "\u2019"}, {"\u201e", "\u201c"}, {"\u00ab", "\u00bb"},
}

// unquote strips one pair of quotes around v and reports whether they were
// typographic ("curly") ones.
func unquote(v string) (string, bool) {
	for _, q := range quotePairs {
		if len(v) >= len(q[0])+len(q[1]) && strings.HasPrefix(v, q[0]) && strings.HasSuffix(v, q[1]) {
			return v[len(q[0]) : len(v)-len(q[1])], q[0] != `"` && q[0] != "'"
		}
	}
	return v, false
}

// lines splits text into trimmed lines, dropping a UTF-8 byte-order mark and
// carriage returns.
func lines(data []byte) []string {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	out := strings.Split(string(data), "\n")
	for i, l := range out {
		out[i] = strings.TrimSpace(strings.TrimRight(l, "\r"))
	}
	return out
}

// ParseWifi reads cuttle-wifi.txt. It returns the settings, notes about
// things it corrected (for the status report), or an error naming the line
// and the problem.
func ParseWifi(data []byte) (Wifi, []string, error) {
	var w Wifi
	var notes []string
	if !utf8.Valid(data) {
		return w, nil, fmt.Errorf("%s is not UTF-8 text; save it as plain text (UTF-8)", WifiFile)
	}
	seen := map[string]int{}
	for i, l := range lines(data) {
		n := i + 1
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return w, notes, fmt.Errorf("%s line %d: %q is not NAME=VALUE", WifiFile, n, l)
		}
		key := strings.ToLower(strings.TrimSpace(k))
		switch key {
		case "psk", "passphrase", "pass", "key":
			key = "password"
		case "network", "name":
			key = "ssid"
		}
		if prev, dup := seen[key]; dup {
			return w, notes, fmt.Errorf("%s line %d: %s is already set on line %d", WifiFile, n, key, prev)
		}
		seen[key] = n
		val, curly := unquote(strings.TrimSpace(v))
		if curly {
			notes = append(notes, fmt.Sprintf("%s line %d: removed curly quotes around the %s", WifiFile, n, key))
		}
		switch key {
		case "ssid":
			w.SSID = val
		case "password":
			w.Passphrase = val
		case "country":
			w.Country = val
		case "hidden":
			b, err := parseBool(val)
			if err != nil {
				return w, notes, fmt.Errorf("%s line %d: hidden must be yes or no, not %q", WifiFile, n, val)
			}
			w.Hidden = b
		default:
			return w, notes, fmt.Errorf("%s line %d: unknown setting %q (known: ssid, password, country, hidden)", WifiFile, n, k)
		}
	}
	return w, notes, w.validate()
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "no", "n", "off", "false", "0":
		return false, nil
	case "yes", "y", "on", "true", "1":
		return true, nil
	}
	return false, fmt.Errorf("not yes or no: %q", s)
}

func (w *Wifi) validate() error {
	if w.SSID == "" {
		if w.Passphrase != "" {
			return fmt.Errorf("%s: a password is set but ssid is empty; write your network's name after ssid=", WifiFile)
		}
		return nil
	}
	if len(w.SSID) > 32 {
		return fmt.Errorf("%s: ssid %q is %d bytes long; network names have at most 32", WifiFile, w.SSID, len(w.SSID))
	}
	if p := w.Passphrase; p != "" && !isHexKey(p) {
		for _, r := range p {
			if r < 0x20 || r > 0x7e {
				return fmt.Errorf("%s: the password contains %q; Wi-Fi passwords are plain ASCII letters, digits and symbols", WifiFile, r)
			}
		}
		if len(p) < 8 || len(p) > 63 {
			return fmt.Errorf("%s: the password must be 8 to 63 characters long (yours has %d)", WifiFile, len(p))
		}
	}
	c := strings.ToUpper(w.Country)
	if c == "" {
		return fmt.Errorf("%s: country is empty; write your two-letter country code (GB, US, DE, ...) after country=", WifiFile)
	}
	if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
		return fmt.Errorf("%s: country %q is not a two-letter code such as GB, US or DE", WifiFile, w.Country)
	}
	w.Country = c
	return nil
}

func isHexKey(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// WPASupplicantConf renders the settings as a wpa_supplicant configuration
// file. The SSID is written hex-encoded so that no character in it needs
// quoting; a passphrase is written quoted (wpa_supplicant takes everything
// up to the last quote), a 64-digit hex key raw.
func (w Wifi) WPASupplicantConf() []byte {
	var b strings.Builder
	b.WriteString("# Written by cuttle from cuttle-wifi.txt on the boot partition; edit that file instead.\n")
	b.WriteString("ctrl_interface=/run/wpa_supplicant\n")
	fmt.Fprintf(&b, "country=%s\n\nnetwork={\n", w.Country)
	fmt.Fprintf(&b, "\tssid=%s\n", hex.EncodeToString([]byte(w.SSID)))
	if w.Hidden {
		b.WriteString("\tscan_ssid=1\n")
	}
	switch {
	case w.Passphrase == "":
		b.WriteString("\tkey_mgmt=NONE\n")
	case isHexKey(w.Passphrase):
		fmt.Fprintf(&b, "\tpsk=%s\n", strings.ToLower(w.Passphrase))
	default:
		fmt.Fprintf(&b, "\tpsk=\"%s\"\n", w.Passphrase)
		b.WriteString("\tkey_mgmt=WPA-PSK SAE\n\tieee80211w=1\n")
	}
	b.WriteString("}\n")
	return []byte(b.String())
}
