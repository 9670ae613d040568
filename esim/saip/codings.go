package saip

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/mobileplans/mobileplans/esim/rsp"
)

// Sizes of the elementary files whose content this package codes.
const (
	imsiFileSize = 9  // EF.IMSI: length byte + 8 bytes of BCD
	spnFileSize  = 17 // EF.SPN: display condition + 16 bytes of name
	spnNameSize  = spnFileSize - 1
)

// encodeIMSI returns the 9-byte EF.IMSI content (3GPP TS 31.102 4.2.2,
// identity coding of TS 24.008): a length byte counting the bytes that
// follow, then BCD nibbles low-first: the parity/type nibble (1 = IMSI, plus
// 8 when the number of digits is odd), the digits, F padding. imsi must be
// 1..15 decimal digits.
func encodeIMSI(imsi string) []byte {
	nib := make([]byte, 0, 16)
	first := byte(0x1)
	if len(imsi)%2 == 1 {
		first |= 0x8
	}
	nib = append(nib, first)
	for i := 0; i < len(imsi); i++ {
		nib = append(nib, imsi[i]-'0')
	}
	used := (len(nib) + 1) / 2
	for len(nib) < 16 {
		nib = append(nib, 0xF)
	}
	out := make([]byte, imsiFileSize)
	out[0] = byte(used)
	for k := 0; k < 8; k++ {
		out[1+k] = nib[2*k] | nib[2*k+1]<<4
	}
	return out
}

// decodeIMSI decodes EF.IMSI content (at least 1+L bytes; further bytes are
// ignored) and checks the type and parity nibble. The result has 6..15
// digits.
func decodeIMSI(b []byte) (string, error) {
	if len(b) < 2 {
		return "", fmt.Errorf("%w: EF.IMSI has %d bytes", ErrMalformed, len(b))
	}
	l := int(b[0])
	if l < 1 || l > 8 || len(b) < 1+l {
		return "", fmt.Errorf("%w: EF.IMSI length byte %d with %d bytes of content", ErrMalformed, l, len(b))
	}
	first := b[1] & 0x0F
	if first&0x7 != 0x1 {
		return "", fmt.Errorf("%w: EF.IMSI identity type %d, want 1 (IMSI)", ErrMalformed, first&0x7)
	}
	odd := first&0x8 != 0
	nib := make([]byte, 0, 2*l-1)
	nib = append(nib, b[1]>>4)
	for _, c := range b[2 : 1+l] {
		nib = append(nib, c&0x0F, c>>4)
	}
	if !odd {
		if nib[len(nib)-1] != 0xF {
			return "", fmt.Errorf("%w: EF.IMSI even parity but last nibble is %X, want F", ErrMalformed, nib[len(nib)-1])
		}
		nib = nib[:len(nib)-1]
	}
	digits := make([]byte, len(nib))
	for i, n := range nib {
		if n > 9 {
			return "", fmt.Errorf("%w: EF.IMSI digit %d is %X", ErrMalformed, i+1, n)
		}
		digits[i] = '0' + n
	}
	if err := checkIMSI(string(digits)); err != nil {
		return "", fmt.Errorf("%w: EF.IMSI: %w", ErrMalformed, err)
	}
	return string(digits), nil
}

