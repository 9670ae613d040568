package mm

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/modem/at"
)

// session is the AT-port access while ModemManager is inhibited from the
// device: the modem/at engine on the port ModemManager used.
type session struct {
	m      *Modem
	v      view   // the ModemManager instance that holds the inhibition
	uid    string // the device uid given to InhibitDevice
	device string
	at     *at.Modem

	mu    sync.Mutex
	ended bool // the device was given back to ModemManager
}

// activeSession returns the inhibit session, nil when there is none.
func (m *Modem) activeSession() *session {
	m.accessMu.Lock()
	defer m.accessMu.Unlock()
	return m.session
}

// startSession inhibits the device and opens its AT port. Any failure
// after the inhibition releases it again.
func (m *Modem) startSession(ctx context.Context) (*session, error) {
	v, err := m.present(ctx)
	if err != nil {
		return nil, err
	}
	uid := v.info.Device
	if uid == "" {
		return nil, errors.New("mm: ModemManager reports no device uid for the modem, so it cannot be inhibited")
	}
	devices := v.info.ATPorts()
	if m.opts.AT.Device != "" {
		devices = []string{m.opts.AT.Device}
	}
	if len(devices) == 0 {
		return nil, errors.New("mm: ModemManager lists no AT port for the modem (QMI/MBIM-only modems need --debug for Modem.Command)")
	}
	if err := m.inhibit(ctx, v, uid); err != nil {
		return nil, err
	}
	m.log.Info("mm: device inhibited for AT access", "port", devices[0])
	var errs []error
	for _, d := range devices {
		cfg := m.opts.AT
		cfg.Device = d
		a, err := at.Open(ctx, cfg)
		if err == nil {
			return &session{m: m, v: v, uid: uid, device: d, at: a}, nil
		}
		errs = append(errs, err)
	}
	err = fmt.Errorf("mm: no AT port of the inhibited modem answers: %w", errors.Join(errs...))
	if rerr := m.uninhibit(v, uid); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return nil, err
}

// inhibit asks ModemManager to let go of the device. When the caller's
// context ends during the call ModemManager may have inhibited it anyway,
// so it is released again.
func (m *Modem) inhibit(ctx context.Context, v view, uid string) error {
	err := m.manager(ctx, v, "InhibitDevice", "InhibitDevice", uid, true)
	if err != nil && ctx.Err() != nil {
		if rerr := m.uninhibit(v, uid); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	if e, ok := asError(err); ok && e.Unauthorized() {
		return fmt.Errorf("%w (polkit refuses org.freedesktop.ModemManager1.Control to this user: run as root or add a polkit rule)", err)
	}
	return err
}

// uninhibit gives the device back to ModemManager, even when the caller's
// context is done. A ModemManager that is no longer the one that holds
// the inhibition has forgotten it already.
func (m *Modem) uninhibit(v view, uid string) error {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	err := m.manager(ctx, v, "InhibitDevice(false)", "InhibitDevice", uid, false)
	var gone *DaemonGoneError
	if errors.As(err, &gone) {
		m.log.Info("mm: ModemManager restarted while the device was inhibited; nothing to release")
		return nil
	}
	if err != nil {
		return fmt.Errorf("mm: release the inhibited device (ModemManager keeps ignoring the modem until this process leaves the bus): %w", err)
	}
	m.log.Info("mm: device released to ModemManager")
	return nil
}

// endSession closes the AT port and releases the inhibition. Callers hold
// accessMu.
func (m *Modem) endSession() error {
	s := m.session
	if s == nil {
		return nil
	}
	m.session = nil
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	var errs []error
	if err := s.at.Close(); err != nil {
		errs = append(errs, fmt.Errorf("mm: close %s: %w", s.device, err))
	}
	if err := m.uninhibit(s.v, s.uid); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// openChannel opens a channel on the session's AT port.
func (s *session) openChannel(ctx context.Context, aid []byte) (apdu.Channel, error) {
	ch, err := s.at.OpenChannel(ctx, aid)
	if err != nil {
		return nil, err
	}
	return &sessionChannel{Channel: ch, s: s}, nil
}

// sessionChannel is a channel on the session's AT port; once the session
// ended it reports itself closed, so that the LPA opens a new one.
type sessionChannel struct {
	apdu.Channel
	s *session
}

func (c *sessionChannel) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	c.s.mu.Lock()
	ended := c.s.ended
	c.s.mu.Unlock()
	if ended {
		return nil, fmt.Errorf("mm: the device was given back to ModemManager: %w", apdu.ErrChannelClosed)
	}
	return c.Channel.Transmit(ctx, cmd)
}

func (c *sessionChannel) Close() error {
	c.s.mu.Lock()
	ended := c.s.ended
	c.s.mu.Unlock()
	if ended {
		return nil
	}
	return c.Channel.Close()
}
