package events_test

import (
	"encoding/json"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/events"
)

func ptr[T any](v T) *T { return &v }

// Ensure that payloads encode with OctoPrint's names (reference §5.4).
func TestPayloadJSON(t *testing.T) {
	pf := events.PrintFile{FileName: "a.gcode", Path: "dir/a.gcode", Origin: "local", Size: 12}
	tests := []struct {
		e    events.Event
		name string
		want string
	}{
		{events.Startup{}, "Startup", `null`},
		{events.Home{}, "Home", `null`},
		{events.FileDeselected{}, "FileDeselected", `null`},
		{events.Connected{Port: "VIRTUAL", Baudrate: 115200}, "Connected", `{"port":"VIRTUAL","baudrate":115200}`},
		{events.PrinterStateChanged{StateID: "PRINTING", StateString: "Printing"}, "PrinterStateChanged", `{"state_id":"PRINTING","state_string":"Printing"}`},
		{events.Error{Error: "Thermal runaway", Reason: "firmware", Consequence: "emergency"}, "Error", `{"error":"Thermal runaway","reason":"firmware","consequence":"emergency"}`},
		{events.FirmwareData{FirmwareName: "Marlin", Data: map[string]string{"FIRMWARE_NAME": "Marlin"}}, "FirmwareData", `{"name":"Marlin","data":{"FIRMWARE_NAME":"Marlin"}}`},
		{events.Upload{FileName: "a.gcode", Path: "a.gcode", Target: "local", Select: true}, "Upload", `{"name":"a.gcode","path":"a.gcode","target":"local","select":true,"print":false,"effective_select":false,"effective_print":false}`},
		{events.FileAdded{Storage: "local", Path: "a.gcode", FileName: "a.gcode", Type: []string{"machinecode", "gcode"}, Operation: "add"}, "FileAdded", `{"storage":"local","path":"a.gcode","name":"a.gcode","type":["machinecode","gcode"],"operation":"add"}`},
		{events.FolderRemoved{Storage: "local", Path: "d", FolderName: "d"}, "FolderRemoved", `{"storage":"local","path":"d","name":"d"}`},
		{events.FileMoved{Storage: "local", SourcePath: "a", SourceName: "a", DestinationPath: "b/a", DestinationName: "a"}, "FileMoved", `{"storage":"local","source_path":"a","source_name":"a","destination_path":"b/a","destination_name":"a"}`},
		{events.UpdatedFiles{Type: "printables"}, "UpdatedFiles", `{"type":"printables"}`},
		{events.MetadataAnalysisFinished{FileName: "a.gcode", Path: "a.gcode", Origin: "local", Result: map[string]any{"estimatedPrintTime": 1.5}}, "MetadataAnalysisFinished", `{"name":"a.gcode","path":"a.gcode","origin":"local","result":{"estimatedPrintTime":1.5}}`},
		{events.FileSelected{FileName: "a.gcode", Path: "a.gcode", Origin: "local", Size: 3}, "FileSelected", `{"name":"a.gcode","path":"a.gcode","origin":"local","size":3}`},
		{events.PrintStarted{PrintFile: pf, User: "admin"}, "PrintStarted", `{"name":"a.gcode","path":"dir/a.gcode","origin":"local","size":12,"owner":null,"user":"admin"}`},
		{events.PrintDone{PrintFile: events.PrintFile{FileName: "a", Path: "a", Origin: "local", Owner: "bob"}, Time: 1.5}, "PrintDone", `{"name":"a","path":"a","origin":"local","size":0,"owner":"bob","time":1.5}`},
		{events.PrintFailed{PrintFile: pf, Time: 2, Reason: "cancelled"}, "PrintFailed", `{"name":"a.gcode","path":"dir/a.gcode","origin":"local","size":12,"owner":null,"time":2,"reason":"cancelled"}`},
		{events.PrintCancelled{PrintFile: pf, Time: 2, User: "u", Position: &events.Position{X: 1, T: 0, F: 3000}, Fileposition: 7, Progress: 58.3}, "PrintCancelled", `{"name":"a.gcode","path":"dir/a.gcode","origin":"local","size":12,"owner":null,"time":2,"user":"u","position":{"x":1,"y":0,"z":0,"e":0,"t":0,"f":3000},"fileposition":7,"progress":58.3}`},
		{events.PrintPaused{PrintFile: pf, User: "u"}, "PrintPaused", `{"name":"a.gcode","path":"dir/a.gcode","origin":"local","size":12,"owner":null,"user":"u"}`},
		{events.ZChange{New: 0.3}, "ZChange", `{"new":0.3,"old":null}`},
		{events.ZChange{New: 0.6, Old: ptr(0.3)}, "ZChange", `{"new":0.6,"old":0.3}`},
		{events.PositionUpdate{X: 1, Y: 2, Z: 3, E: 4, T: 1, F: 1200}, "PositionUpdate", `{"x":1,"y":2,"z":3,"e":4,"t":1,"f":1200}`},
		{events.ToolChange{Old: 0, New: 1}, "ToolChange", `{"old":0,"new":1}`},
		{events.ClientAuthed{Username: "u", RemoteAddress: "127.0.0.1"}, "ClientAuthed", `{"username":"u","remoteAddress":"127.0.0.1"}`},
		{events.UserLoggedOut{Username: "u"}, "UserLoggedOut", `{"username":"u"}`},
		{events.ChartMarked{Type: "print", Label: "Start", Time: 1.5}, "ChartMarked", `{"type":"print","label":"Start","time":1.5}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Name(); got != tt.name {
				t.Errorf("Name() = %q; want %q", got, tt.name)
			}
			b, err := json.Marshal(tt.e.Payload())
			if err != nil {
				t.Fatalf("Marshal(%s payload): %v", tt.name, err)
			}
			if string(b) != tt.want {
				t.Errorf("payload of %s = %s; want %s", tt.name, b, tt.want)
			}
		})
	}
}