// checkIMSI validates 6..15 decimal digits.
func checkIMSI(s string) error {
	if n := len(s); n < 6 || n > 15 {
		return fmt.Errorf("IMSI has %d digits, want 6..15", n)
	}
	if i := nonDigit(s); i >= 0 {
		return fmt.Errorf("IMSI character %q at position %d is not a digit", s[i], i)
	}
	return nil
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

// encodeHeaderICCID returns the ICCID as the ProfileHeader carries it: plain
// BCD in digit order (not nibble-swapped), F-padded to 10 bytes.
func encodeHeaderICCID(id rsp.ICCID) []byte {
	out := make([]byte, 10)
	for k := 0; k < 20; k++ {
		n := byte(0xF)
		if k < len(id) {
			n = id[k] - '0'
		}
		if k%2 == 0 {
			out[k/2] = n << 4
		} else {
			out[k/2] |= n
		}
	}
	return out
}

// decodeHeaderICCID decodes the header coding of encodeHeaderICCID; F is
// allowed only as trailing padding.
func decodeHeaderICCID(b []byte) (rsp.ICCID, error) {
	if len(b) != 10 {
		return "", fmt.Errorf("%w: header iccid is %d bytes, want 10", ErrMalformed, len(b))
	}
	digits := make([]byte, 0, 20)
	padded := false
	for k, c := range b {
		for _, n := range [2]byte{c >> 4, c & 0x0F} {
			switch {
			case n == 0xF:
				padded = true
			case n > 9 || padded:
				return "", fmt.Errorf("%w: header iccid byte %d (%02X) is not F-padded BCD", ErrMalformed, k, c)
			default:
				digits = append(digits, '0'+n)
			}
		}
	}
	id, err := rsp.ParseICCID(string(digits))
	if err != nil {
		return "", fmt.Errorf("%w: header iccid: %w", ErrMalformed, err)
	}
	return id, nil
}

// encodePLMN returns the 3-byte PLMN coding of TS 24.008 (MCC digit 2|1,
// MNC digit 3|MCC digit 3, MNC digit 2|1; MNC digit 3 is F for two-digit
// MNCs). mccmnc is 5 or 6 validated digits.
func encodePLMN(mccmnc string) []byte {
	d := func(i int) byte {
		if i < len(mccmnc) {
			return mccmnc[i] - '0'
		}
		return 0xF
	}
	mnc3 := byte(0xF)
	if len(mccmnc) == 6 {
		mnc3 = d(5)
	}
	return []byte{d(1)<<4 | d(0), mnc3<<4 | d(2), d(4)<<4 | d(3)}
}

// gsmDefault is the GSM 03.38 / TS 23.038 default alphabet, indexed by
// septet value. Position 0x1B is the escape to the extension table; it is
// never produced by the encoder and is shown as a space when decoding, as
// TS 23.038 prescribes for receivers without extension support.
const gsmDefault = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

const gsmEscape = 0x1B

// gsmEncodeRune returns the septet of r in the default alphabet.
func gsmEncodeRune(r rune) (byte, bool) {
	i := 0
	for _, c := range gsmDefault {
		if c == r && i != gsmEscape {
			return byte(i), true
		}
		i++
	}
	return 0, false
}

// gsmDecodeByte returns the character of septet b (b < 0x80).
func gsmDecodeByte(b byte) rune {
	if b == gsmEscape {
		return ' '
	}
	i := 0
	for _, c := range gsmDefault {
		if i == int(b) {
			return c
		}
		i++
	}
	return '\uFFFD'
}

// encodeAlpha codes s into at most max bytes as a SIM alpha field: the GSM
// default alphabet (one unpacked septet per byte) when every character is in
// it, else UCS-2 with the 0x80 prefix of TS 102 221 Annex A. The result is
// padded with FF to max bytes.
func encodeAlpha(s string, max int) ([]byte, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("%q is not valid UTF-8", s)
	}
	out := make([]byte, 0, max)
	gsm := true
	for _, r := range s {
		c, ok := gsmEncodeRune(r)
		if !ok {
			gsm = false
			break
		}
		out = append(out, c)
	}
	if gsm {
		if len(out) > max {
			return nil, fmt.Errorf("%q needs %d bytes in the GSM default alphabet, at most %d fit", s, len(out), max)
		}
	} else {
		out = append(out[:0], 0x80)
		for _, r := range s {
			if r > 0xFFFE || (r >= 0xD800 && r <= 0xDFFF) {
				return nil, fmt.Errorf("%q: character %q cannot be coded in UCS-2", s, r)
			}
			out = append(out, byte(r>>8), byte(r))
		}
		if len(out) > max {
			return nil, fmt.Errorf("%q needs %d bytes in UCS-2, at most %d fit (%d characters)", s, len(out), max, (max-1)/2)
		}
	}
	for len(out) < max {
		out = append(out, 0xFF)
	}
	return out, nil
}

