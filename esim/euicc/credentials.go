package euicc

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"
)

// Credentials are the card's signing key and certificate chain: SK.EUICC.ECDSA,
// CERT.EUICC.ECDSA and CERT.EUM.ECDSA (DER), and the SubjectKeyIdentifiers of
// the CI certificate(s) the chain leads to, which the card announces in
// EUICCInfo1/2.
type Credentials struct {
	Key       *ecdsa.PrivateKey
	EUICCCert []byte
	EUMCert   []byte
	CIPKIDs   [][]byte
}

// ErrCredentials is wrapped by Open's error when supplied or stored
// credentials are unusable (wrong curve, key not matching the certificate,
// certificate not issued by the EUM, EID mismatch).
var ErrCredentials = errors.New("euicc: unusable credentials")

// rspRolePolicy returns the certificate policy OID id-rspRole.n
// (2.23.146.1.2.1.n, sgp22.md 4.1): 1 eUICC, 2 EUM.
func rspRolePolicy(n int) asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{2, 23, 146, 1, 2, 1, n}
}

// testEIN is the EUM identification number of the generated test EUM; it
// is also the prefix of generated EIDs.
const testEIN = "89049032"

// check verifies that the credentials hang together and returns the parsed
// eUICC certificate.
func (c *Credentials) check() (*x509.Certificate, error) {
	if c == nil || c.Key == nil {
		return nil, fmt.Errorf("%w: no private key", ErrCredentials)
	}
	if c.Key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: key is not on P-256", ErrCredentials)
	}
	euicc, err := x509.ParseCertificate(c.EUICCCert)
	if err != nil {
		return nil, fmt.Errorf("%w: eUICC certificate: %w", ErrCredentials, err)
	}
	pub, ok := euicc.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&c.Key.PublicKey) {
		return nil, fmt.Errorf("%w: eUICC certificate does not match the private key", ErrCredentials)
	}
	eum, err := x509.ParseCertificate(c.EUMCert)
	if err != nil {
		return nil, fmt.Errorf("%w: EUM certificate: %w", ErrCredentials, err)
	}
	if err := euicc.CheckSignatureFrom(eum); err != nil {
		return nil, fmt.Errorf("%w: eUICC certificate not issued by the EUM: %w", ErrCredentials, err)
	}
	if len(c.CIPKIDs) == 0 {
		return nil, fmt.Errorf("%w: no CI public key identifiers", ErrCredentials)
	}
	for _, id := range c.CIPKIDs {
		if len(id) == 0 || len(id) > 64 {
			return nil, fmt.Errorf("%w: CI public key identifier of %d bytes", ErrCredentials, len(id))
		}
	}
	return euicc, nil
}

// certEID returns the subject serialNumber of an eUICC certificate, which
// SGP.22 sets to the EID.
func certEID(cert *x509.Certificate) string {
	return cert.Subject.SerialNumber
}

// store converts the credentials to their persisted form.
func (c *Credentials) store() (*storedCredentials, error) {
	key, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: encoding key: %w", ErrCredentials, err)
	}
	s := &storedCredentials{Key: key, EUICCCert: bytes.Clone(c.EUICCCert), EUMCert: bytes.Clone(c.EUMCert)}
	for _, id := range c.CIPKIDs {
		s.CIPKIDs = append(s.CIPKIDs, bytes.Clone(id))
	}
	return s, nil
}

// parse decodes persisted credentials, checks them and returns them with
// the parsed eUICC certificate.
func (s *storedCredentials) parse() (*Credentials, *x509.Certificate, error) {
	k, err := x509.ParsePKCS8PrivateKey(s.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: key: %w", ErrCredentials, err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("%w: key is %T, not ECDSA", ErrCredentials, k)
	}
	c := &Credentials{Key: key, EUICCCert: s.EUICCCert, EUMCert: s.EUMCert, CIPKIDs: s.CIPKIDs}
	cert, err := c.check()
	if err != nil {
		return nil, nil, err
	}
	return c, cert, nil
}

