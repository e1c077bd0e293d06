module github.com/cuttleprint/cuttle

go 1.25.0

require (
	github.com/coder/websocket v1.8.14
	github.com/creack/pty v1.1.24
	github.com/gorilla/mux v1.8.1
	github.com/hashicorp/mdns v1.0.7
	github.com/miekg/dns v1.1.72
	go.bug.st/serial v1.6.4
	go.etcd.io/bbolt v1.4.3
	golang.org/x/crypto v0.50.0
	golang.org/x/sys v0.44.0
	gopkg.in/yaml.v3 v3.0.1
	periph.io/x/conn/v3 v3.7.3
	periph.io/x/host/v3 v3.8.5
)

require (
	github.com/creack/goselect v0.1.2 // indirect
	github.com/jonboulle/clockwork v0.5.0 // indirect
	golang.org/x/mod v0.31.0 // indirect
	golang.org/x/net v0.52.0 // indirect
	golang.org/x/sync v0.19.0 // indirect
	golang.org/x/tools v0.40.0 // indirect
)
