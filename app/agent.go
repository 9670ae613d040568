package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/modem"
	"github.com/mobileplans/mobileplans/service/discovery"
	"github.com/mobileplans/mobileplans/ui/portal"
)

// Agent is the device-side agent. Its methods are safe for concurrent use.
type Agent struct {
	cfg    Config
	log    *slog.Logger
	clock  Clock
	events *eventQueue
	store  *store

	base context.Context
	stop context.CancelCauseFunc
	wg   sync.WaitGroup

	lpaMu sync.Mutex
	lpa   *lpa.Client

	// mu guards the fields below. Never call the store while holding it.
	mu        sync.Mutex
	closed    bool
	state     State
	session   *portalSession
	sessions  uint64
	country   string // country of the last operator list
	run       *run
	last      *Outcome
	wakeSched context.CancelFunc
	notified  map[string]bool // deferred downloads notified by this process
	// notifying: a background delivery of eUICC notifications runs;
	// notifyAgain: another was asked for meanwhile.
	notifying, notifyAgain bool
}

// New starts an agent: it loads the persisted state from cfg.StateDir
// (refusing a corrupt file, see StateError) and starts the scheduler of
// deferred downloads. The modem and the eUICC are first used by the first
// call that needs them. ctx is used for loading only; the agent runs until
// Close.
func New(ctx context.Context, cfg Config) (*Agent, error) {
	if err := cfg.normalise(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, err := openStore(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	base, stop := context.WithCancelCause(context.WithoutCancel(ctx))
	a := &Agent{
		cfg: cfg, log: cfg.Logger, clock: cfg.Clock, store: st,
		events: newEventQueue(cfg.EventBuffer),
		base:   base, stop: stop,
		state:    StateIdle,
		notified: map[string]bool{},
	}
	a.events.start()
	p := st.view()
	a.log.Info("agent started", "stateDir", cfg.StateDir, "deferred", len(p.Deferred), "lpaErrors", len(p.Errors))
	a.wg.Add(1)
	go a.scheduler()
	return a, nil
}

// Close cancels a running fulfilment (as the agent shutting down, not as
// the user), stops the scheduler, closes the eUICC session and the Events
// channel. It does not close the modem.
func (a *Agent) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	a.mu.Unlock()
	a.stop(ErrClosed)
	a.wg.Wait()
	var err error
	a.lpaMu.Lock()
	if a.lpa != nil {
		err = a.lpa.Close()
		a.lpa = nil
	}
	a.lpaMu.Unlock()
	a.events.close()
	return err
}

// Events returns the agent's events; see the package documentation for the
// delivery rules. The channel is closed by Close.
func (a *Agent) Events() <-chan Event { return a.events.out }

// Dropped returns the number of events dropped or coalesced so far.
func (a *Agent) Dropped() uint64 { return a.events.droppedCount() }

// State returns the journey's current state.
func (a *Agent) State() State {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state
}

// transition moves the journey to s (see CanTransition).
func (a *Agent) transition(s State) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.transitionLocked(s)
}

func (a *Agent) transitionLocked(to State) error {
	from := a.state
	if !CanTransition(from, to) {
		return &TransitionError{From: from, To: to}
	}
	if from == to {
		return nil
	}
	a.state = to
	if to == StateProbe || to == StateDiscover || to == StateGateway {
		a.session = nil // the portal was left
	}
	a.events.push(StateChanged{From: from, To: to, Time: a.clock.Now()})
	a.log.Info("journey", "from", string(from), "to", string(to))
	return nil
}

