package gcode_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/gcode"
)

// fast are limits under which moves run at their programmed speed.
var fast = gcode.Limits{
	MaxAccel:    [4]float64{1e12, 1e12, 1e12, 1e12},
	MaxFeedrate: [4]float64{1e6, 1e6, 1e6, 1e6},
	Accel:       1e12, RetractAccel: 1e12, TravelAccel: 1e12,
	Jerk: [4]float64{1e6, 1e6, 1e6, 1e6},
}

func analyse(t *testing.T, src string, opts gcode.Options) *gcode.Result {
	t.Helper()
	res, err := gcode.Analyse(context.Background(), strings.NewReader(src), int64(len(src)), opts, nil)
	if err != nil {
		t.Fatalf("Analyse: %v", err)
	}
	return res
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

func TestAnalyseTime(t *testing.T) {
	tests := []struct {
		name string
		src  string
		opts gcode.Options
		want float64
	}{
		{"constant speed", "G1 X100 F6000\nG1 Y100\n", gcode.Options{Limits: fast}, 2},
		{"feedrate in mm/min carries over", "G0 X60 F3600\nG0 X0\n", gcode.Options{Limits: fast}, 2},
		{"dwell P ms and S s", "G4 P500\nG4 S2\n", gcode.Options{Limits: fast}, 2.5},
		{"M220 speeds up", "M220 S200\nG1 X100 F6000\n", gcode.Options{Limits: fast}, 0.5},
		{"max feedrate caps", "M203 X50\nG1 X100 F6000\n", gcode.Options{Limits: fast}, 2},
		{"file limits ignored on request", "M203 X50\nG1 X100 F6000\n", gcode.Options{Limits: fast, IgnoreFileLimits: true}, 1},
		{"inches", "G20\nG1 X1 F60\nG21\nG1 X26.4 F60\n", gcode.Options{Limits: fast}, 2},
		{"relative XYZ", "G91\nG1 X10 F600\nG1 X10\nG1 X10\n", gcode.Options{Limits: fast}, 3},
		// 3 mm at 45 mm/s, 3 mm at 8 mm/s (Marlin defaults); a repeated G10 is ignored.
		{"firmware retraction", "G10\nG10\nG11\n", gcode.Options{Limits: fast}, 3.0/45 + 3.0/8},
		{"firmware retraction set by M207/M208", "M207 S2 F600\nM208 S1 F600\nG10\nG11\n", gcode.Options{Limits: fast}, 0.2 + 0.3},
		{"G10 with P sets offsets", "G10 P1 X5\n", gcode.Options{Limits: fast}, 0},
		{"temperature waits are not timed", "M109 S210\nM190 S60\nG1 X10 F600\n", gcode.Options{Limits: fast}, 1},
		{"clockwise quarter arc", "G1 X10 Y0 F600\nG2 X0 Y-10 I-10 J0\n", gcode.Options{Limits: fast}, 1 + math.Pi*10/2/10},
		{"counter-clockwise arc by radius", "G1 X10 F600\nG3 X-10 Y0 R10\n", gcode.Options{Limits: fast}, 1 + math.Pi},
		// 100 mm at 100 mm/s with 1000 mm/s²: 0.1 s up, 0.9 s cruising, 0.1 s down.
		{"trapezoid", "M205 X0.0001 Y0.0001\nG1 X100 F6000\n", gcode.Options{Limits: gcode.Limits{Accel: 1000, TravelAccel: 1000, MaxAccel: [4]float64{1e6, 1e6, 1e6, 1e6}}}, 1.1},
		// 10 mm at up to 100 mm/s with 1000 mm/s²: a triangle, 0.1 s up and down.
		{"triangle", "M205 X0.0001 Y0.0001\nG1 X10 F6000\n", gcode.Options{Limits: gcode.Limits{Accel: 1000, TravelAccel: 1000, MaxAccel: [4]float64{1e6, 1e6, 1e6, 1e6}}}, 0.2},
		// M204 T sets travel acceleration: 100 mm at 100 mm/s with 500 mm/s² takes 1.2 s.
		{"M204 T for travel", "M204 P1000 T500\nM205 X0.0001 Y0.0001\nG1 X100 F6000\n", gcode.Options{Limits: gcode.Limits{MaxAccel: [4]float64{1e6, 1e6, 1e6, 1e6}}}, 1.2},
		// Same move extruding uses M204 P.
		{"M204 P for printing", "M204 P1000 T500\nM205 X0.0001 Y0.0001\nG1 X100 E5 F6000\n", gcode.Options{Limits: gcode.Limits{MaxAccel: [4]float64{1e6, 1e6, 1e6, 1e6}}}, 1.1},
		// Klipper: one acceleration for everything.
		{"SET_VELOCITY_LIMIT ACCEL", "SET_VELOCITY_LIMIT ACCEL=500 SQUARE_CORNER_VELOCITY=0.0001\nG1 X100 F6000\n", gcode.Options{Limits: gcode.Limits{MaxAccel: [4]float64{1e6, 1e6, 1e6, 1e6}}}, 1.2},
		{"SET_VELOCITY_LIMIT VELOCITY", "SET_VELOCITY_LIMIT VELOCITY=50\nG1 X100 F6000\n", gcode.Options{Limits: fast}, 2},
		// Legacy M204 S sets printing and travel acceleration.
		{"M204 S legacy", "M204 S1000\nM205 X0.0001 Y0.0001\nG1 X100 F6000\n", gcode.Options{Limits: gcode.Limits{MaxAccel: [4]float64{1e6, 1e6, 1e6, 1e6}}}, 1.1},
		{"G92 without axes zeroes the position", "G1 X50 F3000\nG92\nG1 X50\n", gcode.Options{Limits: fast}, 2},
		{"G92 X sets the position", "G1 X50 F3000\nG92 X0\nG1 X10\n", gcode.Options{Limits: fast}, 1.2},
		// M201 caps the axis acceleration under M204.
		{"M201 caps acceleration", "M204 P5000 T5000\nM201 X500\nM205 X0.0001 Y0.0001\nG1 X100 F6000\n", gcode.Options{Limits: gcode.Limits{MaxAccel: [4]float64{1e6, 1e6, 1e6, 1e6}}}, 1.2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := analyse(t, tt.src, tt.opts)
			if !near(res.EstimatedPrintTime, tt.want, 1e-3*tt.want+1e-6) {
				t.Errorf("estimatedPrintTime = %.6f; want %.6f", res.EstimatedPrintTime, tt.want)
			}
		})
	}
}

