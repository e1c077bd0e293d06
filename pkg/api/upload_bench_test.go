package api_test

import (
	"bufio"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
)

// rssKiB reads a field (VmRSS, VmHWM) of /proc/self/status in KiB.
func rssKiB(tb testing.TB, field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// gcodeStream yields size bytes of G-code without holding them.
type gcodeStream struct{ left int64 }

func (g *gcodeStream) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	const line = "G1 X100.123 Y100.456 E0.04321\n"
	n := 0
	for n+len(line) <= len(p) && g.left >= int64(len(line)) {
		n += copy(p[n:], line)
		g.left -= int64(len(line))
	}
	if n == 0 {
		n = copy(p, strings.Repeat("\n", int(min(int64(len(p)), g.left))))
		g.left -= int64(n)
	}
	return n, nil
}

// BenchmarkUpload streams a large multipart upload (500 MB by default;
// CUTTLE_UPLOAD_MB overrides) through the real HTTP stack to disk and
// reports MB/s and the peak RSS growth of the process during the upload.
// Run with -benchtime=1x.
func BenchmarkUpload(b *testing.B) {
	mb := int64(500)
	if v, err := strconv.ParseInt(os.Getenv("CUTTLE_UPLOAD_MB"), 10, 64); err == nil && v > 0 {
		mb = v
	}
	size := mb << 20
	e := newFilesEnv(b, filesOpts{maxUpload: size + 1<<20})
	// Warm up: one small upload so lazily built state is not counted.
	e.upload(e.adminKey, part{name: "file", filename: "warm.gcode", value: "G1\n"})
	b.SetBytes(size)
	b.ResetTimer()
	var growth int64
	for i := 0; i < b.N; i++ {
		os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset VmHWM
		base := rssKiB(b, "VmRSS")
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			mw.WriteField("path", "")
			fw, _ := mw.CreateFormFile("file", "big.gcode")
			buf := make([]byte, 64<<10)
			io.CopyBuffer(fw, &gcodeStream{left: size}, buf)
			mw.Close()
			pw.Close()
		}()
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/files/local", pr)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("X-Api-Key", e.adminKey)
		res, err := e.srv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 201 {
			b.Fatalf("upload = %d", res.StatusCode)
		}
		if g := rssKiB(b, "VmHWM") - base; g > growth {
			growth = g
		}
	}
	b.ReportMetric(float64(growth), "rss-growth-KiB")
}
