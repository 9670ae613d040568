package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"
)

// Defaults applied by Generate and LoadOrGenerate to empty Options fields.
const (
	// DefaultEIDPrefix is the EIN range of the generated EUM (the SGP.26
	// test EUM's range).
	DefaultEIDPrefix = "89049032"
	// DefaultSMDPHost is the SM-DP+ host name in the generated DP certificates.
	DefaultSMDPHost = "smdp.mobileplans.test"
)

// Validity periods of generated certificates.
const (
	ciValidityYears    = 30
	otherValidityYears = 10
	backdate           = time.Hour
)

// Subject names of generated certificates.
const (
	ciCommonName   = "mobileplans Test CI"
	ciOrgUnit      = "TESTCERT"
	ciOrganization = "RSPTEST"
	eumOrg         = "mobileplans Test EUM"
	eumCommonName  = "mobileplans Test EUM"
	euiccCommonNm  = "mobileplans Test eUICC"
	dpOrganization = "mobileplans Test SM-DP+"
)

// Options configure Generate and LoadOrGenerate.
type Options struct {
	// Dir is where LoadOrGenerate loads from or saves to. Generate ignores it.
	Dir string
	// Now is the clock for validity periods; nil means time.Now.
	Now func() time.Time
	// EIDPrefix is the EUM's EIN range, 1 to 30 decimal digits; empty means
	// DefaultEIDPrefix.
	EIDPrefix string
	// SMDPHost is the SM-DP+ FQDN: DPtls subject CN and DNS SAN, and the
	// subject CN of DPauth and DPpb. Empty means DefaultSMDPHost.
	SMDPHost string
	// ExtraTLSHosts are further DPtls SANs; entries that parse as IP
	// addresses become IP SANs, others DNS SANs ("localhost", "127.0.0.1").
	ExtraTLSHosts []string
	// SMDPOID is the SM-DP+ OID put as registeredID into the DP
	// certificates; empty means DefaultSMDPOID (2.999.10).
	SMDPOID asn1.ObjectIdentifier
	// Logger receives debug/info/warn records; nil discards them.
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.EIDPrefix == "" {
		o.EIDPrefix = DefaultEIDPrefix
	}
	if len(o.EIDPrefix) > 30 || nonDigit(o.EIDPrefix) >= 0 {
		return o, fmt.Errorf("pki: EIDPrefix %q is not 1 to 30 decimal digits", o.EIDPrefix)
	}
	if o.SMDPHost == "" {
		o.SMDPHost = DefaultSMDPHost
	}
	for _, h := range append([]string{o.SMDPHost}, o.ExtraTLSHosts...) {
		if err := checkHost(h); err != nil {
			return o, err
		}
	}
	if len(o.SMDPOID) == 0 {
		o.SMDPOID = DefaultSMDPOID()
	}
	if len(o.SMDPOID) < 2 {
		return o, fmt.Errorf("pki: SMDPOID %v has fewer than two arcs", o.SMDPOID)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// checkHost accepts an IP address or a non-empty printable ASCII name
// without spaces, slashes or colons.
func checkHost(h string) error {
	if net.ParseIP(h) != nil {
		return nil
	}
	if h == "" || strings.ContainsAny(h, " /:\\@") {
		return fmt.Errorf("pki: %q is not a host name", h)
	}
	for i := 0; i < len(h); i++ {
		if h[i] < 0x21 || h[i] > 0x7E {
			return fmt.Errorf("pki: %q is not a host name", h)
		}
	}
	return nil
}

// Entity is one certificate with its private key.
type Entity struct {
	Cert *x509.Certificate
	DER  []byte
	// Key is nil when the certificate was loaded without its key.
	Key *ecdsa.PrivateKey
}

// PKI is the SM-DP+ side of a test RSP PKI plus the CI and EUM that issue
// the eUICC certificates. eUICC entities are issued on demand (IssueEUICC,
// NewEUICC) and not kept. A PKI is safe for concurrent use once built; its
// fields must not be modified afterwards.
type PKI struct {
	CI, EUM, DPauth, DPpb, DPtls *Entity
	// SMDPOID is the SM-DP+ OID carried as registeredID by the DP certificates.
	SMDPOID asn1.ObjectIdentifier

	now func() time.Time
	log *slog.Logger
}

// Generate creates a fresh CI, EUM, DPauth, DPpb and DPtls (see the package
// documentation for their contents). Nothing is written to disk.
func Generate(opts Options) (*PKI, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	now := o.Now().UTC().Truncate(time.Second)
	notBefore := now.Add(-backdate)

	ci, err := newEntity(certSpec{
		subject:   pkix.Name{CommonName: ciCommonName, OrganizationalUnit: []string{ciOrgUnit}, Organization: []string{ciOrganization}},
		role:      RoleCI,
		ca:        true,
		maxPath:   -1,
		ku:        x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		rid:       defaultCIRegisteredID(),
		notBefore: notBefore,
		notAfter:  now.AddDate(ciValidityYears, 0, 0),
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("pki: generate CI: %w", err)
	}

	nc, err := nameConstraintsExtension(pkix.RDNSequence{
		{{Type: oidAttrOrganization(), Value: eumOrg}},
		{{Type: oidAttrSerialNumber(), Value: o.EIDPrefix}},
	})
	if err != nil {
		return nil, fmt.Errorf("pki: generate EUM: %w", err)
	}
	eum, err := newEntity(certSpec{
		subject:   pkix.Name{Organization: []string{eumOrg}, CommonName: eumCommonName},
		role:      RoleEUM,
		ca:        true,
		maxPath:   0,
		ku:        x509.KeyUsageCertSign,
		rid:       defaultEUMRegisteredID(),
		extra:     []pkix.Extension{nc},
		notBefore: notBefore,
		notAfter:  now.AddDate(otherValidityYears, 0, 0),
	}, ci)
	if err != nil {
		return nil, fmt.Errorf("pki: generate EUM: %w", err)
	}

	dp := func(role Role, hosts []string) (*Entity, error) {
		spec := certSpec{
			subject:   pkix.Name{Organization: []string{dpOrganization}, CommonName: o.SMDPHost},
			role:      role,
			maxPath:   -1,
			ku:        x509.KeyUsageDigitalSignature,
			rid:       o.SMDPOID,
			hosts:     hosts,
			notBefore: notBefore,
			notAfter:  now.AddDate(otherValidityYears, 0, 0),
		}
		if role == RoleDPtls {
			eku, err := ekuExtension()
			if err != nil {
				return nil, err
			}
			spec.extra = append(spec.extra, eku)
		}
		e, err := newEntity(spec, ci)
		if err != nil {
			return nil, fmt.Errorf("pki: generate %s: %w", role, err)
		}
		return e, nil
	}
	dpauth, err := dp(RoleDPauth, nil)
	if err != nil {
		return nil, err
	}
	dppb, err := dp(RoleDPpb, nil)
	if err != nil {
		return nil, err
	}
	hosts := []string{o.SMDPHost}
	for _, h := range o.ExtraTLSHosts {
		if !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	dptls, err := dp(RoleDPtls, hosts)
	if err != nil {
		return nil, err
	}
	return &PKI{
		CI: ci, EUM: eum, DPauth: dpauth, DPpb: dppb, DPtls: dptls,
		SMDPOID: slices.Clone(o.SMDPOID),
		now:     o.Now,
		log:     o.Logger,
	}, nil
}

// certSpec describes a certificate to issue.
type certSpec struct {
	subject    pkix.Name
	rawSubject []byte // overrides subject when set
	role       Role
	ca         bool
	maxPath    int // CA path length; -1 for none
	ku         x509.KeyUsage
	rid        asn1.ObjectIdentifier // SAN registeredID, if any
	hosts      []string              // SAN DNS/IP entries
	extra      []pkix.Extension
	notBefore  time.Time
	notAfter   time.Time
	pub        *ecdsa.PublicKey // nil: generate a key pair
}

// newEntity issues a certificate described by spec, signed by issuer (nil:
// self-signed with the new key).
func newEntity(spec certSpec, issuer *Entity) (*Entity, error) {
	var key *ecdsa.PrivateKey
	pub := spec.pub
	if pub == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate key: %w", err)
		}
		key, pub = k, &k.PublicKey
	}
	if pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: public key is not on P-256", ErrBadKey)
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	ski, err := skiFromSPKI(spki)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	// Policies are critical as in SGP.26, except on the TLS certificate that
	// generic TLS stacks must accept.
	pol, err := policiesExtension(spec.role.PolicyOID(), spec.role != RoleDPtls)
	if err != nil {
		return nil, err
	}
	extra := append([]pkix.Extension{pol}, spec.extra...)
	if len(spec.hosts) > 0 || len(spec.rid) > 0 {
		san, err := sanExtension(spec.hosts, spec.rid)
		if err != nil {
			return nil, err
		}
		extra = append(extra, san)
	}
	tmpl := &x509.Certificate{
		Subject:               spec.subject,
		RawSubject:            spec.rawSubject,
		NotBefore:             spec.notBefore,
		NotAfter:              spec.notAfter,
		KeyUsage:              spec.ku,
		BasicConstraintsValid: spec.ca,
		IsCA:                  spec.ca,
		MaxPathLen:            spec.maxPath,
		MaxPathLenZero:        spec.ca && spec.maxPath == 0,
		SubjectKeyId:          ski,
		ExtraExtensions:       extra,
		SignatureAlgorithm:    x509.ECDSAWithSHA256,
	}
	parent, signer := tmpl, key
	if issuer != nil {
		if issuer.Key == nil {
			return nil, fmt.Errorf("%w: issuer %q", ErrNoKey, issuer.Cert.Subject.String())
		}
		parent, signer = issuer.Cert, issuer.Key
		if tmpl.NotAfter.After(issuer.Cert.NotAfter) {
			tmpl.NotAfter = issuer.Cert.NotAfter
		}
	} else {
		tmpl.AuthorityKeyId = ski
	}
	if signer == nil {
		return nil, errors.New("self-signed certificate needs a generated key")
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse created certificate: %w", err)
	}
	return &Entity{Cert: cert, DER: der, Key: key}, nil
}

// IssueEUICC issues an eUICC certificate for eid and pub, signed by the EUM:
// subject "O=<EUM organisation>, serialNumber=<EID>, CN=...", policy
// id-rspRole-euicc, KU digitalSignature, 10 years (at most the EUM's
// validity). The EID must be valid (ErrBadEID) and within the EUM's range
// (ErrEIDOutOfRange); the EUM key must be loaded (ErrNoKey). The returned
// Entity has no Key.
func (p *PKI) IssueEUICC(eid string, pub *ecdsa.PublicKey) (*Entity, error) {
	if err := checkEID(eid); err != nil {
		return nil, err
	}
	if pub == nil {
		return nil, fmt.Errorf("%w: no public key", ErrBadKey)
	}
	if p.EUM == nil || p.EUM.Key == nil {
		return nil, fmt.Errorf("%w: the EUM private key is not loaded, cannot issue eUICC certificates", ErrNoKey)
	}
	names, err := permittedNames(p.EUM.Cert)
	if err != nil {
		return nil, err
	}
	var match *permittedName
	for i := range names {
		if strings.HasPrefix(eid, names[i].ein) {
			match = &names[i]
			break
		}
	}
	if match == nil {
		return nil, fmt.Errorf("%w: EID %s not within %v", ErrEIDOutOfRange, redactEID(eid), einsOf(names))
	}
	subject, err := euiccSubject(p.EUM.Cert, match.dirName, eid)
	if err != nil {
		return nil, err
	}
	now := p.clock()().UTC().Truncate(time.Second)
	e, err := newEntity(certSpec{
		rawSubject: subject,
		role:       RoleEUICC,
		maxPath:    -1,
		ku:         x509.KeyUsageDigitalSignature,
		notBefore:  now.Add(-backdate),
		notAfter:   now.AddDate(otherValidityYears, 0, 0),
		pub:        pub,
	}, p.EUM)
	if err != nil {
		return nil, fmt.Errorf("pki: issue eUICC certificate: %w", err)
	}
	p.logger().Debug("issued eUICC certificate", "eid", redactEID(eid), "notAfter", e.Cert.NotAfter)
	return e, nil
}

// NewEUICC generates a P-256 key pair and issues its eUICC certificate (see
// IssueEUICC). The returned Entity holds the key.
func (p *PKI) NewEUICC(eid string) (*Entity, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generate eUICC key: %w", err)
	}
	e, err := p.IssueEUICC(eid, &key.PublicKey)
	if err != nil {
		return nil, err
	}
	e.Key = key
	return e, nil
}

func einsOf(names []permittedName) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, n.ein)
	}
	return out
}

