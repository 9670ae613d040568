package pki

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"testing"
	"time"
)

// craft issues a certificate outside the checks of IssueEUICC, for
// negative tests.
func craft(t *testing.T, spec certSpec, issuer *Entity) *Entity {
	t.Helper()
	if spec.notBefore.IsZero() {
		spec.notBefore = testNow.Add(-time.Hour)
		spec.notAfter = testNow.AddDate(1, 0, 0)
	}
	if spec.maxPath == 0 && !spec.ca {
		spec.maxPath = -1
	}
	e, err := newEntity(spec, issuer)
	if err != nil {
		t.Fatalf("craft: %v", err)
	}
	return e
}

// euiccSpec is the spec of an eUICC certificate for eid under eum.
func euiccSpec(t *testing.T, eum *x509.Certificate, eid string) certSpec {
	t.Helper()
	subj, err := euiccSubject(eum, pkix.RDNSequence{
		{{Type: oidAttrOrganization(), Value: eumOrg}},
		{{Type: oidAttrSerialNumber(), Value: "0"}},
	}, eid)
	if err != nil {
		t.Fatal(err)
	}
	return certSpec{rawSubject: subj, role: RoleEUICC, ku: x509.KeyUsageDigitalSignature, maxPath: -1}
}

func TestVerifyChainRoles(t *testing.T) {
	p := newTestPKI(t)
	eu, err := p.NewEUICC(makeEID("89049032", 1))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		role  Role
		leaf  *Entity
		inter [][]byte
	}{
		{RoleCI, p.CI, nil},
		{RoleEUM, p.EUM, nil},
		{RoleEUICC, eu, [][]byte{p.EUM.DER}},
		{RoleEUICC, eu, [][]byte{p.DPauth.DER, p.EUM.DER}}, // unused extra intermediate
		{RoleDPauth, p.DPauth, nil},
		{RoleDPpb, p.DPpb, nil},
		{RoleDPtls, p.DPtls, nil},
	}
	other := newTestPKI(t)
	roots := []*x509.Certificate{other.CI.Cert, p.CI.Cert} // several CIs with the same name
	for _, tt := range tests {
		t.Run(tt.role.String(), func(t *testing.T) {
			for _, now := range []time.Time{testNow, testNow.Add(-time.Hour), testNow.AddDate(10, 0, 0)} {
				c, err := VerifyChain(tt.leaf.DER, tt.inter, roots, tt.role, now)
				if err != nil {
					t.Fatalf("VerifyChain at %v: %v", now, err)
				}
				if !c.Equal(tt.leaf.Cert) {
					t.Fatal("returned certificate differs")
				}
			}
		})
	}
}

