package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"
)

// sigHalf is the length of r and of s in a P-256 TR-03111 signature.
const sigHalf = 32

// SignTR03111 signs SHA-256(msg) with key (P-256) and returns the 64-byte
// BSI TR-03111 plain signature r||s, each half left-padded to 32 bytes: the
// format of SGP.22 signatures (the value of a 5F37 TLV).
func SignTR03111(key *ecdsa.PrivateKey, msg []byte) ([]byte, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: no signing key", ErrNoKey)
	}
	if key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: signing key is not on P-256", ErrBadKey)
	}
	h := sha256.Sum256(msg)
	r, s, err := ecdsa.Sign(rand.Reader, key, h[:])
	if err != nil {
		return nil, fmt.Errorf("pki: sign: %w", err)
	}
	sig := make([]byte, 2*sigHalf)
	r.FillBytes(sig[:sigHalf])
	s.FillBytes(sig[sigHalf:])
	return sig, nil
}

// VerifyTR03111 verifies a 64-byte r||s signature over SHA-256(msg) with
// pub (P-256). Any other length (an ASN.1 DER signature included) is
// refused. Errors wrap ErrBadSignature, or ErrBadKey for an unusable key.
func VerifyTR03111(pub *ecdsa.PublicKey, msg, sig []byte) error {
	if pub == nil || pub.Curve != elliptic.P256() {
		return fmt.Errorf("%w: verification key is not a P-256 key", ErrBadKey)
	}
	if len(sig) != 2*sigHalf {
		return fmt.Errorf("%w: %d bytes, want %d (plain r||s)", ErrBadSignature, len(sig), 2*sigHalf)
	}
	r := new(big.Int).SetBytes(sig[:sigHalf])
	s := new(big.Int).SetBytes(sig[sigHalf:])
	h := sha256.Sum256(msg)
	if !ecdsa.Verify(pub, h[:], r, s) {
		return fmt.Errorf("%w: ECDSA verification failed", ErrBadSignature)
	}
	return nil
}
