package push

import (
	"context"
	"maps"
	"sync"

	"github.com/cuttleprint/cuttle/pkg/job"
	"github.com/cuttleprint/cuttle/pkg/printer"
)

// JobStatus is the job part of a `current` message, supplied by whoever runs
// print jobs.
type JobStatus struct {
	// Job is the "job" object of GET /api/job.
	Job any
	// Progress is the "progress" object of GET /api/job.
	Progress any
	// CurrentZ is the Z height of the print, nil when unknown.
	CurrentZ *float64
	// BusyFiles are the files in use by the print.
	BusyFiles []BusyFile
	// Markings are the chart markings of the print.
	Markings []Marking
}

// MachineSource is the [Source] over the printer Machine: state, flags, error,
// offsets and link counters from its Snapshot, temperatures from its History
// and terminal lines from its Terminal; the job comes from the Job function.
// It keeps the last temperature point it returned, so it serves one reader:
// the push Server it is given to.
type MachineSource struct {
	m   *printer.Machine
	job func() JobStatus

	mu   sync.Mutex         // guards last
	last *printer.TempPoint // the newest temperature point returned so far
}

// tempWindow is how many of the newest temperature points are examined for new
// ones; the hub looks at least every few seconds, when a few points are new.
const tempWindow = 128

// NewMachineSource returns the Source for m. job, when not nil, supplies the
// job part; without it the job fields are null, as for a printer without a
// selected file.
func NewMachineSource(m *printer.Machine, job func() JobStatus) *MachineSource {
	return &MachineSource{m: m, job: job}
}

type machineState struct {
	Text  string        `json:"text"`
	Flags printer.Flags `json:"flags"`
	Error string        `json:"error"`
}

type resends struct {
	Count       int64 `json:"count"`
	Transmitted int64 `json:"transmitted"`
	Ratio       int64 `json:"ratio"`
}

// Status reports the Machine's state with the job part.
func (s *MachineSource) Status() Status {
	snap := s.m.Snapshot()
	st := OfflineStatus()
	st.State = machineState{Text: snap.StateText, Flags: snap.Flags, Error: snap.Error.Error}
	st.Offsets = make(map[string]float64, len(snap.Temps))
	for k, t := range snap.Temps {
		st.Offsets[k] = t.Offset
	}
	r := resends{Count: snap.Stats.Resends, Transmitted: snap.Stats.Lines}
	if r.Transmitted > 0 {
		r.Ratio = r.Count * 100 / r.Transmitted
	}
	st.Resends = r
	if s.job != nil {
		j := s.job()
		if j.Job != nil {
			st.Job = j.Job
		}
		if j.Progress != nil {
			st.Progress = j.Progress
		}
		st.CurrentZ = j.CurrentZ
		if j.BusyFiles != nil {
			st.BusyFiles = j.BusyFiles
		}
		if j.Markings != nil {
			st.Markings = j.Markings
		}
	}
	return st
}

// Feed returns the terminal lines after c.Logs and the temperature points newer
// than the last one returned. The Machine keeps no separate messages.
func (s *MachineSource) Feed(c Cursor) (Feed, Cursor) {
	var f Feed
	f.Logs, c.Logs = s.m.Terminal(c.Logs)
	s.mu.Lock()
	defer s.mu.Unlock()
	var pts []printer.TempPoint
	if c.Temps == 0 || s.last == nil {
		pts = s.m.History(0)
	} else {
		pts = s.m.History(tempWindow)
		for i := len(pts) - 1; i >= 0; i-- {
			if samePoint(pts[i], *s.last) {
				pts = pts[i+1:]
				break
			}
		}
	}
	if len(pts) > 0 {
		last := pts[len(pts)-1]
		s.last = &last
		c.Temps += uint64(len(pts))
		f.Temps = make([]TempPoint, len(pts))
		for i, p := range pts {
			hs := make(map[string]Temp, len(p.Heaters))
			for k, h := range p.Heaters {
				hs[k] = Temp{Actual: h.Actual, Target: h.Target}
			}
			f.Temps[i] = TempPoint{Time: p.Time, Heaters: hs}
		}
	}
	return f, c
}

func samePoint(a, b printer.TempPoint) bool {
	return a.Time == b.Time && maps.EqualFunc(a.Heaters, b.Heaters, func(x, y printer.HistoryTemp) bool {
		return x.Actual == y.Actual && (x.Target == nil) == (y.Target == nil) && (x.Target == nil || *x.Target == *y.Target)
	})
}

// JobStatusOf returns the job part of push's Status from the job controller:
// GET /api/job's job and progress, and the printed file as busy while a print
// runs or is paused.
func JobStatusOf(j *job.Controller) func() JobStatus {
	return func() JobStatus {
		st := j.Status(context.Background())
		out := JobStatus{Job: st.Job, Progress: st.Progress, BusyFiles: []BusyFile{}}
		if f := j.Flags(); (f.Printing || f.Paused || f.Pausing || f.Cancelling) && st.Job.File.Path != nil {
			out.BusyFiles = append(out.BusyFiles, BusyFile{Origin: "local", Path: *st.Job.File.Path})
		}
		return out
	}
}
