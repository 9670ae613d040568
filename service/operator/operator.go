package operator

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mobileplans/mobileplans/esim/rsp"
)

// DefaultBrand is the brand name shown by the portal.
const DefaultBrand = "Contoso Cellular"

// Defaults of Config.
const (
	DefaultUsageMBPerMinute     = 1.0
	DefaultDeferMinutes         = 60
	DefaultRegistrationInterval = 15
	DefaultSessionTTL           = 30 * time.Minute
	DefaultSupportEmail         = "support@contoso.test"
	DefaultSupportPhone         = "+1 800 555 0100"
)

// Config configures New.
type Config struct {
	// DBPath is the SQLite database (accounts, lines, orders, balances, MO
	// API transaction ids). Empty means a fresh database in a temporary
	// directory that Close removes.
	DBPath string
	// Logger receives the logs; nil discards them. ICCIDs, EIDs and
	// matching IDs are logged shortened.
	Logger *slog.Logger
	// Now is the clock of balances, sessions, certificate checks and the
	// rate limiter; nil means time.Now.
	Now func() time.Time
	// Orders orders profiles from the SM-DP+ (NewES2Client). Required.
	Orders OrderPlacer
	// Brand is the operator's name on the pages; empty means DefaultBrand.
	Brand string
	// PortalBaseURL is the launch URL of the portal as registered with the
	// discovery service, e.g. "https://portal.contoso.test/mobileplans";
	// PortalHandler serves the pages under its path. Empty means "/".
	PortalBaseURL string
	// MOClientCAs verifies the MO API's client certificates. Required.
	MOClientCAs *x509.CertPool
	// MOClientSubject is the accepted client certificate subject: a common
	// name, or a full distinguished name in RFC 2253 form (as
	// pkix.Name.String prints it). Empty means DefaultMOClientSubject.
	MOClientSubject string
	// RateLimit throttles the MO API per client certificate.
	RateLimit RateLimit
	// Legacy makes every portal session hand back with the legacy
	// DataMart.notifyPurchaseResult (also per launch with legacy=1).
	Legacy bool
	// UsageMBPerMinute is the data a prepaid line uses per minute once
	// bought; 0 means DefaultUsageMBPerMinute, negative means none.
	UsageMBPerMinute float64
	// DeferMinutes is the delay of the "install later" option; 0 means
	// DefaultDeferMinutes.
	DeferMinutes int
	// RegistrationInterval is the networkRegistrationInterval (minutes) of
	// plans with asynchronous activation; 0 means
	// DefaultRegistrationInterval.
	RegistrationInterval int
	// SessionTTL is the idle lifetime of a portal session; 0 means
	// DefaultSessionTTL.
	SessionTTL time.Duration
	// SupportEmail and SupportPhone are shown in the page footer; empty
	// means DefaultSupportEmail, DefaultSupportPhone.
	SupportEmail, SupportPhone string
	// SeedLines are lines created at start when their ICCID is unknown
	// (test and monitoring SIMs for the MO API).
	SeedLines []SeedLine
}

// SeedLine is a line with a fresh balance of plan PlanID.
type SeedLine struct {
	ICCID  string
	PlanID string
}

// Operator is Contoso Cellular: its portal, its MO API and its orders.
type Operator struct {
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	db     *store
	tmpDir string
	limit  *limiter
	prefix string // path of PortalBaseURL without a trailing slash
	secure bool   // PortalBaseURL is https: cookies are Secure
	ui     *ui

	mu        sync.Mutex
	lastPrune time.Time
	sessions  map[string]*session
}

