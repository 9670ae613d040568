package pki

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"slices"
	"time"
)

// VerifyChain checks that leaf (DER) is a valid certificate of the given
// role at time now, issued through intermediates (DER, any order, each used
// at most once) by one of roots (the trusted CI certificates). It checks
// certificate signatures, validity of every certificate of the path, basic
// constraints and path length, key usage (certSign for CI/EUM,
// digitalSignature otherwise, serverAuth for DPtls), the role policy OID of
// the leaf (and for an eUICC, that its issuer is an EUM), the EID range of
// any EUM in the path, and refuses unknown critical extensions.
//
// Errors wrap ErrBadCert (malformed or invalid certificate, bad certificate
// signature), ErrUntrustedCI (no path to roots), ErrExpired, ErrWrongRole or
// ErrEIDOutOfRange.
func VerifyChain(leaf []byte, intermediates [][]byte, roots []*x509.Certificate, role Role, now time.Time) (*x509.Certificate, error) {
	chain, err := verifyDER(leaf, intermediates, roots, role, now, true)
	if err != nil {
		return nil, err
	}
	return chain[0], nil
}

// VerifyEUICC checks an eUICC certificate and the EUM certificate that
// issued it against the trusted CIs at time now (the SM-DP+'s check in
// ES9+.AuthenticateClient): path CI -> EUM -> eUICC with the checks of
// VerifyChain, the EUM's role, and the EID (the eUICC subject serialNumber,
// 32 digits with valid check digits) within the EUM's permitted EIN range.
// It returns the EID and the parsed eUICC certificate. Errors are those of
// VerifyChain, ErrEIDOutOfRange when the EUM has no EIN range or the EID is
// outside it, and ErrBadEID (with ErrBadCert) for a malformed EID.
func VerifyEUICC(euiccDER, eumDER []byte, roots []*x509.Certificate, now time.Time) (eid string, cert *x509.Certificate, err error) {
	chain, err := verifyDER(euiccDER, [][]byte{eumDER}, roots, RoleEUICC, now, true)
	if err != nil {
		return "", nil, err
	}
	if len(chain) != 3 || !bytes.Equal(chain[1].Raw, eumDER) {
		return "", nil, fmt.Errorf("%w: eUICC certificate is not issued by the given EUM directly under a trusted CI", ErrBadCert)
	}
	if !HasRole(chain[1], RoleEUM) {
		return "", nil, fmt.Errorf("%w: issuer %q is not an EUM", ErrWrongRole, chain[1].Subject.String())
	}
	// verifyParsed already enforced the range; the EID is re-read here for
	// the caller.
	eid, err = EID(chain[0])
	if err != nil {
		return "", nil, err
	}
	return eid, chain[0], nil
}

// verifyDER parses and verifies; checkTime false skips the validity
// checks (Load of externally issued material).
func verifyDER(leafDER []byte, interDER [][]byte, roots []*x509.Certificate, role Role, now time.Time, checkTime bool) ([]*x509.Certificate, error) {
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, fmt.Errorf("%w: %s certificate: %w", ErrBadCert, role, err)
	}
	inter := make([]*x509.Certificate, 0, len(interDER))
	for i, d := range interDER {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			return nil, fmt.Errorf("%w: intermediate certificate %d: %w", ErrBadCert, i, err)
		}
		inter = append(inter, c)
	}
	return verifyParsed(leaf, inter, roots, role, now, checkTime)
}

