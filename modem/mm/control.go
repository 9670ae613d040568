package mm

import (
	"context"
	"errors"
	"fmt"

	"github.com/godbus/dbus/v5"
)

// needDaemon ends the inhibit session (ModemManager must own the device
// for what follows) and waits for the modem to be exported.
func (m *Modem) needDaemon(ctx context.Context) (view, error) {
	m.accessMu.Lock()
	err := m.endSession()
	m.accessMu.Unlock()
	if err != nil {
		return view{}, err
	}
	return m.present(ctx)
}

// Enable enables (on) or disables the modem (Modem.Enable).
func (m *Modem) Enable(ctx context.Context, on bool) error {
	if _, err := m.needDaemon(ctx); err != nil {
		return err
	}
	_, err := m.call(ctx, fmt.Sprintf("Modem.Enable(%t)", on), ifaceModem+".Enable", on)
	return err
}

// Refresh makes ModemManager re-read the modem and its SIM, as needed
// after a profile switch: ModemManager reads the ICCID and IMSI only while
// probing. It ends an inhibit session (which makes ModemManager re-probe)
// or inhibits and releases the device, then waits, at most
// ReprobeTimeout, for the modem to be exported again under a new object
// path. InhibitDevice needs polkit's permission
// (org.freedesktop.ModemManager1.Control).
func (m *Modem) Refresh(ctx context.Context) error {
	m.accessMu.Lock()
	defer m.accessMu.Unlock()
	before, _ := m.view()
	if s := m.session; s != nil {
		before = s.v
		if err := m.endSession(); err != nil {
			return err
		}
	} else {
		v, err := m.present(ctx)
		if err != nil {
			return fmt.Errorf("mm: refresh: %w", err)
		}
		before = v
		uid := v.info.Device
		if err := m.inhibit(ctx, v, uid); err != nil {
			return fmt.Errorf("mm: refresh: %w", err)
		}
		if err := m.uninhibit(v, uid); err != nil {
			return err
		}
	}
	m.log.Info("mm: waiting for ModemManager to re-probe the modem")
	wctx, cancel := context.WithTimeout(ctx, m.opts.ReprobeTimeout)
	defer cancel()
	v, err := m.waitView(wctx, func(v view) bool {
		return v.path != "" && (v.path != before.path || v.daemonEpoch != before.daemonEpoch)
	})
	if err != nil {
		return fmt.Errorf("mm: refresh: ModemManager did not export the modem again: %w", m.describeWait(v, err))
	}
	return nil
}

// WaitReady waits until the modem is registered (home or roaming) and,
// when iccid is not "", its SIM has that ICCID. It enables a disabled
// modem on the way. Without a deadline in ctx it waits at most
// ReadyTimeout. A locked SIM or a failed modem ends the wait with an
// error.
func (m *Modem) WaitReady(ctx context.Context, iccid string) (ModemInfo, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.opts.ReadyTimeout)
		defer cancel()
	}
	if _, err := m.needDaemon(ctx); err != nil {
		return ModemInfo{}, err
	}
	enabled := false
	for {
		info, err := m.Wait(ctx, func(i ModemInfo) bool {
			switch i.State {
			case StateFailed, StateLocked, StateDisabled:
				return true
			case StateUnknown, StateInitializing, StateDisabling, StateEnabling:
				return false
			}
			return i.Has3GPP && i.Registration.Modem().Registered() &&
				(iccid == "" || (i.SIM != nil && i.SIM.ICCID == iccid))
		})
		if err != nil {
			return info, err
		}
		switch info.State {
		case StateFailed:
			return info, fmt.Errorf("mm: modem %s failed: %s", m.imei, info.FailedReason)
		case StateLocked:
			return info, fmt.Errorf("mm: modem %s is locked (%s); unlock the SIM first", m.imei, info.Lock)
		case StateDisabled:
			if enabled {
				return info, fmt.Errorf("mm: modem %s went back to disabled", m.imei)
			}
			enabled = true
			if _, err := m.call(ctx, "Modem.Enable(true)", ifaceModem+".Enable", true); err != nil {
				return info, err
			}
			continue
		}
		return info, nil
	}
}

// IPFamily is a bearer's IP family (MMBearerIpFamily).
type IPFamily uint32

// IP families.
const (
	IPv4   IPFamily = 1
	IPv6   IPFamily = 2
	IPv4v6 IPFamily = 4
)

// Auth is a bitmask of allowed authentication methods
// (MMBearerAllowedAuth).
type Auth uint32

// Authentication methods.
const (
	AuthNone Auth = 1
	AuthPAP  Auth = 2
	AuthCHAP Auth = 4
)

// APN is the operator's data connection settings, as handed to
// Simple.Connect. Zero fields are left to ModemManager's defaults.
type APN struct {
	Name     string
	User     string
	Password string
	Auth     Auth
	IPType   IPFamily
	// AllowRoaming is passed when not nil.
	AllowRoaming *bool
}

