package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"math/big"
	"testing"
)

func TestTR03111(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("\x30\x0a\x80\x02txid\x81\x04chal")
	sig, err := SignTR03111(key, msg)
	if err != nil {
		t.Fatal(err)
	}
	if len(sig) != 64 {
		t.Fatalf("signature is %d bytes", len(sig))
	}
	// Independent check: the halves are r and s of a plain ECDSA signature.
	h := sha256.Sum256(msg)
	if !ecdsa.Verify(&key.PublicKey, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("r||s halves do not verify with crypto/ecdsa")
	}
	der, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	n := elliptic.P256().Params().N
	rs := func(r, s *big.Int) []byte {
		b := make([]byte, 64)
		r.FillBytes(b[:32])
		s.FillBytes(b[32:])
		return b
	}
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	tampered := append([]byte(nil), msg...)
	tampered[3] ^= 0x80

	tests := []struct {
		name string
		pub  *ecdsa.PublicKey
		msg  []byte
		sig  []byte
		want error
	}{
		{"valid", &key.PublicKey, msg, sig, nil},
		{"malleated s (N-s) is valid ECDSA", &key.PublicKey, msg, rs(r, new(big.Int).Sub(n, s)), nil},
		{"tampered message", &key.PublicKey, tampered, sig, ErrBadSignature},
		{"empty message", &key.PublicKey, nil, sig, ErrBadSignature},
		{"other key", &other.PublicKey, msg, sig, ErrBadSignature},
		{"DER form", &key.PublicKey, msg, der, ErrBadSignature},
		{"truncated", &key.PublicKey, msg, sig[:63], ErrBadSignature},
		{"extended", &key.PublicKey, msg, append(append([]byte(nil), sig...), 0), ErrBadSignature},
		{"r and s swapped", &key.PublicKey, msg, rs(s, r), ErrBadSignature},
		{"zero", &key.PublicKey, msg, make([]byte, 64), ErrBadSignature},
		{"r = N", &key.PublicKey, msg, rs(n, s), ErrBadSignature},
		{"s = 0", &key.PublicKey, msg, append(append([]byte{}, sig[:32]...), make([]byte, 32)...), ErrBadSignature},
		{"nil key", nil, msg, sig, ErrBadKey},
		{"P-384 key", &p384.PublicKey, msg, sig, ErrBadKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyTR03111(tt.pub, tt.msg, tt.sig)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("VerifyTR03111 = %v, want %v", err, tt.want)
			}
		})
	}

	t.Run("sign errors", func(t *testing.T) {
		if _, err := SignTR03111(nil, msg); !errors.Is(err, ErrNoKey) {
			t.Errorf("nil key: %v", err)
		}
		if _, err := SignTR03111(p384, msg); !errors.Is(err, ErrBadKey) {
			t.Errorf("P-384 key: %v", err)
		}
	})
}

// TestTR03111Padding signs until r or s is shorter than 32 bytes (about one
// signature in 128) and checks the left padding.
func TestTR03111Padding(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("padding")
	for i := 0; i < 20000; i++ {
		sig, err := SignTR03111(key, msg)
		if err != nil {
			t.Fatal(err)
		}
		if sig[0] != 0 && sig[32] != 0 {
			continue
		}
		if len(sig) != 64 {
			t.Fatalf("short signature of %d bytes", len(sig))
		}
		if err := VerifyTR03111(&key.PublicKey, msg, sig); err != nil {
			t.Fatalf("padded signature does not verify: %v", err)
		}
		return
	}
	t.Fatal("no signature with a short r or s in 20000 attempts")
}
