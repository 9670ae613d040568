package discovery

import (
	"net/url"
	"slices"
	"strings"
)

// Identifier lengths (mobile-plans.md 3.1, 7).
const (
	eidLen      = 32
	minICCIDLen = 19
	maxICCIDLen = 20
	maxICCIDs   = 16
)

// Query selects operators for a device (GET /v1/operators). Every field is
// optional. Parsed queries are canonical: MCC digits, Country upper-case,
// ICCIDs without the trailing 'F' pad, Make/Model trimmed.
type Query struct {
	// MCC is the serving network's mobile country code (3 digits).
	MCC string
	// Country is an ISO 3166 alpha-2 code used when MCC is absent or unknown.
	Country string
	// ICCIDs are the ICCIDs of the profiles on the device (at most 16).
	ICCIDs []string
	// EID is the eUICC identifier (32 digits).
	EID string
	// Make and Model are the device's System Info values.
	Make, Model string
}

// Values encodes q as URL query parameters (the inverse of ParseQuery).
func (q Query) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("mcc", q.MCC)
	set("country", q.Country)
	set("iccids", strings.Join(q.ICCIDs, ","))
	set("eid", q.EID)
	set("make", q.Make)
	set("model", q.Model)
	return v
}

// ParseQuery reads the parameters of GET /v1/operators. Unknown parameters
// are ignored; an invalid or repeated parameter gives a *FieldError whose
// Field is the parameter name.
func ParseQuery(v url.Values) (Query, error) {
	var q Query
	var err error
	if q.MCC, err = single(v, "mcc"); err != nil {
		return Query{}, err
	}
	if q.MCC != "" && !validMCC(q.MCC) {
		return Query{}, fieldErr("mcc", "must be 3 digits")
	}
	if q.Country, err = countryParam(v, "country"); err != nil {
		return Query{}, err
	}
	list, err := single(v, "iccids")
	if err != nil {
		return Query{}, err
	}
	if list != "" {
		for _, s := range strings.Split(list, ",") {
			iccid, err := normICCID("iccids", s)
			if err != nil {
				return Query{}, err
			}
			if !slices.Contains(q.ICCIDs, iccid) {
				q.ICCIDs = append(q.ICCIDs, iccid)
			}
		}
		if len(q.ICCIDs) > maxICCIDs {
			return Query{}, fieldErr("iccids", "more than %d ICCIDs", maxICCIDs)
		}
	}
	if q.EID, err = single(v, "eid"); err != nil {
		return Query{}, err
	}
	if q.EID != "" && (len(q.EID) != eidLen || !allDigits(q.EID)) {
		return Query{}, fieldErr("eid", "must be %d digits", eidLen)
	}
	if q.Make, err = textParam(v, "make"); err != nil {
		return Query{}, err
	}
	if q.Model, err = textParam(v, "model"); err != nil {
		return Query{}, err
	}
	return q, nil
}

// single returns the one value of parameter k ("" when absent).
func single(v url.Values, k string) (string, error) {
	vs := v[k]
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	default:
		return "", fieldErr(k, "given %d times", len(vs))
	}
}

func validMCC(s string) bool { return len(s) == 3 && allDigits(s) }

func countryParam(v url.Values, k string) (string, error) {
	s, err := single(v, k)
	if err != nil || s == "" {
		return "", err
	}
	c := strings.ToUpper(s)
	if !validCountry(c) {
		return "", fieldErr(k, "must be an ISO 3166 alpha-2 code")
	}
	return c, nil
}

func textParam(v url.Values, k string) (string, error) {
	s, err := single(v, k)
	if err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	if len(s) > maxFilterLen || !printable(s) {
		return "", fieldErr(k, "must be at most %d printable characters", maxFilterLen)
	}
	return s, nil
}

// normICCID strips one trailing 'F' pad and checks for 19-20 digits
// starting with 89.
func normICCID(param, s string) (string, error) {
	if n := len(s); n > 0 && (s[n-1] == 'F' || s[n-1] == 'f') {
		s = s[:n-1]
	}
	if len(s) < minICCIDLen || len(s) > maxICCIDLen || !allDigits(s) || !strings.HasPrefix(s, "89") {
		return "", fieldErr(param, "ICCID must be %d-%d digits starting with 89", minICCIDLen, maxICCIDLen)
	}
	return s, nil
}

// iccidParam reads a required (or optional) single ICCID parameter.
func iccidParam(v url.Values, k string, required bool) (string, error) {
	s, err := single(v, k)
	if err != nil {
		return "", err
	}
	if s == "" {
		if required {
			return "", fieldErr(k, "required")
		}
		return "", nil
	}
	return normICCID(k, s)
}

// imeiParam reads an optional IMEI (15 digits) or IMEISV (16 digits).
func imeiParam(v url.Values, k string) (string, error) {
	s, err := single(v, k)
	if err != nil || s == "" {
		return "", err
	}
	if (len(s) != 15 && len(s) != 16) || !allDigits(s) {
		return "", fieldErr(k, "must be 15 (IMEI) or 16 (IMEISV) digits")
	}
	return s, nil
}

// mccmncParam reads an optional MCC/MNC (5 or 6 digits).
func mccmncParam(v url.Values, k string) (string, error) {
	s, err := single(v, k)
	if err != nil || s == "" {
		return "", err
	}
	if !validMCCMNC(s) {
		return "", fieldErr(k, "must be 5 or 6 digits (MCC and MNC)")
	}
	return s, nil
}

// maskICCID keeps the issuer part of an ICCID for logs.
func maskICCID(s string) string {
	if len(s) <= 8 {
		return "…"
	}
	return s[:8] + "…"
}
