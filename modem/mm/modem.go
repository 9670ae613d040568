package mm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/mobileplans/mobileplans/modem"
	"github.com/mobileplans/mobileplans/modem/at"
)

// Access selects how OpenChannel reaches the eUICC.
type Access string

// APDU access paths.
const (
	// AccessAuto tries Modem.Command first and falls back to inhibiting
	// the device when ModemManager refuses AT commands over D-Bus (it was
	// not started with --debug) or the modem refuses AT+CCHO.
	AccessAuto Access = "auto"
	// AccessCommand only uses Modem.Command (AT+CCHO/+CGLA/+CCHC).
	AccessCommand Access = "command"
	// AccessInhibit only uses InhibitDevice and the modem's own AT port.
	AccessInhibit Access = "inhibit"
)

const (
	defaultAPDUTimeout    = 60 * time.Second
	defaultReprobeTimeout = 30 * time.Second
	defaultReadyTimeout   = 2 * time.Minute
	// resyncTimeout bounds one read of ModemManager's state.
	resyncTimeout = 15 * time.Second
	// releaseTimeout bounds giving an inhibited device back to
	// ModemManager, which happens even when the caller's context is done.
	releaseTimeout = 15 * time.Second
	// cancelGrace is how long a call that ModemManager cancelled waits for
	// the signal that tells a daemon shutdown or a vanished modem.
	cancelGrace = 5 * time.Second
)

// Options configures Open. The zero value selects the defaults.
type Options struct {
	// Logger receives diagnostics; default: discard.
	Logger *slog.Logger
	// Access selects the APDU path; default AccessAuto.
	Access Access
	// APDUTimeout is the deadline of one AT+CCHO/+CGLA/+CCHC through
	// Modem.Command (ModemManager counts it in whole seconds, from when it
	// has written the whole command, which takes it about 1.5 ms per
	// character: see the package documentation); default 60s.
	APDUTimeout time.Duration
	// AT configures the modem/at engine on the modem's own AT port while
	// the device is inhibited. Device defaults to the modem's AT ports as
	// ModemManager lists them (see ModemInfo.ATPorts), tried in order.
	AT at.Config
	// ReprobeTimeout bounds how long an operation waits for the modem to
	// come back after ModemManager re-probed it or restarted; default 30s.
	ReprobeTimeout time.Duration
	// ReadyTimeout bounds WaitReady when its context has no deadline;
	// default 2 minutes.
	ReadyTimeout time.Duration
}

func (o Options) withDefaults() (Options, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch o.Access {
	case "":
		o.Access = AccessAuto
	case AccessAuto, AccessCommand, AccessInhibit:
	default:
		return o, fmt.Errorf("mm: unknown access %q (want auto, command or inhibit)", o.Access)
	}
	if o.APDUTimeout <= 0 {
		o.APDUTimeout = defaultAPDUTimeout
	}
	if o.ReprobeTimeout <= 0 {
		o.ReprobeTimeout = defaultReprobeTimeout
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = defaultReadyTimeout
	}
	if o.AT.Logger == nil {
		o.AT.Logger = o.Logger
	}
	return o, nil
}

// Modem is one modem managed by ModemManager, followed by its IMEI: the
// object path changes whenever ModemManager re-probes the modem (SIM
// switch, inhibition, restart) and the Modem follows it. Its state is kept
// live from ModemManager's signals (PropertiesChanged, InterfacesAdded,
// InterfacesRemoved, NameOwnerChanged), not polled.
//
// Modem implements modem.Modem. Its methods are safe for concurrent use.
type Modem struct {
	conn *dbus.Conn
	imei string
	opts Options
	log  *slog.Logger

	sig      chan *dbus.Signal
	done     chan struct{}
	loopDone chan struct{}

	mu      sync.Mutex // guards st and changed
	st      watchState
	changed chan struct{}

	// accessMu serialises the choice of the APDU path and the inhibit
	// session's start and end.
	accessMu  sync.Mutex
	cmdErr    error // why Modem.Command cannot be used; nil until known
	session   *session
	closeOnce sync.Once
	closeErr  error
}

var _ modem.Modem = (*Modem)(nil)

