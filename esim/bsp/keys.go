package bsp

import (
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Key parameters of the SGP.22 control reference template (A6 in BF23).
const (
	// KeyTypeAES is the key type 0x88 (AES) of the CRT.
	KeyTypeAES byte = 0x88
	// KeyLenAES128 is the key length 0x10 (16 bytes) of the CRT.
	KeyLenAES128 byte = 0x10
	// EIDLen is the length of an EID in bytes (32 BCD digits).
	EIDLen = 16
	// MaxHostIDLen is the longest hostId SGP.22 allows.
	MaxHostIDLen = 16
)

// SessionKeys is one BSP key set: the initial MAC chaining value and the
// encryption and MAC keys, 16 bytes each. Its String and GoString methods do
// not reveal the key material.
type SessionKeys struct {
	SENC []byte // S-ENC: AES key for the segment ciphertexts
	SMAC []byte // S-MAC: AES key for the CMAC chain
	MCV  []byte // initial MAC chaining value
}

// Validate reports whether all three values are 16 bytes long.
func (k SessionKeys) Validate() error {
	for _, f := range []struct {
		name string
		v    []byte
	}{{"S-ENC", k.SENC}, {"S-MAC", k.SMAC}, {"MCV", k.MCV}} {
		if len(f.v) != int(KeyLenAES128) {
			return fmt.Errorf("%w: %s is %d bytes, want %d", ErrKeys, f.name, len(f.v), KeyLenAES128)
		}
	}
	return nil
}

// String hides the key material.
func (k SessionKeys) String() string { return "bsp.SessionKeys{redacted}" }

// GoString hides the key material from %#v.
func (k SessionKeys) GoString() string { return k.String() }

// ECKA performs the SGP.22 elliptic-curve key agreement on P-256: priv is the
// own one-time private key, peerPub the peer's one-time public key as an
// uncompressed point 04||X||Y (65 bytes). It returns the shared secret ShS,
// the 32-byte x-coordinate of the product point.
func ECKA(priv *ecdh.PrivateKey, peerPub []byte) ([]byte, error) {
	if priv == nil {
		return nil, fmt.Errorf("%w: nil private key", ErrPublicKey)
	}
	if priv.Curve() != ecdh.P256() {
		return nil, fmt.Errorf("%w: private key is not on P-256", ErrPublicKey)
	}
	pub, err := ecdh.P256().NewPublicKey(peerPub)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPublicKey, err)
	}
	shs, err := priv.ECDH(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPublicKey, err)
	}
	return shs, nil
}

// SharedInfo returns the X9.63 SharedInfo of SGP.22:
// keyType || keyLength || len(hostID) || hostID || len(EID) || EID,
// e.g. 88 10 08 <8-byte hostId> 10 <16-byte EID>.
func SharedInfo(keyType, keyLen byte, hostID, eid []byte) ([]byte, error) {
	if keyType != KeyTypeAES || keyLen != KeyLenAES128 {
		return nil, fmt.Errorf("%w: key type %02X length %02X (want 88/10)", ErrUnsupportedCRT, keyType, keyLen)
	}
	if len(hostID) == 0 || len(hostID) > MaxHostIDLen {
		return nil, fmt.Errorf("%w: hostId is %d bytes (want 1..%d)", ErrUnsupportedCRT, len(hostID), MaxHostIDLen)
	}
	if len(eid) != EIDLen {
		return nil, fmt.Errorf("%w: EID is %d bytes, want %d", ErrKeys, len(eid), EIDLen)
	}
	si := make([]byte, 0, 4+len(hostID)+len(eid))
	si = append(si, keyType, keyLen, byte(len(hostID)))
	si = append(si, hostID...)
	si = append(si, byte(len(eid)))
	si = append(si, eid...)
	return si, nil
}

// x963KDF is the ANSI X9.63 key derivation with SHA-256:
// SHA256(z || counter32 || sharedInfo) for counter = 1, 2, ... truncated to n.
func x963KDF(z, sharedInfo []byte, n int) []byte {
	out := make([]byte, 0, n+sha256.Size)
	var ctr [4]byte
	for i := uint32(1); len(out) < n; i++ {
		binary.BigEndian.PutUint32(ctr[:], i)
		h := sha256.New()
		h.Write(z)
		h.Write(ctr[:])
		h.Write(sharedInfo)
		out = h.Sum(out)
	}
	return out[:n]
}

// DeriveSessionKeys derives the BSP session keys from the ECKA shared secret
// shs with the X9.63 KDF (SHA-256) over SharedInfo(keyType, keyLen, hostID,
// eid). Of the 48 output bytes, 0..15 are the initial MAC chaining value,
// 16..31 S-ENC and 32..47 S-MAC. keyType must be 0x88 and keyLen 0x10;
// hostID is 1..16 bytes and eid the 16-byte EID.
func DeriveSessionKeys(shs []byte, keyType, keyLen byte, hostID, eid []byte) (SessionKeys, error) {
	if len(shs) == 0 {
		return SessionKeys{}, fmt.Errorf("%w: empty shared secret", ErrKeys)
	}
	si, err := SharedInfo(keyType, keyLen, hostID, eid)
	if err != nil {
		return SessionKeys{}, err
	}
	kl := int(keyLen)
	k := x963KDF(shs, si, 3*kl)
	return SessionKeys{
		MCV:  k[0:kl:kl],
		SENC: k[kl : 2*kl : 2*kl],
		SMAC: k[2*kl : 3*kl : 3*kl],
	}, nil
}
