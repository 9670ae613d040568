package mm

import (
	"context"
	"errors"
	"fmt"

	"github.com/godbus/dbus/v5"
)

// watchState is what the watcher knows about ModemManager and the modem.
// It is guarded by Modem.mu and only changed by the watcher's loop.
type watchState struct {
	// owner is ModemManager's unique bus name, "" while it is not on the
	// bus; daemonEpoch counts owner changes.
	owner       string
	daemonEpoch uint64
	// path is the modem's current object, "" while ModemManager does not
	// export it; pathEpoch counts path changes.
	path      dbus.ObjectPath
	pathEpoch uint64
	ifs       ifaces
	sims      map[dbus.ObjectPath]props
	// err is set when the bus connection is gone for good.
	err error
}

// resyncResult is a fresh read of ModemManager's state.
type resyncResult struct {
	owner string
	snap  snapshot
	// simSeq orders each SIM's GetAll reply among the signals.
	simSeq map[dbus.ObjectPath]dbus.Sequence
	err    error
}

// matchRules are the signals the watcher subscribes to.
func matchRules() [][]dbus.MatchOption {
	return [][]dbus.MatchOption{
		{dbus.WithMatchSender(BusName), dbus.WithMatchInterface(ifaceObjManager), dbus.WithMatchObjectPath(ManagerPath)},
		{dbus.WithMatchSender(BusName), dbus.WithMatchInterface(ifaceProperties), dbus.WithMatchMember("PropertiesChanged"),
			dbus.WithMatchPathNamespace(ManagerPath)},
		{dbus.WithMatchSender(ifaceBus), dbus.WithMatchInterface(ifaceBus), dbus.WithMatchMember("NameOwnerChanged"),
			dbus.WithMatchArg(0, BusName)},
	}
}

// subscribe installs the match rules and the signal channel.
func (m *Modem) subscribe(ctx context.Context) error {
	for i, r := range matchRules() {
		if err := m.conn.AddMatchSignalContext(ctx, r...); err != nil {
			for _, done := range matchRules()[:i] {
				_ = m.conn.RemoveMatchSignal(done...)
			}
			return fmt.Errorf("mm: subscribe to ModemManager signals: %w", err)
		}
	}
	m.conn.Signal(m.sig)
	return nil
}

// resync reads ModemManager's current state: its owner, the modem
// objects and their SIMs.
func (m *Modem) resync(ctx context.Context) resyncResult {
	dest, err := owner(ctx, m.conn)
	if err != nil {
		return resyncResult{err: err}
	}
	objs, seq, err := managedObjects(ctx, m.conn, dest)
	if err != nil {
		return resyncResult{owner: dest, err: err}
	}
	res := resyncResult{owner: dest, snap: snapshot{objects: objs, seq: seq, sims: map[dbus.ObjectPath]props{}},
		simSeq: map[dbus.ObjectPath]dbus.Sequence{}}
	path, ifs := m.find(objs)
	if path == "" {
		return res
	}
	primary, slots := simPaths(ifs)
	for _, p := range append([]dbus.ObjectPath{primary}, slots...) {
		if p == "" || p == rootPath {
			continue
		}
		if _, done := res.snap.sims[p]; done {
			continue
		}
		sp, sseq, err := getAll(ctx, m.conn, dest, p, ifaceSIM)
		if err != nil {
			if e, ok := asError(err); ok && e.objectGone() {
				continue
			}
			res.err = err
			return res
		}
		res.snap.sims[p], res.simSeq[p] = sp, sseq
	}
	return res
}

// find returns the object of the modem with the watcher's IMEI.
func (m *Modem) find(objs map[dbus.ObjectPath]ifaces) (dbus.ObjectPath, ifaces) {
	for path, ifs := range objs {
		if _, ok := ifs[ifaceModem]; !ok {
			continue
		}
		if decodeModem(path, ifs).IMEI == m.imei {
			return path, ifs
		}
	}
	return "", nil
}