// Open finds the modem with the given IMEI (with imei "", the only modem)
// on conn's bus and starts following it. It fails with ErrNoDaemon when
// ModemManager is not running and with a *NotFoundError (errors.Is
// ErrNotFound) when there is no such modem. conn stays the caller's;
// Close does not close it.
func Open(ctx context.Context, conn *dbus.Conn, imei string, opts Options) (*Modem, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if imei == "" {
		ms, err := List(ctx, conn)
		if err != nil {
			return nil, err
		}
		info, err := pick(ms, "")
		if err != nil {
			return nil, err
		}
		imei = info.IMEI
	}
	m := &Modem{
		conn:     conn,
		imei:     imei,
		opts:     opts,
		log:      opts.Logger.With("imei", imei),
		sig:      make(chan *dbus.Signal, 64),
		done:     make(chan struct{}),
		loopDone: make(chan struct{}),
		changed:  make(chan struct{}),
	}
	if err := m.subscribe(ctx); err != nil {
		return nil, err
	}
	first := make(chan error, 1)
	go m.loop(first)
	select {
	case err = <-first:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err == nil {
		if v, _ := m.view(); v.path == "" {
			ms, lerr := List(ctx, conn)
			if lerr != nil {
				err = lerr
			} else {
				_, err = pick(ms, imei)
				if err == nil {
					err = fmt.Errorf("%w: modem %s vanished while opening it", ErrModemGone, imei)
				}
			}
		}
	}
	if err != nil {
		m.stop()
		return nil, err
	}
	return m, nil
}

// stop ends the watcher. RemoveSignal comes first: it also releases a
// delivery godbus may be blocked in, so the match-rule calls get replies.
func (m *Modem) stop() {
	m.conn.RemoveSignal(m.sig)
	close(m.done)
	<-m.loopDone
	for _, r := range matchRules() {
		if err := m.conn.RemoveMatchSignal(r...); err != nil {
			m.log.Debug("mm: remove match rule", "err", err)
		}
	}
}

// IMEI returns the IMEI the Modem follows.
func (m *Modem) IMEI() string { return m.imei }

// Current returns what ModemManager last reported about the modem. It
// fails with ErrModemGone while ModemManager does not export the modem
// (during a re-probe) and with ErrNoDaemon while ModemManager is not on
// the bus.
func (m *Modem) Current() (ModemInfo, error) {
	v, _ := m.view()
	switch {
	case v.err != nil:
		return ModemInfo{}, v.err
	case v.owner == "":
		return ModemInfo{}, ErrNoDaemon
	case v.path == "":
		return ModemInfo{}, fmt.Errorf("%w: modem %s is not exported right now", ErrModemGone, m.imei)
	}
	return v.info, nil
}

// Wait waits until ModemManager exports the modem and cond holds for it,
// and returns that state. State changes come from ModemManager's signals.
func (m *Modem) Wait(ctx context.Context, cond func(ModemInfo) bool) (ModemInfo, error) {
	v, err := m.waitView(ctx, func(v view) bool { return v.path != "" && cond(v.info) })
	if err != nil {
		return v.info, m.describeWait(v, err)
	}
	return v.info, nil
}

// describeWait adds the last known state to a failed wait.
func (m *Modem) describeWait(v view, err error) error {
	switch {
	case v.err != nil || errors.Is(err, ErrClosed):
		return err
	case v.owner == "":
		return fmt.Errorf("mm: waiting for modem %s: ModemManager is not on the bus: %w", m.imei, err)
	case v.path == "":
		return fmt.Errorf("mm: waiting for modem %s: ModemManager does not export it: %w", m.imei, err)
	}
	i := v.info
	sim := "none"
	if i.SIM != nil {
		sim = maskICCID(i.SIM.ICCID)
	}
	return fmt.Errorf("mm: waiting for modem %s (state %s, registration %s, SIM %s): %w",
		m.imei, i.State, i.Registration, sim, err)
}

// maskICCID keeps the issuer prefix and the last digits of an ICCID.
func maskICCID(s string) string {
	if len(s) < 10 {
		return s
	}
	return s[:6] + "…" + s[len(s)-4:]
}

// Info returns the modem's identity and SIM state. While the device is
// inhibited for APDU access it comes from the modem's AT port.
func (m *Modem) Info(ctx context.Context) (modem.Info, error) {
	if s := m.activeSession(); s != nil {
		info, err := s.at.Info(ctx)
		info.Backend = "mm"
		return info, err
	}
	v, err := m.present(ctx)
	if err != nil {
		return modem.Info{}, err
	}
	return v.info.AsInfo(), nil
}

// Registration returns the 3GPP registration, operator and signal. While
// the device is inhibited for APDU access it comes from the modem's AT
// port.
func (m *Modem) Registration(ctx context.Context) (modem.Registration, error) {
	if s := m.activeSession(); s != nil {
		return s.at.Registration(ctx)
	}
	v, err := m.present(ctx)
	if err != nil {
		return modem.Registration{}, err
	}
	return v.info.AsRegistration(), nil
}

// Close gives an inhibited device back to ModemManager and stops following
// the modem. It does not close the D-Bus connection.
func (m *Modem) Close() error {
	m.closeOnce.Do(func() {
		m.accessMu.Lock()
		m.closeErr = m.endSession()
		m.accessMu.Unlock()
		m.stop()
	})
	return m.closeErr
}

// call invokes a method on the modem's current object at ModemManager's
// current unique name, waiting for the modem to be exported. A
// ModemManager that leaves the bus during the call gives a
// *DaemonGoneError.
func (m *Modem) call(ctx context.Context, op, method string, args ...any) (*dbus.Call, error) {
	select {
	case <-m.done:
		return nil, ErrClosed
	default:
	}
	v, err := m.present(ctx)
	if err != nil {
		return nil, fmt.Errorf("mm: %s: %w", op, err)
	}
	return m.callAt(ctx, v, op, v.path, method, args...)
}

// callAt invokes method on path at the owner of view v.
func (m *Modem) callAt(ctx context.Context, v view, op string, path dbus.ObjectPath, method string, args ...any) (*dbus.Call, error) {
	c := m.conn.Object(v.owner, path).CallWithContext(ctx, method, 0, args...)
	if c.Err == nil {
		return c, nil
	}
	return c, m.callError(ctx, v, op, c.Err)
}

// callError classifies a failed call: ModemManager vanished or was
// replaced (*DaemonGoneError), the modem object went away (wraps
// ErrModemGone), or an ordinary error.
func (m *Modem) callError(ctx context.Context, v view, op string, err error) error {
	werr := wrapCall(op, err)
	e, ok := asError(werr)
	if ok && e.daemonVanished() {
		return &DaemonGoneError{Op: op, Err: werr}
	}
	if ok && e.Name == errCancelled {
		// ModemManager cancels what is in flight when it shuts down or
		// drops the modem, and says which only through the signals that
		// follow; wait a moment for them.
		gctx, cancel := context.WithTimeout(ctx, cancelGrace)
		now, _ := m.waitView(gctx, func(n view) bool {
			return n.daemonEpoch != v.daemonEpoch || n.pathEpoch != v.pathEpoch || n.owner == ""
		})
		cancel()
		switch {
		case now.owner == "" || now.daemonEpoch != v.daemonEpoch:
			return &DaemonGoneError{Op: op, Err: werr}
		case now.pathEpoch != v.pathEpoch:
			return fmt.Errorf("%w: %w", ErrModemGone, werr)
		}
		return werr
	}
	if ok && e.objectGone() {
		return fmt.Errorf("%w: %w", ErrModemGone, werr)
	}
	if ctx.Err() == nil {
		// A reply that came from a daemon that is no longer the owner.
		if o, oerr := owner(ctx, m.conn); errors.Is(oerr, ErrNoDaemon) || (oerr == nil && o != v.owner) {
			return &DaemonGoneError{Op: op, Err: werr}
		}
	}
	return werr
}

// manager invokes a method of the manager object at owner.
func (m *Modem) manager(ctx context.Context, v view, op, method string, args ...any) error {
	_, err := m.callAt(ctx, v, op, ManagerPath, ifaceManager+"."+method, args...)
	return err
}
