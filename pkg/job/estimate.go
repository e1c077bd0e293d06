package job

// estimate returns the print time left in seconds and its origin, from the
// elapsed print time (s), the progress (0–1) and a reference duration: the
// average of past prints when known, else the analysis' estimate. Early on
// the reference is scaled by what is left; as the print goes on, the live
// rate (elapsed/progress) takes over linearly.
func estimate(elapsed, progress float64, average, analysis *float64) (*int64, string) {
	ref, kind := (*float64)(nil), ""
	switch {
	case average != nil && *average > 0:
		ref, kind = average, "average"
	case analysis != nil && *analysis > 0:
		ref, kind = analysis, "analysis"
	}
	if progress >= 1 {
		z := int64(0)
		if kind == "" {
			kind = "linear"
		}
		return &z, kind
	}
	var left float64
	switch {
	case ref == nil && progress < 0.01:
		return nil, ""
	case ref == nil:
		left, kind = elapsed/progress-elapsed, "linear"
	case progress < 0.01 || elapsed < 30:
		left = *ref * (1 - progress)
	default:
		linear := elapsed/progress - elapsed
		left = (1-progress)*(*ref*(1-progress)) + progress*linear
		kind = "mixed-" + kind
	}
	if left < 0 {
		left = 0
	}
	n := int64(left + 0.5)
	return &n, kind
}
