package api

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sort"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/settings"
)

// PluginSettings renders one block under "plugins" in GET /api/settings
// (psucontrol, discovery, ...). It is called per request with the caller's
// identity so it can leave out what the caller may not see.
type PluginSettings func(r *http.Request, id *auth.Identity) any

func (s *Server) routesSettings() {
	if s.deps.Settings == nil {
		return
	}
	s.handle("GET", "/api/settings", auth.PermSettingsRead, s.getSettings)
	s.handle("POST", "/api/settings", auth.PermSettings, s.postSettings)
}

// settingsTree renders OctoPrint's settings tree for the caller.
func (s *Server) settingsTree(r *http.Request, cur *settings.Settings) map[string]any {
	id := auth.UserFrom(r.Context())
	admin := id.Has(auth.PermAdmin)
	sensitive := admin || id.Has(auth.PermSettings)
	var key *string
	if admin {
		if k, err := s.deps.Auth.GlobalKey(r.Context()); err == nil && k != "" {
			key = &k
		}
	}
	scripts := map[string]any{}
	for k, v := range cur.Scripts.Gcode {
		scripts[k] = v
	}
	scripts["snippets"] = map[string]any{}
	profiles := cur.Temperature.Profiles
	if profiles == nil {
		profiles = []settings.TemperatureProfile{}
	}
	tree := map[string]any{
		"api":        map[string]any{"key": key, "allowCrossOrigin": cur.API.AllowCrossOrigin},
		"appearance": map[string]any{"name": cur.Appearance.Name, "color": cur.Appearance.Color, "colorTransparent": false, "colorIcon": true, "defaultLanguage": "_default", "showFahrenheitAlso": false, "fuzzyTimes": true, "closeModalsWithClick": true, "showInternalFilename": true},
		"feature": map[string]any{"sdSupport": cur.Feature.SdSupport, "temperatureGraph": cur.Feature.TemperatureGraph, "keyboardControl": cur.Feature.KeyboardControl,
			"printStartConfirmation": cur.Feature.PrintStartConfirmation, "printCancelConfirmation": cur.Feature.PrintCancelConfirmation,
			"uploadOverwriteConfirmation": cur.Feature.UploadOverwriteConfirmation, "pollWatched": false, "modelSizeDetection": true,
			"autoUppercaseBlacklist": []string{"M117", "M118"}, "g90InfluencesExtruder": false, "rememberFileFolder": false},
		"gcodeAnalysis": map[string]any{"runAt": cur.GcodeAnalysis.RunAt, "bedZ": cur.GcodeAnalysis.BedZ},
		"serial": map[string]any{"port": cur.Serial.Port, "baudrate": cur.Serial.Baudrate, "autoconnect": cur.Serial.Autoconnect,
			"additionalPorts": cur.Serial.AdditionalPorts, "timeoutCommunication": cur.Serial.TimeoutCommunication, "rxBufferSize": cur.Serial.RxBufferSize,
			"exclusive": true, "lowLatency": false, "baudrateOptions": []int{250000, 230400, 115200, 57600, 38400, 19200, 9600}},
		"folder":          map[string]any{"uploads": cur.Folder.Uploads, "timelapse": cur.Folder.Timelapse, "watched": cur.Folder.Watched},
		"temperature":     map[string]any{"profiles": profiles, "cutoff": cur.Temperature.Cutoff, "sendAutomatically": false, "sendAutomaticallyAfter": 1},
		"system":          map[string]any{"actions": []any{}, "events": nil},
		"terminalFilters": terminalFilters(),
		"scripts":         map[string]any{"gcode": scripts},
		"server": map[string]any{"allowFraming": cur.Server.AllowFraming, "uploads": map[string]any{"maxSize": cur.Server.Uploads.MaxSize},
			"diskspace": map[string]any{"warning": 500 << 20, "critical": 200 << 20}, "onlineCheck": map[string]any{"enabled": false}},
		"devel":   map[string]any{},
		"slicing": map[string]any{"defaultSlicer": nil},
		"plugins": s.pluginSettings(r, id),
	}
	if sensitive {
		tree["server"].(map[string]any)["commands"] = map[string]any{
			"systemShutdownCommand": argv(cur.Server.Commands.SystemShutdownCommand),
			"systemRestartCommand":  argv(cur.Server.Commands.SystemRestartCommand),
			"serverRestartCommand":  argv(cur.Server.Commands.ServerRestartCommand)}
	}
	if id.Has(auth.PermWebcam) {
		w := cur.Webcam
		tree["webcam"] = map[string]any{"webcamEnabled": w.WebcamEnabled, "timelapseEnabled": w.TimelapseEnabled,
			"streamUrl": w.StreamURL, "snapshotUrl": w.SnapshotURL, "flipH": w.FlipH, "flipV": w.FlipV, "rotate90": w.Rotate90,
			"streamRatio": w.StreamRatio, "streamTimeout": w.StreamTimeout, "snapshotTimeout": w.SnapshotTimeout,
			"snapshotSslValidation": w.SnapshotSslValidation, "bitrate": w.Bitrate, "cacheBuster": false,
			"ffmpegPath": nil, "ffmpegCommandline": "", "ffmpegThreads": 1, "ffmpegVideoCodec": "libx264", "watermark": false,
			"renderAfterPrintDelay": 0, "webcams": []any{}, "defaultWebcam": nil, "snapshotWebcam": nil, "streamWebrtcIceServers": []string{}}
	}
	return tree
}

