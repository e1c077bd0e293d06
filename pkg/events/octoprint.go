package events

import "encoding/json"

// This file holds the OctoPrint events (reference §5.4). Each type's Name is the
// OctoPrint event name; Payload is nil for events without payload and the value
// itself otherwise.

// Startup: the server has started. It has no payload.
type Startup struct{}

// Name returns "Startup".
func (Startup) Name() string { return "Startup" }

// Payload returns nil.
func (Startup) Payload() any { return nil }

// Shutdown: the server is shutting down. It has no payload.
type Shutdown struct{}

// Name returns "Shutdown".
func (Shutdown) Name() string { return "Shutdown" }

// Payload returns nil.
func (Shutdown) Payload() any { return nil }

// Connecting: the printer connection is being opened. It has no payload.
type Connecting struct{}

// Name returns "Connecting".
func (Connecting) Name() string { return "Connecting" }

// Payload returns nil.
func (Connecting) Payload() any { return nil }

// Disconnecting: the printer connection is being closed. It has no payload.
type Disconnecting struct{}

// Name returns "Disconnecting".
func (Disconnecting) Name() string { return "Disconnecting" }

// Payload returns nil.
func (Disconnecting) Payload() any { return nil }

// Disconnected: the printer connection is closed. It has no payload.
type Disconnected struct{}

// Name returns "Disconnected".
func (Disconnected) Name() string { return "Disconnected" }

// Payload returns nil.
func (Disconnected) Payload() any { return nil }

// SettingsUpdated: the settings were changed. It has no payload.
type SettingsUpdated struct{}

// Name returns "SettingsUpdated".
func (SettingsUpdated) Name() string { return "SettingsUpdated" }

// Payload returns nil.
func (SettingsUpdated) Payload() any { return nil }

// FileDeselected: no file is selected for printing any more. It has no payload.
type FileDeselected struct{}

// Name returns "FileDeselected".
func (FileDeselected) Name() string { return "FileDeselected" }

// Payload returns nil.
func (FileDeselected) Payload() any { return nil }

// PrinterReset: the firmware reset itself (a start line arrived while connected). It has no payload.
type PrinterReset struct{}

// Name returns "PrinterReset".
func (PrinterReset) Name() string { return "PrinterReset" }

// Payload returns nil.
func (PrinterReset) Payload() any { return nil }

// PowerOn: M80 was sent to the printer. It has no payload.
type PowerOn struct{}

// Name returns "PowerOn".
func (PowerOn) Name() string { return "PowerOn" }

// Payload returns nil.
func (PowerOn) Payload() any { return nil }

// PowerOff: M81 was sent to the printer. It has no payload.
type PowerOff struct{}

// Name returns "PowerOff".
func (PowerOff) Name() string { return "PowerOff" }

// Payload returns nil.
func (PowerOff) Payload() any { return nil }

// Home: G28 was sent to the printer. It has no payload.
type Home struct{}

// Name returns "Home".
func (Home) Name() string { return "Home" }

// Payload returns nil.
func (Home) Payload() any { return nil }

// Dwell: G4 was sent to the printer. It has no payload.
type Dwell struct{}

// Name returns "Dwell".
func (Dwell) Name() string { return "Dwell" }

// Payload returns nil.
func (Dwell) Payload() any { return nil }

// Waiting: a wait command (M116, M109, M190 and similar) was sent to the printer. It has no payload.
type Waiting struct{}

// Name returns "Waiting".
func (Waiting) Name() string { return "Waiting" }

// Payload returns nil.
func (Waiting) Payload() any { return nil }

// Cooling: M245 was sent to the printer. It has no payload.
type Cooling struct{}

// Name returns "Cooling".
func (Cooling) Name() string { return "Cooling" }

// Payload returns nil.
func (Cooling) Payload() any { return nil }

// Alert: M300 was sent to the printer. It has no payload.
type Alert struct{}

// Name returns "Alert".
func (Alert) Name() string { return "Alert" }

// Payload returns nil.
func (Alert) Payload() any { return nil }

// Conveyor: M240 was sent to the printer. It has no payload.
type Conveyor struct{}

// Name returns "Conveyor".
func (Conveyor) Name() string { return "Conveyor" }

// Payload returns nil.
func (Conveyor) Payload() any { return nil }

// Eject: M40 was sent to the printer. It has no payload.
type Eject struct{}

