package discovery_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cuttleprint/cuttle/pkg/discovery"
	"github.com/cuttleprint/cuttle/pkg/store"
	"github.com/hashicorp/mdns"
)

func TestLoadUUID_StableAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var ids []string
	for i := 0; i < 2; i++ {
		db, err := store.Open(ctx, dir, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		id, err := discovery.LoadUUID(ctx, db)
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if ids[0] != ids[1] || len(ids[0]) != 36 || ids[0][14] != '4' {
		t.Errorf("uuids = %v; want one stable v4 uuid", ids)
	}
}

func TestDescriptionXML(t *testing.T) {
	raw, err := discovery.DescriptionXML(discovery.Info{UUID: "abc", Name: "Voron", Version: "1.11.2", Port: 80}, "http://10.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<UDN>uuid:abc</UDN>", "<presentationURL>http://10.0.0.2/</presentationURL>", "<friendlyName>Voron</friendlyName>", "urn:schemas-upnp-org:device-1-0"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("description lacks %q:\n%s", want, raw)
		}
	}
}

const nsEnv = "CUTTLE_DISCOVERY_IN_NETNS"

// TestAnnounce_InNetworkNamespace announces in a network namespace made for
// the test (multicast never touches the machine's real interfaces) and
// browses back with the library's own client and an SSDP M-SEARCH.
func TestAnnounce_InNetworkNamespace(t *testing.T) {
	if os.Getenv(nsEnv) == "" {
		ns := "cuttle-disc-" + strconv.Itoa(os.Getpid())
		if _, err := exec.LookPath("ip"); err != nil {
			t.Skip("skipped: the ip command (iproute2) is not installed, so no network namespace can be made")
		}
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Skipf("skipped: cannot create a network namespace here (%v: %s)", err, strings.TrimSpace(string(out)))
		}
		defer exec.Command("ip", "netns", "del", ns).Run()
		for _, args := range [][]string{{"link", "set", "lo", "up"}, {"link", "set", "lo", "multicast", "on"}, {"route", "add", "224.0.0.0/4", "dev", "lo"}} {
			if out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "ip"}, args...)...).CombinedOutput(); err != nil {
				t.Fatalf("ip %v in the namespace: %v: %s", args, err, out)
			}
		}
		cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run", "^TestAnnounce_InNetworkNamespace$", "-test.v")
		cmd.Env = append(os.Environ(), nsEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("inside the namespace: %v\n%s", err, out)
		}
		t.Logf("inside the namespace:\n%s", out)
		return
	}

	// Inside the namespace: its only interface is a multicast-enabled lo.
	info := discovery.Info{UUID: "6a1c9b7e-0f0e-4a55-9b1d-2a5d3c4e5f60", Name: "cuttle test", Host: "cuttletest",
		Version: "1.11.2", Model: "Voron", Vendor: "DIY", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := discovery.DescriptionXML(info, "http://"+r.Host)
		w.Write(raw)
	}))
	defer srv.Close()
	info.Port = srv.Listener.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- discovery.Announce(ctx, info, nil) }()
	defer func() { cancel(); <-done }()
	time.Sleep(200 * time.Millisecond) // let the listeners join their groups

	lo, _ := net.InterfaceByName("lo")
	browse := func(service string) *mdns.ServiceEntry {
		for attempt := 0; attempt < 3; attempt++ {
			entries := make(chan *mdns.ServiceEntry, 8)
			p := mdns.DefaultParams(service)
			p.Entries, p.Interface, p.Timeout, p.DisableIPv6 = entries, lo, time.Second, true
			p.Logger = nil
			go func() { mdns.Query(p); close(entries) }()
			for e := range entries {
				if strings.Contains(e.Name, service) {
					for range entries {
					}
					return e
				}
			}
		}
		return nil
	}
	e := browse("_octoprint._tcp")
	if e == nil {
		t.Fatal("_octoprint._tcp not found by mDNS browsing")
	}
	txt := strings.Join(e.InfoFields, " ")
	for _, want := range []string{"path=/", "version=1.11.2", "api=0.1", "uuid=" + info.UUID, "model=Voron", "vendor=DIY"} {
		if !strings.Contains(txt, want) {
			t.Errorf("TXT %q lacks %q", txt, want)
		}
	}
	if e.Port != info.Port {
		t.Errorf("port = %d; want %d", e.Port, info.Port)
	}
	if h := browse("_http._tcp"); h == nil || !strings.Contains(strings.Join(h.InfoFields, " "), "path=/") {
		t.Errorf("_http._tcp = %+v; want it with TXT path", h)
	}

	// SSDP: search for root devices and fetch the description it points at.
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	search := "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: upnp:rootdevice\r\n\r\n"
	var loc string
	for attempt := 0; attempt < 3 && loc == ""; attempt++ {
		c.WriteToUDP([]byte(search), &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250), Port: 1900})
		c.SetReadDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 2048)
		n, _, err := c.ReadFromUDP(buf)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(buf[:n]), "\r\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "LOCATION") {
				loc = strings.TrimSpace(v)
			}
		}
	}
	if loc == "" {
		t.Fatal("no SSDP answer to M-SEARCH upnp:rootdevice")
	}
	res, err := http.Get(loc)
	if err != nil {
		t.Fatalf("GET %s: %v", loc, err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), "<UDN>uuid:"+info.UUID+"</UDN>") {
		t.Errorf("description at %s lacks the UDN:\n%s", loc, body)
	}
	fmt.Println("found _octoprint._tcp, _http._tcp and the SSDP root device")
}
