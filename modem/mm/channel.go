package mm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/modem/at"
)

// OpenChannel opens a logical channel to the application aid (the ISD-R
// for the LPA).
//
// With AccessAuto it uses Modem.Command (AT+CCHO, then AT+CGLA per APDU and
// AT+CCHC on Close), which ModemManager allows when it runs with --debug.
// When ModemManager refuses that, or the modem refuses AT+CCHO, it asks
// ModemManager to inhibit the device (InhibitDevice), opens the modem's own
// AT port with modem/at and opens the channel there (AT+CCHO or AT+CSIM).
// The device stays inhibited for further channels until Release, Close, or
// an operation that needs ModemManager (Refresh, WaitReady, Connect,
// Disconnect, SetPrimarySimSlot, Enable); if no channel could be opened the
// inhibition is released before OpenChannel returns. When neither path
// works the error is a *NoAPDUAccessError that says what to change.
func (m *Modem) OpenChannel(ctx context.Context, aid []byte) (apdu.Channel, error) {
	if len(aid) < 5 || len(aid) > 16 {
		return nil, fmt.Errorf("mm: AID of %d bytes (want 5 to 16)", len(aid))
	}
	m.accessMu.Lock()
	defer m.accessMu.Unlock()
	select {
	case <-m.done:
		return nil, ErrClosed
	default:
	}
	if m.session != nil {
		return m.session.openChannel(ctx, aid)
	}
	if m.opts.Access != AccessInhibit && m.cmdErr == nil {
		ch, err := m.openCommand(ctx, aid)
		if err == nil {
			return ch, nil
		}
		if !commandRefused(err) {
			return nil, err
		}
		if m.opts.Access == AccessCommand {
			return nil, &NoAPDUAccessError{Command: err}
		}
		m.log.Info("mm: ModemManager refuses AT+CCHO through Modem.Command; inhibiting the device to use its AT port", "err", err)
		m.cmdErr = err
	}
	s, err := m.startSession(ctx)
	if err != nil {
		return nil, &NoAPDUAccessError{Command: m.cmdErr, Inhibit: err}
	}
	m.session = s
	ch, err := s.openChannel(ctx, aid)
	if err != nil {
		if rerr := m.endSession(); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, err
	}
	return ch, nil
}

// commandRefused reports whether a failed AT+CCHO through Modem.Command
// means this path cannot work (as opposed to a card-side error such as an
// unknown AID): ModemManager not in debug mode, or the modem answering
// ERROR / operation not allowed / not supported.
func commandRefused(err error) bool {
	e, ok := asError(err)
	if !ok {
		return false
	}
	if e.Unauthorized() || e.Name == errUnsupported {
		return true
	}
	switch n, _ := e.MobileEquipment(); n {
	case "NotAllowed", "NotSupported", "Unknown":
		return true
	}
	return false
}

// Release ends the AT-port access: it closes the modem's AT port and lets
// ModemManager take the device back (it re-probes it, so the modem gets a
// new object path). It does nothing when the device is not inhibited.
func (m *Modem) Release(ctx context.Context) error {
	m.accessMu.Lock()
	defer m.accessMu.Unlock()
	return m.endSession()
}

// commandTimeout is APDUTimeout in whole seconds, at least 1.
func (m *Modem) commandTimeout() uint32 {
	s := uint32((m.opts.APDUTimeout + 999_999_999) / 1_000_000_000)
	return max(s, 1)
}

// command sends one AT command through Modem.Command at view v and
// returns the response lines.
func (m *Modem) command(ctx context.Context, v view, cmd string) ([]string, error) {
	op := "Modem.Command " + commandName(cmd)
	c, err := m.callAt(ctx, v, op, v.path, ifaceModem+".Command", cmd, m.commandTimeout())
	if err != nil {
		return nil, err
	}
	var resp string
	if err := c.Store(&resp); err != nil {
		return nil, fmt.Errorf("mm: %s: %w", op, err)
	}
	return responseLines(resp), nil
}

// commandName is the part of an AT command that names it, so that APDUs
// do not end up in errors: `AT+CGLA=1,10,"..."` -> "AT+CGLA".
func commandName(cmd string) string {
	if i := strings.IndexAny(cmd, "=?"); i >= 0 {
		return cmd[:i]
	}
	return cmd
}

