package operator

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultMOClientSubject is the expected common name of the MO API's
// client certificate (the Mobile Plans Service's, mobile-plans.md 4.1).
const DefaultMOClientSubject = "partners.datamart.windows.com"

// transactionTTL is how long MO API transaction ids are remembered for the
// 409 check.
const transactionTTL = 7 * 24 * time.Hour

// Notification templates of GetNotifications: notificationType to
// notificationId of the MO configuration.
func notificationTemplates() map[string]int {
	return map[string]int{"lowBalance": 1, "outOfData": 2, "planExpiring": 3}
}

// MOServerTLSConfig returns a TLS configuration for serving MOAPIHandler:
// cert as the server certificate, and client certificates requested but
// not verified during the handshake (tls.RequestClientCert), because the
// handler verifies them itself so that it can answer a missing or expired
// certificate with HTTP 401 and an untrusted one with 403 instead of
// failing the handshake.
func MOServerTLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequestClientCert,
		MinVersion:   tls.VersionTLS12,
	}
}

// moError is the JSON error body of the MO API.
type moError struct {
	Error moErrorBody `json:"error"`
}

type moErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
}

// MOAPIHandler returns the MO Web API (mobile-plans.md 4) under /v1:
//
//	GET /v1/sims/iccid:{ICCID}/balances?fieldsTemplate=basic|full&limit=&location=
//	GET /v1/sims/iccid:{ICCID}/offers?limit=&imei=
//	GET /v1/sims/iccid:{ICCID}/notifications?notificationType=&limit=&imei=
//
// Serve it over TLS with MOServerTLSConfig.
func (o *Operator) MOAPIHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/sims/{simId}/balances", o.getBalance)
	mux.HandleFunc("GET /v1/sims/{simId}/offers", o.getOffers)
	mux.HandleFunc("GET /v1/sims/{simId}/notifications", o.getNotifications)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		o.moFail(w, r, http.StatusNotFound, "not_found", "no such resource", "")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tx := r.Header.Get(TransactionHeader); checkTransactionID(tx) == nil {
			w.Header().Set(TransactionHeader, tx)
		}
		w.Header().Set("Cache-Control", "no-store")
		client, status, msg := o.moClient(r)
		if status != 0 {
			code := "unauthorized"
			if status == http.StatusForbidden {
				code = "forbidden"
			}
			o.moFail(w, r, status, code, msg, "")
			return
		}
		if ok, wait := o.limit.allow(client); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)))
			o.moFail(w, r, http.StatusTooManyRequests, "throttled", "too many requests; retry later", "")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			o.moFail(w, r, http.StatusMethodNotAllowed, "method_not_allowed", "only GET is supported", "")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// moClient authenticates the caller by its TLS client certificate. It
// returns a key for the rate limiter, or the HTTP status and message of
// the refusal: 401 for a missing, expired or not yet valid certificate, 403
// for one that does not chain to Config.MOClientCAs (with the clientAuth
// usage) or has another subject.
func (o *Operator) moClient(r *http.Request) (string, int, string) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return "", http.StatusUnauthorized, "a client certificate is required"
	}
	leaf := r.TLS.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range r.TLS.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         o.cfg.MOClientCAs,
		Intermediates: inter,
		CurrentTime:   o.now(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	var inv x509.CertificateInvalidError
	switch {
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		o.log.Warn("MO API: client certificate expired or not yet valid", "subject", leaf.Subject.String())
		return "", http.StatusUnauthorized, "the client certificate is expired or not yet valid"
	case err != nil:
		o.log.Warn("MO API: client certificate not trusted", "subject", leaf.Subject.String(), "err", err)
		return "", http.StatusForbidden, "the client certificate is not trusted"
	case !o.subjectOK(leaf):
		o.log.Warn("MO API: client certificate subject refused", "subject", leaf.Subject.String())
		return "", http.StatusForbidden, "the client certificate subject is not accepted"
	}
	sum := sha256.Sum256(leaf.Raw)
	return hex.EncodeToString(sum[:16]), 0, ""
}

// subjectOK compares the certificate subject with Config.MOClientSubject:
// a plain name is the expected common name, a distinguished name (it
// contains '=') must equal the subject in RFC 2253 form.
func (o *Operator) subjectOK(c *x509.Certificate) bool {
	want := o.cfg.MOClientSubject
	if strings.Contains(want, "=") {
		return c.Subject.String() == want
	}
	return c.Subject.CommonName == want
}

