// Package bootcfg applies the settings a user edits on the SD card's FAT boot
// partition before powering the Pi on, and reports the outcome where the user
// will look for it.
//
// The files, all optional, at the root of the boot partition:
//
//   - cuttle-wifi.txt: NAME=VALUE lines (ssid, password, country, hidden),
//     read forgivingly: a UTF-8 byte-order mark, CRLF line ends, spaces and
//     straight or "curly" quotes around values are all accepted, since these
//     are what text editors on Windows and macOS add.
//   - cuttle.yaml: "hostname:" plus, optionally, cuttle settings copied to
//     the device's settings file when they change.
//   - authorized_keys: SSH public keys; without it the device runs no SSH.
//
// [Apply] reads them on every boot, writes what they configure below the
// data directory (wpa_supplicant configuration, hostname, SSH keys, settings)
// and always writes a plain-text report, cuttle-status.txt, back to the boot
// partition and a JSON copy for the web interface. A mistake is never silent:
// it is named with the file, line and reason, and the previous working
// configuration is kept.
//
// The package does no I/O outside the two directories it is given and calls
// no system services itself; setting the kernel hostname and validating
// cuttle's settings are functions the caller passes in [Options].
package bootcfg
