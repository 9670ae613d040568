package euicc

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/pki"
	"github.com/mobileplans/mobileplans/esim/rsp"
)

// openCounting opens the card at path and reports how many times the state
// file was written.
func openCounting(t *testing.T, path string, opts Options) (*Card, int) {
	t.Helper()
	writes := 0
	c, err := open(path, opts, func(p string, b []byte) error {
		writes++
		return writeAtomic(p, b)
	}, rand.Reader)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return c, writes
}

func TestIssuerRecertification(t *testing.T) {
	p := newPKI(t)
	path := filepath.Join(t.TempDir(), "euicc.json")

	// A card with its own generated test chain trusts no CI.
	c0, _ := openCounting(t, path, Options{Seed: true})
	key0, eid := c0.creds.Key, c0.EID()
	e := &dlEnv{t: t, p: p, c: c0, path: path, l: openISDR(t, c0)}
	out := e.download(e.defaultParams(testICCID))
	if out.authErr == nil || out.authErr.Code != rsp.AuthenticateCIPKUnknown {
		t.Fatalf("download on a card without trusted CIs: %+v", out)
	}

	// Attaching the issuer re-certifies the existing key and EID.
	c1, writes := openCounting(t, path, Options{Issuer: PKIIssuer(p)})
	if writes != 1 {
		t.Fatalf("%d state writes, want 1", writes)
	}
	if !c1.creds.Key.Equal(key0) || c1.EID() != eid {
		t.Fatal("re-certification changed the key or the EID")
	}
	if bytes.Equal(c1.creds.EUICCCert, c0.creds.EUICCCert) {
		t.Fatal("certificate not replaced")
	}
	gotEID, cert, err := pki.VerifyEUICC(c1.creds.EUICCCert, c1.creds.EUMCert, p.Roots(), time.Now())
	if err != nil || gotEID != string(eid) || !cert.PublicKey.(*ecdsa.PublicKey).Equal(&key0.PublicKey) {
		t.Fatalf("new chain: %s %v", gotEID, err)
	}
	l := openISDR(t, c1)
	i2, err := rsp.DecodeEUICCInfo2(l.do(rsp.GetEUICCInfo2Request{}.Encode()))
	if err != nil || !equalIDs(i2.CIPKIDsForSigning, [][]byte{p.CIPKID()}) || !equalIDs(i2.CIPKIDsForVerification, [][]byte{p.CIPKID()}) {
		t.Fatalf("EUICCInfo2 %+v %v", i2, err)
	}

	// Reopened without the issuer the card keeps chain and trust, and a
	// download works.
	c2, writes := openCounting(t, path, Options{})
	if writes != 0 {
		t.Fatalf("%d state writes on a plain reopen", writes)
	}
	if !bytes.Equal(c2.creds.EUICCCert, c1.creds.EUICCCert) || len(c2.trusted) != 1 || !c2.trusted[0].Equal(p.CI.Cert) {
		t.Fatal("certificate or trusted CI not persisted")
	}
	e = &dlEnv{t: t, p: p, c: c2, path: path, l: openISDR(t, c2)}
	if out := e.download(e.defaultParams(testICCID)); out.result == nil || out.result.Err() != nil {
		t.Fatalf("download after reopen: %+v", out)
	}

	// The same issuer again changes nothing.
	c3, writes := openCounting(t, path, Options{Issuer: PKIIssuer(p)})
	if writes != 0 || !bytes.Equal(c3.creds.EUICCCert, c1.creds.EUICCCert) {
		t.Fatalf("%d state writes with an unchanged issuer", writes)
	}

	// Another PKI: certified anew, its CI replaces the old one.
	p2 := newPKI(t)
	c4, writes := openCounting(t, path, Options{Issuer: PKIIssuer(p2)})
	if writes != 1 || !c4.creds.Key.Equal(key0) || c4.EID() != eid {
		t.Fatalf("switching issuers: %d writes", writes)
	}
	if _, _, err := pki.VerifyEUICC(c4.creds.EUICCCert, c4.creds.EUMCert, p2.Roots(), time.Now()); err != nil {
		t.Fatalf("chain to the new CI: %v", err)
	}
	if !equalIDs(c4.creds.CIPKIDs, [][]byte{p2.CIPKID()}) || len(c4.trusted) != 1 || !c4.trusted[0].Equal(p2.CI.Cert) {
		t.Fatal("trust not switched to the new CI")
	}
	// The installed profile survived all of it.
	if c4.st.byICCID(testICCID) < 0 {
		t.Fatal("profile lost")
	}
}

// fakeIssuer is an Issuer with fixed answers.
type fakeIssuer struct {
	cis       []*x509.Certificate
	euicc     []byte
	eum       []byte
	err       error
	issuedFor string
}

func (f *fakeIssuer) TrustedCIs() []*x509.Certificate { return f.cis }

func (f *fakeIssuer) IssueEUICC(eid string, _ *ecdsa.PublicKey) ([]byte, []byte, error) {
	f.issuedFor = eid
	return f.euicc, f.eum, f.err
}

func TestIssuerErrors(t *testing.T) {
	p := newPKI(t)
	other := newPKI(t)
	c, path := openTest(t, Options{})
	// A certificate for the card's EID but another key.
	foreign, err := p.NewEUICC(string(c.EID()))
	if err != nil {
		t.Fatal(err)
	}
	// The card's key, certified by another PKI.
	otherCert, err := other.IssueEUICC(string(c.EID()), &c.creds.Key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		iss  *fakeIssuer
	}{
		{"no CI", &fakeIssuer{euicc: foreign.DER, eum: p.EUM.DER}},
		{"issuing fails", &fakeIssuer{cis: p.Roots(), err: errors.New("EUM offline")}},
		{"certificate for another key", &fakeIssuer{cis: p.Roots(), euicc: foreign.DER, eum: p.EUM.DER}},
		{"chain to another CI", &fakeIssuer{cis: p.Roots(), euicc: otherCert.DER, eum: other.EUM.DER}},
		{"garbage", &fakeIssuer{cis: p.Roots(), euicc: []byte{0x30, 0x00}, eum: p.EUM.DER}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Open(path, Options{Issuer: tt.iss}); !errors.Is(err, ErrIssuer) {
				t.Fatalf("Open: %v, want ErrIssuer", err)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Fatal("state file changed")
			}
			if tt.iss.issuedFor != "" && tt.iss.issuedFor != string(c.EID()) {
				t.Fatalf("issued for EID %s", tt.iss.issuedFor)
			}
		})
	}
}

func TestIssuerWithCredentials(t *testing.T) {
	p := newPKI(t)
	eid, err := rsp.NewEID(testEIN, []byte{9, 8, 7, 6, 5})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := generateCredentials(string(eid), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "euicc.json")
	c, err := Open(path, Options{Credentials: creds, Issuer: PKIIssuer(p), Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.EID() != eid || !c.creds.Key.Equal(creds.Key) {
		t.Fatal("supplied identity not kept")
	}
	if _, _, err := pki.VerifyEUICC(c.creds.EUICCCert, c.creds.EUMCert, p.Roots(), time.Now()); err != nil {
		t.Fatalf("supplied key not certified by the issuer: %v", err)
	}
}

func TestCorruptTrustedCI(t *testing.T) {
	p := newPKI(t)
	_, path := openTest(t, Options{Issuer: PKIIssuer(p)})
	valid, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := mutateJSON(t, valid, func(m map[string]any) { m["trustedCis"] = []any{"AAEC"} })
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); !errors.Is(err, ErrCorruptState) {
		t.Fatalf("Open: %v, want ErrCorruptState", err)
	}
}
