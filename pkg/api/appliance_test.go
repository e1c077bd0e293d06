package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/api"
	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/bootcfg"
	"github.com/cuttleprint/cuttle/pkg/store"
)

// applianceEnv is an API over cuttle's data dir as on the image, /data/cuttle
// (data is the data partition), with an optional webcam upstream.
func applianceEnv(t *testing.T, upstream *url.URL) (base, key, data string) {
	t.Helper()
	ctx := context.Background()
	data = t.TempDir()
	dataDir := filepath.Join(data, "cuttle")
	db, err := store.Open(ctx, dataDir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := auth.NewService(db, auth.Options{Hash: cheap})
	if _, err := svc.AddUser(ctx, auth.NewUser{Name: "admin", Password: "admin-pw", Groups: []string{"admins", "users"}, Active: true}); err != nil {
		t.Fatal(err)
	}
	key, _ = svc.GenerateKey(ctx, "admin")
	srv := httptest.NewServer(api.New(api.Deps{Auth: svc, Version: "test", DataDir: dataDir, WebcamUpstream: upstream}))
	t.Cleanup(srv.Close)
	return srv.URL, key, data
}

func get(t *testing.T, u, key string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

func TestBootStatus(t *testing.T) {
	base, key, data := applianceEnv(t, nil)
	if code, body, _ := get(t, base+"/api/cuttle/bootstatus", key); code != 404 || !strings.Contains(body, "not running on the cuttle image") {
		t.Errorf("GET /api/cuttle/bootstatus before any boot = %d %s; want 404 with a reason", code, body)
	}
	// What cuttle-bootconfig.service leaves behind on the data partition.
	boot := t.TempDir()
	os.WriteFile(filepath.Join(boot, bootcfg.WifiFile), []byte("ssid=Shop\npassword=short\ncountry=GB\n"), 0o644)
	if _, err := bootcfg.Apply(bootcfg.Options{BootDir: boot, DataDir: data, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	code, body, _ := get(t, base+"/api/cuttle/bootstatus", key)
	var rep bootcfg.Report
	if code != 200 || json.Unmarshal([]byte(body), &rep) != nil {
		t.Fatalf("GET /api/cuttle/bootstatus = %d %s; want 200 and the report", code, body)
	}
	if rep.OK || !strings.Contains(body, "yours has 5") {
		t.Errorf("boot status = %s; want the Wi-Fi password error", body)
	}
	if code, _, _ := get(t, base+"/api/cuttle/bootstatus", ""); code != 401 {
		t.Errorf("GET /api/cuttle/bootstatus without a key = %d; want 401", code)
	}
}

func TestWebcamProxy(t *testing.T) {
	var seen *http.Request
	cam := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		if r.URL.Query().Get("action") == "snapshot" {
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write([]byte("\xff\xd8jpeg\xff\xd9"))
			return
		}
		http.NotFound(w, r)
	}))
	defer cam.Close()
	up, _ := url.Parse(cam.URL)
	base, key, _ := applianceEnv(t, up)

	code, body, hdr := get(t, base+"/webcam/?action=snapshot&apikey="+key, "")
	if code != 200 || body != "\xff\xd8jpeg\xff\xd9" || hdr.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("GET /webcam/?action=snapshot = %d %q %q; want the camera's JPEG", code, body, hdr.Get("Content-Type"))
	}
	if seen.URL.Path != "/" || seen.URL.Query().Get("apikey") != "" || seen.URL.Query().Get("action") != "snapshot" {
		t.Errorf("upstream got %s; want / with action=snapshot and no apikey", seen.URL)
	}
	get(t, base+"/webcam/stream", key)
	if seen.URL.Path != "/stream" || seen.Header.Get("X-Api-Key") != "" {
		t.Errorf("upstream got path %q, X-Api-Key %q; want /stream and no key", seen.URL.Path, seen.Header.Get("X-Api-Key"))
	}
	if code, _, _ := get(t, base+"/webcam/?action=stream", ""); code != 401 {
		t.Errorf("GET /webcam/ without credentials = %d; want 401", code)
	}
	req, _ := http.NewRequest("POST", base+"/webcam/", nil)
	req.Header.Set("X-Api-Key", key)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 405 {
		t.Errorf("POST /webcam/ = %v, %v; want 405", res.StatusCode, err)
	}

	cam.Close() // camera gone
	if code, body, _ := get(t, base+"/webcam/?action=snapshot", key); code != 502 || !strings.Contains(body, "webcam not reachable") {
		t.Errorf("GET /webcam/ with the camera down = %d %s; want 502 with a reason", code, body)
	}
}

func TestWebcamNotConfigured(t *testing.T) {
	base, key, _ := applianceEnv(t, nil)
	if code, body, _ := get(t, base+"/webcam/?action=stream", key); code != 503 || !strings.Contains(body, "no webcam configured") {
		t.Errorf("GET /webcam/ without an upstream = %d %s; want 503", code, body)
	}
}
