package saip

import (
	"fmt"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// ProfileElement CHOICE alternatives (PEDefinitions, AUTOMATIC TAGS: the
// n-th alternative gets context tag [n], constructed).
const (
	tagHeader  tlv.Tag = 0xA0 // [0] header ProfileHeader
	tagGFM     tlv.Tag = 0xA1 // [1] genericFileManagement
	tagPINs    tlv.Tag = 0xA2 // [2] pinCodes
	tagPUKs    tlv.Tag = 0xA3 // [3] pukCodes
	tagAKA     tlv.Tag = 0xA4 // [4] akaParameter
	tagEnd     tlv.Tag = 0xAA // [10] end
	tagMF      tlv.Tag = 0xB0 // [16] mf
	tagTelecom tlv.Tag = 0xB2 // [18] telecom
	tagUSIM    tlv.Tag = 0xB3 // [19] usim
	tagOptUSIM tlv.Tag = 0xB4 // [20] opt-usim
)

// elementName returns the ASN.1 name of a ProfileElement alternative, for
// error messages.
func elementName(t tlv.Tag) string {
	names := map[tlv.Tag]string{
		0xA0: "header", 0xA1: "genericFileManagement", 0xA2: "pinCodes", 0xA3: "pukCodes",
		0xA4: "akaParameter", 0xA5: "cdmaParameter", 0xA6: "securityDomain", 0xA7: "rfm",
		0xA8: "application", 0xA9: "nonStandard", 0xAA: "end",
		0xB0: "mf", 0xB1: "cd", 0xB2: "telecom", 0xB3: "usim", 0xB4: "opt-usim",
		0xB5: "isim", 0xB6: "opt-isim", 0xB7: "phonebook", 0xB8: "gsm-access", 0xB9: "csim",
		0xBA: "opt-csim", 0xBB: "eap", 0xBC: "df-5gs", 0xBD: "df-saip", 0xBE: "df-snpn",
	}
	if n, ok := names[t]; ok {
		return n
	}
	return "element " + t.String()
}

// ctx returns the context-specific tag [n], constructed or primitive.
func ctx(n int, constructed bool) tlv.Tag {
	first := tlv.Tag(0x80)
	if constructed {
		first = 0xA0
	}
	if n < 31 {
		return first | tlv.Tag(n)
	}
	return (first|0x1F)<<8 | tlv.Tag(n)
}

// encUint returns the minimal DER INTEGER content of a non-negative v.
func encUint(v int) []byte {
	var b []byte
	for {
		b = append([]byte{byte(v)}, b...)
		v >>= 8
		if v == 0 {
			break
		}
	}
	if b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return b
}

// decUint decodes a non-negative DER INTEGER of at most max.
func decUint(b []byte, max int) (int, error) {
	if len(b) == 0 || len(b) > 4 {
		return 0, fmt.Errorf("INTEGER of %d bytes", len(b))
	}
	if b[0]&0x80 != 0 {
		return 0, fmt.Errorf("negative INTEGER %X", b)
	}
	v := 0
	for _, c := range b {
		v = v<<8 | int(c)
	}
	if v > max {
		return 0, fmt.Errorf("INTEGER %d out of range 0..%d", v, max)
	}
	return v, nil
}

// encUnsigned returns v in the minimum number of big-endian octets (at least
// one), as efFileSize wants.
func encUnsigned(v int) []byte {
	var b []byte
	for {
		b = append([]byte{byte(v)}, b...)
		v >>= 8
		if v == 0 {
			return b
		}
	}
}

// encodeOID returns the content octets of an OBJECT IDENTIFIER.
func encodeOID(arcs ...int) []byte {
	out := []byte{byte(arcs[0]*40 + arcs[1])}
	for _, a := range arcs[2:] {
		var enc []byte
		enc = append(enc, byte(a&0x7F))
		for a >>= 7; a > 0; a >>= 7 {
			enc = append([]byte{byte(a&0x7F) | 0x80}, enc...)
		}
		out = append(out, enc...)
	}
	return out
}

// templateOID returns the OID of a SAIP file-structure template below
// {joint-iso-itu-t(2) international-organizations(23) tca(143)
// euicc-profile(1) templates(2)}.
func templateOID(sub ...int) []byte {
	return encodeOID(append([]int{2, 23, 143, 1, 2}, sub...)...)
}

// Template OIDs used by Build (values from pySim's pySim/esim/saip/oid.py).
func oidMF() []byte      { return templateOID(1) }    // MF
func oidTelecom() []byte { return templateOID(3, 2) } // DF.TELECOM v2
func oidUSIM() []byte    { return templateOID(4, 2) } // ADF.USIM created by default v2
func oidOptUSIM() []byte { return templateOID(5, 2) } // ADF.USIM optional, not created by default v2

// peHeader returns the PEHeader SEQUENCE {mandated NULL OPTIONAL,
// identification UInt15} with the given field tag.
func peHeader(tag tlv.Tag, id int, mandated bool) tlv.TLV {
	var ch []tlv.TLV
	if mandated {
		ch = append(ch, tlv.New(0x80, nil))
	}
	ch = append(ch, tlv.New(0x81, encUint(id)))
	return tlv.NewConstructed(tag, ch...)
}

// Fcp components (explicit tags of the Fcp SEQUENCE, same numbers as the
// ETSI TS 102 222 FCP template).
const (
	fcpEFFileSize   tlv.Tag = 0x80 // [0] efFileSize
	fcpDescriptor   tlv.Tag = 0x82 // [2] fileDescriptor
	fcpFileID       tlv.Tag = 0x83 // [3] fileID
	fcpDFName       tlv.Tag = 0x84 // [4] dfName
	fcpSecAttrRef   tlv.Tag = 0x8B // [11] securityAttributesReferenced
	fcpPINStatusDO  tlv.Tag = 0xC6 // [PRIVATE 6] pinStatusTemplateDO
	fileFcp         tlv.Tag = 0xA1 // File CHOICE fileDescriptor Fcp
	fileFillOffset  tlv.Tag = 0x82 // File CHOICE fillFileOffset
	fileFillContent tlv.Tag = 0x83 // File CHOICE fillFileContent
	fileDoNotCreate tlv.Tag = 0x80 // File CHOICE doNotCreate
)

// fileField returns a File (SEQUENCE OF CHOICE) as PE field [n]: an optional
// Fcp followed by optional content.
func fileField(n int, fcp []tlv.TLV, content []byte) tlv.TLV {
	var ch []tlv.TLV
	if fcp != nil {
		ch = append(ch, tlv.NewConstructed(fileFcp, fcp...))
	}
	if content != nil {
		ch = append(ch, tlv.New(fileFillContent, content))
	}
	return tlv.NewConstructed(ctx(n, true), ch...)
}

// descLinearFixed returns the file descriptor (TS 102 221 11.1.1.4.3) of a
// shareable linear fixed working EF: descriptor byte 42, data coding byte
// 21, 2-byte record length.
func descLinearFixed(rl int) []byte { return []byte{0x42, 0x21, byte(rl >> 8), byte(rl)} }

// linearFixedFcp returns the Fcp items for a linear fixed EF of n records of
// rl bytes.
func linearFixedFcp(rl, n int) []tlv.TLV {
	return []tlv.TLV{
		tlv.New(fcpDescriptor, descLinearFixed(rl)),
		tlv.New(fcpEFFileSize, encUnsigned(rl*n)),
	}
}
