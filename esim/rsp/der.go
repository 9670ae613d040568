package rsp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// elem is one decoded child element. raw is its complete encoding as it
// appeared in the input (tag, length and value).
type elem struct {
	tag tlv.Tag
	val []byte
	raw []byte
}

// elems decodes a sequence of elements that fills b.
func elems(b []byte) ([]elem, error) {
	var out []elem
	for len(b) > 0 {
		t, rest, err := tlv.Decode(b)
		if err != nil {
			return nil, err
		}
		out = append(out, elem{tag: t.Tag, val: t.Value, raw: b[:len(b)-len(rest)]})
		b = rest
	}
	return out, nil
}

// open decodes the complete TLV b, checks its tag and returns its children.
func open(b []byte, want tlv.Tag, what string) ([]elem, error) {
	t, err := tlv.DecodeOne(b)
	if err != nil {
		return nil, fmt.Errorf("rsp: %s: %w", what, err)
	}
	if t.Tag != want {
		return nil, fmt.Errorf("rsp: %s: %w %s, want %s", what, ErrWrongTag, t.Tag, want)
	}
	cs, err := elems(t.Value)
	if err != nil {
		return nil, fmt.Errorf("rsp: %s: in %s: %w", what, want, err)
	}
	return cs, nil
}

// children decodes the content of a constructed child element.
func (e elem) children() ([]elem, error) {
	cs, err := elems(e.val)
	if err != nil {
		return nil, fmt.Errorf("in %s: %w", e.tag, err)
	}
	return cs, nil
}

// find returns the first element with the given tag.
func find(es []elem, tag tlv.Tag) (elem, bool) {
	for _, e := range es {
		if e.tag == tag {
			return e, true
		}
	}
	return elem{}, false
}

// must is find that reports a missing element as ErrMissingField.
func must(es []elem, tag tlv.Tag, what string) (elem, error) {
	e, ok := find(es, tag)
	if !ok {
		return elem{}, fmt.Errorf("rsp: %s: %w %s", what, ErrMissingField, tag)
	}
	return e, nil
}

// encInt returns the minimal two's-complement content octets of v.
func encInt(v int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	i := 0
	for i < 7 && ((b[i] == 0x00 && b[i+1]&0x80 == 0) || (b[i] == 0xFF && b[i+1]&0x80 != 0)) {
		i++
	}
	return bytes.Clone(b[i:])
}

// decInt decodes INTEGER content octets into an int. Non-minimal (BER)
// encodings are accepted.
func decInt(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, fmt.Errorf("%w: empty INTEGER", ErrMalformed)
	}
	if len(b) > 8 {
		return 0, fmt.Errorf("%w: INTEGER of %d bytes is too large", ErrMalformed, len(b))
	}
	v := int64(int8(b[0]))
	for _, c := range b[1:] {
		v = v<<8 | int64(c)
	}
	if int64(int(v)) != v {
		return 0, fmt.Errorf("%w: INTEGER %d out of range", ErrMalformed, v)
	}
	return int(v), nil
}

func intTLV(tag tlv.Tag, v int) tlv.TLV { return tlv.New(tag, encInt(int64(v))) }

// fieldInt decodes the INTEGER element e, naming it in errors.
func fieldInt(e elem, what string) (int, error) {
	v, err := decInt(e.val)
	if err != nil {
		return 0, fmt.Errorf("rsp: %s: %s: %w", what, e.tag, err)
	}
	return v, nil
}

// mustInt decodes the mandatory INTEGER child tag of es.
func mustInt(es []elem, tag tlv.Tag, what string) (int, error) {
	e, err := must(es, tag, what)
	if err != nil {
		return 0, err
	}
	return fieldInt(e, what)
}

func boolTLV(tag tlv.Tag, v bool) tlv.TLV {
	if v {
		return tlv.New(tag, []byte{0xFF})
	}
	return tlv.New(tag, []byte{0x00})
}

// decBool decodes BOOLEAN content; any non-zero octet is TRUE (BER).
func decBool(b []byte) (bool, error) {
	if len(b) != 1 {
		return false, fmt.Errorf("%w: BOOLEAN of %d bytes", ErrMalformed, len(b))
	}
	return b[0] != 0, nil
}

// encBits8 encodes a named-bit BIT STRING whose bit i (0 = most significant
// bit of the first octet) is bit i of v, dropping trailing zero bits (DER).
func encBits8(v uint8) []byte {
	if v == 0 {
		return []byte{0x00}
	}
	high := 7 - bits.LeadingZeros8(v) // index of the highest named bit set
	return []byte{byte(7 - high), bits.Reverse8(v)}
}

// checkBits validates BIT STRING content: an unused-bits octet 0..7, and 0
// when there are no data octets.
func checkBits(b []byte) error {
	switch {
	case len(b) == 0:
		return fmt.Errorf("%w: empty BIT STRING", ErrMalformed)
	case b[0] > 7:
		return fmt.Errorf("%w: BIT STRING with %d unused bits", ErrMalformed, b[0])
	case len(b) == 1 && b[0] != 0:
		return fmt.Errorf("%w: BIT STRING without data has %d unused bits", ErrMalformed, b[0])
	}
	return nil
}

// decBits8 decodes named bits 0..7 of a BIT STRING; later bits are ignored.
func decBits8(b []byte) (uint8, error) {
	if err := checkBits(b); err != nil {
		return 0, err
	}
	if len(b) == 1 {
		return 0, nil
	}
	d := b[1]
	if len(b) == 2 {
		d &= 0xFF << b[0] // unused bits do not count
	}
	return bits.Reverse8(d), nil
}

// fieldBits8 decodes the BIT STRING element e, naming it in errors.
func fieldBits8(e elem, what string) (uint8, error) {
	v, err := decBits8(e.val)
	if err != nil {
		return 0, fmt.Errorf("rsp: %s: %s: %w", what, e.tag, err)
	}
	return v, nil
}

// rawBits returns a copy of BIT STRING content after validating it.
func rawBits(e elem, what string) ([]byte, error) {
	if err := checkBits(e.val); err != nil {
		return nil, fmt.Errorf("rsp: %s: %s: %w", what, e.tag, err)
	}
	return bytes.Clone(e.val), nil
}

// bitsOrEmpty returns raw BIT STRING content, or an empty BIT STRING for nil.
func bitsOrEmpty(b []byte) []byte {
	if len(b) == 0 {
		return []byte{0x00}
	}
	return b
}

// joinNames lists the names of the set bits of v, separated by commas.
func joinNames(v uint8, name func(bit int) string) string {
	if v == 0 {
		return "none"
	}
	var parts []string
	for i := 0; i < 8; i++ {
		if v&(1<<i) != 0 {
			parts = append(parts, name(i))
		}
	}
	return strings.Join(parts, ",")
}

// fieldICCID decodes the ICCID element e, naming it in errors.
func fieldICCID(e elem, what string) (ICCID, error) {
	id, err := DecodeICCID(e.val)
	if err != nil {
		return "", fmt.Errorf("rsp: %s: %s: %w", what, e.tag, err)
	}
	return id, nil
}

// fieldVersion decodes the VersionType element e, naming it in errors.
func fieldVersion(e elem, what string) (Version, error) {
	v, err := decodeVersion(e.val)
	if err != nil {
		return v, fmt.Errorf("rsp: %s: %s: %w", what, e.tag, err)
	}
	return v, nil
}

// constructed builds a TLV from already complete child encodings.
func constructed(tag tlv.Tag, raws ...[]byte) tlv.TLV {
	return tlv.New(tag, bytes.Join(raws, nil))
}
