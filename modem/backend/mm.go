package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/mobileplans/mobileplans/modem"
	"github.com/mobileplans/mobileplans/modem/mm"
)

// MM is a modem managed by ModemManager (modem/mm) on its own D-Bus
// connection. Besides modem.Modem it offers Refresh (re-read the SIM
// after a profile switch) and Connect (a data bearer with the operator's
// APN), the optional capabilities the agent (app.Refresher,
// app.Connector) looks for; the embedded *mm.Modem has the rest
// (Command, Current, WaitReady, Release, ...).
type MM struct {
	*mm.Modem
	conn         *dbus.Conn
	log          *slog.Logger
	readyTimeout time.Duration

	closeOnce sync.Once
	closeErr  error
}

var _ modem.Modem = (*MM)(nil)

// Spec is the spec that opens this modem again.
func (m *MM) Spec() Spec { return Spec{Kind: KindMM, IMEI: m.IMEI()} }

// Describe names the modem as ModemManager exports it right now: its
// object path, or why it is not exported.
func (m *MM) Describe() string {
	info, err := m.Current()
	if err != nil {
		return "ModemManager: " + err.Error()
	}
	return "ModemManager " + string(info.Path)
}

// Reprobe makes ModemManager re-probe the modem (it reads the ICCID only
// while probing) and waits until it exports the modem again, without
// waiting for registration: for when no profile may be enabled.
func (m *MM) Reprobe(ctx context.Context) error {
	return m.Modem.Refresh(ctx)
}

// Refresh makes ModemManager re-read the modem and its SIM after a
// profile switch, then waits (at most Config.ReadyTimeout) for the modem
// to be ready again: enabled, SIM unlocked and registered. A modem that
// stays enabled but unregistered until then is not an error (the caller
// watches the registration); a locked or failed modem is.
func (m *MM) Refresh(ctx context.Context) error {
	if err := m.Modem.Refresh(ctx); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, m.readyTimeout)
	defer cancel()
	info, err := m.WaitReady(wctx, "")
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil && info.State.Enabled() {
			m.log.Warn("backend: the modem did not register after the refresh", "state", info.State.String(),
				"registration", info.Registration.String(), "waited", m.readyTimeout)
			return nil
		}
		return fmt.Errorf("backend: after the refresh: %w", err)
	}
	iccid := ""
	if info.SIM != nil {
		iccid = info.SIM.ICCID
	}
	m.log.Info("backend: modem ready after the refresh", "operator", info.OperatorCode, "iccid", maskICCID(iccid))
	return nil
}

// Connect brings up a data bearer with c (ModemManager's Simple.Connect,
// which enables and registers the modem first if needed).
func (m *MM) Connect(ctx context.Context, c modem.Connection) error {
	apn, err := apnOf(c)
	if err != nil {
		return err
	}
	b, err := m.Modem.Connect(ctx, apn)
	if err != nil {
		return err
	}
	if !b.Connected {
		return fmt.Errorf("backend: Simple.Connect with APN %q returned bearer %s, which is not connected", c.APN, b.Path)
	}
	m.log.Info("backend: bearer connected", "connection", c, "bearer", string(b.Path), "interface", b.Interface,
		"ipv4", b.IPv4.String(), "ipv6", b.IPv6.String())
	return nil
}

// apnOf maps a connection to ModemManager's bearer properties.
func apnOf(c modem.Connection) (mm.APN, error) {
	roaming := c.RoamingAllowed
	apn := mm.APN{Name: c.APN, User: c.User, Password: c.Password, AllowRoaming: &roaming}
	switch strings.ToLower(c.Auth) {
	case "":
	case "none":
		apn.Auth = mm.AuthNone
	case "pap":
		apn.Auth = mm.AuthPAP
	case "chap":
		apn.Auth = mm.AuthCHAP
	default:
		return mm.APN{}, fmt.Errorf("backend: connection auth %q: want none, pap or chap", c.Auth)
	}
	switch strings.ToLower(c.IPType) {
	case "":
	case "ipv4":
		apn.IPType = mm.IPv4
	case "ipv6":
		apn.IPType = mm.IPv6
	case "ipv4v6":
		apn.IPType = mm.IPv4v6
	default:
		return mm.APN{}, fmt.Errorf("backend: connection IP type %q: want ipv4, ipv6 or ipv4v6", c.IPType)
	}
	return apn, nil
}

// Close stops following the modem (giving an inhibited device back) and
// closes the D-Bus connection.
func (m *MM) Close() error {
	m.closeOnce.Do(func() {
		err := m.Modem.Close()
		if cerr := m.conn.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("backend: close the D-Bus connection: %w", cerr))
		}
		m.closeErr = err
	})
	return m.closeErr
}

// maskICCID keeps the issuer prefix and the last digits of an ICCID.
func maskICCID(s string) string {
	if len(s) < 10 {
		return s
	}
	return s[:6] + "…" + s[len(s)-4:]
}