// failStep ends a UI step that failed: an ErrorEvent, then the journey
// fails (or is cancelled, when ctx was).
func (a *Agent) failStep(ctx context.Context, step State, err error) {
	c := classify(err)
	a.events.push(ErrorEvent{State: step, Status: c.status, Err: err})
	to := StateFailed
	if ctx.Err() != nil {
		to = StateCancelled
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state == step {
		_ = a.transitionLocked(to)
	}
	a.log.Warn("journey step failed", "step", string(step), "status", string(c.status), "err", err)
}

// client returns the LPA session on the eUICC, opening it on first use.
func (a *Agent) client(ctx context.Context) (*lpa.Client, error) {
	a.lpaMu.Lock()
	defer a.lpaMu.Unlock()
	if a.lpa != nil {
		return a.lpa, nil
	}
	a.mu.Lock()
	closed := a.closed
	a.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	open := apdu.Opener(a.cfg.Modem.OpenChannel)
	if a.cfg.APDUTrace != nil {
		open = apdu.NewTraceWriter(a.cfg.APDUTrace).WrapOpener(open)
	}
	c, err := lpa.New(ctx, open, a.cfg.LPA)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLPAInit, err)
	}
	a.lpa = c
	return c, nil
}

// Device is what Probe found.
type Device struct {
	Manufacturer, Model, Revision string
	IMEI                          string
	// SIMState is the modem's SIM state (READY, ...); ICCID the profile
	// the modem uses now.
	SIMState string
	ICCID    string
	EID      string
	Profiles []Profile
	// Registration is the serving network; ServingMCC its country code
	// ("" when not registered).
	Registration NetworkRegistration
	ServingMCC   string
}

// EnabledProfile returns the enabled profile, if any.
func (d Device) EnabledProfile() (Profile, bool) {
	for _, p := range d.Profiles {
		if p.Enabled {
			return p, true
		}
	}
	return Profile{}, false
}

// Profile is one profile on the eUICC.
type Profile struct {
	ICCID               string
	Enabled             bool
	Nickname            string
	ServiceProviderName string
	ProfileName         string
	// Class is "test", "provisioning", "operational" or "" when unknown.
	Class string
}

// NetworkRegistration is the modem's network registration.
type NetworkRegistration struct {
	State        portal.RegistrationState
	OperatorCode string // MCCMNC
	OperatorName string
	AccessTech   string
	SignalDBm    int
	SignalValid  bool
}

// Probe reads the device: the modem's identity and registration, the EID
// and the installed profiles. The journey goes to probe (and to failed if
// the modem or the eUICC cannot be read: activation results modemNotFound
// and lpaInitializationError in the ErrorEvent).
func (a *Agent) Probe(ctx context.Context) (Device, error) {
	if err := a.transition(StateProbe); err != nil {
		return Device{}, err
	}
	d, err := a.readDevice(ctx)
	if err != nil {
		a.failStep(ctx, StateProbe, err)
		return Device{}, err
	}
	return d, nil
}

// readDevice reads the modem and the eUICC.
func (a *Agent) readDevice(ctx context.Context) (Device, error) {
	info, err := a.cfg.Modem.Info(ctx)
	if err != nil {
		return Device{}, fmt.Errorf("%w: %w", ErrModem, err)
	}
	reg, err := a.cfg.Modem.Registration(ctx)
	if err != nil {
		return Device{}, fmt.Errorf("%w: registration: %w", ErrModem, err)
	}
	c, err := a.client(ctx)
	if err != nil {
		return Device{}, err
	}
	eid, err := c.EID(ctx)
	if err != nil {
		return Device{}, fmt.Errorf("%w: reading the EID: %w", ErrLPAInit, err)
	}
	ps, err := c.Profiles(ctx)
	if err != nil {
		return Device{}, fmt.Errorf("%w: listing the profiles: %w", ErrLPAInit, err)
	}
	d := Device{
		Manufacturer: info.Manufacturer, Model: info.Model, Revision: info.Revision, IMEI: info.IMEI,
		SIMState: info.SIMState, ICCID: normICCID(info.ICCID), EID: string(eid),
		Registration: registrationOf(reg), ServingMCC: reg.MCC(),
		Profiles: make([]Profile, 0, len(ps)),
	}
	if !reg.State.Registered() {
		d.ServingMCC = ""
	}
	for _, p := range ps {
		pr := Profile{ICCID: string(p.ICCID), Enabled: p.State == rsp.ProfileEnabled, Nickname: p.Nickname,
			ServiceProviderName: p.ServiceProviderName, ProfileName: p.ProfileName}
		if p.Class != nil {
			pr.Class = p.Class.String()
		}
		d.Profiles = append(d.Profiles, pr)
	}
	return d, nil
}