// responseLines splits a Modem.Command response (the modem's information
// lines without the final OK) into its non-empty lines.
func responseLines(resp string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(resp, func(r rune) bool { return r == '\r' || r == '\n' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// parseCGLAResponse finds the +CGLA line in a Modem.Command response and
// decodes it.
func parseCGLAResponse(lines []string) ([]byte, error) {
	for _, l := range lines {
		if strings.HasPrefix(l, "+CGLA:") {
			return at.ParseCGLA(l)
		}
	}
	return nil, errors.New("mm: AT+CGLA: no +CGLA line in the response")
}

// openCommand opens a channel with AT+CCHO through Modem.Command.
func (m *Modem) openCommand(ctx context.Context, aid []byte) (*cmdChannel, error) {
	v, err := m.present(ctx)
	if err != nil {
		return nil, err
	}
	lines, err := m.command(ctx, v, fmt.Sprintf(`AT+CCHO="%X"`, aid))
	if err != nil {
		return nil, err
	}
	sid, err := at.ParseCCHO(lines)
	if err != nil {
		return nil, fmt.Errorf("mm: AT+CCHO through Modem.Command: %w", err)
	}
	m.log.Debug("mm: opened logical channel through Modem.Command", "session", sid)
	return &cmdChannel{m: m, v: v, sid: sid, label: fmt.Sprintf("CGLA session %d", sid)}, nil
}

// cmdChannel is a logical channel driven through Modem.Command. It is
// bound to the ModemManager instance and modem object it was opened on: a
// re-probe or a daemon restart closes it.
type cmdChannel struct {
	m     *Modem
	v     view
	sid   int
	label string

	mu     sync.Mutex
	closed bool
	gone   error // why the channel is gone; nil while usable
}

// check fails when the channel can no longer be used.
func (c *cmdChannel) check() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return fmt.Errorf("mm: %s: used after Close: %w", c.label, apdu.ErrChannelClosed)
	}
	if c.gone == nil {
		now, _ := c.m.view()
		switch {
		case now.daemonEpoch != c.v.daemonEpoch:
			c.gone = errors.New("ModemManager restarted since the channel was opened")
		case now.pathEpoch != c.v.pathEpoch:
			c.gone = errors.New("ModemManager re-probed the modem since the channel was opened")
		}
	}
	if c.gone != nil {
		return fmt.Errorf("mm: %s: %v: %w", c.label, c.gone, apdu.ErrChannelClosed)
	}
	return nil
}

// fail records why the channel is gone.
func (c *cmdChannel) fail(why error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone == nil {
		c.gone = why
	}
}

// Transmit sends one command APDU with AT+CGLA; the modem sets the channel
// bits of the class byte.
func (c *cmdChannel) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	if len(cmd) < 4 {
		return nil, fmt.Errorf("mm: command APDU of %d bytes", len(cmd))
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	lines, err := c.m.command(ctx, c.v, fmt.Sprintf(`AT+CGLA=%d,%d,"%X"`, c.sid, 2*len(cmd), cmd))
	if err != nil {
		var gone *DaemonGoneError
		if errors.As(err, &gone) {
			// The operation is interrupted; the next Transmit reports the
			// channel closed so that the LPA opens a new one.
			c.fail(errors.New("ModemManager left the bus"))
			return nil, err
		}
		e, ok := asError(err)
		if errors.Is(err, ErrModemGone) || (ok && e.channelGone()) {
			c.fail(err)
			return nil, fmt.Errorf("mm: %s: %w: %w", c.label, apdu.ErrChannelClosed, err)
		}
		return nil, err
	}
	resp, err := parseCGLAResponse(lines)
	if err != nil {
		return nil, err
	}
	if _, sw, err := apdu.SplitResponse(resp); err == nil && sw == apdu.SWLogicalChannelNotSup {
		c.fail(fmt.Errorf("card answered %04X", sw))
		return nil, fmt.Errorf("mm: %s: card answered %04X: %w", c.label, sw, apdu.ErrChannelClosed)
	}
	return resp, nil
}

// Close closes the session with AT+CCHC unless it is already gone.
func (c *cmdChannel) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	now, _ := c.m.view()
	c.mu.Lock()
	gone := c.gone != nil
	c.mu.Unlock()
	if gone || now.daemonEpoch != c.v.daemonEpoch || now.pathEpoch != c.v.pathEpoch {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.m.opts.APDUTimeout)
	defer cancel()
	if _, err := c.m.command(ctx, c.v, fmt.Sprintf("AT+CCHC=%d", c.sid)); err != nil {
		return fmt.Errorf("mm: close %s: %w", c.label, err)
	}
	return nil
}