// New opens the database, seeds Config.SeedLines and returns the operator.
func New(ctx context.Context, cfg Config) (*Operator, error) {
	if cfg.Orders == nil {
		return nil, errors.New("operator: Config.Orders is required")
	}
	if cfg.MOClientCAs == nil {
		return nil, errors.New("operator: Config.MOClientCAs is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Brand == "" {
		cfg.Brand = DefaultBrand
	}
	if cfg.MOClientSubject == "" {
		cfg.MOClientSubject = DefaultMOClientSubject
	}
	if cfg.UsageMBPerMinute == 0 {
		cfg.UsageMBPerMinute = DefaultUsageMBPerMinute
	}
	cfg.UsageMBPerMinute = max(cfg.UsageMBPerMinute, 0)
	if cfg.DeferMinutes <= 0 {
		cfg.DeferMinutes = DefaultDeferMinutes
	}
	if cfg.RegistrationInterval <= 0 {
		cfg.RegistrationInterval = DefaultRegistrationInterval
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.SupportEmail == "" {
		cfg.SupportEmail = DefaultSupportEmail
	}
	if cfg.SupportPhone == "" {
		cfg.SupportPhone = DefaultSupportPhone
	}
	o := &Operator{cfg: cfg, log: cfg.Logger, now: cfg.Now, sessions: map[string]*session{}}
	if cfg.PortalBaseURL != "" {
		u, err := url.Parse(cfg.PortalBaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
			return nil, fmt.Errorf("operator: PortalBaseURL %q is not an http(s) URL without a query", cfg.PortalBaseURL)
		}
		o.prefix = strings.TrimRight(u.EscapedPath(), "/")
		o.secure = u.Scheme == "https"
	}
	var err error
	if o.ui, err = newUI(); err != nil {
		return nil, err
	}
	o.limit = newLimiter(cfg.RateLimit, cfg.Now)
	path := cfg.DBPath
	if path == "" {
		if o.tmpDir, err = os.MkdirTemp("", "operator-"); err != nil {
			return nil, fmt.Errorf("operator: %w", err)
		}
		path = filepath.Join(o.tmpDir, "operator.db")
	}
	if o.db, err = openStore(ctx, path); err != nil {
		o.removeTmp()
		return nil, err
	}
	for _, sl := range cfg.SeedLines {
		if err := o.seed(ctx, sl); err != nil {
			o.Close()
			return nil, err
		}
	}
	return o, nil
}

func (o *Operator) seed(ctx context.Context, sl SeedLine) error {
	id, err := rsp.ParseICCID(sl.ICCID)
	if err != nil {
		return fmt.Errorf("operator: seed line: %w", err)
	}
	p, ok := planByID(sl.PlanID)
	if !ok {
		return fmt.Errorf("operator: seed line %s: unknown plan %q", maskICCID(string(id)), sl.PlanID)
	}
	added, err := o.db.seedLine(ctx, string(id), p, o.cfg.UsageMBPerMinute, o.now())
	if err != nil {
		return err
	}
	if added {
		o.log.Debug("seeded line", "iccid", maskICCID(string(id)), "plan", p.ID)
	}
	return nil
}

// MarkDownloaded records that the profile iccid reached the device (e.g.
// after the SM-DP+ reported its installation): its activation code is no
// longer offered for a retry and its scheduled download can no longer be
// cancelled. Errors: ErrUnknownICCID, ErrOrderState (the order was
// cancelled).
func (o *Operator) MarkDownloaded(ctx context.Context, iccid string) error {
	id, err := rsp.ParseICCID(iccid)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnknownICCID, err)
	}
	if err := o.db.setDownloadState(ctx, string(id), "downloaded", o.now()); err != nil {
		return err
	}
	o.log.Info("profile downloaded", "iccid", maskICCID(string(id)))
	return nil
}

// Close closes the database (and removes it when New made a temporary
// one).
func (o *Operator) Close() error {
	err := o.db.close()
	o.removeTmp()
	return err
}

func (o *Operator) removeTmp() {
	if o.tmpDir != "" {
		if err := os.RemoveAll(o.tmpDir); err != nil {
			o.log.Warn("removing the temporary database failed", "err", err)
		}
	}
}
