package launch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/pki"
	"github.com/mobileplans/mobileplans/modem/at"
	"github.com/mobileplans/mobileplans/modem/backend"
	"github.com/mobileplans/mobileplans/service/discovery"
	"github.com/mobileplans/mobileplans/service/stack"
)

// Settings are the desktop app's connection settings.
type Settings struct {
	// Mock runs on the bundled stack and its simulated modem; the fields
	// below but MockDir are then unused.
	Mock bool `json:"mock"`
	// MockDir keeps the bundled stack's state (its PKI, the simulated
	// eUICC's profiles) across runs; "" means a new temporary directory.
	MockDir string `json:"mockDir,omitempty"`
	// Modem is the modem backend: "auto", "mm", "mm:IMEI" or "at:PORT"
	// (see modem/backend); "" means auto.
	Modem string `json:"modem,omitempty"`
	// DBusAddress is the D-Bus of ModemManager; "" means the system bus.
	DBusAddress string `json:"dbusAddress,omitempty"`
	// Discovery is the base URL of the Mobile Plans discovery service.
	Discovery string `json:"discovery,omitempty"`
	// TrustCA is a PEM file of a CA trusted, besides the system roots,
	// for the discovery service and the portal (a test CA).
	TrustCA string `json:"trustCA,omitempty"`
	// TrustCI is a PEM file of GSMA CI certificates trusted for SM-DP+
	// authentication (SGP.22); "" trusts the CIs the eUICC names that are
	// in the system's set (none: downloads then fail with a clear error).
	TrustCI string `json:"trustCI,omitempty"`
}

// Validate checks the settings without starting anything.
func (s Settings) Validate() error {
	if s.Mock {
		return nil
	}
	if s.Discovery == "" {
		return &SettingsError{Field: "discovery", Reason: "give the discovery service URL, or use mock mode"}
	}
	if !strings.HasPrefix(s.Discovery, "https://") {
		return &SettingsError{Field: "discovery", Reason: "the discovery service URL must start with https://"}
	}
	if _, err := backend.ParseSpec(firstOf(s.Modem, "auto")); err != nil {
		return &SettingsError{Field: "modem", Reason: err.Error()}
	}
	return nil
}

// SettingsError is an unusable setting.
type SettingsError struct {
	Field, Reason string
}

func (e *SettingsError) Error() string { return "settings: " + e.Field + ": " + e.Reason }

// Options configure Start beyond the settings.
type Options struct {
	// StateDir is the agent's state directory; "" means <MockDir>/agent
	// in mock mode, else a "agent" directory under the user's data dir.
	StateDir string
	// Logger receives the logs; nil discards them.
	Logger *slog.Logger
	// StackLogger receives the bundled services' logs; nil discards them.
	StackLogger *slog.Logger
	// APDUTrace receives the APDU trace (app.Config.APDUTrace).
	APDUTrace io.Writer
	// Notifier shows deferred-download notifications.
	Notifier app.Notifier
	// Tune adjusts the agent's Config before the agent starts (tests:
	// clocks and timeouts).
	Tune func(*app.Config)
	// PortalHost, in mock mode, is the host name the portal is served
	// under (stack.Config.PortalHost): the portal URL has no port and the
	// browser maps the name to the stack's address (PortalTrust.HostMap).
	// "" serves it on https://localhost:PORT, which any web view reaches.
	PortalHost string
	// AT configures the simulated modem's AT engine in mock mode (its
	// Device and Logger are set here).
	AT at.Config
	// ES9Timeout bounds one request to an SM-DP+ (0: the client's
	// default); BlockSize is the STORE DATA block size (0: the card's).
	ES9Timeout time.Duration
	BlockSize  int
}

// PortalTrust is what a portal window needs to show the operator's portal:
// the extra CA to trust and, in mock mode, the callback host of the bundled
// portal (a real operator's comes from the discovery service).
type PortalTrust struct {
	// RootCAs holds PEM CA certificates to trust besides the system's;
	// CAFile is the same as a file ("" when none).
	RootCAs []byte
	CAFile  string
	// CallbackHost overrides the operator's registered callback host
	// ("" = the discovery service's).
	CallbackHost string
	// HostMap maps host names to loopback addresses for browsers that can
	// resolve them so (Chromium), with Options.PortalHost.
	HostMap map[string]string
}

// Session is a running agent and what it runs on.
type Session struct {
	Agent  *app.Agent
	Portal PortalTrust
	// Describe says what the session runs on, for the device screen.
	Describe string
	// Stack is the bundled stack in mock mode (nil otherwise).
	Stack *stack.Stack

	closers []func() error
}

// Start starts a session for s: Prepare, then the agent. On error,
// whatever was started is stopped.
func Start(ctx context.Context, s Settings, o Options) (*Session, error) {
	se, cfg, err := Prepare(ctx, s, o)
	if err != nil {
		return nil, err
	}
	a, err := app.New(ctx, cfg)
	if err != nil {
		_ = se.Close()
		return nil, err
	}
	se.Agent = a
	se.closers = append(se.closers, a.Close)
	return se, nil
}

