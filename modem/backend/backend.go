package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/mobileplans/mobileplans/modem"
	"github.com/mobileplans/mobileplans/modem/at"
	"github.com/mobileplans/mobileplans/modem/mm"
)

// Defaults of Config.
const (
	DefaultProbeTimeout = 3 * time.Second
	DefaultReadyTimeout = 2 * time.Minute
)

// Config configures Open and List. The zero value selects the defaults.
type Config struct {
	// Logger receives diagnostics; default: discard. It is also the
	// default logger of AT and MM.
	Logger *slog.Logger
	// AT configures the AT backend (baud, timeouts, transport, trace);
	// Device is set to the port being opened.
	AT at.Config
	// MM configures the ModemManager backend.
	MM mm.Options
	// DBusAddress is the bus ModemManager is on; "" is the system bus
	// (DBUS_SYSTEM_BUS_ADDRESS overrides its default socket).
	DBusAddress string
	// ProbeTimeout bounds the probe of one serial port (does it answer
	// AT, what modem is it) when looking for modems; default 3s.
	ProbeTimeout time.Duration
	// ReadyTimeout bounds MM.Refresh's wait for the modem to be ready
	// again; default 2 minutes.
	ReadyTimeout time.Duration
	// Ports lists the serial ports to probe for AT modems; nil means
	// SerialPorts.
	Ports func(ctx context.Context) ([]string, error)
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.AT.Logger == nil {
		c.AT.Logger = c.Logger
	}
	if c.MM.Logger == nil {
		c.MM.Logger = c.Logger
	}
	if c.ProbeTimeout <= 0 {
		c.ProbeTimeout = DefaultProbeTimeout
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = DefaultReadyTimeout
	}
	if c.Ports == nil {
		c.Ports = SerialPorts
	}
	return c
}

var (
	// ErrNoModem is wrapped by *NoModemError.
	ErrNoModem = errors.New("backend: no modem found")
	// ErrNoBus means the D-Bus ModemManager would be on cannot be
	// reached (no system bus: ModemManager cannot be running either).
	ErrNoBus = errors.New("backend: cannot reach the D-Bus")
)

// NoModemError is auto-selection finding nothing: what ModemManager said
// and what each probed serial port did.
type NoModemError struct {
	// MM is why ModemManager was not used (not running, no modem).
	MM string
	// Ports are the serial ports tried, each with its Error.
	Ports []Candidate
	// PortsErr is why the serial ports could not be listed, if so.
	PortsErr string
}

func (e *NoModemError) Error() string {
	var b strings.Builder
	b.WriteString("no modem found: ModemManager: ")
	b.WriteString(e.MM)
	b.WriteString("; AT serial ports: ")
	switch {
	case e.PortsErr != "":
		b.WriteString(e.PortsErr)
	case len(e.Ports) == 0:
		b.WriteString("none found")
	default:
		for i, p := range e.Ports {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s (%s)", p.Port, p.Error)
		}
	}
	return b.String()
}

func (e *NoModemError) Is(target error) bool { return target == ErrNoModem }

// Open opens the modem spec names: an *AT for KindAT, an *MM for KindMM,
// and for KindAuto the first ModemManager modem (eSIM modems first) when
// ModemManager is on the bus and manages one, else the first serial port
// that answers AT (see SerialPorts for the order). Auto-selection that
// finds nothing fails with a *NoModemError; ModemManager's own errors
// (mm.ErrNoDaemon, *mm.NotFoundError, mm.ErrUnsupported) are passed on for
// KindMM. The caller closes the modem.
func Open(ctx context.Context, spec Spec, cfg Config) (modem.Modem, error) {
	cfg = cfg.withDefaults()
	switch spec.Kind {
	case KindAT:
		return openAT(ctx, spec.Port, cfg)
	case KindMM:
		conn, err := dialBus(ctx, cfg.DBusAddress)
		if err != nil {
			return nil, err
		}
		m, err := openMM(ctx, conn, spec.IMEI, nil, cfg)
		if err != nil {
			conn.Close()
			return nil, err
		}
		return m, nil
	case KindAuto, "":
		return openAuto(ctx, cfg)
	}
	return nil, &SpecError{Spec: string(spec.Kind), Reason: "unknown backend"}
}

