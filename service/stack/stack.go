package stack

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mobileplans/mobileplans/esim/euicc"
	"github.com/mobileplans/mobileplans/esim/pki"
	"github.com/mobileplans/mobileplans/modem/sim"
	"github.com/mobileplans/mobileplans/modem/simcard"
	"github.com/mobileplans/mobileplans/service/discovery"
	"github.com/mobileplans/mobileplans/service/operator"
	"github.com/mobileplans/mobileplans/service/smdp"
	"github.com/mobileplans/mobileplans/service/webca"
)

// MPSClientSubject is the subject of the discovery service's client
// certificate towards operators' MO APIs (mobile-plans.md 4.1 names
// Microsoft's; the bundled stack uses its own test name).
const MPSClientSubject = "partners.mobileplans.test"

// Config configures Start.
type Config struct {
	// Dir keeps the state: test-pki/, webca/, smdp.db, discovery.db,
	// euicc.json. Required.
	Dir string
	// Host is the loopback address to listen on; empty means 127.0.0.1.
	Host string
	// NoModem skips the simulated modem (a real modem is used).
	NoModem bool
	// PortalHost is the host name of the operator portal as browsers see
	// it (and the callback host the bridge accepts). When set, the portal
	// URL has no port, like a real operator's (https://PortalHost/...), and
	// a browser must map the name to PortalAddr (for example with
	// Chromium's --host-resolver-rules). Empty means localhost with the
	// listening port in the URL and in the callback host.
	PortalHost string
	// Logger receives the services' logs; nil discards them.
	Logger *slog.Logger
}

// Endpoint is one address the stack serves, for printing.
type Endpoint struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Stack is the running set of services.
type Stack struct {
	PKI   *pki.PKI
	WebCA *webca.CA

	SMDP        *smdp.Server
	SMDPAddress string // host:port as in activation codes

	Discovery    *discovery.Service
	DiscoveryURL string

	Operator *operator.Operator
	// PortalURL is Contoso Cellular's launch URL, PortalCallbackHost the
	// host the bridge accepts calls from, and PortalAddr the loopback
	// ip:port it listens on.
	PortalURL          string
	PortalCallbackHost string
	PortalAddr         string
	MOAPIURL           string // its MO API base (…/v1)

	// Faults injects errors into the SM-DP+ (for tests of the device side).
	Faults *smdp.Faults

	Card      *euicc.Card
	Modem     *sim.Modem
	ModemPath string // the pty of the simulated modem

	// CIFile and WebCAFile are the PEM files to trust: the test CI (SM-DP+)
	// and the web CA (discovery, operator).
	CIFile, WebCAFile string

	log     *slog.Logger
	cancel  context.CancelFunc
	servers []*http.Server
	wg      sync.WaitGroup
	closers []func() error
	once    sync.Once
	err     error
}

