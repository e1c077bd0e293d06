package api

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cuttleprint/cuttle/pkg/auth"
)

// routesUtil registers POST /api/util/test, restricted to what cannot be
// abused: paths only inside the data dir, URLs and servers only on this
// machine (no probing of the LAN or the internet through cuttle).
func (s *Server) routesUtil() {
	if s.deps.DataDir == "" {
		return
	}
	s.handle("POST", "/api/util/test", auth.PermAdmin, s.utilTest)
}

func (s *Server) utilTest(w http.ResponseWriter, r *http.Request) {
	name, c := decodeCommand(w, r)
	if c == nil {
		return
	}
	switch name {
	case "path":
		s.utilPath(w, c)
	case "url":
		s.utilURL(w, r, c)
	case "server":
		s.utilServer(w, r, c)
	case "resolution":
		var host string
		if _, ok := c.get(w, "name", &host); !ok {
			return
		}
		if host == "" {
			writeError(w, http.StatusBadRequest, "name is required")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		_, err := net.DefaultResolver.LookupHost(ctx, host)
		writeJSON(w, http.StatusOK, map[string]any{"name": host, "result": err == nil})
	case "address":
		addr := ""
		if _, ok := c.get(w, "address", &addr); !ok {
			return
		}
		ip := clientIP(r)
		if addr != "" {
			ip = net.ParseIP(addr)
		}
		if ip == nil {
			writeError(w, http.StatusBadRequest, "address is not an IP address")
			return
		}
		lan := ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast()
		writeJSON(w, http.StatusOK, map[string]any{"address": ip.String(), "is_lan_address": lan, "result": lan})
	default:
		writeError(w, http.StatusBadRequest, "command is invalid: "+name+" (path, url, server, resolution, address)")
	}
}

func (s *Server) utilPath(w http.ResponseWriter, c command) {
	var p, checkType string
	var access []string
	for k, v := range map[string]any{"path": &p, "check_type": &checkType, "check_access": &access} {
		if _, ok := c.get(w, k, v); !ok {
			return
		}
	}
	root, _ := filepath.Abs(s.deps.DataDir)
	full := p
	if !filepath.IsAbs(full) {
		full = filepath.Join(root, full)
	}
	full = filepath.Clean(full)
	if resolved, err := filepath.EvalSymlinks(full); err == nil {
		full = resolved
	}
	if full != root && !strings.HasPrefix(full, root+string(filepath.Separator)) {
		writeError(w, http.StatusBadRequest, "only paths inside the data dir can be tested")
		return
	}
	st, err := os.Stat(full)
	exists := err == nil
	typeOK := exists
	if exists && checkType == "file" {
		typeOK = st.Mode().IsRegular()
	} else if exists && checkType == "dir" {
		typeOK = st.IsDir()
	}
	accessOK := exists
	if exists {
		for _, a := range access {
			mode := map[string]os.FileMode{"r": 0o444, "w": 0o222, "x": 0o111}[a]
			if st.Mode().Perm()&mode == 0 {
				accessOK = false
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"path": p, "exists": exists, "typeok": typeOK, "access": accessOK, "result": exists && typeOK && accessOK})
}

// loopbackHost reports whether host names this machine.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) utilURL(w http.ResponseWriter, r *http.Request, c command) {
	var raw, method string
	var timeout float64
	for k, v := range map[string]any{"url": &raw, "method": &method, "timeout": &timeout} {
		if _, ok := c.get(w, k, v); !ok {
			return
		}
	}
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		writeError(w, http.StatusBadRequest, "url is missing or malformed")
		return
	}
	if !u.IsAbs() {
		// A relative URL (the default webcam URLs) is tested against this
		// server as the client addressed it.
		u = (&url.URL{Scheme: "http", Host: r.Host}).ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || !(loopbackHost(u.Hostname()) || u.Host == r.Host && loopbackHost(hostOnly(r.Host))) {
		writeError(w, http.StatusBadRequest, "only http(s) URLs on this machine can be tested")
		return
	}
	if method == "" {
		method = http.MethodHead
	}
	if method != http.MethodHead && method != http.MethodGet {
		writeError(w, http.StatusBadRequest, "method must be HEAD or GET")
		return
	}
	if timeout <= 0 || timeout > 10 {
		timeout = 3
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Duration(timeout*float64(time.Second)))
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, u.String(), nil)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"url": u.String(), "status": 0, "result": false, "error": err.Error()})
		return
	}
	res.Body.Close()
	writeJSON(w, http.StatusOK, map[string]any{"url": u.String(), "status": res.StatusCode, "result": res.StatusCode < 400,
		"response": map[string]any{"content_type": res.Header.Get("Content-Type")}})
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

func (s *Server) utilServer(w http.ResponseWriter, r *http.Request, c command) {
	var host, protocol string
	var port int
	for k, v := range map[string]any{"host": &host, "port": &port, "protocol": &protocol} {
		if _, ok := c.get(w, k, v); !ok {
			return
		}
	}
	if !loopbackHost(host) {
		writeError(w, http.StatusBadRequest, "only servers on this machine can be tested")
		return
	}
	if port < 1 || port > 65535 {
		writeError(w, http.StatusBadRequest, "port must be 1 to 65535")
		return
	}
	if protocol == "" {
		protocol = "tcp"
	}
	if protocol != "tcp" && protocol != "udp" {
		writeError(w, http.StatusBadRequest, "protocol must be tcp or udp")
		return
	}
	conn, err := net.DialTimeout(protocol, net.JoinHostPort(host, strconv.Itoa(port)), 2*time.Second)
	if err == nil {
		conn.Close()
	}
	writeJSON(w, http.StatusOK, map[string]any{"host": host, "port": port, "protocol": protocol, "result": err == nil})
}
