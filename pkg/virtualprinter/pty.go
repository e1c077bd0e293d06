package virtualprinter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// PTY serves a Printer behind a pseudo-terminal whose slave side a host opens like a serial
// port. Each time the host opens the port the firmware boots afresh (as an Arduino board
// resets when DTR toggles) and prints its banner; when the host closes the port the
// firmware goes quiet until the next open. After Disconnect the pseudo-terminal is torn
// down, as when a USB device is unplugged, and a new one takes its place moments later
// (the link, if any, follows it and dangles meanwhile, as a by-id link does while a device
// re-enumerates). PTY's methods are safe for concurrent use.
type PTY struct {
	p      *Printer
	link   string
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex // guards path and err
	path string
	err  error
}

// OpenPTY creates a pseudo-terminal and serves p on it until ctx ends or Close is called.
// When link is not empty, a symbolic link of that name points at the slave device (an
// existing symbolic link is replaced; any other file there is an error).
func OpenPTY(ctx context.Context, p *Printer, link string) (*PTY, error) {
	if link != "" {
		if fi, err := os.Lstat(link); err == nil && fi.Mode()&os.ModeSymlink == 0 {
			return nil, fmt.Errorf("virtualprinter: pty link %q: exists and is not a symbolic link", link)
		}
	}
	pair, err := openPair()
	if err != nil {
		return nil, err
	}
	if err := relink(link, pair.path); err != nil {
		pair.close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	t := &PTY{p: p, link: link, cancel: cancel, done: make(chan struct{}), path: pair.path}
	go t.serve(ctx, pair)
	return t, nil
}

// Path is the slave device the host opens, e.g. /dev/pts/3. It changes after Disconnect.
func (t *PTY) Path() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.path
}

// Link is the symbolic link given to OpenPTY, or "".
func (t *PTY) Link() string { return t.link }

