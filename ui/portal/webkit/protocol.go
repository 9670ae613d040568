package webkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// request is one line to the helper.
type request struct {
	ID      int64               `json:"id"`
	Op      string              `json:"op"`
	URL     string              `json:"url,omitempty"`
	Headers map[string][]string `json:"headers,omitempty"`
	JS      string              `json:"js,omitempty"`
	On      *bool               `json:"on,omitempty"`
}

// The ops of the protocol.
const (
	opOpen  = "open"
	opEval  = "eval"
	opBack  = "back"
	opGuard = "guard"
	opClose = "close"
)

// Events of the protocol that are not an EventKind of the API.
const (
	evReady  = "ready"
	evError  = "error"
	evBridge = "bridge"
)

// The codes of error replies the client tells apart.
const (
	codeTLS    = "tls"
	codeClosed = "closed"
)

// line is one decoded line from the helper: a reply (ID > 0) or an event.
type line struct {
	// Reply.
	ID     int64           `json:"id"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  string          `json:"error"`
	Code   string          `json:"code"`

	// Event.
	Event          string   `json:"event"`
	URL            string   `json:"url"`
	Host           string   `json:"host"`
	Flags          []string `json:"flags"`
	Origin         string   `json:"origin"`
	DocumentOrigin string   `json:"documentOrigin"`
	Message        *string  `json:"message"`
	Reason         string   `json:"reason"`
	Version        string   `json:"version"`
}

// maxLine bounds one line from the helper (an eval result; the helper
// bounds those to 8 MiB).
const maxLine = 16 << 20

// parseLine decodes and checks one line of the helper's stdout: a JSON
// object that is either a reply ({"id":N,"ok":true,...} or
// {"id":N,"error":"..."}) or an event ({"event":"...",...}); a bridge event
// must carry its message string.
func parseLine(b []byte) (line, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return line{}, errors.New("not a JSON object")
	}
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		return line{}, fmt.Errorf("malformed line: %w", err)
	}
	switch {
	case l.ID < 0:
		return line{}, fmt.Errorf("negative id %d", l.ID)
	case l.ID > 0 && l.Event != "":
		return line{}, errors.New("a line is a reply or an event, not both")
	case l.ID > 0 && l.OK == (l.Error != ""):
		return line{}, errors.New("a reply is either ok or an error")
	case l.ID == 0 && l.Event == "":
		return line{}, errors.New("neither a reply nor an event")
	case l.Event == evBridge && l.Message == nil:
		return line{}, errors.New("bridge event without a message")
	}
	if len(l.Result) == 0 {
		l.Result = json.RawMessage("null")
	}
	return l, nil
}