// Name returns "Eject".
func (Eject) Name() string { return "Eject" }

// Payload returns nil.
func (Eject) Payload() any { return nil }

// EStop: M112 was sent to the printer. It has no payload.
type EStop struct{}

// Name returns "EStop".
func (EStop) Name() string { return "EStop" }

// Payload returns nil.
func (EStop) Payload() any { return nil }

// FilamentChange: M600, M701 or M702 was sent to the printer. It has no payload.
type FilamentChange struct{}

// Name returns "FilamentChange".
func (FilamentChange) Name() string { return "FilamentChange" }

// Payload returns nil.
func (FilamentChange) Payload() any { return nil }

// ClientOpened: a push client connected.
type ClientOpened struct {
	// RemoteAddress is the client's address.
	RemoteAddress string `json:"remoteAddress"`
}

// Name returns "ClientOpened".
func (ClientOpened) Name() string { return "ClientOpened" }

// Payload returns the ClientOpened value.
func (e ClientOpened) Payload() any { return e }

// ClientClosed: a push client disconnected.
type ClientClosed struct {
	// RemoteAddress is the client's address.
	RemoteAddress string `json:"remoteAddress"`
}

// Name returns "ClientClosed".
func (ClientClosed) Name() string { return "ClientClosed" }

// Payload returns the ClientClosed value.
func (e ClientClosed) Payload() any { return e }

// ClientAuthed: a push client authenticated.
type ClientAuthed struct {
	// Username is the user it authenticated as.
	Username string `json:"username"`
	// RemoteAddress is the client's address.
	RemoteAddress string `json:"remoteAddress"`
}

// Name returns "ClientAuthed".
func (ClientAuthed) Name() string { return "ClientAuthed" }

// Payload returns the ClientAuthed value.
func (e ClientAuthed) Payload() any { return e }

// UserLoggedIn: a user logged in.
type UserLoggedIn struct {
	// Username is the user's name.
	Username string `json:"username"`
}

// Name returns "UserLoggedIn".
func (UserLoggedIn) Name() string { return "UserLoggedIn" }

// Payload returns the UserLoggedIn value.
func (e UserLoggedIn) Payload() any { return e }

// UserLoggedOut: a user logged out.
type UserLoggedOut struct {
	// Username is the user's name.
	Username string `json:"username"`
}

// Name returns "UserLoggedOut".
func (UserLoggedOut) Name() string { return "UserLoggedOut" }

// Payload returns the UserLoggedOut value.
func (e UserLoggedOut) Payload() any { return e }

// ConnectivityChanged: the server's internet connectivity changed.
type ConnectivityChanged struct {
	// Old is connectivity before.
	Old bool `json:"old"`
	// New is connectivity now.
	New bool `json:"new"`
}

// Name returns "ConnectivityChanged".
func (ConnectivityChanged) Name() string { return "ConnectivityChanged" }

// Payload returns the ConnectivityChanged value.
func (e ConnectivityChanged) Payload() any { return e }

// Connected: the printer connection is established.
type Connected struct {
	// Port is the serial port (or "VIRTUAL").
	Port string `json:"port"`
	// Baudrate is the baud rate, 0 when not applicable.
	Baudrate int `json:"baudrate"`
}

// Name returns "Connected".
func (Connected) Name() string { return "Connected" }

// Payload returns the Connected value.
func (e Connected) Payload() any { return e }

// PrinterStateChanged: the printer's state changed.
type PrinterStateChanged struct {
	// StateID is "OPERATIONAL", "PRINTING", "PAUSED", "OFFLINE", "ERROR", "CLOSED_WITH_ERROR", ….
	StateID string `json:"state_id"`
	// StateString is the human text, as in the state's "text" field.
	StateString string `json:"state_string"`
}

// Name returns "PrinterStateChanged".
func (PrinterStateChanged) Name() string { return "PrinterStateChanged" }

// Payload returns the PrinterStateChanged value.
func (e PrinterStateChanged) Payload() any { return e }

// Error: the printer connection hit an error.
type Error struct {
	// Error is the error text.
	Error string `json:"error"`
	// Reason is "firmware", "resend", "resend_loop", "timeout", "connection", "start_print" or "autodetect".
	Reason string `json:"reason"`
	// Consequence is "emergency", "disconnect", "cancel" or empty.
	Consequence string `json:"consequence,omitempty"`
	// FAQ is an FAQ anchor, optional.
	FAQ string `json:"faq,omitempty"`
	// Logs is the terminal lines that led to it, optional.
	Logs []string `json:"logs,omitempty"`
}

