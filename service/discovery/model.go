package discovery

import (
	"bytes"
	"errors"
	"fmt"
	"image/png"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Operator is one mobile operator of the catalog: what the device is shown
// (brand, logo, portal, gateway page, APN settings), how the catalog
// decides whether to show it (countries, ICCID ranges, EID and device
// filters) and where its MO Web API lives (used only by the service).
type Operator struct {
	// ID is the catalog key: 1-64 characters of a-z, 0-9 and '-', starting
	// with a letter or digit.
	ID string `json:"id"`
	// Brand is the name shown to the user (1-72 characters).
	Brand string `json:"brand"`
	// Logo is a PNG image served at /v1/operators/{id}/logo. When empty,
	// LogoURL (if any) is handed to the device instead.
	Logo []byte `json:"logo,omitempty"`
	// LogoURL is an https URL of a logo hosted elsewhere.
	LogoURL string `json:"logoUrl,omitempty"`
	// PortalURL is the https URL of the MO web portal.
	PortalURL string `json:"portalUrl"`
	// CallbackHost is the registered notification URI host: the only host
	// whose pages may call the Mobile Plans JavaScript bridge (https is
	// implied; a bare host name or IP address, no path). A port is allowed
	// only on loopback names (localhost, 127.0.0.1), for portals served on
	// a development port.
	CallbackHost string `json:"callbackHost"`
	// Countries are the ISO 3166 alpha-2 codes where the operator is offered.
	Countries []string `json:"countries"`
	// ICCIDRanges are the operator's ICCID ranges. A device holding an
	// ICCID in one of them has a profile of this operator ("owned").
	ICCIDRanges []ICCIDRange `json:"iccidRanges,omitempty"`
	// EIDAllow, when not empty, shows the operator only to devices whose
	// EID starts with one of these digit prefixes.
	EIDAllow []string `json:"eidAllow,omitempty"`
	// EIDDeny hides the operator from devices whose EID starts with one of
	// these digit prefixes.
	EIDDeny []string `json:"eidDeny,omitempty"`
	// DeviceAllow, when not empty, shows the operator only on these makes
	// and models (an OEM-branded operator).
	DeviceAllow []DeviceFilter `json:"deviceAllow,omitempty"`
	// DeviceDeny hides the operator on these makes and models.
	DeviceDeny []DeviceFilter `json:"deviceDeny,omitempty"`
	// Gateway holds the enhanced gateway page templates; nil means the
	// standard gateway page.
	Gateway *Gateway `json:"gateway,omitempty"`
	// APNs are the connection settings, COSA-like.
	APNs []APN `json:"apns,omitempty"`
	// MOBaseURL is the https base of the MO Web API (GetBalance:
	// {MOBaseURL}/sims/iccid:{ICCID}/balances); empty: no balance support.
	MOBaseURL string `json:"moBaseUrl,omitempty"`
	// OffersURI is the https base of GetOffers ({OffersURI}sims/...); empty:
	// the gateway template is always "0".
	OffersURI string `json:"offersUri,omitempty"`
	// NotificationsURI is the https base of GetNotifications. It is stored
	// and validated for the notification feature; no endpoint of this
	// service calls it.
	NotificationsURI string `json:"notificationsUri,omitempty"`
}

// ICCIDRange is either a digit prefix or an inclusive From..To range of
// equal-length digit strings; an ICCID is in the range when its first
// len(From) digits lie between From and To.
type ICCIDRange struct {
	Prefix string `json:"prefix,omitempty"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
}

// Contains reports whether iccid (digits, trailing 'F' already stripped)
// falls in r.
func (r ICCIDRange) Contains(iccid string) bool {
	if r.Prefix != "" {
		return strings.HasPrefix(iccid, r.Prefix)
	}
	if r.From == "" || len(iccid) < len(r.From) {
		return false
	}
	head := iccid[:len(r.From)]
	return head >= r.From && head <= r.To
}

// specificity orders overlapping ranges: more fixed digits wins.
func (r ICCIDRange) specificity() int {
	if r.Prefix != "" {
		return len(r.Prefix)
	}
	// Count the digits From and To share.
	n := 0
	for n < len(r.From) && r.From[n] == r.To[n] {
		n++
	}
	return n
}

func (r ICCIDRange) String() string {
	if r.Prefix != "" {
		return r.Prefix + "*"
	}
	return r.From + "-" + r.To
}

// DeviceFilter names a device make and, optionally, a model (empty: every
// model of the make). Both compare case-insensitively with the values the
// device reports (System Info make/model).
type DeviceFilter struct {
	Make  string `json:"make"`
	Model string `json:"model,omitempty"`
}

// Matches reports whether the device make/model is covered by f.
func (f DeviceFilter) Matches(deviceMake, model string) bool {
	if deviceMake == "" || !strings.EqualFold(f.Make, deviceMake) {
		return false
	}
	return f.Model == "" || strings.EqualFold(f.Model, model)
}

// AuthType is the APN authentication protocol.
type AuthType string

// APN authentication protocols (COSA AuthProtocol; MS-CHAPv2 is not offered).
const (
	AuthNone AuthType = "none"
	AuthPAP  AuthType = "pap"
	AuthCHAP AuthType = "chap"
)

// IPType is the PDP/PDN type of an APN.
type IPType string

// IP types (COSA IPType; the default is IPv4).
const (
	IPv4   IPType = "ipv4"
	IPv6   IPType = "ipv6"
	IPv4v6 IPType = "ipv4v6"
)

// APN is one set of connection settings. MCCMNCs and ICCIDRanges restrict
// where it applies; when several apply, the one matching the most of these
// identifiers wins (COSA rule), then the first in order.
type APN struct {
	Name           string       `json:"name"`
	AuthType       AuthType     `json:"authType"`
	Username       string       `json:"username,omitempty"`
	Password       string       `json:"password,omitempty"`
	IPType         IPType       `json:"ipType"`
	RoamingAllowed bool         `json:"roamingAllowed"`
	MCCMNCs        []string     `json:"mccmncs,omitempty"`
	ICCIDRanges    []ICCIDRange `json:"iccidRanges,omitempty"`
}

// FieldError reports an invalid field of an operator or gateway template,
// or an invalid request parameter (then Field is the parameter name).
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Limits of catalog values.
const (
	maxIDLen       = 64
	maxBrandLen    = 72
	maxLogoBytes   = 1 << 20
	maxLogoSide    = 1024
	maxAPNNameLen  = 100
	maxCredLen     = 128
	maxFilterLen   = 64
	maxListEntries = 256
)

// normalized returns a copy of op with canonical spellings (upper-case
// countries, lower-case enums, trimmed names, defaults filled in) and
// checks it, returning a *FieldError for the first invalid field.
func (op Operator) normalized() (Operator, error) {
	o := op
	o.Brand = strings.TrimSpace(o.Brand)
	o.CallbackHost = strings.ToLower(strings.TrimSpace(o.CallbackHost))
	o.Logo = bytes.Clone(o.Logo)
	o.Countries = make([]string, 0, len(op.Countries))
	for _, c := range op.Countries {
		c = strings.ToUpper(strings.TrimSpace(c))
		if !slices.Contains(o.Countries, c) {
			o.Countries = append(o.Countries, c)
		}
	}
	o.ICCIDRanges = nilIfEmpty(op.ICCIDRanges)
	o.EIDAllow = nilIfEmpty(op.EIDAllow)
	o.EIDDeny = nilIfEmpty(op.EIDDeny)
	o.DeviceAllow = trimFilters(op.DeviceAllow)
	o.DeviceDeny = trimFilters(op.DeviceDeny)
	if op.Gateway != nil {
		g := op.Gateway.clone()
		for i := range g.PromotionTemplates {
			g.PromotionTemplates[i].Images = nilIfEmpty(g.PromotionTemplates[i].Images)
		}
		o.Gateway = &g
	}
	o.APNs = make([]APN, len(op.APNs))
	for i, a := range op.APNs {
		a.Name = strings.TrimSpace(a.Name)
		a.AuthType = AuthType(strings.ToLower(string(a.AuthType)))
		if a.AuthType == "" {
			a.AuthType = AuthNone
		}
		a.IPType = IPType(strings.ToLower(string(a.IPType)))
		if a.IPType == "" {
			a.IPType = IPv4
		}
		a.MCCMNCs = nilIfEmpty(a.MCCMNCs)
		a.ICCIDRanges = nilIfEmpty(a.ICCIDRanges)
		o.APNs[i] = a
	}
	if len(o.APNs) == 0 {
		o.APNs = nil
	}
	return o, o.validate()
}

// nilIfEmpty copies s, giving nil for an empty slice (the store gives nil
// back for empty lists).
func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

func trimFilters(fs []DeviceFilter) []DeviceFilter {
	if len(fs) == 0 {
		return nil
	}
	out := make([]DeviceFilter, len(fs))
	for i, f := range fs {
		out[i] = DeviceFilter{Make: strings.TrimSpace(f.Make), Model: strings.TrimSpace(f.Model)}
	}
	return out
}

func (o *Operator) validate() error {
	if !validID(o.ID) {
		return fieldErr("id", "must be 1-%d characters of a-z, 0-9 and '-', not starting with '-'", maxIDLen)
	}
	if o.Brand == "" || utf8.RuneCountInString(o.Brand) > maxBrandLen || !printable(o.Brand) {
		return fieldErr("brand", "must be 1-%d printable characters", maxBrandLen)
	}
	if len(o.Logo) > 0 {
		if len(o.Logo) > maxLogoBytes {
			return fieldErr("logo", "larger than %d bytes", maxLogoBytes)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(o.Logo))
		if err != nil {
			return fieldErr("logo", "not a PNG image: %v", err)
		}
		if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxLogoSide || cfg.Height > maxLogoSide {
			return fieldErr("logo", "%dx%d pixels, want 1..%d on each side", cfg.Width, cfg.Height, maxLogoSide)
		}
	}
	if o.LogoURL != "" {
		if err := checkHTTPSURL(o.LogoURL); err != nil {
			return fieldErr("logoUrl", "%v", err)
		}
	}
	if err := checkHTTPSURL(o.PortalURL); err != nil {
		return fieldErr("portalUrl", "%v", err)
	}
	if !validCallbackHost(o.CallbackHost) {
		return fieldErr("callbackHost", "must be a host name or IP address without scheme, port (except on localhost) or path")
	}
	if len(o.Countries) == 0 {
		return fieldErr("countries", "at least one country is required")
	}
	if len(o.Countries) > maxListEntries {
		return fieldErr("countries", "more than %d entries", maxListEntries)
	}
	for _, c := range o.Countries {
		if !validCountry(c) {
			return fieldErr("countries", "%q is not an ISO 3166 alpha-2 code", c)
		}
	}
	if err := validateRanges("iccidRanges", o.ICCIDRanges); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		list []string
	}{{"eidAllow", o.EIDAllow}, {"eidDeny", o.EIDDeny}} {
		name, list := f.name, f.list
		if len(list) > maxListEntries {
			return fieldErr(name, "more than %d entries", maxListEntries)
		}
		for _, p := range list {
			if p == "" || len(p) > eidLen || !allDigits(p) {
				return fieldErr(name, "%q is not an EID prefix (1-%d digits)", p, eidLen)
			}
		}
	}
	for _, f := range []struct {
		name string
		list []DeviceFilter
	}{{"deviceAllow", o.DeviceAllow}, {"deviceDeny", o.DeviceDeny}} {
		name, list := f.name, f.list
		if len(list) > maxListEntries {
			return fieldErr(name, "more than %d entries", maxListEntries)
		}
		for _, f := range list {
			if f.Make == "" || len(f.Make) > maxFilterLen || !printable(f.Make) || len(f.Model) > maxFilterLen || !printable(f.Model) {
				return fieldErr(name, "make must be 1-%d and model 0-%d printable characters", maxFilterLen, maxFilterLen)
			}
		}
	}
	if o.Gateway != nil {
		if err := o.Gateway.Validate(); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				return &FieldError{Field: "gateway." + fe.Field, Reason: fe.Reason}
			}
			return fieldErr("gateway", "%v", err)
		}
	}
	if len(o.APNs) > maxListEntries {
		return fieldErr("apns", "more than %d entries", maxListEntries)
	}
	for i, a := range o.APNs {
		if err := a.validate(fmt.Sprintf("apns[%d]", i)); err != nil {
			return err
		}
	}
	for _, f := range [][2]string{{"moBaseUrl", o.MOBaseURL}, {"offersUri", o.OffersURI}, {"notificationsUri", o.NotificationsURI}} {
		name, u := f[0], f[1]
		if u == "" {
			continue
		}
		if err := checkHTTPSURL(u); err != nil {
			return fieldErr(name, "%v", err)
		}
	}
	return nil
}

func (a APN) validate(field string) error {
	if a.Name == "" || len(a.Name) > maxAPNNameLen || !validAPNName(a.Name) {
		return fieldErr(field+".name", "must be 1-%d characters of dot-separated labels of letters, digits and '-'", maxAPNNameLen)
	}
	switch a.AuthType {
	case AuthNone:
		if a.Username != "" || a.Password != "" {
			return fieldErr(field+".authType", "none does not take a username or password")
		}
	case AuthPAP, AuthCHAP:
	default:
		return fieldErr(field+".authType", "%q is not one of none, pap, chap", a.AuthType)
	}
	if len(a.Username) > maxCredLen || !printable(a.Username) || len(a.Password) > maxCredLen || !printable(a.Password) {
		return fieldErr(field+".username", "username and password must be at most %d printable characters", maxCredLen)
	}
	switch a.IPType {
	case IPv4, IPv6, IPv4v6:
	default:
		return fieldErr(field+".ipType", "%q is not one of ipv4, ipv6, ipv4v6", a.IPType)
	}
	if len(a.MCCMNCs) > maxListEntries {
		return fieldErr(field+".mccmncs", "more than %d entries", maxListEntries)
	}
	for _, m := range a.MCCMNCs {
		if !validMCCMNC(m) {
			return fieldErr(field+".mccmncs", "%q is not an MCC/MNC (5 or 6 digits)", m)
		}
	}
	return validateRanges(field+".iccidRanges", a.ICCIDRanges)
}

func validateRanges(field string, rs []ICCIDRange) error {
	if len(rs) > maxListEntries {
		return fieldErr(field, "more than %d entries", maxListEntries)
	}
	for _, r := range rs {
		switch {
		case r.Prefix != "" && (r.From != "" || r.To != ""):
			return fieldErr(field, "a range has either a prefix or from/to, not both")
		case r.Prefix != "":
			if !iccidPart(r.Prefix) {
				return fieldErr(field, "prefix %q must be 2-%d digits starting with 89", r.Prefix, maxICCIDLen)
			}
		default:
			if !iccidPart(r.From) || !iccidPart(r.To) || len(r.From) != len(r.To) {
				return fieldErr(field, "from %q and to %q must be digit strings of equal length (2-%d) starting with 89", r.From, r.To, maxICCIDLen)
			}
			if r.From > r.To {
				return fieldErr(field, "from %q is after to %q", r.From, r.To)
			}
		}
	}
	return nil
}

func iccidPart(s string) bool {
	return len(s) >= 2 && len(s) <= maxICCIDLen && strings.HasPrefix(s, "89") && allDigits(s)
}

func validID(s string) bool {
	if s == "" || len(s) > maxIDLen || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func validAPNName(s string) bool {
	for _, label := range strings.Split(s, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// validHost accepts a DNS name or an IP address, nothing else.
// validCallbackHost is validHost, or a loopback name with a port.
func validCallbackHost(h string) bool {
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		return validHost(h)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return false
	}
	return host == "localhost" || host == "127.0.0.1"
}

func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if net.ParseIP(h) != nil {
		return true
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// checkHTTPSURL accepts an absolute https URL with a host, without user
// information or fragment. Ports are allowed (the bundled stack listens on
// loopback ports).
func checkHTTPSURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "https" {
		return fmt.Errorf("%q must use https", s)
	}
	if u.Hostname() == "" || !validHost(strings.ToLower(u.Hostname())) {
		return fmt.Errorf("%q has no valid host", s)
	}
	if u.User != nil {
		return fmt.Errorf("%q must not carry user information", s)
	}
	if u.Fragment != "" {
		return fmt.Errorf("%q must not have a fragment", s)
	}
	return nil
}

func validCountry(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

func validMCCMNC(s string) bool { return (len(s) == 5 || len(s) == 6) && allDigits(s) }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// clone returns a deep copy of op (the catalog snapshot is shared between
// requests; callers get their own copies).
func (op Operator) clone() Operator {
	o := op
	o.Logo = bytes.Clone(op.Logo)
	o.Countries = slices.Clone(op.Countries)
	o.ICCIDRanges = slices.Clone(op.ICCIDRanges)
	o.EIDAllow = slices.Clone(op.EIDAllow)
	o.EIDDeny = slices.Clone(op.EIDDeny)
	o.DeviceAllow = slices.Clone(op.DeviceAllow)
	o.DeviceDeny = slices.Clone(op.DeviceDeny)
	if op.Gateway != nil {
		g := op.Gateway.clone()
		o.Gateway = &g
	}
	if op.APNs != nil {
		o.APNs = make([]APN, len(op.APNs))
		for i, a := range op.APNs {
			a.MCCMNCs = slices.Clone(a.MCCMNCs)
			a.ICCIDRanges = slices.Clone(a.ICCIDRanges)
			o.APNs[i] = a
		}
	}
	return o
}
