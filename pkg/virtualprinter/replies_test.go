package virtualprinter_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

// Ensure that each command draws Marlin's reply lines, ending in ok.
func TestReplies(t *testing.T) {
	tests := []struct {
		name string
		send []string // sent in order; only the replies to the last are checked
		want []string
	}{
		{"M105", []string{"M105"}, []string{"ok T:25.00 /0.00 B:25.00 /0.00 @:0 B@:0"}},
		{"unknown", []string{"M9999"}, []string{`echo:Unknown command: "M9999"`, "ok"}},
		{"unknown with args", []string{"M9999 X1"}, []string{`echo:Unknown command: "M9999 X1"`, "ok"}},
		{"not a command", []string{"hello"}, []string{`echo:Unknown command: "hello"`, "ok"}},
		{"M114 at power-on", []string{"M114"}, []string{"X:0.00 Y:0.00 Z:0.00 E:0.00 Count X:0 Y:0 Z:0", "ok"}},
		{"absolute move", []string{"G1 X10 Y5 Z0.2 F6000", "M114"}, []string{"X:10.00 Y:5.00 Z:0.20 E:0.00 Count X:800 Y:400 Z:80", "ok"}},
		{"relative move", []string{"G1 X10", "G91", "G1 X5 Y-2", "G90", "M114"}, []string{"X:15.00 Y:-2.00 Z:0.00 E:0.00 Count X:1200 Y:-160 Z:0", "ok"}},
		{"relative E", []string{"M83", "G1 E2", "G1 E3", "M114"}, []string{"X:0.00 Y:0.00 Z:0.00 E:5.00 Count X:0 Y:0 Z:0", "ok"}},
		{"absolute E", []string{"M82", "G1 E2", "G1 E3", "M114"}, []string{"X:0.00 Y:0.00 Z:0.00 E:3.00 Count X:0 Y:0 Z:0", "ok"}},
		{"G92", []string{"G1 X10", "G92 X0 E5", "M114"}, []string{"X:0.00 Y:0.00 Z:0.00 E:5.00 Count X:800 Y:0 Z:0", "ok"}},
		{"inches", []string{"G20", "G1 X1", "G21", "M114"}, []string{"X:25.40 Y:0.00 Z:0.00 E:0.00 Count X:2032 Y:0 Z:0", "ok"}},
		{"lower case", []string{"g1 x3", "m114"}, []string{"X:3.00 Y:0.00 Z:0.00 E:0.00 Count X:240 Y:0 Z:0", "ok"}},
		{"comment stripped", []string{"G1 X7 ; move", "M114 ;where"}, []string{"X:7.00 Y:0.00 Z:0.00 E:0.00 Count X:560 Y:0 Z:0", "ok"}},
		{"targets", []string{"M104 S200", "M140 S60", "M105"}, nil}, // checked below
		{"M118 action", []string{"M118 A1 action:pause"}, []string{"//action:pause", "ok"}},
		{"M118 echo", []string{"M118 E1 hello there"}, []string{"echo:hello there", "ok"}},
		{"M118 plain", []string{"M118 hi"}, []string{"hi", "ok"}},
		{"feedrate report", []string{"M220 S150", "M220"}, []string{"FR:150%", "ok"}},
		{"flow report", []string{"M221 S95", "M221"}, []string{"echo:E0 Flow: 95%", "ok"}},
		{"bad extruder", []string{"T1"}, []string{"echo:Invalid extruder 1", "ok"}},
		{"T0", []string{"T0"}, []string{"ok"}},
		{"M104 bad tool", []string{"M104 T2 S200"}, []string{"echo:Invalid extruder 2", "ok"}},
		{"keepalive interval", []string{"M113 S5", "M113"}, []string{"echo:M113 S5", "ok"}},
		{"progress, LCD, motors", []string{"M73 P10 R5", "M117 hello", "M84"}, []string{"ok"}},
		{"fan", []string{"M106 S128", "M107"}, []string{"ok"}},
		{"machine limits", []string{"M201 X500 Y500", "M203 X500 Y500 Z12 E120", "M204 P500 R1000 T500", "M205 X8 Y8"}, []string{"ok"}},
		{"M400 idle", []string{"M400"}, []string{"ok"}},
		{"no SD file", []string{"M23 missing.gcode"}, []string{"open failed, File: missing.gcode.", "ok"}},
		{"M27 idle", []string{"M27"}, []string{"Not SD printing", "ok"}},
		{"SD release", []string{"M22"}, []string{"echo:SD card released", "ok"}},
		{"SD init", []string{"M21"}, []string{"echo:SD card ok", "ok"}},
		{"empty list", []string{"M20"}, []string{"Begin file list", "End file list", "ok"}},
		{"M110", []string{"M110 N5"}, []string{"ok"}},
		{"arc I J", []string{"G1 X10 Y0", "G2 X0 Y10 I-10 J0", "M114"}, []string{"X:0.00 Y:10.00 Z:0.00 E:0.00 Count X:0 Y:800 Z:0", "ok"}},
		{"arc R", []string{"G3 X10 Y10 R10", "M114"}, []string{"X:10.00 Y:10.00 Z:0.00 E:0.00 Count X:800 Y:800 Z:0", "ok"}},
		{"arc without centre", []string{"G2 X10 Y10"}, []string{"Error:G2/G3 bad parameters", "ok"}},
		{"arc radius too small", []string{"G2 X10 Y0 R2"}, []string{"Error:G2/G3 bad parameters", "ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startHost(t, virtualprinter.Config{TimeScale: 1000})
			var got []string
			for _, c := range tt.send {
				got = h.roundTrip(c)
			}
			if tt.want == nil {
				if len(got) != 1 || !strings.HasPrefix(got[0], "ok T:") || !strings.Contains(got[0], "/200.00 B:") || !strings.Contains(got[0], "/60.00 @:") {
					t.Errorf("%q -> %q; want targets 200 and 60", tt.send, got)
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("%q -> %q; want %q", tt.send, got, tt.want)
			}
			if ex := h.p.Executed(); !slices.Equal(ex, stripComments(tt.send)) {
				t.Errorf("Executed() = %q; want %q", ex, stripComments(tt.send))
			}
		})
	}
}

func stripComments(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		if j := strings.IndexByte(l, ';'); j >= 0 {
			l = l[:j]
		}
		out[i] = strings.TrimSpace(l)
	}
	return out
}

