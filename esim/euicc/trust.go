package euicc

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mobileplans/mobileplans/esim/pki"
)

// Issuer is the certificate authority side the card is attached to: the
// CI certificates it trusts (to verify the SM-DP+'s DPauth and DPpb
// certificates) and an EUM that certifies the card's own key.
type Issuer interface {
	// TrustedCIs returns the CI certificates the card trusts.
	TrustedCIs() []*x509.Certificate
	// IssueEUICC certifies pub for the EID: it returns the DER eUICC
	// certificate and the DER certificate of the EUM that issued it, which
	// must chain to one of TrustedCIs.
	IssueEUICC(eid string, pub *ecdsa.PublicKey) (euiccDER, eumDER []byte, err error)
}

// PKIIssuer adapts a test PKI (esim/pki) to Issuer: its CI is trusted and
// its EUM issues the eUICC certificate.
func PKIIssuer(p *pki.PKI) Issuer { return pkiIssuer{p} }

type pkiIssuer struct{ p *pki.PKI }

func (i pkiIssuer) TrustedCIs() []*x509.Certificate { return i.p.Roots() }

func (i pkiIssuer) IssueEUICC(eid string, pub *ecdsa.PublicKey) ([]byte, []byte, error) {
	e, err := i.p.IssueEUICC(eid, pub)
	if err != nil {
		return nil, nil, err
	}
	return e.DER, i.p.EUM.DER, nil
}

// ErrIssuer is wrapped by Open's error when Options.Issuer trusts no CI or
// cannot certify the card.
var ErrIssuer = errors.New("euicc: issuer unusable")

// parseTrustedCIs parses the persisted CI certificates.
func parseTrustedCIs(ders [][]byte) ([]*x509.Certificate, error) {
	out := make([]*x509.Certificate, 0, len(ders))
	for i, d := range ders {
		cert, err := x509.ParseCertificate(d)
		if err != nil {
			return nil, fmt.Errorf("trusted CI certificate %d: %w", i, err)
		}
		out = append(out, cert)
	}
	return out, nil
}

// ciPKIDsOf returns the subject key identifiers of the CI certificates.
func ciPKIDsOf(cis []*x509.Certificate) [][]byte {
	out := make([][]byte, 0, len(cis))
	for _, ci := range cis {
		out = append(out, pki.SubjectKeyID(ci))
	}
	return out
}

// chainsTo reports whether the credentials' eUICC certificate, through
// their EUM certificate, chains to one of cis and is for the EID.
func chainsTo(creds *Credentials, eid string, cis []*x509.Certificate, now time.Time) error {
	got, _, err := pki.VerifyEUICC(creds.EUICCCert, creds.EUMCert, cis, now)
	if err != nil {
		return err
	}
	if got != eid {
		return fmt.Errorf("eUICC certificate is for EID %s, the card has %s", shortID(got), shortID(eid))
	}
	return nil
}

// applyIssuer makes the card trust the issuer's CIs and, when the card's
// certificate chain does not lead to one of them, has the issuer certify
// the card's existing key and EID. It changes c.st and c.creds in place
// (open persists them) and reports whether anything changed.
func (c *Card) applyIssuer(iss Issuer) (bool, error) {
	cis := slices.DeleteFunc(slices.Clone(iss.TrustedCIs()), func(x *x509.Certificate) bool { return x == nil })
	if len(cis) == 0 {
		return false, fmt.Errorf("%w: it trusts no CI certificate", ErrIssuer)
	}
	changed := false
	ders := make([][]byte, len(cis))
	for i, ci := range cis {
		ders[i] = bytes.Clone(ci.Raw)
	}
	if !slices.EqualFunc(ders, c.st.TrustedCIs, bytes.Equal) {
		c.st.TrustedCIs = ders
		changed = true
	}
	ids := ciPKIDsOf(cis)
	err := chainsTo(c.creds, c.st.EID, cis, c.now())
	if err == nil {
		if !slices.EqualFunc(ids, c.creds.CIPKIDs, bytes.Equal) {
			creds := *c.creds
			creds.CIPKIDs = ids
			if err := c.setCredentials(&creds); err != nil {
				return false, err
			}
			changed = true
		}
		return changed, nil
	}
	c.log.Info("re-certifying the eUICC key with the issuer", "reason", err)
	euiccDER, eumDER, err := iss.IssueEUICC(c.st.EID, &c.creds.Key.PublicKey)
	if err != nil {
		return false, fmt.Errorf("%w: certifying the card: %w", ErrIssuer, err)
	}
	creds := &Credentials{Key: c.creds.Key, EUICCCert: euiccDER, EUMCert: eumDER, CIPKIDs: ids}
	if _, err := creds.check(); err != nil {
		return false, fmt.Errorf("%w: issued chain: %w", ErrIssuer, err)
	}
	if err := chainsTo(creds, c.st.EID, cis, c.now()); err != nil {
		return false, fmt.Errorf("%w: issued chain does not lead to its CIs: %w", ErrIssuer, err)
	}
	if err := c.setCredentials(creds); err != nil {
		return false, err
	}
	return true, nil
}

// setCredentials replaces the credentials in c.creds and c.st.
func (c *Card) setCredentials(creds *Credentials) error {
	stored, err := creds.store()
	if err != nil {
		return err
	}
	c.st.Credentials = stored
	c.creds = creds
	return nil
}

// trustedCI returns the trusted CI certificate whose key identifier is id.
func (c *Card) trustedCI(id []byte) *x509.Certificate {
	if len(id) == 0 {
		return nil
	}
	for _, ci := range c.trusted {
		if bytes.Equal(pki.SubjectKeyID(ci), id) {
			return ci
		}
	}
	return nil
}