// Prepare starts what an agent for s runs on (the bundled stack and its
// simulated modem, or the modem backend) and returns the agent's Config,
// for callers that start the agent themselves; the Session's Agent is nil
// and its Close stops what was started. On error, nothing is left running.
func Prepare(ctx context.Context, s Settings, o Options) (_ *Session, _ app.Config, err error) {
	if err := s.Validate(); err != nil {
		return nil, app.Config{}, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	se := &Session{}
	defer func() {
		if err != nil {
			_ = se.Close()
		}
	}()
	cfg := app.Config{Logger: o.Logger, StateDir: o.StateDir, Notifier: o.Notifier, APDUTrace: o.APDUTrace,
		LPA: lpa.Options{Logger: o.Logger, BlockSize: o.BlockSize}}
	if s.Mock {
		err = se.startMock(ctx, s, o, &cfg)
	} else {
		err = se.startDevice(ctx, s, o, &cfg)
	}
	if err != nil {
		return nil, app.Config{}, err
	}
	if o.Tune != nil {
		o.Tune(&cfg)
	}
	return se, cfg, nil
}

// Close stops the agent and everything the session started, in reverse
// order.
func (se *Session) Close() error {
	var errs []error
	for i := len(se.closers) - 1; i >= 0; i-- {
		if err := se.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	se.closers = nil
	return errors.Join(errs...)
}

func (se *Session) startMock(ctx context.Context, s Settings, o Options, cfg *app.Config) error {
	dir := s.MockDir
	if dir == "" {
		d, err := os.MkdirTemp("", "mobileplans-mock-")
		if err != nil {
			return err
		}
		se.closers = append(se.closers, func() error { return os.RemoveAll(d) })
		dir = d
	}
	st, err := stack.Start(ctx, stack.Config{Dir: dir, PortalHost: o.PortalHost, Logger: o.StackLogger})
	if err != nil {
		return fmt.Errorf("bundled stack: %w", err)
	}
	se.Stack = st
	se.closers = append(se.closers, st.Close)
	ac := o.AT
	ac.Device, ac.Logger = st.ModemPath, o.Logger
	m, err := at.Open(ctx, ac)
	if err != nil {
		return fmt.Errorf("simulated modem: %w", err)
	}
	se.closers = append(se.closers, m.Close)
	cfg.Modem = m
	pool, err := lpa.TrustPool(st.PKI.CI.Cert)
	if err != nil {
		return err
	}
	if cfg.ES9, err = lpa.NewES9Client(lpa.ES9Options{RootCAs: pool, Timeout: o.ES9Timeout, Logger: o.Logger}); err != nil {
		return err
	}
	roots, err := os.ReadFile(st.WebCAFile)
	if err != nil {
		return err
	}
	cfg.Discovery = discovery.NewClient(st.DiscoveryURL, webClient(st.WebCA.Pool()))
	if cfg.StateDir == "" {
		cfg.StateDir = filepath.Join(dir, "agent")
	}
	se.Portal = PortalTrust{RootCAs: roots, CAFile: st.WebCAFile, CallbackHost: st.PortalCallbackHost}
	if o.PortalHost != "" {
		se.Portal.HostMap = map[string]string{o.PortalHost: st.PortalAddr}
	}
	se.Describe = "Simulated modem on the bundled test network (mock mode)"
	return nil
}

func (se *Session) startDevice(ctx context.Context, s Settings, o Options, cfg *app.Config) error {
	spec, err := backend.ParseSpec(firstOf(s.Modem, "auto"))
	if err != nil {
		return err
	}
	// The files first: a typo in a path fails before the modem is opened.
	var cis []*x509.Certificate
	if s.TrustCI != "" {
		b, err := os.ReadFile(s.TrustCI)
		if err != nil {
			return &SettingsError{Field: "trustCI", Reason: err.Error()}
		}
		if cis, err = pki.ParseCertificates(b); err != nil || len(cis) == 0 {
			return &SettingsError{Field: "trustCI", Reason: "no certificate in " + s.TrustCI}
		}
	}
	web, err := x509.SystemCertPool()
	if err != nil {
		web = x509.NewCertPool()
	}
	if s.TrustCA != "" {
		pem, err := os.ReadFile(s.TrustCA)
		if err != nil {
			return &SettingsError{Field: "trustCA", Reason: err.Error()}
		}
		if !web.AppendCertsFromPEM(pem) {
			return &SettingsError{Field: "trustCA", Reason: "no PEM certificate in " + s.TrustCA}
		}
		se.Portal = PortalTrust{RootCAs: pem, CAFile: s.TrustCA}
	}
	pool, err := lpa.TrustPool(cis...)
	if err != nil {
		return err
	}
	if cfg.ES9, err = lpa.NewES9Client(lpa.ES9Options{RootCAs: pool, Timeout: o.ES9Timeout, Logger: o.Logger}); err != nil {
		return err
	}
	cfg.Discovery = discovery.NewClient(strings.TrimRight(s.Discovery, "/"), webClient(web))
	if cfg.StateDir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return err
		}
		cfg.StateDir = filepath.Join(base, "mobileplans", "agent")
	}
	m, err := backend.Open(ctx, spec, backend.Config{DBusAddress: s.DBusAddress, Logger: o.Logger})
	if err != nil {
		return err
	}
	se.closers = append(se.closers, m.Close)
	cfg.Modem = m
	se.Describe = "Modem " + spec.String()
	return nil
}

func webClient(pool *x509.CertPool) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
