package settings

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/cuttleprint/cuttle/pkg/power"
)

// Settings is the whole configuration. Its blocks and JSON names mirror
// OctoPrint's settings tree, so GET/POST /api/settings read and merge the
// same structure the config file stores. Start from Defaults.
type Settings struct {
	Server        ServerSettings        `yaml:"server" json:"server"`
	API           APISettings           `yaml:"api" json:"api"`
	Appearance    AppearanceSettings    `yaml:"appearance" json:"appearance"`
	Feature       FeatureSettings       `yaml:"feature" json:"feature"`
	GcodeAnalysis GcodeAnalysisSettings `yaml:"gcodeAnalysis" json:"gcodeAnalysis"`
	Serial        SerialSettings        `yaml:"serial" json:"serial"`
	Folder        FolderSettings        `yaml:"folder" json:"folder"`
	Temperature   TemperatureSettings   `yaml:"temperature" json:"temperature"`
	Scripts       ScriptsSettings       `yaml:"scripts" json:"scripts"`
	Webcam        WebcamSettings        `yaml:"webcam" json:"webcam"`
	Discovery     DiscoverySettings     `yaml:"discovery" json:"discovery"`
	// Power configures relays and automatic power switching (pkg/power).
	Power power.Config `yaml:"power" json:"power"`
}

// ServerSettings configure the HTTP server and host commands.
type ServerSettings struct {
	// Listen is the address to serve on (host:port).
	Listen string `yaml:"listen" json:"listen"`
	// MaxBodyBytes bounds JSON request bodies.
	MaxBodyBytes int64           `yaml:"maxBodyBytes" json:"maxBodyBytes"`
	Uploads      UploadsSettings `yaml:"uploads" json:"uploads"`
	Commands     CommandSettings `yaml:"commands" json:"commands"`
	AllowFraming bool            `yaml:"allowFraming" json:"allowFraming"`
}

// UploadsSettings bound uploads.
type UploadsSettings struct {
	// MaxSize is the largest accepted upload in bytes (default 1 GiB).
	MaxSize int64 `yaml:"maxSize" json:"maxSize"`
}

// CommandSettings are the host commands behind POST
// /api/system/commands/core/{shutdown,reboot,restart}. Each is an argv list
// run without a shell; empty means the action is not offered. None is set by
// default, so a client's test suite can never power off a developer's
// machine; the appliance image configures them.
type CommandSettings struct {
	SystemShutdownCommand []string        `yaml:"systemShutdownCommand" json:"systemShutdownCommand"`
	SystemRestartCommand  []string        `yaml:"systemRestartCommand" json:"systemRestartCommand"`
	ServerRestartCommand  []string        `yaml:"serverRestartCommand" json:"serverRestartCommand"`
	Custom                []CustomCommand `yaml:"custom" json:"custom"`
}

// CustomCommand is an admin-defined system action.
type CustomCommand struct {
	Action  string   `yaml:"action" json:"action"`
	Name    string   `yaml:"name" json:"name"`
	Command []string `yaml:"command" json:"command"`
	Confirm string   `yaml:"confirm" json:"confirm"`
}

// APISettings are OctoPrint's api block (the global key lives in the
// database, not here).
type APISettings struct {
	AllowCrossOrigin bool `yaml:"allowCrossOrigin" json:"allowCrossOrigin"`
}

// AppearanceSettings name and colour the instance.
type AppearanceSettings struct {
	Name  string `yaml:"name" json:"name"`
	Color string `yaml:"color" json:"color"`
}

// FeatureSettings switch features.
type FeatureSettings struct {
	SdSupport                   bool `yaml:"sdSupport" json:"sdSupport"`
	TemperatureGraph            bool `yaml:"temperatureGraph" json:"temperatureGraph"`
	KeyboardControl             bool `yaml:"keyboardControl" json:"keyboardControl"`
	PrintStartConfirmation      bool `yaml:"printStartConfirmation" json:"printStartConfirmation"`
	PrintCancelConfirmation     bool `yaml:"printCancelConfirmation" json:"printCancelConfirmation"`
	UploadOverwriteConfirmation bool `yaml:"uploadOverwriteConfirmation" json:"uploadOverwriteConfirmation"`
}