// Ensure that M115 names the firmware and the capabilities a host relies on.
func TestM115(t *testing.T) {
	for _, adv := range []bool{false, true} {
		h := startHost(t, virtualprinter.Config{AdvancedOK: adv})
		got := h.roundTrip("M115")
		if !strings.HasPrefix(got[0], "FIRMWARE_NAME:Marlin 2.1.2.4 ") || !strings.Contains(got[0], "EXTRUDER_COUNT:1") {
			t.Errorf("M115 first line = %q; want FIRMWARE_NAME:Marlin 2.1.2.4 ...", got[0])
		}
		advCap := "Cap:ADVANCED_OK:0"
		if adv {
			advCap = "Cap:ADVANCED_OK:1"
		}
		for _, c := range []string{"Cap:AUTOREPORT_TEMP:1", "Cap:AUTOREPORT_SD_STATUS:1", "Cap:EMERGENCY_PARSER:1",
			"Cap:HOST_ACTION_COMMANDS:1", "Cap:PROMPT_SUPPORT:1", "Cap:SDCARD:1", "Cap:EXTENDED_M20:1", advCap} {
			if !slices.Contains(got, c) {
				t.Errorf("M115 (AdvancedOK %v) lacks %q: %q", adv, c, got)
			}
		}
	}
}

// Ensure that the banner starts with "start" and names the version.
func TestBanner(t *testing.T) {
	h := connect(t, virtualprinter.New(virtualprinter.Config{}))
	got := h.until("echo:SD card ok")
	if got[0] != "start" || got[1] != "echo:Marlin 2.1.2.4" {
		t.Errorf("banner = %q; want start, echo:Marlin 2.1.2.4, ...", got)
	}
}

// Ensure that empty and comment-only lines are ignored without an answer.
func TestEmptyLinesIgnored(t *testing.T) {
	h := startHost(t, virtualprinter.Config{})
	h.send("\n\r\n   \n; just a comment\n")
	if got := h.roundTrip("M110 N0"); !slices.Equal(got, []string{"ok"}) {
		t.Errorf("after empty lines, M110 -> %q; want [ok]", got)
	}
	if ex := h.p.Executed(); !slices.Equal(ex, []string{"M110 N0"}) {
		t.Errorf("Executed() = %q; want [M110 N0]", ex)
	}
}
