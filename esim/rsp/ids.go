package rsp

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
)

// ICCID is an integrated circuit card identifier: 18 to 20 decimal digits
// (19 or 20 in practice), without the F padding of its EF.ICCID coding.
type ICCID string

// ParseICCID validates s: surrounding spaces are trimmed, one trailing 'F' or
// 'f' (padding) is dropped, and the rest must be 18..20 decimal digits.
func ParseICCID(s string) (ICCID, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimSuffix(s, "F"), "f")
	if n := len(s); n < 18 || n > 20 {
		return "", fmt.Errorf("%w: %d digits, want 18..20", ErrBadICCID, n)
	}
	if i := nonDigit(s); i >= 0 {
		return "", fmt.Errorf("%w: character %q at position %d is not a digit", ErrBadICCID, s[i], i)
	}
	return ICCID(s), nil
}

// Encode returns the 10-byte EF.ICCID coding: nibble-swapped BCD, padded
// with F nibbles (a 19-digit ICCID ends in an F high nibble).
func (i ICCID) Encode() []byte {
	var nib [20]byte
	for k := range nib {
		nib[k] = 0xF
		if k < len(i) && i[k] >= '0' && i[k] <= '9' {
			nib[k] = i[k] - '0'
		}
	}
	out := make([]byte, 10)
	for k := range out {
		out[k] = nib[2*k] | nib[2*k+1]<<4
	}
	return out
}

// DecodeICCID decodes the 10-byte EF.ICCID coding. Nibbles A..E are refused,
// and so is F anywhere but in trailing padding.
func DecodeICCID(b []byte) (ICCID, error) {
	if len(b) != 10 {
		return "", fmt.Errorf("%w: %d bytes, want 10", ErrBadICCID, len(b))
	}
	digits := make([]byte, 0, 20)
	padded := false
	for k, c := range b {
		for _, n := range [2]byte{c & 0x0F, c >> 4} {
			switch {
			case n == 0xF:
				padded = true
			case n > 9:
				return "", fmt.Errorf("%w: byte %d (%02X) holds non-BCD nibble %X", ErrBadICCID, k, c, n)
			case padded:
				return "", fmt.Errorf("%w: digit after F padding in byte %d (%02X)", ErrBadICCID, k, c)
			default:
				digits = append(digits, '0'+n)
			}
		}
	}
	if len(digits) < 18 {
		return "", fmt.Errorf("%w: %d digits, want 18..20", ErrBadICCID, len(digits))
	}
	return ICCID(digits), nil
}

// EID is an eUICC identifier: 32 decimal digits whose value mod 97 is 1
// (SGP.29 check digits).
type EID string

// ParseEID validates s (surrounding spaces trimmed): 32 decimal digits with
// valid check digits. Errors wrap ErrBadEID.
func ParseEID(s string) (EID, error) {
	s = strings.TrimSpace(s)
	if len(s) != 32 {
		return "", fmt.Errorf("%w: %d digits, want 32", ErrBadEID, len(s))
	}
	if i := nonDigit(s); i >= 0 {
		return "", fmt.Errorf("%w: character %q at position %d is not a digit", ErrBadEID, s[i], i)
	}
	if r := mod97(s); r != 1 {
		return "", fmt.Errorf("%w: check digits %s do not verify (value mod 97 = %d, want 1)", ErrBadEID, s[30:], r)
	}
	return EID(s), nil
}

