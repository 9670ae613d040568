package pki

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"net"
	"strings"
)

// Object identifiers of the extensions and attributes this package writes
// or reads itself. They are functions rather than package variables so that
// no caller can modify them.
func oidExtSubjectAltName() asn1.ObjectIdentifier  { return asn1.ObjectIdentifier{2, 5, 29, 17} }
func oidExtNameConstraints() asn1.ObjectIdentifier { return asn1.ObjectIdentifier{2, 5, 29, 30} }
func oidExtCertPolicies() asn1.ObjectIdentifier    { return asn1.ObjectIdentifier{2, 5, 29, 32} }
func oidExtExtKeyUsage() asn1.ObjectIdentifier     { return asn1.ObjectIdentifier{2, 5, 29, 37} }
func oidExtPermittedEINs() asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{2, 23, 146, 1, 2, 2, 0}
}
func oidAttrSerialNumber() asn1.ObjectIdentifier { return asn1.ObjectIdentifier{2, 5, 4, 5} }
func oidAttrOrganization() asn1.ObjectIdentifier { return asn1.ObjectIdentifier{2, 5, 4, 10} }
func oidAttrCommonName() asn1.ObjectIdentifier   { return asn1.ObjectIdentifier{2, 5, 4, 3} }
func oidEKUServerAuth() asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
}
func oidEKUClientAuth() asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 2}
}
func defaultCIRegisteredID() asn1.ObjectIdentifier  { return asn1.ObjectIdentifier{2, 999, 1} }
func defaultEUMRegisteredID() asn1.ObjectIdentifier { return asn1.ObjectIdentifier{2, 999, 5} }

// DefaultSMDPOID returns the SM-DP+ OID Generate uses when Options.SMDPOID is
// empty: 2.999.10, under the ITU-T/ISO "example" arc 2.999, the value SGP.26
// uses for its test SM-DP+.
func DefaultSMDPOID() asn1.ObjectIdentifier { return asn1.ObjectIdentifier{2, 999, 10} }

// GeneralName context tags (RFC 5280 4.2.1.6).
const (
	gnRFC822   = 1
	gnDNS      = 2
	gnDirName  = 4
	gnURI      = 6
	gnIP       = 7
	gnRegistID = 8
)

// SubjectKeyID returns the certificate's subjectKeyIdentifier, or, when the
// extension is absent, the SHA-1 of its subjectPublicKey bit string (RFC 5280
// 4.2.1.2 method 1, the value SGP.22 uses as CI PKID).
func SubjectKeyID(cert *x509.Certificate) []byte {
	if len(cert.SubjectKeyId) > 0 {
		return bytes.Clone(cert.SubjectKeyId)
	}
	ski, err := skiFromSPKI(cert.RawSubjectPublicKeyInfo)
	if err != nil {
		return nil
	}
	return ski
}

// skiFromSPKI hashes the subjectPublicKey BIT STRING of a DER
// SubjectPublicKeyInfo with SHA-1.
func skiFromSPKI(spki []byte) ([]byte, error) {
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	rest, err := asn1.Unmarshal(spki, &info)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errors.New("trailing data after SubjectPublicKeyInfo")
	}
	sum := sha1.Sum(info.PublicKey.Bytes)
	return sum[:], nil
}

// policiesExtension encodes certificatePolicies with one policy OID and no
// qualifiers.
func policiesExtension(policy asn1.ObjectIdentifier, critical bool) (pkix.Extension, error) {
	type policyInformation struct{ Policy asn1.ObjectIdentifier }
	v, err := asn1.Marshal([]policyInformation{{policy}})
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("encode certificatePolicies: %w", err)
	}
	return pkix.Extension{Id: oidExtCertPolicies(), Critical: critical, Value: v}, nil
}

// ekuExtension encodes a critical extKeyUsage with serverAuth and clientAuth.
func ekuExtension() (pkix.Extension, error) {
	v, err := asn1.Marshal([]asn1.ObjectIdentifier{oidEKUServerAuth(), oidEKUClientAuth()})
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("encode extKeyUsage: %w", err)
	}
	return pkix.Extension{Id: oidExtExtKeyUsage(), Critical: true, Value: v}, nil
}

// sanExtension encodes a non-critical subjectAltName with DNS names and IP
// addresses (hosts that parse as IPs) followed by a registeredID.
func sanExtension(hosts []string, rid asn1.ObjectIdentifier) (pkix.Extension, error) {
	var names []asn1.RawValue
	for _, h := range hosts {
		var (
			b   []byte
			err error
		)
		if ip := net.ParseIP(h); ip != nil {
			if v4 := ip.To4(); v4 != nil {
				ip = v4
			}
			b, err = asn1.MarshalWithParams([]byte(ip), fmt.Sprintf("tag:%d", gnIP))
		} else {
			b, err = asn1.MarshalWithParams(h, fmt.Sprintf("tag:%d,ia5", gnDNS))
		}
		if err != nil {
			return pkix.Extension{}, fmt.Errorf("encode subjectAltName %q: %w", h, err)
		}
		names = append(names, asn1.RawValue{FullBytes: b})
	}
	if len(rid) > 0 {
		b, err := asn1.MarshalWithParams(rid, fmt.Sprintf("tag:%d", gnRegistID))
		if err != nil {
			return pkix.Extension{}, fmt.Errorf("encode registeredID %v: %w", rid, err)
		}
		names = append(names, asn1.RawValue{FullBytes: b})
	}
	v, err := asn1.Marshal(names)
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("encode subjectAltName: %w", err)
	}
	return pkix.Extension{Id: oidExtSubjectAltName(), Value: v}, nil
}

