package job

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"text/template"
)

// Scripts are the G-code scripts run at the edges of a job, as Go
// text/templates over ScriptContext. An empty string runs nothing.
type Scripts struct {
	AfterPrinterConnected string `yaml:"afterPrinterConnected" json:"afterPrinterConnected"`
	BeforePrintStarted    string `yaml:"beforePrintStarted" json:"beforePrintStarted"`
	AfterPrintDone        string `yaml:"afterPrintDone" json:"afterPrintDone"`
	AfterPrintCancelled   string `yaml:"afterPrintCancelled" json:"afterPrintCancelled"`
	AfterPrintPaused      string `yaml:"afterPrintPaused" json:"afterPrintPaused"`
	BeforePrintResumed    string `yaml:"beforePrintResumed" json:"beforePrintResumed"`
}

// DefaultScripts are safe defaults: on pause retract 2 mm and lift 5 mm; on
// resume return to the paused position and prime; on cancel turn hotends,
// bed and fan off and release the motors.
func DefaultScripts() Scripts {
	return Scripts{
		AfterPrintPaused:    "G91\nG1 E-2 F2400\nG1 Z5 F600\nG90",
		BeforePrintResumed:  "G90\nG1 X{{.X}} Y{{.Y}} F6000\nG1 Z{{.Z}} F600\nG91\nG1 E2 F2400\nG90",
		AfterPrintCancelled: "M104 S0\nM140 S0\nM106 S0\nM84",
	}
}

// ScriptContext is what a script template sees: the position and modes
// tracked from the file up to the last line sent.
type ScriptContext struct {
	X, Y, Z, E, F Coord
	Tool          int
	RelXYZ, RelE  bool
}

// Coord is a coordinate; it prints with three decimals, as firmware reads.
type Coord float64

// String formats c as G-code does ("12.500").
func (c Coord) String() string { return strconv.FormatFloat(float64(c), 'f', 3, 64) }

// Render expands script src with ctx into command lines, dropping blank and
// comment-only lines and comments.
func Render(name, src string, ctx ScriptContext) ([]string, error) {
	return RenderWith(name, src, ctx)
}

// RenderWith is Render over any template data, such as the parameters and
// context a script run through the API is given ({{.parameters.temp}}). A
// missing key is an error.
func RenderWith(name, src string, data any) ([]string, error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil
	}
	t, err := template.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("job: script %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("job: script %s: %w", name, err)
	}
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		if i := strings.IndexByte(l, ';'); i >= 0 {
			l = l[:i]
		}
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out, nil
}

// Validate parses every script, so a broken template fails at start-up.
func (s Scripts) Validate() error {
	for name, src := range s.byName() {
		if _, err := Render(name, src, ScriptContext{}); err != nil {
			return err
		}
	}
	return nil
}

func (s Scripts) byName() map[string]string {
	return map[string]string{
		"afterPrinterConnected": s.AfterPrinterConnected, "beforePrintStarted": s.BeforePrintStarted,
		"afterPrintDone": s.AfterPrintDone, "afterPrintCancelled": s.AfterPrintCancelled,
		"afterPrintPaused": s.AfterPrintPaused, "beforePrintResumed": s.BeforePrintResumed,
	}
}

// modeLines restore the file's positioning modes after a script.
func modeLines(p position) []string {
	out := []string{"G90"}
	if p.RelXYZ {
		out[0] = "G91"
	}
	if p.RelE {
		out = append(out, "M83")
	} else {
		out = append(out, "M82")
	}
	return out
}
