package operator

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/mobileplans/mobileplans/esim/rsp"
)

// Headers the app adds after failed downloads (mobile-plans.md 3.1, 2.8).
const (
	HeaderLPAErrorCodes      = "X-MP-LPAError-Codes"
	HeaderLPAErrorTimeStamps = "X-MP-LPAError-TimeStamps"
	HeaderLPAErrorICCIDs     = "X-MP-LPAError-ICCIDs"
)

// Limits of launch parameters.
const (
	maxLaunchTransactionID = 64
	maxLaunchICCIDs        = 16
	maxLPAErrors           = 10
	maxLPAErrorToken       = 64
)

// Launch is the portal's launch context: the query parameters of
// mobile-plans.md 3.1 (names and values in any case, unknown ones ignored)
// and the X-MP-LPAError-* headers. Invalid values are dropped and named
// in Dropped.
type Launch struct {
	EID    string   // 32-digit EID with valid check digits
	ICCIDs []string // this operator's profiles on the eSIM (iccids)
	ICCID  string   // the physical SIM (iccid)
	IMEI   string
	// Location and Market are upper-case ISO 3166-1 alpha-2 codes.
	Location, Market string
	// TransactionID is the app's session id (at most 64 printable ASCII
	// characters); the portal logs and stores it.
	TransactionID string
	// Legacy asks for the DataMart hand-back (legacy=1|true|yes).
	Legacy bool
	// Callback is the mpcallback URL (this project's extension): where
	// the hand-back pages POST the bridge message when the page has no
	// bridge, http://127.0.0.1:<port>/<path> or http://[::1]:<port>/<path>
	// (validCallback).
	Callback string
	// Dropped names the parameters whose values were refused.
	Dropped []string
	// Error is the last failed download, nil without the headers.
	Error *LPAError
}

// LPAError is the failed download the app reports with the X-MP-LPAError-*
// headers.
type LPAError struct {
	// Codes are ESimOperationStatus names, e.g. "ServerFailure".
	Codes []string
	// TimeStamps as sent (e.g. "5/18/2018 11:17:23 PM").
	TimeStamps []string
	// ICCID is the profile the app had been told to install, "" when
	// absent or malformed.
	ICCID string
}

// ParseLaunch reads the launch parameters from a raw query string and the
// request headers. It never fails: what cannot be used is dropped.
func ParseLaunch(rawQuery string, h http.Header) Launch {
	var l Launch
	vals, err := url.ParseQuery(rawQuery)
	if err != nil {
		// ParseQuery keeps the pairs it could decode.
		l.Dropped = append(l.Dropped, "query")
	}
	get := func(name string) (string, bool) {
		for k, vs := range vals {
			if strings.EqualFold(k, name) && len(vs) > 0 {
				return strings.TrimSpace(vs[0]), true
			}
		}
		return "", false
	}
	if v, ok := get("eid"); ok && v != "" {
		if e, err := rsp.ParseEID(v); err == nil {
			l.EID = string(e)
		} else {
			l.Dropped = append(l.Dropped, "eid")
		}
	}
	if v, ok := get("iccids"); ok && v != "" {
		for part := range strings.SplitSeq(v, ",") {
			id, err := rsp.ParseICCID(part)
			if err != nil || len(l.ICCIDs) >= maxLaunchICCIDs {
				l.Dropped = appendOnce(l.Dropped, "iccids")
				continue
			}
			if !slices.Contains(l.ICCIDs, string(id)) {
				l.ICCIDs = append(l.ICCIDs, string(id))
			}
		}
	}
	if v, ok := get("iccid"); ok && v != "" {
		if id, err := rsp.ParseICCID(v); err == nil {
			l.ICCID = string(id)
		} else {
			l.Dropped = append(l.Dropped, "iccid")
		}
	}
	if v, ok := get("imei"); ok && v != "" {
		if len(v) >= 14 && len(v) <= 16 && allDigits(v) {
			l.IMEI = v
		} else {
			l.Dropped = append(l.Dropped, "imei")
		}
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"location", &l.Location}, {"market", &l.Market}} {
		if v, ok := get(p.name); ok && v != "" {
			if c, ok := countryCode(v); ok {
				*p.dst = c
			} else {
				l.Dropped = append(l.Dropped, p.name)
			}
		}
	}
	if v, ok := get("transactionId"); ok && v != "" {
		if len(v) <= maxLaunchTransactionID && printableASCII(v) {
			l.TransactionID = v
		} else {
			l.Dropped = append(l.Dropped, "transactionId")
		}
	}
	if v, ok := get("legacy"); ok {
		switch strings.ToLower(v) {
		case "1", "true", "yes":
			l.Legacy = true
		}
	}
	if v, ok := get("mpcallback"); ok && v != "" {
		if validCallback(v) {
			l.Callback = v
		} else {
			l.Dropped = append(l.Dropped, "mpcallback")
		}
	}
	l.Error = parseLPAError(h)
	return l
}