// nameConstraintsExtension encodes a critical NameConstraints with one
// permitted directoryName subtree.
func nameConstraintsExtension(dirName pkix.RDNSequence) (pkix.Extension, error) {
	rdn, err := asn1.Marshal(dirName)
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("encode directoryName: %w", err)
	}
	type generalSubtree struct{ Base asn1.RawValue }
	type nameConstraints struct {
		Permitted []generalSubtree `asn1:"optional,tag:0"`
	}
	v, err := asn1.Marshal(nameConstraints{Permitted: []generalSubtree{{
		Base: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: gnDirName, IsCompound: true, Bytes: rdn},
	}}})
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("encode NameConstraints: %w", err)
	}
	return pkix.Extension{Id: oidExtNameConstraints(), Critical: true, Value: v}, nil
}

// RegisteredID returns the registeredID entry of the certificate's
// subjectAltName: the SM-DP+ OID of DPauth/DPpb/DPtls certificates (SGP.22
// smdpOid), the CI or EUM OID on those. Errors wrap ErrBadCert.
func RegisteredID(cert *x509.Certificate) (asn1.ObjectIdentifier, error) {
	for _, e := range cert.Extensions {
		if !e.Id.Equal(oidExtSubjectAltName()) {
			continue
		}
		var names []asn1.RawValue
		rest, err := asn1.Unmarshal(e.Value, &names)
		if err != nil || len(rest) != 0 {
			return nil, fmt.Errorf("%w: malformed subjectAltName", ErrBadCert)
		}
		for _, n := range names {
			if n.Class != asn1.ClassContextSpecific || n.Tag != gnRegistID || n.IsCompound {
				continue
			}
			var oid asn1.ObjectIdentifier
			if _, err := asn1.UnmarshalWithParams(n.FullBytes, &oid, fmt.Sprintf("tag:%d", gnRegistID)); err != nil {
				return nil, fmt.Errorf("%w: malformed registeredID in subjectAltName: %w", ErrBadCert, err)
			}
			return oid, nil
		}
	}
	return nil, fmt.Errorf("%w: %q has no registeredID in its subjectAltName", ErrBadCert, cert.Subject.String())
}

// permittedName is one EIN range of an EUM: the prefix, and the
// directoryName it came from (nil for the permittedEins extension).
type permittedName struct {
	ein     string
	dirName pkix.RDNSequence
}

// PermittedEINs returns the EIN prefixes an EUM certificate permits for
// the EIDs of the eUICCs it issues: the serialNumber attributes of the
// directoryName entries in the permittedSubtrees of its NameConstraints and
// the entries of a permittedEins extension. It returns nil, nil when the
// certificate has neither. Errors wrap ErrBadCert.
func PermittedEINs(cert *x509.Certificate) ([]string, error) {
	names, err := permittedNames(cert)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		out = append(out, n.ein)
	}
	return out, nil
}

func permittedNames(cert *x509.Certificate) ([]permittedName, error) {
	var out []permittedName
	for _, e := range cert.Extensions {
		switch {
		case e.Id.Equal(oidExtNameConstraints()):
			names, err := parseNameConstraints(e.Value)
			if err != nil {
				return nil, fmt.Errorf("%w: %q: NameConstraints: %w", ErrBadCert, cert.Subject.String(), err)
			}
			out = append(out, names...)
		case e.Id.Equal(oidExtPermittedEINs()):
			eins, err := parsePermittedEINs(e.Value)
			if err != nil {
				return nil, fmt.Errorf("%w: %q: permittedEins: %w", ErrBadCert, cert.Subject.String(), err)
			}
			for _, ein := range eins {
				out = append(out, permittedName{ein: ein})
			}
		}
	}
	return out, nil
}

