package smdp

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/pki"
)

// ES2Client calls the ES2+ functions of an SM-DP+ (the operator side).
// Authenticate with a client certificate in the http.Client's transport
// (see IssueOperatorCertificate) or with a bearer token.
type ES2Client struct {
	base  string
	hc    *http.Client
	token string
}

// NewES2Client returns a client for the SM-DP+ at baseURL (e.g.
// "https://smdp.example:8443"). hc nil means http.DefaultClient; token, when
// not empty, is sent as "Authorization: Bearer <token>".
func NewES2Client(baseURL string, hc *http.Client, token string) *ES2Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &ES2Client{base: strings.TrimRight(baseURL, "/"), hc: hc, token: token}
}

// HTTPError is an ES2+ answer with an HTTP status other than 200.
type HTTPError struct {
	Function   string
	StatusCode int
	// Header is the function execution status when the body carried one
	// (401 answers do).
	Header *es9.ResponseHeader
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s: HTTP %d %s", e.Function, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Header != nil {
		if err := e.Header.Err(e.Function); err != nil {
			msg += ": " + err.Error()
		}
	}
	return msg
}

// call posts req as JSON to path and decodes the answer into resp, whose
// header is checked: a failed function returns its *es9.Error.
func (c *ES2Client) call(ctx context.Context, function, path string, req any, resp interface{ header() es9.ResponseHeader }) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("%s: encode request: %w", function, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", function, err)
	}
	hr.Header.Set("Content-Type", es9.ContentType)
	hr.Header.Set(es9.HeaderAdminProtocol, es9.AdminProtocol)
	if c.token != "" {
		hr.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.hc.Do(hr)
	if err != nil {
		return fmt.Errorf("%s: %w", function, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		he := &HTTPError{Function: function, StatusCode: res.StatusCode}
		if h, err := es9.Decode[headerOnly](res.Body, 0); err == nil && h.Header.FunctionExecutionStatus.Status != "" {
			he.Header = &h.Header
		}
		return he
	}
	v, err := es9.Decode[json.RawMessage](res.Body, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", function, err)
	}
	if err := json.Unmarshal(v, resp); err != nil {
		return fmt.Errorf("%s: %w: %w", function, es9.ErrMalformed, err)
	}
	return resp.header().Err(function)
}

func (r *DownloadOrderResponse) header() es9.ResponseHeader  { return r.Header }
func (r *ConfirmOrderResponse) header() es9.ResponseHeader   { return r.Header }
func (r *CancelOrderResponse) header() es9.ResponseHeader    { return r.Header }
func (r *ReleaseProfileResponse) header() es9.ResponseHeader { return r.Header }

// DownloadOrder calls ES2+.DownloadOrder.
func (c *ES2Client) DownloadOrder(ctx context.Context, req DownloadOrderRequest) (DownloadOrderResponse, error) {
	var resp DownloadOrderResponse
	err := c.call(ctx, FuncDownloadOrder, PathDownloadOrder, req, &resp)
	return resp, err
}

// ConfirmOrder calls ES2+.ConfirmOrder.
func (c *ES2Client) ConfirmOrder(ctx context.Context, req ConfirmOrderRequest) (ConfirmOrderResponse, error) {
	var resp ConfirmOrderResponse
	err := c.call(ctx, FuncConfirmOrder, PathConfirmOrder, req, &resp)
	return resp, err
}

// CancelOrder calls ES2+.CancelOrder.
func (c *ES2Client) CancelOrder(ctx context.Context, req CancelOrderRequest) (CancelOrderResponse, error) {
	var resp CancelOrderResponse
	err := c.call(ctx, FuncCancelOrder, PathCancelOrder, req, &resp)
	return resp, err
}

// ReleaseProfile calls ES2+.ReleaseProfile.
func (c *ES2Client) ReleaseProfile(ctx context.Context, req ReleaseProfileRequest) (ReleaseProfileResponse, error) {
	var resp ReleaseProfileResponse
	err := c.call(ctx, FuncReleaseProfile, PathReleaseProfile, req, &resp)
	return resp, err
}

// operatorCertValidity is the lifetime of an operator client certificate.
const operatorCertValidity = 2 * 365 * 24 * time.Hour

// IssueOperatorCertificate issues an ES2+ client certificate for an
// operator, signed by the CI of p (which Config.OperatorCAs trusts by
// default): a fresh P-256 key, subject CN=commonName, key usage
// digitalSignature, extended key usage clientAuth, valid from an hour before
// now for two years (never beyond the CI). The CI key must be loaded
// (pki.ErrNoKey otherwise).
func IssueOperatorCertificate(p *pki.PKI, commonName string, now time.Time) (tls.Certificate, error) {
	if p == nil || p.CI == nil || p.CI.Key == nil {
		return tls.Certificate{}, fmt.Errorf("smdp: issue operator certificate: %w: CI", pki.ErrNoKey)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("smdp: operator key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("smdp: operator certificate serial: %w", err)
	}
	notAfter := now.Add(operatorCertValidity)
	if notAfter.After(p.CI.Cert.NotAfter) {
		notAfter = p.CI.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName, Organization: []string{"mobileplans ES2+ operator"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.CI.Cert, &key.PublicKey, p.CI.Key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("smdp: issue operator certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("smdp: parse operator certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
