package lpa

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mobileplans/mobileplans/esim/es9"
)

// ES9+ client limits.
const (
	// DefaultES9Timeout bounds one ES9+ request when ES9Options.Timeout is 0.
	DefaultES9Timeout = 60 * time.Second
	// MaxES9Response bounds the JSON body of an ES9+ response. A bound
	// profile package of a large profile (hundreds of KB) fits with room.
	MaxES9Response = 8 << 20
	// errorBodySnippet is how much of a non-2xx body an error quotes.
	errorBodySnippet = 256
)

// ES9Options configure an ES9Client.
type ES9Options struct {
	// RootCAs verify the SM-DP+'s TLS certificate. SM-DP+ TLS certificates
	// chain to the GSMA CI (or a test CI), not to the Web PKI, so build the
	// pool with TrustPool from the system roots plus the CI certificates
	// to trust. Nil means the system roots only.
	RootCAs *x509.CertPool
	// Timeout bounds each request; 0 means DefaultES9Timeout.
	Timeout time.Duration
	// HTTPClient replaces the client built from RootCAs (tests). Its
	// transport must verify TLS certificates.
	HTTPClient *http.Client
	// Logger receives one Debug line per request (function, host, status,
	// sizes, duration; never bodies). Nil discards.
	Logger *slog.Logger
}

// ES9Client calls the ES9+ functions of SM-DP+ servers over HTTPS
// (sgp22.md 3). It is safe for concurrent use.
type ES9Client struct {
	http    *http.Client
	timeout time.Duration
	log     *slog.Logger
}

// TrustPool returns the system certificate pool with extra added: the
// RootCAs for an ES9Client that must reach servers under the GSMA CI or a
// test CI as well as ordinary Web PKI hosts.
func TrustPool(extra ...*x509.Certificate) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		return nil, fmt.Errorf("lpa: system certificate pool: %w", err)
	}
	for i, c := range extra {
		if c == nil {
			return nil, fmt.Errorf("lpa: trust pool: certificate %d is nil", i)
		}
		pool.AddCert(c)
	}
	return pool, nil
}

// ErrInsecureTLS is returned by NewES9Client for an HTTPClient whose
// transport skips TLS certificate verification.
var ErrInsecureTLS = errors.New("lpa: ES9+ client refuses to skip TLS certificate verification")

// NewES9Client returns an ES9+ client. TLS certificates are always
// verified: an ES9Options.HTTPClient with InsecureSkipVerify is refused.
func NewES9Client(opts ES9Options) (*ES9Client, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultES9Timeout
	}
	hc := opts.HTTPClient
	if hc != nil {
		if tr, ok := hc.Transport.(*http.Transport); ok && tr.TLSClientConfig != nil && tr.TLSClientConfig.InsecureSkipVerify {
			return nil, ErrInsecureTLS
		}
	}
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12}
		hc = &http.Client{Transport: tr}
	}
	return &ES9Client{http: hc, timeout: timeout, log: log}, nil
}

// TransportError is an ES9+ request that produced no function result: the
// connection or TLS handshake failed, the server answered with a non-2xx
// status, or the body was not a valid response. A function result with
// status Failed or Expired is an *es9.Error instead.
type TransportError struct {
	Function   string // ES9+ function, e.g. "initiateAuthentication"
	Host       string // SM-DP+ address
	StatusCode int    // HTTP status; 0 when there was no HTTP response
	Err        error
}

func (e *TransportError) Error() string {
	s := fmt.Sprintf("ES9+ %s at %s: ", e.Function, e.Host)
	if e.StatusCode != 0 && !errors.Is(e.Err, ErrBadStatus) {
		s += fmt.Sprintf("HTTP %d: ", e.StatusCode)
	}
	s += e.Err.Error()
	var ua x509.UnknownAuthorityError
	if errors.As(e.Err, &ua) {
		s += " (SM-DP+ TLS certificates chain to the GSMA CI or a test CI, not to the Web PKI: add that CI with TrustPool)"
	}
	return s
}

// Unwrap returns the cause (a net/url or context error, ErrBadStatus, or a
// JSON decoding error).
func (e *TransportError) Unwrap() error { return e.Err }

// ErrBadStatus is wrapped by a TransportError for a non-2xx HTTP status.
var ErrBadStatus = errors.New("unexpected HTTP status")

// ErrResponseTooLarge is wrapped by a TransportError for a response body
// over MaxES9Response bytes.
var ErrResponseTooLarge = errors.New("response too large")

// ErrBadAddress is returned for an SM-DP+ or notification address that is
// not host[:port].
var ErrBadAddress = errors.New("lpa: invalid server address")

// InitiateAuthentication calls ES9+.InitiateAuthentication.
func (c *ES9Client) InitiateAuthentication(ctx context.Context, address string, req es9.InitiateAuthenticationRequest) (es9.InitiateAuthenticationResponse, error) {
	const fn = "initiateAuthentication"
	resp, err := post[es9.InitiateAuthenticationResponse](ctx, c, address, fn, es9.PathInitiateAuthentication, req, false)
	if err != nil {
		return resp, err
	}
	return resp, resp.Header.Err(fn)
}

// AuthenticateClient calls ES9+.AuthenticateClient.
func (c *ES9Client) AuthenticateClient(ctx context.Context, address string, req es9.AuthenticateClientRequest) (es9.AuthenticateClientResponse, error) {
	const fn = "authenticateClient"
	resp, err := post[es9.AuthenticateClientResponse](ctx, c, address, fn, es9.PathAuthenticateClient, req, false)
	if err != nil {
		return resp, err
	}
	return resp, resp.Header.Err(fn)
}

