package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/euicc"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/modem"
	"github.com/mobileplans/mobileplans/modem/at"
	"github.com/mobileplans/mobileplans/modem/backend"
	"github.com/mobileplans/mobileplans/modem/mm"
	"github.com/mobileplans/mobileplans/modem/sim"
	"github.com/mobileplans/mobileplans/modem/simcard"
)

// options are the global flags shared by every command.
type options struct {
	device      string
	modemSpec   string
	dbusAddress string
	baud        int
	simState    string
	apduTrace   string
	atTrace     string
	json        bool
	logLevel    string
	blockSize   int
	transport   string
	atTimeout   time.Duration
	apduTimeout time.Duration
	testPKI     string
	es9Timeout  time.Duration
	bppCacheDir string
	trustCI     []string

	out    io.Writer
	errOut io.Writer
	p      *printer
	log    *slog.Logger
}

// ErrUsage marks errors in how the command was called (exit status 2).
var errUsage = errors.New("usage")

// usageError formats an error that is the caller's mistake.
func usageError(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

// IsUsage reports whether err is a usage error (for the exit status).
func IsUsage(err error) bool { return errors.Is(err, errUsage) }

// NewRootCommand builds the command tree writing to out and errOut.
func NewRootCommand(out, errOut io.Writer) *cobra.Command { return newRootCommand(out, errOut, nil) }

// newRootCommand builds the command tree; with ui, the root command and
// `ui` start the desktop app.
func newRootCommand(out, errOut io.Writer, ui UIFunc) *cobra.Command {
	o := &options{out: out, errOut: errOut}
	root := &cobra.Command{
		Use:   "mobileplans",
		Short: "Buy a cellular plan and manage the eSIM profiles of this device",
		Long: `mobileplans manages the eSIM (eUICC) of a cellular modem: chip information,
profiles (list, enable, disable, delete, nickname), notifications, and raw modem
access. It reaches the eUICC through ModemManager (--modem mm), AT commands on a
serial port (--device, or --modem at:PORT) or an in-process simulated modem served
on a real pseudo-terminal (--sim). Without any of them it picks the modem itself:
ModemManager's when ModemManager runs and manages one, else the first serial port
that answers AT (see "modem list").`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			o.p = &printer{w: o.out, json: o.json}
			lvl := slog.LevelWarn
			if err := lvl.UnmarshalText([]byte(o.logLevel)); err != nil {
				return usageError("--log-level %q: want debug, info, warn or error", o.logLevel)
			}
			o.log = slog.New(slog.NewTextHandler(o.errOut, &slog.HandlerOptions{Level: lvl}))
			if o.blockSize < 0 || o.blockSize > 255 {
				return usageError("--block-size %d: want 1..255 (0 = card default)", o.blockSize)
			}
			switch o.transport {
			case "auto", "cgla", "csim":
			default:
				return usageError("--transport %q: want auto, cgla or csim", o.transport)
			}
			var set []string
			for _, f := range []string{"device", "sim", "modem"} {
				if cmd.Flags().Changed(f) {
					set = append(set, "--"+f)
				}
			}
			if len(set) > 1 {
				return usageError("%s exclude each other: choose the modem with one of --device, --sim and --modem", strings.Join(set, " and "))
			}
			if _, err := backend.ParseSpec(o.modemSpec); err != nil {
				return usageError("--modem: %v", err)
			}
			return nil
		},
	}
	root.SetOut(out)
	root.SetErr(errOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return fmt.Errorf("%w: %w", errUsage, err) })
	f := root.PersistentFlags()
	f.StringVar(&o.modemSpec, "modem", "", `modem to use: auto (ModemManager's modem if it manages one, else the first serial port that answers AT), mm (ModemManager's only/first modem), mm:IMEI, at:PORT (default auto)`)
	f.StringVar(&o.device, "device", "", "modem AT port, e.g. /dev/ttyUSB2 or COM3 (the same as --modem at:PORT)")
	f.StringVar(&o.dbusAddress, "dbus-address", "", "D-Bus address where ModemManager is (default: the system bus)")
	f.IntVar(&o.baud, "baud", 115200, "serial speed of --device")
	f.StringVar(&o.simState, "sim", "", "use an in-process simulated modem whose eUICC state lives in this file (created if missing)")
	f.StringVar(&o.apduTrace, "apdu-trace", "", "append every APDU exchanged with the eUICC to this file")
	f.StringVar(&o.atTrace, "at-trace", "", "append every AT command and response line to this file")
	f.BoolVar(&o.json, "json", false, `print results as JSON: {"type":"lpa","payload":{"code":0,"message":"success","data":...}}`)
	f.StringVar(&o.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	f.IntVar(&o.blockSize, "block-size", 0, "STORE DATA block size in bytes, 1..255 (0: 255, falling back to 120 if the card refuses)")
	f.StringVar(&o.transport, "transport", "auto", "APDU transport over AT: auto (AT+CCHO/CGLA, else AT+CSIM), cgla or csim")
	f.DurationVar(&o.atTimeout, "at-timeout", 10*time.Second, "deadline of one AT command")
	f.DurationVar(&o.apduTimeout, "apdu-timeout", 60*time.Second, "deadline of one APDU exchange through the modem")
	f.StringVar(&o.testPKI, "test-pki", "", "directory of the bundled stack's test PKI (CI, EUM, SM-DP+ certificates); the simulated eUICC is certified by it and the mock SM-DP+ serves with it (default $MOBILEPLANS_TEST_PKI or <config dir>/mobileplans/test-pki)")
	f.StringArrayVar(&o.trustCI, "trust-ci", nil, "PEM file of a CI / root certificate to trust for SM-DP+ TLS besides the system roots (repeatable), e.g. the test PKI's ci.pem")
	f.DurationVar(&o.es9Timeout, "es9-timeout", 30*time.Second, "deadline of one request to an SM-DP+")

	root.AddCommand(newChipCommand(o), newProfileCommand(o), newNotificationCommand(o), newModemCommand(o), newSimCommand(o), newMockCommand(o), newActivateCommand(o))
	if ui != nil {
		root.AddCommand(newUICommand(o, ui))
		root.Args = exactArgs()
		root.RunE = func(cmd *cobra.Command, _ []string) error { return runUI(cmd.Context(), o, ui, UIOptions{}) }
	}
	return root
}