// Name returns "Error".
func (Error) Name() string { return "Error" }

// Payload returns the Error value.
func (e Error) Payload() any { return e }

// FirmwareData: the firmware answered M115.
type FirmwareData struct {
	// FirmwareName is FIRMWARE_NAME.
	FirmwareName string `json:"name"`
	// Data is every M115 field.
	Data map[string]string `json:"data"`
}

// Name returns "FirmwareData".
func (FirmwareData) Name() string { return "FirmwareData" }

// Payload returns the FirmwareData value.
func (e FirmwareData) Payload() any { return e }

// Upload: a file was uploaded through the API.
type Upload struct {
	// FileName is the file name.
	FileName string `json:"name"`
	// Path is the path in the storage.
	Path string `json:"path"`
	// Target is "local" or "sdcard".
	Target string `json:"target"`
	// Select is the upload asked to select it.
	Select bool `json:"select"`
	// Print is the upload asked to print it.
	Print bool `json:"print"`
	// EffectiveSelect is it was selected.
	EffectiveSelect bool `json:"effective_select"`
	// EffectivePrint is printing started.
	EffectivePrint bool `json:"effective_print"`
	// Userdata is the upload's userdata, optional.
	Userdata any `json:"userdata,omitempty"`
}

// Name returns "Upload".
func (Upload) Name() string { return "Upload" }

// Payload returns the Upload value.
func (e Upload) Payload() any { return e }

// FileAdded: a file was added to a storage.
type FileAdded FileOp

// Name returns "FileAdded".
func (FileAdded) Name() string { return "FileAdded" }

// Payload returns the FileAdded value.
func (e FileAdded) Payload() any { return e }

// FileRemoved: a file was removed from a storage.
type FileRemoved FileOp

// Name returns "FileRemoved".
func (FileRemoved) Name() string { return "FileRemoved" }

// Payload returns the FileRemoved value.
func (e FileRemoved) Payload() any { return e }

// FileMoved: a file was moved.
type FileMoved MoveOp

// Name returns "FileMoved".
func (FileMoved) Name() string { return "FileMoved" }

// Payload returns the FileMoved value.
func (e FileMoved) Payload() any { return e }

// FolderMoved: a folder was moved.
type FolderMoved MoveOp

// Name returns "FolderMoved".
func (FolderMoved) Name() string { return "FolderMoved" }

// Payload returns the FolderMoved value.
func (e FolderMoved) Payload() any { return e }

// FolderAdded: a folder was created.
type FolderAdded FolderOp

// Name returns "FolderAdded".
func (FolderAdded) Name() string { return "FolderAdded" }

// Payload returns the FolderAdded value.
func (e FolderAdded) Payload() any { return e }

// FolderRemoved: a folder was removed.
type FolderRemoved FolderOp

// Name returns "FolderRemoved".
func (FolderRemoved) Name() string { return "FolderRemoved" }

// Payload returns the FolderRemoved value.
func (e FolderRemoved) Payload() any { return e }

// UpdatedFiles: a file list changed; clients should reload it.
type UpdatedFiles struct {
	// Type is "printables".
	Type string `json:"type"`
}

// Name returns "UpdatedFiles".
func (UpdatedFiles) Name() string { return "UpdatedFiles" }

// Payload returns the UpdatedFiles value.
func (e UpdatedFiles) Payload() any { return e }

// MetadataAnalysisStarted: the G-code analysis of a file started.
type MetadataAnalysisStarted struct {
	// FileName is the file name.
	FileName string `json:"name"`
	// Path is the path in the storage.
	Path string `json:"path"`
	// Origin is "local" or "sdcard".
	Origin string `json:"origin"`
}

// Name returns "MetadataAnalysisStarted".
func (MetadataAnalysisStarted) Name() string { return "MetadataAnalysisStarted" }

// Payload returns the MetadataAnalysisStarted value.
func (e MetadataAnalysisStarted) Payload() any { return e }

// MetadataAnalysisFinished: the G-code analysis of a file finished.
type MetadataAnalysisFinished struct {
	// FileName is the file name.
	FileName string `json:"name"`
	// Path is the path in the storage.
	Path string `json:"path"`
	// Origin is "local" or "sdcard".
	Origin string `json:"origin"`
	// Result is the analysis, as the files API's gcodeAnalysis object.
	Result any `json:"result,omitempty"`
}