// TestAnalyseJunctions checks that corners cost time under each model and
// that a straight line split into pieces costs nothing extra.
func TestAnalyseJunctions(t *testing.T) {
	lim := gcode.Limits{Accel: 1000, TravelAccel: 1000, Jerk: [4]float64{5, 5, 0.4, 5}, JunctionDeviation: 0.02}
	straight := "G1 X50 F6000\nG1 X100\n"
	one := "G1 X100 F6000\n"
	corner := "G1 X50 F6000\nG1 X50 Y50\n"
	for _, m := range []gcode.Model{gcode.ModelJerk, gcode.ModelJunction, gcode.ModelCura} {
		t.Run(m.String(), func(t *testing.T) {
			opts := gcode.Options{Limits: lim, Model: m}
			s, o, c := analyse(t, straight, opts), analyse(t, one, opts), analyse(t, corner, opts)
			if !near(s.EstimatedPrintTime, o.EstimatedPrintTime, 0.01) {
				t.Errorf("split straight line = %.4f s; want %.4f s like one move", s.EstimatedPrintTime, o.EstimatedPrintTime)
			}
			if c.EstimatedPrintTime <= s.EstimatedPrintTime+0.05 {
				t.Errorf("90° corner = %.4f s; want clearly more than straight %.4f s", c.EstimatedPrintTime, s.EstimatedPrintTime)
			}
			if got := c.Cuttle.Model; got != m {
				t.Errorf("Cuttle.Model = %v; want %v", got, m)
			}
		})
	}
}

