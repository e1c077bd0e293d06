package protocol_test

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/protocol"
)

func f(v float64) *float64 { return &v }

func rd(actual float64, target *float64) protocol.Reading {
	return protocol.Reading{Actual: actual, Target: target}
}

func show(v any) string {
	switch t := v.(type) {
	case protocol.Temperatures:
		var b strings.Builder
		for i, r := range t.Tools {
			fmt.Fprintf(&b, "T%d=%s ", i, showR(r))
		}
		if t.Bed != nil {
			fmt.Fprintf(&b, "B=%s ", showR(*t.Bed))
		}
		if t.Chamber != nil {
			fmt.Fprintf(&b, "C=%s ", showR(*t.Chamber))
		}
		for _, k := range slices.Sorted(maps.Keys(t.Extra)) {
			fmt.Fprintf(&b, "%s=%s ", k, showR(t.Extra[k]))
		}
		fmt.Fprintf(&b, "power=%v", t.Power)
		return b.String()
	}
	return fmt.Sprintf("%#v", v)
}

func showR(r protocol.Reading) string {
	if r.Target == nil {
		return fmt.Sprintf("%g/nil", r.Actual)
	}
	return fmt.Sprintf("%g/%g", r.Actual, *r.Target)
}

func TestParseTemperatures(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       protocol.Temperatures
	}{
		{"marlin", "T:25.45 /0.00 B:25.45 /0.00 @:0 B@:0", protocol.Temperatures{
			Tools: []protocol.Reading{rd(25.45, f(0))}, Bed: &protocol.Reading{Actual: 25.45, Target: f(0)},
			Power: map[string]float64{"@": 0, "B@": 0}}},
		{"marlin two tools", "T:20.0 /0.0 B:20.0 /60.0 T0:20.0 /0.0 T1:21.0 /200.0 @:0 B@:0 @0:0 @1:127", protocol.Temperatures{
			Tools: []protocol.Reading{rd(20, f(0)), rd(21, f(200))}, Bed: &protocol.Reading{Actual: 20, Target: f(60)},
			Power: map[string]float64{"@": 0, "B@": 0, "@0": 0, "@1": 127}}},
		{"marlin chamber", "T:25.0 /0.0 B:24.0 /0.0 C:30.5 /40.0 @:0 B@:0", protocol.Temperatures{
			Tools: []protocol.Reading{rd(25, f(0))}, Bed: &protocol.Reading{Actual: 24, Target: f(0)},
			Chamber: &protocol.Reading{Actual: 30.5, Target: f(40)}, Power: map[string]float64{"@": 0, "B@": 0}}},
		{"rrf", "T:25.0 /0.0 B:24.9 /0.0", protocol.Temperatures{
			Tools: []protocol.Reading{rd(25, f(0))}, Bed: &protocol.Reading{Actual: 24.9, Target: f(0)}}},
		{"smoothie", "T:21.5 /0.0 @0 B:21.4 /0.0 @0", protocol.Temperatures{
			Tools: []protocol.Reading{rd(21.5, f(0))}, Bed: &protocol.Reading{Actual: 21.4, Target: f(0)},
			Power: map[string]float64{"@": 0}}},
		{"klipper", "B:22.5 /0.0 T0:22.6 /215.0", protocol.Temperatures{
			Tools: []protocol.Reading{rd(22.6, f(215))}, Bed: &protocol.Reading{Actual: 22.5, Target: f(0)}}},
		{"prusa", "T:20.8 /0.0 B:20.9 /0.0 T0:20.8 /0.0 @:0 B@:0 P:22.9 A:26.0", protocol.Temperatures{
			Tools: []protocol.Reading{rd(20.8, f(0))}, Bed: &protocol.Reading{Actual: 20.9, Target: f(0)},
			Extra: map[string]protocol.Reading{"P": rd(22.9, nil), "A": rd(26, nil)},
			Power: map[string]float64{"@": 0, "B@": 0}}},
		{"compact targets", "T:210.0/215.0 B:60/60", protocol.Temperatures{
			Tools: []protocol.Reading{rd(210, f(215))}, Bed: &protocol.Reading{Actual: 60, Target: f(60)}}},
		{"m109 progress", "T:190.3 E:0 W:?", protocol.Temperatures{Tools: []protocol.Reading{rd(190.3, nil)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := protocol.ParseTemperatures(tc.line)
			if !ok || show(got) != show(tc.want) {
				t.Errorf("ParseTemperatures(%q) = %s, %v; want %s", tc.line, show(got), ok, show(tc.want))
			}
		})
	}
	for _, line := range []string{"X:0.00 Y:0.00 Z:0.00 E:0.00", "echo:hello", "T:abc", ""} {
		if _, ok := protocol.ParseTemperatures(line); ok {
			t.Errorf("ParseTemperatures(%q) = _, true; want false", line)
		}
	}
}