// subjectKeyID computes an RFC 5280 method-1 key identifier: SHA-1 of the
// subjectPublicKey bit string (the uncompressed point for EC keys).
func subjectKeyID(pub *ecdsa.PublicKey) ([]byte, error) {
	e, err := pub.ECDH()
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(e.Bytes())
	return sum[:], nil
}

func randomSerial(r io.Reader) (*big.Int, error) {
	return rand.Int(r, new(big.Int).Lsh(big.NewInt(1), 63))
}

// generateCredentials creates a self-contained test chain for the EID: a
// self-signed test EUM (which stands in for the CI, so its key identifier
// is the card's CI PK ID) and an eUICC certificate issued by it.
func generateCredentials(eid string, r io.Reader) (*Credentials, error) {
	eumKey, err := ecdsa.GenerateKey(elliptic.P256(), r)
	if err != nil {
		return nil, fmt.Errorf("euicc: generating EUM key: %w", err)
	}
	cardKey, err := ecdsa.GenerateKey(elliptic.P256(), r)
	if err != nil {
		return nil, fmt.Errorf("euicc: generating eUICC key: %w", err)
	}
	eumSKI, err := subjectKeyID(&eumKey.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("euicc: EUM key id: %w", err)
	}
	cardSKI, err := subjectKeyID(&cardKey.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("euicc: eUICC key id: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	notAfter := time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC)

	eumSerial, err := randomSerial(r)
	if err != nil {
		return nil, fmt.Errorf("euicc: serial: %w", err)
	}
	eumName := pkix.Name{
		Country:      []string{"US"},
		Organization: []string{"mobileplans test EUM"},
		CommonName:   "test EUM",
		SerialNumber: testEIN,
	}
	eumTmpl := &x509.Certificate{
		SerialNumber:          eumSerial,
		Subject:               eumName,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		SubjectKeyId:          eumSKI,
		PolicyIdentifiers:     []asn1.ObjectIdentifier{rspRolePolicy(2)},
	}
	eumDER, err := x509.CreateCertificate(r, eumTmpl, eumTmpl, &eumKey.PublicKey, eumKey)
	if err != nil {
		return nil, fmt.Errorf("euicc: creating EUM certificate: %w", err)
	}
	eum, err := x509.ParseCertificate(eumDER)
	if err != nil {
		return nil, fmt.Errorf("euicc: parsing EUM certificate: %w", err)
	}

	cardSerial, err := randomSerial(r)
	if err != nil {
		return nil, fmt.Errorf("euicc: serial: %w", err)
	}
	cardTmpl := &x509.Certificate{
		SerialNumber: cardSerial,
		Subject: pkix.Name{
			Organization: []string{"mobileplans test EUM"},
			CommonName:   "test eUICC",
			SerialNumber: eid,
		},
		NotBefore:         now.Add(-time.Hour),
		NotAfter:          notAfter,
		KeyUsage:          x509.KeyUsageDigitalSignature,
		SubjectKeyId:      cardSKI,
		AuthorityKeyId:    eumSKI,
		PolicyIdentifiers: []asn1.ObjectIdentifier{rspRolePolicy(1)},
	}
	cardDER, err := x509.CreateCertificate(r, cardTmpl, eum, &cardKey.PublicKey, eumKey)
	if err != nil {
		return nil, fmt.Errorf("euicc: creating eUICC certificate: %w", err)
	}
	c := &Credentials{Key: cardKey, EUICCCert: cardDER, EUMCert: eumDER, CIPKIDs: [][]byte{eumSKI}}
	if _, err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// signPlain signs data with ECDSA-SHA256 and returns the 64-byte r||s
// (BSI TR-03111 plain) signature used inside RSP structures.
func signPlain(key *ecdsa.PrivateKey, r io.Reader, data []byte) ([]byte, error) {
	digest := sha256.Sum256(data)
	der, err := ecdsa.SignASN1(r, key, digest[:])
	if err != nil {
		return nil, fmt.Errorf("euicc: signing: %w", err)
	}
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("euicc: signing: malformed signature")
	}
	out := make([]byte, 64)
	sig.R.FillBytes(out[:32])
	sig.S.FillBytes(out[32:])
	return out, nil
}
