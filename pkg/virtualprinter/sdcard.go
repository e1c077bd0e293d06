package virtualprinter

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sdCard is the virtual card: a flat set of files, in memory, or the regular files of a
// directory (read when listed or opened, so the card can be large and change underneath).
// It is safe for concurrent use.
type sdCard struct {
	mu    sync.Mutex        // guards files
	files map[string][]byte // by long name, when dir is ""
	dir   string
}

func newSDCard(dir string) *sdCard {
	return &sdCard{files: map[string][]byte{}, dir: dir}
}

// AddSDFile puts a file on the virtual card (in Config.SDDir when set), replacing one of
// the same name. The name must be a plain file name.
func (p *Printer) AddSDFile(name string, data []byte) error {
	return p.card.put(name, data)
}

// SDFile returns the content of a file on the virtual card.
func (p *Printer) SDFile(name string) ([]byte, bool) {
	b, err := p.card.read(name)
	return b, err == nil
}

func (c *sdCard) put(name string, data []byte) error {
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return fmt.Errorf("virtualprinter: sd file %q: not a plain file name", name)
	}
	if c.dir != "" {
		if err := os.WriteFile(filepath.Join(c.dir, name), data, 0o644); err != nil {
			return fmt.Errorf("virtualprinter: sd file %q: %w", name, err)
		}
		return nil
	}
	c.mu.Lock()
	c.files[name] = append([]byte(nil), data...)
	c.mu.Unlock()
	return nil
}

