package bsp

import (
	"fmt"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// TagReplaceSessionKeys is the tag of ReplaceSessionKeysRequest.
const TagReplaceSessionKeys tlv.Tag = 0xBF26

// EncodeReplaceSessionKeys returns the ReplaceSessionKeysRequest
// BF26 { 80 initialMacChainingValue, 81 ppkEnc, 82 ppkCmac } for k.
func EncodeReplaceSessionKeys(k SessionKeys) []byte {
	return tlv.NewConstructed(TagReplaceSessionKeys,
		tlv.New(0x80, k.MCV),
		tlv.New(0x81, k.SENC),
		tlv.New(0x82, k.SMAC),
	).Bytes()
}

// DecodeReplaceSessionKeys parses a ReplaceSessionKeysRequest. It must be
// exactly one BF26 holding 80, 81 and 82 in this order, 16 bytes each.
// Errors wrap ErrFormat. The returned keys do not alias b.
func DecodeReplaceSessionKeys(b []byte) (SessionKeys, error) {
	t, err := tlv.DecodeOne(b)
	if err != nil {
		return SessionKeys{}, fmt.Errorf("%w: ReplaceSessionKeys: %w", ErrFormat, err)
	}
	if t.Tag != TagReplaceSessionKeys {
		return SessionKeys{}, fmt.Errorf("%w: ReplaceSessionKeys: tag %s, want %s", ErrFormat, t.Tag, TagReplaceSessionKeys)
	}
	cs, err := t.Children()
	if err != nil {
		return SessionKeys{}, fmt.Errorf("%w: ReplaceSessionKeys: %w", ErrFormat, err)
	}
	want := []tlv.Tag{0x80, 0x81, 0x82}
	if len(cs) != len(want) {
		return SessionKeys{}, fmt.Errorf("%w: ReplaceSessionKeys has %d elements, want 3", ErrFormat, len(cs))
	}
	vals := make([][]byte, len(want))
	for i, c := range cs {
		if c.Tag != want[i] {
			return SessionKeys{}, fmt.Errorf("%w: ReplaceSessionKeys element %d is %s, want %s", ErrFormat, i, c.Tag, want[i])
		}
		if len(c.Value) != int(KeyLenAES128) {
			return SessionKeys{}, fmt.Errorf("%w: ReplaceSessionKeys %s is %d bytes, want %d", ErrFormat, c.Tag, len(c.Value), KeyLenAES128)
		}
		vals[i] = append([]byte(nil), c.Value...)
	}
	return SessionKeys{MCV: vals[0], SENC: vals[1], SMAC: vals[2]}, nil
}