func TestAnalyseModelAuto(t *testing.T) {
	tests := []struct{ src, want string }{
		{";FLAVOR:Marlin\n;Generated with Cura_SteamEngine 4.13.0\nG1 X1\n", "cura"},
		{"; generated by PrusaSlicer 2.5.0\nG1 X1\n", "jerk"},
		{"M205 J0.02\nG1 X1\n", "junction"},
		{"SET_VELOCITY_LIMIT ACCEL=3000 SQUARE_CORNER_VELOCITY=5\nG1 X1\n", "junction"},
	}
	for _, tt := range tests {
		if got := analyse(t, tt.src, gcode.Options{}).Cuttle.Model.String(); got != tt.want {
			t.Errorf("model for %q = %s; want %s", tt.src, got, tt.want)
		}
	}
}

func TestAnalyseFilament(t *testing.T) {
	tests := []struct {
		name        string
		src         string
		want, total float64
	}{
		{"absolute with retraction", "M82\nG1 X10 E5\nG1 E3\nG1 E5\nG1 X20 E10\n", 10, 10},
		{"relative with retraction", "M83\nG1 X10 E5\nG1 E-2\nG1 E2\nG1 X20 E5\n", 10, 10},
		{"G92 resets absolute E", "M82\nG1 X10 E5\nG92 E0\nG1 X20 E2\n", 7, 7},
		{"G91 makes E relative", "M82\nG91\nG1 X10 E1\nG1 X10 E1\nG90\n", 2, 2},
		{"G90 keeps M83", "M83\nG90\nG1 X10 E1\nG1 X20 E1\n", 2, 2},
		{"G90 after G91 restores absolute E under M82", "M82\nG91\nG1 X10 E1\nG90\nG1 X20 E3\n", 3, 3},
		{"final retraction does not count", "M83\nG1 X10 E5\nG1 E-3\n", 5, 5},
		{"purge before the first layer is excluded", "M83\nG1 X5 Y200 E15\nG1 E-5\n;LAYER_CHANGE\nG1 E5\nG1 X10 Y10 E2\n", 2, 17},
		{"Cura layer marker", "M83\nG1 X5 Y200 E15\n;LAYER:0\nG1 X10 Y10 E2\n", 2, 17},
		{"firmware retraction uses no filament", "M83\nG1 X10 E5\nG10\nG1 X20\nG11\nG1 X30 E1\n", 6, 6},
		{"M221 flow", "M83\nM221 S50\nG1 X10 E4\n", 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := analyse(t, tt.src, gcode.Options{})
			f, tot := res.Filament["tool0"], res.Cuttle.FilamentTotal["tool0"]
			if !near(f.Length, tt.want, 1e-9) || !near(tot.Length, tt.total, 1e-9) {
				t.Errorf("filament = %v (total %v); want %v (total %v)", f.Length, tot.Length, tt.want, tt.total)
			}
			wantVol := tt.want * math.Pi * 1.75 * 1.75 / 4 / 1000
			if !near(f.Volume, wantVol, 1e-9) {
				t.Errorf("volume = %v cm³; want %v", f.Volume, wantVol)
			}
		})
	}
}

func TestAnalyseTools(t *testing.T) {
	src := "M82\nT0\nG1 X10 E3\nT1\nG92 E0\nG1 X20 E4\nT0\nG92 E0\nG1 X30 E1\n"
	res := analyse(t, src, gcode.Options{FilamentDiameter: 2.85})
	if got := res.Filament["tool0"].Length; got != 4 {
		t.Errorf("tool0 length = %v; want 4", got)
	}
	if got := res.Filament["tool1"].Length; got != 4 {
		t.Errorf("tool1 length = %v; want 4", got)
	}
	if got, want := res.Filament["tool1"].Volume, 4*math.Pi*2.85*2.85/4/1000; !near(got, want, 1e-12) {
		t.Errorf("tool1 volume = %v; want %v", got, want)
	}
}