// GetBoundProfilePackage calls ES9+.GetBoundProfilePackage.
func (c *ES9Client) GetBoundProfilePackage(ctx context.Context, address string, req es9.GetBoundProfilePackageRequest) (es9.GetBoundProfilePackageResponse, error) {
	const fn = "getBoundProfilePackage"
	resp, err := post[es9.GetBoundProfilePackageResponse](ctx, c, address, fn, es9.PathGetBoundProfilePackage, req, false)
	if err != nil {
		return resp, err
	}
	return resp, resp.Header.Err(fn)
}

// HandleNotification calls ES9+.HandleNotification. The server normally
// answers 204 without a body; a 2xx answer whose JSON header reports
// Failed or Expired is returned as *es9.Error, any other 2xx is success.
func (c *ES9Client) HandleNotification(ctx context.Context, address string, req es9.HandleNotificationRequest) error {
	const fn = "handleNotification"
	resp, err := post[notificationAnswer](ctx, c, address, fn, es9.PathHandleNotification, req, true)
	if err != nil || resp.Header == nil {
		return err
	}
	return resp.Header.Err(fn)
}

// notificationAnswer is the optional body of a handleNotification answer.
type notificationAnswer struct {
	Header *es9.ResponseHeader `json:"header"`
}

// CancelSession calls ES9+.CancelSession.
func (c *ES9Client) CancelSession(ctx context.Context, address string, req es9.CancelSessionRequest) error {
	const fn = "cancelSession"
	resp, err := post[es9.CancelSessionResponse](ctx, c, address, fn, es9.PathCancelSession, req, false)
	if err != nil {
		return err
	}
	return resp.Header.Err(fn)
}

// endpoint returns https://address/path after checking that address is
// host[:port] (an "https://" prefix and surrounding spaces are tolerated).
func endpoint(address, path string) (string, string, error) {
	a := strings.TrimSpace(address)
	if len(a) >= len("https://") && strings.EqualFold(a[:len("https://")], "https://") {
		a = strings.TrimSuffix(a[len("https://"):], "/")
	}
	if err := checkSMDPAddress(a); err != nil || a == "" {
		if err == nil {
			err = errors.New("empty")
		}
		return "", "", fmt.Errorf("%w %q: %v", ErrBadAddress, truncate(address, 64), err)
	}
	u := url.URL{Scheme: "https", Host: a, Path: path}
	return u.String(), a, nil
}

// post sends req as JSON to the function's path on address and decodes a
// 2xx answer as T (at most MaxES9Response bytes). With lenient an empty or
// undecodable 2xx body is accepted and yields the zero T.
func post[T any](ctx context.Context, c *ES9Client, address, function, path string, req any, lenient bool) (T, error) {
	var zero T
	u, host, err := endpoint(address, path)
	if err != nil {
		return zero, fmt.Errorf("ES9+ %s: %w", function, err)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return zero, fmt.Errorf("ES9+ %s: encode request: %w", function, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	start := time.Now()
	fail := func(status int, err error) (T, error) {
		c.log.DebugContext(ctx, "es9 failed", "function", function, "host", host, "status", status,
			"duration", time.Since(start), "error", err)
		return zero, &TransportError{Function: function, Host: host, StatusCode: status, Err: err}
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return fail(0, err)
	}
	hr.Header.Set("User-Agent", es9.UserAgent)
	hr.Header.Set(es9.HeaderAdminProtocol, es9.AdminProtocol)
	hr.Header.Set("Content-Type", es9.ContentType)
	hr.Header.Set("Accept", "application/json")
	r, err := c.http.Do(hr)
	if err != nil {
		return fail(0, err)
	}
	defer r.Body.Close()
	if r.StatusCode < 200 || r.StatusCode > 299 {
		snippet, _ := io.ReadAll(io.LimitReader(r.Body, errorBodySnippet))
		msg := strings.TrimSpace(strings.ToValidUTF8(string(snippet), "?"))
		if msg != "" {
			msg = ": " + msg
		}
		return fail(r.StatusCode, fmt.Errorf("%w %s%s", ErrBadStatus, r.Status, msg))
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, MaxES9Response+1))
	if err != nil {
		return fail(r.StatusCode, fmt.Errorf("read body: %w", err))
	}
	if len(raw) > MaxES9Response {
		return fail(r.StatusCode, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, MaxES9Response))
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		if !lenient {
			return fail(r.StatusCode, errors.New("empty response body"))
		}
		c.log.DebugContext(ctx, "es9", "function", function, "host", host, "status", r.StatusCode,
			"request_bytes", len(body), "response_bytes", 0, "duration", time.Since(start))
		return zero, nil
	}
	v, err := es9.Decode[T](bytes.NewReader(raw), MaxES9Response)
	if err != nil {
		if lenient {
			c.log.DebugContext(ctx, "es9: ignoring an undecodable 2xx body", "function", function, "host", host, "error", err)
			return zero, nil
		}
		return fail(r.StatusCode, fmt.Errorf("decode response: %w", err))
	}
	c.log.DebugContext(ctx, "es9", "function", function, "host", host, "status", r.StatusCode,
		"request_bytes", len(body), "response_bytes", len(raw), "duration", time.Since(start))
	return v, nil
}