// openAuto is Open for KindAuto.
func openAuto(ctx context.Context, cfg Config) (modem.Modem, error) {
	var why string
	conn, err := dialBus(ctx, cfg.DBusAddress)
	if err == nil {
		ms, lerr := mm.List(ctx, conn)
		switch {
		case lerr != nil:
			why = mmReason(lerr)
		case len(ms) == 0:
			why = "manages no modem"
		default:
			m, err := openMM(ctx, conn, "", ms, cfg)
			if err != nil {
				conn.Close()
				return nil, err
			}
			return m, nil
		}
		conn.Close()
	} else {
		why = mmReason(err)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	cfg.Logger.Debug("backend: not using ModemManager", "reason", why)
	ports, err := cfg.Ports(ctx)
	if err != nil {
		return nil, &NoModemError{MM: why, PortsErr: err.Error()}
	}
	probes := probePorts(ctx, ports, nil, cfg)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	best, ok := pickPort(probes)
	if !ok {
		return nil, &NoModemError{MM: why, Ports: probes}
	}
	cfg.Logger.Info("backend: using the AT port", "port", best.Port, "model", best.Model)
	return openAT(ctx, best.Port, cfg)
}

// dialBus connects to the bus ModemManager is on.
func dialBus(ctx context.Context, addr string) (*dbus.Conn, error) {
	if runtime.GOOS != "linux" {
		return nil, mm.ErrUnsupported
	}
	if addr == "" {
		conn, err := mm.SystemBus(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoBus, err)
		}
		return conn, nil
	}
	conn, err := dbus.Connect(addr, dbus.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %w", ErrNoBus, addr, err)
	}
	return conn, nil
}

// mmReason says in a few words why ModemManager cannot be used.
func mmReason(err error) string {
	switch {
	case errors.Is(err, mm.ErrUnsupported):
		return "Linux-only"
	case errors.Is(err, mm.ErrNoDaemon):
		return "not running"
	case errors.Is(err, ErrNoBus):
		return "not reachable (" + strings.TrimPrefix(err.Error(), ErrNoBus.Error()+": ") + ")"
	}
	return err.Error()
}

// openAT opens the AT modem on port.
func openAT(ctx context.Context, port string, cfg Config) (*AT, error) {
	c := cfg.AT
	c.Device = port
	m, err := at.Open(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("modem on %s: %w", port, err)
	}
	return &AT{Modem: m, port: port}, nil
}

// openMM opens the ModemManager modem with imei on conn, which the *MM
// then owns; with imei "" the first of ms by rankMM (ms nil: listed now).
func openMM(ctx context.Context, conn *dbus.Conn, imei string, ms []mm.ModemInfo, cfg Config) (*MM, error) {
	if imei == "" {
		if ms == nil {
			var err error
			if ms, err = mm.List(ctx, conn); err != nil {
				return nil, err
			}
		}
		ranked := rankMM(ms)
		if len(ranked) == 0 {
			return nil, &mm.NotFoundError{}
		}
		imei = ranked[0].IMEI
		if len(ranked) > 1 {
			cfg.Logger.Info("backend: ModemManager has several modems; using the first", "imei", imei, "modems", len(ranked))
		}
	}
	m, err := mm.Open(ctx, conn, imei, cfg.MM)
	if err != nil {
		return nil, err
	}
	return &MM{Modem: m, conn: conn, log: cfg.Logger.With("imei", imei), readyTimeout: cfg.ReadyTimeout}, nil
}