// Close stops serving, closes the pseudo-terminal and removes the link. It returns the
// error that ended serving early, if any.
func (t *PTY) Close() error {
	t.cancel()
	<-t.done
	if t.link != "" {
		if dest, err := os.Readlink(t.link); err == nil && dest == t.Path() {
			_ = os.Remove(t.link)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// Done is closed when serving has ended.
func (t *PTY) Done() <-chan struct{} { return t.done }

func (t *PTY) serve(ctx context.Context, pair *ptyPair) {
	defer close(t.done)
	for {
		err := t.serveOpens(ctx, pair)
		pair.close()
		if !errors.Is(err, ErrDisconnected) {
			if ctx.Err() == nil {
				t.mu.Lock()
				t.err = err
				t.mu.Unlock()
			}
			return
		}
		pair, err = openPair()
		if err == nil {
			err = relink(t.link, pair.path)
			if err != nil {
				pair.close()
			}
		}
		if err != nil {
			t.mu.Lock()
			t.err = err
			t.mu.Unlock()
			return
		}
		t.mu.Lock()
		t.path = pair.path
		t.mu.Unlock()
	}
}

// serveOpens boots the firmware each time the host opens the slave and serves it until
// the host closes it, the host opens it again (a new boot), ctx ends or the link is
// disconnected.
func (t *PTY) serveOpens(ctx context.Context, pair *ptyPair) error {
	for {
		if err := pair.waitOpen(ctx); err != nil {
			return err
		}
		for reboot := true; reboot; {
			reboot = false
			sctx, cancel := context.WithCancel(ctx)
			result := make(chan error, 1)
			go func() { result <- t.p.Serve(sctx, pair.master) }()
			var err error
		wait:
			for {
				select {
				case err = <-result:
					break wait
				case mask, ok := <-pair.events:
					if !ok || mask&unix.IN_OPEN != 0 {
						cancel()
						err = <-result
						reboot = ok
						break wait
					}
				case <-ctx.Done():
					cancel()
					<-result
					return ctx.Err()
				}
			}
			cancel()
			if errors.Is(err, ErrDisconnected) {
				return err
			}
		}
		// The host closed the port (EIO) or the link failed: wait for the next open.
	}
}

// ptyPair is a pseudo-terminal whose slave side is watched for opens with inotify, so that
// every open boots the firmware, however quickly it follows a close.
type ptyPair struct {
	master  *os.File
	path    string
	watch   *os.File    // inotify instance watching path
	events  chan uint32 // inotify event masks; closed when the watch ends
	quit    chan struct{}
	watchWG sync.WaitGroup
}

// waitOpen waits for an IN_OPEN event on the slave.
func (p *ptyPair) waitOpen(ctx context.Context) error {
	for {
		select {
		case mask, ok := <-p.events:
			if !ok {
				return fmt.Errorf("virtualprinter: pty %s: watch ended", p.path)
			}
			if mask&unix.IN_OPEN != 0 {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (p *ptyPair) close() {
	close(p.quit)
	_ = p.master.Close()
	_ = p.watch.Close()
	p.watchWG.Wait()
}

func (p *ptyPair) readEvents() {
	defer p.watchWG.Done()
	defer close(p.events)
	buf := make([]byte, 4096)
	for {
		n, err := p.watch.Read(buf)
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			select {
			case p.events <- ev.Mask:
			case <-p.quit:
				return
			}
			off += unix.SizeofInotifyEvent + int(ev.Len)
		}
		if err != nil {
			return
		}
	}
}

// openPair creates a pseudo-terminal in raw mode with a non-blocking master (so that reads
// honour deadlines and Close) and starts watching its slave for opens. The slave is left
// closed.
func openPair() (*ptyPair, error) {
	m, tty, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("virtualprinter: open pty: %w", err)
	}
	path := tty.Name()
	err = makeRaw(int(tty.Fd()))
	_ = tty.Close()
	if err != nil {
		_ = m.Close()
		return nil, fmt.Errorf("virtualprinter: pty %s: raw mode: %w", path, err)
	}
	// pty.Open hands out a master in blocking mode; a non-blocking duplicate goes through
	// the runtime poller instead.
	fd, err := unix.FcntlInt(m.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	_ = m.Close()
	if err != nil {
		return nil, fmt.Errorf("virtualprinter: pty %s: dup master: %w", path, err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("virtualprinter: pty %s: non-blocking master: %w", path, err)
	}
	master := os.NewFile(uintptr(fd), "/dev/ptmx")
	ifd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		_ = master.Close()
		return nil, fmt.Errorf("virtualprinter: pty %s: inotify: %w", path, err)
	}
	if _, err := unix.InotifyAddWatch(ifd, path, unix.IN_OPEN|unix.IN_CLOSE); err != nil {
		_ = unix.Close(ifd)
		_ = master.Close()
		return nil, fmt.Errorf("virtualprinter: pty %s: watch: %w", path, err)
	}
	p := &ptyPair{master: master, path: path, watch: os.NewFile(uintptr(ifd), "inotify"), events: make(chan uint32, 64), quit: make(chan struct{})}
	p.watchWG.Add(1)
	go p.readEvents()
	return p, nil
}

// makeRaw sets the terminal to raw 8-bit mode: no echo, no line editing, no CR/LF mapping.
func makeRaw(fd int) error {
	tio, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	tio.Cflag &^= unix.CSIZE | unix.PARENB
	tio.Cflag |= unix.CS8
	tio.Cc[unix.VMIN] = 1
	tio.Cc[unix.VTIME] = 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, tio)
}

// relink points link at path, atomically replacing an older link.
func relink(link, path string) error {
	if link == "" {
		return nil
	}
	tmp := link + ".tmp"
	_ = os.Remove(tmp)
	if err := os.Symlink(path, tmp); err != nil {
		return fmt.Errorf("virtualprinter: pty link %q: %w", link, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("virtualprinter: pty link %q: %w", link, err)
	}
	return nil
}
