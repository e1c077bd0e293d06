package job

import (
	"context"
	"encoding/json"
	"time"
)

// Status is GET /api/job's answer.
type Status struct {
	Job      JobInfo  `json:"job"`
	Progress Progress `json:"progress"`
	State    string   `json:"state"`
	Error    string   `json:"error,omitempty"`
}

// JobInfo is the "job" object: the selected file and its estimates.
type JobInfo struct {
	File               FileInfo                   `json:"file"`
	EstimatedPrintTime *float64                   `json:"estimatedPrintTime"`
	AveragePrintTime   *float64                   `json:"averagePrintTime"`
	LastPrintTime      *float64                   `json:"lastPrintTime"`
	Filament           map[string]json.RawMessage `json:"filament"`
	User               *string                    `json:"user"`
}

// FileInfo is the selected file; every field is null without a selection.
type FileInfo struct {
	Name    *string `json:"name"`
	Path    *string `json:"path"`
	Display *string `json:"display"`
	Origin  *string `json:"origin"`
	Size    *int64  `json:"size"`
	Date    *int64  `json:"date"`
}

// Progress is the "progress" object.
type Progress struct {
	Completion          *float64 `json:"completion"`
	Filepos             *int64   `json:"filepos"`
	PrintTime           *int64   `json:"printTime"`
	PrintTimeLeft       *int64   `json:"printTimeLeft"`
	PrintTimeLeftOrigin *string  `json:"printTimeLeftOrigin"`
}

// Flags are the job's part of OctoPrint's state flags.
type Flags struct {
	Operational, Printing, Pausing, Paused, Cancelling, Finishing, Ready bool
	// Transferring is set while a file streams to the SD card.
	Transferring bool
}

// Flags returns the state flags.
func (c *Controller) Flags() Flags {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := Flags{Operational: c.operational()}
	switch c.state {
	case StatePrinting:
		f.Printing = true
	case StatePausing:
		f.Pausing, f.Printing = true, false
	case StatePaused:
		f.Paused = true
	case StateCancelling:
		f.Cancelling = true
	case StateFinishing:
		f.Finishing, f.Printing = true, true
	case StateTransferring:
		f.Transferring = true
	}
	f.Ready = f.Operational && c.pr == nil
	return f
}

// StateText returns OctoPrint's state string.
func (c *Controller) StateText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stateTextLocked()
}

func (c *Controller) stateTextLocked() string {
	if c.state != StateIdle {
		return c.jobTextLocked()
	}
	if c.link == nil {
		return "Offline"
	}
	return c.link.StateText()
}

func ptr[T any](v T) *T { return &v }

// Status returns the job status.
func (c *Controller) Status(ctx context.Context) Status {
	c.mu.Lock()
	st := Status{State: c.stateTextLocked(), Error: c.err}
	var sel *selection
	if c.sel != nil {
		s := *c.sel
		sel = &s
	}
	pr := c.pr
	if pr == nil {
		pr = c.last
	}
	var snap run
	if pr != nil {
		snap = *pr
	}
	now := c.o.Now()
	c.mu.Unlock()
	if sel == nil {
		return st
	}
	var an analysisInfo
	if sel.origin == originSD {
		st.Job.File = FileInfo{Name: ptr(sel.display), Path: ptr(sel.path), Display: ptr(sel.display), Origin: ptr(originSD)}
		if sel.size >= 0 {
			st.Job.File.Size = ptr(sel.size)
		}
	} else if !c.localStatus(ctx, sel, &st, &an) {
		return st
	}
	if pr != nil && snap.user != "" {
		st.Job.User = ptr(snap.user) // who started the print, as OctoPrint reports it
	}
	c.progress(&st, pr, snap, now, an)
	return st
}

// localStatus fills the job part for a local file; false when it is gone.
func (c *Controller) localStatus(ctx context.Context, sel *selection, st *Status, an *analysisInfo) bool {
	e, err := c.o.Files.Get(ctx, sel.path)
	if err != nil {
		return false
	}
	name := e.Name()
	st.Job.File = FileInfo{Name: &name, Path: ptr(e.Path), Display: ptr(e.Display), Origin: ptr("local"),
		Size: ptr(e.Size), Date: ptr(e.Date)}
	if e.Analysis != nil && json.Unmarshal(e.Analysis, an) == nil {
		st.Job.EstimatedPrintTime = an.EstimatedPrintTime
		st.Job.Filament = an.Filament
	}
	profile := c.o.Profile()
	if e.Statistics != nil {
		if v, ok := e.Statistics.AveragePrintTime[profile]; ok {
			st.Job.AveragePrintTime = ptr(v)
			st.Job.EstimatedPrintTime = ptr(v)
		}
		if v, ok := e.Statistics.LastPrintTime[profile]; ok {
			st.Job.LastPrintTime = ptr(v)
		}
	}
	return true
}

// progress fills the progress part from a snapshot of the print.
func (c *Controller) progress(st *Status, pr *run, snap run, now time.Time, an analysisInfo) {
	if pr == nil {
		return
	}
	end := now
	if !snap.ended.IsZero() {
		end = snap.ended
	}
	paused := snap.paused
	if !snap.pausedAt.IsZero() {
		paused += end.Sub(snap.pausedAt)
	}
	elapsed := end.Sub(snap.started) - paused
	prog := progressOf(&snap)
	st.Progress.Completion = ptr(prog * 100)
	st.Progress.Filepos = ptr(snap.ackedPos)
	st.Progress.PrintTime = ptr(int64(elapsed.Seconds()))
	var analysis *float64
	if an.EstimatedPrintTime != nil {
		analysis = an.EstimatedPrintTime
	}
	left, origin := estimate(elapsed.Seconds(), prog, st.Job.AveragePrintTime, analysis)
	st.Progress.PrintTimeLeft = left
	if origin != "" {
		st.Progress.PrintTimeLeftOrigin = &origin
	}
}