func (c *sdCard) read(name string) ([]byte, error) {
	if c.dir != "" {
		if name != filepath.Base(name) {
			return nil, os.ErrNotExist
		}
		return os.ReadFile(filepath.Join(c.dir, name))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.files[name]
	if !ok {
		return nil, os.ErrNotExist
	}
	return append([]byte(nil), b...), nil
}

func (c *sdCard) remove(name string) error {
	if c.dir != "" {
		return os.Remove(filepath.Join(c.dir, filepath.Base(name)))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.files[name]; !ok {
		return os.ErrNotExist
	}
	delete(c.files, name)
	return nil
}

// cardEntry is one listed file.
type cardEntry struct {
	short, long string
	size        int
}

// sizes returns the card's files and their sizes.
func (c *sdCard) sizes() map[string]int {
	out := map[string]int{}
	if c.dir != "" {
		entries, err := os.ReadDir(c.dir)
		if err != nil {
			return out
		}
		for _, e := range entries {
			if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
				out[e.Name()] = int(fi.Size())
			}
		}
		return out
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for n, b := range c.files {
		out[n] = len(b)
	}
	return out
}

// list returns the files sorted by long name with their DOS 8.3 names.
func (c *sdCard) list() []cardEntry {
	sizes := c.sizes()
	names := make([]string, 0, len(sizes))
	for n := range sizes {
		names = append(names, n)
	}
	sort.Strings(names)
	used := map[string]bool{}
	out := make([]cardEntry, 0, len(names))
	for _, n := range names {
		sn := shortName(n, used)
		used[sn] = true
		out = append(out, cardEntry{short: sn, long: n, size: sizes[n]})
	}
	return out
}

// find looks a file up by its short or long name, case-insensitively, and reads it.
func (c *sdCard) find(name string) (cardEntry, []byte, bool) {
	name = strings.TrimPrefix(strings.TrimSpace(name), "/")
	for _, e := range c.list() {
		if strings.EqualFold(e.short, name) || strings.EqualFold(e.long, name) {
			b, err := c.read(e.long)
			if err != nil {
				return cardEntry{}, nil, false
			}
			e.size = len(b)
			return e, b, true
		}
	}
	return cardEntry{}, nil, false
}

// shortName makes a FAT 8.3 name: names that already fit are upper-cased, others become
// BASE~N.EXT.
func shortName(long string, used map[string]bool) string {
	base, ext := long, ""
	if i := strings.LastIndexByte(long, '.'); i > 0 {
		base, ext = long[:i], long[i+1:]
	}
	clean := func(s string) string {
		var b strings.Builder
		for _, r := range strings.ToUpper(s) {
			if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || strings.ContainsRune("_-!#$%&'()@^`{}~", r) {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	b, e := clean(base), clean(ext)
	if len(e) > 3 {
		e = e[:3]
	}
	fits := b == strings.ToUpper(base) && len(b) <= 8 && len(b) > 0 && e == strings.ToUpper(ext)
	join := func(b string) string {
		if e == "" {
			return b
		}
		return b + "." + e
	}
	if fits && !used[join(b)] {
		return join(b)
	}
	if b == "" {
		b = "FILE"
	}
	for n := 1; ; n++ {
		tail := "~" + strconv.Itoa(n)
		stem := b
		if len(stem) > 8-len(tail) {
			stem = stem[:8-len(tail)]
		}
		if sn := join(stem + tail); !used[sn] {
			return sn
		}
	}
}

// sdState is the firmware's card reader state for one session.
type sdState struct {
	file     cardEntry
	data     []byte
	selected bool
	pos      int
	printing bool
	asm      lineAssembler
	saving   bool
	saveName string
	saveBuf  []byte
}

func (d *sdState) open() bool { return d.selected }

func (d *sdState) close() {
	*d = sdState{}
}

// status is M27's answer: a selected file counts as printing or paused.
func (d *sdState) status() string {
	if !d.selected {
		return "Not SD printing"
	}
	return fmt.Sprintf("SD printing byte %d/%d", d.pos, len(d.data))
}

// sdCommand handles M20-M30.
func sdCommand(s *session, c command) {
	d := s.sd
	card := s.p.card
	switch c.code {
	case 20:
		long := c.has('L')
		s.send("Begin file list")
		for _, e := range card.list() {
			if long {
				s.send(fmt.Sprintf("%s %d %s", e.short, e.size, e.long))
			} else {
				s.send(fmt.Sprintf("%s %d", e.short, e.size))
			}
		}
		s.send("End file list")
	case 21:
		s.send("echo:SD card ok")
	case 22:
		d.close()
		s.send("echo:SD card released")
	case 23:
		name := strings.TrimSpace(c.args)
		e, b, ok := card.find(name)
		if !ok {
			s.send("open failed, File: " + name + ".")
			return
		}
		d.close()
		d.file, d.data, d.selected = e, b, true
		s.send("echo:Now fresh file: " + e.short)
		s.send(fmt.Sprintf("File opened: %s Size: %d", e.short, len(b)))
		s.send("File selected")
	case 24:
		if d.selected {
			d.printing = true
		}
	case 25:
		if d.printing {
			d.printing = false
			s.send("//action:prompt_end")
			s.send("//action:prompt_begin Pause SD")
			s.send("//action:prompt_button Resume")
			s.send("//action:prompt_show")
		}
	case 26:
		if d.selected && c.has('S') {
			d.pos = max(0, min(len(d.data), c.int('S', 0)))
			d.asm.reset()
		}
	case 27:
		switch {
		case c.has('S'):
			s.autoSD = secondsParam(c, 'S')
			s.nextSD = s.now() + s.autoSD
		case c.has('C'):
			if d.selected {
				s.send("Current file: " + d.file.short + " " + d.file.long)
			} else {
				s.send("Current file: (no file)")
			}
		default:
			s.send(d.status())
		}
	case 28:
		name := strings.TrimSpace(c.args)
		if name == "" || strings.ContainsAny(name, "/\\") {
			s.send("open failed, File: " + name + ".")
			return
		}
		d.close()
		d.saving, d.saveName = true, name
		s.send("Writing to file: " + name)
	case 29:
		// Outside an upload M29 does nothing.
	case 30:
		name := strings.TrimSpace(c.args)
		e, _, ok := card.find(name)
		if ok && card.remove(e.long) == nil {
			if d.selected && d.file.long == e.long {
				d.close()
			}
			s.send("File deleted:" + name)
		} else {
			s.send("Deletion failed, File: " + name + ".")
		}
	}
}

// saveLine handles a line during an M28 upload: M29 ends it, anything else is written.
func saveLine(s *session, text string) error {
	d := s.sd
	if text == "M29" || strings.HasPrefix(text, "M29 ") {
		err := s.p.card.put(d.saveName, d.saveBuf)
		d.close()
		if err != nil {
			s.send("Error:" + err.Error())
			return nil
		}
		s.send("Done saving file.")
		return nil
	}
	d.saveBuf = append(d.saveBuf, text...)
	d.saveBuf = append(d.saveBuf, '\r', '\n')
	return nil
}

// readSD is Marlin's get_sdcard_commands: while printing, fill the command buffer from the
// selected file; at its end report "Done printing file".
func (s *session) readSD() {
	d := s.sd
	for d.printing && len(s.queue) < s.cfg.BufSize {
		if d.pos >= len(d.data) {
			d.printing = false
			d.selected = false
			s.send("Done printing file")
			return
		}
		c := d.data[d.pos]
		d.pos++
		if line, ok := d.asm.add(c); ok {
			s.queue = append(s.queue, queued{line: line, fromSD: true})
		} else if d.pos == len(d.data) {
			if line, ok := d.asm.add('\n'); ok {
				s.queue = append(s.queue, queued{line: line, fromSD: true})
			}
		}
	}
}

// secondsParam reads an interval in whole seconds (0..60), as M155 and M27 take it.
func secondsParam(c command, l byte) time.Duration {
	return time.Duration(max(0, min(60, c.int(l, 0)))) * time.Second
}