// Execute runs the command line and returns the process exit status.
func Execute(ctx context.Context, args []string, out, errOut io.Writer) int {
	return ExecuteWithUI(ctx, args, out, errOut, nil)
}

// ExecuteWithUI is Execute in a build with the desktop app: ui runs it
// when no command is given (or with `ui`).
func ExecuteWithUI(ctx context.Context, args []string, out, errOut io.Writer, ui UIFunc) int {
	root := newRootCommand(out, errOut, ui)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	jsonMode := false
	for _, a := range args {
		if a == "--json" || a == "--json=true" {
			jsonMode = true
		}
	}
	var partial *partialError
	if jsonMode && !errors.As(err, &partial) {
		(&printer{w: out, json: true}).failure(err, nil)
	} else if !jsonMode {
		fmt.Fprintf(errOut, "mobileplans: %v\n", err)
	}
	if IsUsage(err) || strings.HasPrefix(err.Error(), "unknown command") {
		return 2
	}
	return 1
}

// partialError is a failure whose details were already printed as the
// command's result (in JSON mode it is not printed a second time).
type partialError struct{ msg string }

func (e *partialError) Error() string { return e.msg }

// session is an opened modem (and, lazily, the LPA on its eUICC).
type session struct {
	o       *options
	modem   modem.Modem
	client  *lpa.Client
	closers []func() error
}

// spec is the modem the flags choose: --sim (a simulated modem started
// by the caller), --device, --modem, or auto-selection.
func (o *options) spec() (backend.Spec, error) {
	switch {
	case o.device != "":
		return backend.Spec{Kind: backend.KindAT, Port: o.device}, nil
	case o.modemSpec != "":
		sp, err := backend.ParseSpec(o.modemSpec)
		if err != nil {
			return backend.Spec{}, usageError("--modem: %v", err)
		}
		return sp, nil
	}
	return backend.Spec{Kind: backend.KindAuto}, nil
}

// backendConfig configures the modem backends from the flags; trace, when
// not nil, receives the AT trace.
func (o *options) backendConfig(trace io.Writer) backend.Config {
	ac := at.Config{
		Baud:           o.baud,
		CommandTimeout: o.atTimeout,
		APDUTimeout:    o.apduTimeout,
		Logger:         o.log,
		Transport:      o.transport,
	}
	if trace != nil {
		ac.Trace = trace
	}
	return backend.Config{
		Logger:       o.log,
		AT:           ac,
		MM:           mm.Options{Logger: o.log, APDUTimeout: o.apduTimeout, AT: ac},
		DBusAddress:  o.dbusAddress,
		ProbeTimeout: min(o.atTimeout, backend.DefaultProbeTimeout),
	}
}

// openSession opens the modem chosen by the flags.
func (o *options) openSession(ctx context.Context) (_ *session, err error) {
	s := &session{o: o}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	var spec backend.Spec
	if o.simState != "" {
		if o.device != "" || o.modemSpec != "" {
			return nil, usageError("--sim excludes --device and --modem")
		}
		path, err := s.startSim(ctx, o.simState)
		if err != nil {
			return nil, err
		}
		spec = backend.Spec{Kind: backend.KindAT, Port: path}
	} else {
		if o.device != "" && o.modemSpec != "" {
			return nil, usageError("--device and --modem exclude each other")
		}
		if spec, err = o.spec(); err != nil {
			return nil, err
		}
	}
	var trace io.Writer
	if o.atTrace != "" {
		f, err := os.OpenFile(o.atTrace, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("AT trace: %w", err)
		}
		s.closers = append(s.closers, f.Close)
		trace = f
	}
	m, err := backend.Open(ctx, spec, o.backendConfig(trace))
	if err != nil {
		return nil, explainOpen(spec, err)
	}
	s.modem = m
	s.closers = append(s.closers, m.Close)
	return s, nil
}