// loop applies ModemManager's signals to the state. While a resync is
// running, signals are held back; when it finishes its result is applied
// and then the held signals that are newer than the result (by the
// connection's sequence numbers).
func (m *Modem) loop(first chan<- error) {
	defer close(m.loopDone)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results := make(chan resyncResult, 1)
	pending, again := false, false
	var held []*dbus.Signal
	start := func() {
		pending, again = true, false
		go func() {
			cctx, ccancel := context.WithTimeout(ctx, resyncTimeout)
			defer ccancel()
			results <- m.resync(cctx)
		}()
	}
	start()
	for {
		select {
		case <-m.done:
			return
		case s, ok := <-m.sig:
			if !ok {
				m.update(func(st *watchState) { st.err = errors.New("mm: the D-Bus connection was closed") })
				if first != nil {
					first <- errors.New("mm: the D-Bus connection was closed")
				}
				return
			}
			if pending {
				held = append(held, s)
				if isOwnerChange(s) {
					again = true
				}
				continue
			}
			if m.apply(s) {
				start()
			}
		case r := <-results:
			pending = false
			m.applyResync(r)
			resync := false
			for _, s := range held {
				if r.newer(s) && m.apply(s) {
					resync = true
				}
			}
			held = nil
			if first != nil {
				first <- r.err
				first = nil
			}
			if again || resync {
				start()
			}
		}
	}
}

// newer reports whether s happened after the state r read for s's object.
func (r resyncResult) newer(s *dbus.Signal) bool {
	if isOwnerChange(s) {
		return true
	}
	if seq, ok := r.simSeq[s.Path]; ok {
		return s.Sequence > seq
	}
	return s.Sequence > r.snap.seq
}

func isOwnerChange(s *dbus.Signal) bool { return s.Name == ifaceBus+".NameOwnerChanged" }

// applyResync installs a resync result. A failed read leaves the state
// alone: a daemon that vanished is handled by NameOwnerChanged, and any
// later signal of the modem starts a new read.
func (m *Modem) applyResync(r resyncResult) {
	if r.err != nil && !errors.Is(r.err, ErrNoDaemon) {
		m.log.Debug("mm: reading ModemManager's state failed", "err", r.err)
		return
	}
	m.update(func(st *watchState) {
		if r.owner != st.owner {
			st.owner = r.owner
			st.daemonEpoch++
		}
		path, ifs := m.find(r.snap.objects)
		st.setPath(path)
		st.ifs, st.sims = ifs, r.snap.sims
	})
}

// setPath changes the modem's path, counting the change.
func (st *watchState) setPath(p dbus.ObjectPath) {
	if p != st.path {
		st.path = p
		st.pathEpoch++
	}
	if p == "" {
		st.ifs, st.sims = nil, nil
	}
}

// apply applies one signal and reports whether a resync is needed.
func (m *Modem) apply(s *dbus.Signal) bool {
	if isOwnerChange(s) {
		if len(s.Body) != 3 {
			return false
		}
		newOwner, _ := s.Body[2].(string)
		m.update(func(st *watchState) {
			if newOwner != st.owner {
				st.owner = newOwner
				st.daemonEpoch++
				st.setPath("")
			}
		})
		m.log.Debug("mm: ModemManager owner changed", "owner", newOwner)
		return newOwner != ""
	}
	resync := false
	m.update(func(st *watchState) { resync = st.handle(s, m.imei) })
	return resync
}

// handle applies one of ModemManager's signals about the modem with imei
// and reports whether a resync is needed. Signals from anybody but the
// current owner are ignored.
func (st *watchState) handle(s *dbus.Signal, imei string) bool {
	if st.owner == "" || s.Sender != st.owner {
		return false
	}
	switch s.Name {
	case ifaceProperties + ".PropertiesChanged":
		return st.propertiesChanged(s)
	case ifaceObjManager + ".InterfacesAdded":
		return st.interfacesAdded(s, imei)
	case ifaceObjManager + ".InterfacesRemoved":
		st.interfacesRemoved(s)
	}
	return false
}

