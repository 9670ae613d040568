package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Limits of the protocol.
const (
	// MaxRequestLine bounds one line from the app (an eval's script).
	MaxRequestLine = 64 << 20
	// MaxEvalResult bounds the JSON of an eval result.
	MaxEvalResult = 8 << 20
	// MaxLine bounds one line from the helper: an eval result and its
	// envelope.
	MaxLine = 2 * MaxEvalResult
	// MaxBridgeMessage bounds a bridge message (portal.MaxMessageSize is
	// 64 KiB; the app refuses what is larger, the helper what is far
	// larger).
	MaxBridgeMessage = 1 << 20
)

// The ops of the app's requests.
const (
	OpOpen  = "open"  // load URL with Headers in the window
	OpEval  = "eval"  // run JS in the main frame; the reply's result is its value
	OpBack  = "back"  // go back one page
	OpGuard = "guard" // On: ask the user before the window closes
	OpClose = "close" // close the window and exit
)

// The events the helper writes.
const (
	EvReady          = "ready" // the window is up; Version is WebKitGTK's
	EvError          = "error" // the helper cannot start (Error says why)
	EvLoaded         = "loaded"
	EvLoadFailed     = "load-failed"
	EvTLSError       = "tls-error"
	EvTLSTrusted     = "tls-trusted"
	EvBridge         = "bridge" // Message is what the portal posted, Origin the page's
	EvBridgeRefused  = "bridge-refused"
	EvPopupBlocked   = "popup-blocked"
	EvDownloadBlock  = "download-blocked"
	EvTerminated     = "web-process-terminated"
	EvCloseRequested = "close-requested"
	EvClosed         = "closed"
)

// The codes of error replies.
const (
	CodeBadRequest = "bad-request"
	CodeLoad       = "load"
	CodeCancelled  = "cancelled"
	CodeSuperseded = "superseded"
	CodeTLS        = "tls"
	CodeJS         = "js"
	CodeClosed     = "closed"
	CodeCrashed    = "crashed"
)

// Request is one line from the app.
type Request struct {
	ID      int64               `json:"id"`
	Op      string              `json:"op"`
	URL     string              `json:"url,omitempty"`
	Headers map[string][]string `json:"headers,omitempty"`
	JS      string              `json:"js,omitempty"`
	On      *bool               `json:"on,omitempty"`
}

// Line is one line from the helper: a reply (ID > 0) or an event (Event
// set). Fields a line does not use stay empty and are not written.
type Line struct {
	// Reply: OK with an optional Result, or Error with its Code.
	ID     int64           `json:"id,omitempty"`
	OK     bool            `json:"ok,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	// Error is a failed reply's message, or what an event reports.
	Error string `json:"error,omitempty"`
	Code  string `json:"code,omitempty"`

	// Event.
	Event string `json:"event,omitempty"`
	URL   string `json:"url,omitempty"`
	Host  string `json:"host,omitempty"`
	// Flags are the GTlsCertificateFlags of a certificate check, by name.
	Flags []string `json:"flags,omitempty"`
	// Origin is the main frame's committed origin; DocumentOrigin the
	// origin of the document that sent a refused bridge message.
	Origin         string `json:"origin,omitempty"`
	DocumentOrigin string `json:"documentOrigin,omitempty"`
	// Message is the string the bridge posted (present, maybe empty, on
	// every bridge event).
	Message *string `json:"message,omitempty"`
	Reason  string  `json:"reason,omitempty"`
	Version string  `json:"version,omitempty"`
}

// ParseRequest decodes and checks one request line: a positive id, a known
// op and its arguments (open: an absolute http(s) URL with a host and
// well-formed headers; eval: a script without NUL; guard: on). The
// returned request carries the id whenever the line had one, also on
// error, so that the error can be replied to.
func ParseRequest(line []byte) (Request, error) {
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		// Keep the id for the error reply when only a field is off.
		var idOnly struct {
			ID int64 `json:"id"`
		}
		_ = json.Unmarshal(line, &idOnly)
		return Request{ID: idOnly.ID}, fmt.Errorf("malformed request: %w", err)
	}
	if req.ID <= 0 {
		return req, errors.New("the request has no positive integer id")
	}
	switch req.Op {
	case OpOpen:
		if err := checkURL(req.URL); err != nil {
			return req, err
		}
		for name, values := range req.Headers {
			if err := checkHeader(name, values); err != nil {
				return req, err
			}
		}
	case OpEval:
		if strings.TrimSpace(req.JS) == "" {
			return req, errors.New("eval needs js")
		}
		if strings.IndexByte(req.JS, 0) >= 0 {
			return req, errors.New("js holds a NUL byte")
		}
	case OpGuard:
		if req.On == nil {
			return req, errors.New("guard needs on (true or false)")
		}
	case OpBack, OpClose:
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

// ParseLine decodes and checks one line of the helper's stdout: a JSON
// object that is either a reply ({"id":N,"ok":true,...} or
// {"id":N,"error":"..."}) or an event ({"event":"...",...}); a bridge
// event must carry its message string. A reply's missing result reads as
// JSON null.
func ParseLine(b []byte) (Line, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return Line{}, errors.New("not a JSON object")
	}
	var l Line
	if err := json.Unmarshal(b, &l); err != nil {
		return Line{}, fmt.Errorf("malformed line: %w", err)
	}
	switch {
	case l.ID < 0:
		return Line{}, fmt.Errorf("negative id %d", l.ID)
	case l.ID > 0 && l.Event != "":
		return Line{}, errors.New("a line is a reply or an event, not both")
	case l.ID > 0 && l.OK == (l.Error != ""):
		return Line{}, errors.New("a reply is either ok or an error")
	case l.ID == 0 && l.Event == "":
		return Line{}, errors.New("neither a reply nor an event")
	case l.Event == EvBridge && l.Message == nil:
		return Line{}, errors.New("bridge event without a message")
	}
	if len(l.Result) == 0 {
		l.Result = json.RawMessage("null")
	}
	return l, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