// decodeAlpha decodes an alpha field coded by encodeAlpha or by the 0x81 and
// 0x82 UCS-2 variants of TS 102 221 Annex A. FF padding is dropped.
func decodeAlpha(b []byte) (string, error) {
	if len(b) == 0 {
		return "", nil
	}
	var sb strings.Builder
	switch b[0] {
	case 0xFF:
		for i, c := range b {
			if c != 0xFF {
				return "", fmt.Errorf("byte %d (%02X) follows FF padding", i, c)
			}
		}
		return "", nil
	case 0x80:
		var u []uint16
		for rest := b[1:]; len(rest) >= 2; rest = rest[2:] {
			v := uint16(rest[0])<<8 | uint16(rest[1])
			if v == 0xFFFF {
				break
			}
			u = append(u, v)
		}
		return string(utf16.Decode(u)), nil
	case 0x81, 0x82:
		hdr := 3
		if b[0] == 0x82 {
			hdr = 4
		}
		if len(b) < hdr {
			return "", fmt.Errorf("UCS-2 variant %02X header truncated", b[0])
		}
		n := int(b[1])
		base := int(b[2]) << 7
		if b[0] == 0x82 {
			base = int(b[2])<<8 | int(b[3])
		}
		chars := b[hdr:]
		if n > len(chars) {
			return "", fmt.Errorf("UCS-2 variant %02X announces %d characters, %d present", b[0], n, len(chars))
		}
		for _, c := range chars[:n] {
			if c&0x80 != 0 {
				sb.WriteRune(rune(base + int(c&0x7F)))
			} else {
				sb.WriteRune(gsmDecodeByte(c))
			}
		}
		return sb.String(), nil
	}
	end := len(b)
	for end > 0 && b[end-1] == 0xFF {
		end--
	}
	for i, c := range b[:end] {
		if c >= 0x80 {
			return "", fmt.Errorf("byte %d (%02X) is not a GSM default alphabet character", i, c)
		}
		sb.WriteRune(gsmDecodeByte(c))
	}
	return sb.String(), nil
}

// spnDisplayCondition is byte 1 of EF.SPN as written by Build (TS 31.102
// 4.2.12; same value as the pySim EF.SPN test vector "show in HPLMN").
const spnDisplayCondition = 0x01

// encodeSPN returns the 17-byte EF.SPN content.
func encodeSPN(spn string) ([]byte, error) {
	name, err := encodeAlpha(spn, spnNameSize)
	if err != nil {
		return nil, fmt.Errorf("SPN %w", err)
	}
	return append([]byte{spnDisplayCondition}, name...), nil
}

// decodeSPN returns the service provider name of EF.SPN content.
func decodeSPN(b []byte) (string, error) {
	if len(b) < 1 {
		return "", fmt.Errorf("EF.SPN is empty")
	}
	name := b[1:]
	if len(name) > spnNameSize {
		name = name[:spnNameSize]
	}
	return decodeAlpha(name)
}

// encodeBCDNumber codes a dialling number (digits only) as swapped BCD,
// F-padded to size bytes (TS 31.102 4.4.2.3 / TS 51.011 10.5.1).
func encodeBCDNumber(digits string, size int) []byte {
	out := make([]byte, size)
	for k := range out {
		out[k] = 0xFF
	}
	for i := 0; i < len(digits) && i/2 < size; i++ {
		d := digits[i] - '0'
		if i%2 == 0 {
			out[i/2] = 0xF0 | d
		} else {
			out[i/2] = out[i/2]&0x0F | d<<4
		}
	}
	return out
}