func TestAnalyseAreas(t *testing.T) {
	src := "M83\nG28\nG1 Z5 F600\nG1 X10 Y10 Z0.2\nG1 X30 Y10 E1\nG1 X30 Y40 E1\nG1 Z0.4\nG1 X20 Y20 E1\nG1 X0 Y200 Z10\n"
	res := analyse(t, src, gcode.Options{})
	wantPrint := gcode.Area{MinX: 10, MinY: 10, MinZ: 0.2, MaxX: 30, MaxY: 40, MaxZ: 0.4}
	wantTravel := gcode.Area{MinX: 0, MinY: 0, MinZ: 0.2, MaxX: 30, MaxY: 200, MaxZ: 10}
	if res.PrintingArea != wantPrint {
		t.Errorf("printingArea = %+v; want %+v", res.PrintingArea, wantPrint)
	}
	if res.TravelArea != wantTravel {
		t.Errorf("travelArea = %+v; want %+v", res.TravelArea, wantTravel)
	}
	if d := res.Dimensions; !near(d.Width, 20, 1e-9) || !near(d.Depth, 30, 1e-9) || !near(d.Height, 0.2, 1e-9) {
		t.Errorf("dimensions = %+v; want 20 x 30 x 0.2", d)
	}
	if d := res.TravelDimensions; d.Width != 30 || d.Depth != 200 || !near(d.Height, 9.8, 1e-9) {
		t.Errorf("travelDimensions = %+v; want 30 x 200 x 9.8", d)
	}
	if res.Cuttle.Layers != 2 || res.Cuttle.LayerSource != "moves" {
		t.Errorf("layers = %d from %s; want 2 from moves", res.Cuttle.Layers, res.Cuttle.LayerSource)
	}
}

func TestAnalyseSlicerMetadata(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\nnot really an image but bytes all the same")
	b64 := base64.StdEncoding.EncodeToString(png)
	var thumb strings.Builder
	thumb.WriteString("; thumbnail begin 16x12 " + itoa(len(b64)) + "\n")
	for i := 0; i < len(b64); i += 20 {
		thumb.WriteString("; " + b64[i:min(i+20, len(b64))] + "\n")
	}
	thumb.WriteString("; thumbnail end\n;\n")
	thumb.WriteString("; thumbnail_QOI begin 4x4 8\n; cW9pZjAxMjM=\n; thumbnail_QOI end\n")

	tests := []struct {
		name string
		src  string
		want gcode.Slicer
	}{
		{"PrusaSlicer", "; generated by PrusaSlicer 2.5.0 on 2026-11-28 at 17:16:10 UTC\n" + thumb.String() +
			"G1 X1 E1\n; filament used [mm] = 1335.23, 10.5\n; estimated printing time (normal mode) = 1d 1h 2m 3s\n; filament_diameter = 2.85,1.75\n; layer_height = 0.2\n",
			gcode.Slicer{Name: "PrusaSlicer", Version: "2.5.0", EstimatedPrintTime: 86400 + 3723, Filament: []float64{1335.23, 10.5}, FilamentDiameter: []float64{2.85, 1.75}, LayerHeight: 0.2}},
		{"Cura", ";FLAVOR:Marlin\n;TIME:1493\n;Filament used: 1.32492m, 0.5m\n;Layer height: 0.2\n;LAYER_COUNT:100\n;Generated with Cura_SteamEngine 4.13.0\n;EXTRUDER_TRAIN.0.MATERIAL.DIAMETER:2.85\n",
			gcode.Slicer{Name: "Cura_SteamEngine", Version: "4.13.0", EstimatedPrintTime: 1493, Filament: []float64{1324.92, 500}, FilamentDiameter: []float64{2.85}, LayerCount: 100, LayerHeight: 0.2, Flavor: "Marlin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := analyse(t, tt.src, gcode.Options{})
			got, _ := json.Marshal(res.Cuttle.Slicer)
			want, _ := json.Marshal(tt.want)
			if !bytes.Equal(got, want) {
				t.Errorf("slicer = %s; want %s", got, want)
			}
		})
	}
	res := analyse(t, tests[0].src, gcode.Options{})
	th := res.Cuttle.Thumbnails
	if len(th) != 2 {
		t.Fatalf("thumbnails = %d; want 2", len(th))
	}
	if th[0].Format != "png" || th[0].Width != 16 || th[0].Height != 12 || !bytes.Equal(th[0].Data, png) || th[0].Size != len(png) {
		t.Errorf("thumbnail 0 = %s %dx%d %q; want png 16x12 %q", th[0].Format, th[0].Width, th[0].Height, th[0].Data, png)
	}
	if th[1].Format != "qoi" || string(th[1].Data) != "qoif0123" {
		t.Errorf("thumbnail 1 = %s %q; want qoi \"qoif0123\"", th[1].Format, th[1].Data)
	}
	if best := res.Cuttle.BestThumbnail(); best == nil || best.Format != "png" || best.MediaType() != "image/png" {
		t.Errorf("BestThumbnail() = %+v; want the PNG", best)
	}
	// The file's diameter is used for volume unless Options overrides it.
	if got, want := res.Filament["tool0"].Volume, 1*math.Pi*2.85*2.85/4/1000; !near(got, want, 1e-12) {
		t.Errorf("volume with the file's 2.85 mm = %v; want %v", got, want)
	}
}

