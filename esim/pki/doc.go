// Package pki is a test public-key infrastructure in the shape of GSMA
// SGP.26 (the SGP.22 certificate set for test environments) together with the
// certificate-chain and signature checks that SGP.22 asks of the eUICC and of
// the SM-DP+.
//
// Only ECDSA on NIST P-256 is supported: Go's standard library has no
// brainpoolP256r1, so the "BRP" half of SGP.26 is not produced or accepted.
//
// # Hierarchy
//
// Generate creates a fresh set:
//
//	CI      self-signed root     policy id-rspRole-ci      2.23.146.1.2.1.0  KU keyCertSign|cRLSign, CA
//	EUM     issued by the CI     policy id-rspRole-eum     2.23.146.1.2.1.2  KU keyCertSign, CA pathLen 0, name constraint
//	eUICC   issued by the EUM    policy id-rspRole-euicc   2.23.146.1.2.1.1  KU digitalSignature, subject serialNumber = EID
//	DPauth  issued by the CI     policy id-rspRole-dp-auth 2.23.146.1.2.1.4  KU digitalSignature, SAN registeredID = SM-DP+ OID
//	DPpb    issued by the CI     policy id-rspRole-dp-pb   2.23.146.1.2.1.5  KU digitalSignature, SAN registeredID = SM-DP+ OID
//	DPtls   issued by the CI     policy id-rspRole-dp-tls  2.23.146.1.2.1.3  KU digitalSignature, EKU serverAuth+clientAuth, SAN DNS/IP + registeredID
//
// Every certificate carries a subjectKeyIdentifier computed as the SHA-1 of
// the subjectPublicKey bit string (RFC 5280 method 1) and, below the CI, an
// authorityKeyIdentifier equal to the issuer's. The SKI of the CI is the
// "CI PKID" that SGP.22 exchanges in euiccCiPKIdListForVerification/Signing.
// Certificate policies are marked critical as in SGP.26, except on DPtls.
// The CI validity is 30 years, all other certificates 10 years (never beyond
// their issuer); every NotBefore is backdated by one hour.
//
// # EID range of an EUM
//
// As in SGP.22/SGP.26 the EUM certificate carries a critical NameConstraints
// extension whose permittedSubtrees hold a directoryName such as
// "O=<EUM organisation>, serialNumber=<EIN prefix>", for example
// serialNumber=89049032. The eUICC certificate's subject carries the EID as
// serialNumber. Unlike RFC 5280 name matching, SGP.22 reads the constraint's
// serialNumber as a prefix of the EID, and this package checks exactly that
// (the other attributes of the directoryName are not compared). The newer
// GSMA form, a permittedEins extension (2.23.146.1.2.2.0, SEQUENCE OF
// PrintableString), is accepted as well. crypto/x509 does not understand
// either form, so VerifyChain and VerifyEUICC build and check the path
// themselves (issuer by name and key identifier, signatures, validity,
// pathLen, critical extensions, role policy, key usage, EID range) and then
// hand the found path to x509.Certificate.Verify for the generic RFC 5280
// processing, with the two SGP.22 extensions marked as handled.
//
// # Files
//
// Save writes PEM files into one directory: ci.pem, ci.key, eum.pem,
// eum.key, dpauth.pem, dpauth.key, dppb.pem, dppb.key, dptls.pem, dptls.key.
// Keys are PKCS#8 ("PRIVATE KEY"), mode 0600; every file is replaced
// atomically and ci.pem is written last, so its presence marks a complete set.
// Load reads the same layout; the certificates may have been issued
// elsewhere (for example by pySim's SGP.26 generator, DER or PEM), the CI and
// EUM keys may be absent (IssueEUICC then fails with ErrNoKey), the DP keys
// are required.
//
// # Signatures
//
// SignTR03111 and VerifyTR03111 implement the signature format used inside
// SGP.22 structures: ECDSA with SHA-256, encoded as the 64-byte plain r||s of
// BSI TR-03111 (each half left-padded to 32 bytes), not as ASN.1 DER.
package pki