// GcodeAnalysisSettings say when uploads are analysed.
type GcodeAnalysisSettings struct {
	// RunAt is idle, always or never.
	RunAt string  `yaml:"runAt" json:"runAt"`
	BedZ  float64 `yaml:"bedZ" json:"bedZ"`
}

// SerialSettings are the printer link's preferences.
type SerialSettings struct {
	Port        string `yaml:"port" json:"port"`
	Baudrate    int    `yaml:"baudrate" json:"baudrate"`
	Autoconnect bool   `yaml:"autoconnect" json:"autoconnect"`
	// AdditionalPorts are extra globs offered as ports (ptys, say).
	AdditionalPorts []string `yaml:"additionalPorts" json:"additionalPorts"`
	// TimeoutCommunication is the seconds without a reply before the link
	// pokes the firmware.
	TimeoutCommunication float64 `yaml:"timeoutCommunication" json:"timeoutCommunication"`
	// RxBufferSize is the firmware's receive buffer in bytes.
	RxBufferSize int `yaml:"rxBufferSize" json:"rxBufferSize"`
}

// FolderSettings locate data folders; empty means inside the data dir.
type FolderSettings struct {
	Uploads   string `yaml:"uploads" json:"uploads"`
	Timelapse string `yaml:"timelapse" json:"timelapse"`
	Watched   string `yaml:"watched" json:"watched"`
}

// TemperatureProfile is a named preset.
type TemperatureProfile struct {
	Name     string  `yaml:"name" json:"name"`
	Extruder float64 `yaml:"extruder" json:"extruder"`
	Bed      float64 `yaml:"bed" json:"bed"`
	Chamber  float64 `yaml:"chamber" json:"chamber"`
}

// TemperatureSettings hold presets and chart settings.
type TemperatureSettings struct {
	Profiles []TemperatureProfile `yaml:"profiles" json:"profiles"`
	// Cutoff is the chart's span in minutes.
	Cutoff int `yaml:"cutoff" json:"cutoff"`
}

// ScriptsSettings hold the G-code scripts run around prints.
type ScriptsSettings struct {
	Gcode map[string]string `yaml:"gcode" json:"gcode"`
}

// WebcamSettings point at the camera streams.
type WebcamSettings struct {
	WebcamEnabled         bool   `yaml:"webcamEnabled" json:"webcamEnabled"`
	TimelapseEnabled      bool   `yaml:"timelapseEnabled" json:"timelapseEnabled"`
	StreamURL             string `yaml:"streamUrl" json:"streamUrl"`
	SnapshotURL           string `yaml:"snapshotUrl" json:"snapshotUrl"`
	FlipH                 bool   `yaml:"flipH" json:"flipH"`
	FlipV                 bool   `yaml:"flipV" json:"flipV"`
	Rotate90              bool   `yaml:"rotate90" json:"rotate90"`
	StreamRatio           string `yaml:"streamRatio" json:"streamRatio"`
	StreamTimeout         int    `yaml:"streamTimeout" json:"streamTimeout"`
	SnapshotTimeout       int    `yaml:"snapshotTimeout" json:"snapshotTimeout"`
	SnapshotSslValidation bool   `yaml:"snapshotSslValidation" json:"snapshotSslValidation"`
	Bitrate               string `yaml:"bitrate" json:"bitrate"`
}

// DiscoverySettings control LAN announcements (mDNS, SSDP). Off by default
// so a developer's `cuttle serve` never multicasts; the appliance turns it
// on.
type DiscoverySettings struct {
	Enabled    bool   `yaml:"enabled" json:"enabled"`
	PublicHost string `yaml:"publicHost" json:"publicHost"`
	PublicPort int    `yaml:"publicPort" json:"publicPort"`
	PathPrefix string `yaml:"pathPrefix" json:"pathPrefix"`
	Model      string `yaml:"model" json:"model"`
	Vendor     string `yaml:"vendor" json:"vendor"`
}

