package tlv

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeKnown(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		tag   Tag
		value string
	}{
		{"GetEID request", "BF3E035C015A", 0xBF3E, "5C015A"},
		{"one-byte tag", "800100", 0x80, "00"},
		{"two-byte 5F37", "5F3702AABB", 0x5F37, "AABB"},
		{"three-byte tag", "9F8101 01 FF", 0x9F8101, "FF"},
		{"empty value", "BF2000", 0xBF20, ""},
		{"long form 81", "04 81 80" + strings.Repeat("00", 128), 0x04, strings.Repeat("00", 128)},
		{"long form 82", "04 82 0100" + strings.Repeat("11", 256), 0x04, strings.Repeat("11", 256)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := unhex(t, tc.in)
			got, err := DecodeOne(in)
			if err != nil {
				t.Fatal(err)
			}
			if got.Tag != tc.tag || !bytes.Equal(got.Value, unhex(t, tc.value)) {
				t.Fatalf("got %s %X", got.Tag, got.Value)
			}
			if re := got.Bytes(); !bytes.Equal(re, in) {
				t.Fatalf("re-encode %X, want %X", re, in)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrTruncated},
		{"tag only", "BF", ErrTruncated},
		{"no length", "BF3E", ErrTruncated},
		{"short value", "BF3E05 5C015A", ErrTruncated},
		{"indefinite", "30 80 0000", ErrIndefinite},
		{"5 length bytes", "04 85 0000000001 00", ErrTooLarge},
		{"over MaxLen", "04 84 7FFFFFFF", ErrTooLarge},
		{"long form truncated", "04 82 01", ErrTruncated},
		{"tag too long", "1F FFFFFF7F 00", ErrBadTag},
		{"trailing", "800100 00", ErrTrailing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeOne(unhex(t, tc.in))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestConstructedAndPath(t *testing.T) {
	msg := NewConstructed(0xBF31,
		NewConstructed(0xA0, New(0x5A, unhex(t, "98400923214315325421"))),
		New(0x81, []byte{0xFF}),
	)
	want := unhex(t, "BF3111 A00C 5A0A98400923214315325421 8101FF")
	if !bytes.Equal(msg.Bytes(), want) {
		t.Fatalf("encode %X, want %X", msg.Bytes(), want)
	}
	dec, err := DecodeOne(want)
	if err != nil {
		t.Fatal(err)
	}
	iccid, err := dec.Path(0xA0, 0x5A)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(iccid.Value) != "98400923214315325421" {
		t.Fatalf("iccid %X", iccid.Value)
	}
	if _, err := dec.Path(0xA0, 0x4F); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing tag: %v", err)
	}
	if !dec.Tag.Constructed() || Tag(0x81).Constructed() {
		t.Fatal("constructed bit")
	}
	if Tag(0xBF31).Class() != ClassContext || Tag(0x5F37).Class() != ClassApplication {
		t.Fatal("class")
	}
}

func TestEncodeLength(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 255, 256, 65535, 65536, MaxLen} {
		enc := EncodeLength(n)
		got, used, err := ReadLength(enc)
		if err != nil || got != n || used != len(enc) {
			t.Fatalf("n=%d enc=%X got=%d used=%d err=%v", n, enc, got, used, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"BF3E035C015A", "BF3111A00C5A0A984009232143153254218101FF", "3080", "04820100", "1FFF", "5F3700"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		elems, err := DecodeAll(b)
		if err != nil {
			return
		}
		var re []byte
		for _, e := range elems {
			re = append(re, e.Bytes()...)
			if e.Tag.Constructed() {
				_, _ = e.Children()
			}
		}
		// Re-decoding the re-encoding must give the same elements (DER
		// normal form of lengths may differ from the input).
		again, err := DecodeAll(re)
		if err != nil || len(again) != len(elems) {
			t.Fatalf("re-decode: %v", err)
		}
		for i := range again {
			if again[i].Tag != elems[i].Tag || !bytes.Equal(again[i].Value, elems[i].Value) {
				t.Fatalf("element %d differs", i)
			}
		}
	})
}
