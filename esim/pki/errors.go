package pki

import "errors"

// Errors callers branch on. Returned errors wrap one (or, where noted, two)
// of these with details.
var (
	// ErrUntrustedCI: no path from the certificate to one of the trusted CI
	// certificates (issued under an unknown CI, or an unknown intermediate).
	ErrUntrustedCI = errors.New("pki: certificate does not chain to a trusted CI")
	// ErrExpired: a certificate of the path is outside its validity period
	// (expired or not yet valid) at the verification time.
	ErrExpired = errors.New("pki: certificate outside its validity period")
	// ErrWrongRole: the certificate (or its issuer) does not carry the
	// SGP.22 role policy OID required for its use.
	ErrWrongRole = errors.New("pki: certificate has the wrong SGP.22 role")
	// ErrBadCert: malformed certificate, bad certificate signature, wrong key
	// usage, unsupported critical extension, path-length violation.
	ErrBadCert = errors.New("pki: invalid certificate")
	// ErrEIDOutOfRange: the EID is not within the EUM's permitted EIN prefixes.
	ErrEIDOutOfRange = errors.New("pki: EID outside the EUM's permitted range")
	// ErrBadEID: an EID that is not 32 decimal digits with valid SGP.29
	// check digits (value mod 97 = 1). In certificate checks it comes
	// together with ErrBadCert.
	ErrBadEID = errors.New("pki: malformed EID")
	// ErrBadSignature: a TR-03111 signature that is malformed or does not verify.
	ErrBadSignature = errors.New("pki: bad signature")
	// ErrNoKey: an operation needs a private key that was not loaded.
	ErrNoKey = errors.New("pki: private key not available")
	// ErrBadKey: a key that cannot be parsed or is not ECDSA P-256.
	ErrBadKey = errors.New("pki: unsupported or malformed key")
)
