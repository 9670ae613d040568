package at

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/mobileplans/mobileplans/esim/apdu"
)

// OpenChannel opens a logical channel to the application aid (the ISD-R for
// the LPA). With Config.Transport auto it uses AT+CCHO and falls back to
// AT+CSIM when the modem refuses AT+CCHO (ERROR, +CME ERROR 3 or 4); the
// transport that worked is kept for later channels.
func (m *Modem) OpenChannel(ctx context.Context, aid []byte) (apdu.Channel, error) {
	if len(aid) < 5 || len(aid) > 16 {
		return nil, fmt.Errorf("at: AID of %d bytes (want 5 to 16)", len(aid))
	}
	m.mu.Lock()
	t := m.transport
	m.mu.Unlock()
	if t != TransportCSIM {
		ch, err := m.openCGLA(ctx, aid)
		if err == nil {
			m.resolveTransport(TransportCGLA)
			return ch, nil
		}
		if t == TransportCGLA || !cchoRefused(err) {
			return nil, err
		}
		m.log.Info("modem refused AT+CCHO, using AT+CSIM", "err", err)
	}
	ch, err := m.openCSIM(ctx, aid)
	if err != nil {
		return nil, err
	}
	m.resolveTransport(TransportCSIM)
	return ch, nil
}

func (m *Modem) resolveTransport(t string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.transport == TransportAuto {
		m.transport = t
	}
}

func cchoRefused(err error) bool {
	var cme *CMEError
	if errors.As(err, &cme) {
		return cme.Code == CMEOperationNotAllowed || cme.Code == CMEOperationNotSupported
	}
	return errors.Is(err, ErrError)
}

// channelGone reports whether a +CME ERROR means the channel no longer
// exists: invalid index, incorrect parameters (unknown session id), or the
// SIM itself failed, is busy (resetting) or was removed.
func channelGone(err error) bool {
	var cme *CMEError
	if !errors.As(err, &cme) {
		return false
	}
	switch cme.Code {
	case CMEInvalidIndex, CMEIncorrectParameters, CMESIMFailure, CMESIMBusy, CMESIMNotInserted:
		return true
	}
	return false
}

// findLine returns the first line starting with prefix.
func findLine(r Response, prefix string) (string, bool) {
	for _, l := range r.Lines {
		if strings.HasPrefix(l, prefix) {
			return l, true
		}
	}
	return "", false
}

// chanState is what CCHO and CSIM channels share: whether the channel was
// closed by its owner or lost to a card reset.
type chanState struct {
	m     *Modem
	epoch uint64 // m.simEpoch when the channel was opened

	mu     sync.Mutex
	closed bool
	gone   bool
}

// check fails when the channel can no longer be used.
func (s *chanState) check(label string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return fmt.Errorf("at: %s: used after Close: %w", label, apdu.ErrChannelClosed)
	case s.gone:
		return fmt.Errorf("at: %s: %w", label, apdu.ErrChannelClosed)
	case s.m.simEpoch.Load() != s.epoch:
		s.gone = true
		return fmt.Errorf("at: %s: the card was reset: %w", label, apdu.ErrChannelClosed)
	}
	return nil
}

// lost marks the channel gone when err says so, and wraps err accordingly.
func (s *chanState) lost(label string, err error) error {
	if !channelGone(err) {
		return err
	}
	s.mu.Lock()
	s.gone = true
	s.mu.Unlock()
	return fmt.Errorf("at: %s: %w: %w", label, apdu.ErrChannelClosed, err)
}

// lostSW marks the channel gone when the card says it does not know it.
func (s *chanState) lostSW(label string, r []byte) error {
	_, sw, err := apdu.SplitResponse(r)
	if err != nil || sw != apdu.SWLogicalChannelNotSup {
		return nil
	}
	s.mu.Lock()
	s.gone = true
	s.mu.Unlock()
	return fmt.Errorf("at: %s: card answered %04X: %w", label, sw, apdu.ErrChannelClosed)
}

// markClosed returns whether the channel still needs closing on the modem.
func (s *chanState) markClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.closed = true
	return !s.gone && s.m.simEpoch.Load() == s.epoch
}

// cglaChannel is a logical channel the modem manages: AT+CCHO/+CGLA/+CCHC.
type cglaChannel struct {
	chanState
	sid   int
	label string
}

func (m *Modem) openCGLA(ctx context.Context, aid []byte) (*cglaChannel, error) {
	epoch := m.simEpoch.Load()
	r, err := m.CommandTimeout(ctx, fmt.Sprintf(`AT+CCHO="%X"`, aid), m.cfg.APDUTimeout)
	if err != nil {
		return nil, err
	}
	sid, err := ParseCCHO(r.Lines)
	if err != nil {
		return nil, err
	}
	m.log.Debug("opened logical channel", "transport", "cgla", "session", sid)
	return &cglaChannel{
		chanState: chanState{m: m, epoch: epoch},
		sid:       sid,
		label:     fmt.Sprintf("CGLA session %d", sid),
	}, nil
}

