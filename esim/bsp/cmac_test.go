package bsp

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

const rfc4493Key = "2b7e1516 28aed2a6 abf71588 09cf4f3c"

func TestCMACRFC4493(t *testing.T) {
	msg := "6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51" +
		"30c81c46 a35ce411 e5fbc119 1a0a52ef f69f2445 df4f9b17 ad2b417b e66c3710"
	tests := []struct {
		name string
		n    int
		want string
	}{
		{"example 1 empty", 0, "bb1d6929 e9593728 7fa37d12 9b756746"},
		{"example 2 16 bytes", 16, "070a16b4 6b4d4144 f79bdd9d d04a287c"},
		{"example 3 40 bytes", 40, "dfa66747 de9ae630 30ca3261 1497c827"},
		{"example 4 64 bytes", 64, "51f0bebf 7e3b9d92 fc497417 79363cfe"},
	}
	key := unhex(t, rfc4493Key)
	full := unhex(t, msg)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CMAC(key, full[:tt.n])
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tt.want); !bytes.Equal(got, want) {
				t.Fatalf("CMAC = %x, want %x", got, want)
			}
		})
	}
}

func TestCMACSubkeys(t *testing.T) {
	m, err := newCMACKey(unhex(t, rfc4493Key))
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex(t, "fbeed618 35713366 7c85e08f 7236a8de"); !bytes.Equal(m.k1[:], want) {
		t.Errorf("K1 = %x, want %x", m.k1, want)
	}
	if want := unhex(t, "f7ddac30 6ae266cc f90bc11e e46d513b"); !bytes.Equal(m.k2[:], want) {
		t.Errorf("K2 = %x, want %x", m.k2, want)
	}
}

// TestCMACParts checks that the streaming sum over several parts equals the
// CMAC of their concatenation for arbitrary splits.
func TestCMACParts(t *testing.T) {
	key := unhex(t, rfc4493Key)
	m, err := newCMACKey(key)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		msg := make([]byte, rng.IntN(100))
		for i := range msg {
			msg[i] = byte(rng.Uint32())
		}
		var parts [][]byte
		for rest := msg; ; {
			n := rng.IntN(len(rest) + 1)
			parts = append(parts, rest[:n])
			rest = rest[n:]
			if len(rest) == 0 {
				break
			}
		}
		want, err := CMAC(key, msg)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.sum(parts...); !bytes.Equal(got[:], want) {
			t.Fatalf("len %d in %d parts: sum %x, CMAC %x", len(msg), len(parts), got, want)
		}
	}
}

func TestCMACBadKey(t *testing.T) {
	if _, err := CMAC(make([]byte, 15), nil); err == nil {
		t.Fatal("15-byte key accepted")
	}
}
