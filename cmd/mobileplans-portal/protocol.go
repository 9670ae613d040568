package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
)

// Limits of the protocol.
const (
	// maxRequestLine bounds one line from the app (an eval's script).
	maxRequestLine = 64 << 20
	// maxEvalResult bounds the JSON of an eval result.
	maxEvalResult = 8 << 20
	// maxBridgeMessage bounds a bridge message (portal.MaxMessageSize is
	// 64 KiB; the app refuses what is larger, the helper what is far
	// larger).
	maxBridgeMessage = 1 << 20
)

// The ops of the app's requests.
const (
	opOpen  = "open"
	opEval  = "eval"
	opBack  = "back"
	opGuard = "guard"
	opClose = "close"
)

// The events the helper writes.
const (
	evReady          = "ready"
	evError          = "error"
	evLoaded         = "loaded"
	evLoadFailed     = "load-failed"
	evTLSError       = "tls-error"
	evTLSTrusted     = "tls-trusted"
	evBridge         = "bridge"
	evBridgeRefused  = "bridge-refused"
	evPopupBlocked   = "popup-blocked"
	evDownloadBlock  = "download-blocked"
	evTerminated     = "web-process-terminated"
	evCloseRequested = "close-requested"
	evClosed         = "closed"
)

// The codes of error replies.
const (
	codeBadRequest = "bad-request"
	codeLoad       = "load"
	codeCancelled  = "cancelled"
	codeSuperseded = "superseded"
	codeTLS        = "tls"
	codeJS         = "js"
	codeClosed     = "closed"
	codeCrashed    = "crashed"
)

// request is one line from the app.
type request struct {
	ID      int64               `json:"id"`
	Op      string              `json:"op"`
	URL     string              `json:"url,omitempty"`
	Headers map[string][]string `json:"headers,omitempty"`
	JS      string              `json:"js,omitempty"`
	On      *bool               `json:"on,omitempty"`
}

// reply answers one request: OK with an optional Result, or Error with
// its Code.
type reply struct {
	ID     int64           `json:"id"`
	OK     bool            `json:"ok,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
	Code   string          `json:"code,omitempty"`
}

// event is a line the helper writes on its own.
type event struct {
	Event string `json:"event"`
	URL   string `json:"url,omitempty"`
	Error string `json:"error,omitempty"`
	Host  string `json:"host,omitempty"`
	// Flags are the GTlsCertificateFlags of a certificate check, by name.
	Flags []string `json:"flags,omitempty"`
	// Origin is the main frame's committed origin; DocumentOrigin the
	// origin of the document that sent a refused bridge message.
	Origin         string `json:"origin,omitempty"`
	DocumentOrigin string `json:"documentOrigin,omitempty"`
	// Message is the string the bridge posted.
	Message *string `json:"message,omitempty"`
	Reason  string  `json:"reason,omitempty"`
	Version string  `json:"version,omitempty"`
}

// parseRequest decodes and checks one request line. The returned request
// carries the id whenever the line had one, also on error.
func parseRequest(line []byte) (request, error) {
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		// Keep the id for the error reply when only a field is off.
		var idOnly struct {
			ID int64 `json:"id"`
		}
		_ = json.Unmarshal(line, &idOnly)
		return request{ID: idOnly.ID}, fmt.Errorf("malformed request: %w", err)
	}
	if req.ID <= 0 {
		return req, errors.New("the request has no positive integer id")
	}
	switch req.Op {
	case opOpen:
		if err := checkURL(req.URL); err != nil {
			return req, err
		}
		for name, values := range req.Headers {
			if err := checkHeader(name, values); err != nil {
				return req, err
			}
		}
	case opEval:
		if strings.TrimSpace(req.JS) == "" {
			return req, errors.New("eval needs js")
		}
		if strings.IndexByte(req.JS, 0) >= 0 {
			return req, errors.New("js holds a NUL byte")
		}
	case opGuard:
		if req.On == nil {
			return req, errors.New("guard needs on (true or false)")
		}
	case opBack, opClose:
	default:
		return req, fmt.Errorf("unknown op %q", truncate(req.Op, 40))
	}
	return req, nil
}

// checkURL accepts absolute http and https URLs with a host.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("open: bad url: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("open: %q is not an http(s) URL with a host", truncate(raw, 200))
	}
	if strings.ContainsAny(raw, "\x00\r\n") {
		return errors.New("open: the url holds control characters")
	}
	return nil
}

// checkHeader accepts RFC 9110 field names and values without CR, LF or
// NUL (libsoup would drop them with a warning).
func checkHeader(name string, values []string) error {
	if name == "" {
		return errors.New("open: empty header name")
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return fmt.Errorf("open: header name %q is not a token", truncate(name, 80))
		}
	}
	for _, v := range values {
		if strings.ContainsAny(v, "\x00\r\n") {
			return fmt.Errorf("open: the value of header %s holds CR, LF or NUL", name)
		}
	}
	return nil
}

func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// originOf returns the web origin of an http(s) URI as the browser writes
// it (scheme://host[:port], the default port left out, the host in lower
// case), and "null" for anything else.
func originOf(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return "null"
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return u.Scheme + "://" + host
}

// hostPort returns the host name (without brackets) and port of an
// http(s) URI, the port defaulting to the scheme's.
func hostPort(uri string) (string, int, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Hostname() == "" {
		return "", 0, fmt.Errorf("no host in %q", truncate(uri, 200))
	}
	port := 443
	if u.Scheme == "http" {
		port = 80
	}
	if p := u.Port(); p != "" {
		if _, err := fmt.Sscanf(p, "%d", &port); err != nil || port <= 0 || port > 65535 {
			return "", 0, fmt.Errorf("bad port in %q", truncate(uri, 200))
		}
	}
	return strings.ToLower(u.Hostname()), port, nil
}

// sameURL compares two URLs ignoring the case of scheme and host, an
// empty path against "/", and the fragment.
func sameURL(a, b string) bool {
	norm := func(s string) string {
		u, err := url.Parse(s)
		if err != nil {
			return s
		}
		u.Scheme, u.Host, u.Fragment, u.RawFragment = strings.ToLower(u.Scheme), strings.ToLower(u.Host), "", ""
		if u.Path == "" {
			u.Path = "/"
		}
		return u.String()
	}
	return norm(a) == norm(b)
}

// tlsFlagNames names the bits of GTlsCertificateFlags.
func tlsFlagNames(flags uint32) []string {
	names := []string{"unknown-ca", "bad-identity", "not-activated", "expired", "revoked", "insecure", "generic-error"}
	var out []string
	for i, n := range names {
		if flags&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	if rest := flags &^ (1<<len(names) - 1); rest != 0 {
		out = append(out, fmt.Sprintf("0x%x", rest))
	}
	return out
}

// lineWriter writes one JSON object per line; it is safe for concurrent
// use.
type lineWriter struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

// write encodes v as one line. After the first write error it writes
// nothing more and returns that error.
func (w *lineWriter) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if _, err := w.w.Write(b); err != nil {
		w.err = err
	}
	return w.err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