// Name returns "MetadataAnalysisFinished".
func (MetadataAnalysisFinished) Name() string { return "MetadataAnalysisFinished" }

// Payload returns the MetadataAnalysisFinished value.
func (e MetadataAnalysisFinished) Payload() any { return e }

// MetadataStatisticsUpdated: a file's print statistics changed.
type MetadataStatisticsUpdated struct {
	// Storage is "local" or "sdcard".
	Storage string `json:"storage"`
	// Path is the path in the storage.
	Path string `json:"path"`
}

// Name returns "MetadataStatisticsUpdated".
func (MetadataStatisticsUpdated) Name() string { return "MetadataStatisticsUpdated" }

// Payload returns the MetadataStatisticsUpdated value.
func (e MetadataStatisticsUpdated) Payload() any { return e }

// FileSelected: a file was selected for printing.
type FileSelected struct {
	// FileName is the file name.
	FileName string `json:"name"`
	// Path is the path in the storage.
	Path string `json:"path"`
	// Origin is "local" or "sdcard".
	Origin string `json:"origin"`
	// Size is bytes.
	Size int64 `json:"size"`
	// Owner is the user who uploaded it, optional.
	Owner string `json:"owner,omitempty"`
}

// Name returns "FileSelected".
func (FileSelected) Name() string { return "FileSelected" }

// Payload returns the FileSelected value.
func (e FileSelected) Payload() any { return e }

// PrintStarted: a print started.
type PrintStarted struct {
	PrintFile
	// User is who started it.
	User string `json:"user"`
}

// Name returns "PrintStarted".
func (PrintStarted) Name() string { return "PrintStarted" }

// Payload returns the PrintStarted value.
func (e PrintStarted) Payload() any { return e }

// PrintDone: a print finished.
type PrintDone struct {
	PrintFile
	// Time is print time in seconds.
	Time float64 `json:"time"`
}

// Name returns "PrintDone".
func (PrintDone) Name() string { return "PrintDone" }

// Payload returns the PrintDone value.
func (e PrintDone) Payload() any { return e }

// PrintFailed: a print ended without finishing.
type PrintFailed struct {
	PrintFile
	// Time is print time in seconds.
	Time float64 `json:"time"`
	// Reason is "cancelled" or "error".
	Reason string `json:"reason"`
}

// Name returns "PrintFailed".
func (PrintFailed) Name() string { return "PrintFailed" }

// Payload returns the PrintFailed value.
func (e PrintFailed) Payload() any { return e }

// PrintCancelling: a print is being cancelled.
type PrintCancelling struct {
	PrintFile
	// User is who cancelled it.
	User string `json:"user"`
	// FirmwareError is the firmware error that caused it, optional.
	FirmwareError string `json:"firmwareError,omitempty"`
}

// Name returns "PrintCancelling".
func (PrintCancelling) Name() string { return "PrintCancelling" }

// Payload returns the PrintCancelling value.
func (e PrintCancelling) Payload() any { return e }

// PrintCancelled: a print was cancelled.
type PrintCancelled struct {
	PrintFile
	// Time is print time in seconds.
	Time float64 `json:"time"`
	// User is who cancelled it.
	User string `json:"user"`
	// Position is the position at cancel, when known.
	Position *Position `json:"position,omitempty"`
	// Fileposition is bytes of the file consumed.
	Fileposition int64 `json:"fileposition"`
	// Progress is completion, 0–100.
	Progress float64 `json:"progress"`
}

// Name returns "PrintCancelled".
func (PrintCancelled) Name() string { return "PrintCancelled" }

// Payload returns the PrintCancelled value.
func (e PrintCancelled) Payload() any { return e }

// PrintPaused: a print was paused.
type PrintPaused struct {
	PrintFile
	// User is who paused it (empty for a G-code pause).
	User string `json:"user"`
	// Position is the position at pause, when known.
	Position *Position `json:"position,omitempty"`
}

// Name returns "PrintPaused".
func (PrintPaused) Name() string { return "PrintPaused" }

// Payload returns the PrintPaused value.
func (e PrintPaused) Payload() any { return e }

// PrintResumed: a print was resumed.
type PrintResumed struct {
	PrintFile
	// User is who resumed it.
	User string `json:"user"`
	// Position is the position at resume, when known.
	Position *Position `json:"position,omitempty"`
}

