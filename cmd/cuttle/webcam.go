package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
)

// webcamEnv names the camera stream server that /webcam/ forwards to. The
// appliance's cuttle.service sets it to its ustreamer on 127.0.0.1:8080.
const webcamEnv = "CUTTLE_WEBCAM_UPSTREAM"

// wireWebcam points /webcam/ at $CUTTLE_WEBCAM_UPSTREAM, when set.
func wireWebcam(ctx context.Context, a *app) error {
	raw := os.Getenv(webcamEnv)
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s=%q: want an http:// URL such as http://127.0.0.1:8080", webcamEnv, raw)
	}
	a.deps.WebcamUpstream = u
	return nil
}
