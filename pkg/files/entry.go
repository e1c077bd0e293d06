package files

import (
	"encoding/json"
)

// Entry is the indexed record of one file or folder. Path is the key:
// slash-separated, relative to the storage root, sanitised.
type Entry struct {
	// Path is the entry's path in the storage ("dir/a.gcode").
	Path string `json:"path"`
	// Display is the name the client gave, before sanitising.
	Display string `json:"display"`
	// Folder is true for folders.
	Folder bool `json:"folder,omitempty"`
	// Size is the file size in bytes (folders: 0).
	Size int64 `json:"size,omitempty"`
	// Date is the UNIX time the file was stored.
	Date int64 `json:"date"`
	// Hash is the hex SHA-1 of the content.
	Hash string `json:"hash,omitempty"`
	// User is who uploaded it ("" when unknown).
	User string `json:"user,omitempty"`
	// Analysis is the G-code analysis result (gcodeAnalysis), when done.
	Analysis json.RawMessage `json:"analysis,omitempty"`
	// AnalysisError says why the analysis failed, when it did.
	AnalysisError string `json:"analysisError,omitempty"`
	// Prints is the print history.
	Prints *Prints `json:"prints,omitempty"`
	// Statistics are the print times per printer profile.
	Statistics *Statistics `json:"statistics,omitempty"`
	// Userdata is the JSON the uploader attached.
	Userdata json.RawMessage `json:"userdata,omitempty"`
	// Thumbnail names the preview image found by the analysis ("" none);
	// see Storage.Thumbnail.
	Thumbnail string `json:"thumbnail,omitempty"`
}

// Name returns the last component of the path.
func (e *Entry) Name() string { _, n := splitPath(e.Path); return n }

// Dir returns the parent folder's path ("" for the root).
func (e *Entry) Dir() string { d, _ := splitPath(e.Path); return d }

// Prints is OctoPrint's print history of a file.
type Prints struct {
	// Success counts finished prints.
	Success int `json:"success"`
	// Failure counts cancelled or failed prints.
	Failure int `json:"failure"`
	// Last is the most recent print.
	Last *LastPrint `json:"last,omitempty"`
}

// LastPrint is the most recent print of a file.
type LastPrint struct {
	// Date is the UNIX time it ended (fractional seconds).
	Date float64 `json:"date"`
	// PrintTime is how long it ran, in seconds.
	PrintTime float64 `json:"printTime"`
	// Success is whether it finished.
	Success bool `json:"success"`
}

// Statistics are print times per printer profile id.
type Statistics struct {
	// AveragePrintTime is the mean time of successful prints per profile.
	AveragePrintTime map[string]float64 `json:"averagePrintTime"`
	// LastPrintTime is the time of the last successful print per profile.
	LastPrintTime map[string]float64 `json:"lastPrintTime"`
}

// PrintRecord is one finished or failed print, for RecordPrint.
type PrintRecord struct {
	// Success is whether the print finished.
	Success bool
	// PrintTime is the time it ran, in seconds.
	PrintTime float64
	// Profile is the printer profile id ("_default").
	Profile string
	// End is when it ended, UNIX seconds.
	End float64
}

// addPrint folds r into the history.
func (e *Entry) addPrint(r PrintRecord) {
	if e.Prints == nil {
		e.Prints = &Prints{}
	}
	if r.Success {
		e.Prints.Success++
	} else {
		e.Prints.Failure++
	}
	e.Prints.Last = &LastPrint{Date: r.End, PrintTime: r.PrintTime, Success: r.Success}
	if !r.Success {
		return
	}
	if r.Profile == "" {
		r.Profile = "_default"
	}
	if e.Statistics == nil {
		e.Statistics = &Statistics{AveragePrintTime: map[string]float64{}, LastPrintTime: map[string]float64{}}
	}
	n := float64(e.Prints.Success)
	avg := e.Statistics.AveragePrintTime[r.Profile]
	e.Statistics.AveragePrintTime[r.Profile] = avg + (r.PrintTime-avg)/n
	e.Statistics.LastPrintTime[r.Profile] = r.PrintTime
}
