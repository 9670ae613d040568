//go:build linux

package mmtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/mobileplans/mobileplans/modem/sim"
)

// dialPTY serves the simulated modem on a pseudo-terminal like
// sim.ServePTY, and answers packet data dial commands (ATD*99...) itself
// with CONNECT: the simulated modem has no data path, and this is what a
// modem answers before it starts PPP, so ModemManager's Simple.Connect gets
// a connected (PPP) bearer. All other lines go to the simulated modem.
type dialPTY struct {
	master, slave *os.File
	path          string
	done          chan struct{}
	err           error

	mu      sync.Mutex
	dials   []string
	partial []byte // input after the last line end
	ready   []byte // complete lines for the modem
	buf     []byte
	reads   int // reads from the master that returned data
	bytes   int // bytes they returned
}

// maxPartial bounds input without a line end (binary probes), which is
// passed on as it is.
const maxPartial = 4096

func serveDialPTY(ctx context.Context, m *sim.Modem) (*dialPTY, error) {
	master, slave, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("mmtest: open pty: %w", err)
	}
	d := &dialPTY{master: master, slave: slave, path: slave.Name(), done: make(chan struct{}), buf: make([]byte, 4096)}
	if err := rawMode(slave); err != nil {
		master.Close()
		slave.Close()
		return nil, fmt.Errorf("mmtest: raw mode on %s: %w", d.path, err)
	}
	// The harness keeps the slave open so that ModemManager can close and
	// re-open the port without the master seeing a hang-up.
	go func() {
		defer close(d.done)
		err := m.Serve(ctx, d)
		master.Close()
		slave.Close()
		if err != nil && !errors.Is(err, ctx.Err()) {
			d.err = err
		}
	}()
	return d, nil
}

// rawMode puts a terminal in raw mode (cfmakeraw).
func rawMode(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var terr error
	err = rc.Control(func(fd uintptr) {
		t, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
		if err != nil {
			terr = err
			return
		}
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Cflag &^= unix.CSIZE | unix.PARENB
		t.Cflag |= unix.CS8
		terr = unix.IoctlSetTermios(int(fd), unix.TCSETS, t)
	})
	if err != nil {
		return err
	}
	return terr
}

// Read hands the modem complete lines (and unterminated input beyond
// maxPartial), keeping dial commands for itself.
func (d *dialPTY) Read(b []byte) (int, error) {
	for {
		d.mu.Lock()
		if len(d.ready) > 0 {
			n := copy(b, d.ready)
			d.ready = d.ready[n:]
			d.mu.Unlock()
			return n, nil
		}
		d.mu.Unlock()
		n, err := d.master.Read(d.buf)
		if n > 0 {
			if werr := d.feed(d.buf[:n]); werr != nil {
				return 0, werr
			}
		}
		if err != nil {
			return 0, err
		}
	}
}

func (d *dialPTY) feed(p []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reads++
	d.bytes += len(p)
	for _, c := range p {
		d.partial = append(d.partial, c)
		if c != '\r' && c != '\n' && len(d.partial) < maxPartial {
			continue
		}
		line := d.partial
		d.partial = nil
		if isDial(line) {
			d.dials = append(d.dials, string(bytes.TrimSpace(line)))
			if _, err := d.master.Write([]byte("\r\nCONNECT\r\n")); err != nil {
				return err
			}
			continue
		}
		d.ready = append(d.ready, line...)
	}
	return nil
}

// isDial reports a packet data dial, ATD*99...# (27.007 10.2.1.1).
func isDial(line []byte) bool {
	l := bytes.ToUpper(bytes.TrimSpace(line))
	return bytes.HasPrefix(l, []byte("ATD*99"))
}

func (d *dialPTY) Write(b []byte) (int, error) { return d.master.Write(b) }

func (d *dialPTY) SetDeadline(t time.Time) error { return d.master.SetDeadline(t) }

// Dials returns the dial commands answered so far.
func (d *dialPTY) Dials() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.dials...)
}

// input returns how many reads from the master returned data and how
// many bytes they returned.
func (d *dialPTY) input() (reads, bytes int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.reads, d.bytes
}

// wait waits until serving ended (after its context was cancelled).
func (d *dialPTY) wait() error {
	<-d.done
	return d.err
}
