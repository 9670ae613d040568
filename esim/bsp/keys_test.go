package bsp

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestDeriveSessionKeysVectors(t *testing.T) {
	tests := []struct {
		name, shs, eid, mcv, senc, smac string
	}{
		{"vector A", "8902dca391bbb22570fe60c176076246f568b1941265dff1d729e63039658089",
			"89049032123451234512345678901335",
			"734bc93ddb10c71c5ad13d420dc08b5b", "d782d575b22a38334556a3d9a1e2ae6b", "a35addc192ae8f934e2932116c7e89e7"},
		{"vector B", vecShSB, vecEID,
			"406d507b448a699e7a36a38494debbde", "472f5bfadd97f21d34f3ce9b51b92751", "9ec07f5b36a13e12a991d66e294e6242"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := DeriveSessionKeys(unhex(t, tt.shs), KeyTypeAES, KeyLenAES128, unhex(t, vecHostID), unhex(t, tt.eid))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				name      string
				got, want []byte
			}{{"MCV", k.MCV, unhex(t, tt.mcv)}, {"S-ENC", k.SENC, unhex(t, tt.senc)}, {"S-MAC", k.SMAC, unhex(t, tt.smac)}} {
				if !bytes.Equal(f.got, f.want) {
					t.Errorf("%s = %x, want %x", f.name, f.got, f.want)
				}
			}
		})
	}
}

func TestSharedInfoLayout(t *testing.T) {
	got, err := SharedInfo(0x88, 0x10, unhex(t, vecHostID), unhex(t, vecEID))
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "88 10 08 8080808080808080 10 "+vecEID)
	if !bytes.Equal(got, want) {
		t.Fatalf("SharedInfo = %x, want %x", got, want)
	}
}

func TestDeriveSessionKeysErrors(t *testing.T) {
	shs := unhex(t, vecShSB)
	host := unhex(t, vecHostID)
	eid := unhex(t, vecEID)
	tests := []struct {
		name    string
		shs     []byte
		kt, kl  byte
		host    []byte
		eid     []byte
		wantErr error
	}{
		{"empty secret", nil, 0x88, 0x10, host, eid, ErrKeys},
		{"key type", shs, 0x80, 0x10, host, eid, ErrUnsupportedCRT},
		{"key length", shs, 0x88, 0x20, host, eid, ErrUnsupportedCRT},
		{"empty hostId", shs, 0x88, 0x10, nil, eid, ErrUnsupportedCRT},
		{"long hostId", shs, 0x88, 0x10, make([]byte, 17), eid, ErrUnsupportedCRT},
		{"short EID", shs, 0x88, 0x10, host, eid[:15], ErrKeys},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DeriveSessionKeys(tt.shs, tt.kt, tt.kl, tt.host, tt.eid)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestECKA(t *testing.T) {
	a, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ab, err := ECKA(a, b.PublicKey().Bytes())
	if err != nil {
		t.Fatal(err)
	}
	ba, err := ECKA(b, a.PublicKey().Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(ab) != 32 || !bytes.Equal(ab, ba) {
		t.Fatalf("shared secrets differ or wrong size: %x / %x", ab, ba)
	}

	x, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(b.PublicKey().Bytes())
	bad[64] ^= 1 // no longer on the curve
	tests := []struct {
		name string
		priv *ecdh.PrivateKey
		pub  []byte
	}{
		{"nil private key", nil, b.PublicKey().Bytes()},
		{"X25519 private key", x, b.PublicKey().Bytes()},
		{"point off the curve", a, bad},
		{"compressed point", a, append([]byte{0x02}, b.PublicKey().Bytes()[1:33]...)},
		{"empty", a, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ECKA(tt.priv, tt.pub); !errors.Is(err, ErrPublicKey) {
				t.Fatalf("err = %v, want ErrPublicKey", err)
			}
		})
	}
}

func TestSessionKeysRedacted(t *testing.T) {
	k := vectorBKeys(t)
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("keys", "k", k)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k), logged.String()} {
		for _, secret := range [][]byte{k.SENC, k.SMAC, k.MCV} {
			if strings.Contains(strings.ToLower(s), fmt.Sprintf("%x", secret)) || strings.Contains(s, fmt.Sprint(secret)) {
				t.Errorf("formatted keys reveal material: %q", s)
			}
		}
	}
}

func TestSessionKeysValidate(t *testing.T) {
	if err := vectorBKeys(t).Validate(); err != nil {
		t.Fatal(err)
	}
	k := vectorBKeys(t)
	k.MCV = k.MCV[:8]
	if err := k.Validate(); !errors.Is(err, ErrKeys) {
		t.Fatalf("err = %v, want ErrKeys", err)
	}
}