func (st *watchState) propertiesChanged(s *dbus.Signal) bool {
	if len(s.Body) != 3 {
		return false
	}
	iface, _ := s.Body[0].(string)
	changed, _ := s.Body[1].(map[string]dbus.Variant)
	invalidated, _ := s.Body[2].([]string)
	switch {
	case st.path != "" && s.Path == st.path:
		if st.ifs == nil {
			st.ifs = ifaces{}
		}
		st.ifs[iface] = mergeProps(st.ifs[iface], changed, invalidated)
		if iface == ifaceModem {
			_, simChanged := changed["Sim"]
			_, slotsChanged := changed["SimSlots"]
			return simChanged || slotsChanged || len(invalidated) > 0
		}
		return len(invalidated) > 0
	case iface == ifaceSIM:
		if p, ok := st.sims[s.Path]; ok {
			st.sims[s.Path] = mergeProps(p, changed, invalidated)
			return len(invalidated) > 0
		}
	}
	return false
}

func (st *watchState) interfacesAdded(s *dbus.Signal, imei string) bool {
	if len(s.Body) != 2 {
		return false
	}
	path, _ := s.Body[0].(dbus.ObjectPath)
	added, _ := s.Body[1].(map[string]map[string]dbus.Variant)
	if path == st.path && st.path != "" {
		if st.ifs == nil {
			st.ifs = ifaces{}
		}
		for k, v := range added {
			st.ifs[k] = v
		}
		return true
	}
	if _, ok := added[ifaceModem]; ok {
		// A modem appeared; it is ours if the IMEI matches (a re-probe gives
		// it a new path). The resync reads its SIMs too.
		return decodeModem(path, added).IMEI == imei
	}
	return false
}

func (st *watchState) interfacesRemoved(s *dbus.Signal) {
	if len(s.Body) != 2 {
		return
	}
	path, _ := s.Body[0].(dbus.ObjectPath)
	names, _ := s.Body[1].([]string)
	if path != st.path || st.path == "" {
		return
	}
	for _, n := range names {
		if n == ifaceModem {
			st.setPath("")
			return
		}
		delete(st.ifs, n)
	}
}

// update changes the state under the lock and wakes the waiters.
func (m *Modem) update(f func(*watchState)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(&m.st)
	close(m.changed)
	m.changed = make(chan struct{})
}

// view is a consistent copy of what the watcher knows.
type view struct {
	owner       string
	daemonEpoch uint64
	path        dbus.ObjectPath
	pathEpoch   uint64
	info        ModemInfo
	err         error
}

func (m *Modem) view() (view, <-chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := &m.st
	v := view{owner: st.owner, daemonEpoch: st.daemonEpoch, path: st.path, pathEpoch: st.pathEpoch, err: st.err}
	if st.path != "" {
		v.info = decodeModem(st.path, st.ifs)
		attachSIMs(&v.info, st.ifs, st.sims)
	}
	return v, m.changed
}

// waitView waits until cond holds for the watcher's view, the context is
// done, the modem is closed or the connection is lost.
func (m *Modem) waitView(ctx context.Context, cond func(view) bool) (view, error) {
	for {
		v, changed := m.view()
		if v.err != nil {
			return v, v.err
		}
		if cond(v) {
			return v, nil
		}
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-m.done:
			return v, ErrClosed
		case <-changed:
		}
	}
}

// present waits, at most ReprobeTimeout, until the modem is exported.
func (m *Modem) present(ctx context.Context) (view, error) {
	if v, _ := m.view(); v.path != "" && v.err == nil {
		return v, nil
	}
	wctx, cancel := context.WithTimeout(ctx, m.opts.ReprobeTimeout)
	defer cancel()
	v, err := m.waitView(wctx, func(v view) bool { return v.path != "" })
	if err == nil {
		return v, nil
	}
	if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		if v.owner == "" {
			return v, fmt.Errorf("%w (waited %v for it to come back)", ErrNoDaemon, m.opts.ReprobeTimeout)
		}
		return v, fmt.Errorf("%w: no modem with IMEI %s after %v", ErrModemGone, m.imei, m.opts.ReprobeTimeout)
	}
	return v, err
}
