package discovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// apiHandler is an endpoint that returns an error instead of writing it.
type apiHandler func(w http.ResponseWriter, r *http.Request) error

func (s *Service) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/operators", s.get(s.listOperators))
	mux.Handle("/v1/operators/{id}", s.get(s.operatorDetail))
	mux.Handle("/v1/operators/{id}/logo", s.get(s.logo))
	mux.Handle("/v1/operators/{id}/gateway", s.get(s.gateway))
	mux.Handle("/v1/operators/{id}/apn", s.get(s.apn))
	mux.Handle("/v1/balance", s.get(s.balance))
	mux.Handle("/healthz", s.get(func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	}))
	mux.Handle("/", s.wrap(func(w http.ResponseWriter, r *http.Request) error {
		return newAPIError(http.StatusNotFound, CodeNotFound, "no endpoint %s", r.URL.Path)
	}))
	return mux
}

// get allows GET and HEAD only, answering others with a JSON 405.
func (s *Service) get(h apiHandler) http.Handler {
	return s.wrap(func(w http.ResponseWriter, r *http.Request) error {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			return newAPIError(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "method %s not allowed", r.Method)
		}
		return h(w, r)
	})
}

func (s *Service) wrap(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		err := h(w, r)
		if err == nil {
			return
		}
		var ae *APIError
		if !errors.As(err, &ae) {
			s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
			ae = newAPIError(http.StatusInternalServerError, CodeInternal, "internal error")
		} else if ae.Status >= 500 {
			s.log.Warn("request failed", "method", r.Method, "path", r.URL.Path, "code", ae.Code, "message", ae.Message)
		} else {
			s.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "code", ae.Code)
		}
		writeError(w, ae)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"encoding failed"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func writeError(w http.ResponseWriter, e *APIError) {
	var body errorBody
	body.Error.Code, body.Error.Message, body.Error.Param = e.Code, e.Message, e.Param
	if e.RetryAfter > 0 {
		secs := int64((e.RetryAfter + time.Second - 1) / time.Second)
		body.Error.RetryAfterSeconds = secs
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, e.Status, body)
}

// operatorFor validates the {id} path value and finds the operator.
func operatorFor(c *catalog, r *http.Request) (*Operator, error) {
	id := r.PathValue("id")
	if !validID(id) {
		return nil, paramError(fieldErr("id", "not an operator id"))
	}
	op, ok := c.operator(id)
	if !ok {
		return nil, newAPIError(http.StatusNotFound, CodeOperatorNotFound, "no operator %q", id)
	}
	return op, nil
}

func asParamError(err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return paramError(fe)
	}
	return err
}

// GET /v1/operators?mcc=&country=&iccids=&eid=&make=&model=
func (s *Service) listOperators(w http.ResponseWriter, r *http.Request) error {
	q, err := ParseQuery(r.URL.Query())
	if err != nil {
		return asParamError(err)
	}
	c := s.snap.Load()
	country, source, err := s.resolveCountry(c, q, r.RemoteAddr)
	if err != nil {
		return err
	}
	base := s.baseURL(r)
	list := OperatorList{Country: country, CountrySource: source, Operators: []OperatorSummary{}}
	for _, m := range c.match(q, country) {
		list.Operators = append(list.Operators, OperatorSummary{
			ID: m.op.ID, Brand: m.op.Brand, LogoURL: c.logoURL(base, m.op), PortalURL: m.op.PortalURL,
			CallbackHost: m.op.CallbackHost, Countries: m.op.Countries, Owned: len(m.owned) > 0, OwnedICCIDs: m.owned,
		})
	}
	s.log.Debug("operators looked up", "country", country, "source", source, "count", len(list.Operators))
	writeJSON(w, http.StatusOK, list)
	return nil
}

// resolveCountry picks the country: a known serving MCC, else the country
// parameter, else the client address (table, then the default for local
// addresses).
func (s *Service) resolveCountry(c *catalog, q Query, remoteAddr string) (string, string, error) {
	if q.MCC != "" {
		if country, ok := c.mcc[q.MCC]; ok {
			return country, CountryFromMCC, nil
		}
	}
	if q.Country != "" {
		return q.Country, CountryFromQuery, nil
	}
	ap, err := netip.ParseAddrPort(remoteAddr)
	addr := ap.Addr()
	if err != nil {
		// Some listeners (tests, unix sockets) give a bare address or none.
		addr, _ = netip.ParseAddr(remoteAddr)
	}
	if addr.IsValid() {
		if country, ok := s.ips.lookup(addr); ok {
			return country, CountryFromIP, nil
		}
		if localAddr(addr) {
			return s.defaultCountry, CountryFromDefault, nil
		}
	}
	return "", "", newAPIError(http.StatusUnprocessableEntity, CodeCountryUnknown,
		"the country of the client address is unknown; pass mcc or country")
}