// argv renders a command for the settings tree as one string, as OctoPrint
// stores it.
func argv(a []string) string {
	out := ""
	for i, s := range a {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}

func terminalFilters() []map[string]string {
	return []map[string]string{
		{"name": "Suppress temperature messages", "regex": `(Send: (N\d+\s+)?M105)|(Recv:\s+(ok\s+([PBN]\d+\s+)*)?([BCLPR]|T\d*):-?\d+)`},
		{"name": "Suppress SD status messages", "regex": `(Send: (N\d+\s+)?M27)|(Recv: SD printing byte)|(Recv: Not SD printing)`},
		{"name": "Suppress position messages", "regex": `(Send:\s+(N\d+\s+)?M114)|(Recv:\s+(ok\s+)?X:[+-]?([0-9]*[.])?[0-9]+\s+Y:[+-]?([0-9]*[.])?[0-9]+\s+Z:[+-]?([0-9]*[.])?[0-9]+\s+E\d*:[+-]?([0-9]*[.])?[0-9]+).*`},
		{"name": "Suppress wait responses", "regex": `Recv: wait`},
		{"name": "Suppress processing responses", "regex": `Recv: (echo:\s*)?busy:\s*processing`},
	}
}

// pluginSettings renders the plugins block: always an object, with every
// registered block and the tracking block Home Assistant reads.
func (s *Server) pluginSettings(r *http.Request, id *auth.Identity) map[string]any {
	out := map[string]any{"tracking": map[string]any{"enabled": false, "unique_id": nil}}
	names := make([]string, 0, len(s.deps.PluginSettings))
	for n := range s.deps.PluginSettings {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if v := s.deps.PluginSettings[n](r, id); v != nil {
			out[n] = v
		}
	}
	return out
}

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) {
	tree := s.settingsTree(r, s.deps.Settings.Get())
	raw, err := json.Marshal(tree)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	sum := sha1.Sum(raw)
	etag := `"` + hex.EncodeToString(sum[:10]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	if r.URL.Query().Get("force") == "" && r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(raw)
}

func (s *Server) postSettings(w http.ResponseWriter, r *http.Request) {
	var patch map[string]any
	if !decodeJSON(w, r, &patch) {
		return
	}
	if patch == nil {
		writeError(w, http.StatusBadRequest, "settings must be a JSON object")
		return
	}
	next, err := s.deps.Settings.Update(patch)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.deps.OnSettingsUpdated != nil {
		s.deps.OnSettingsUpdated(next)
	}
	s.publish(events.SettingsUpdated{})
	writeJSON(w, http.StatusOK, s.settingsTree(r, next))
}
