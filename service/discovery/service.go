package discovery

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Config.
const (
	DefaultCountry   = "US"
	DefaultMOTimeout = 10 * time.Second
)

// Config configures New.
type Config struct {
	// DBPath is the SQLite catalog file. Empty means a fresh database in a
	// temporary directory that Close removes.
	DBPath string
	// Logger receives the logs; nil discards them. ICCIDs are logged as
	// their first 8 digits, EIDs and IMEIs not at all.
	Logger *slog.Logger
	// Now is the clock (ISO 8601 durations with years or months count from
	// it, Retry-After dates, timestamps); nil means time.Now.
	Now func() time.Time

	// MOClientTLS is the TLS configuration for calls to MO Web APIs: it must
	// hold the client certificate (mutual TLS) and should hold RootCAs (nil
	// means the system roots). InsecureSkipVerify is refused. Nil disables
	// GetBalance (503 mo_not_configured) and GetOffers (template "0").
	MOClientTLS *tls.Config
	// MOTimeout bounds each MO call; 0 means DefaultMOTimeout.
	MOTimeout time.Duration

	// DefaultCountry is the country of clients with a loopback, private or
	// link-local address (and no MCC or country parameter); empty means
	// DefaultCountry ("US").
	DefaultCountry string
	// IPCountries maps client address prefixes to countries (longest
	// prefix wins; consulted before the loopback/private default).
	IPCountries []IPCountry
	// MCCCountries adds to or overrides DefaultMCCCountries. The merged
	// table is written to the catalog's mcc_countries at every start.
	MCCCountries map[string]string

	// Seed adds the operators of SeedOperators that the catalog lacks (an
	// operator already stored, possibly edited, is left alone).
	Seed bool
	// Overrides replace fields of stored operators at every start, so the
	// bundled stack can point Contoso at its real local addresses.
	Overrides map[string]Override
	// PublicBaseURL is this service's external base URL, used to build
	// logo URLs; empty means the scheme and Host of each request.
	PublicBaseURL string
}

// Override replaces the non-empty fields of a stored operator. When
// PortalURL is set and CallbackHost is not, the callback host becomes the
// portal URL's host name.
type Override struct {
	PortalURL        string
	CallbackHost     string
	MOBaseURL        string
	OffersURI        string
	NotificationsURI string
	Countries        []string
	ICCIDRanges      []ICCIDRange
}

func (o Override) apply(op Operator) Operator {
	if o.PortalURL != "" && o.CallbackHost == "" {
		if u, err := url.Parse(o.PortalURL); err == nil {
			o.CallbackHost = strings.ToLower(u.Hostname())
		}
	}
	for _, f := range []struct {
		src string
		dst *string
	}{
		{o.PortalURL, &op.PortalURL}, {o.CallbackHost, &op.CallbackHost}, {o.MOBaseURL, &op.MOBaseURL},
		{o.OffersURI, &op.OffersURI}, {o.NotificationsURI, &op.NotificationsURI},
	} {
		if f.src != "" {
			*f.dst = f.src
		}
	}
	if len(o.Countries) > 0 {
		op.Countries = slices.Clone(o.Countries)
	}
	if len(o.ICCIDRanges) > 0 {
		op.ICCIDRanges = slices.Clone(o.ICCIDRanges)
	}
	return op
}

// Service is the Mobile Plans Service: the operator catalog and its HTTP
// API. It is safe for concurrent use.
type Service struct {
	log            *slog.Logger
	now            func() time.Time
	store          *store
	tmpDir         string
	mo             *moClient // nil without Config.MOClientTLS
	ips            ipTable
	defaultCountry string
	publicBase     string

	writeMu sync.Mutex // serialises writes and snapshot reloads
	snap    atomic.Pointer[catalog]

	handler http.Handler
}

