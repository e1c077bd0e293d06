//go:build tools

// Package tools pins the modules cuttle's packages are being built on, so that
// `go mod tidy` keeps them while the packages that import them are written.
package tools

import (
	_ "github.com/coder/websocket"
	_ "github.com/creack/pty"
	_ "github.com/gorilla/mux"
	_ "go.bug.st/serial"
	_ "go.etcd.io/bbolt"
	_ "golang.org/x/crypto/argon2"
	_ "gopkg.in/yaml.v3"
	_ "periph.io/x/conn/v3/gpio"
	_ "periph.io/x/host/v3"
)
