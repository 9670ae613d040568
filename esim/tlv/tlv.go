package tlv

import (
	"bytes"
	"errors"
	"fmt"
)

// MaxLen bounds the length of a single value. SGP.22 messages (a whole Bound
// Profile Package included) stay far below it.
const MaxLen = 1 << 24

// Typed decoding errors; callers branch on them with errors.Is.
var (
	ErrTruncated  = errors.New("tlv: truncated input")
	ErrIndefinite = errors.New("tlv: indefinite length not allowed")
	ErrTooLarge   = errors.New("tlv: length too large")
	ErrBadTag     = errors.New("tlv: malformed tag")
	ErrTrailing   = errors.New("tlv: trailing bytes after value")
	ErrNotFound   = errors.New("tlv: tag not found")
)

// Tag is a BER tag with its encoding bytes packed big-endian, e.g. 0xBF3E,
// 0x5F37, 0x9F70, 0x80.
type Tag uint32

// Class bits of the first tag byte.
const (
	ClassUniversal   = 0x00
	ClassApplication = 0x40
	ClassContext     = 0x80
	ClassPrivate     = 0xC0
)

// first returns the first encoded byte of the tag.
func (t Tag) first() byte {
	b := t.Bytes()
	return b[0]
}

// Constructed reports whether the tag has the constructed bit set.
func (t Tag) Constructed() bool { return t.first()&0x20 != 0 }

// Class returns the class bits (ClassUniversal ... ClassPrivate).
func (t Tag) Class() byte { return t.first() & 0xC0 }

// Bytes returns the encoded tag bytes.
func (t Tag) Bytes() []byte {
	switch {
	case t > 0xFFFFFF:
		return []byte{byte(t >> 24), byte(t >> 16), byte(t >> 8), byte(t)}
	case t > 0xFFFF:
		return []byte{byte(t >> 16), byte(t >> 8), byte(t)}
	case t > 0xFF:
		return []byte{byte(t >> 8), byte(t)}
	default:
		return []byte{byte(t)}
	}
}

// String formats the tag as upper-case hex, e.g. "BF3E".
func (t Tag) String() string { return fmt.Sprintf("%X", t.Bytes()) }

// TLV is one decoded or to-be-encoded element. Value holds the content
// bytes; for constructed tags these are the encoded children.
type TLV struct {
	Tag   Tag
	Value []byte
}

// New returns a primitive (or pre-encoded constructed) element.
func New(tag Tag, value []byte) TLV { return TLV{Tag: tag, Value: value} }

// NewConstructed returns a constructed element whose value is the
// concatenated encoding of children.
func NewConstructed(tag Tag, children ...TLV) TLV {
	var buf bytes.Buffer
	for _, c := range children {
		c.appendTo(&buf)
	}
	return TLV{Tag: tag, Value: buf.Bytes()}
}

// Bytes returns the complete encoding: tag, length, value.
func (t TLV) Bytes() []byte {
	var buf bytes.Buffer
	t.appendTo(&buf)
	return buf.Bytes()
}

func (t TLV) appendTo(buf *bytes.Buffer) {
	buf.Write(t.Tag.Bytes())
	buf.Write(EncodeLength(len(t.Value)))
	buf.Write(t.Value)
}

// Encode is shorthand for New(tag, value).Bytes().
func Encode(tag Tag, value []byte) []byte { return New(tag, value).Bytes() }