func TestVerifyChainErrors(t *testing.T) {
	p := newTestPKI(t)
	other := newTestPKI(t)
	roots := p.Roots()
	eid := makeEID("89049032", 2)
	eu, err := p.NewEUICC(eid)
	if err != nil {
		t.Fatal(err)
	}
	eum := [][]byte{p.EUM.DER}

	// eUICC certificates the EUM would not issue.
	outOfRange := craft(t, euiccSpec(t, p.EUM.Cert, makeEID("89049099", 2)), p.EUM)
	badEID := craft(t, euiccSpec(t, p.EUM.Cert, eid[:31]+string('0'+(eid[31]-'0'+1)%10)), p.EUM)
	byCI := craft(t, euiccSpec(t, p.EUM.Cert, eid), p.CI)
	byDPauth := craft(t, euiccSpec(t, p.EUM.Cert, eid), p.DPauth)
	// An EUM without any EIN range and an eUICC under it.
	eumNoNC := craft(t, certSpec{subject: pkix.Name{Organization: []string{eumOrg}, CommonName: "no range"}, role: RoleEUM, ca: true, ku: x509.KeyUsageCertSign}, p.CI)
	underNoNC := craft(t, euiccSpec(t, eumNoNC.Cert, eid), eumNoNC)
	// A sub-CA below the EUM (pathLen 0) with its own eUICC.
	nc, err := nameConstraintsExtension(pkix.RDNSequence{{{Type: oidAttrSerialNumber(), Value: "89049032"}}})
	if err != nil {
		t.Fatal(err)
	}
	subEUM := craft(t, certSpec{subject: pkix.Name{CommonName: "sub EUM"}, role: RoleEUM, ca: true, ku: x509.KeyUsageCertSign, extra: []pkix.Extension{nc}}, p.EUM)
	underSub := craft(t, euiccSpec(t, subEUM.Cert, eid), subEUM)
	// Certificates with an unknown critical extension, without serverAuth.
	unknownCrit := craft(t, certSpec{subject: pkix.Name{CommonName: "x"}, role: RoleDPauth, ku: x509.KeyUsageDigitalSignature,
		extra: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 999, 99}, Critical: true, Value: []byte{0x05, 0x00}}}}, p.CI)
	tlsNoEKU := craft(t, certSpec{subject: pkix.Name{CommonName: "x"}, role: RoleDPtls, ku: x509.KeyUsageDigitalSignature, hosts: []string{"x.test"}}, p.CI)
	dpNoKU := craft(t, certSpec{subject: pkix.Name{CommonName: "x"}, role: RoleDPauth, ku: x509.KeyUsageKeyAgreement}, p.CI)
	dpCA := craft(t, certSpec{subject: pkix.Name{CommonName: "x"}, role: RoleDPauth, ca: true, maxPath: -1, ku: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}, p.CI)

	tests := []struct {
		name  string
		leaf  []byte
		inter [][]byte
		roots []*x509.Certificate
		role  Role
		now   time.Time
		want  []error
	}{
		{"DPauth from another CI", other.DPauth.DER, nil, roots, RoleDPauth, testNow, []error{ErrUntrustedCI}},
		{"EUM from another CI", other.EUM.DER, nil, roots, RoleEUM, testNow, []error{ErrUntrustedCI}},
		{"other CI as CI", other.CI.DER, nil, roots, RoleCI, testNow, []error{ErrUntrustedCI}},
		{"eUICC without EUM", eu.DER, nil, roots, RoleEUICC, testNow, []error{ErrUntrustedCI}},
		{"eUICC with another EUM", eu.DER, [][]byte{other.EUM.DER}, roots, RoleEUICC, testNow, []error{ErrUntrustedCI}},
		{"no roots", p.DPauth.DER, nil, nil, RoleDPauth, testNow, []error{ErrUntrustedCI}},
		{"nil root", p.DPauth.DER, nil, []*x509.Certificate{nil}, RoleDPauth, testNow, []error{ErrUntrustedCI}},
		{"DPpb as DPauth", p.DPpb.DER, nil, roots, RoleDPauth, testNow, []error{ErrWrongRole}},
		{"DPauth as DPpb", p.DPauth.DER, nil, roots, RoleDPpb, testNow, []error{ErrWrongRole}},
		{"DPauth as DPtls", p.DPauth.DER, nil, roots, RoleDPtls, testNow, []error{ErrWrongRole}},
		{"EUM as CI", p.EUM.DER, nil, roots, RoleCI, testNow, []error{ErrWrongRole}},
		{"eUICC as EUM", eu.DER, eum, roots, RoleEUM, testNow, []error{ErrWrongRole}},
		{"eUICC issued by the CI", byCI.DER, nil, roots, RoleEUICC, testNow, []error{ErrWrongRole}},
		{"expired leaf", p.DPauth.DER, nil, roots, RoleDPauth, testNow.AddDate(10, 0, 1), []error{ErrExpired}},
		{"expired CI", p.CI.DER, nil, roots, RoleCI, testNow.AddDate(31, 0, 0), []error{ErrExpired}},
		{"expired eUICC path", eu.DER, eum, roots, RoleEUICC, testNow.AddDate(20, 0, 0), []error{ErrExpired}},
		{"not yet valid", p.DPauth.DER, nil, roots, RoleDPauth, testNow.Add(-2 * time.Hour), []error{ErrExpired}},
		{"EID out of range", outOfRange.DER, eum, roots, RoleEUICC, testNow, []error{ErrEIDOutOfRange}},
		{"EUM without range", underNoNC.DER, [][]byte{eumNoNC.DER}, roots, RoleEUICC, testNow, []error{ErrEIDOutOfRange}},
		{"malformed EID", badEID.DER, eum, roots, RoleEUICC, testNow, []error{ErrBadCert, ErrBadEID}},
		{"issuer not a CA", byDPauth.DER, [][]byte{p.DPauth.DER}, roots, RoleEUICC, testNow, []error{ErrBadCert}},
		{"path length", underSub.DER, [][]byte{subEUM.DER, p.EUM.DER}, roots, RoleEUICC, testNow, []error{ErrBadCert}},
		{"unknown critical extension", unknownCrit.DER, nil, roots, RoleDPauth, testNow, []error{ErrBadCert}},
		{"DPtls without serverAuth", tlsNoEKU.DER, nil, roots, RoleDPtls, testNow, []error{ErrBadCert}},
		{"DPauth without digitalSignature", dpNoKU.DER, nil, roots, RoleDPauth, testNow, []error{ErrBadCert}},
		{"DPauth that is a CA", dpCA.DER, nil, roots, RoleDPauth, testNow, []error{ErrBadCert}},
		{"garbage leaf", []byte{0x30, 0x03, 0x02, 0x01, 0x01}, nil, roots, RoleDPauth, testNow, []error{ErrBadCert}},
		{"garbage intermediate", eu.DER, [][]byte{{0x30}}, roots, RoleEUICC, testNow, []error{ErrBadCert}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := VerifyChain(tt.leaf, tt.inter, tt.roots, tt.role, tt.now)
			if err == nil || c != nil {
				t.Fatalf("VerifyChain succeeded, want %v", tt.want)
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("error %q is not %q", err, w)
				}
			}
		})
	}
	t.Run("invalid role", func(t *testing.T) {
		if _, err := VerifyChain(p.DPauth.DER, nil, roots, Role(0), testNow); err == nil {
			t.Fatal("Role(0) accepted")
		}
	})
}

