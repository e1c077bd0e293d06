package main

import (
	"context"
	"testing"
)

func TestWireWebcam(t *testing.T) {
	for _, tt := range []struct {
		env     string
		want    string
		wantErr bool
	}{
		{"", "", false},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", false},
		{"127.0.0.1:8080", "", true},
		{"ftp://cam", "", true},
	} {
		t.Setenv(webcamEnv, tt.env)
		a := &app{}
		err := wireWebcam(context.Background(), a)
		got := ""
		if a.deps.WebcamUpstream != nil {
			got = a.deps.WebcamUpstream.String()
		}
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("wireWebcam(%s=%q) = %q, %v; want %q, error %v", webcamEnv, tt.env, got, err, tt.want, tt.wantErr)
		}
	}
}