// Start starts every service. On error, whatever was started is stopped.
func Start(ctx context.Context, cfg Config) (_ *Stack, err error) {
	if cfg.Dir == "" {
		return nil, errors.New("stack: Config.Dir is required")
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Stack{log: cfg.Logger, cancel: cancel, Faults: &smdp.Faults{}}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	hosts := []string{"localhost", cfg.Host}
	if s.PKI, err = pki.LoadOrGenerate(pki.Options{Dir: filepath.Join(cfg.Dir, "test-pki"), ExtraTLSHosts: hosts, Logger: cfg.Logger}); err != nil {
		return nil, fmt.Errorf("stack: test PKI: %w", err)
	}
	s.CIFile = filepath.Join(cfg.Dir, "test-pki", "ci.pem")
	if s.WebCA, err = webca.LoadOrNew(filepath.Join(cfg.Dir, "webca"), "mobileplans test web CA", nil); err != nil {
		return nil, fmt.Errorf("stack: web CA: %w", err)
	}
	s.WebCAFile = webca.CertPath(filepath.Join(cfg.Dir, "webca"))

	if err := s.startSMDP(sctx, cfg); err != nil {
		return nil, err
	}
	if err := s.startOperator(sctx, cfg, hosts); err != nil {
		return nil, err
	}
	if err := s.startDiscovery(sctx, cfg, hosts); err != nil {
		return nil, err
	}
	if !cfg.NoModem {
		if err := s.startModem(sctx, cfg); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// listen binds host:0 and returns the listener and "localhost:port".
func listen(ctx context.Context, host string) (net.Listener, string, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, "", fmt.Errorf("stack: listen: %w", err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return ln, net.JoinHostPort("localhost", port), nil
}

func (s *Stack) startSMDP(ctx context.Context, cfg Config) error {
	// The SM-DP+ signs its own address into serverSigned1, so it must
	// know its port before it starts: bind, note the port, release it and
	// let the server bind it again.
	ln, addr, err := listen(ctx, cfg.Host)
	if err != nil {
		return err
	}
	bound := ln.Addr().String()
	ln.Close()
	srv, err := smdp.New(ctx, smdp.Config{PKI: s.PKI, Address: addr, DBPath: filepath.Join(cfg.Dir, "smdp.db"),
		Logger: cfg.Logger.With("service", "smdp"), Faults: s.Faults})
	if err != nil {
		return fmt.Errorf("stack: SM-DP+: %w", err)
	}
	s.closers = append(s.closers, srv.Close)
	if _, err := srv.ListenAndServeTLS(ctx, bound); err != nil {
		return fmt.Errorf("stack: SM-DP+: %w", err)
	}
	s.SMDP, s.SMDPAddress = srv, addr
	return nil
}

func (s *Stack) startDiscovery(ctx context.Context, cfg Config, hosts []string) error {
	client, err := s.WebCA.ClientCert(pkix.Name{CommonName: MPSClientSubject}, time.Time{}, time.Time{})
	if err != nil {
		return fmt.Errorf("stack: discovery client certificate: %w", err)
	}
	ln, addr, err := listen(ctx, cfg.Host)
	if err != nil {
		return err
	}
	svc, err := discovery.New(ctx, discovery.Config{
		DBPath:      filepath.Join(cfg.Dir, "discovery.db"),
		Logger:      cfg.Logger.With("service", "discovery"),
		Seed:        true,
		MOClientTLS: &tls.Config{Certificates: []tls.Certificate{client}, RootCAs: s.WebCA.Pool(), MinVersion: tls.VersionTLS12},
		// Point Contoso at the bundled operator.
		Overrides: map[string]discovery.Override{discovery.ContosoID: {
			PortalURL:    s.PortalURL,
			CallbackHost: s.PortalCallbackHost,
			MOBaseURL:    s.MOAPIURL,
			OffersURI:    s.MOAPIURL + "/",
		}},
	})
	if err != nil {
		ln.Close()
		return fmt.Errorf("stack: discovery: %w", err)
	}
	s.closers = append(s.closers, svc.Close)
	if err := s.serve(ln, svc.Handler(), hosts); err != nil {
		return err
	}
	s.Discovery, s.DiscoveryURL = svc, "https://"+addr
	return nil
}

// serve serves h over TLS with a web CA certificate for hosts on ln until
// Close.
func (s *Stack) serve(ln net.Listener, h http.Handler, hosts []string) error {
	cert, err := s.WebCA.ServerCert(hosts...)
	if err != nil {
		ln.Close()
		return err
	}
	s.serveTLS(ln, h, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	return nil
}

// serveTLS serves h on ln with the TLS configuration tc until Close.
func (s *Stack) serveTLS(ln net.Listener, h http.Handler, tc *tls.Config) {
	hs := &http.Server{
		Handler:           h,
		TLSConfig:         tc,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.servers = append(s.servers, hs)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := hs.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("stack: server stopped", "address", ln.Addr().String(), "err", err)
		}
	}()
}

// startOperator starts Contoso Cellular: the portal and the MO API on their
// own listeners, ordering from the stack's SM-DP+ over ES2+ with a client
// certificate of the test CI.
func (s *Stack) startOperator(ctx context.Context, cfg Config, hosts []string) error {
	opCert, err := smdp.IssueOperatorCertificate(s.PKI, "Contoso Cellular", time.Now())
	if err != nil {
		return fmt.Errorf("stack: operator ES2+ certificate: %w", err)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: s.PKI.RootPool(), Certificates: []tls.Certificate{opCert}, MinVersion: tls.VersionTLS12}}}
	es2, err := operator.NewES2Client("https://"+s.SMDPAddress, hc, operator.ES2Logger(cfg.Logger.With("service", "operator-es2")))
	if err != nil {
		return fmt.Errorf("stack: %w", err)
	}
	portalLn, _, err := listen(ctx, cfg.Host)
	if err != nil {
		return err
	}
	moLn, moAddr, err := listen(ctx, cfg.Host)
	if err != nil {
		portalLn.Close()
		return err
	}
	s.PortalAddr = portalLn.Addr().String()
	_, port, _ := net.SplitHostPort(s.PortalAddr)
	certHost := cfg.PortalHost
	if cfg.PortalHost == "" {
		certHost, s.PortalCallbackHost = "localhost", net.JoinHostPort("localhost", port)
	} else {
		s.PortalCallbackHost = cfg.PortalHost
	}
	s.PortalURL = "https://" + s.PortalCallbackHost + "/mobileplans"
	s.MOAPIURL = "https://" + moAddr + "/v1"
	op, err := operator.New(ctx, operator.Config{
		DBPath:          filepath.Join(cfg.Dir, "operator.db"),
		Logger:          cfg.Logger.With("service", "operator"),
		Orders:          es2,
		PortalBaseURL:   s.PortalURL,
		MOClientCAs:     s.WebCA.Pool(),
		MOClientSubject: MPSClientSubject,
	})
	if err != nil {
		portalLn.Close()
		moLn.Close()
		return fmt.Errorf("stack: operator: %w", err)
	}
	s.closers = append(s.closers, op.Close)
	s.Operator = op
	if err := s.serve(portalLn, op.PortalHandler(), append([]string{certHost}, hosts...)); err != nil {
		moLn.Close()
		return err
	}
	moCert, err := s.WebCA.ServerCert(hosts...)
	if err != nil {
		moLn.Close()
		return err
	}
	s.serveTLS(moLn, op.MOAPIHandler(), operator.MOServerTLSConfig(moCert))
	return nil
}

func (s *Stack) startModem(ctx context.Context, cfg Config) error {
	card, err := euicc.Open(filepath.Join(cfg.Dir, "euicc.json"), euicc.Options{
		Logger: cfg.Logger.With("service", "euicc"), Seed: true, Issuer: euicc.PKIIssuer(s.PKI)})
	if err != nil {
		return fmt.Errorf("stack: simulated eUICC: %w", err)
	}
	m := sim.New(simcard.New(card), sim.Options{Logger: cfg.Logger.With("service", "modem")})
	path, err := m.ServePTY(ctx)
	if err != nil {
		return fmt.Errorf("stack: simulated modem: %w", err)
	}
	s.closers = append(s.closers, func() error {
		s.cancel()
		return m.Wait()
	})
	s.Card, s.Modem, s.ModemPath = card, m, path
	return nil
}

// Endpoints lists what the stack serves.
func (s *Stack) Endpoints() []Endpoint {
	var out []Endpoint
	if s.SMDP != nil {
		out = append(out, Endpoint{"SM-DP+ (ES9+, ES2+)", "https://" + s.SMDPAddress})
	}
	if s.Discovery != nil {
		out = append(out, Endpoint{"discovery service", s.DiscoveryURL})
	}
	if s.Operator != nil {
		out = append(out, Endpoint{"Contoso Cellular portal", s.PortalURL}, Endpoint{"Contoso Cellular MO API", s.MOAPIURL})
	}
	if s.ModemPath != "" {
		out = append(out, Endpoint{"simulated modem (AT)", s.ModemPath})
	}
	out = append(out, Endpoint{"test CI (trust for SM-DP+ TLS)", s.CIFile}, Endpoint{"web CA (trust for the services)", s.WebCAFile})
	return out
}

// Close stops every service (gracefully, within a few seconds) and releases
// the databases. It is safe to call more than once.
func (s *Stack) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var errs []error
		for _, hs := range s.servers {
			if err := hs.Shutdown(ctx); err != nil {
				errs = append(errs, err)
				hs.Close()
			}
		}
		s.wg.Wait()
		for i := len(s.closers) - 1; i >= 0; i-- {
			if err := s.closers[i](); err != nil {
				errs = append(errs, err)
			}
		}
		s.cancel()
		s.err = errors.Join(errs...)
	})
	return s.err
}