// moFail writes an error answer and logs it.
func (o *Operator) moFail(w http.ResponseWriter, r *http.Request, status int, code, msg, param string) {
	lvl := o.log.Info
	if status >= 500 {
		lvl = o.log.Error
	}
	lvl("MO API refused", "path", r.URL.Path, "status", status, "code", code, "message", msg,
		"transactionId", shortText([]byte(r.Header.Get(TransactionHeader))))
	o.moJSON(w, status, moError{Error: moErrorBody{Code: code, Message: msg, Param: param}})
}

func (o *Operator) moJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		o.log.Error("MO API: encode answer", "err", err)
		http.Error(w, "internal error: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// moBegin does what every MO API call shares after authentication: the
// SIM id (404 when malformed), the query (400), the transaction id (400
// when absent or malformed, 409 when repeated). It returns the ICCID, or
// "" after answering.
func (o *Operator) moBegin(w http.ResponseWriter, r *http.Request, parse func(string) error) string {
	iccid, ok := parseSimID(r.PathValue("simId"))
	if !ok {
		o.moFail(w, r, http.StatusNotFound, "sim_not_found", "the SIM id is not iccid:<ICCID> of 18 to 20 digits", "")
		return ""
	}
	tx := r.Header.Get(TransactionHeader)
	err := checkTransactionID(tx)
	if err == nil {
		err = parse(r.URL.RawQuery)
	}
	var pe *ParamError
	if errors.As(err, &pe) {
		o.moFail(w, r, http.StatusBadRequest, "bad_parameter", pe.Error(), pe.Param)
		return ""
	}
	if err != nil {
		o.moFail(w, r, http.StatusBadRequest, "bad_request", err.Error(), "")
		return ""
	}
	now := o.now()
	fresh, err := o.db.seeTransaction(r.Context(), tx, now)
	if err != nil {
		o.moFail(w, r, http.StatusInternalServerError, "internal", err.Error(), "")
		return ""
	}
	if !fresh {
		o.moFail(w, r, http.StatusConflict, "transaction_repeated",
			"the transaction id "+TransactionHeader+" was used before", TransactionHeader)
		return ""
	}
	o.maybePruneTransactions(r, now)
	return iccid
}

// maybePruneTransactions forgets old transaction ids about once an hour.
func (o *Operator) maybePruneTransactions(r *http.Request, now time.Time) {
	o.mu.Lock()
	due := now.Sub(o.lastPrune) >= time.Hour
	if due {
		o.lastPrune = now
	}
	o.mu.Unlock()
	if !due {
		return
	}
	if n, err := o.db.pruneTransactions(r.Context(), now.Add(-transactionTTL)); err != nil {
		o.log.Warn("MO API: pruning transaction ids failed", "err", err)
	} else if n > 0 {
		o.log.Debug("MO API: pruned transaction ids", "count", n)
	}
}

// lookupBalances answers 404 for an unknown ICCID and 500 for other
// failures; ok false means it answered.
func (o *Operator) lookupBalances(w http.ResponseWriter, r *http.Request, iccid string) ([]balance, bool) {
	bals, err := o.db.lineBalances(r.Context(), iccid)
	switch {
	case errors.Is(err, ErrUnknownICCID):
		o.moFail(w, r, http.StatusNotFound, "sim_not_found", "no Contoso SIM has this ICCID", "")
		return nil, false
	case err != nil:
		o.moFail(w, r, http.StatusInternalServerError, "internal", err.Error(), "")
		return nil, false
	}
	return bals, true
}

// BalanceEntry is one balance of a GetBalance answer.
type BalanceEntry struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// DataRemainingInMB and TimeRemaining (ISO 8601) are set for
	// MODIRECTPAYG; zero balance is 0 and "PT0S".
	DataRemainingInMB *float64 `json:"dataRemainingInMB,omitempty"`
	TimeRemaining     string   `json:"timeRemaining,omitempty"`
	// Full template only.
	Locations []string `json:"locations,omitempty"`
	PlanID    string   `json:"planId,omitempty"`
	PlanName  string   `json:"planName,omitempty"`
	ExpiresAt string   `json:"expiresAt,omitempty"`
}

// BalanceResponse is the GetBalance answer.
type BalanceResponse struct {
	Balances []BalanceEntry `json:"balances"`
}