// properties is the a{sv} of Simple.Connect.
func (a APN) properties() map[string]dbus.Variant {
	p := map[string]dbus.Variant{"apn": dbus.MakeVariant(a.Name)}
	if a.User != "" {
		p["user"] = dbus.MakeVariant(a.User)
	}
	if a.Password != "" {
		p["password"] = dbus.MakeVariant(a.Password)
	}
	if a.Auth != 0 {
		p["allowed-auth"] = dbus.MakeVariant(uint32(a.Auth))
	}
	if a.IPType != 0 {
		p["ip-type"] = dbus.MakeVariant(uint32(a.IPType))
	}
	if a.AllowRoaming != nil {
		p["allow-roaming"] = dbus.MakeVariant(*a.AllowRoaming)
	}
	return p
}

// IPMethod is how the host configures a connected bearer's interface
// (MMBearerIpMethod).
type IPMethod uint32

// IP methods.
const (
	IPMethodUnknown IPMethod = 0
	IPMethodPPP     IPMethod = 1
	IPMethodStatic  IPMethod = 2
	IPMethodDHCP    IPMethod = 3
)

func (m IPMethod) String() string {
	switch m {
	case IPMethodUnknown:
		return "unknown"
	case IPMethodPPP:
		return "ppp"
	case IPMethodStatic:
		return "static"
	case IPMethodDHCP:
		return "dhcp"
	}
	return fmt.Sprintf("ip-method-%d", uint32(m))
}

// Bearer is a packet data bearer after Simple.Connect.
type Bearer struct {
	Path      dbus.ObjectPath
	Connected bool
	// Interface is the data port (a net interface, or the tty for PPP).
	Interface string
	IPv4      IPMethod
	IPv6      IPMethod
}

func decodeBearer(path dbus.ObjectPath, p props) Bearer {
	b := Bearer{Path: path, Connected: boolean(p, "Connected"), Interface: str(p, "Interface")}
	if c, ok := p["Ip4Config"].Value().(map[string]dbus.Variant); ok {
		b.IPv4 = IPMethod(u32(c, "method"))
	}
	if c, ok := p["Ip6Config"].Value().(map[string]dbus.Variant); ok {
		b.IPv6 = IPMethod(u32(c, "method"))
	}
	return b
}

// Connect brings up a data connection with the operator's APN settings
// (Simple.Connect, which also enables and registers the modem if needed)
// and returns the bearer. Bringing up the host's interface (DHCP, PPP) is
// the network manager's job.
func (m *Modem) Connect(ctx context.Context, apn APN) (Bearer, error) {
	v, err := m.needDaemon(ctx)
	if err != nil {
		return Bearer{}, err
	}
	c, err := m.callAt(ctx, v, "Simple.Connect", v.path, ifaceSimple+".Connect", apn.properties())
	if err != nil {
		return Bearer{}, err
	}
	var path dbus.ObjectPath
	if err := c.Store(&path); err != nil {
		return Bearer{}, fmt.Errorf("mm: Simple.Connect: %w", err)
	}
	p, _, err := getAll(ctx, m.conn, v.owner, path, ifaceBearer)
	if err != nil {
		return Bearer{Path: path}, err
	}
	return decodeBearer(path, p), nil
}

// Disconnect tears down all the modem's data connections
// (Simple.Disconnect("/")).
func (m *Modem) Disconnect(ctx context.Context) error {
	if _, err := m.needDaemon(ctx); err != nil {
		return err
	}
	_, err := m.call(ctx, "Simple.Disconnect", ifaceSimple+".Disconnect", rootPath)
	return err
}

// SetPrimarySimSlot switches the active SIM slot of a multi-slot modem
// (1-based) and waits, at most ReprobeTimeout, for ModemManager to export
// the modem again with that slot active. It fails with ErrNoSlots on a
// modem without slot support.
func (m *Modem) SetPrimarySimSlot(ctx context.Context, slot int) error {
	v, err := m.needDaemon(ctx)
	if err != nil {
		return err
	}
	n := len(v.info.Slots)
	switch {
	case n == 0 || v.info.PrimarySlot == 0:
		return fmt.Errorf("%w (modem %s, plugin %s)", ErrNoSlots, m.imei, v.info.Plugin)
	case slot < 1 || slot > n:
		return fmt.Errorf("mm: SIM slot %d out of range 1..%d", slot, n)
	case uint32(slot) == v.info.PrimarySlot:
		return nil
	}
	if _, err := m.callAt(ctx, v, "Modem.SetPrimarySimSlot", v.path, ifaceModem+".SetPrimarySimSlot", uint32(slot)); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, m.opts.ReprobeTimeout)
	defer cancel()
	_, err = m.Wait(wctx, func(i ModemInfo) bool { return i.Path != v.path && i.PrimarySlot == uint32(slot) })
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return fmt.Errorf("mm: SetPrimarySimSlot(%d): %w", slot, err)
		}
		return err
	}
	return nil
}