func TestParse(t *testing.T) {
	tp := protocol.Temperatures{Tools: []protocol.Reading{rd(25.45, f(0))}, Bed: &protocol.Reading{Actual: 25.45, Target: f(0)},
		Power: map[string]float64{"@": 0, "B@": 0}}
	for _, tc := range []struct {
		line string
		want protocol.Message
	}{
		{"ok", protocol.Ok{N: -1, P: -1, B: -1}},
		{"ok N123 P15 B3", protocol.Ok{N: 123, P: 15, B: 3}},
		{"ok P15 B3", protocol.Ok{N: -1, P: 15, B: 3}},
		{"ok T:25.45 /0.00 B:25.45 /0.00 @:0 B@:0", protocol.Ok{N: -1, P: -1, B: -1, Temps: &tp}},
		{"Resend: 4", protocol.Resend{Line: 4}},
		{"Resend:4", protocol.Resend{Line: 4}},
		{"rs N12", protocol.Resend{Line: 12}},
		{"rs 12", protocol.Resend{Line: 12}},
		{"echo:busy: processing", protocol.Busy{Reason: "processing"}},
		{"busy: paused for user", protocol.Busy{Reason: "paused for user"}},
		{"wait", protocol.Wait{}},
		{"start", protocol.Start{}},
		{"Error:checksum mismatch, Last Line: 3", protocol.Error{Text: "checksum mismatch, Last Line: 3"}},
		{"Error:Printer halted. kill() called!", protocol.Error{Text: "Printer halted. kill() called!", Fatal: true}},
		{"Error:Thermal Runaway, system stopped! Heater_ID: 0", protocol.Error{Text: "Thermal Runaway, system stopped! Heater_ID: 0", Fatal: true}},
		{"Error:MINTEMP triggered, system stopped! Heater_ID: bed", protocol.Error{Text: "MINTEMP triggered, system stopped! Heater_ID: bed", Fatal: true}},
		{"!! Lost communication with MCU 'mcu'", protocol.Error{Text: "Lost communication with MCU 'mcu'", Fatal: true}},
		{"//action:pause", protocol.Action{Name: "pause"}},
		{"//action:prompt_begin Filament runout", protocol.Action{Name: "prompt_begin", Params: "Filament runout"}},
		{"//action:notification Heating done", protocol.Action{Name: "notification", Params: "Heating done"}},
		{"Cap:AUTOREPORT_TEMP:1", protocol.Capability{Name: "AUTOREPORT_TEMP", Enabled: true}},
		{"Cap:EEPROM:0", protocol.Capability{Name: "EEPROM", Enabled: false}},
		{"X:10.00 Y:20.00 Z:0.30 E:1.50 Count X:800 Y:1600 Z:120", protocol.Position{X: 10, Y: 20, Z: 0.3, E: 1.5}},
		{"echo:Unknown command: \"M9999\"", protocol.UnknownCommand{Command: "M9999"}},
		{"SD card ok", protocol.SDState{Ready: true}},
		{"echo:SD init fail", protocol.SDState{Ready: false}},
		{"SD printing byte 123/4567", protocol.SDProgress{Pos: 123, Size: 4567}},
		{"Not SD printing", protocol.SDProgress{NotPrinting: true}},
		{"File opened: CUBE.GCO Size: 4567", protocol.SDFileOpened{Name: "CUBE.GCO", Size: 4567}},
		{"Done printing file", protocol.SDDone{}},
		{"echo:Active Extruder: 0", protocol.Echo{Text: "Active Extruder: 0"}},
		{"T:25.45 /0.00 B:25.45 /0.00 @:0 B@:0", tp},
		{"Marlin 2.1.2.4", protocol.Other{Text: "Marlin 2.1.2.4"}},
	} {
		var p protocol.Parser
		got := p.Parse(tc.line)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q) = %#v; want %#v", tc.line, got, tc.want)
		}
	}
}

func TestParse_FirmwareInfo(t *testing.T) {
	var p protocol.Parser
	line := "FIRMWARE_NAME:Marlin 2.1.2.4 (Github) SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin PROTOCOL_VERSION:1.0 MACHINE_TYPE:3D Printer EXTRUDER_COUNT:1 UUID:cede2a2f-41a2-4748-9b12-c55c62f367ff"
	got, ok := p.Parse(line).(protocol.FirmwareInfo)
	if !ok {
		t.Fatalf("Parse(%q) is not FirmwareInfo", line)
	}
	want := map[string]string{
		"FIRMWARE_NAME": "Marlin 2.1.2.4 (Github)", "SOURCE_CODE_URL": "github.com/MarlinFirmware/Marlin",
		"PROTOCOL_VERSION": "1.0", "MACHINE_TYPE": "3D Printer", "EXTRUDER_COUNT": "1", "UUID": "cede2a2f-41a2-4748-9b12-c55c62f367ff",
	}
	if got.Name != "Marlin 2.1.2.4 (Github)" || !reflect.DeepEqual(got.Fields, want) {
		t.Errorf("Parse(M115) = %q %v; want %v", got.Name, got.Fields, want)
	}
}

func TestParse_SDListing(t *testing.T) {
	var p protocol.Parser
	lines := []string{"Begin file list", "CUBE.GCO 4567", "/FOLDER/PART~1.GCO 123 part one.gcode", "End file list", "ok"}
	want := []protocol.Message{
		protocol.SDListBegin{}, protocol.SDFile{Name: "CUBE.GCO", Size: 4567},
		protocol.SDFile{Name: "/FOLDER/PART~1.GCO", Size: 123, LongName: "part one.gcode"},
		protocol.SDListEnd{}, protocol.Ok{N: -1, P: -1, B: -1},
	}
	for i, l := range lines {
		if got := p.Parse(l); !reflect.DeepEqual(got, want[i]) {
			t.Errorf("Parse(%q) = %#v; want %#v", l, got, want[i])
		}
	}
}

func TestFrame(t *testing.T) {
	// Checksums as Marlin computes them (and as OctoPrint's logs show).
	for _, tc := range []struct {
		n    int
		cmd  string
		want string
	}{
		{0, "M110 N0", "N0 M110 N0*125\n"},
		{1, "G28", "N1 G28*18\n"},
		{12, "G1 X10 Y10", "N12 G1 X10 Y10*26\n"},
	} {
		if got := protocol.Frame(tc.n, tc.cmd); got != tc.want {
			t.Errorf("Frame(%d, %q) = %q; want %q", tc.n, tc.cmd, got, tc.want)
		}
	}
}
