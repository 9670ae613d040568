package operator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"unicode"
)

// OrderPlacer orders eSIM profiles for the portal. NewES2Client returns the
// implementation that talks ES2+ to an SM-DP+.
type OrderPlacer interface {
	// Order reserves a profile (bound to req.EID when not empty) and
	// releases it for download, returning its activation code.
	Order(ctx context.Context, req OrderRequest) (Order, error)
	// Cancel withdraws the order of profile iccid, making the profile
	// available again.
	Cancel(ctx context.Context, iccid string) error
}

// OrderRequest asks for one profile.
type OrderRequest struct {
	// EID binds the order to one eUICC; empty orders an unbound profile.
	EID string
	// PlanID is the portal plan the profile is for (see Plans).
	PlanID string
}

// Order is a released profile order.
type Order struct {
	ICCID       string
	MatchingID  string
	SMDPAddress string
	// ActivationCode is "1$<SMDPAddress>$<MatchingID>" (mobile-plans.md
	// 3.4: no "LPA:" prefix, no confirmation code).
	ActivationCode string
}

// ES2+ function paths on the SM-DP+ (SGP.22, HTTPS POST).
const (
	es2DownloadOrder = "/gsma/rsp2/es2plus/downloadOrder"
	es2ConfirmOrder  = "/gsma/rsp2/es2plus/confirmOrder"
	es2CancelOrder   = "/gsma/rsp2/es2plus/cancelOrder"
)

// ES2+ header values.
const (
	es2ContentType   = "application/json;charset=UTF-8"
	es2AdminProtocol = "gsma/rsp/v2.2.2"
	es2StatusSuccess = "Executed-Success"
	es2StatusWarning = "Executed-WithWarning"
	es2MaxBody       = 1 << 20
	es2MaxErrorText  = 200
)

// ActivationCode returns the activation code of mobile-plans.md 3.4 for an
// SM-DP+ address and matching ID: "1$<address>$<matchingID>".
func ActivationCode(smdpAddress, matchingID string) string {
	return "1$" + smdpAddress + "$" + matchingID
}

// ES2Error is a failed ES2+ call: the SM-DP+ answered with a Failed (or
// other unsuccessful) function execution status, or with an HTTP status
// other than 200.
type ES2Error struct {
	// Function is the ES2+ function, e.g. "downloadOrder".
	Function string
	// HTTPStatus is the HTTP status of the answer.
	HTTPStatus int
	// Status is header.functionExecutionStatus.status ("Failed"), empty
	// when the body carried no header.
	Status string
	// SubjectCode, ReasonCode and Message are the statusCodeData.
	SubjectCode, ReasonCode, Message string
}

