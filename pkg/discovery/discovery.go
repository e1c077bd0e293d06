package discovery

import (
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cuttleprint/cuttle/pkg/store"
	"github.com/hashicorp/mdns"
	"github.com/miekg/dns"
	bolt "go.etcd.io/bbolt"
)

// Info is what cuttle announces.
type Info struct {
	// UUID is the stable per-install id (see LoadUUID).
	UUID string
	// Name is the instance name shown to users.
	Name string
	// Host is the mDNS host name without ".local" (default: os.Hostname).
	Host string
	// Port is the HTTP port.
	Port int
	// Path is the URL path prefix ("/").
	Path string
	// Version is the OctoPrint version emulated.
	Version string
	// Model and Vendor describe the device (optional).
	Model, Vendor string
	// IPs are the addresses to announce (default: the interfaces' unicast
	// addresses).
	IPs []net.IP
}

var keyUUID = []byte("upnp_uuid")

// LoadUUID returns the install's UUID, creating and storing one on first
// use.
func LoadUUID(ctx context.Context, db *store.DB) (string, error) {
	var id string
	err := db.Update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(store.BucketSettings)
		if v := b.Get(keyUUID); len(v) > 0 {
			id = string(v)
			return nil
		}
		id = newUUID()
		return b.Put(keyUUID, []byte(id))
	})
	if err != nil {
		return "", fmt.Errorf("discovery: load uuid: %w", err)
	}
	return id, nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("discovery: crypto/rand failed: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (in Info) withDefaults() Info {
	if in.Host == "" {
		h, _ := os.Hostname()
		in.Host = strings.SplitN(h, ".", 2)[0]
	}
	if in.Host == "" {
		in.Host = "cuttle"
	}
	if in.Name == "" {
		in.Name = "cuttle on " + in.Host
	}
	if in.Path == "" {
		in.Path = "/"
	}
	if len(in.IPs) == 0 {
		in.IPs = unicastIPs()
	}
	return in
}

// unicastIPs lists the addresses of the up interfaces, loopback last (so a
// host with no network still answers on loopback).
func unicastIPs() []net.IP {
	var out, lo []net.IP
	ifs, _ := net.Interfaces()
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			if !ok || n.IP.IsLinkLocalUnicast() {
				continue
			}
			if n.IP.IsLoopback() {
				lo = append(lo, n.IP)
			} else {
				out = append(out, n.IP)
			}
		}
	}
	if len(out) == 0 {
		return lo
	}
	return out
}

// TXT returns the TXT records of the _octoprint._tcp service, the keys
// OctoPrint publishes and clients (Cura, Home Assistant) read.
func (in Info) TXT() []string {
	txt := []string{"path=" + in.Path, "version=" + in.Version, "api=0.1", "uuid=" + in.UUID}
	if in.Model != "" {
		txt = append(txt, "model="+in.Model)
	}
	if in.Vendor != "" {
		txt = append(txt, "vendor="+in.Vendor)
	}
	return txt
}

// zones answers for several services on one mDNS server.
type zones []mdns.Zone

func (z zones) Records(q dns.Question) []dns.RR {
	var out []dns.RR
	for _, one := range z {
		out = append(out, one.Records(q)...)
	}
	return out
}

// Announce answers mDNS queries for cuttle's services and runs the SSDP
// responder until ctx ends. It returns when both have stopped, or at once
// with an error when neither could start.
func Announce(ctx context.Context, in Info, logger *log.Logger) error {
	in = in.withDefaults()
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	host := in.Host + ".local."
	octo, err := mdns.NewMDNSService(in.Name, "_octoprint._tcp", "local.", host, in.Port, in.IPs, in.TXT())
	if err != nil {
		return fmt.Errorf("discovery: _octoprint._tcp: %w", err)
	}
	web, err := mdns.NewMDNSService(in.Name, "_http._tcp", "local.", host, in.Port, in.IPs, []string{"path=" + in.Path})
	if err != nil {
		return fmt.Errorf("discovery: _http._tcp: %w", err)
	}
	srv, mdnsErr := mdns.NewServer(&mdns.Config{Zone: zones{octo, web}, Logger: logger})
	ssdp, ssdpErr := newSSDP(in)
	if mdnsErr != nil && ssdpErr != nil {
		return fmt.Errorf("discovery: mdns: %v; ssdp: %w", mdnsErr, ssdpErr)
	}
	if srv != nil {
		defer srv.Shutdown()
	}
	if ssdp != nil {
		ssdp.run(ctx)
	} else {
		<-ctx.Done()
	}
	return nil
}