// TestVerifyChainTampered flips each byte of a certificate in turn: every
// variant must be refused.
func TestVerifyChainTampered(t *testing.T) {
	p := newTestPKI(t)
	eu, err := p.NewEUICC(makeEID("89049032", 3))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		leaf  []byte
		inter [][]byte
		role  Role
	}{
		{"DPauth", p.DPauth.DER, nil, RoleDPauth},
		{"eUICC", eu.DER, [][]byte{p.EUM.DER}, RoleEUICC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.leaf {
				bad := append([]byte(nil), tt.leaf...)
				bad[i] ^= 0x01
				_, err := VerifyChain(bad, tt.inter, p.Roots(), tt.role, testNow)
				if err == nil {
					t.Fatalf("byte %d flipped: accepted", i)
				}
				if !errors.Is(err, ErrBadCert) && !errors.Is(err, ErrUntrustedCI) && !errors.Is(err, ErrWrongRole) && !errors.Is(err, ErrEIDOutOfRange) {
					t.Fatalf("byte %d flipped: untyped error %v", i, err)
				}
			}
		})
	}
	t.Run("signature byte", func(t *testing.T) {
		bad := append([]byte(nil), p.DPauth.DER...)
		bad[len(bad)-1] ^= 0x01
		if _, err := VerifyChain(bad, nil, p.Roots(), RoleDPauth, testNow); !errors.Is(err, ErrBadCert) {
			t.Fatalf("got %v, want ErrBadCert", err)
		}
	})
}