// euiccSubject builds the DER subject of an eUICC certificate: the permitted
// directoryName with its serialNumber replaced by the EID (or, for a range
// from permittedEins, the EUM's organisation and the EID), then a CN.
func euiccSubject(eum *x509.Certificate, dirName pkix.RDNSequence, eid string) ([]byte, error) {
	var rdn pkix.RDNSequence
	if dirName != nil {
		for _, set := range dirName {
			out := make(pkix.RelativeDistinguishedNameSET, 0, len(set))
			for _, atv := range set {
				if atv.Type.Equal(oidAttrSerialNumber()) {
					atv.Value = eid
				}
				out = append(out, atv)
			}
			rdn = append(rdn, out)
		}
	} else {
		for _, o := range eum.Subject.Organization {
			rdn = append(rdn, pkix.RelativeDistinguishedNameSET{{Type: oidAttrOrganization(), Value: o}})
		}
		rdn = append(rdn, pkix.RelativeDistinguishedNameSET{{Type: oidAttrSerialNumber(), Value: eid}})
	}
	rdn = append(rdn, pkix.RelativeDistinguishedNameSET{{Type: oidAttrCommonName(), Value: euiccCommonNm}})
	der, err := asn1.Marshal(rdn)
	if err != nil {
		return nil, fmt.Errorf("pki: encode eUICC subject: %w", err)
	}
	return der, nil
}

