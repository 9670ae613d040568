package discovery

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// TransactionHeader carries the per-call id of every MO Web API request
// (mobile-plans.md 4.1).
const TransactionHeader = "X-MS-DM-TransactionId"

// Limits of MO responses.
const (
	maxMOBody      = 1 << 20
	maxMOErrorBody = 4 << 10
	maxMOMessage   = 200
)

// moKind classifies a failed MO Web API call.
type moKind int

const (
	moBadRequest   moKind = iota // MO answered 400
	moUnauthorized               // 401: our client certificate (or Basic credentials) refused
	moForbidden                  // 403: our client certificate not trusted
	moNotFound                   // 404: unknown SIM
	moConflict                   // 409: repeated transaction id
	moThrottled                  // 429
	moServerError                // 5xx
	moBadResponse                // unexpected status or unparseable body
	moTimeout                    // no answer in time
	moTLS                        // TLS handshake or certificate verification failed
	moUnreachable                // connection failed
)

// moError is a failed MO Web API call.
type moError struct {
	kind       moKind
	status     int           // HTTP status from the MO, 0 without a response
	retryAfter time.Duration // for moThrottled; 0 when the MO gave none
	message    string        // sanitised MO error text (400 only is passed on)
	err        error
}

func (e *moError) Error() string {
	var b strings.Builder
	b.WriteString("MO API")
	if e.status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.status)
	}
	if e.message != "" {
		b.WriteString(": " + e.message)
	}
	if e.err != nil {
		b.WriteString(": " + e.err.Error())
	}
	return b.String()
}

func (e *moError) Unwrap() error { return e.err }

// moClient calls operators' MO Web APIs over mutual TLS.
type moClient struct {
	hc      *http.Client
	timeout time.Duration
	now     func() time.Time
	log     *slog.Logger
}

// newMOClient builds the mutual-TLS client. The configuration must carry a
// client certificate and must not disable server verification.
func newMOClient(tc *tls.Config, timeout time.Duration, now func() time.Time, log *slog.Logger) (*moClient, error) {
	if tc.InsecureSkipVerify {
		return nil, errors.New("discovery: MOClientTLS.InsecureSkipVerify is set; MO servers must be verified")
	}
	if len(tc.Certificates) == 0 && tc.GetClientCertificate == nil {
		return nil, errors.New("discovery: MOClientTLS has no client certificate for mutual TLS")
	}
	c := tc.Clone()
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       c,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}
	hc := &http.Client{
		Transport: tr,
		// The MO API is called at registered URLs only; a redirect is an
		// unexpected answer, not something to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &moClient{hc: hc, timeout: timeout, now: now, log: log}, nil
}

func (m *moClient) close() { m.hc.CloseIdleConnections() }

// newTransactionID returns a fresh id shaped like the documented example
// MSFT-12345678-1234-1234-1234-123456789abc (a random version 4 UUID).
func newTransactionID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("discovery: transaction id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("MSFT-%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// simURL joins a base and "sims/iccid:{ICCID}/{resource}".
func simURL(base, iccid, resource string, q url.Values) string {
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return base + "sims/iccid:" + iccid + "/" + resource + "?" + q.Encode()
}

// get performs one MO call and returns the body of a 200 answer, the
// transaction id used and a *moError for anything else.
func (m *moClient) get(ctx context.Context, opID, what, u, iccid string) ([]byte, string, error) {
	txid, err := newTransactionID()
	if err != nil {
		return nil, "", err
	}
	cctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, txid, &moError{kind: moBadResponse, err: fmt.Errorf("build request: %w", err)}
	}
	req.Header.Set(TransactionHeader, txid)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "mobileplans-discovery/1")
	start := time.Now()
	log := m.log.With("operator", opID, "call", what, "iccid", maskICCID(iccid), "transactionId", txid)
	resp, err := m.hc.Do(req)
	if err != nil {
		e := classifyTransportError(ctx, cctx, err)
		log.Warn("MO call failed", "error", err)
		return nil, txid, e
	}
	defer resp.Body.Close()
	log = log.With("status", resp.StatusCode, "elapsed", time.Since(start))
	if echo := resp.Header.Get(TransactionHeader); echo != "" && echo != txid {
		log.Warn("MO echoed another transaction id")
	}
	if resp.StatusCode == http.StatusOK {
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxMOBody+1))
		if err != nil {
			log.Warn("MO body read failed", "error", err)
			return nil, txid, classifyTransportError(ctx, cctx, err)
		}
		if len(body) > maxMOBody {
			return nil, txid, &moError{kind: moBadResponse, status: resp.StatusCode, err: errors.New("response body too large")}
		}
		log.Debug("MO call done")
		return body, txid, nil
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxMOErrorBody))
	msg := moMessage(raw)
	e := &moError{status: resp.StatusCode, message: msg}
	switch s := resp.StatusCode; {
	case s == http.StatusBadRequest:
		e.kind = moBadRequest
	case s == http.StatusUnauthorized:
		e.kind = moUnauthorized
	case s == http.StatusForbidden:
		e.kind = moForbidden
	case s == http.StatusNotFound:
		e.kind = moNotFound
	case s == http.StatusConflict:
		e.kind = moConflict
	case s == http.StatusTooManyRequests:
		e.kind = moThrottled
		e.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), m.now())
	case s >= 500 && s <= 599:
		e.kind = moServerError
	default:
		e.kind = moBadResponse
	}
	log.Warn("MO call refused", "message", msg)
	return nil, txid, e
}