func TestVerifyEUICC(t *testing.T) {
	p := newTestPKI(t)
	other := newTestPKI(t)
	eid := makeEID("89049032", 4)
	eu, err := p.NewEUICC(eid)
	if err != nil {
		t.Fatal(err)
	}
	outOfRange := craft(t, euiccSpec(t, p.EUM.Cert, makeEID("89049099", 4)), p.EUM)

	t.Run("valid", func(t *testing.T) {
		got, c, err := VerifyEUICC(eu.DER, p.EUM.DER, p.Roots(), testNow)
		if err != nil {
			t.Fatal(err)
		}
		if got != eid || !c.Equal(eu.Cert) {
			t.Fatalf("EID %s, cert equal %v", got, c.Equal(eu.Cert))
		}
	})
	tests := []struct {
		name  string
		euicc []byte
		eum   []byte
		roots []*x509.Certificate
		now   time.Time
		want  error
	}{
		{"other CI", eu.DER, p.EUM.DER, other.Roots(), testNow, ErrUntrustedCI},
		{"other EUM", eu.DER, other.EUM.DER, p.Roots(), testNow, ErrUntrustedCI},
		{"DPauth as EUM", eu.DER, p.DPauth.DER, p.Roots(), testNow, ErrUntrustedCI},
		{"EUM as eUICC", p.EUM.DER, p.EUM.DER, p.Roots(), testNow, ErrWrongRole},
		{"out of range", outOfRange.DER, p.EUM.DER, p.Roots(), testNow, ErrEIDOutOfRange},
		{"expired", eu.DER, p.EUM.DER, p.Roots(), testNow.AddDate(11, 0, 0), ErrExpired},
		{"garbage EUM", eu.DER, []byte("not a certificate"), p.Roots(), testNow, ErrBadCert},
		{"garbage eUICC", nil, p.EUM.DER, p.Roots(), testNow, ErrBadCert},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eid, c, err := VerifyEUICC(tt.euicc, tt.eum, tt.roots, tt.now)
			if !errors.Is(err, tt.want) || eid != "" || c != nil {
				t.Fatalf("VerifyEUICC = %q, %v, %v; want %v", eid, c != nil, err, tt.want)
			}
		})
	}
}

