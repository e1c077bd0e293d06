package bootcfg_test

import (
	"strings"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/bootcfg"
)

func TestParseWifi(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    bootcfg.Wifi
		notes   int
		wantErr string // substring of the error; "" for success
	}{
		{name: "template left empty", in: "# comment\nssid=\npassword=\ncountry=\nhidden=no\n"},
		{name: "plain", in: "ssid=Home\npassword=secret123\ncountry=GB\n",
			want: bootcfg.Wifi{SSID: "Home", Passphrase: "secret123", Country: "GB"}},
		{name: "notepad: BOM and CRLF", in: "\ufeffssid=Home\r\npassword=secret123\r\ncountry=de\r\n",
			want: bootcfg.Wifi{SSID: "Home", Passphrase: "secret123", Country: "DE"}},
		{name: "textedit curly quotes", in: "ssid=\u201cMy Net\u201d\npassword=\u201csecret 123\u201d\ncountry=US",
			want: bootcfg.Wifi{SSID: "My Net", Passphrase: "secret 123", Country: "US"}, notes: 2},
		{name: "straight quotes and spaces", in: "  ssid = \"Cafe\" \n password = 'pa ss word'\ncountry = fr\nhidden=yes\n",
			want: bootcfg.Wifi{SSID: "Cafe", Passphrase: "pa ss word", Country: "FR", Hidden: true}},
		{name: "alias psk", in: "ssid=X\npsk=12345678\ncountry=NL\n",
			want: bootcfg.Wifi{SSID: "X", Passphrase: "12345678", Country: "NL"}},
		{name: "open network", in: "ssid=Guest\ncountry=GB\n", want: bootcfg.Wifi{SSID: "Guest", Country: "GB"}},
		{name: "hex key", in: "ssid=X\ncountry=GB\npassword=" + strings.Repeat("ab", 32) + "\n",
			want: bootcfg.Wifi{SSID: "X", Passphrase: strings.Repeat("ab", 32), Country: "GB"}},
		{name: "short password", in: "ssid=X\npassword=short\ncountry=GB\n", wantErr: "8 to 63 characters long (yours has 5)"},
		{name: "missing country", in: "ssid=X\npassword=longenough\n", wantErr: "country is empty"},
		{name: "bad country", in: "ssid=X\npassword=longenough\ncountry=UK1\n", wantErr: `country "UK1"`},
		{name: "typo in key", in: "ssid=X\npasword=longenough\n", wantErr: `line 2: unknown setting "pasword"`},
		{name: "not key=value", in: "ssid X\n", wantErr: "line 1:"},
		{name: "duplicate", in: "ssid=A\nssid=B\n", wantErr: "line 2: ssid is already set on line 1"},
		{name: "password without ssid", in: "password=longenough\n", wantErr: "ssid is empty"},
		{name: "ssid too long", in: "ssid=" + strings.Repeat("n", 33) + "\ncountry=GB\n", wantErr: "at most 32"},
		{name: "non-ascii password", in: "ssid=X\npassword=passw\u00f6rd1\ncountry=GB\n", wantErr: "plain ASCII"},
		{name: "hidden garbage", in: "ssid=X\nhidden=maybe\n", wantErr: "hidden must be yes or no"},
		{name: "not utf-8", in: "ssid=\xff\xfe\n", wantErr: "not UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, notes, err := bootcfg.ParseWifi([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseWifi(%q) error = %v; want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseWifi(%q) error = %v; want nil", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseWifi(%q) = %+v; want %+v", tt.in, got, tt.want)
			}
			if len(notes) != tt.notes {
				t.Errorf("ParseWifi(%q) notes = %q; want %d notes", tt.in, notes, tt.notes)
			}
		})
	}
}

func TestWPASupplicantConf(t *testing.T) {
	tests := []struct {
		name string
		w    bootcfg.Wifi
		want []string
	}{
		{"psk with quote", bootcfg.Wifi{SSID: `a"b`, Passphrase: `p"ss word`, Country: "GB"},
			[]string{"country=GB\n", "ssid=612262\n", "psk=\"p\"ss word\"\n", "key_mgmt=WPA-PSK SAE\n"}},
		{"open hidden", bootcfg.Wifi{SSID: "Guest", Country: "US", Hidden: true},
			[]string{"ssid=4775657374\n", "scan_ssid=1\n", "key_mgmt=NONE\n"}},
		{"hex key", bootcfg.Wifi{SSID: "X", Passphrase: strings.Repeat("AB", 32), Country: "DE"},
			[]string{"psk=" + strings.Repeat("ab", 32) + "\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(tt.w.WPASupplicantConf())
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("WPASupplicantConf(%+v) = %q; want it to contain %q", tt.w, got, w)
				}
			}
		})
	}
}

func TestValidHostname(t *testing.T) {
	for _, ok := range []string{"cuttle", "cuttle-2", "a", "prusa-mk4", strings.Repeat("x", 63)} {
		if err := bootcfg.ValidHostname(ok); err != nil {
			t.Errorf("ValidHostname(%q) = %v; want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "-x", "x-", "my printer", "café", "a.b", "UPPER", strings.Repeat("x", 64)} {
		if err := bootcfg.ValidHostname(bad); err == nil {
			t.Errorf("ValidHostname(%q) = nil; want an error", bad)
		}
	}
}