// explainOpen adds what to do to a modem that could not be opened.
func explainOpen(spec backend.Spec, err error) error {
	var nf *mm.NotFoundError
	switch {
	case errors.Is(err, backend.ErrNoModem):
		return fmt.Errorf("%w. Connect a modem, or name one: --device /dev/ttyUSB2 (its AT port; also --modem at:PORT), "+
			"--modem mm:IMEI (a ModemManager modem, see `mobileplans modem list`), or --sim STATEFILE (a simulated modem)", err)
	case errors.Is(err, mm.ErrNoDaemon), errors.Is(err, mm.ErrUnsupported), errors.Is(err, backend.ErrNoBus):
		return fmt.Errorf("--modem %s: %w (give the modem's AT port with --device instead)", spec, err)
	case errors.As(err, &nf):
		return fmt.Errorf("--modem %s: %w (see `mobileplans modem list`)", spec, err)
	}
	return err
}

// startSim serves a simulated modem with the eUICC state in statePath on a
// new pty and returns the pty's path.
func (s *session) startSim(ctx context.Context, statePath string) (string, error) {
	p, err := s.o.loadTestPKI()
	if err != nil {
		return "", err
	}
	card, err := euicc.Open(statePath, euicc.Options{Logger: s.o.log, Seed: true, Issuer: euicc.PKIIssuer(p)})
	if err != nil {
		return "", fmt.Errorf("simulated eUICC: %w", err)
	}
	m := sim.New(simcard.New(card), sim.Options{Logger: s.o.log})
	simCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	path, err := m.ServePTY(simCtx)
	if err != nil {
		cancel()
		return "", fmt.Errorf("simulated modem: %w", err)
	}
	s.closers = append(s.closers, func() error {
		cancel()
		return m.Wait()
	})
	return path, nil
}

// lpa returns the LPA client on the modem's eUICC, opening it on first use.
func (s *session) lpa(ctx context.Context) (*lpa.Client, error) {
	if s.client != nil {
		return s.client, nil
	}
	open := apdu.Opener(s.modem.OpenChannel)
	if s.o.apduTrace != "" {
		f, err := os.OpenFile(s.o.apduTrace, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("APDU trace: %w", err)
		}
		s.closers = append(s.closers, f.Close)
		open = apdu.NewTraceWriter(f).WrapOpener(open)
	}
	c, err := lpa.New(ctx, open, lpa.Options{BlockSize: s.o.blockSize, Logger: s.o.log})
	if err != nil {
		return nil, fmt.Errorf("eUICC: %w", err)
	}
	s.client = c
	return c, nil
}

// Close releases everything in reverse order of opening.
func (s *session) Close() {
	s.closeLPA()
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i](); err != nil && s.o.log != nil {
			s.o.log.Debug("close", "err", err)
		}
	}
	s.closers = nil
}

// withLPA runs f with an LPA client on a freshly opened session.
func (o *options) withLPA(cmd *cobra.Command, f func(ctx context.Context, c *lpa.Client) error) error {
	return o.withSession(cmd, func(ctx context.Context, _ *session, c *lpa.Client) error { return f(ctx, c) })
}

// withSession is withLPA for commands that also need the session (to
// refresh the modem after a profile switch).
func (o *options) withSession(cmd *cobra.Command, f func(ctx context.Context, s *session, c *lpa.Client) error) error {
	ctx := cmd.Context()
	s, err := o.openSession(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	c, err := s.lpa(ctx)
	if err != nil {
		return err
	}
	return f(ctx, s, c)
}

// refresher is a modem that must be told to re-read the SIM after a
// profile switch (ModemManager, which reads the ICCID only while probing
// the modem); reprober is one that can re-read it without waiting for a
// registration (for a disable, after which no profile may be enabled).
type (
	refresher interface {
		Refresh(ctx context.Context) error
	}
	reprober interface {
		Reprobe(ctx context.Context) error
	}
)

// switched lets the modem catch up with a profile switch done with the
// card's refresh (refresh false: none is wanted): a modem that is a
// refresher re-reads the SIM, waiting for it to be ready when a profile
// was enabled. Modems that are not rely on the card's own refresh. The
// LPA's channels do not survive the re-read, so the LPA client is closed
// first and reopened on the next use.
func (s *session) switched(ctx context.Context, refresh, enabled bool) error {
	r, ok := s.modem.(refresher)
	if !ok || !refresh {
		return nil
	}
	s.closeLPA()
	if rp, ok := s.modem.(reprober); ok && !enabled {
		return rp.Reprobe(ctx)
	}
	if err := r.Refresh(ctx); err != nil {
		return fmt.Errorf("the modem did not pick up the profile switch: %w", err)
	}
	return nil
}

// closeLPA closes the LPA client, if open.
func (s *session) closeLPA() {
	if s.client != nil {
		if err := s.client.Close(); err != nil && s.o.log != nil {
			s.o.log.Debug("close the LPA", "err", err)
		}
		s.client = nil
	}
}