// classifyTransportError tells a timeout (our deadline, not the caller's
// cancellation) from TLS failures and other connection errors.
func classifyTransportError(parent, call context.Context, err error) *moError {
	if parent.Err() == nil && (errors.Is(call.Err(), context.DeadlineExceeded) || isTimeout(err)) {
		return &moError{kind: moTimeout, err: err}
	}
	var (
		verr  *tls.CertificateVerificationError
		alert tls.AlertError
		rerr  tls.RecordHeaderError
		uerr  x509.UnknownAuthorityError
		herr  x509.HostnameError
		cerr  x509.CertificateInvalidError
	)
	if errors.As(err, &verr) || errors.As(err, &alert) || errors.As(err, &rerr) ||
		errors.As(err, &uerr) || errors.As(err, &herr) || errors.As(err, &cerr) || isRemoteTLSAlert(err) {
		return &moError{kind: moTLS, err: err}
	}
	return &moError{kind: moUnreachable, err: err}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isRemoteTLSAlert recognises alerts sent by the peer (e.g. a refused
// client certificate), which crypto/tls reports as a plain net.OpError
// around "remote error: tls: ...".
func isRemoteTLSAlert(err error) bool {
	return strings.Contains(err.Error(), "remote error: tls:")
}

// parseRetryAfter reads delay-seconds or an HTTP-date; unparseable or
// absent values give 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > math.MaxInt64/int64(time.Second) {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// moMessage extracts a short printable message from an MO error body: the
// "message" (or "error"/"error.message") of a JSON body, else the text.
func moMessage(raw []byte) string {
	var j struct {
		Message string          `json:"message"`
		Error   json.RawMessage `json:"error"`
	}
	s := string(raw)
	if json.Unmarshal(raw, &j) == nil {
		switch {
		case j.Message != "":
			s = j.Message
		case len(j.Error) > 0:
			var str string
			var obj struct {
				Message string `json:"message"`
			}
			if json.Unmarshal(j.Error, &str) == nil {
				s = str
			} else if json.Unmarshal(j.Error, &obj) == nil && obj.Message != "" {
				s = obj.Message
			}
		}
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, strings.ToValidUTF8(s, ""))
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxMOMessage {
		s = string(r[:maxMOMessage]) + "…"
	}
	return s
}

// BalanceType is the balance type of GetBalance (mobile-plans.md 4.2).
type BalanceType string

// Balance types.
const (
	// BalanceMODirect: postpaid / MO Direct; the flyout shows "View my
	// account" and no balance.
	BalanceMODirect BalanceType = "MODIRECT"
	// BalanceMODirectPAYG: prepaid; the flyout shows the balance.
	BalanceMODirectPAYG BalanceType = "MODIRECTPAYG"
	// BalanceNone: no balance (also zero but not expired); the flyout
	// offers "Connect with a data plan".
	BalanceNone BalanceType = "NONE"
	// BalanceNotSupported: SIM in range but excluded from Mobile Plans.
	BalanceNotSupported BalanceType = "NOTSUPPORTED"
)

// moBalance is one entry of a GetBalance answer.
type moBalance struct {
	ID            string
	Type          BalanceType
	DataMB        *float64
	TimeRemaining string
	Duration      *time.Duration
}

// parseBalanceResponse decodes {"balances":[...]} of GetBalance, accepting
// both dataRemainingInMB and dataRemaininginMB (the docs use both) and
// parsing timeRemaining as an ISO 8601 duration counted from now.
func parseBalanceResponse(b []byte, now time.Time) ([]moBalance, error) {
	var doc struct {
		Balances *[]struct {
			ID      json.RawMessage `json:"id"`
			Type    string          `json:"type"`
			DataIn  *float64        `json:"dataRemainingInMB"`
			Datain  *float64        `json:"dataRemaininginMB"`
			TimeRem *string         `json:"timeRemaining"`
		} `json:"balances"`
	}
	if err := decodeOne(b, &doc); err != nil {
		return nil, fmt.Errorf("balance response: %w", err)
	}
	if doc.Balances == nil {
		return nil, errors.New("balance response: no balances array")
	}
	out := make([]moBalance, 0, len(*doc.Balances))
	for i, e := range *doc.Balances {
		bal := moBalance{Type: BalanceType(strings.ToUpper(strings.TrimSpace(e.Type)))}
		switch bal.Type {
		case BalanceMODirect, BalanceMODirectPAYG, BalanceNone, BalanceNotSupported:
		default:
			return nil, fmt.Errorf("balance response: balances[%d].type %q is not MODIRECT, MODIRECTPAYG, NONE or NOTSUPPORTED", i, e.Type)
		}
		id, err := templateID(e.ID)
		if err != nil {
			return nil, fmt.Errorf("balance response: balances[%d].%w", i, err)
		}
		bal.ID = id
		bal.DataMB = e.DataIn
		if bal.DataMB == nil {
			bal.DataMB = e.Datain
		}
		if bal.DataMB != nil && (*bal.DataMB < 0 || math.IsInf(*bal.DataMB, 0) || math.IsNaN(*bal.DataMB)) {
			return nil, fmt.Errorf("balance response: balances[%d].dataRemainingInMB %v is negative", i, *bal.DataMB)
		}
		if e.TimeRem != nil {
			d, err := parseISODuration(*e.TimeRem, now)
			if err != nil {
				return nil, fmt.Errorf("balance response: balances[%d].timeRemaining: %w", i, err)
			}
			bal.TimeRemaining, bal.Duration = *e.TimeRem, &d
		}
		out = append(out, bal)
	}
	return out, nil
}

// parseOffersResponse decodes {"offers":[{"gatewayId":"0"}]} of GetOffers
// and returns the first gateway id ("" when the list is empty). Ids given
// as JSON numbers are accepted.
func parseOffersResponse(b []byte) (string, error) {
	var doc struct {
		Offers *[]struct {
			GatewayID json.RawMessage `json:"gatewayId"`
		} `json:"offers"`
	}
	if err := decodeOne(b, &doc); err != nil {
		return "", fmt.Errorf("offers response: %w", err)
	}
	if doc.Offers == nil {
		return "", errors.New("offers response: no offers array")
	}
	if len(*doc.Offers) == 0 {
		return "", nil
	}
	id, err := templateID((*doc.Offers)[0].GatewayID)
	if err != nil {
		return "", fmt.Errorf("offers response: offers[0].gatewayId: %w", err)
	}
	if id == "" {
		return "", errors.New("offers response: offers[0] has no gatewayId")
	}
	return id, nil
}

// getBalance calls GetBalance for iccid; location is an upper-case ISO-2
// code or "" (all balances).
func (m *moClient) getBalance(ctx context.Context, op *Operator, iccid, location string) (moBalance, string, error) {
	q := url.Values{"fieldsTemplate": {"basic"}, "limit": {"1"}}
	if location != "" {
		q.Set("location", location)
	}
	body, txid, err := m.get(ctx, op.ID, "GetBalance", simURL(op.MOBaseURL, iccid, "balances", q), iccid)
	if err != nil {
		return moBalance{}, txid, err
	}
	bals, err := parseBalanceResponse(body, m.now())
	if err != nil {
		m.log.Warn("MO GetBalance answer unusable", "operator", op.ID, "transactionId", txid, "error", err)
		return moBalance{}, txid, &moError{kind: moBadResponse, status: http.StatusOK, err: err}
	}
	if len(bals) == 0 {
		// No active balance at all.
		return moBalance{Type: BalanceNone}, txid, nil
	}
	return bals[0], txid, nil
}

// getOffers calls GetOffers for iccid and returns the chosen gateway id.
func (m *moClient) getOffers(ctx context.Context, op *Operator, iccid, imei string) (string, error) {
	q := url.Values{"limit": {"1"}}
	if imei != "" {
		q.Set("imei", imei)
	}
	body, txid, err := m.get(ctx, op.ID, "GetOffers", simURL(op.OffersURI, iccid, "offers", q), iccid)
	if err != nil {
		return "", err
	}
	id, err := parseOffersResponse(body)
	if err != nil {
		m.log.Warn("MO GetOffers answer unusable", "operator", op.ID, "transactionId", txid, "error", err)
		return "", &moError{kind: moBadResponse, status: http.StatusOK, err: err}
	}
	return id, nil
}