func registrationOf(r modem.Registration) NetworkRegistration {
	return NetworkRegistration{State: RegistrationStateOf(r.State), OperatorCode: r.OperatorCode, OperatorName: r.OperatorName,
		AccessTech: r.AccessTech, SignalDBm: r.SignalDBm, SignalValid: r.SignalValid}
}

// RegistrationStateOf maps a 27.007 <stat> to the state the portal hears
// (mobile-plans.md 3.3): 0 deregistered, 1 home, 2 searching, 3 denied,
// 4 none (unknown), 5 roaming; the 27.007 extensions 6 and 9 (home, SMS
// only / CSFB not preferred) are home, 7 and 10 roaming, 8 and 11
// (emergency or RLOS only) deregistered. 27.007 has no "partner" state.
func RegistrationStateOf(s modem.RegState) portal.RegistrationState {
	switch s {
	case modem.RegNotRegistered, 8, 11:
		return portal.RegistrationDeregistered
	case modem.RegHome, 6, 9:
		return portal.RegistrationHome
	case modem.RegSearching:
		return portal.RegistrationSearching
	case modem.RegDenied:
		return portal.RegistrationDenied
	case modem.RegRoaming, 7, 10:
		return portal.RegistrationRoaming
	}
	return portal.RegistrationNone
}

// normICCID strips the 'F' filler of an ICCID (mobile-plans.md 3.1).
func normICCID(s string) string {
	return strings.TrimRight(strings.TrimSpace(s), "Ff")
}

// Operator is one operator the discovery service offers.
type Operator struct {
	ID           string
	Brand        string
	LogoURL      string
	PortalURL    string
	CallbackHost string
	Countries    []string
	// Owned: one of the device's profiles is this operator's (OwnedICCIDs).
	Owned       bool
	OwnedICCIDs []string
}

// OperatorList is what Operators returns.
type OperatorList struct {
	// Country is the ISO 3166 alpha-2 country of the list; CountrySource
	// says how the service chose it ("mcc", "query", "ip", "default").
	Country, CountrySource string
	Operators              []Operator
}

// maxQueryICCIDs is the discovery service's limit on ICCIDs in a query.
const maxQueryICCIDs = 16

// Operators asks the discovery service which operators to offer: for the
// serving network's country when registered, else the service decides from
// the client address. The journey goes to discover.
func (a *Agent) Operators(ctx context.Context) (OperatorList, error) {
	if err := a.transition(StateDiscover); err != nil {
		return OperatorList{}, err
	}
	d, err := a.readDevice(ctx)
	if err != nil {
		a.failStep(ctx, StateDiscover, err)
		return OperatorList{}, err
	}
	l, err := a.operatorList(ctx, d)
	if err != nil {
		a.failStep(ctx, StateDiscover, err)
		return OperatorList{}, err
	}
	return l, nil
}

func (a *Agent) operatorList(ctx context.Context, d Device) (OperatorList, error) {
	q := discovery.Query{MCC: d.ServingMCC, EID: d.EID, Make: d.Manufacturer, Model: d.Model}
	for _, p := range d.Profiles {
		if len(q.ICCIDs) < maxQueryICCIDs {
			q.ICCIDs = append(q.ICCIDs, p.ICCID)
		}
	}
	l, err := a.cfg.Discovery.Operators(ctx, q)
	if err != nil {
		return OperatorList{}, fmt.Errorf("app: operator list: %w", err)
	}
	out := OperatorList{Country: l.Country, CountrySource: l.CountrySource, Operators: make([]Operator, 0, len(l.Operators))}
	for _, o := range l.Operators {
		out.Operators = append(out.Operators, Operator{ID: o.ID, Brand: o.Brand, LogoURL: o.LogoURL, PortalURL: o.PortalURL,
			CallbackHost: o.CallbackHost, Countries: slices.Clone(o.Countries), Owned: o.Owned, OwnedICCIDs: slices.Clone(o.OwnedICCIDs)})
	}
	if isCountry(l.Country) {
		a.mu.Lock()
		a.country = strings.ToUpper(l.Country)
		a.mu.Unlock()
	}
	return out, nil
}