// DefaultScripts are the G-code scripts a new install runs: heaters and
// fan off when a print ends or is cancelled, park on pause.
func DefaultScripts() map[string]string {
	return map[string]string{
		"afterPrinterConnected": "",
		"beforePrintStarted":    "",
		"afterPrintDone":        "M104 S0 ; hotend off\nM140 S0 ; bed off\nM107 ; fan off\nM84 ; motors off",
		"afterPrintCancelled":   "M104 S0 ; hotend off\nM140 S0 ; bed off\nM107 ; fan off\nM84 ; motors off",
		"afterPrintPaused":      "G91\nG1 Z5 F600 ; lift\nG90",
		"beforePrintResumed":    "G91\nG1 Z-5 F600 ; lower\nG90",
	}
}

// Defaults returns the configuration cuttle runs with when no file says
// otherwise.
func Defaults() *Settings {
	return &Settings{
		Server: ServerSettings{Listen: "127.0.0.1:5000", MaxBodyBytes: 1 << 20, Uploads: UploadsSettings{MaxSize: 1 << 30},
			Commands: CommandSettings{SystemShutdownCommand: []string{}, SystemRestartCommand: []string{}, ServerRestartCommand: []string{}, Custom: []CustomCommand{}}},
		Appearance:    AppearanceSettings{Name: "", Color: "default"},
		Feature:       FeatureSettings{SdSupport: true, TemperatureGraph: true, KeyboardControl: true, PrintCancelConfirmation: true, UploadOverwriteConfirmation: true},
		GcodeAnalysis: GcodeAnalysisSettings{RunAt: "idle"},
		Serial:        SerialSettings{Port: "VIRTUAL", Baudrate: 115200, AdditionalPorts: []string{}, TimeoutCommunication: 30, RxBufferSize: 128},
		Temperature: TemperatureSettings{Cutoff: 30, Profiles: []TemperatureProfile{
			{Name: "ABS", Extruder: 210, Bed: 100}, {Name: "PLA", Extruder: 180, Bed: 60}, {Name: "PETG", Extruder: 235, Bed: 80}}},
		Scripts: ScriptsSettings{Gcode: DefaultScripts()},
		Webcam: WebcamSettings{WebcamEnabled: true, StreamURL: "/webcam/?action=stream", SnapshotURL: "/webcam/?action=snapshot",
			StreamRatio: "16:9", StreamTimeout: 5, SnapshotTimeout: 5, SnapshotSslValidation: true, Bitrate: "10000k"},
		Power: power.DefaultConfig(),
	}
}

// Validate reports the first value that is out of range.
func (s *Settings) Validate() error {
	if err := s.Power.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	switch s.GcodeAnalysis.RunAt {
	case "idle", "always", "never":
	default:
		return fmt.Errorf("%w: gcodeAnalysis.runAt %q (idle, always or never)", ErrInvalid, s.GcodeAnalysis.RunAt)
	}
	if s.Serial.Baudrate < 0 {
		return fmt.Errorf("%w: serial.baudrate %d", ErrInvalid, s.Serial.Baudrate)
	}
	if s.Serial.TimeoutCommunication < 0 || s.Serial.RxBufferSize < 0 {
		return fmt.Errorf("%w: serial timeouts and buffer sizes must not be negative", ErrInvalid)
	}
	if s.Server.Uploads.MaxSize < 0 || s.Server.MaxBodyBytes < 0 {
		return fmt.Errorf("%w: server size limits must not be negative", ErrInvalid)
	}
	if s.Temperature.Cutoff < 0 {
		return fmt.Errorf("%w: temperature.cutoff %d", ErrInvalid, s.Temperature.Cutoff)
	}
	for _, p := range s.Temperature.Profiles {
		if p.Name == "" || p.Extruder < 0 || p.Bed < 0 || p.Chamber < 0 {
			return fmt.Errorf("%w: temperature profile %q", ErrInvalid, p.Name)
		}
	}
	return nil
}

// ErrInvalid is returned when a value is of the right type but out of range.
var ErrInvalid = errors.New("settings: invalid value")

// Load reads the YAML file at path over the defaults. A missing file yields
// the defaults. Unknown keys in cuttle's own blocks are an error, so a typo
// does not pass silently.
func Load(path string) (*Settings, error) {
	s := Defaults()
	if path == "" {
		return s, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("settings: open %q: %w", path, err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(s); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("settings: read %q: %w", path, err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("settings: %q: %w", path, err)
	}
	return s, nil
}