// TestPermittedEinsExtension covers the newer EUM form: policy
// 2.23.146.1.2.1.0.0.0 and a permittedEins extension instead of a
// NameConstraints directoryName.
func TestPermittedEinsExtension(t *testing.T) {
	p := newTestPKI(t)
	for _, critical := range []bool{false, true} {
		val, err := asn1.Marshal([]string{"89049033", "8904904"})
		if err != nil {
			t.Fatal(err)
		}
		e := craft(t, certSpec{subject: pkix.Name{Organization: []string{"New EUM"}, CommonName: "new"}, role: RoleEUM, ca: true, ku: x509.KeyUsageCertSign,
			extra: []pkix.Extension{{Id: oidExtPermittedEINs(), Critical: critical, Value: val}}}, p.CI)
		// Replace the policy by the newer EUM variant.
		e2, err := reissueWithPolicy(p.CI, e, rspRoleOID(0, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		eins, err := PermittedEINs(e2.Cert)
		if err != nil || len(eins) != 2 {
			t.Fatalf("PermittedEINs = %v, %v", eins, err)
		}
		q := *p
		q.EUM = e2
		for _, tt := range []struct {
			eid  string
			want error
		}{
			{makeEID("89049033", 1), nil},
			{makeEID("89049041", 1), nil},
			{makeEID("89049032", 1), ErrEIDOutOfRange},
		} {
			eu, err := q.NewEUICC(tt.eid)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("critical=%v NewEUICC(%s): %v, want %v", critical, tt.eid, err, tt.want)
			}
			if err != nil {
				continue
			}
			if got := eu.Cert.Subject.Organization; len(got) != 1 || got[0] != "New EUM" {
				t.Errorf("eUICC organisation %v", got)
			}
			got, _, err := VerifyEUICC(eu.DER, e2.DER, p.Roots(), testNow)
			if err != nil || got != tt.eid {
				t.Fatalf("critical=%v VerifyEUICC = %s, %v", critical, got, err)
			}
		}
	}
}

// reissueWithPolicy issues e's certificate again with a different policy OID
// (same key and other extensions).
func reissueWithPolicy(issuer, e *Entity, policy asn1.ObjectIdentifier) (*Entity, error) {
	pol, err := policiesExtension(policy, true)
	if err != nil {
		return nil, err
	}
	tmpl := *e.Cert
	tmpl.ExtraExtensions = []pkix.Extension{pol}
	for _, x := range e.Cert.Extensions {
		if x.Id.Equal(oidExtPermittedEINs()) {
			tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, x)
		}
	}
	tmpl.PolicyIdentifiers, tmpl.Policies = nil, nil
	der, err := x509.CreateCertificate(nil, &tmpl, issuer.Cert, &e.Key.PublicKey, issuer.Key)
	if err != nil {
		return nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Entity{Cert: c, DER: der, Key: e.Key}, nil
}

func TestParseNameConstraints(t *testing.T) {
	dir := func(attrs ...pkix.AttributeTypeAndValue) []byte {
		var rdn pkix.RDNSequence
		for _, a := range attrs {
			rdn = append(rdn, pkix.RelativeDistinguishedNameSET{a})
		}
		b, err := asn1.Marshal(rdn)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sn := func(v string) pkix.AttributeTypeAndValue {
		return pkix.AttributeTypeAndValue{Type: oidAttrSerialNumber(), Value: v}
	}
	subtree := func(tag int, compound bool, content []byte, extra ...byte) asn1.RawValue {
		base, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tag, IsCompound: compound, Bytes: content})
		if err != nil {
			t.Fatal(err)
		}
		return asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: append(base, extra...)}
	}
	encode := func(permitted, excluded []asn1.RawValue) []byte {
		v := struct {
			P []asn1.RawValue `asn1:"optional,tag:0"`
			E []asn1.RawValue `asn1:"optional,tag:1"`
		}{permitted, excluded}
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name  string
		value []byte
		eins  []string
		ok    bool
	}{
		{"one dirName", encode([]asn1.RawValue{subtree(gnDirName, true, dir(sn("89049032")))}, nil), []string{"89049032"}, true},
		{"two dirNames and a DNS", encode([]asn1.RawValue{
			subtree(gnDirName, true, dir(sn("8904"))), subtree(gnDNS, false, []byte("example.com")), subtree(gnDirName, true, dir(sn("8933"))),
		}, nil), []string{"8904", "8933"}, true},
		{"dirName without serialNumber", encode([]asn1.RawValue{subtree(gnDirName, true, dir(pkix.AttributeTypeAndValue{Type: oidAttrOrganization(), Value: "x"}))}, nil), nil, true},
		{"EIN with letters", encode([]asn1.RawValue{subtree(gnDirName, true, dir(sn("89A")))}, nil), nil, false},
		{"empty EIN", encode([]asn1.RawValue{subtree(gnDirName, true, dir(sn("")))}, nil), nil, false},
		{"excluded dirName", encode(nil, []asn1.RawValue{subtree(gnDirName, true, dir(sn("8904")))}), nil, false},
		{"registeredID form", encode([]asn1.RawValue{subtree(gnRegistID, false, []byte{0x2a})}, nil), nil, false},
		{"maximum present", encode([]asn1.RawValue{subtree(gnDirName, true, dir(sn("8904")), 0x81, 0x01, 0x01)}, nil), nil, false},
		{"trailing data", append(encode([]asn1.RawValue{subtree(gnDirName, true, dir(sn("8904")))}, nil), 0), nil, false},
		{"not DER", []byte{0x30, 0x80}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names, err := parseNameConstraints(tt.value)
			if (err == nil) != tt.ok {
				t.Fatalf("parseNameConstraints: %v, want ok=%v", err, tt.ok)
			}
			var got []string
			for _, n := range names {
				got = append(got, n.ein)
			}
			if len(got) != len(tt.eins) {
				t.Fatalf("EINs %v, want %v", got, tt.eins)
			}
			for i := range got {
				if got[i] != tt.eins[i] {
					t.Fatalf("EINs %v, want %v", got, tt.eins)
				}
			}
		})
	}
}