// Gateway is the operator's gateway page: the operator and the page
// template the service chose (standard page when Selection.Enhanced is
// false).
type Gateway struct {
	Operator  Operator
	Selection *discovery.GatewaySelection
}

// Gateway fetches the gateway page of an operator. The journey goes to
// gateway.
func (a *Agent) Gateway(ctx context.Context, operatorID string) (Gateway, error) {
	if err := a.transition(StateGateway); err != nil {
		return Gateway{}, err
	}
	g, err := a.gateway(ctx, operatorID)
	if err != nil {
		a.failStep(ctx, StateGateway, err)
		return Gateway{}, err
	}
	return g, nil
}

func (a *Agent) gateway(ctx context.Context, operatorID string) (Gateway, error) {
	op, err := a.cfg.Discovery.Operator(ctx, operatorID)
	if err != nil {
		return Gateway{}, fmt.Errorf("app: operator %q: %w", operatorID, err)
	}
	d, err := a.readDevice(ctx)
	if err != nil {
		return Gateway{}, err
	}
	owned := ownedICCIDs(op, d)
	iccid := ""
	if len(owned) > 0 {
		iccid = owned[0]
	}
	sel, err := a.cfg.Discovery.Gateway(ctx, operatorID, iccid, d.IMEI)
	if err != nil {
		return Gateway{}, fmt.Errorf("app: gateway of %q: %w", operatorID, err)
	}
	return Gateway{Operator: operatorOf(op, owned), Selection: sel}, nil
}

func operatorOf(op *discovery.OperatorDetail, owned []string) Operator {
	return Operator{ID: op.ID, Brand: op.Brand, LogoURL: op.LogoURL, PortalURL: op.PortalURL, CallbackHost: op.CallbackHost,
		Countries: slices.Clone(op.Countries), Owned: len(owned) > 0, OwnedICCIDs: owned}
}

// ownedICCIDs returns the ICCIDs of the device's profiles in the
// operator's ranges, without 'F' filler.
func ownedICCIDs(op *discovery.OperatorDetail, d Device) []string {
	var out []string
	for _, p := range d.Profiles {
		iccid := normICCID(p.ICCID)
		for _, r := range op.ICCIDRanges {
			if r.Contains(iccid) {
				out = append(out, iccid)
				break
			}
		}
	}
	return out
}

// PortalRequest is how to open the operator's portal (mobile-plans.md
// 3.1): an HTTP GET of URL with Headers, in a web view that injects the
// bridge for CallbackHost and hands its messages to HandleBridgeMessage.
type PortalRequest struct {
	URL     string
	Headers http.Header
	// CallbackHost is the only host whose pages may call the bridge.
	CallbackHost string
	// TransactionID is the session id sent to the portal.
	TransactionID string
	OperatorID    string
	Brand         string
}

// Headers of a portal launch after failed downloads (mobile-plans.md 3.1).
const (
	HeaderLPAErrorCodes      = "X-MP-LPAError-Codes"
	HeaderLPAErrorTimeStamps = "X-MP-LPAError-TimeStamps"
	HeaderLPAErrorICCIDs     = "X-MP-LPAError-ICCIDs"
)

// LPAErrorTimeLayout formats X-MP-LPAError-TimeStamps (UTC), e.g.
// "5/18/2018 11:17:23 PM".
const LPAErrorTimeLayout = "1/2/2006 3:04:05 PM"

// maxTransactionID is the portal's limit on transactionId.
const maxTransactionID = 64

// portalSession is one opened portal.
type portalSession struct {
	id            uint64
	transactionID string
	operatorID    string
	brand         string
	callbackHost  string
	// guarded by Agent.mu
	regScript, actScript string
}

