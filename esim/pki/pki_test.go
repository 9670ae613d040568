package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestGenerateContents(t *testing.T) {
	p := newTestPKI(t)
	ciSKI := SubjectKeyID(p.CI.Cert)
	tests := []struct {
		name      string
		e         *Entity
		role      Role
		critPol   bool
		ca        bool
		maxPath   int
		ku        x509.KeyUsage
		years     int
		aki       []byte
		rid       asn1.ObjectIdentifier
		dnsNames  []string
		ipCount   int
		serverEKU bool
	}{
		{"CI", p.CI, RoleCI, true, true, -1, x509.KeyUsageCertSign | x509.KeyUsageCRLSign, 30, ciSKI, asn1.ObjectIdentifier{2, 999, 1}, nil, 0, false},
		{"EUM", p.EUM, RoleEUM, true, true, 0, x509.KeyUsageCertSign, 10, ciSKI, asn1.ObjectIdentifier{2, 999, 5}, nil, 0, false},
		{"DPauth", p.DPauth, RoleDPauth, true, false, -1, x509.KeyUsageDigitalSignature, 10, ciSKI, DefaultSMDPOID(), nil, 0, false},
		{"DPpb", p.DPpb, RoleDPpb, true, false, -1, x509.KeyUsageDigitalSignature, 10, ciSKI, DefaultSMDPOID(), nil, 0, false},
		{"DPtls", p.DPtls, RoleDPtls, false, false, -1, x509.KeyUsageDigitalSignature, 10, ciSKI, DefaultSMDPOID(), []string{"smdp.mobileplans.test", "localhost"}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.e.Cert
			if tt.e.Key == nil || !tt.e.Key.PublicKey.Equal(c.PublicKey) {
				t.Fatal("entity key missing or not matching")
			}
			if !bytes.Equal(tt.e.DER, c.Raw) {
				t.Fatal("DER differs from Cert.Raw")
			}
			if pub, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
				t.Fatalf("public key %T is not P-256", c.PublicKey)
			}
			if c.SignatureAlgorithm != x509.ECDSAWithSHA256 {
				t.Errorf("signature algorithm %v", c.SignatureAlgorithm)
			}
			if len(c.Policies) != 1 || !c.Policies[0].EqualASN1OID(tt.role.PolicyOID()) {
				t.Errorf("policies %v, want %v", c.Policies, tt.role.PolicyOID())
			}
			for _, e := range c.Extensions {
				if e.Id.Equal(oidExtCertPolicies()) && e.Critical != tt.critPol {
					t.Errorf("certificatePolicies critical=%v, want %v", e.Critical, tt.critPol)
				}
			}
			if c.IsCA != tt.ca || c.BasicConstraintsValid != tt.ca {
				t.Errorf("IsCA=%v BasicConstraintsValid=%v, want %v", c.IsCA, c.BasicConstraintsValid, tt.ca)
			}
			if tt.ca && c.MaxPathLen != tt.maxPath {
				t.Errorf("MaxPathLen=%d, want %d", c.MaxPathLen, tt.maxPath)
			}
			if c.KeyUsage != tt.ku {
				t.Errorf("KeyUsage=%v, want %v", c.KeyUsage, tt.ku)
			}
			if want := testNow.Add(-time.Hour); !c.NotBefore.Equal(want) {
				t.Errorf("NotBefore=%v, want %v", c.NotBefore, want)
			}
			if want := testNow.AddDate(tt.years, 0, 0); !c.NotAfter.Equal(want) {
				t.Errorf("NotAfter=%v, want %v", c.NotAfter, want)
			}
			// SKI is SHA-1 of the subjectPublicKey bits.
			var spki struct {
				Alg asn1.RawValue
				Key asn1.BitString
			}
			if _, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err != nil {
				t.Fatal(err)
			}
			sum := sha1.Sum(spki.Key.Bytes)
			if !bytes.Equal(c.SubjectKeyId, sum[:]) {
				t.Errorf("SKI %X, want SHA-1 of key bits %X", c.SubjectKeyId, sum)
			}
			if !bytes.Equal(c.AuthorityKeyId, tt.aki) {
				t.Errorf("AKI %X, want %X", c.AuthorityKeyId, tt.aki)
			}
			rid, err := RegisteredID(c)
			if err != nil || !rid.Equal(tt.rid) {
				t.Errorf("RegisteredID = %v, %v; want %v", rid, err, tt.rid)
			}
			if !slices.Equal(c.DNSNames, tt.dnsNames) || len(c.IPAddresses) != tt.ipCount {
				t.Errorf("SAN DNS %v IP %v", c.DNSNames, c.IPAddresses)
			}
			if got := slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageServerAuth); got != tt.serverEKU {
				t.Errorf("serverAuth EKU %v, want %v", got, tt.serverEKU)
			}
			if len(c.UnhandledCriticalExtensions) > 0 && tt.name != "EUM" {
				t.Errorf("unexpected unhandled critical extensions %v", c.UnhandledCriticalExtensions)
			}
		})
	}
	if !bytes.Equal(p.CIPKID(), p.CI.Cert.SubjectKeyId) || !bytes.Equal(p.CIPKID(), p.DPauth.Cert.AuthorityKeyId) {
		t.Error("CIPKID is not the CI SKI / DPauth AKI")
	}
	if !p.SMDPOID.Equal(DefaultSMDPOID()) {
		t.Errorf("SMDPOID %v", p.SMDPOID)
	}
}