// Name returns "PrintResumed".
func (PrintResumed) Name() string { return "PrintResumed" }

// Payload returns the PrintResumed value.
func (e PrintResumed) Payload() any { return e }

// ChartMarked: a marking was added to the temperature chart.
type ChartMarked struct {
	// Type is the marking's type ("print", "pause", …).
	Type string `json:"type"`
	// Label is its label.
	Label string `json:"label"`
	// Time is UNIX time in seconds.
	Time float64 `json:"time"`
}

// Name returns "ChartMarked".
func (ChartMarked) Name() string { return "ChartMarked" }

// Payload returns the ChartMarked value.
func (e ChartMarked) Payload() any { return e }

// ZChange: the Z height changed during a local print.
type ZChange struct {
	// New is the new Z.
	New float64 `json:"new"`
	// Old is the previous Z, null at the first change.
	Old *float64 `json:"old"`
}

// Name returns "ZChange".
func (ZChange) Name() string { return "ZChange" }

// Payload returns the ZChange value.
func (e ZChange) Payload() any { return e }

// PositionUpdate: the firmware reported its position (M114).
type PositionUpdate Position

// Name returns "PositionUpdate".
func (PositionUpdate) Name() string { return "PositionUpdate" }

// Payload returns the PositionUpdate value.
func (e PositionUpdate) Payload() any { return e }

// ToolChange: the active tool changed.
type ToolChange struct {
	// Old is the previous tool number.
	Old int `json:"old"`
	// New is the new tool number.
	New int `json:"new"`
}

// Name returns "ToolChange".
func (ToolChange) Name() string { return "ToolChange" }

// Payload returns the ToolChange value.
func (e ToolChange) Payload() any { return e }

// PrintFile identifies the file of a print in the Print* events.
type PrintFile struct {
	// FileName is the file name.
	FileName string `json:"name"`
	// Path is the path in the storage.
	Path string `json:"path"`
	// Origin is "local" or "sdcard".
	Origin string `json:"origin"`
	// Size is the file size in bytes.
	Size int64 `json:"size"`
	// Owner is the user who uploaded the file ("" encodes as null).
	Owner NullString `json:"owner"`
}

// FileOp is the payload of FileAdded and FileRemoved.
type FileOp struct {
	// Storage is "local" or "sdcard".
	Storage string `json:"storage"`
	// Path is the file's path in the storage.
	Path string `json:"path"`
	// FileName is the file's name.
	FileName string `json:"name"`
	// Type is the type path, e.g. ["machinecode", "gcode"].
	Type []string `json:"type"`
	// Operation is "add", "copy", "move" or "remove".
	Operation string `json:"operation"`
}

// MoveOp is the payload of FileMoved and FolderMoved.
type MoveOp struct {
	// Storage is "local" or "sdcard".
	Storage string `json:"storage"`
	// SourcePath is the old path.
	SourcePath string `json:"source_path"`
	// SourceName is the old name.
	SourceName string `json:"source_name"`
	// SourceType is the old type path, files only.
	SourceType []string `json:"source_type,omitempty"`
	// DestinationPath is the new path.
	DestinationPath string `json:"destination_path"`
	// DestinationName is the new name.
	DestinationName string `json:"destination_name"`
	// DestinationType is the new type path, files only.
	DestinationType []string `json:"destination_type,omitempty"`
}

// FolderOp is the payload of FolderAdded and FolderRemoved.
type FolderOp struct {
	// Storage is "local" or "sdcard".
	Storage string `json:"storage"`
	// Path is the folder's path in the storage.
	Path string `json:"path"`
	// FolderName is the folder's name.
	FolderName string `json:"name"`
}

// Position is a tool position as reported by M114 (PositionUpdate) or recorded at
// pause and cancel.
type Position struct {
	// X is the X coordinate in mm.
	X float64 `json:"x"`
	// Y is the Y coordinate in mm.
	Y float64 `json:"y"`
	// Z is the Z coordinate in mm.
	Z float64 `json:"z"`
	// E is the extruder position in mm.
	E float64 `json:"e"`
	// T is the active tool.
	T int `json:"t"`
	// F is the feed rate in mm/min.
	F float64 `json:"f"`
}

// NullString is a string that encodes as JSON null when empty.
type NullString string

// MarshalJSON encodes "" as null and any other value as a JSON string.
func (s NullString) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(s))
}
