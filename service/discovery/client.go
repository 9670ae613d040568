package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client is a typed client of the service's HTTP API, for the device-side
// app. Failed calls return an *APIError when the service answered, other
// errors for transport failures.
type Client struct {
	base string // without trailing slash
	err  error  // a bad base URL, reported by every call
	hc   *http.Client
}

// Limits of answers read by the Client.
const (
	maxClientBody = 1 << 20
	maxLogoBody   = maxLogoBytes + 1
)

// NewClient returns a client of the service at baseURL (http or https,
// e.g. "https://127.0.0.1:8443"); hc nil means http.DefaultClient.
func NewClient(baseURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := &Client{base: strings.TrimRight(baseURL, "/"), hc: hc}
	u, err := url.Parse(c.base)
	switch {
	case err != nil:
		c.err = fmt.Errorf("discovery: base URL: %w", err)
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		c.err = fmt.Errorf("discovery: base URL %q is not an absolute http(s) URL", baseURL)
	case u.RawQuery != "" || u.Fragment != "":
		c.err = fmt.Errorf("discovery: base URL %q must not have a query or fragment", baseURL)
	}
	return c
}

// Operators lists the operators for a device.
func (c *Client) Operators(ctx context.Context, q Query) (*OperatorList, error) {
	var out OperatorList
	return &out, c.getJSON(ctx, "/v1/operators", q.Values(), &out)
}

// Operator returns one operator with its gateway templates.
func (c *Client) Operator(ctx context.Context, id string) (*OperatorDetail, error) {
	var out OperatorDetail
	return &out, c.getJSON(ctx, "/v1/operators/"+url.PathEscape(id), nil, &out)
}

// Gateway returns the gateway template to show; iccid is the device's
// active profile (may be empty), imei is forwarded to GetOffers.
func (c *Client) Gateway(ctx context.Context, id, iccid, imei string) (*GatewaySelection, error) {
	var out GatewaySelection
	return &out, c.getJSON(ctx, "/v1/operators/"+url.PathEscape(id)+"/gateway", params("iccid", iccid, "imei", imei), &out)
}

// APN returns the connection settings for the serving network and ICCID
// (either may be empty).
func (c *Client) APN(ctx context.Context, id, mccmnc, iccid string) (*APNResult, error) {
	var out APNResult
	return &out, c.getJSON(ctx, "/v1/operators/"+url.PathEscape(id)+"/apn", params("mccmnc", mccmnc, "iccid", iccid), &out)
}

// Balance returns the balance of a SIM from its operator's MO API;
// location is an ISO-2 country or empty.
func (c *Client) Balance(ctx context.Context, iccid, location string) (*Balance, error) {
	var out Balance
	return &out, c.getJSON(ctx, "/v1/balance", params("iccid", iccid, "location", location), &out)
}

// Logo returns the PNG logo stored for an operator.
func (c *Client) Logo(ctx context.Context, id string) ([]byte, error) {
	resp, err := c.do(ctx, "/v1/operators/"+url.PathEscape(id)+"/logo", nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxLogoBody))
	if err != nil {
		return nil, fmt.Errorf("discovery: read logo: %w", err)
	}
	if len(b) >= maxLogoBody {
		return nil, errors.New("discovery: logo too large")
	}
	return b, nil
}

func params(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

func (c *Client) getJSON(ctx context.Context, path string, q url.Values, out any) error {
	resp, err := c.do(ctx, path, q)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxClientBody+1))
	if err != nil {
		return fmt.Errorf("discovery: read %s: %w", path, err)
	}
	if len(b) > maxClientBody {
		return fmt.Errorf("discovery: %s: answer too large", path)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("discovery: decode %s: %w", path, err)
	}
	return nil
}

// do sends a GET and returns a 2xx response; other statuses become an
// *APIError.
func (c *Client) do(ctx context.Context, path string, q url.Values) (*http.Response, error) {
	if c.err != nil {
		return nil, c.err
	}
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return nil, decodeAPIError(resp.StatusCode, resp.Header, b)
}

// decodeAPIError reads the JSON error body; anything else still gives an
// *APIError with the HTTP status.
func decodeAPIError(status int, h http.Header, b []byte) *APIError {
	ae := &APIError{Status: status}
	var body errorBody
	if json.Unmarshal(b, &body) == nil && body.Error.Code != "" {
		ae.Code, ae.Message, ae.Param = body.Error.Code, body.Error.Message, body.Error.Param
		if body.Error.RetryAfterSeconds > 0 && body.Error.RetryAfterSeconds < 1<<31 {
			ae.RetryAfter = time.Duration(body.Error.RetryAfterSeconds) * time.Second
		}
	} else {
		ae.Code, ae.Message = "http_"+strconv.Itoa(status), http.StatusText(status)
	}
	if ra := parseRetryAfter(h.Get("Retry-After"), time.Now()); ra > 0 {
		ae.RetryAfter = ra
	}
	return ae
}