func verifyParsed(leaf *x509.Certificate, inter, roots []*x509.Certificate, role Role, now time.Time, checkTime bool) ([]*x509.Certificate, error) {
	if !role.valid() {
		return nil, fmt.Errorf("pki: unknown role %d", int(role))
	}
	roots = slices.DeleteFunc(slices.Clone(roots), func(c *x509.Certificate) bool { return c == nil })
	if len(roots) == 0 {
		return nil, fmt.Errorf("%w: no trusted CI certificate given", ErrUntrustedCI)
	}
	chain, err := buildPath(leaf, inter, roots)
	if err != nil {
		return nil, err
	}
	if checkTime {
		for _, c := range chain {
			if now.Before(c.NotBefore) {
				return nil, fmt.Errorf("%w: %q is not valid before %s", ErrExpired, c.Subject.String(), c.NotBefore.UTC().Format(time.RFC3339))
			}
			if now.After(c.NotAfter) {
				return nil, fmt.Errorf("%w: %q expired at %s", ErrExpired, c.Subject.String(), c.NotAfter.UTC().Format(time.RFC3339))
			}
		}
	}
	for i, c := range chain {
		for _, id := range c.UnhandledCriticalExtensions {
			if !handledByUs(id) {
				return nil, fmt.Errorf("%w: %q has unsupported critical extension %v", ErrBadCert, c.Subject.String(), id)
			}
		}
		// Path length: certificate i may be followed by i-1 intermediates.
		if i > 0 && c.BasicConstraintsValid && c.MaxPathLen >= 0 && i-1 > c.MaxPathLen {
			return nil, fmt.Errorf("%w: path length constraint of %q exceeded", ErrBadCert, c.Subject.String())
		}
	}
	if err := checkRole(chain, role); err != nil {
		return nil, err
	}
	if err := checkEINs(chain, role); err != nil {
		return nil, err
	}
	if err := stdVerify(chain, role, now, checkTime); err != nil {
		return nil, err
	}
	return chain, nil
}

// buildPath finds a path leaf -> intermediates... -> root. A candidate
// issuer must have the child's issuer name as subject and, when both key
// identifiers are present, the child's AKI as SKI; its signature on the
// child must verify. A bad signature under a candidate that matches by key
// identifier is reported as ErrBadCert (tampered or forged certificate);
// no candidate at all as ErrUntrustedCI.
func buildPath(leaf *x509.Certificate, inter, roots []*x509.Certificate) ([]*x509.Certificate, error) {
	chain := []*x509.Certificate{leaf}
	for _, r := range roots {
		if bytes.Equal(r.Raw, leaf.Raw) {
			return chain, nil
		}
	}
	used := make([]bool, len(inter))
	cur := leaf
	for range len(inter) + 1 {
		root, err := findIssuer(cur, roots, nil)
		if err != nil {
			return nil, err
		}
		if root >= 0 {
			return append(chain, roots[root]), nil
		}
		next, err := findIssuer(cur, inter, used)
		if err != nil {
			return nil, err
		}
		if next < 0 {
			break
		}
		used[next] = true
		cur = inter[next]
		chain = append(chain, cur)
	}
	return nil, fmt.Errorf("%w: no trusted issuer found for %q (issuer %q)", ErrUntrustedCI, cur.Subject.String(), cur.Issuer.String())
}

// findIssuer returns the index of the candidate that issued child, or -1.
func findIssuer(child *x509.Certificate, candidates []*x509.Certificate, used []bool) (int, error) {
	var sigErr error
	for i, c := range candidates {
		if used != nil && used[i] {
			continue
		}
		if !bytes.Equal(child.RawIssuer, c.RawSubject) {
			continue
		}
		keyMatch := len(child.AuthorityKeyId) > 0 && len(c.SubjectKeyId) > 0
		if keyMatch && !bytes.Equal(child.AuthorityKeyId, c.SubjectKeyId) {
			continue
		}
		err := child.CheckSignatureFrom(c)
		if err == nil {
			return i, nil
		}
		if keyMatch {
			sigErr = fmt.Errorf("%w: %q: signature by %q does not verify: %w", ErrBadCert, child.Subject.String(), c.Subject.String(), err)
		}
	}
	if sigErr != nil {
		return -1, sigErr
	}
	return -1, nil
}

// handledByUs reports whether a critical extension unknown to crypto/x509
// is enforced by this package.
func handledByUs(id asn1.ObjectIdentifier) bool {
	return oidExtNameConstraints().Equal(id) || oidExtPermittedEINs().Equal(id)
}