// DescriptionXML renders the UPnP device description; base is the
// server's absolute URL (presentationURL).
func DescriptionXML(in Info, base string) ([]byte, error) {
	in = in.withDefaults()
	type device struct {
		DeviceType       string `xml:"deviceType"`
		FriendlyName     string `xml:"friendlyName"`
		Manufacturer     string `xml:"manufacturer"`
		ManufacturerURL  string `xml:"manufacturerURL"`
		ModelDescription string `xml:"modelDescription"`
		ModelName        string `xml:"modelName"`
		ModelNumber      string `xml:"modelNumber"`
		SerialNumber     string `xml:"serialNumber"`
		UDN              string `xml:"UDN"`
		PresentationURL  string `xml:"presentationURL"`
	}
	type root struct {
		XMLName     xml.Name `xml:"urn:schemas-upnp-org:device-1-0 root"`
		SpecVersion struct {
			Major int `xml:"major"`
			Minor int `xml:"minor"`
		} `xml:"specVersion"`
		Device device `xml:"device"`
	}
	r := root{Device: device{DeviceType: "urn:schemas-upnp-org:device:Basic:1", FriendlyName: in.Name,
		Manufacturer: orDefault(in.Vendor, "cuttle"), ManufacturerURL: "https://github.com/cuttleprint/cuttle",
		ModelDescription: "cuttle 3D printer host (OctoPrint API " + in.Version + ")", ModelName: orDefault(in.Model, "cuttle"),
		ModelNumber: in.Version, SerialNumber: in.UUID, UDN: "uuid:" + in.UUID, PresentationURL: strings.TrimRight(base, "/") + in.Path}}
	r.SpecVersion.Major = 1
	out, err := xml.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), out...), nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

var errNoMulticast = errors.New("discovery: no multicast listener")

var ssdpAddr = &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250), Port: 1900}

// ssdp answers M-SEARCH requests and sends NOTIFY alive/byebye.
type ssdp struct {
	in   Info
	conn *net.UDPConn
}

func newSSDP(in Info) (*ssdp, error) {
	c, err := net.ListenMulticastUDP("udp4", nil, ssdpAddr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoMulticast, err)
	}
	return &ssdp{in: in, conn: c}, nil
}

func (s *ssdp) location(ip net.IP) string {
	host := ip.String()
	if ip.To4() == nil {
		host = "[" + host + "]"
	}
	return "http://" + host + ":" + strconv.Itoa(s.in.Port) + "/plugin/discovery/discovery.xml"
}

// targets are the search targets cuttle answers, with their USNs.
func (s *ssdp) targets() [][2]string {
	u := "uuid:" + s.in.UUID
	return [][2]string{{"upnp:rootdevice", u + "::upnp:rootdevice"}, {u, u},
		{"urn:schemas-upnp-org:device:Basic:1", u + "::urn:schemas-upnp-org:device:Basic:1"}}
}

func (s *ssdp) run(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.serve()
	}()
	s.notify("ssdp:alive")
	t := time.NewTicker(60 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.notify("ssdp:byebye")
			s.conn.Close()
			<-done
			return
		case <-t.C:
			s.notify("ssdp:alive")
		}
	}
}

func (s *ssdp) ip() net.IP {
	if len(s.in.IPs) > 0 {
		return s.in.IPs[0]
	}
	return net.IPv4(127, 0, 0, 1)
}

func (s *ssdp) notify(nts string) {
	c, err := net.DialUDP("udp4", nil, ssdpAddr)
	if err != nil {
		return
	}
	defer c.Close()
	for _, t := range s.targets() {
		msg := "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n" +
			"LOCATION: " + s.location(s.ip()) + "\r\nNT: " + t[0] + "\r\nNTS: " + nts + "\r\n" +
			"SERVER: Linux UPnP/1.0 cuttle/" + s.in.Version + "\r\nUSN: " + t[1] + "\r\n\r\n"
		c.Write([]byte(msg))
	}
}

// serve answers M-SEARCH requests until the connection closes.
func (s *ssdp) serve() {
	buf := make([]byte, 2048)
	for {
		n, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		req := string(buf[:n])
		if !strings.HasPrefix(req, "M-SEARCH * HTTP/1.1") {
			continue
		}
		st := header(req, "ST")
		for _, t := range s.targets() {
			if st == "ssdp:all" || st == t[0] {
				resp := "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\nLOCATION: " + s.location(s.ip()) +
					"\r\nSERVER: Linux UPnP/1.0 cuttle/" + s.in.Version + "\r\nST: " + t[0] + "\r\nUSN: " + t[1] + "\r\n\r\n"
				s.conn.WriteToUDP([]byte(resp), from)
			}
		}
	}
}

// header returns the value of an HTTP-style header in an SSDP message.
func header(msg, name string) string {
	for _, line := range strings.Split(msg, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
