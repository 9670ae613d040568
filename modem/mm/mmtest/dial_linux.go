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

	"github.com/mobileplans/mobileplans/internal/tty"
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
	// shared: the master is in packet mode and every read clears the
	// slave's exclusive flag (see serveDialPTY).
	shared bool

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

// serveDialPTY serves m on a new pty. With shared, the pty can be
// re-opened by a process without CAP_SYS_ADMIN: ModemManager sets
// TIOCEXCL on the port when it opens it, and on a pty the flag outlives
// its close (the tty lives as long as the master), so its next open would
// fail with EBUSY. The master is put in packet mode, which reports the
// tcflush ModemManager does right after TIOCEXCL, and every read from the
// master clears the flag with TIOCNXCL on the harness's slave descriptor
// (as sim.ServePTY does).
func serveDialPTY(ctx context.Context, m *sim.Modem, shared bool) (*dialPTY, error) {
	master, slave, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("mmtest: open pty: %w", err)
	}
	d := &dialPTY{master: master, slave: slave, path: slave.Name(), shared: shared, done: make(chan struct{}), buf: make([]byte, 4097)}
	if err := tty.MakeRaw(slave); err != nil {
		master.Close()
		slave.Close()
		return nil, fmt.Errorf("mmtest: raw mode on %s: %w", d.path, err)
	}
	if shared {
		if err := tty.SetPacketMode(master); err != nil {
			master.Close()
			slave.Close()
			return nil, fmt.Errorf("mmtest: packet mode on %s: %w", d.path, err)
		}
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
		data := d.buf[:n]
		if d.shared && n > 0 {
			// Whoever has the port open may have set TIOCEXCL since
			// the last read. The slave is closed once serving ends
			// (then there is nobody left to let in).
			_ = tty.ClearExclusive(d.slave)
			if data[0] == unix.TIOCPKT_DATA {
				data = data[1:]
			} else {
				data = nil // a status byte only (flush, stop, start)
			}
		}
		if len(data) > 0 {
			if werr := d.feed(data); werr != nil {
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
