package files

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxNameBytes is the longest path component accepted, as on most file
// systems.
const MaxNameBytes = 255

// machineCode lists the extensions of printable files, lower case.
var machineCode = []string{".gcode", ".gco", ".g", ".gc~"}

// IsMachineCode reports whether name has a machine-code extension (any case).
func IsMachineCode(name string) bool {
	l := strings.ToLower(name)
	for _, ext := range machineCode {
		if strings.HasSuffix(l, ext) && len(l) > len(ext) {
			return true
		}
	}
	return false
}

// TypePath is OctoPrint's typePath of a file name: ["machinecode","gcode"]
// for G-code, nil otherwise.
func TypePath(name string) []string {
	if IsMachineCode(name) {
		return []string{"machinecode", "gcode"}
	}
	return nil
}

// checkRaw rejects what no sanitising may repair: NUL and control characters
// and invalid UTF-8.
func checkRaw(p string) error {
	if !utf8.ValidString(p) {
		return fmt.Errorf("%w: %q is not valid UTF-8", ErrInvalidPath, p)
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %q contains a control character", ErrInvalidPath, p)
		}
	}
	return nil
}

// SanitizeName returns the storage name for one path component, OctoPrint's
// way: letters are transliterated to ASCII where a plain equivalent exists,
// spaces become '_', characters outside [A-Za-z0-9-_.()[]] become '_', a
// leading '.' is dropped (no hidden files). It fails with ErrInvalidPath for
// "..", control characters, a name containing '/' or '\', a result that is
// empty, or one longer than MaxNameBytes.
func SanitizeName(name string) (string, error) {
	if err := checkRaw(name); err != nil {
		return "", err
	}
	if strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("%w: name %q contains a slash", ErrInvalidPath, name)
	}
	if name == ".." || name == "." {
		return "", fmt.Errorf("%w: %q", ErrInvalidPath, name)
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case strings.ContainsRune("-_.()[]", r):
			b.WriteRune(r)
		default:
			if t, ok := translit[r]; ok {
				b.WriteString(t)
			} else {
				b.WriteByte('_')
			}
		}
	}
	out := b.String()
	for strings.Contains(out, "__") {
		out = strings.ReplaceAll(out, "__", "_")
	}
	out = strings.TrimLeft(out, ".")
	if out == "" || out == "_" || strings.Trim(out, "._") == "" {
		return "", fmt.Errorf("%w: name %q sanitises to nothing", ErrInvalidPath, name)
	}
	if len(out) > MaxNameBytes {
		return "", fmt.Errorf("%w: name %q is longer than %d bytes", ErrInvalidPath, name, MaxNameBytes)
	}
	return out, nil
}

// SanitizePath sanitises every component of a slash-separated relative path.
// "" is the root. It fails with ErrInvalidPath for an absolute path or a ".."
// component; empty components (a//b, a trailing slash) are dropped.
func SanitizePath(p string) (string, error) {
	if err := checkRaw(p); err != nil {
		return "", err
	}
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) {
		return "", fmt.Errorf("%w: %q is absolute", ErrInvalidPath, p)
	}
	var parts []string
	for _, c := range strings.Split(p, "/") {
		if c == "" || c == "." {
			continue
		}
		if c == ".." {
			return "", fmt.Errorf("%w: %q climbs out of the folder", ErrInvalidPath, p)
		}
		s, err := SanitizeName(c)
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "/"), nil
}

// CheckPath validates a path as clients send back what a listing gave them,
// without renaming anything (files copied in over SSH keep their names): it
// must be valid UTF-8 without control characters, with no ".", ".." or
// hidden (dot) components and none longer than MaxNameBytes. Leading and
// trailing slashes are dropped; "" is the root.
func CheckPath(p string) (string, error) {
	p = strings.Trim(p, "/")
	if p == "" {
		return "", nil
	}
	if err := checkRaw(p); err != nil {
		return "", err
	}
	for _, c := range strings.Split(p, "/") {
		if c == "" || c == "." || c == ".." {
			return "", fmt.Errorf("%w: %q", ErrInvalidPath, p)
		}
		if len(c) > MaxNameBytes {
			return "", fmt.Errorf("%w: component of %q longer than %d bytes", ErrInvalidPath, p, MaxNameBytes)
		}
		if strings.HasPrefix(c, ".") {
			return "", fmt.Errorf("%w: %q names a hidden file", ErrInvalidPath, p)
		}
	}
	return p, nil
}

// splitPath returns the parent folder and the last component of p.
func splitPath(p string) (dir, name string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// joinPath joins a folder and a name.
func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// translit maps common non-ASCII letters to ASCII.
var translit = map[rune]string{
	'À': "A", 'Á': "A", 'Â': "A", 'Ã': "A", 'Ä': "A", 'Å': "A", 'Æ': "AE", 'Ç': "C",
	'È': "E", 'É': "E", 'Ê': "E", 'Ë': "E", 'Ì': "I", 'Í': "I", 'Î': "I", 'Ï': "I",
	'Ð': "D", 'Ñ': "N", 'Ò': "O", 'Ó': "O", 'Ô': "O", 'Õ': "O", 'Ö': "O", 'Ø': "O",
	'Ù': "U", 'Ú': "U", 'Û': "U", 'Ü': "U", 'Ý': "Y", 'Þ': "TH", 'ß': "ss",
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'æ': "ae", 'ç': "c",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ì': "i", 'í': "i", 'î': "i", 'ï': "i",
	'ð': "d", 'ñ': "n", 'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ý': "y", 'þ': "th", 'ÿ': "y",
	'Ł': "L", 'ł': "l", 'Š': "S", 'š': "s", 'Ž': "Z", 'ž': "z", 'Č': "C", 'č': "c",
	'Ř': "R", 'ř': "r", 'Ě': "E", 'ě': "e", 'Ů': "U", 'ů': "u", 'Œ': "OE", 'œ': "oe",
}

// splitAll splits a stored path into its components.
func splitAll(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}
