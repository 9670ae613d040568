package bsp

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
)

// cmacRb is the constant R_b of RFC 4493 for a 128-bit block cipher.
const cmacRb = 0x87

// cmacKey holds an AES key schedule with the two RFC 4493 subkeys.
type cmacKey struct {
	block  cipher.Block
	k1, k2 [aes.BlockSize]byte
}

// newCMACKey prepares AES-CMAC for key (16, 24 or 32 bytes).
func newCMACKey(key []byte) (*cmacKey, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("bsp: cmac key: %w", err)
	}
	m := &cmacKey{block: block}
	var l [aes.BlockSize]byte
	block.Encrypt(l[:], l[:])
	m.k1 = dbl(l)
	m.k2 = dbl(m.k1)
	return m, nil
}

// dbl is the doubling in GF(2^128) of RFC 4493 (left shift, conditional
// xor of R_b into the last byte).
func dbl(in [aes.BlockSize]byte) [aes.BlockSize]byte {
	var out [aes.BlockSize]byte
	var carry byte
	for i := aes.BlockSize - 1; i >= 0; i-- {
		out[i] = in[i]<<1 | carry
		carry = in[i] >> 7
	}
	// Constant-time conditional xor: mask is 0xFF when the MSB was set.
	out[aes.BlockSize-1] ^= cmacRb & -carry
	return out
}

// sum computes the CMAC of the concatenation of parts without copying them
// into one buffer.
func (m *cmacKey) sum(parts ...[]byte) [aes.BlockSize]byte {
	var x, buf [aes.BlockSize]byte
	n := 0 // bytes in buf
	for _, p := range parts {
		for len(p) > 0 {
			if n == aes.BlockSize {
				// buf is full and more data follows: it is not the last block.
				for i := range x {
					x[i] ^= buf[i]
				}
				m.block.Encrypt(x[:], x[:])
				n = 0
			}
			c := copy(buf[n:], p)
			n += c
			p = p[c:]
		}
	}
	k := &m.k1
	if n < aes.BlockSize {
		// Incomplete (or empty) last block: pad with 80 00.. and use K2.
		buf[n] = 0x80
		clear(buf[n+1:])
		k = &m.k2
	}
	for i := range x {
		x[i] ^= buf[i] ^ k[i]
	}
	m.block.Encrypt(x[:], x[:])
	return x
}

// CMAC returns the 16-byte AES-CMAC (RFC 4493) of msg under key, which must
// be a valid AES key (16, 24 or 32 bytes).
func CMAC(key, msg []byte) ([]byte, error) {
	m, err := newCMACKey(key)
	if err != nil {
		return nil, err
	}
	t := m.sum(msg)
	return t[:], nil
}