// Candidate is one modem List found, or a backend that could not be
// used (Error set, Spec empty).
type Candidate struct {
	Backend Kind `json:"backend"`
	// Spec opens it (ParseSpec syntax): "mm:IMEI" or "at:PORT".
	Spec string `json:"spec,omitempty"`
	// ID is the IMEI for ModemManager, the port for AT.
	ID           string `json:"id,omitempty"`
	Port         string `json:"port,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Model        string `json:"model,omitempty"`
	Revision     string `json:"revision,omitempty"`
	IMEI         string `json:"imei,omitempty"`
	SIMState     string `json:"simState,omitempty"`
	ICCID        string `json:"iccid,omitempty"`
	// EID is the eUICC's EID when ModemManager knows it.
	EID string `json:"eid,omitempty"`
	// Path and State are ModemManager's object path and modem state.
	Path  string `json:"path,omitempty"`
	State string `json:"state,omitempty"`
	// Error says why this port or backend cannot be used; "" when it can.
	Error string `json:"error,omitempty"`
}

// Usable reports whether the candidate can be opened with its Spec.
func (c Candidate) Usable() bool { return c.Error == "" && c.Spec != "" }

// List returns every modem there is, of both backends: ModemManager's
// modems (eSIM first) and then the serial ports that answer AT. A backend
// that cannot be used (ModemManager not running, no serial ports) and a
// port that does not answer is an entry with Error set. Ports ModemManager
// holds are not probed (that would disturb it); they are listed as in use.
// The error is only ctx's.
func List(ctx context.Context, cfg Config) ([]Candidate, error) {
	cfg = cfg.withDefaults()
	var out []Candidate
	held := map[string]string{} // port path -> IMEI of the ModemManager modem
	conn, err := dialBus(ctx, cfg.DBusAddress)
	if err == nil {
		ms, lerr := mm.List(ctx, conn)
		conn.Close()
		switch {
		case lerr != nil:
			err = lerr
		case len(ms) == 0:
			out = append(out, Candidate{Backend: KindMM, Error: "ModemManager manages no modem"})
		}
		for _, m := range rankMM(ms) {
			out = append(out, mmCandidate(m))
			for _, p := range m.Ports {
				held[devPath(p.Name)] = m.IMEI
			}
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		out = append(out, Candidate{Backend: KindMM, Error: "ModemManager " + mmReason(err)})
	}
	ports, err := cfg.Ports(ctx)
	if err != nil {
		out = append(out, Candidate{Backend: KindAT, Error: "listing serial ports: " + err.Error()})
		return out, ctx.Err()
	}
	if len(ports) == 0 {
		out = append(out, Candidate{Backend: KindAT, Error: "no serial ports found"})
		return out, ctx.Err()
	}
	probes := probePorts(ctx, ports, held, cfg)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return append(out, probes...), nil
}

// mmCandidate describes a ModemManager modem.
func mmCandidate(m mm.ModemInfo) Candidate {
	info := m.AsInfo()
	c := Candidate{
		Backend: KindMM, Spec: Spec{Kind: KindMM, IMEI: m.IMEI}.String(), ID: m.IMEI, Port: m.PrimaryPort,
		Manufacturer: m.Manufacturer, Model: m.Model, Revision: m.Revision, IMEI: m.IMEI, SIMState: info.SIMState,
		ICCID: info.ICCID, Path: string(m.Path), State: m.State.String(),
	}
	if m.SIM != nil {
		c.EID = m.SIM.EID
	}
	if m.IMEI == "" {
		c.Spec = ""
		c.Error = "ModemManager reports no equipment identifier (IMEI) for this modem, so it cannot be followed"
	}
	return c
}

// devPath turns a ModemManager port name into the path it opens.
func devPath(name string) string {
	if strings.HasPrefix(name, "/") {
		return name
	}
	return "/dev/" + name
}

// probePorts probes the ports in parallel, each for at most ProbeTimeout,
// and returns them in the order given. Ports in held (ModemManager's) are
// not touched.
func probePorts(ctx context.Context, ports []string, held map[string]string, cfg Config) []Candidate {
	out := make([]Candidate, len(ports))
	var wg sync.WaitGroup
	for i, p := range ports {
		if imei, ok := held[p]; ok {
			out[i] = Candidate{Backend: KindAT, ID: p, Port: p,
				Error: fmt.Sprintf("held by ModemManager: use mm:%s, or stop ModemManager to use the port", imei)}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = probe(ctx, p, cfg)
		}()
	}
	wg.Wait()
	return out
}

// probe opens port with short deadlines and reads the modem's identity.
func probe(ctx context.Context, port string, cfg Config) Candidate {
	c := Candidate{Backend: KindAT, ID: port, Port: port}
	ctx, cancel := context.WithTimeout(ctx, cfg.ProbeTimeout)
	defer cancel()
	ac := cfg.AT
	ac.Device = port
	ac.Trace = nil
	ac.CommandTimeout = min(cfg.ProbeTimeout, max(ac.CommandTimeout, time.Second))
	m, err := at.Open(ctx, ac)
	if err != nil {
		cfg.Logger.Debug("backend: probe", "port", port, "err", err)
		c.Error = probeError(err)
		return c
	}
	defer m.Close()
	info, err := m.Info(ctx)
	c.Manufacturer, c.Model, c.Revision, c.IMEI = info.Manufacturer, info.Model, info.Revision, info.IMEI
	c.SIMState, c.ICCID = info.SIMState, info.ICCID
	if err != nil {
		cfg.Logger.Debug("backend: probe: modem info", "port", port, "err", err)
		c.Error = "answers AT but not the identification commands: " + err.Error()
		return c
	}
	c.Spec = Spec{Kind: KindAT, Port: port}.String()
	return c
}

// probeError shortens a failed probe for a listing.
func probeError(err error) string {
	switch {
	case errors.Is(err, at.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "does not answer AT"
	}
	return err.Error()
}

// pickPort returns the port auto-selection uses: the first usable probe
// that reported an IMEI, else the first usable one.
func pickPort(probes []Candidate) (Candidate, bool) {
	for _, p := range probes {
		if p.Usable() && p.IMEI != "" {
			return p, true
		}
	}
	for _, p := range probes {
		if p.Usable() {
			return p, true
		}
	}
	return Candidate{}, false
}