func (o *Operator) getBalance(w http.ResponseWriter, r *http.Request) {
	var q balanceQuery
	iccid := o.moBegin(w, r, func(raw string) (err error) { q, err = parseBalanceQuery(raw); return err })
	if iccid == "" {
		return
	}
	bals, ok := o.lookupBalances(w, r, iccid)
	if !ok {
		return
	}
	now := o.now()
	resp := BalanceResponse{Balances: []BalanceEntry{}}
	for _, b := range bals {
		if q.Location != "" && !slices.Contains(b.Locations, q.Location) {
			continue
		}
		resp.Balances = append(resp.Balances, o.balanceEntry(b, now, q.Template == templateFull))
		if q.Limit > 0 && len(resp.Balances) == q.Limit {
			break
		}
	}
	o.log.Info("MO API GetBalance", "iccid", maskICCID(iccid), "balances", len(resp.Balances),
		"transactionId", r.Header.Get(TransactionHeader))
	o.moJSON(w, http.StatusOK, resp)
}

func (o *Operator) balanceEntry(b balance, now time.Time, full bool) BalanceEntry {
	p, _ := planByID(b.PlanID)
	e := BalanceEntry{ID: strconv.FormatInt(b.ID, 10), Type: b.Type}
	data, left := b.at(now, p.Validity)
	if b.Type == balanceMODirectPAYG {
		v := math.Round(data*10) / 10
		e.DataRemainingInMB, e.TimeRemaining = &v, isoDuration(left)
	}
	if full {
		e.Locations, e.PlanID, e.PlanName = b.Locations, b.PlanID, p.Name
		if b.Type == balanceMODirect {
			e.TimeRemaining = isoDuration(left)
		} else {
			e.ExpiresAt = b.ExpiresAt.UTC().Format(time.RFC3339)
		}
	}
	return e
}

// OffersResponse is the GetOffers answer.
type OffersResponse struct {
	Offers []Offer `json:"offers"`
}

// Offer names a gateway template of the operator configuration.
type Offer struct {
	GatewayID string `json:"gatewayId"`
}

// getOffers chooses gateway template "1" (welcome back, top up) for a SIM
// with an active balance and "0" otherwise.
func (o *Operator) getOffers(w http.ResponseWriter, r *http.Request) {
	var q offersQuery
	iccid := o.moBegin(w, r, func(raw string) (err error) { q, err = parseOffersQuery(raw); return err })
	if iccid == "" {
		return
	}
	bals, ok := o.lookupBalances(w, r, iccid)
	if !ok {
		return
	}
	now := o.now()
	id := "0"
	for _, b := range bals {
		p, _ := planByID(b.PlanID)
		if data, left := b.at(now, p.Validity); left > 0 && (math.IsNaN(data) || data > 0) {
			id = "1"
			break
		}
	}
	offers := []Offer{{GatewayID: id}}
	o.log.Info("MO API GetOffers", "iccid", maskICCID(iccid), "gatewayId", id, "transactionId", r.Header.Get(TransactionHeader))
	o.moJSON(w, http.StatusOK, OffersResponse{Offers: offers[:min(len(offers), q.Limit)]})
}

// NotificationsResponse is the GetNotifications answer.
type NotificationsResponse struct {
	Notifications []Notification `json:"notifications"`
}

// Notification names a toast template of the operator configuration.
type Notification struct {
	NotificationID   int    `json:"notificationId"`
	NotificationType string `json:"notificationType"`
}

// getNotifications returns the template of a known notification type, an
// empty list for other types.
func (o *Operator) getNotifications(w http.ResponseWriter, r *http.Request) {
	var q notificationsQuery
	iccid := o.moBegin(w, r, func(raw string) (err error) { q, err = parseNotificationsQuery(raw); return err })
	if iccid == "" {
		return
	}
	if _, ok := o.lookupBalances(w, r, iccid); !ok {
		return
	}
	resp := NotificationsResponse{Notifications: []Notification{}}
	for t, id := range notificationTemplates() {
		if strings.EqualFold(t, q.Type) {
			resp.Notifications = append(resp.Notifications, Notification{NotificationID: id, NotificationType: t})
		}
	}
	resp.Notifications = resp.Notifications[:min(len(resp.Notifications), q.Limit)]
	o.log.Info("MO API GetNotifications", "iccid", maskICCID(iccid), "type", q.Type, "count", len(resp.Notifications),
		"transactionId", r.Header.Get(TransactionHeader))
	o.moJSON(w, http.StatusOK, resp)
}