func TestEUMNameConstraint(t *testing.T) {
	p := newTestPKI(t)
	var nc *struct{ critical bool }
	for _, e := range p.EUM.Cert.Extensions {
		if e.Id.Equal(oidExtNameConstraints()) {
			nc = &struct{ critical bool }{e.Critical}
		}
	}
	if nc == nil || !nc.critical {
		t.Fatal("EUM has no critical NameConstraints")
	}
	eins, err := PermittedEINs(p.EUM.Cert)
	if err != nil || !slices.Equal(eins, []string{"89049032"}) {
		t.Fatalf("PermittedEINs = %v, %v", eins, err)
	}
	names, err := permittedNames(p.EUM.Cert)
	if err != nil || len(names) != 1 {
		t.Fatalf("permittedNames = %v, %v", names, err)
	}
	if got := names[0].dirName.String(); got != "SERIALNUMBER=89049032,O=mobileplans Test EUM" {
		t.Errorf("directoryName %q", got)
	}
	for _, e := range []*Entity{p.CI, p.DPauth} {
		if eins, err := PermittedEINs(e.Cert); err != nil || eins != nil {
			t.Errorf("%s: PermittedEINs = %v, %v; want none", e.Cert.Subject, eins, err)
		}
	}
}

func TestGenerateOptions(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Options)
		ok   bool
	}{
		{"defaults", func(o *Options) { *o = Options{} }, true},
		{"custom OID and prefix", func(o *Options) { o.SMDPOID = asn1.ObjectIdentifier{2, 999, 77}; o.EIDPrefix = "8900112" }, true},
		{"prefix not digits", func(o *Options) { o.EIDPrefix = "8904x032" }, false},
		{"prefix too long", func(o *Options) { o.EIDPrefix = "8904903212345123451234567890123" }, false},
		{"host with space", func(o *Options) { o.SMDPHost = "smdp host" }, false},
		{"extra host with scheme", func(o *Options) { o.ExtraTLSHosts = []string{"https://x"} }, false},
		{"one-arc OID", func(o *Options) { o.SMDPOID = asn1.ObjectIdentifier{2} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions()
			tt.mod(&o)
			p, err := Generate(o)
			if (err == nil) != tt.ok {
				t.Fatalf("Generate: %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				return
			}
			wantOID, wantPrefix := o.SMDPOID, o.EIDPrefix
			if wantOID == nil {
				wantOID = DefaultSMDPOID()
			}
			if wantPrefix == "" {
				wantPrefix = DefaultEIDPrefix
			}
			if rid, _ := RegisteredID(p.DPpb.Cert); !rid.Equal(wantOID) || !p.SMDPOID.Equal(wantOID) {
				t.Errorf("SM-DP+ OID %v / %v, want %v", rid, p.SMDPOID, wantOID)
			}
			if eins, _ := PermittedEINs(p.EUM.Cert); !slices.Equal(eins, []string{wantPrefix}) {
				t.Errorf("EINs %v, want %s", eins, wantPrefix)
			}
		})
	}
}