// CIPKID returns the CI's public key identifier (its SKI), the value of
// euiccCiPKIdListForVerification/Signing and of the DPauth AKI.
func (p *PKI) CIPKID() []byte { return SubjectKeyID(p.CI.Cert) }

// Roots returns the CI certificate as the trust anchors for VerifyChain
// and VerifyEUICC.
func (p *PKI) Roots() []*x509.Certificate { return []*x509.Certificate{p.CI.Cert} }

// RootPool returns a pool holding the CI certificate, which DPtls chains to:
// the RootCAs of TLS clients talking to this SM-DP+.
func (p *PKI) RootPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.CI.Cert)
	return pool
}

// TLSCertificate returns the DPtls certificate and key for an HTTPS server.
func (p *PKI) TLSCertificate() (tls.Certificate, error) {
	if p.DPtls == nil || p.DPtls.Key == nil {
		return tls.Certificate{}, fmt.Errorf("%w: DPtls", ErrNoKey)
	}
	return tls.Certificate{
		Certificate: [][]byte{slices.Clone(p.DPtls.DER)},
		PrivateKey:  p.DPtls.Key,
		Leaf:        p.DPtls.Cert,
	}, nil
}

func (p *PKI) clock() func() time.Time {
	if p.now == nil {
		return time.Now
	}
	return p.now
}

func (p *PKI) logger() *slog.Logger {
	if p.log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.log
}
