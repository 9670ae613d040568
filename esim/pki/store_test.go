package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func samePKI(t *testing.T, a, b *PKI, wantKeys map[string]bool) {
	t.Helper()
	for _, it := range []struct {
		name string
		a, b *Entity
	}{{"ci", a.CI, b.CI}, {"eum", a.EUM, b.EUM}, {"dpauth", a.DPauth, b.DPauth}, {"dppb", a.DPpb, b.DPpb}, {"dptls", a.DPtls, b.DPtls}} {
		if !bytes.Equal(it.a.DER, it.b.DER) || !it.a.Cert.Equal(it.b.Cert) {
			t.Errorf("%s: certificates differ", it.name)
		}
		if wantKeys[it.name] {
			if it.b.Key == nil || !it.a.Key.Equal(it.b.Key) {
				t.Errorf("%s: key missing or different", it.name)
			}
		} else if it.b.Key != nil {
			t.Errorf("%s: unexpected key", it.name)
		}
	}
	if !a.SMDPOID.Equal(b.SMDPOID) {
		t.Errorf("SMDPOID %v vs %v", a.SMDPOID, b.SMDPOID)
	}
	if !bytes.Equal(a.CIPKID(), b.CIPKID()) {
		t.Error("CIPKID differs")
	}
}

var allKeys = map[string]bool{"ci": true, "eum": true, "dpauth": true, "dppb": true, "dptls": true}

func TestSaveLoad(t *testing.T) {
	p := newTestPKI(t)
	dir := filepath.Join(t.TempDir(), "pki")
	if err := p.Save(dir); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" {
			want := fs.FileMode(0o644)
			if strings.HasSuffix(e.Name(), ".key") {
				want = 0o600
			}
			if info.Mode().Perm() != want {
				t.Errorf("%s: mode %v, want %v", e.Name(), info.Mode().Perm(), want)
			}
		}
	}
	if got := strings.Join(names, " "); got != "ci.key ci.pem dpauth.key dpauth.pem dppb.key dppb.pem dptls.key dptls.pem eum.key eum.pem" {
		t.Fatalf("files: %s", got)
	}
	b, err := os.ReadFile(filepath.Join(dir, "dpauth.key"))
	if err != nil {
		t.Fatal(err)
	}
	if blk, _ := pem.Decode(b); blk == nil || blk.Type != "PRIVATE KEY" {
		t.Fatal("key file is not PKCS#8 PEM")
	}

	q, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	samePKI(t, p, q, allKeys)
	// The loaded PKI works: it issues and its chains verify.
	eu, err := q.NewEUICC(makeEID("89049032", 9))
	if err != nil {
		t.Fatal(err)
	}
	// Load uses the real clock for issuing.
	if _, _, err := VerifyEUICC(eu.DER, q.EUM.DER, p.Roots(), eu.Cert.NotBefore.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Saving again over the existing files keeps them loadable.
	if err := q.Save(dir); err != nil {
		t.Fatal(err)
	}
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	samePKI(t, p, r, allKeys)
}

// TestLoadExternal loads a set as another tool would ship it: DER
// certificates, SEC 1 keys with an EC PARAMETERS block, no CI/EUM keys.
func TestLoadExternal(t *testing.T) {
	p := newTestPKI(t)
	dir := t.TempDir()
	for _, it := range []struct {
		name string
		e    *Entity
	}{{"ci", p.CI}, {"eum", p.EUM}, {"dpauth", p.DPauth}, {"dppb", p.DPpb}, {"dptls", p.DPtls}} {
		if err := os.WriteFile(filepath.Join(dir, it.name+".pem"), it.e.DER, 0o644); err != nil {
			t.Fatal(err)
		}
		if it.name == "ci" || it.name == "eum" {
			continue
		}
		sec1, err := x509.MarshalECPrivateKey(it.e.Key)
		if err != nil {
			t.Fatal(err)
		}
		params := pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}})
		key := append(params, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})...)
		if err := os.WriteFile(filepath.Join(dir, it.name+".key"), key, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	q, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	samePKI(t, p, q, map[string]bool{"dpauth": true, "dppb": true, "dptls": true})
	if _, err := q.NewEUICC(makeEID("89049032", 1)); !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), "EUM") {
		t.Fatalf("IssueEUICC without EUM key: %v", err)
	}
	if _, err := VerifyChain(q.DPauth.DER, nil, q.Roots(), RoleDPauth, testNow); err != nil {
		t.Fatal(err)
	}
	// Save writes no key files for keys it does not have.
	out := t.TempDir()
	if err := q.Save(out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "ci.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ci.key: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	p := newTestPKI(t)
	other := newTestPKI(t)
	o := testOptions()
	o.SMDPOID = []int{2, 999, 11}
	otherOID, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		modify func(t *testing.T, dir string)
		want   error
	}{
		{"missing dpauth key", func(t *testing.T, dir string) { rm(t, dir, "dpauth.key") }, fs.ErrNotExist},
		{"missing eum cert", func(t *testing.T, dir string) { rm(t, dir, "eum.pem") }, fs.ErrNotExist},
		{"key of another certificate", func(t *testing.T, dir string) { copyFile(t, dir, "dppb.key", "dpauth.key") }, ErrBadKey},
		{"corrupt key", func(t *testing.T, dir string) {
			write(t, dir, "dptls.key", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
		}, ErrBadKey},
		{"corrupt certificate", func(t *testing.T, dir string) { write(t, dir, "dppb.pem", []byte("garbage")) }, ErrBadCert},
		{"DPauth of another CI", func(t *testing.T, dir string) {
			if err := other.DPauth.Save(dir, "dpauth"); err != nil {
				t.Fatal(err)
			}
		}, ErrUntrustedCI},
		{"DPpb in the DPauth slot", func(t *testing.T, dir string) {
			if err := p.DPpb.Save(dir, "dpauth"); err != nil {
				t.Fatal(err)
			}
		}, ErrWrongRole},
		{"DPpb with another SM-DP+ OID", func(t *testing.T, dir string) {
			// Same CI, different OID: reuse otherOID's DPpb under p's CI.
			spec := certSpec{subject: otherOID.DPpb.Cert.Subject, role: RoleDPpb, ku: x509.KeyUsageDigitalSignature, maxPath: -1, rid: otherOID.SMDPOID,
				notBefore: testNow, notAfter: testNow.AddDate(1, 0, 0)}
			e, err := newEntity(spec, p.CI)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Save(dir, "dppb"); err != nil {
				t.Fatal(err)
			}
		}, ErrBadCert},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := p.Save(dir); err != nil {
				t.Fatal(err)
			}
			tt.modify(t, dir)
			if _, err := Load(dir); !errors.Is(err, tt.want) {
				t.Fatalf("Load: %v, want %v", err, tt.want)
			}
		})
	}
}

