package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

func FuzzVerifyTR03111(f *testing.F) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	goodMsg := []byte("serverSigned1")
	goodSig, err := SignTR03111(key, goodMsg)
	if err != nil {
		f.Fatal(err)
	}
	h := sha256.Sum256(goodMsg)
	der, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		f.Fatal(err)
	}
	f.Add(goodMsg, goodSig)
	f.Add(goodMsg, der)
	f.Add(goodMsg, make([]byte, 64))
	f.Add([]byte{}, []byte(strings.Repeat("\xff", 64)))
	f.Add([]byte("x"), goodSig[:63])
	f.Fuzz(func(t *testing.T, msg, sig []byte) {
		err := VerifyTR03111(&key.PublicKey, msg, sig)
		if err != nil && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("untyped error %v", err)
		}
		if err == nil && len(sig) != 64 {
			t.Fatalf("accepted a %d-byte signature", len(sig))
		}
		if string(msg) == string(goodMsg) && string(sig) == string(goodSig) && err != nil {
			t.Fatalf("valid signature refused: %v", err)
		}
	})
}

// FuzzLoadPEM feeds the certificate and key file parsers used by Load.
func FuzzLoadPEM(f *testing.F) {
	p := newTestPKI(f)
	keyPEM, err := MarshalKey(p.DPauth.Key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(MarshalCertificate(p.CI.DER))
	f.Add(p.EUM.DER)
	f.Add(keyPEM)
	f.Add(append(MarshalCertificate(p.DPtls.DER), keyPEM...))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		if c, err := ParseCertificatePEM(data); err != nil {
			if !errors.Is(err, ErrBadCert) {
				t.Fatalf("untyped error %v", err)
			}
		} else if again, err := ParseCertificatePEM(MarshalCertificate(c.Raw)); err != nil || !again.Equal(c) {
			t.Fatalf("certificate does not survive a PEM round trip: %v", err)
		}
		if certs, err := ParseCertificates(data); err == nil && len(certs) == 0 {
			t.Fatal("no certificates and no error")
		}
		k, err := ParseKey(data)
		if err != nil {
			if !errors.Is(err, ErrBadKey) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if k.Curve != elliptic.P256() {
			t.Fatal("accepted a key not on P-256")
		}
		b, err := MarshalKey(k)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := ParseKey(b); err != nil || !again.Equal(k) {
			t.Fatalf("key does not survive a round trip: %v", err)
		}
	})
}

// FuzzVerifyEUICC feeds outside certificate bytes (what an SM-DP+ receives
// in AuthenticateClient) to the chain check.
func FuzzVerifyEUICC(f *testing.F) {
	p := newTestPKI(f)
	eu, err := p.NewEUICC(makeEID("89049032", 11))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(eu.DER, p.EUM.DER)
	f.Add(p.EUM.DER, eu.DER)
	f.Add(eu.DER[:len(eu.DER)/2], p.EUM.DER)
	f.Add(p.DPauth.DER, p.CI.DER)
	f.Add([]byte{0x30, 0x00}, []byte{})
	roots := p.Roots()
	f.Fuzz(func(t *testing.T, euicc, eum []byte) {
		eid, c, err := VerifyEUICC(euicc, eum, roots, testNow)
		if err != nil {
			for _, e := range []error{ErrBadCert, ErrUntrustedCI, ErrExpired, ErrWrongRole, ErrEIDOutOfRange} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("untyped error %v", err)
		}
		if c == nil || checkEID(eid) != nil || !strings.HasPrefix(eid, "89049032") {
			t.Fatalf("accepted EID %q", eid)
		}
	})
}

// FuzzNameConstraints feeds the EUM range extensions parsers.
func FuzzNameConstraints(f *testing.F) {
	p := newTestPKI(f)
	for _, e := range p.EUM.Cert.Extensions {
		if e.Id.Equal(oidExtNameConstraints()) {
			f.Add(e.Value)
		}
	}
	f.Add([]byte{0x30, 0x0c, 0x13, 0x08, '8', '9', '0', '4', '9', '0', '3', '2', 0x13, 0x00})
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, value []byte) {
		names, err := parseNameConstraints(value)
		if err == nil {
			for _, n := range names {
				if checkEIN(n.ein) != nil {
					t.Fatalf("accepted EIN %q", n.ein)
				}
			}
		}
		eins, err := parsePermittedEINs(value)
		if err == nil {
			for _, e := range eins {
				if checkEIN(e) != nil {
					t.Fatalf("accepted EIN %q", e)
				}
			}
		}
	})
}

func BenchmarkVerifyEUICC(b *testing.B) {
	p := newTestPKI(b)
	eu, err := p.NewEUICC(makeEID("89049032", 12))
	if err != nil {
		b.Fatal(err)
	}
	roots := p.Roots()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := VerifyEUICC(eu.DER, p.EUM.DER, roots, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyTR03111(b *testing.B) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 200)
	sig, err := SignTR03111(key, msg)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := VerifyTR03111(&key.PublicKey, msg, sig); err != nil {
			b.Fatal(err)
		}
	}
}
