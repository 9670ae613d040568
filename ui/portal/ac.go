package portal

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// MaxActivationCodeLen bounds an activation code handed over by a portal.
const MaxActivationCodeLen = 1024

// maxMatchingID bounds the matching ID (AC_Token).
const maxMatchingID = 255

// CheckActivationCode does the local, syntactic check of an activation code
// handed over by a portal (mobile-plans.md 3.4, sgp22.md 5.1):
//
//	1$<SM-DP+ address>$<matching ID>[$<SM-DP+ OID>[$<CC required flag>]]
//
// Per mobile-plans.md 3.4 the portal must send it without the "LPA:" QR-code
// prefix and it must not require a confirmation code, so both are refused.
// The SM-DP+ address is a host name, an IPv4 address or a bracketed IPv6
// address, with an optional port (the bundled stack serves on loopback
// ports); the matching ID may be empty (the
// asynchronous examples of 3.4) and consists of letters, digits and '-'; an
// OID, when present, is dotted decimal; a CC flag other than "1" (empty or
// "0") is accepted; later fields are ignored (sgp22.md 5.1). The error never
// quotes the matching ID.
func CheckActivationCode(ac string) error {
	if ac == "" {
		return errors.New("activation code is empty")
	}
	if len(ac) > MaxActivationCodeLen {
		return fmt.Errorf("activation code is longer than %d bytes", MaxActivationCodeLen)
	}
	if len(ac) >= 4 && strings.EqualFold(ac[:4], "LPA:") {
		return errors.New(`activation code must not carry the "LPA:" prefix (mobile-plans.md 3.4)`)
	}
	f := strings.Split(ac, "$")
	if f[0] != "1" {
		return errors.New(`activation code format field is not "1"`)
	}
	if len(f) < 3 {
		return fmt.Errorf("activation code has %d '$'-separated fields, want 1$<SM-DP+ address>$<matching ID>", len(f))
	}
	if err := checkHostPort(f[1]); err != nil {
		return fmt.Errorf("activation code SM-DP+ address: %w", err)
	}
	if len(f[2]) > maxMatchingID {
		return fmt.Errorf("activation code matching ID is longer than %d bytes", maxMatchingID)
	}
	for i := 0; i < len(f[2]); i++ {
		if c := f[2][i]; !isAlnum(c) && c != '-' {
			return fmt.Errorf("activation code matching ID has a character outside [0-9A-Za-z-] at offset %d", i)
		}
	}
	if len(f) > 3 && f[3] != "" && !isOID(f[3]) {
		return errors.New("activation code SM-DP+ OID is not a dotted decimal OID")
	}
	if len(f) > 4 && f[4] == "1" {
		return errors.New("activation code requires a confirmation code, which the portal flow must not (mobile-plans.md 3.4)")
	}
	return nil
}

// checkHostPort accepts host or host:port where host is a DNS host name, an
// IPv4 address or a bracketed IPv6 address, and port is 1 to 65535.
func checkHostPort(a string) error {
	if a == "" {
		return errors.New("empty")
	}
	host, port := a, ""
	if strings.HasPrefix(a, "[") {
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return errors.New("unclosed '['")
		}
		host, port = a[1:end], a[end+1:]
		if ip := net.ParseIP(host); ip == nil || ip.To4() != nil || strings.Contains(host, "%") {
			return errors.New("not an IPv6 address in brackets")
		}
		if port == "" {
			return nil
		}
		if port[0] != ':' {
			return errors.New("not host[:port]")
		}
		port = port[1:]
	} else {
		if i := strings.IndexByte(a, ':'); i >= 0 {
			host, port = a[:i], a[i+1:]
			if port == "" {
				return errors.New("empty port")
			}
		}
		if !isHostName(host) {
			return errors.New("not a host name")
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] < '1' || port[0] > '9' {
			return errors.New("bad port")
		}
	}
	return nil
}

// isHostName reports whether h is a DNS name of letters, digits and hyphens
// in dot-separated labels of 1 to 63 bytes, 253 bytes in all.
func isHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !isAlnum(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

func isOID(s string) bool {
	arcs := strings.Split(s, ".")
	if len(arcs) < 2 {
		return false
	}
	for _, a := range arcs {
		if a == "" || len(a) > 20 || (len(a) > 1 && a[0] == '0') {
			return false
		}
		for i := 0; i < len(a); i++ {
			if a[i] < '0' || a[i] > '9' {
				return false
			}
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// CheckICCID checks an ICCID handed over by a portal: 19 or 20 decimal
// digits starting with "89" (the ICCID rules of mobile-plans.md 7). A
// trailing 'F' filler must have been stripped (3.1).
func CheckICCID(iccid string) error {
	if len(iccid) < 19 || len(iccid) > 20 {
		return fmt.Errorf("ICCID has %d characters, want 19 or 20 digits", len(iccid))
	}
	for i := 0; i < len(iccid); i++ {
		if iccid[i] < '0' || iccid[i] > '9' {
			return fmt.Errorf("ICCID has a non-digit at offset %d", i)
		}
	}
	if !strings.HasPrefix(iccid, "89") {
		return errors.New(`ICCID does not start with "89"`)
	}
	return nil
}

// RedactActivationCode returns ac with the matching ID shortened to its first
// four characters, for logs ("1$smdp.example.com$JO46…(16)").
func RedactActivationCode(ac string) string {
	f := strings.SplitN(ac, "$", 4)
	if len(f) < 3 {
		if len(ac) > 8 {
			return ac[:4] + "…(" + strconv.Itoa(len(ac)) + ")"
		}
		return ac
	}
	id := f[2]
	if len(id) > 4 {
		id = id[:4] + "…(" + strconv.Itoa(len(f[2])) + ")"
	}
	out := f[0] + "$" + truncate(f[1], 80) + "$" + id
	if len(f) == 4 {
		out += "$…"
	}
	return out
}