func rm(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, dir, from, to string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, from))
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, to, b)
}

func TestLoadOrGenerate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "pki")
	var logs bytes.Buffer
	o := testOptions()
	o.Dir = dir
	o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := LoadOrGenerate(o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "generated test PKI") {
		t.Errorf("logs: %s", logs.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "ci.pem")); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	q, err := LoadOrGenerate(o)
	if err != nil {
		t.Fatal(err)
	}
	samePKI(t, p, q, allKeys)
	if !strings.Contains(logs.String(), "loaded test PKI") || strings.Contains(logs.String(), "WARN") {
		t.Errorf("logs: %s", logs.String())
	}
	// The loaded PKI keeps the clock of the options.
	eu, err := q.NewEUICC(makeEID("89049032", 5))
	if err != nil {
		t.Fatal(err)
	}
	if !eu.Cert.NotBefore.Equal(testNow.Add(-backdateForTest)) {
		t.Errorf("NotBefore %v", eu.Cert.NotBefore)
	}

	// Options the stored PKI does not cover are reported, not silently used.
	logs.Reset()
	o2 := o
	o2.ExtraTLSHosts = []string{"smdp.elsewhere.test"}
	o2.EIDPrefix = "89001012"
	if _, err := LoadOrGenerate(o2); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"smdp.elsewhere.test", "89001012"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no warning about %s: %s", want, logs.String())
		}
	}

	t.Run("no dir", func(t *testing.T) {
		if _, err := LoadOrGenerate(Options{}); err == nil {
			t.Fatal("accepted empty Dir")
		}
	})
	t.Run("incomplete dir", func(t *testing.T) {
		d := t.TempDir()
		if err := p.Save(d); err != nil {
			t.Fatal(err)
		}
		rm(t, d, "eum.pem")
		o3 := o
		o3.Dir = d
		if _, err := LoadOrGenerate(o3); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("got %v", err)
		}
	})
}

const backdateForTest = backdate

func TestPEMHelpers(t *testing.T) {
	p := newTestPKI(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := MarshalKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384PEM, err := MarshalKey(p384)
	if err != nil {
		t.Fatal(err)
	}
	keyTests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"PKCS#8 PEM", keyPEM, true},
		{"PKCS#8 DER", pkcs8, true},
		{"SEC 1 DER", sec1, true},
		{"SEC 1 PEM after a certificate", append(MarshalCertificate(p.CI.DER), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})...), true},
		{"P-384", p384PEM, false},
		{"certificate only", MarshalCertificate(p.CI.DER), false},
		{"empty", nil, false},
	}
	for _, tt := range keyTests {
		t.Run("key/"+tt.name, func(t *testing.T) {
			k, err := ParseKey(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseKey: %v, want ok=%v", err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrBadKey) {
					t.Errorf("error %v is not ErrBadKey", err)
				}
				return
			}
			if !k.Equal(key) {
				t.Fatal("key differs")
			}
		})
	}

	bundle := append(MarshalCertificate(p.CI.DER), MarshalCertificate(p.EUM.DER)...)
	certTests := []struct {
		name  string
		in    []byte
		first *x509.Certificate
		count int
	}{
		{"PEM", MarshalCertificate(p.CI.DER), p.CI.Cert, 1},
		{"DER", p.EUM.DER, p.EUM.Cert, 1},
		{"bundle", bundle, p.CI.Cert, 2},
		{"key then certificate", append(keyPEM, MarshalCertificate(p.DPpb.DER)...), p.DPpb.Cert, 1},
		{"key only", keyPEM, nil, 0},
		{"garbage", []byte("hello"), nil, 0},
		{"corrupt PEM certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x00}}), nil, 0},
	}
	for _, tt := range certTests {
		t.Run("cert/"+tt.name, func(t *testing.T) {
			c, err := ParseCertificatePEM(tt.in)
			all, errAll := ParseCertificates(tt.in)
			if tt.first == nil {
				if err == nil || errAll == nil || !errors.Is(err, ErrBadCert) || !errors.Is(errAll, ErrBadCert) {
					t.Fatalf("accepted: %v / %v", err, errAll)
				}
				return
			}
			if err != nil || errAll != nil {
				t.Fatalf("%v / %v", err, errAll)
			}
			if !c.Equal(tt.first) || len(all) != tt.count || !all[0].Equal(tt.first) {
				t.Fatalf("wrong certificates (%d)", len(all))
			}
		})
	}
}