func TestIssueEUICC(t *testing.T) {
	p := newTestPKI(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	inRange := makeEID("89049032", 7)
	tests := []struct {
		name string
		eid  string
		pub  *ecdsa.PublicKey
		want error
	}{
		{"in range", inRange, &key.PublicKey, nil},
		{"other EIN", makeEID("89049033", 7), &key.PublicKey, ErrEIDOutOfRange},
		{"shorter common prefix", makeEID("8904903", 7), &key.PublicKey, ErrEIDOutOfRange},
		{"bad check digits", inRange[:31] + string('0'+(inRange[31]-'0'+1)%10), &key.PublicKey, ErrBadEID},
		{"not digits", "8904903212345123451234567890123X", &key.PublicKey, ErrBadEID},
		{"nil key", inRange, nil, ErrBadKey},
		{"P-384 key", inRange, &p384.PublicKey, ErrBadKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := p.IssueEUICC(tt.eid, tt.pub)
			if !errors.Is(err, tt.want) || (tt.want != nil) == (err == nil) {
				t.Fatalf("IssueEUICC: %v, want %v", err, tt.want)
			}
			if err != nil {
				return
			}
			c := e.Cert
			if e.Key != nil {
				t.Error("IssueEUICC returned a key")
			}
			if c.Subject.SerialNumber != tt.eid {
				t.Errorf("subject serialNumber %q", c.Subject.SerialNumber)
			}
			var rdn pkix.RDNSequence
			if _, err := asn1.Unmarshal(c.RawSubject, &rdn); err != nil {
				t.Fatal(err)
			}
			// RFC 4514 order: last RDN first.
			if got := rdn.String(); got != "CN=mobileplans Test eUICC,SERIALNUMBER="+tt.eid+",O=mobileplans Test EUM" {
				t.Errorf("subject %q", got)
			}
			if !bytes.Equal(c.AuthorityKeyId, p.EUM.Cert.SubjectKeyId) {
				t.Error("AKI is not the EUM SKI")
			}
			if c.KeyUsage != x509.KeyUsageDigitalSignature || c.IsCA {
				t.Errorf("KeyUsage %v IsCA %v", c.KeyUsage, c.IsCA)
			}
			if !HasRole(c, RoleEUICC) || HasRole(c, RoleEUM) {
				t.Error("role policy wrong")
			}
			if !c.PublicKey.(*ecdsa.PublicKey).Equal(tt.pub) {
				t.Error("certified key differs")
			}
			if !c.NotAfter.Equal(testNow.AddDate(10, 0, 0)) {
				t.Errorf("NotAfter %v", c.NotAfter)
			}
		})
	}

	t.Run("NewEUICC", func(t *testing.T) {
		e, err := p.NewEUICC(inRange)
		if err != nil {
			t.Fatal(err)
		}
		if e.Key == nil || !e.Key.PublicKey.Equal(e.Cert.PublicKey) {
			t.Fatal("key missing or not certified")
		}
	})
	t.Run("NotAfter capped at the EUM", func(t *testing.T) {
		later := testNow.AddDate(5, 0, 0)
		p2 := newTestPKI(t)
		p2.now = func() time.Time { return later }
		e, err := p2.NewEUICC(inRange)
		if err != nil {
			t.Fatal(err)
		}
		if !e.Cert.NotAfter.Equal(p2.EUM.Cert.NotAfter) {
			t.Errorf("NotAfter %v, EUM %v", e.Cert.NotAfter, p2.EUM.Cert.NotAfter)
		}
	})
}
