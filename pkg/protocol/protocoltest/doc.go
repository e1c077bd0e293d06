// Package protocoltest holds the fakes that protocol and printer tests run on:
// a Clock that only moves when told to, and scripted firmware on one end of a
// net.Pipe. The fake firmware parses frames with its own code, so a framing bug
// in package protocol cannot hide behind shared code.
package protocoltest