// parseNameConstraints reads the directoryName serialNumber values of the
// permitted subtrees. Subtree forms crypto/x509 enforces itself (DNS, email,
// URI, IP) are skipped; any other form, a directoryName in the excluded
// subtrees, or a minimum/maximum is refused because nothing would enforce it.
func parseNameConstraints(value []byte) ([]permittedName, error) {
	var nc struct {
		Permitted []asn1.RawValue `asn1:"optional,tag:0"`
		Excluded  []asn1.RawValue `asn1:"optional,tag:1"`
	}
	rest, err := asn1.Unmarshal(value, &nc)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errors.New("trailing data")
	}
	var out []permittedName
	for i, list := range [][]asn1.RawValue{nc.Permitted, nc.Excluded} {
		excluded := i == 1
		for _, st := range list {
			if st.Class != asn1.ClassUniversal || st.Tag != asn1.TagSequence || !st.IsCompound {
				return nil, errors.New("GeneralSubtree is not a SEQUENCE")
			}
			var base asn1.RawValue
			rest, err := asn1.Unmarshal(st.Bytes, &base)
			if err != nil {
				return nil, fmt.Errorf("GeneralSubtree base: %w", err)
			}
			if len(rest) != 0 {
				return nil, errors.New("GeneralSubtree minimum/maximum not supported")
			}
			if base.Class != asn1.ClassContextSpecific {
				return nil, errors.New("GeneralName is not context-tagged")
			}
			switch base.Tag {
			case gnRFC822, gnDNS, gnURI, gnIP:
				continue // enforced by crypto/x509
			case gnDirName:
				if excluded {
					return nil, errors.New("excluded directoryName not supported")
				}
				if !base.IsCompound {
					return nil, errors.New("directoryName is not constructed")
				}
				var rdn pkix.RDNSequence
				rest, err := asn1.Unmarshal(base.Bytes, &rdn)
				if err != nil {
					return nil, fmt.Errorf("directoryName: %w", err)
				}
				if len(rest) != 0 {
					return nil, errors.New("trailing data in directoryName")
				}
				sns, err := serialNumbers(rdn)
				if err != nil {
					return nil, err
				}
				for _, sn := range sns {
					if err := checkEIN(sn); err != nil {
						return nil, err
					}
					out = append(out, permittedName{ein: sn, dirName: rdn})
				}
			default:
				return nil, fmt.Errorf("GeneralName form [%d] not supported", base.Tag)
			}
		}
	}
	return out, nil
}

// parsePermittedEINs reads PermittedEINs ::= SEQUENCE OF PrintableString.
func parsePermittedEINs(value []byte) ([]string, error) {
	var eins []string
	rest, err := asn1.Unmarshal(value, &eins)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errors.New("trailing data")
	}
	for _, e := range eins {
		if err := checkEIN(e); err != nil {
			return nil, err
		}
	}
	return eins, nil
}

// checkEIN accepts 1 to 32 decimal digits.
func checkEIN(s string) error {
	if len(s) == 0 || len(s) > 32 || nonDigit(s) >= 0 {
		return fmt.Errorf("EIN %q is not 1 to 32 decimal digits", s)
	}
	return nil
}

// serialNumbers returns the serialNumber attribute values of a name.
func serialNumbers(rdn pkix.RDNSequence) ([]string, error) {
	var out []string
	for _, set := range rdn {
		for _, atv := range set {
			if !atv.Type.Equal(oidAttrSerialNumber()) {
				continue
			}
			s, ok := atv.Value.(string)
			if !ok {
				return nil, fmt.Errorf("serialNumber attribute of type %T", atv.Value)
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// subjectSerialNumber returns the single serialNumber attribute of the
// certificate's subject.
func subjectSerialNumber(cert *x509.Certificate) (string, error) {
	var rdn pkix.RDNSequence
	rest, err := asn1.Unmarshal(cert.RawSubject, &rdn)
	if err != nil || len(rest) != 0 {
		return "", fmt.Errorf("%w: malformed subject", ErrBadCert)
	}
	sns, err := serialNumbers(rdn)
	if err != nil {
		return "", fmt.Errorf("%w: subject: %w", ErrBadCert, err)
	}
	if len(sns) != 1 {
		return "", fmt.Errorf("%w: subject %q has %d serialNumber attributes, want 1", ErrBadCert, cert.Subject.String(), len(sns))
	}
	return sns[0], nil
}

// EID returns the EID of an eUICC certificate (its subject serialNumber),
// checked to be 32 digits with valid check digits. Errors wrap ErrBadCert,
// and also ErrBadEID when the value is not a valid EID.
func EID(cert *x509.Certificate) (string, error) {
	sn, err := subjectSerialNumber(cert)
	if err != nil {
		return "", err
	}
	if err := checkEID(sn); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadCert, err)
	}
	return sn, nil
}

// checkEID validates 32 decimal digits whose value mod 97 is 1 (SGP.29).
// Errors wrap ErrBadEID.
func checkEID(eid string) error {
	if len(eid) != 32 {
		return fmt.Errorf("%w: %d characters, want 32 digits", ErrBadEID, len(eid))
	}
	if i := nonDigit(eid); i >= 0 {
		return fmt.Errorf("%w: character %d is not a digit", ErrBadEID, i)
	}
	r := 0
	for i := 0; i < len(eid); i++ {
		r = (r*10 + int(eid[i]-'0')) % 97
	}
	if r != 1 {
		return fmt.Errorf("%w: check digits do not verify", ErrBadEID)
	}
	return nil
}

func nonDigit(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return i
		}
	}
	return -1
}

// inRange reports whether eid starts with one of the prefixes.
func inRange(eid string, eins []string) bool {
	for _, p := range eins {
		if strings.HasPrefix(eid, p) {
			return true
		}
	}
	return false
}

// redactEID keeps the EIN part of an EID for logs and messages.
func redactEID(eid string) string {
	if len(eid) <= 8 {
		return eid
	}
	return eid[:8] + "…"
}
