package bsp

import (
	"bytes"
	"errors"
	"testing"
)

func TestReplaceSessionKeysRoundTrip(t *testing.T) {
	k, err := DecodeReplaceSessionKeys(unhex(t, vecSeg3Plain))
	if err != nil {
		t.Fatal(err)
	}
	want := rskKeys()
	if !bytes.Equal(k.MCV, want.MCV) || !bytes.Equal(k.SENC, want.SENC) || !bytes.Equal(k.SMAC, want.SMAC) {
		t.Fatal("decoded keys differ from the vector")
	}
	if got := EncodeReplaceSessionKeys(k); !bytes.Equal(got, unhex(t, vecSeg3Plain)) {
		t.Fatalf("re-encoded %x", got)
	}
}

func TestDecodeReplaceSessionKeysErrors(t *testing.T) {
	k16 := "00112233445566778899aabbccddeeff"
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"other tag", "bf2500"},
		{"trailing", vecSeg3Plain + "00"},
		{"missing 82", "bf2424" + "8010" + k16 + "8110" + k16},
		{"order", "bf2636" + "8110" + k16 + "8010" + k16 + "8210" + k16},
		{"short key", "bf2635" + "8010" + k16 + "8110" + k16 + "820f" + k16[2:]},
		{"extra element", "bf2639" + "8010" + k16 + "8110" + k16 + "8210" + k16 + "830100"},
		{"bad child", "bf2602" + "8005"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeReplaceSessionKeys(unhex(t, tt.in)); !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
		})
	}
}

func FuzzDecodeReplaceSessionKeys(f *testing.F) {
	f.Add(unhex(f, vecSeg3Plain))
	f.Add(unhex(f, "bf2600"))
	f.Add([]byte{0xBF, 0x26, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := DecodeReplaceSessionKeys(b)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if err := k.Validate(); err != nil {
			t.Fatalf("decoded invalid keys: %v", err)
		}
		if got := EncodeReplaceSessionKeys(k); len(got) == len(b) && !bytes.Equal(got, b) {
			t.Fatalf("%x re-encodes to %x", b, got)
		}
	})
}
