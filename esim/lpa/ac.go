package lpa

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
)

// ErrBadActivationCode is wrapped by every error of ParseActivationCode.
var ErrBadActivationCode = errors.New("lpa: invalid activation code")

// MaxActivationCodeLen bounds the length of an activation code (with its
// "LPA:" prefix) accepted by ParseActivationCode.
const MaxActivationCodeLen = 1024

// maxMatchingIDLen bounds the matching ID (AC_Token).
const maxMatchingIDLen = 255

// acPrefix is the QR-code URI prefix of an activation code (sgp22.md 5.1).
const acPrefix = "LPA:"

// ActivationCode is an SGP.22 activation code (sgp22.md 5.1):
//
//	[LPA:]1$<SM-DP+ address>$<matching ID>[$<SM-DP+ OID>[$<CC required flag>]]
type ActivationCode struct {
	// SMDPAddress is "host" or "host:port"; "" means the eUICC's default
	// SM-DP+ address (ES10a.GetEuiccConfiguredAddresses).
	SMDPAddress string
	// MatchingID is the AC_Token sent in ctxParams1; it may be empty.
	MatchingID string
	// SMDPOID is the SM-DP+ OID in dotted form, "" when absent.
	SMDPOID string
	// ConfirmationCodeRequired is the CC flag ("1").
	ConfirmationCodeRequired bool
}

// ParseActivationCode parses an activation code with or without the "LPA:"
// prefix (any letter case); surrounding white space is ignored. The format
// field must be "1". The SM-DP+ address may be empty or host[:port]; the
// matching ID may be empty and consists of letters, digits and '-'; the OID,
// when present, is a dotted OID of at least two arcs; the CC flag is "1",
// "0" or empty. Fields after the CC flag (later SGP.22 versions) are
// ignored. Errors wrap ErrBadActivationCode.
func ParseActivationCode(s string) (ActivationCode, error) {
	s = strings.TrimSpace(s)
	if len(s) > MaxActivationCodeLen {
		return ActivationCode{}, acError("longer than %d bytes", MaxActivationCodeLen)
	}
	if len(s) >= len(acPrefix) && strings.EqualFold(s[:len(acPrefix)], acPrefix) {
		s = s[len(acPrefix):]
	}
	if s == "" {
		return ActivationCode{}, acError("empty")
	}
	fields := strings.Split(s, "$")
	if fields[0] != "1" {
		return ActivationCode{}, acError("format field is %q, want \"1\"", truncate(fields[0], 16))
	}
	if len(fields) < 3 {
		return ActivationCode{}, acError("want at least 3 '$'-separated fields (1$address$matchingID), got %d", len(fields))
	}
	ac := ActivationCode{SMDPAddress: fields[1], MatchingID: fields[2]}
	if err := checkSMDPAddress(ac.SMDPAddress); err != nil {
		return ActivationCode{}, acError("SM-DP+ address: %v", err)
	}
	if err := checkMatchingID(ac.MatchingID); err != nil {
		return ActivationCode{}, acError("matching ID: %v", err)
	}
	if len(fields) > 3 {
		ac.SMDPOID = fields[3]
		if ac.SMDPOID != "" {
			if err := checkOID(ac.SMDPOID); err != nil {
				return ActivationCode{}, acError("SM-DP+ OID: %v", err)
			}
		}
	}
	if len(fields) > 4 {
		switch fields[4] {
		case "1":
			ac.ConfirmationCodeRequired = true
		case "0", "":
		default:
			return ActivationCode{}, acError("confirmation code flag is %q, want \"1\", \"0\" or empty", truncate(fields[4], 16))
		}
	}
	return ac, nil
}

// String returns the activation code without the "LPA:" prefix, with only
// the fields needed: 1$address$matchingID, then $OID and $1 as required.
// It parses back to the same ActivationCode.
func (ac ActivationCode) String() string {
	var b strings.Builder
	b.WriteString("1$")
	b.WriteString(ac.SMDPAddress)
	b.WriteByte('$')
	b.WriteString(ac.MatchingID)
	if ac.SMDPOID != "" || ac.ConfirmationCodeRequired {
		b.WriteByte('$')
		b.WriteString(ac.SMDPOID)
	}
	if ac.ConfirmationCodeRequired {
		b.WriteString("$1")
	}
	return b.String()
}

