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
	"github.com/mobileplans/mobileplans/modem/at"
	"github.com/mobileplans/mobileplans/modem/sim"
	"github.com/mobileplans/mobileplans/modem/simcard"
)

// options are the global flags shared by every command.
type options struct {
	device      string
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
func NewRootCommand(out, errOut io.Writer) *cobra.Command {
	o := &options{out: out, errOut: errOut}
	root := &cobra.Command{
		Use:   "mobileplans",
		Short: "Buy a cellular plan and manage the eSIM profiles of this device",
		Long: `mobileplans manages the eSIM (eUICC) of a cellular modem: chip information,
profiles (list, enable, disable, delete, nickname), notifications, and raw modem
access. It reaches the eUICC through AT commands on a serial port (--device) or
through an in-process simulated modem served on a real pseudo-terminal (--sim).`,
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
			return nil
		},
	}
	root.SetOut(out)
	root.SetErr(errOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return fmt.Errorf("%w: %w", errUsage, err) })
	f := root.PersistentFlags()
	f.StringVar(&o.device, "device", "", "modem AT port, e.g. /dev/ttyUSB2 or COM3")
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
	root.MarkFlagsMutuallyExclusive("device", "sim")

	root.AddCommand(newChipCommand(o), newProfileCommand(o), newNotificationCommand(o), newModemCommand(o), newSimCommand(o), newMockCommand(o))
	return root
}

// Execute runs the command line and returns the process exit status.
func Execute(ctx context.Context, args []string, out, errOut io.Writer) int {
	root := NewRootCommand(out, errOut)
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
	modem   *at.Modem
	client  *lpa.Client
	closers []func() error
}

// openSession opens the modem chosen by the flags.
func (o *options) openSession(ctx context.Context) (_ *session, err error) {
	s := &session{o: o}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	device := o.device
	switch {
	case o.simState != "" && o.device != "":
		return nil, usageError("--device and --sim exclude each other")
	case o.simState != "":
		path, err := s.startSim(ctx, o.simState)
		if err != nil {
			return nil, err
		}
		device = path
	case device == "":
		return nil, usageError("no modem given: use --device /dev/ttyUSB2 (the modem's AT port) or --sim STATEFILE (a simulated modem)")
	}
	cfg := at.Config{
		Device:         device,
		Baud:           o.baud,
		CommandTimeout: o.atTimeout,
		APDUTimeout:    o.apduTimeout,
		Logger:         o.log,
		Transport:      o.transport,
	}
	if o.atTrace != "" {
		f, err := os.OpenFile(o.atTrace, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("AT trace: %w", err)
		}
		s.closers = append(s.closers, f.Close)
		cfg.Trace = f
	}
	m, err := at.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("modem on %s: %w", device, err)
	}
	s.modem = m
	s.closers = append(s.closers, m.Close)
	return s, nil
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
	if s.client != nil {
		_ = s.client.Close()
		s.client = nil
	}
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i](); err != nil && s.o.log != nil {
			s.o.log.Debug("close", "err", err)
		}
	}
	s.closers = nil
}

// withLPA runs f with an LPA client on a freshly opened session.
func (o *options) withLPA(cmd *cobra.Command, f func(ctx context.Context, c *lpa.Client) error) error {
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
	return f(ctx, c)
}
