package push

import (
	"encoding/json"
	"strconv"
)

// Source is the printer as push sees it: the state of a `current` message and the
// temperatures and terminal lines recorded over time. Push serializes its calls:
// the [Server.Run] hub calls it after a [events.StateChanged], and a client about
// to receive a history does too. Implementations must be safe to call
// concurrently with their own updates.
type Source interface {
	// Status returns the printer part of a current message.
	Status() Status
	// Feed returns what was recorded after cursor c, oldest first, and the cursor
	// to pass next time. The zero Cursor asks for everything still retained.
	Feed(c Cursor) (Feed, Cursor)
}

// Cursor marks a position in a [Source]'s records. Its meaning belongs to the
// source (sequence numbers, typically); push only stores and returns it.
type Cursor struct {
	// Temps, Logs and Messages are the source's positions in each record.
	Temps, Logs, Messages uint64
}

// Feed is what a [Source] recorded after a cursor.
type Feed struct {
	// Temps are temperature samples.
	Temps []TempPoint
	// Logs are terminal lines ("Send: G28", "Recv: ok").
	Logs []string
	// Messages are the firmware's informational messages.
	Messages []string
}

// Status is the printer part of a `current` or `history` message: everything
// but temps, logs, messages and serverTime. The any-typed fields must encode to
// OctoPrint's shapes (reference §5.3); they are encoded once per change and the
// bytes shared by every client.
type Status struct {
	// State is {"text","flags":{…11 flags…},"error"}.
	State any `json:"state"`
	// Job is the "job" object of GET /api/job.
	Job any `json:"job"`
	// Progress is {"completion","filepos","printTime","printTimeLeft","printTimeLeftOrigin"}.
	Progress any `json:"progress"`
	// CurrentZ is the Z height, nil when unknown.
	CurrentZ *float64 `json:"currentZ"`
	// Offsets are the temperature offsets per heater.
	Offsets map[string]float64 `json:"offsets"`
	// Resends is {"count","transmitted","ratio"}.
	Resends any `json:"resends"`
	// BusyFiles are the files in use by a print.
	BusyFiles []BusyFile `json:"busyFiles"`
	// Markings are chart markings (print start, pause, …).
	Markings []Marking `json:"markings"`
}

// BusyFile names a file in use.
type BusyFile struct {
	// Origin is "local" or "sdcard".
	Origin string `json:"origin"`
	// Path is the file's path in the storage.
	Path string `json:"path"`
}

// Marking is a labelled moment on the temperature chart.
type Marking struct {
	// Type is "print", "pause", "resume", "cancel", "done", …
	Type string `json:"type"`
	// Label is the text shown.
	Label string `json:"label"`
	// Time is UNIX time in seconds.
	Time float64 `json:"time"`
}

// TempPoint is one temperature sample of every heater, encoded as OctoPrint's
// `{"time":1700000000,"tool0":{"actual":210.1,"target":210},"bed":{…}}`.
type TempPoint struct {
	// Time is UNIX time in whole seconds.
	Time int64
	// Heaters maps "tool0", "bed", "chamber", … to their reading.
	Heaters map[string]Temp
}

// Temp is one heater's reading.
type Temp struct {
	// Actual is the measured temperature in °C.
	Actual float64 `json:"actual"`
	// Target is the set point, nil when unknown.
	Target *float64 `json:"target"`
}

// MarshalJSON flattens the heaters next to "time".
func (p TempPoint) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 32+48*len(p.Heaters))
	b = append(b, `{"time":`...)
	b = strconv.AppendInt(b, p.Time, 10)
	for _, name := range sortedKeys(p.Heaters) {
		b = append(b, ',')
		b = strconv.AppendQuote(b, name)
		b = append(b, ':')
		t, err := json.Marshal(p.Heaters[name])
		if err != nil {
			return nil, err
		}
		b = append(b, t...)
	}
	return append(b, '}'), nil
}

// OfflineStatus is the Status push reports when it has no [Source]: the printer
// is not connected.
func OfflineStatus() Status {
	return Status{
		State: map[string]any{"text": "Offline", "error": "", "flags": map[string]bool{
			"operational": false, "printing": false, "cancelling": false, "pausing": false,
			"resuming": false, "finishing": false, "closedOrError": true, "error": false,
			"paused": false, "ready": false, "sdReady": false}},
		Job: map[string]any{"file": map[string]any{"name": nil, "path": nil, "display": nil,
			"origin": nil, "size": nil, "date": nil}, "estimatedPrintTime": nil,
			"averagePrintTime": nil, "lastPrintTime": nil, "filament": nil, "user": nil},
		Progress: map[string]any{"completion": nil, "filepos": nil, "printTime": nil,
			"printTimeLeft": nil, "printTimeLeftOrigin": nil},
		Offsets:   map[string]float64{},
		Resends:   map[string]any{"count": 0, "transmitted": 0, "ratio": 0},
		BusyFiles: []BusyFile{},
		Markings:  []Marking{},
	}
}

type offline struct{}

func (offline) Status() Status               { return OfflineStatus() }
func (offline) Feed(c Cursor) (Feed, Cursor) { return Feed{}, c }
