package api_test

import (
	"slices"
	"testing"
)

// POST /api/printer/command with a script renders the named script from
// scripts.gcode with the request's parameters and context, and sends its
// lines in order; an unknown name is 404, a missing parameter 400.
func TestPrinterCommand_Script(t *testing.T) {
	e := newPrinterEnv(t)
	if _, err := e.cfg.Update(map[string]any{"scripts": map[string]any{"gcode": map[string]any{
		"heatUp": "M104 S{{.parameters.temp}} ; hotend\n\nM140 S{{.context.bed}}\nG28",
		"empty":  "",
	}}}); err != nil {
		t.Fatal(err)
	}
	e.want(t, 409, "POST", "/api/printer/command", `{"script":"heatUp","parameters":{"temp":200}}`)
	e.connect(t)
	e.want(t, 404, "POST", "/api/printer/command", `{"script":"coolDown"}`)
	e.want(t, 400, "POST", "/api/printer/command", `{"script":"heatUp","context":{"bed":60}}`)
	e.want(t, 400, "POST", "/api/printer/command", `{"script":"heatUp","parameters":{"temp":200},"context":"bed"}`)
	if code, _ := e.do(t, "viewer", "POST", "/api/printer/command", `{"script":"heatUp"}`); code != 403 {
		t.Errorf("viewer ran a script: %d", code)
	}
	e.want(t, 204, "POST", "/api/printer/command", `{"script":"heatUp","parameters":{"temp":215},"context":{"bed":60}}`)
	if !e.rig.AwaitExecuted("G28") {
		t.Fatalf("script not run: %v", e.rig.Executed())
	}
	ex := e.rig.Executed()
	i := slices.Index(ex, "M104 S215")
	if i < 0 || i+2 >= len(ex) || ex[i+1] != "M140 S60" || ex[i+2] != "G28" {
		t.Errorf("executed %v; want M104 S215, M140 S60, G28 in a row", ex)
	}
	e.want(t, 204, "POST", "/api/printer/command", `{"script":"empty"}`)
	e.want(t, 204, "POST", "/api/printer/command", `{"script":"afterPrintDone"}`)
	if !e.rig.AwaitExecuted("M84") {
		t.Errorf("afterPrintDone not run: %v", e.rig.Executed())
	}
}
