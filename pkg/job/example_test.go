package job_test

import (
	"fmt"

	"github.com/cuttleprint/cuttle/pkg/job"
)

func ExampleRender() {
	lines, _ := job.Render("afterPrintPaused", "G91\nG1 Z5 ; lift\nG90\nG1 X{{.X}} Y220", job.ScriptContext{X: 12.5})
	fmt.Println(lines)
	// Output: [G91 G1 Z5 G90 G1 X12.500 Y220]
}
