//go:build !linux

package main

import "errors"

func setHostname(string) error { return errors.New("setting the hostname is only supported on Linux") }
