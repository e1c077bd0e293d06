package settings_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/settings"
)

func TestFile_UpdateMergesPersistsAndKeepsComments(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(path, []byte("# my printer\nserial:\n  # the USB port\n  port: /dev/ttyACM0\n  baudrate: 250000\npower:\n  relays: []\n"), 0o600)
	f, err := settings.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Get().Serial.Baudrate; got != 250000 {
		t.Fatalf("baudrate = %d; want 250000 from the file", got)
	}
	seen := 0
	f.Watch(func(*settings.Settings) { seen++ })
	s, err := f.Update(map[string]any{"serial": map[string]any{"autoconnect": true}, "appearance": map[string]any{"name": "Voron"},
		"plugins": map[string]any{"ignored": true}})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Serial.Autoconnect || s.Serial.Port != "/dev/ttyACM0" || s.Appearance.Name != "Voron" {
		t.Errorf("merged settings = %+v %+v", s.Serial, s.Appearance)
	}
	if seen != 1 {
		t.Errorf("watchers called %d times; want 1", seen)
	}
	raw, _ := os.ReadFile(path)
	for _, want := range []string{"# my printer", "# the USB port", "autoconnect: true", "name: Voron", "relays: []"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("saved file lacks %q:\n%s", want, raw)
		}
	}
	again, err := settings.OpenFile(path)
	if err != nil || !again.Get().Serial.Autoconnect {
		t.Errorf("reloaded settings lost the update: %v", err)
	}
}

func TestFile_BadUpdateChangesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	f, _ := settings.OpenFile(path)
	for name, patch := range map[string]map[string]any{
		"wrong type":   {"serial": map[string]any{"baudrate": "fast"}, "appearance": map[string]any{"name": "x"}},
		"out of range": {"gcodeAnalysis": map[string]any{"runAt": "sometimes"}, "appearance": map[string]any{"name": "x"}},
		"block type":   {"webcam": "on"},
	} {
		if _, err := f.Update(patch); !errors.Is(err, settings.ErrType) && !errors.Is(err, settings.ErrInvalid) {
			t.Errorf("%s: Update = %v; want ErrType or ErrInvalid", name, err)
		}
	}
	if f.Get().Appearance.Name != "" {
		t.Error("a failed update was half-applied")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("a failed update wrote the file")
	}
}

func TestLoad_TypoInKnownBlockFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(path, []byte("serial:\n  baudrat: 115200\n"), 0o600)
	if _, err := settings.Load(path); err == nil {
		t.Error("Load accepted an unknown key in the serial block")
	}
}
