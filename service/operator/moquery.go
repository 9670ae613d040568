package operator

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mobileplans/mobileplans/esim/rsp"
)

// TransactionHeader carries the id of one MO Web API interaction; answers
// echo it (mobile-plans.md 4.1).
const TransactionHeader = "X-MS-DM-TransactionId"

// maxTransactionID bounds X-MS-DM-TransactionId.
const maxTransactionID = 128

// ParamError is a bad MO API request parameter; the API answers 400 and
// names Param.
type ParamError struct {
	Param  string
	Reason string
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Reason }

// Values of fieldsTemplate.
const (
	templateBasic = "basic"
	templateFull  = "full"
)

// balanceQuery is the query of GetBalance.
type balanceQuery struct {
	Template string // templateBasic or templateFull
	Limit    int    // 0: all
	Location string // upper-case ISO 3166-1 alpha-2, "" for all
}

// offersQuery is the query of GetOffers.
type offersQuery struct {
	Limit int
	IMEI  string
}

// notificationsQuery is the query of GetNotifications.
type notificationsQuery struct {
	Type  string
	Limit int
	IMEI  string
}

// queryParams splits a raw query into single values keyed by the known
// parameter names (matched ignoring case). Unknown parameters are ignored;
// a known one given twice is an error.
func queryParams(raw string, known ...string) (map[string]string, error) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil, &ParamError{Param: "query", Reason: "malformed query string"}
	}
	out := make(map[string]string, len(known))
	for name, vs := range vals {
		for _, k := range known {
			if !strings.EqualFold(name, k) {
				continue
			}
			if _, dup := out[k]; dup || len(vs) > 1 {
				return nil, &ParamError{Param: k, Reason: "given more than once"}
			}
			out[k] = strings.TrimSpace(vs[0])
		}
	}
	return out, nil
}

// parseLimit reads a positive 32-bit decimal integer. An empty value is
// absent (0) unless required.
func parseLimit(v string, required bool) (int, error) {
	if v == "" {
		if required {
			return 0, &ParamError{Param: "limit", Reason: "required"}
		}
		return 0, nil
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, &ParamError{Param: "limit", Reason: "must be a positive integer"}
		}
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 1 {
		return 0, &ParamError{Param: "limit", Reason: "must be a positive integer up to 2147483647"}
	}
	return int(n), nil
}

func parseIMEI(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	if len(v) < 14 || len(v) > 16 || !allDigits(v) {
		return "", &ParamError{Param: "imei", Reason: "must be 14 to 16 digits"}
	}
	return v, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseBalanceQuery reads fieldsTemplate (basic|full, default basic),
// limit (optional positive integer) and location (optional ISO 3166-1
// alpha-2, either case). Empty values count as absent.
func parseBalanceQuery(raw string) (balanceQuery, error) {
	p, err := queryParams(raw, "fieldsTemplate", "limit", "location")
	if err != nil {
		return balanceQuery{}, err
	}
	q := balanceQuery{Template: templateBasic}
	switch t := strings.ToLower(p["fieldsTemplate"]); t {
	case "", templateBasic:
	case templateFull:
		q.Template = templateFull
	default:
		return q, &ParamError{Param: "fieldsTemplate", Reason: "must be basic or full"}
	}
	if q.Limit, err = parseLimit(p["limit"], false); err != nil {
		return q, err
	}
	if loc := p["location"]; loc != "" {
		c, ok := countryCode(loc)
		if !ok {
			return q, &ParamError{Param: "location", Reason: "must be an ISO 3166-1 alpha-2 country code"}
		}
		q.Location = c
	}
	return q, nil
}

// parseOffersQuery reads limit (required) and imei (optional).
func parseOffersQuery(raw string) (offersQuery, error) {
	p, err := queryParams(raw, "limit", "imei")
	if err != nil {
		return offersQuery{}, err
	}
	var q offersQuery
	if q.Limit, err = parseLimit(p["limit"], true); err != nil {
		return q, err
	}
	q.IMEI, err = parseIMEI(p["imei"])
	return q, err
}

// parseNotificationsQuery reads notificationType and limit (required) and
// imei (optional).
func parseNotificationsQuery(raw string) (notificationsQuery, error) {
	p, err := queryParams(raw, "notificationType", "limit", "imei")
	if err != nil {
		return notificationsQuery{}, err
	}
	var q notificationsQuery
	q.Type = p["notificationType"]
	if q.Type == "" {
		return q, &ParamError{Param: "notificationType", Reason: "required"}
	}
	if len(q.Type) > 64 || strings.IndexFunc(q.Type, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) >= 0 {
		return q, &ParamError{Param: "notificationType", Reason: "must be 1 to 64 letters, digits, '-' or '_'"}
	}
	if q.Limit, err = parseLimit(p["limit"], true); err != nil {
		return q, err
	}
	q.IMEI, err = parseIMEI(p["imei"])
	return q, err
}

// parseSimID reads the {simId} path segment "iccid:<ICCID>" (prefix in
// any case, spaces after the colon tolerated as in the documents'
// examples, a trailing F dropped) and returns the ICCID.
func parseSimID(s string) (string, bool) {
	if len(s) < 6 || !strings.EqualFold(s[:6], "iccid:") {
		return "", false
	}
	id, err := rsp.ParseICCID(s[6:])
	if err != nil {
		return "", false
	}
	return string(id), true
}

// checkTransactionID validates X-MS-DM-TransactionId: 1 to 128 printable
// ASCII characters without spaces.
func checkTransactionID(v string) error {
	if v == "" {
		return &ParamError{Param: TransactionHeader, Reason: "required"}
	}
	if len(v) > maxTransactionID {
		return &ParamError{Param: TransactionHeader, Reason: fmt.Sprintf("longer than %d characters", maxTransactionID)}
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return &ParamError{Param: TransactionHeader, Reason: "must be printable ASCII without spaces"}
		}
	}
	return nil
}

// isoDuration formats d (rounded down to seconds, negative as zero) as an
// ISO 8601 duration: PnDTnHnMnS with zero parts left out, PT0S for zero.
func isoDuration(d time.Duration) string {
	if d < time.Second {
		return "PT0S"
	}
	secs := int64(d / time.Second)
	days, secs := secs/86400, secs%86400
	h, secs := secs/3600, secs%3600
	m, secs := secs/60, secs%60
	var b strings.Builder
	b.WriteByte('P')
	if days > 0 {
		fmt.Fprintf(&b, "%dD", days)
	}
	if h > 0 || m > 0 || secs > 0 {
		b.WriteByte('T')
		if h > 0 {
			fmt.Fprintf(&b, "%dH", h)
		}
		if m > 0 {
			fmt.Fprintf(&b, "%dM", m)
		}
		if secs > 0 {
			fmt.Fprintf(&b, "%dS", secs)
		}
	}
	return b.String()
}
