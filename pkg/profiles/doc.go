// Package profiles keeps printer profiles (OctoPrint's printerProfiles):
// build volume, heated bed and chamber, axes speeds, extruders. The
// built-in "_default" profile always exists; others are stored in bbolt.
// One profile is the default (used when a connection names none) and one
// is current (the connected printer's).
//
// A Store is safe for concurrent use.
package profiles