// Transmit sends the APDU as given; the modem manages the channel bits of
// the class byte (27.007 +CGLA).
func (c *cglaChannel) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	if len(cmd) < 4 {
		return nil, fmt.Errorf("at: command APDU of %d bytes", len(cmd))
	}
	if err := c.check(c.label); err != nil {
		return nil, err
	}
	r, err := c.m.CommandTimeout(ctx, fmt.Sprintf(`AT+CGLA=%d,%d,"%X"`, c.sid, 2*len(cmd), cmd), c.m.cfg.APDUTimeout)
	if err != nil {
		return nil, c.lost(c.label, err)
	}
	line, ok := findLine(r, "+CGLA:")
	if !ok {
		return nil, fmt.Errorf("at: AT+CGLA: no +CGLA line in the response")
	}
	resp, err := ParseCGLA(line)
	if err != nil {
		return nil, err
	}
	if err := c.lostSW(c.label, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// Close closes the session with AT+CCHC, unless the card reset already
// closed it (the modem may then have given its id to a new channel).
func (c *cglaChannel) Close() error {
	if !c.markClosed() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.m.cfg.CommandTimeout)
	defer cancel()
	if _, err := c.m.CommandTimeout(ctx, fmt.Sprintf("AT+CCHC=%d", c.sid), c.m.cfg.APDUTimeout); err != nil {
		return fmt.Errorf("at: close %s: %w", c.label, err)
	}
	return nil
}

// csimChannel is a logical channel the LPA side manages over AT+CSIM:
// MANAGE CHANNEL, SELECT, and the channel bits in every class byte.
type csimChannel struct {
	chanState
	ch    int
	label string
}

// csim sends one APDU with AT+CSIM and returns the card's response.
func (m *Modem) csim(ctx context.Context, cmd []byte) ([]byte, error) {
	r, err := m.CommandTimeout(ctx, fmt.Sprintf(`AT+CSIM=%d,"%X"`, 2*len(cmd), cmd), m.cfg.APDUTimeout)
	if err != nil {
		return nil, err
	}
	line, ok := findLine(r, "+CSIM:")
	if !ok {
		return nil, fmt.Errorf("at: AT+CSIM: no +CSIM line in the response")
	}
	return ParseCSIM(line)
}

func (m *Modem) openCSIM(ctx context.Context, aid []byte) (*csimChannel, error) {
	epoch := m.simEpoch.Load()
	// MANAGE CHANNEL open, the card picks the number
	r, err := m.csim(ctx, []byte{0x00, 0x70, 0x00, 0x00, 0x01})
	if err != nil {
		return nil, err
	}
	data, sw, err := apdu.SplitResponse(r)
	if err != nil {
		return nil, err
	}
	if sw != apdu.SWOK {
		return nil, fmt.Errorf("at: MANAGE CHANNEL: %w", &apdu.StatusError{SW: sw})
	}
	if len(data) != 1 || data[0] < 1 || data[0] > 19 {
		return nil, fmt.Errorf("at: MANAGE CHANNEL returned channel data %X", data)
	}
	c := &csimChannel{
		chanState: chanState{m: m, epoch: epoch},
		ch:        int(data[0]),
		label:     fmt.Sprintf("CSIM channel %d", data[0]),
	}
	if err := c.selectAID(ctx, aid); err != nil {
		if cerr := c.Close(); cerr != nil {
			m.log.Warn("could not close the channel after a failed SELECT", "err", cerr)
		}
		return nil, err
	}
	m.log.Debug("opened logical channel", "transport", "csim", "channel", c.ch)
	return c, nil
}

// selectAID selects aid on the channel and drains the FCI with GET
// RESPONSE (61xx), repeating a command with the right Le on 6Cxx.
func (c *csimChannel) selectAID(ctx context.Context, aid []byte) error {
	cla := apdu.WithChannel(0x00, c.ch)
	cmd := apdu.Command{CLA: cla, INS: 0xA4, P1: 0x04, P2: 0x00, Data: aid}
	for range 8 {
		r, err := c.m.csim(ctx, cmd.Bytes())
		if err != nil {
			return err
		}
		_, sw, err := apdu.SplitResponse(r)
		if err != nil {
			return err
		}
		switch {
		case sw == apdu.SWOK:
			return nil
		case sw>>8 == 0x61:
			cmd = apdu.Command{CLA: cla, INS: 0xC0, Le: byte(sw), HasLe: true}
		case sw>>8 == 0x6C:
			cmd.Le, cmd.HasLe = byte(sw), true
		default:
			return fmt.Errorf("at: SELECT on %s: %w", c.label, &apdu.StatusError{SW: sw})
		}
	}
	return fmt.Errorf("at: SELECT on %s: the card keeps announcing more data", c.label)
}

// Transmit sends cmd on the channel, setting its class byte's channel bits.
func (c *csimChannel) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	if len(cmd) < 4 {
		return nil, fmt.Errorf("at: command APDU of %d bytes", len(cmd))
	}
	if err := c.check(c.label); err != nil {
		return nil, err
	}
	b := append([]byte(nil), cmd...)
	b[0] = apdu.WithChannel(b[0], c.ch)
	resp, err := c.m.csim(ctx, b)
	if err != nil {
		return nil, c.lost(c.label, err)
	}
	if err := c.lostSW(c.label, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// Close sends MANAGE CHANNEL close, unless a card reset closed the channel.
func (c *csimChannel) Close() error {
	if !c.markClosed() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.m.cfg.CommandTimeout)
	defer cancel()
	r, err := c.m.csim(ctx, []byte{0x00, 0x70, 0x80, byte(c.ch), 0x00})
	if err != nil {
		return fmt.Errorf("at: close %s: %w", c.label, err)
	}
	_, sw, err := apdu.SplitResponse(r)
	if err != nil {
		return fmt.Errorf("at: close %s: %w", c.label, err)
	}
	if sw != apdu.SWOK {
		return fmt.Errorf("at: close %s: %w", c.label, &apdu.StatusError{SW: sw})
	}
	return nil
}