func (e *ES2Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ES2+ %s", e.Function)
	if e.HTTPStatus != http.StatusOK {
		fmt.Fprintf(&b, ": HTTP %d", e.HTTPStatus)
	}
	if e.Status != "" {
		fmt.Fprintf(&b, ": %s", e.Status)
	}
	if e.SubjectCode != "" || e.ReasonCode != "" {
		fmt.Fprintf(&b, " (subject %s, reason %s)", e.SubjectCode, e.ReasonCode)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNoProfileAvailable) true for SGP.22 status
// 8.2.5/4.3 (no available profile of the requested type) and
// errors.Is(err, ErrES2Unauthorized) true for HTTP 401 and 403.
func (e *ES2Error) Is(target error) bool {
	switch target {
	case ErrNoProfileAvailable:
		return e.SubjectCode == "8.2.5" && e.ReasonCode == "4.3"
	case ErrES2Unauthorized:
		return e.HTTPStatus == http.StatusUnauthorized || e.HTTPStatus == http.StatusForbidden
	}
	return false
}

// Errors of ES2+ calls to test with errors.Is.
var (
	// ErrNoProfileAvailable: the SM-DP+ has no profile left to order.
	ErrNoProfileAvailable = errors.New("operator: the SM-DP+ has no profile available")
	// ErrES2Unauthorized: the SM-DP+ refused our credentials.
	ErrES2Unauthorized = errors.New("operator: the SM-DP+ refused the operator credentials")
)

// ES2Option configures an ES2Client.
type ES2Option func(*ES2Client)

// ES2BearerToken authenticates with "Authorization: Bearer <token>" (the
// SM-DP+'s OperatorToken). Mutual TLS needs no option: put the client
// certificate into the http.Client's transport.
func ES2BearerToken(token string) ES2Option {
	return func(c *ES2Client) { c.token = token }
}

// ES2RequesterID sets header.functionRequesterIdentifier (default
// "contoso-cellular").
func ES2RequesterID(id string) ES2Option {
	return func(c *ES2Client) { c.requester = id }
}

// ES2ProfileType makes orders for plan planID ask for profileType; plans
// without one leave the choice to the SM-DP+.
func ES2ProfileType(planID, profileType string) ES2Option {
	return func(c *ES2Client) { c.profileTypes[planID] = profileType }
}

// ES2Logger sets the logger (default: discard).
func ES2Logger(l *slog.Logger) ES2Option {
	return func(c *ES2Client) {
		if l != nil {
			c.log = l
		}
	}
}

// ES2Client is the OrderPlacer that speaks SGP.22 ES2+ JSON over HTTPS to
// an SM-DP+. It is safe for concurrent use.
type ES2Client struct {
	base         string
	hc           *http.Client
	token        string
	requester    string
	profileTypes map[string]string
	log          *slog.Logger
}

var _ OrderPlacer = (*ES2Client)(nil)

// NewES2Client returns a client for the SM-DP+ at baseURL (https://host[:port],
// optionally with a path prefix). hc carries the TLS configuration (trust
// for the SM-DP+ certificate, and the operator's client certificate for
// mutual TLS); nil means http.DefaultClient.
func NewES2Client(baseURL string, hc *http.Client, opts ...ES2Option) (*ES2Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("operator: ES2+ base URL: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("operator: ES2+ base URL %q is not http(s)://host[:port][/path]", baseURL)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	c := &ES2Client{
		base:         strings.TrimRight(baseURL, "/"),
		hc:           hc,
		requester:    "contoso-cellular",
		profileTypes: map[string]string{},
		log:          slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// es2Header is the request header of every ES2+ call.
type es2Header struct {
	FunctionRequesterIdentifier string `json:"functionRequesterIdentifier"`
	FunctionCallIdentifier      string `json:"functionCallIdentifier"`
}

type es2DownloadOrderRequest struct {
	Header      es2Header `json:"header"`
	EID         string    `json:"eid,omitempty"`
	ICCID       string    `json:"iccid,omitempty"`
	ProfileType string    `json:"profileType,omitempty"`
}

type es2ConfirmOrderRequest struct {
	Header           es2Header `json:"header"`
	ICCID            string    `json:"iccid"`
	EID              string    `json:"eid,omitempty"`
	MatchingID       string    `json:"matchingId,omitempty"`
	ConfirmationCode string    `json:"confirmationCode,omitempty"`
	ReleaseFlag      bool      `json:"releaseFlag"`
}

type es2CancelOrderRequest struct {
	Header                      es2Header `json:"header"`
	ICCID                       string    `json:"iccid"`
	EID                         string    `json:"eid,omitempty"`
	MatchingID                  string    `json:"matchingId,omitempty"`
	FinalProfileStatusIndicator string    `json:"finalProfileStatusIndicator"`
}

// es2ResponseHeader is header of every ES2+ answer.
type es2ResponseHeader struct {
	FunctionExecutionStatus struct {
		Status         string `json:"status"`
		StatusCodeData *struct {
			SubjectCode string `json:"subjectCode"`
			ReasonCode  string `json:"reasonCode"`
			Message     string `json:"message"`
		} `json:"statusCodeData"`
	} `json:"functionExecutionStatus"`
}

type es2DownloadOrderResponse struct {
	Header *es2ResponseHeader `json:"header"`
	ICCID  string             `json:"iccid"`
}

type es2ConfirmOrderResponse struct {
	Header      *es2ResponseHeader `json:"header"`
	EID         string             `json:"eid"`
	MatchingID  string             `json:"matchingId"`
	SMDPAddress string             `json:"smdpAddress"`
}

type es2HeaderOnly struct {
	Header *es2ResponseHeader `json:"header"`
}

// Order runs downloadOrder (with the EID when given, and the plan's
// profile type when configured) and confirmOrder with releaseFlag true; the
// SM-DP+ generates the matching ID. When confirmOrder fails the reserved
// profile is handed back with cancelOrder (Available).
func (c *ES2Client) Order(ctx context.Context, req OrderRequest) (Order, error) {
	var dr es2DownloadOrderResponse
	err := c.call(ctx, "downloadOrder", es2DownloadOrder, es2DownloadOrderRequest{
		Header:      c.header(),
		EID:         req.EID,
		ProfileType: c.profileTypes[req.PlanID],
	}, &dr, func() *es2ResponseHeader { return dr.Header })
	if err != nil {
		return Order{}, err
	}
	if dr.ICCID == "" {
		return Order{}, &ES2Error{Function: "downloadOrder", HTTPStatus: http.StatusOK, Message: "success without an iccid"}
	}
	var cr es2ConfirmOrderResponse
	err = c.call(ctx, "confirmOrder", es2ConfirmOrder, es2ConfirmOrderRequest{
		Header:      c.header(),
		ICCID:       dr.ICCID,
		EID:         req.EID,
		ReleaseFlag: true,
	}, &cr, func() *es2ResponseHeader { return cr.Header })
	if err == nil && (cr.MatchingID == "" || cr.SMDPAddress == "" || strings.Contains(cr.SMDPAddress, "$") ||
		strings.Contains(cr.MatchingID, "$")) {
		err = &ES2Error{Function: "confirmOrder", HTTPStatus: http.StatusOK,
			Message: "success without a usable matchingId and smdpAddress"}
	}
	if err != nil {
		// Hand the reservation back; the caller's context may be done, the
		// cleanup still deserves its own short chance.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), es2CleanupTimeout)
		defer cancel()
		if cerr := c.Cancel(cctx, dr.ICCID); cerr != nil {
			c.log.Warn("ES2+ cancelOrder after a failed confirmOrder failed", "iccid", maskICCID(dr.ICCID), "err", cerr)
		}
		return Order{}, err
	}
	o := Order{
		ICCID:          dr.ICCID,
		MatchingID:     cr.MatchingID,
		SMDPAddress:    cr.SMDPAddress,
		ActivationCode: ActivationCode(cr.SMDPAddress, cr.MatchingID),
	}
	c.log.Info("ES2+ order released", "iccid", maskICCID(o.ICCID), "matchingId", maskSecret(o.MatchingID),
		"smdp", o.SMDPAddress, "eid", maskEID(req.EID), "plan", req.PlanID)
	return o, nil
}

// Cancel runs cancelOrder for iccid with finalProfileStatusIndicator
// "Available".
func (c *ES2Client) Cancel(ctx context.Context, iccid string) error {
	var r es2HeaderOnly
	err := c.call(ctx, "cancelOrder", es2CancelOrder, es2CancelOrderRequest{
		Header:                      c.header(),
		ICCID:                       iccid,
		FinalProfileStatusIndicator: "Available",
	}, &r, func() *es2ResponseHeader { return r.Header })
	if err == nil {
		c.log.Info("ES2+ order cancelled", "iccid", maskICCID(iccid))
	}
	return err
}

func (c *ES2Client) header() es2Header {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail
	return es2Header{FunctionRequesterIdentifier: c.requester, FunctionCallIdentifier: hex.EncodeToString(b[:])}
}

// call POSTs body to path and decodes a 200 answer into out; hdr returns
// the decoded header. Non-200 answers and unsuccessful headers are
// *ES2Error; transport failures are wrapped as they come.
func (c *ES2Client) call(ctx context.Context, function, path string, body, out any, hdr func() *es2ResponseHeader) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("operator: ES2+ %s: encode: %w", function, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("operator: ES2+ %s: %w", function, err)
	}
	req.Header.Set("Content-Type", es2ContentType)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Admin-Protocol", es2AdminProtocol)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("operator: ES2+ %s: %w", function, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, es2MaxBody+1))
	if err != nil {
		return fmt.Errorf("operator: ES2+ %s: read answer: %w", function, err)
	}
	if len(raw) > es2MaxBody {
		return &ES2Error{Function: function, HTTPStatus: resp.StatusCode, Message: "answer too large"}
	}
	decErr := json.Unmarshal(raw, out)
	h := hdr()
	if resp.StatusCode != http.StatusOK {
		e := &ES2Error{Function: function, HTTPStatus: resp.StatusCode}
		if decErr == nil && h != nil {
			fillStatus(e, h)
		} else {
			e.Message = shortText(raw)
		}
		return e
	}
	if decErr != nil {
		return &ES2Error{Function: function, HTTPStatus: resp.StatusCode, Message: "malformed JSON answer: " + decErr.Error()}
	}
	if h == nil {
		return &ES2Error{Function: function, HTTPStatus: resp.StatusCode, Message: "answer without header"}
	}
	switch h.FunctionExecutionStatus.Status {
	case es2StatusSuccess, es2StatusWarning:
		return nil
	}
	e := &ES2Error{Function: function, HTTPStatus: resp.StatusCode}
	fillStatus(e, h)
	return e
}

func fillStatus(e *ES2Error, h *es2ResponseHeader) {
	st := h.FunctionExecutionStatus
	e.Status = shortText([]byte(st.Status))
	if d := st.StatusCodeData; d != nil {
		e.SubjectCode, e.ReasonCode, e.Message = shortText([]byte(d.SubjectCode)), shortText([]byte(d.ReasonCode)),
			shortText([]byte(d.Message))
	}
}

// shortText makes a peer's text safe for errors and logs: valid UTF-8,
// printable, single spaces, at most es2MaxErrorText runes.
func shortText(raw []byte) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, strings.ToValidUTF8(string(raw), ""))
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > es2MaxErrorText {
		s = string(r[:es2MaxErrorText]) + "…"
	}
	return s
}