// PortalLaunch opens a portal session for an operator and returns the
// request to load: the portal URL with market, location, transactionId,
// eid, imei and iccids (the device's profiles in the operator's ICCID
// ranges, 'F' filler stripped), and the X-MP-LPAError-* headers when
// downloads for this operator failed since its last success. The journey
// goes to portal; bridge calls are accepted from then on.
func (a *Agent) PortalLaunch(ctx context.Context, operatorID string) (PortalRequest, error) {
	if err := a.transition(StatePortal); err != nil {
		return PortalRequest{}, err
	}
	req, s, err := a.portalLaunch(ctx, operatorID)
	if err != nil {
		a.failStep(ctx, StatePortal, err)
		return PortalRequest{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state != StatePortal {
		return PortalRequest{}, &TransitionError{From: a.state, To: StatePortal}
	}
	a.session = s
	a.log.Info("portal session opened", "operator", operatorID, "transactionId", s.transactionID, "session", s.id)
	return req, nil
}

func (a *Agent) portalLaunch(ctx context.Context, operatorID string) (PortalRequest, *portalSession, error) {
	op, err := a.cfg.Discovery.Operator(ctx, operatorID)
	if err != nil {
		return PortalRequest{}, nil, fmt.Errorf("app: operator %q: %w", operatorID, err)
	}
	u, err := url.Parse(op.PortalURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return PortalRequest{}, nil, fmt.Errorf("app: operator %q: portal URL %q is not an https URL", operatorID, truncate(op.PortalURL, 100))
	}
	if op.CallbackHost == "" {
		return PortalRequest{}, nil, fmt.Errorf("app: operator %q has no callback host", operatorID)
	}
	d, err := a.readDevice(ctx)
	if err != nil {
		return PortalRequest{}, nil, err
	}
	location, market, err := a.countries(ctx, d)
	if err != nil {
		return PortalRequest{}, nil, err
	}
	a.mu.Lock()
	a.sessions++
	seq := a.sessions
	a.mu.Unlock()
	txid, err := newTransactionID(seq)
	if err != nil {
		return PortalRequest{}, nil, err
	}
	params := []string{"market=" + url.QueryEscape(market), "location=" + url.QueryEscape(location),
		"transactionId=" + url.QueryEscape(txid)}
	if d.EID != "" {
		params = append(params, "eid="+url.QueryEscape(d.EID))
	}
	if d.IMEI != "" {
		params = append(params, "imei="+url.QueryEscape(d.IMEI))
	}
	owned := ownedICCIDs(op, d)
	if len(owned) > 0 {
		esc := make([]string, len(owned))
		for i, s := range owned {
			esc[i] = url.QueryEscape(s)
		}
		params = append(params, "iccids="+strings.Join(esc, ","))
	}
	q := strings.Join(params, "&")
	if u.RawQuery != "" {
		q = u.RawQuery + "&" + q
	}
	u.RawQuery = q
	h := http.Header{}
	if a.cfg.Language != "" {
		h.Set("Accept-Language", a.cfg.Language)
	}
	var codes, times []string
	var lastICCID string
	for _, e := range a.store.view().Errors {
		if e.OperatorID != operatorID {
			continue
		}
		codes = append(codes, string(e.Status))
		times = append(times, e.Time.UTC().Format(LPAErrorTimeLayout))
		if e.ICCID != "" {
			lastICCID = e.ICCID
		}
	}
	if len(codes) > 0 {
		h.Set(HeaderLPAErrorCodes, strings.Join(codes, ","))
		h.Set(HeaderLPAErrorTimeStamps, strings.Join(times, ","))
		if lastICCID != "" {
			h.Set(HeaderLPAErrorICCIDs, lastICCID)
		}
	}
	s := &portalSession{id: seq, transactionID: txid, operatorID: operatorID, brand: op.Brand, callbackHost: op.CallbackHost}
	return PortalRequest{URL: u.String(), Headers: h, CallbackHost: op.CallbackHost, TransactionID: txid,
		OperatorID: operatorID, Brand: op.Brand}, s, nil
}

// countries returns the portal's location and market: Config, else the
// settings, else the country of the last operator list (asking the
// discovery service when there was none); market falls back to location.
func (a *Agent) countries(ctx context.Context, d Device) (location, market string, err error) {
	set := a.store.view().Settings
	location = firstNonEmpty(a.cfg.Location, strings.ToUpper(set.Location))
	if location == "" {
		a.mu.Lock()
		location = a.country
		a.mu.Unlock()
	}
	if location == "" {
		if _, err := a.operatorList(ctx, d); err != nil {
			return "", "", fmt.Errorf("app: cannot tell the device's country: %w", err)
		}
		a.mu.Lock()
		location = a.country
		a.mu.Unlock()
		if location == "" {
			return "", "", errors.New("app: the discovery service named no country for this device")
		}
	}
	market = firstNonEmpty(a.cfg.Market, strings.ToUpper(set.Market), location)
	return location, market, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// newTransactionID returns a portal session id: 16 random URL-safe
// characters, a dot and the session number.
func newTransactionID(seq uint64) (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("app: transaction id: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(b[:]) + "." + strconv.FormatUint(seq, 10)
	if len(id) > maxTransactionID {
		id = id[:maxTransactionID]
	}
	return id, nil
}

// Balance asks the discovery service for the balance of a profile.
func (a *Agent) Balance(ctx context.Context, iccid string) (*discovery.Balance, error) {
	location := firstNonEmpty(a.cfg.Location, strings.ToUpper(a.store.view().Settings.Location))
	if location == "" {
		a.mu.Lock()
		location = a.country
		a.mu.Unlock()
	}
	b, err := a.cfg.Discovery.Balance(ctx, normICCID(iccid), location)
	if err != nil {
		return nil, fmt.Errorf("app: balance: %w", err)
	}
	return b, nil
}

// Settings returns the persisted settings.
func (a *Agent) Settings() Settings { return a.store.view().Settings }

// SetSettings validates and persists s.
func (a *Agent) SetSettings(s Settings) error {
	if err := s.validate(); err != nil {
		return fmt.Errorf("app: settings: %w", err)
	}
	s.Location, s.Market = strings.ToUpper(s.Location), strings.ToUpper(s.Market)
	return a.store.update(func(p *persisted) error {
		p.Settings = s
		return nil
	})
}

// DownloadErrors returns the recorded download failures, oldest first.
func (a *Agent) DownloadErrors() []LPAError { return a.store.view().Errors }

// recordLPAError keeps a failed download attempt for the operator's next
// portal launch.
func (a *Agent) recordLPAError(operatorID string, c class, iccid string, step lpa.Step, err error) {
	if operatorID == "" {
		return
	}
	e := LPAError{OperatorID: operatorID, Status: c.status, Result: c.result, Time: a.clock.Now().UTC(),
		ICCID: iccid, Step: string(step), Message: truncate(err.Error(), 300)}
	uerr := a.store.update(func(p *persisted) error {
		p.Errors = append(p.Errors, e)
		n := 0
		for _, x := range p.Errors {
			if x.OperatorID == operatorID {
				n++
			}
		}
		for i := 0; n > MaxLPAErrors && i < len(p.Errors); {
			if p.Errors[i].OperatorID == operatorID {
				p.Errors = slices.Delete(p.Errors, i, i+1)
				n--
				continue
			}
			i++
		}
		return nil
	})
	if uerr != nil {
		a.log.Warn("download failure not recorded", "err", uerr)
	}
}

// clearLPAErrors forgets an operator's failures after a success.
func (a *Agent) clearLPAErrors(operatorID string) {
	err := a.store.update(func(p *persisted) error {
		p.Errors = slices.DeleteFunc(p.Errors, func(e LPAError) bool { return e.OperatorID == operatorID })
		return nil
	})
	if err != nil {
		a.log.Warn("download failures not cleared", "err", err)
	}
}
