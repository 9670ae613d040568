//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package sim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/mobileplans/mobileplans/internal/tty"
)

// ServePTY creates a pseudo-terminal, serves the modem on its master side
// until ctx is done, and returns the slave path (/dev/pts/N). The slave is
// in raw mode and world read/writable, and the modem keeps its own slave
// descriptor open, so clients can close and re-open the port any number of
// times. The master is in packet mode: when a client flushes the port the
// modem clears the port's exclusive-use flag (TIOCNXCL), so a client that
// set TIOCEXCL (ModemManager does) does not lock the next non-root open out.
// Wait waits for the serving goroutine to finish.
func (m *Modem) ServePTY(ctx context.Context) (path string, err error) {
	master, slave, err := pty.Open()
	if err != nil {
		return "", fmt.Errorf("sim: open pty: %w", err)
	}
	defer func() {
		if err != nil {
			_ = master.Close()
			_ = slave.Close()
		}
	}()
	path = slave.Name()
	if err := tty.MakeRaw(slave); err != nil {
		return "", fmt.Errorf("sim: raw mode on %s: %w", path, err)
	}
	if err := tty.SetPacketMode(master); err != nil {
		return "", fmt.Errorf("sim: packet mode on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		m.log.Warn("sim: cannot make the pty world-accessible", "path", path, "err", err)
	}
	port := &pktPort{m: m, master: master, slave: slave, buf: make([]byte, 4097)}
	m.ptyWG.Add(1)
	go func() {
		defer m.ptyWG.Done()
		err := m.Serve(ctx, port)
		_ = master.Close()
		_ = slave.Close()
		if err != nil && !(ctx.Err() != nil && errors.Is(err, ctx.Err())) {
			m.ptyMu.Lock()
			m.ptyErrs = append(m.ptyErrs, fmt.Errorf("sim: serving %s: %w", path, err))
			m.ptyMu.Unlock()
		}
	}()
	m.log.Info("sim: modem on pty", "path", path)
	return path, nil
}

// Wait waits until every ServePTY goroutine has finished (after its ctx was
// cancelled) and returns the errors they ended with; cancellation is not an
// error.
func (m *Modem) Wait() error {
	m.ptyWG.Wait()
	m.ptyMu.Lock()
	defer m.ptyMu.Unlock()
	return errors.Join(m.ptyErrs...)
}

// pktPort is the master side of the pty in packet mode: every read starts
// with a control byte, TIOCPKT_DATA for data.
type pktPort struct {
	m      *Modem
	master *os.File
	slave  *os.File
	buf    []byte
}

func (p *pktPort) Read(b []byte) (int, error) {
	for {
		n, err := p.master.Read(p.buf[:min(len(b)+1, len(p.buf))])
		if n > 0 {
			if p.buf[0] == unix.TIOCPKT_DATA {
				return copy(b, p.buf[1:n]), err
			}
			p.control(p.buf[0])
		}
		if err != nil {
			return 0, err
		}
	}
}

// control handles a packet-mode status byte: a client flushed or stopped
// the port. Clear TIOCEXCL so the next client can open it.
func (p *pktPort) control(status byte) {
	if err := tty.ClearExclusive(p.slave); err != nil {
		p.m.log.Warn("sim: TIOCNXCL failed", "err", err)
	}
	p.m.log.Debug("sim: pty control event, exclusive flag cleared", "status", status)
}

func (p *pktPort) Write(b []byte) (int, error) { return p.master.Write(b) }

func (p *pktPort) SetDeadline(t time.Time) error { return p.master.SetDeadline(t) }