// EncodeLength returns the DER length octets for n.
func EncodeLength(n int) []byte {
	switch {
	case n < 0x80:
		return []byte{byte(n)}
	case n <= 0xFF:
		return []byte{0x81, byte(n)}
	case n <= 0xFFFF:
		return []byte{0x82, byte(n >> 8), byte(n)}
	case n <= 0xFFFFFF:
		return []byte{0x83, byte(n >> 16), byte(n >> 8), byte(n)}
	default:
		return []byte{0x84, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
	}
}

// ReadTag decodes a tag at the start of b and returns it with the number of
// bytes used.
func ReadTag(b []byte) (Tag, int, error) {
	if len(b) == 0 {
		return 0, 0, fmt.Errorf("%w: missing tag", ErrTruncated)
	}
	t := Tag(b[0])
	if b[0]&0x1F != 0x1F {
		return t, 1, nil
	}
	for i := 1; ; i++ {
		if i >= len(b) {
			return 0, 0, fmt.Errorf("%w: tag %X incomplete", ErrTruncated, b)
		}
		if i > 3 {
			return 0, 0, fmt.Errorf("%w: tag longer than 4 bytes", ErrBadTag)
		}
		t = t<<8 | Tag(b[i])
		if b[i]&0x80 == 0 {
			return t, i + 1, nil
		}
	}
}

// ReadLength decodes length octets at the start of b and returns the length
// with the number of bytes used.
func ReadLength(b []byte) (int, int, error) {
	if len(b) == 0 {
		return 0, 0, fmt.Errorf("%w: missing length", ErrTruncated)
	}
	if b[0] < 0x80 {
		return int(b[0]), 1, nil
	}
	if b[0] == 0x80 {
		return 0, 0, ErrIndefinite
	}
	n := int(b[0] & 0x7F)
	if n > 4 {
		return 0, 0, fmt.Errorf("%w: %d length bytes", ErrTooLarge, n)
	}
	if len(b) < 1+n {
		return 0, 0, fmt.Errorf("%w: length field", ErrTruncated)
	}
	l := 0
	for _, c := range b[1 : 1+n] {
		l = l<<8 | int(c)
	}
	if l > MaxLen {
		return 0, 0, fmt.Errorf("%w: %d bytes (max %d)", ErrTooLarge, l, MaxLen)
	}
	return l, 1 + n, nil
}

// Decode reads one element from the start of b and returns it with the
// remaining bytes. The returned Value aliases b.
func Decode(b []byte) (TLV, []byte, error) {
	tag, tn, err := ReadTag(b)
	if err != nil {
		return TLV{}, nil, err
	}
	l, ln, err := ReadLength(b[tn:])
	if err != nil {
		return TLV{}, nil, fmt.Errorf("tag %s: %w", tag, err)
	}
	start := tn + ln
	if len(b)-start < l {
		return TLV{}, nil, fmt.Errorf("%w: tag %s wants %d bytes, %d present", ErrTruncated, tag, l, len(b)-start)
	}
	return TLV{Tag: tag, Value: b[start : start+l]}, b[start+l:], nil
}

// DecodeOne decodes exactly one element: trailing bytes are an error.
func DecodeOne(b []byte) (TLV, error) {
	t, rest, err := Decode(b)
	if err != nil {
		return TLV{}, err
	}
	if len(rest) != 0 {
		return TLV{}, fmt.Errorf("%w: %d bytes after tag %s", ErrTrailing, len(rest), t.Tag)
	}
	return t, nil
}

// DecodeAll decodes a sequence of elements that fills b.
func DecodeAll(b []byte) ([]TLV, error) {
	var out []TLV
	for len(b) > 0 {
		t, rest, err := Decode(b)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		b = rest
	}
	return out, nil
}

// Children decodes the value of a constructed element.
func (t TLV) Children() ([]TLV, error) {
	c, err := DecodeAll(t.Value)
	if err != nil {
		return nil, fmt.Errorf("in %s: %w", t.Tag, err)
	}
	return c, nil
}

// Find returns the first direct child with the given tag.
func (t TLV) Find(tag Tag) (TLV, bool, error) {
	cs, err := t.Children()
	if err != nil {
		return TLV{}, false, err
	}
	for _, c := range cs {
		if c.Tag == tag {
			return c, true, nil
		}
	}
	return TLV{}, false, nil
}

// Must returns the first direct child with the given tag, or an error
// wrapping ErrNotFound.
func (t TLV) Must(tag Tag) (TLV, error) {
	c, ok, err := t.Find(tag)
	if err != nil {
		return TLV{}, err
	}
	if !ok {
		return TLV{}, fmt.Errorf("%w: %s in %s", ErrNotFound, tag, t.Tag)
	}
	return c, nil
}

// Path walks down the tree through the given tags, taking the first match at
// each level, e.g. Path(resp, 0xA0, 0x30, 0x80).
func (t TLV) Path(tags ...Tag) (TLV, error) {
	cur := t
	for _, tg := range tags {
		next, err := cur.Must(tg)
		if err != nil {
			return TLV{}, err
		}
		cur = next
	}
	return cur, nil
}
