package system

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// LogFile is an io.Writer appending to dir/name that rotates to name.1 when
// it grows past MaxBytes, keeping Keep old files. It is safe for concurrent
// use.
type LogFile struct {
	dir, name string
	// MaxBytes is the size at which the file rotates (default 5 MiB).
	MaxBytes int64
	// Keep is how many rotated files stay (default 3).
	Keep int

	mu   sync.Mutex // guards f and size
	f    *os.File
	size int64
}

// OpenLogFile opens (creating) dir/name for appending.
func OpenLogFile(dir, name string) (*LogFile, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("system: create log dir %q: %w", dir, err)
	}
	l := &LogFile{dir: dir, name: name, MaxBytes: 5 << 20, Keep: 3}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *LogFile) open() error {
	f, err := os.OpenFile(filepath.Join(l.dir, l.name), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("system: open log: %w", err)
	}
	st, _ := f.Stat()
	l.f, l.size = f, 0
	if st != nil {
		l.size = st.Size()
	}
	return nil
}

// Write appends p, rotating first when the file is full.
func (l *LogFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, os.ErrClosed
	}
	if l.size+int64(len(p)) > l.MaxBytes && l.size > 0 {
		l.f.Close()
		base := filepath.Join(l.dir, l.name)
		for i := l.Keep - 1; i >= 1; i-- {
			os.Rename(fmt.Sprintf("%s.%d", base, i), fmt.Sprintf("%s.%d", base, i+1))
		}
		os.Rename(base, base+".1")
		if err := l.open(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

// Close closes the file.
func (l *LogFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Logs gives access to the log files in one directory.
type Logs struct {
	Dir string
	// Active is the file cuttle is writing; deleting it truncates it instead,
	// so logging goes on into a visible file.
	Active string
}

// LogEntry describes one log file.
type LogEntry struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	Date int64  `json:"date"`
}

// ErrNoLog is returned for a name that is not a log file in the directory.
var ErrNoLog = errors.New("system: no such log file")

// List returns the log files, newest first.
func (l Logs) List() ([]LogEntry, error) {
	ents, err := os.ReadDir(l.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []LogEntry{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("system: list logs: %w", err)
	}
	out := []LogEntry{}
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.Contains(e.Name(), ".log") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, LogEntry{Name: e.Name(), Size: info.Size(), Date: info.ModTime().Unix()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Date > out[j].Date })
	return out, nil
}

// Path returns the path of the log file name, refusing anything that is not
// a plain file name inside the directory.
func (l Logs) Path(name string) (string, error) {
	if name == "" || name != filepath.Base(name) || strings.HasPrefix(name, ".") || !strings.Contains(name, ".log") {
		return "", fmt.Errorf("%w: %q", ErrNoLog, name)
	}
	p := filepath.Join(l.Dir, name)
	st, err := os.Lstat(p)
	if err != nil || !st.Mode().IsRegular() {
		return "", fmt.Errorf("%w: %q", ErrNoLog, name)
	}
	return p, nil
}

// Delete removes the log file name.
func (l Logs) Delete(name string) error {
	p, err := l.Path(name)
	if err != nil {
		return err
	}
	if name == l.Active {
		return os.Truncate(p, 0)
	}
	return os.Remove(p)
}