// New opens (creating or migrating) the catalog, applies the seed and
// overrides and returns the service.
func New(ctx context.Context, cfg Config) (*Service, error) {
	s := &Service{log: cfg.Logger, now: cfg.Now, publicBase: strings.TrimRight(cfg.PublicBaseURL, "/")}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.publicBase != "" {
		if err := checkBaseURL(s.publicBase); err != nil {
			return nil, fmt.Errorf("discovery: PublicBaseURL: %w", err)
		}
	}
	s.defaultCountry = strings.ToUpper(cfg.DefaultCountry)
	if s.defaultCountry == "" {
		s.defaultCountry = DefaultCountry
	}
	if !validCountry(s.defaultCountry) {
		return nil, fmt.Errorf("discovery: DefaultCountry %q is not an ISO 3166 alpha-2 code", cfg.DefaultCountry)
	}
	var err error
	if s.ips, err = newIPTable(cfg.IPCountries); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	mccs := DefaultMCCCountries()
	for mcc, c := range cfg.MCCCountries {
		c = strings.ToUpper(c)
		if !validMCC(mcc) || !validCountry(c) {
			return nil, fmt.Errorf("discovery: MCCCountries: %q -> %q is not MCC -> ISO 3166 alpha-2", mcc, c)
		}
		mccs[mcc] = c
	}
	if cfg.MOClientTLS != nil {
		timeout := cfg.MOTimeout
		if timeout <= 0 {
			timeout = DefaultMOTimeout
		}
		if s.mo, err = newMOClient(cfg.MOClientTLS, timeout, s.now, s.log); err != nil {
			return nil, err
		}
	}

	path := cfg.DBPath
	if path == "" {
		if s.tmpDir, err = os.MkdirTemp("", "discovery-*"); err != nil {
			return nil, fmt.Errorf("discovery: %w", err)
		}
		path = filepath.Join(s.tmpDir, "catalog.db")
	}
	if s.store, err = openStore(ctx, path); err != nil {
		s.cleanup()
		return nil, err
	}
	if err := s.init(ctx, cfg, mccs); err != nil {
		s.Close()
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

func (s *Service) init(ctx context.Context, cfg Config, mccs map[string]string) error {
	// The MCC table is configuration: rewritten at every start.
	if err := s.store.replaceMCCs(ctx, mccs); err != nil {
		return err
	}
	if cfg.Seed {
		for _, op := range SeedOperators() {
			ok, err := s.store.exists(ctx, op.ID)
			if err != nil {
				return err
			}
			if ok {
				continue
			}
			if err := s.put(ctx, op); err != nil {
				return fmt.Errorf("discovery: seed %s: %w", op.ID, err)
			}
		}
	}
	if len(cfg.Overrides) > 0 {
		ops, err := s.store.load(ctx)
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(cfg.Overrides))
		for id := range cfg.Overrides {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			i := slices.IndexFunc(ops, func(o Operator) bool { return o.ID == id })
			if i < 0 {
				return fmt.Errorf("discovery: override for %w: %s", ErrOperatorNotFound, id)
			}
			if err := s.put(ctx, cfg.Overrides[id].apply(ops[i])); err != nil {
				return fmt.Errorf("discovery: override %s: %w", id, err)
			}
		}
	}
	return s.reload(ctx)
}

// put validates and stores op without reloading the snapshot.
func (s *Service) put(ctx context.Context, op Operator) error {
	n, err := op.normalized()
	if err != nil {
		return err
	}
	return s.store.upsert(ctx, n, s.now())
}

func (s *Service) reload(ctx context.Context) error {
	ops, err := s.store.load(ctx)
	if err != nil {
		return err
	}
	mccs, err := s.store.mccs(ctx)
	if err != nil {
		return err
	}
	s.snap.Store(newCatalog(ops, mccs))
	return nil
}

// UpsertOperator validates op (a *FieldError names the first bad field)
// and stores it, replacing an operator with the same id.
func (s *Service) UpsertOperator(ctx context.Context, op Operator) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.put(ctx, op); err != nil {
		return err
	}
	s.log.Info("operator stored", "operator", op.ID)
	return s.reload(ctx)
}

// DeleteOperator removes an operator; ErrOperatorNotFound if absent.
func (s *Service) DeleteOperator(ctx context.Context, id string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.store.remove(ctx, id); err != nil {
		return err
	}
	s.log.Info("operator deleted", "operator", id)
	return s.reload(ctx)
}

// Operators returns every stored operator, ordered by id.
func (s *Service) Operators(ctx context.Context) ([]Operator, error) {
	return s.store.load(ctx)
}

// Operator returns one stored operator; ErrOperatorNotFound if absent.
func (s *Service) Operator(ctx context.Context, id string) (Operator, error) {
	ops, err := s.store.load(ctx)
	if err != nil {
		return Operator{}, err
	}
	for _, op := range ops {
		if op.ID == id {
			return op, nil
		}
	}
	return Operator{}, fmt.Errorf("%w: %s", ErrOperatorNotFound, id)
}

// Handler returns the HTTP API.
func (s *Service) Handler() http.Handler { return s.handler }

// Close closes the database (and removes it when Config.DBPath was empty).
func (s *Service) Close() error {
	if s.mo != nil {
		s.mo.close()
	}
	var err error
	if s.store != nil {
		err = s.store.close()
	}
	s.cleanup()
	return err
}

func (s *Service) cleanup() {
	if s.tmpDir != "" {
		if err := os.RemoveAll(s.tmpDir); err != nil {
			s.log.Warn("remove temporary catalog", "error", err)
		}
		s.tmpDir = ""
	}
}

// checkBaseURL accepts an absolute http(s) URL without query or fragment.
func checkBaseURL(s string) error {
	if strings.HasPrefix(s, "https://") {
		return checkHTTPSURL(s)
	}
	if !strings.HasPrefix(s, "http://") {
		return errors.New("must be an http or https URL")
	}
	return checkHTTPSURL("https://" + strings.TrimPrefix(s, "http://"))
}
