package virtualprinter_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/virtualprinter"
)

// Ensure that a file on the card is listed, selected and printed to the end, with M27
// reporting progress and M105 in the file answering nothing.
func TestSDPrint(t *testing.T) {
	h := startHost(t, virtualprinter.Config{TimeScale: 1000})
	file := "G28 ; home\nG1 X10 Y10 F3000\nM105\n\nG1 X20\nG1 X30 ; last"
	if err := h.p.AddSDFile("cube.gcode", []byte(file)); err != nil {
		t.Fatal(err)
	}
	if err := h.p.AddSDFile("../evil", nil); err == nil {
		t.Errorf("AddSDFile(../evil) = nil; want an error")
	}
	size := itoa(len(file))
	if got, want := h.roundTrip("M20 L"), []string{"Begin file list", "CUBE~1.GCO " + size + " cube.gcode", "End file list", "ok"}; !slices.Equal(got, want) {
		t.Errorf("M20 L -> %q; want %q", got, want)
	}
	if got, want := h.roundTrip("M20"), []string{"Begin file list", "CUBE~1.GCO " + size, "End file list", "ok"}; !slices.Equal(got, want) {
		t.Errorf("M20 -> %q; want %q", got, want)
	}
	want := []string{"echo:Now fresh file: CUBE~1.GCO", "File opened: CUBE~1.GCO Size: " + size, "File selected", "ok"}
	if got := h.roundTrip("M23 CUBE~1.GCO"); !slices.Equal(got, want) {
		t.Errorf("M23 -> %q; want %q", got, want)
	}
	if got := h.roundTrip("M27 C"); !slices.Equal(got, []string{"Current file: CUBE~1.GCO cube.gcode", "ok"}) {
		t.Errorf("M27 C -> %q", got)
	}
	h.roundTrip("M24")
	got := h.until("Done printing file")
	for _, l := range got {
		if strings.HasPrefix(l, "ok") {
			t.Errorf("SD print sent %q; commands from the card are not acknowledged", l)
		}
	}
	if got := h.roundTrip("M114"); got[0] != "X:30.00 Y:10.00 Z:0.00 E:0.00 Count X:2400 Y:800 Z:0" {
		t.Errorf("M114 after the print -> %q; want X:30 Y:10", got)
	}
	if got := h.roundTrip("M27"); got[0] != "Not SD printing" {
		t.Errorf("M27 after the print -> %q", got)
	}
	wantEx := []string{"M20 L", "M20", "M23 CUBE~1.GCO", "M27 C", "M24", "M114", "M27"}
	if ex := h.p.Executed(); !slices.Equal(ex, wantEx) {
		t.Errorf("Executed() = %q; want %q (SD lines excluded)", ex, wantEx)
	}
}

// Ensure that M25 pauses an SD print, M26 moves in the file, M27 reports the byte
// position and M27 S auto-reports it.
func TestSDPauseAndStatus(t *testing.T) {
	h := startHost(t, virtualprinter.Config{TimeScale: 20})
	var b strings.Builder
	for range 200 { // 10 mm moves at 10 mm/s: 50 ms each in real time
		b.WriteString("G1 X10 F600\nG1 X0\n")
	}
	if err := h.p.AddSDFile("PART.GCO", []byte(b.String())); err != nil {
		t.Fatal(err)
	}
	h.roundTrip("M23 part.gco")
	if got := h.roundTrip("M27"); got[0] != "SD printing byte 0/"+itoa(b.Len()) {
		t.Errorf("M27 after M23 -> %q; want SD printing byte 0/%d", got, b.Len())
	}
	h.roundTrip("M26 S0")
	h.send("M24\n")
	h.until("ok")
	h.send("M25\n")
	got := h.until("ok")
	if !slices.Contains(got, "//action:prompt_begin Pause SD") {
		t.Errorf("M25 -> %q; want a Pause SD prompt", got)
	}
	size := b.Len()
	got = h.roundTrip("M27")
	if !strings.HasPrefix(got[0], "SD printing byte ") || !strings.HasSuffix(got[0], "/"+itoa(size)) {
		t.Errorf("M27 while paused -> %q; want SD printing byte n/%d", got, size)
	}
	h.roundTrip("M26 S100")
	if got := h.roundTrip("M27"); got[0] != "SD printing byte 100/"+itoa(size) {
		t.Errorf("M27 after M26 S100 -> %q", got)
	}
	h.roundTrip("M27 S1")
	if l := h.next(); l != "SD printing byte 100/"+itoa(size) {
		t.Errorf("auto-report -> %q", l)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// Ensure that M28/M29 upload numbered lines into a file without executing them, and M30
// deletes it, on a card backed by a directory.
func TestSDUploadAndDelete(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "old.gcode"), []byte("G28\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := startHost(t, virtualprinter.Config{SDDir: dir})
	if got := h.roundTrip("M20 L"); !slices.Contains(got, "OLD~1.GCO 4 old.gcode") {
		t.Errorf("M20 L -> %q; want the directory's file", got)
	}
	steps := []struct{ send, want string }{
		{numbered(1, "M28 up.gcode"), "Writing to file: up.gcode"},
		{numbered(2, "G1 X1"), "ok"},
		{numbered(3, "G1 X2"), "ok"},
		{"G1 X3", "Error:No Checksum with line number, Last Line: 3"}, // uploads must be numbered
		{numbered(4, "M29"), "Done saving file."},
	}
	for _, st := range steps {
		if got := h.roundTrip(st.send); got[0] != st.want {
			t.Errorf("%q -> %q; want %q first", st.send, got, st.want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "up.gcode")); err != nil || string(b) != "G1 X1\r\nG1 X2\r\n" {
		t.Errorf("uploaded file = %q, %v; want the two lines", b, err)
	}
	if got := h.roundTrip("M30 up.gcode"); got[0] != "File deleted:up.gcode" {
		t.Errorf("M30 -> %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "up.gcode")); !os.IsNotExist(err) {
		t.Errorf("file still there after M30: %v", err)
	}
	if got := h.roundTrip("M30 up.gcode"); got[0] != "Deletion failed, File: up.gcode." {
		t.Errorf("second M30 -> %q", got)
	}
	want := []string{"M20 L", "M28 up.gcode", "M29", "M30 up.gcode", "M30 up.gcode"}
	if ex := h.p.Executed(); !slices.Equal(ex, want) {
		t.Errorf("Executed() = %q; want %q (uploaded lines are stored, not executed)", ex, want)
	}
}
