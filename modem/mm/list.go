package mm

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/godbus/dbus/v5"
)

// owner returns the unique bus name that owns ModemManager's name, or
// ErrNoDaemon.
func owner(ctx context.Context, conn *dbus.Conn) (string, error) {
	var name string
	err := conn.BusObject().CallWithContext(ctx, ifaceBus+".GetNameOwner", 0, BusName).Store(&name)
	if err != nil {
		if e, ok := asError(wrapCall("GetNameOwner", err)); ok && e.daemonVanished() {
			return "", ErrNoDaemon
		}
		return "", fmt.Errorf("mm: GetNameOwner: %w", err)
	}
	return name, nil
}

// snapshot is ModemManager's modems with their SIM properties, as read by
// one GetManagedObjects and the SIMs' GetAll.
type snapshot struct {
	objects map[dbus.ObjectPath]ifaces
	sims    map[dbus.ObjectPath]props
	// seq orders the GetManagedObjects reply among the connection's
	// signals.
	seq dbus.Sequence
}

// managedObjects reads ModemManager's modem objects from dest (a unique
// name, so that a restarted daemon is not mistaken for the old one).
func managedObjects(ctx context.Context, conn *dbus.Conn, dest string) (map[dbus.ObjectPath]ifaces, dbus.Sequence, error) {
	call := conn.Object(dest, ManagerPath).CallWithContext(ctx, ifaceObjManager+".GetManagedObjects", 0)
	if call.Err != nil {
		return nil, 0, wrapCall("GetManagedObjects", call.Err)
	}
	var objs map[dbus.ObjectPath]ifaces
	if err := call.Store(&objs); err != nil {
		return nil, 0, fmt.Errorf("mm: GetManagedObjects: %w", err)
	}
	return objs, call.ResponseSequence, nil
}

// getAll reads all properties of iface on path.
func getAll(ctx context.Context, conn *dbus.Conn, dest string, path dbus.ObjectPath, iface string) (props, dbus.Sequence, error) {
	call := conn.Object(dest, path).CallWithContext(ctx, ifaceProperties+".GetAll", 0, iface)
	if call.Err != nil {
		return nil, 0, wrapCall("GetAll "+iface, call.Err)
	}
	var p props
	if err := call.Store(&p); err != nil {
		return nil, 0, fmt.Errorf("mm: GetAll %s: %w", iface, err)
	}
	return p, call.ResponseSequence, nil
}

// loadSIMs reads the SIM objects the modems refer to. A SIM that vanished
// in the meantime is left out.
func loadSIMs(ctx context.Context, conn *dbus.Conn, dest string, objs map[dbus.ObjectPath]ifaces) (map[dbus.ObjectPath]props, error) {
	sims := make(map[dbus.ObjectPath]props)
	for _, ifs := range objs {
		primary, slots := simPaths(ifs)
		for _, p := range append([]dbus.ObjectPath{primary}, slots...) {
			if p == "" || p == rootPath {
				continue
			}
			if _, done := sims[p]; done {
				continue
			}
			sp, _, err := getAll(ctx, conn, dest, p, ifaceSIM)
			if err != nil {
				if e, ok := asError(err); ok && e.objectGone() {
					continue
				}
				return nil, err
			}
			sims[p] = sp
		}
	}
	return sims, nil
}

// modems decodes the snapshot, sorted by path.
func (s snapshot) modems() []ModemInfo {
	out := make([]ModemInfo, 0, len(s.objects))
	for path, ifs := range s.objects {
		if _, ok := ifs[ifaceModem]; !ok {
			continue
		}
		info := decodeModem(path, ifs)
		attachSIMs(&info, ifs, s.sims)
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// List returns the modems ModemManager manages on conn's bus, with their
// SIMs, in object path order. It fails with ErrNoDaemon when ModemManager
// is not running.
func List(ctx context.Context, conn *dbus.Conn) ([]ModemInfo, error) {
	dest, err := owner(ctx, conn)
	if err != nil {
		return nil, err
	}
	objs, _, err := managedObjects(ctx, conn, dest)
	if err != nil {
		return nil, err
	}
	sims, err := loadSIMs(ctx, conn, dest, objs)
	if err != nil {
		return nil, err
	}
	return snapshot{objects: objs, sims: sims}.modems(), nil
}

// imeis lists the IMEIs of modems.
func imeis(ms []ModemInfo) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.IMEI)
	}
	return out
}

// pick finds the modem with imei; with imei "" the only modem.
func pick(ms []ModemInfo, imei string) (ModemInfo, error) {
	if imei == "" {
		switch len(ms) {
		case 0:
			return ModemInfo{}, &NotFoundError{}
		case 1:
			return ms[0], nil
		}
		return ModemInfo{}, &AmbiguousError{Available: imeis(ms)}
	}
	for _, m := range ms {
		if m.IMEI == imei {
			return m, nil
		}
	}
	return ModemInfo{}, &NotFoundError{IMEI: imei, Available: imeis(ms)}
}

// WaitModem waits until ModemManager exports the modem with the given IMEI
// (with imei "", any modem) and returns it. It follows ModemManager's
// signals, so it also covers ModemManager starting later.
func WaitModem(ctx context.Context, conn *dbus.Conn, imei string) (ModemInfo, error) {
	sig := make(chan *dbus.Signal, 16)
	rules := [][]dbus.MatchOption{
		{dbus.WithMatchSender(BusName), dbus.WithMatchInterface(ifaceObjManager), dbus.WithMatchMember("InterfacesAdded"),
			dbus.WithMatchObjectPath(ManagerPath)},
		{dbus.WithMatchSender(ifaceBus), dbus.WithMatchInterface(ifaceBus), dbus.WithMatchMember("NameOwnerChanged"),
			dbus.WithMatchArg(0, BusName)},
	}
	for i, r := range rules {
		if err := conn.AddMatchSignalContext(ctx, r...); err != nil {
			for _, done := range rules[:i] {
				_ = conn.RemoveMatchSignal(done...)
			}
			return ModemInfo{}, fmt.Errorf("mm: subscribe to ModemManager signals: %w", err)
		}
	}
	conn.Signal(sig)
	// A separate reader keeps godbus from blocking on sig (which would
	// also block the replies List waits for); it coalesces wake-ups.
	kick := make(chan struct{}, 1)
	stop := make(chan struct{})
	lost := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case s, ok := <-sig:
				if !ok {
					close(lost)
					return
				}
				if s.Name == ifaceObjManager+".InterfacesAdded" || s.Name == ifaceBus+".NameOwnerChanged" {
					select {
					case kick <- struct{}{}:
					default:
					}
				}
			}
		}
	}()
	defer func() {
		conn.RemoveSignal(sig)
		close(stop)
		for _, r := range rules {
			_ = conn.RemoveMatchSignal(r...)
		}
	}()
	var last error
	for {
		ms, err := List(ctx, conn)
		if err == nil {
			info, perr := pick(ms, imei)
			if perr == nil {
				return info, nil
			}
			last = perr
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return ModemInfo{}, fmt.Errorf("mm: waiting for modem %q: %w (last: %w)", imei, ctx.Err(), last)
		case <-lost:
			return ModemInfo{}, errors.New("mm: the D-Bus connection was closed")
		case <-kick:
		}
	}
}
