package smdp

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// redact shortens a secret-ish value (matching ID, confirmation code) for
// logs: its first four characters and an ellipsis.
func redact(s string) string {
	r := []rune(s)
	if len(r) <= 4 {
		return "…"
	}
	return string(r[:4]) + "…"
}

// luhnDigit returns the Luhn check digit for the decimal string s.
func luhnDigit(s string) byte {
	sum := 0
	double := true // the digit left of the check digit is doubled
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

// luhnValid reports whether the last digit of s is its Luhn check digit.
func luhnValid(s string) bool {
	if len(s) < 2 || !allDigits(s) {
		return false
	}
	return luhnDigit(s[:len(s)-1]) == s[len(s)-1]
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// makeICCID returns prefix, serial zero-padded to 19 digits in total, and
// the Luhn digit (20 digits).
func makeICCID(prefix string, serial int) (string, error) {
	n := 19 - len(prefix)
	body := fmt.Sprintf("%s%0*d", prefix, n, serial)
	if len(body) != 19 {
		return "", fmt.Errorf("smdp: serial %d does not fit after ICCID prefix %s", serial, prefix)
	}
	return body + string(luhnDigit(body)), nil
}

// makeIMSI returns mccmnc followed by serial zero-padded to 15 digits.
func makeIMSI(mccmnc string, serial int) (string, error) {
	n := 15 - len(mccmnc)
	s := fmt.Sprintf("%s%0*d", mccmnc, n, serial)
	if len(s) != 15 {
		return "", fmt.Errorf("smdp: serial %d does not fit after MCC/MNC %s", serial, mccmnc)
	}
	return s, nil
}

// encodePLMN returns the 3-byte BCD coding of an MCC/MNC as in EF.IMSI and
// profileOwner: MCC2|MCC1, MNC3|MCC3, MNC2|MNC1 (MNC3 = F for two digits).
func encodePLMN(mccmnc string) ([]byte, error) {
	if (len(mccmnc) != 5 && len(mccmnc) != 6) || !allDigits(mccmnc) {
		return nil, fmt.Errorf("smdp: MCC/MNC %q is not 5 or 6 digits", mccmnc)
	}
	d := func(i int) byte { return mccmnc[i] - '0' }
	mnc3 := byte(0xF)
	if len(mccmnc) == 6 {
		mnc3 = d(5)
	}
	return []byte{d(1)<<4 | d(0), mnc3<<4 | d(2), d(4)<<4 | d(3)}, nil
}

// matchingIDAlphabet are the characters of generated matching IDs
// (upper-case letters and digits without look-alikes).
const matchingIDAlphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// newMatchingID returns a random matching ID like "7K2QF-9XH3A-M4T8P-Z6C1D".
func newMatchingID() string {
	b := make([]byte, 20)
	rand.Read(b) // crypto/rand.Read never fails
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%5 == 0 {
			sb.WriteByte('-')
		}
		// 256 is not a multiple of 34: the tiny bias is irrelevant for an
		// identifier with ~100 bits of entropy.
		sb.WriteByte(matchingIDAlphabet[int(c)%len(matchingIDAlphabet)])
	}
	return sb.String()
}

// validMatchingID accepts what activation codes can carry: 1..64 characters
// of [0-9A-Za-z-] (lpac refuses anything else).
func validMatchingID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}

// randomBytes returns n bytes from crypto/rand.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // crypto/rand.Read never fails
	return b
}
