// Package design holds the test that keeps cuttle's package graph the shape
// ../shared/DESIGN.md draws: doors open one way, from cmd through api and
// push to the domain packages and down to protocol, gcode, serial, store and
// events. It has no code of its own.
package design