func TestAnalyseBrokenThumbnailIsDropped(t *testing.T) {
	src := "; thumbnail begin 4x4 10\n; !!!notbase64\n; thumbnail end\n; thumbnail begin 4x4 10\n; QUJD\nG1 X1\n"
	res := analyse(t, src, gcode.Options{})
	if th := res.Cuttle.Thumbnails; len(th) != 0 {
		t.Errorf("thumbnails = %+v; want none", th)
	}
	if best := res.Cuttle.BestThumbnail(); best != nil {
		t.Errorf("BestThumbnail() = %+v; want nil", best)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestAnalyseJSONShape(t *testing.T) {
	res := analyse(t, "G1 X10 Y10 Z0.2 F600\nG1 X20 E1\n", gcode.Options{})
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"estimatedPrintTime", "filament", "dimensions", "printingArea", "travelArea", "travelDimensions", "cuttle"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	tool0 := m["filament"].(map[string]any)["tool0"].(map[string]any)
	if _, ok := tool0["length"].(float64); !ok {
		t.Errorf("filament.tool0.length is not a number: %s", b)
	}
	for _, k := range []string{"minX", "minY", "minZ", "maxX", "maxY", "maxZ"} {
		if _, ok := m["printingArea"].(map[string]any)[k].(float64); !ok {
			t.Errorf("printingArea.%s missing: %s", k, b)
		}
	}
	for _, k := range []string{"width", "depth", "height"} {
		if _, ok := m["dimensions"].(map[string]any)[k].(float64); !ok {
			t.Errorf("dimensions.%s missing: %s", k, b)
		}
	}
}

func TestAnalyseProgressAndCancel(t *testing.T) {
	src := strings.Repeat("G1 X10 Y10 E1 F1200\nG1 X0 Y0 E1\n", 80000)
	var got []float64
	_, err := gcode.Analyse(context.Background(), strings.NewReader(src), int64(len(src)), gcode.Options{}, func(f float64) { got = append(got, f) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 2 || got[len(got)-1] != 1 {
		t.Fatalf("progress = %v; want several calls ending at 1", got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] < got[i-1] || got[i] > 1 {
			t.Fatalf("progress not monotonic in [0,1]: %v", got)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := gcode.Analyse(ctx, strings.NewReader(src), 0, gcode.Options{}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Analyse with a cancelled context: err = %v; want context.Canceled", err)
	}
}

func TestAnalyseReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	_, err := gcode.Analyse(context.Background(), failingReader{boom}, 0, gcode.Options{}, nil)
	if !errors.Is(err, boom) {
		t.Errorf("err = %v; want wrapped %v", err, boom)
	}
}

func TestParseModel(t *testing.T) {
	for _, s := range []string{"auto", "jerk", "junction", "cura", "CURA"} {
		m, err := gcode.ParseModel(s)
		if err != nil || !strings.EqualFold(m.String(), s) {
			t.Errorf("ParseModel(%q) = %v, %v", s, m, err)
		}
	}
	var opts struct{ Model gcode.Model }
	if err := json.Unmarshal([]byte(`{"Model":"junction"}`), &opts); err != nil || opts.Model != gcode.ModelJunction {
		t.Errorf("JSON model = %v, %v; want junction", opts.Model, err)
	}
	if err := json.Unmarshal([]byte(`{"Model":"nope"}`), &opts); err == nil {
		t.Error("JSON model \"nope\" accepted")
	}
	if got := gcode.Model(42).String(); got != "Model(42)" {
		t.Errorf("Model(42).String() = %q", got)
	}
	if _, err := gcode.ParseModel("klipper"); err == nil {
		t.Error("ParseModel(\"klipper\") = nil error; want an error")
	}
}

func FuzzAnalyse(f *testing.F) {
	for _, s := range []string{"G1 X1 Y2 E3 F4\nG2 X0 Y0 I1 J1\n", "G3 X1 R-5\nG4 P-1\nM205 J0\n", "M201 X0\nG1 X1e9\nT99999\nG20\nG1 X1", "; thumbnail begin 1x1 4\n; QUJD\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := gcode.Analyse(context.Background(), bytes.NewReader(data), int64(len(data)), gcode.Options{}, nil)
		if err != nil {
			return
		}
		if math.IsNaN(res.EstimatedPrintTime) || res.EstimatedPrintTime < 0 {
			t.Fatalf("estimatedPrintTime = %v for %q", res.EstimatedPrintTime, data)
		}
		if _, err := json.Marshal(res); err != nil {
			t.Fatalf("result does not marshal (%v) for %q", err, data)
		}
	})
}

func TestTimeLeft(t *testing.T) {
	// Two 1 s moves, far enough apart in bytes for a timeline point each.
	pad := "; " + strings.Repeat("x", 2000) + "\n"
	src := "G1 X60 F3600\n" + pad + "G1 X0\n" + pad
	res := analyse(t, src, gcode.Options{Limits: fast})
	second := int64(len("G1 X60 F3600\n" + pad))
	tests := []struct {
		offset int64
		want   float64
	}{
		{0, 2}, {second, 1}, {int64(len(src)), 0}, {int64(len(src)) + 100, 0}, {-5, 2},
	}
	for _, tt := range tests {
		if got, ok := res.TimeLeft(tt.offset); !ok || !near(got, tt.want, 1e-6) {
			t.Errorf("TimeLeft(%d) = %v, %v; want %v", tt.offset, got, ok, tt.want)
		}
	}
	// Between points the time is interpolated by bytes.
	if got, _ := res.TimeLeft(second / 2); !near(got, 1.5, 1e-3) {
		t.Errorf("TimeLeft(%d) = %v; want 1.5", second/2, got)
	}

	b, err := json.Marshal(res.Cuttle.Timeline)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("[[0,0],[%d,1],[%d,2]]", second, len(src)); string(b) != want {
		t.Errorf("timeline JSON = %s; want %s", b, want)
	}
	var back []gcode.TimePoint
	if err := json.Unmarshal(b, &back); err != nil || len(back) != 3 || back[1].Offset != second || back[1].Elapsed != 1 {
		t.Errorf("timeline JSON round trip = %v, %v", back, err)
	}
	if _, ok := (&gcode.Result{}).TimeLeft(0); ok {
		t.Error("TimeLeft on a result without timeline reports ok")
	}
}
