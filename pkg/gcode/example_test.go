package gcode_test

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/cuttleprint/cuttle/pkg/gcode"
)

func ExampleReader() {
	r := gcode.NewReader(strings.NewReader("G28 ; home\nG1 X10.5 Y-2 F3000\nM117 Printing...\n"))
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		fmt.Printf("%d @%d %s", l.Number, l.Offset, l.Cmd)
		for _, f := range l.Fields() {
			fmt.Printf(" %c=%g", f.Letter, f.Value)
		}
		if len(l.Param) > 0 && len(l.Fields()) == 0 {
			fmt.Printf(" %q", l.Param)
		}
		fmt.Println()
	}
	// Output:
	// 1 @0 G28
	// 2 @11 G1 X=10.5 Y=-2 F=3000
	// 3 @30 M117 "Printing..."
}

func ExampleAnalyse() {
	src := `M83
;LAYER_CHANGE
G1 Z0.2 F600
G1 X10 Y10 F6000
G1 X50 Y10 E2 F1800
G1 X50 Y50 E2
`
	res, err := gcode.Analyse(context.Background(), strings.NewReader(src), int64(len(src)), gcode.Options{}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.1f s, %.1f mm of filament, %g x %g mm, %d layer\n", res.EstimatedPrintTime,
		res.Filament["tool0"].Length, res.Dimensions.Width, res.Dimensions.Depth, res.Cuttle.Layers)
	// Output:
	// 3.1 s, 4.0 mm of filament, 40 x 40 mm, 1 layer
}
