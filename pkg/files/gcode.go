package files

import (
	"context"
	"io"

	"github.com/cuttleprint/cuttle/pkg/gcode"
)

// GcodeAnalyser is the Analyser cuttle runs after uploads: gcode.Analyse's
// result, and the largest preview image the slicer embedded.
func GcodeAnalyser() Analyser {
	return func(ctx context.Context, r io.Reader, size int64, progress func(float64)) (Analysis, error) {
		res, err := gcode.Analyse(ctx, r, size, gcode.Options{}, progress)
		if err != nil {
			return Analysis{}, err
		}
		a := Analysis{Result: res}
		if t := res.Cuttle.BestThumbnail(); t != nil {
			a.Thumbnail, a.ThumbnailExt = t.Data, t.Format
		}
		return a, nil
	}
}