func checkRole(chain []*x509.Certificate, role Role) error {
	leaf := chain[0]
	name := leaf.Subject.String()
	if !HasRole(leaf, role) {
		return fmt.Errorf("%w: %q does not carry the %s policy %v", ErrWrongRole, name, role, role.PolicyOID())
	}
	switch role {
	case RoleCI, RoleEUM:
		if !leaf.BasicConstraintsValid || !leaf.IsCA {
			return fmt.Errorf("%w: %s certificate %q is not a CA", ErrBadCert, role, name)
		}
		if leaf.KeyUsage&x509.KeyUsageCertSign == 0 {
			return fmt.Errorf("%w: %s certificate %q lacks keyCertSign", ErrBadCert, role, name)
		}
	default:
		if leaf.BasicConstraintsValid && leaf.IsCA {
			return fmt.Errorf("%w: %s certificate %q is a CA", ErrBadCert, role, name)
		}
		if leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
			return fmt.Errorf("%w: %s certificate %q lacks digitalSignature", ErrBadCert, role, name)
		}
	}
	switch role {
	case RoleDPtls:
		if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny) {
			return fmt.Errorf("%w: DPtls certificate %q lacks serverAuth", ErrBadCert, name)
		}
	case RoleEUICC:
		if len(chain) < 2 || !HasRole(chain[1], RoleEUM) {
			return fmt.Errorf("%w: issuer of eUICC certificate %q is not an EUM", ErrWrongRole, name)
		}
		if _, err := EID(leaf); err != nil {
			return err
		}
	}
	return nil
}

// checkEINs enforces the permitted EIN prefixes of every CA in the path on
// the subject serialNumber of every certificate below it. An eUICC's
// issuing EUM must have a range.
func checkEINs(chain []*x509.Certificate, role Role) error {
	for i := 1; i < len(chain); i++ {
		eins, err := PermittedEINs(chain[i])
		if err != nil {
			return err
		}
		if len(eins) == 0 {
			if role == RoleEUICC && i == 1 {
				return fmt.Errorf("%w: EUM %q has no permitted EIN range", ErrEIDOutOfRange, chain[i].Subject.String())
			}
			continue
		}
		for _, c := range chain[:i] {
			sn, err := subjectSerialNumber(c)
			if err != nil || !inRange(sn, eins) {
				return fmt.Errorf("%w: %q (serialNumber %s) not within %v of %q", ErrEIDOutOfRange, c.Subject.CommonName, redactEID(sn), eins, chain[i].Subject.String())
			}
		}
	}
	return nil
}

// stdVerify runs crypto/x509's RFC 5280 path validation over the found
// path (DNS/IP/email/URI name constraints, policy constraints, EKU
// nesting), with the SGP.22 extensions checked above marked as handled.
func stdVerify(chain []*x509.Certificate, role Role, now time.Time, checkTime bool) error {
	handled := func(c *x509.Certificate) *x509.Certificate {
		cp := *c
		cp.UnhandledCriticalExtensions = slices.DeleteFunc(slices.Clone(c.UnhandledCriticalExtensions), handledByUs)
		return &cp
	}
	rootPool := x509.NewCertPool()
	rootPool.AddCert(handled(chain[len(chain)-1]))
	interPool := x509.NewCertPool()
	if len(chain) > 2 {
		for _, c := range chain[1 : len(chain)-1] {
			interPool.AddCert(handled(c))
		}
	}
	if !checkTime {
		// Any instant at which the whole path is valid.
		now = chain[0].NotBefore
		for _, c := range chain {
			if c.NotBefore.After(now) {
				now = c.NotBefore
			}
		}
	}
	eku := x509.ExtKeyUsageAny
	if role == RoleDPtls {
		eku = x509.ExtKeyUsageServerAuth
	}
	_, err := handled(chain[0]).Verify(x509.VerifyOptions{
		Roots:         rootPool,
		Intermediates: interPool,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{eku},
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadCert, err)
	}
	return nil
}