func (s *Service) baseURL(r *http.Request) string {
	if s.publicBase != "" {
		return s.publicBase
	}
	if r.Host == "" || strings.ContainsAny(r.Host, "/\\?#@ ") {
		return ""
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// logoURL is the logo endpoint (with a version for caches) when the logo is
// stored, else the operator's external LogoURL.
func (c *catalog) logoURL(base string, op *Operator) string {
	etag, ok := c.logoETag[op.ID]
	if !ok {
		return op.LogoURL
	}
	return base + "/v1/operators/" + op.ID + "/logo?v=" + strings.Trim(etag, `"`)
}

// GET /v1/operators/{id}
func (s *Service) operatorDetail(w http.ResponseWriter, r *http.Request) error {
	c := s.snap.Load()
	op, err := operatorFor(c, r)
	if err != nil {
		return err
	}
	d := OperatorDetail{
		ID: op.ID, Brand: op.Brand, LogoURL: c.logoURL(s.baseURL(r), op), PortalURL: op.PortalURL,
		CallbackHost: op.CallbackHost, Countries: op.Countries, ICCIDRanges: op.ICCIDRanges, Gateway: op.Gateway,
		SupportsBalance: op.MOBaseURL != "", SupportsOffers: op.OffersURI != "",
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// GET /v1/operators/{id}/logo
func (s *Service) logo(w http.ResponseWriter, r *http.Request) error {
	c := s.snap.Load()
	op, err := operatorFor(c, r)
	if err != nil {
		return err
	}
	etag, ok := c.logoETag[op.ID]
	if !ok {
		return newAPIError(http.StatusNotFound, CodeLogoNotFound, "operator %q has no stored logo", op.ID)
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(op.Logo)))
	w.WriteHeader(http.StatusOK)
	w.Write(op.Logo)
	return nil
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// GET /v1/operators/{id}/gateway?iccid=&imei=
func (s *Service) gateway(w http.ResponseWriter, r *http.Request) error {
	c := s.snap.Load()
	op, err := operatorFor(c, r)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	iccid, err := iccidParam(v, "iccid", false)
	if err != nil {
		return asParamError(err)
	}
	imei, err := imeiParam(v, "imei")
	if err != nil {
		return asParamError(err)
	}
	sel := GatewaySelection{OperatorID: op.ID, Source: TemplateFromDefault}
	if op.Gateway == nil {
		writeJSON(w, http.StatusOK, sel)
		return nil
	}
	sel.Enhanced, sel.TemplateID = true, DefaultTemplateID
	switch {
	case iccid == "" || !inRanges(op.ICCIDRanges, iccid):
		sel.FallbackReason = "no_active_profile"
	case op.OffersURI == "":
		sel.FallbackReason = "offers_not_supported"
	case s.mo == nil:
		sel.FallbackReason = CodeMONotConfigured
	default:
		id, err := s.mo.getOffers(r.Context(), op, iccid, imei)
		var me *moError
		switch {
		case errors.As(err, &me):
			sel.FallbackReason = moAPIError(me).Code
		case err != nil:
			return err
		case id == "":
			sel.FallbackReason = "no_offer"
		default:
			if _, ok := op.Gateway.Template(id); ok {
				sel.TemplateID, sel.Source = id, TemplateFromOffers
			} else {
				sel.FallbackReason = "unknown_gateway_id"
				s.log.Warn("GetOffers chose an unknown template", "operator", op.ID, "gatewayId", id)
			}
		}
	}
	t, _ := op.Gateway.Template(sel.TemplateID)
	sel.Template = &t
	writeJSON(w, http.StatusOK, sel)
	return nil
}

// GET /v1/operators/{id}/apn?mccmnc=&iccid=
func (s *Service) apn(w http.ResponseWriter, r *http.Request) error {
	c := s.snap.Load()
	op, err := operatorFor(c, r)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	mccmnc, err := mccmncParam(v, "mccmnc")
	if err != nil {
		return asParamError(err)
	}
	iccid, err := iccidParam(v, "iccid", false)
	if err != nil {
		return asParamError(err)
	}
	a, matched, ok := selectAPN(op.APNs, mccmnc, iccid)
	if !ok {
		return newAPIError(http.StatusNotFound, CodeAPNNotFound, "operator %q has no APN for these identifiers", op.ID)
	}
	writeJSON(w, http.StatusOK, APNResult{OperatorID: op.ID, APN: a, Matched: matched})
	return nil
}

// selectAPN applies the COSA rule: among the APNs whose restrictions all
// hold, the one matching the most identifiers wins, then the first.
func selectAPN(apns []APN, mccmnc, iccid string) (APN, []string, bool) {
	best, bestScore := -1, -1
	var bestMatched []string
	for i, a := range apns {
		matched := []string{}
		if len(a.MCCMNCs) > 0 {
			if mccmnc == "" || !slices.Contains(a.MCCMNCs, mccmnc) {
				continue
			}
			matched = append(matched, "mccmnc")
		}
		if len(a.ICCIDRanges) > 0 {
			if iccid == "" || !inRanges(a.ICCIDRanges, iccid) {
				continue
			}
			matched = append(matched, "iccid")
		}
		if len(matched) > bestScore {
			best, bestScore, bestMatched = i, len(matched), matched
		}
	}
	if best < 0 {
		return APN{}, nil, false
	}
	return apns[best], bestMatched, true
}

// GET /v1/balance?iccid=&location=
func (s *Service) balance(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	iccid, err := iccidParam(v, "iccid", true)
	if err != nil {
		return asParamError(err)
	}
	location, err := countryParam(v, "location")
	if err != nil {
		return asParamError(err)
	}
	op, ok := s.snap.Load().owner(iccid)
	if !ok {
		return newAPIError(http.StatusNotFound, CodeICCIDNotRecognized, "no operator owns ICCID range %s", maskICCID(iccid))
	}
	if op.MOBaseURL == "" {
		return newAPIError(http.StatusNotImplemented, CodeBalanceNotSupported, "operator %q has no balance API", op.ID)
	}
	if s.mo == nil {
		return newAPIError(http.StatusServiceUnavailable, CodeMONotConfigured, "the service has no MO API client certificate")
	}
	bal, txid, err := s.mo.getBalance(r.Context(), op, iccid, location)
	if err != nil {
		var me *moError
		if errors.As(err, &me) {
			ae := moAPIError(me)
			ae.Message += " (transaction " + txid + ")"
			return ae
		}
		return err
	}
	out := Balance{ICCID: iccid, OperatorID: op.ID, Type: bal.Type, DataRemainingInMB: bal.DataMB,
		TimeRemaining: bal.TimeRemaining, TransactionID: txid}
	if bal.Duration != nil {
		secs := int64(*bal.Duration / time.Second)
		out.TimeRemainingSeconds = &secs
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
	return nil
}

// moAPIError maps a failed MO call to the answer for the device.
func moAPIError(e *moError) *APIError {
	switch e.kind {
	case moBadRequest:
		msg := "the operator refused the request"
		if e.message != "" {
			msg += ": " + e.message
		}
		return newAPIError(http.StatusBadRequest, CodeMOBadRequest, "%s", msg)
	case moUnauthorized:
		return newAPIError(http.StatusBadGateway, CodeMOUnauthorized, "the operator did not accept the service's client certificate or credentials (HTTP 401)")
	case moForbidden:
		return newAPIError(http.StatusBadGateway, CodeMOForbidden, "the operator does not trust the service's client certificate (HTTP 403)")
	case moNotFound:
		return newAPIError(http.StatusNotFound, CodeSIMNotFound, "the operator does not know this SIM")
	case moConflict:
		return newAPIError(http.StatusConflict, CodeMOConflict, "the operator saw this transaction id before")
	case moThrottled:
		ae := newAPIError(http.StatusTooManyRequests, CodeMOThrottled, "the operator is throttling requests")
		ae.RetryAfter = e.retryAfter
		if e.retryAfter > 0 {
			ae.Message += "; retry after " + strconv.FormatInt(int64((e.retryAfter+time.Second-1)/time.Second), 10) + " s"
		}
		return ae
	case moServerError:
		return newAPIError(http.StatusBadGateway, CodeMOError, "the operator's API failed (HTTP %d)", e.status)
	case moTimeout:
		return newAPIError(http.StatusGatewayTimeout, CodeMOTimeout, "the operator's API did not answer in time")
	case moTLS:
		return newAPIError(http.StatusBadGateway, CodeMOTLS, "mutual TLS with the operator's API failed")
	case moUnreachable:
		return newAPIError(http.StatusBadGateway, CodeMOUnreachable, "the operator's API is unreachable")
	default:
		msg := "the operator's API gave an unusable answer"
		if e.status != 0 && e.status != http.StatusOK {
			msg += " (HTTP " + strconv.Itoa(e.status) + ")"
		}
		return newAPIError(http.StatusBadGateway, CodeMOBadResponse, "%s", msg)
	}
}