// NewEID builds a valid EID from prefix (decimal digits, e.g. the "89049032"
// of an EUM's range plus any fixed digits; at most 30) followed by serial and
// two check digits. serial is read as a big-endian unsigned number; its
// decimal form is left-padded with zeros, or cut to its least significant
// digits, to fill digits len(prefix)+1..30.
func NewEID(prefix string, serial []byte) (EID, error) {
	if len(prefix) > 30 {
		return "", fmt.Errorf("%w: prefix has %d digits, at most 30 allowed", ErrBadEID, len(prefix))
	}
	if i := nonDigit(prefix); i >= 0 {
		return "", fmt.Errorf("%w: prefix character %q at position %d is not a digit", ErrBadEID, prefix[i], i)
	}
	n := 30 - len(prefix)
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
	num := new(big.Int).Mod(new(big.Int).SetBytes(serial), limit).String()
	switch {
	case n == 0:
		num = ""
	case len(num) < n:
		num = strings.Repeat("0", n-len(num)) + num
	}
	body := prefix + num
	check := 98 - mod97(body+"00")
	return EID(fmt.Sprintf("%s%02d", body, check)), nil
}

// Encode returns the 16-byte straight (not swapped) BCD coding.
func (e EID) Encode() []byte {
	out := make([]byte, 16)
	for k := 0; k < 32; k++ {
		n := byte(0xF)
		if k < len(e) && e[k] >= '0' && e[k] <= '9' {
			n = e[k] - '0'
		}
		if k%2 == 0 {
			out[k/2] = n << 4
		} else {
			out[k/2] |= n
		}
	}
	return out
}

// DecodeEID decodes 16 bytes of straight BCD and verifies the check digits.
func DecodeEID(b []byte) (EID, error) {
	if len(b) != 16 {
		return "", fmt.Errorf("%w: %d bytes, want 16", ErrBadEID, len(b))
	}
	digits := make([]byte, 0, 32)
	for k, c := range b {
		if c>>4 > 9 || c&0x0F > 9 {
			return "", fmt.Errorf("%w: byte %d (%02X) is not BCD", ErrBadEID, k, c)
		}
		digits = append(digits, '0'+c>>4, '0'+c&0x0F)
	}
	return ParseEID(string(digits))
}

// nonDigit returns the index of the first non-digit byte of s, or -1.
func nonDigit(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return i
		}
	}
	return -1
}

// mod97 returns the decimal digit string s modulo 97.
func mod97(s string) int {
	r := 0
	for i := 0; i < len(s); i++ {
		r = (r*10 + int(s[i]-'0')) % 97
	}
	return r
}

// Version is an SGP.22 VersionType: major, minor, revision.
type Version [3]byte

// String returns e.g. "2.2.1".
func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]) }

// ParseVersion parses "major.minor.revision", each 0..255.
func ParseVersion(s string) (Version, error) {
	var v Version
	var a, b, c int
	if n, err := fmt.Sscanf(s, "%d.%d.%d", &a, &b, &c); err != nil || n != 3 || fmt.Sprintf("%d.%d.%d", a, b, c) != s {
		return v, fmt.Errorf("%w: version %q, want major.minor.revision", ErrMalformed, s)
	}
	for i, x := range [3]int{a, b, c} {
		if x < 0 || x > 255 {
			return Version{}, fmt.Errorf("%w: version %q: component %d out of range", ErrMalformed, s, x)
		}
		v[i] = byte(x)
	}
	return v, nil
}

func decodeVersion(b []byte) (Version, error) {
	var v Version
	if len(b) != 3 {
		return v, fmt.Errorf("%w: version is %d bytes, want 3", ErrMalformed, len(b))
	}
	copy(v[:], b)
	return v, nil
}

// ISDPAID is the application identifier of a profile's ISD-P.
type ISDPAID []byte

// String returns the AID in upper-case hex.
func (a ISDPAID) String() string { return strings.ToUpper(hex.EncodeToString(a)) }

// ProfileID selects a profile by ICCID or by ISD-P AID; exactly one should
// be set. When both are, the ICCID is used.
type ProfileID struct {
	ICCID ICCID
	AID   []byte
}

// String returns "iccid <digits>" or "aid <hex>".
func (p ProfileID) String() string {
	if p.ICCID != "" {
		return "iccid " + string(p.ICCID)
	}
	return "aid " + ISDPAID(p.AID).String()
}