// maxCallbackLen bounds the mpcallback URL.
const maxCallbackLen = 512

// validCallback accepts the only mpcallback URLs the portal posts to: the
// loopback IP literals over http with an explicit port and a path of
// unreserved characters and '/' (no user, query or fragment):
// http://127.0.0.1:<port>/<path> or http://[::1]:<port>/<path>.
func validCallback(v string) bool {
	_, ok := callbackOrigin(v)
	return ok
}

// callbackOrigin returns the origin (http://host:port) of a valid
// mpcallback URL.
func callbackOrigin(v string) (string, bool) {
	rest, ok := strings.CutPrefix(v, "http://")
	if !ok || len(v) > maxCallbackLen {
		return "", false
	}
	host := ""
	for _, h := range []string{"127.0.0.1:", "[::1]:"} {
		if strings.HasPrefix(rest, h) {
			host, rest = h, rest[len(h):]
			break
		}
	}
	if host == "" {
		return "", false
	}
	port, path, ok := strings.Cut(rest, "/")
	if n, err := strconv.Atoi(port); !ok || err != nil || n < 1 || n > 65535 || port[0] < '1' || port[0] > '9' {
		return "", false
	}
	if strings.IndexFunc(path, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~/", r))
	}) >= 0 {
		return "", false
	}
	return "http://" + host + port, true
}

func appendOnce(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// parseLPAError reads the X-MP-LPAError-* headers; nil when there are no
// usable codes.
func parseLPAError(h http.Header) *LPAError {
	var e LPAError
	for tok := range strings.SplitSeq(h.Get(HeaderLPAErrorCodes), ",") {
		tok = strings.TrimSpace(tok)
		if tok == "" || len(e.Codes) >= maxLPAErrors {
			continue
		}
		if len(tok) > maxLPAErrorToken || strings.IndexFunc(tok, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		}) >= 0 {
			tok = "Other"
		}
		e.Codes = append(e.Codes, tok)
	}
	if len(e.Codes) == 0 {
		return nil
	}
	for tok := range strings.SplitSeq(h.Get(HeaderLPAErrorTimeStamps), ",") {
		tok = strings.TrimSpace(tok)
		if tok == "" || len(e.TimeStamps) >= maxLPAErrors || len(tok) > maxLPAErrorToken {
			continue
		}
		if strings.IndexFunc(tok, func(r rune) bool {
			return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune(" /:.+-", r))
		}) >= 0 {
			continue
		}
		e.TimeStamps = append(e.TimeStamps, tok)
	}
	if v := strings.TrimSpace(h.Get(HeaderLPAErrorICCIDs)); v != "" {
		first, _, _ := strings.Cut(v, ",")
		if id, err := rsp.ParseICCID(first); err == nil {
			e.ICCID = string(id)
		}
	}
	return &e
}

// lpaErrorGroup sorts an ESimOperationStatus name into the group whose
// message the portal shows.
func lpaErrorGroup(code string) string {
	switch strings.ToLower(code) {
	case "serverfailure", "servernotreachable", "timeoutwaitingforresponse", "servernottrusted":
		return "network"
	case "insufficientspaceoncard", "cardremoved", "cardbusy", "cardgeneralfailure":
		return "card"
	case "notfound", "invalidmatchingid", "eidmismatch", "profilenotavailablefornewbinding",
		"profilenotreleasedbyoperator", "iccidalreadyexists", "profilenotpresent", "noeligibleprofileforthisdevice",
		"nocorrespondingrequest", "profileprocessingerror", "profiledownloadmaxretriesexceeded":
		return "profile"
	case "timeoutwaitingforuserconsent", "operationaborted":
		return "user"
	case "incorrectconfirmationcode", "confirmationcodemaxretriesexceeded", "confirmationcodemissing",
		"notauthorized", "policyviolation", "operationprohibitedbyprofileclass":
		return "policy"
	}
	return "other"
}

// acceptLanguage picks the best supported language of an Accept-Language
// header (RFC 9110 12.5.4: q-values, primary subtags; "*" matches the
// first supported). It returns supported[0] when nothing matches.
func acceptLanguage(header string, supported []string) string {
	best, bestQ := supported[0], 0.0
	for i, part := range strings.Split(header, ",") {
		if i >= 32 {
			break
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				q = f
			}
		}
		if q <= bestQ {
			continue
		}
		primary, _, _ := strings.Cut(tag, "-")
		for _, s := range supported {
			if primary == s || tag == "*" {
				best, bestQ = s, q
				break
			}
		}
	}
	return best
}