// URI returns the activation code with the "LPA:" prefix, as in QR codes.
func (ac ActivationCode) URI() string { return acPrefix + ac.String() }

// LogValue logs the activation code with the matching ID redacted.
func (ac ActivationCode) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("smdp", ac.SMDPAddress),
		slog.String("matching_id", redact(ac.MatchingID)),
		slog.Bool("cc_required", ac.ConfirmationCodeRequired),
	)
}

func acError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadActivationCode, fmt.Sprintf(format, args...))
}

// checkSMDPAddress accepts "" or host[:port] where host is a DNS name, an
// IPv4 address or a bracketed IPv6 address.
func checkSMDPAddress(addr string) error {
	if addr == "" {
		return nil
	}
	host, port, hasPort := addr, "", false
	if strings.HasPrefix(addr, "[") {
		end := strings.IndexByte(addr, ']')
		if end < 0 {
			return fmt.Errorf("%q has no closing ']'", truncate(addr, 64))
		}
		host = addr[1:end]
		if rest := addr[end+1:]; rest != "" {
			if rest[0] != ':' {
				return fmt.Errorf("%q is not [IPv6]:port", truncate(addr, 64))
			}
			port, hasPort = rest[1:], true
		}
		if ip := net.ParseIP(host); ip == nil || strings.Contains(host, "%") || !strings.Contains(host, ":") {
			return fmt.Errorf("%q is not an IPv6 address", truncate(host, 64))
		}
	} else {
		if i := strings.LastIndexByte(addr, ':'); i >= 0 {
			host, port, hasPort = addr[:i], addr[i+1:], true
		}
		if strings.Contains(host, ":") {
			return fmt.Errorf("%q: an IPv6 address must be in brackets", truncate(addr, 64))
		}
		if err := checkHostName(host); err != nil {
			return err
		}
	}
	if hasPort {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' || port[0] == '+' {
			return fmt.Errorf("port %q is not 1..65535", truncate(port, 16))
		}
	}
	return nil
}

// checkHostName accepts a DNS name of letters, digits, '-' and '.' (labels
// 1..63 bytes, total up to 253) or an IPv4 address.
func checkHostName(h string) error {
	if h == "" {
		return errors.New("empty host")
	}
	if len(h) > 253 {
		return fmt.Errorf("host name of %d bytes, at most 253", len(h))
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("host %q has an empty or over-long label", truncate(h, 64))
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("host %q has a label starting or ending with '-'", truncate(h, 64))
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlnum(c) && c != '-' {
				return fmt.Errorf("host %q contains %q", truncate(h, 64), c)
			}
		}
	}
	return nil
}

// checkMatchingID accepts letters, digits and '-' (the character set lpac
// accepts, sgp22.md 5.1).
func checkMatchingID(id string) error {
	if len(id) > maxMatchingIDLen {
		return fmt.Errorf("%d bytes, at most %d", len(id), maxMatchingIDLen)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isAlnum(c) && c != '-' {
			return fmt.Errorf("character %q at position %d (allowed: letters, digits, '-')", c, i)
		}
	}
	return nil
}

// checkOID accepts a dotted OID: at least two arcs of decimal digits
// without leading zeros, the first arc 0..2.
func checkOID(oid string) error {
	arcs := strings.Split(oid, ".")
	if len(arcs) < 2 {
		return fmt.Errorf("%q has fewer than two arcs", truncate(oid, 64))
	}
	for i, a := range arcs {
		if a == "" || len(a) > 19 || (len(a) > 1 && a[0] == '0') {
			return fmt.Errorf("%q: arc %d is not a decimal number", truncate(oid, 64), i+1)
		}
		for j := 0; j < len(a); j++ {
			if a[j] < '0' || a[j] > '9' {
				return fmt.Errorf("%q: arc %d is not a decimal number", truncate(oid, 64), i+1)
			}
		}
	}
	if arcs[0] != "0" && arcs[0] != "1" && arcs[0] != "2" {
		return fmt.Errorf("%q: first arc must be 0, 1 or 2", truncate(oid, 64))
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// truncate shortens s for error messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// redact keeps the first and last two characters of a secret-ish value
// (matching ID) for logs.
func redact(s string) string {
	switch {
	case s == "":
		return ""
	case len(s) <= 6:
		return "***"
	}
	return s[:2] + "***" + s[len(s)-2:]
}
