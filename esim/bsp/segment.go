package bsp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"fmt"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// Segment tags and sizes of SGP.22 BSP.
const (
	// TagProfileSegment (86) carries encrypted and MACed profile data.
	TagProfileSegment byte = 0x86
	// TagEncryptedSegment (87) carries an encrypted and MACed command
	// (ConfigureISDP, ReplaceSessionKeys).
	TagEncryptedSegment byte = 0x87
	// TagMACOnlySegment (88) carries a MACed plaintext command
	// (StoreMetadata).
	TagMACOnlySegment byte = 0x88

	// MaxSegmentSize is the largest complete segment TLV (SGP.22 2.5.3).
	MaxSegmentSize = 1020
	// MaxEncryptedPlain is the largest plaintext of an 86 or 87 segment:
	// 1020 - 4 (tag, 82 03 F8) - 8 (C-MAC) = 1008 bytes of ciphertext, and
	// padding always adds at least one byte.
	MaxEncryptedPlain = 1007
	// MaxMACOnlyPlain is the largest plaintext of an 88 segment.
	MaxMACOnlyPlain = 1008

	macLen = 8
)

// channel is the state shared by both ends of one key set: keys, MAC
// chaining value and block counter.
type channel struct {
	enc     cipher.Block
	mac     *cmacKey
	mcv     [aes.BlockSize]byte
	counter uint64 // number of segments processed so far
	err     error  // set when the keys were unusable
}

func newChannel(k SessionKeys) channel {
	if err := k.Validate(); err != nil {
		return channel{err: err}
	}
	enc, err := aes.NewCipher(k.SENC)
	if err != nil {
		return channel{err: fmt.Errorf("%w: S-ENC: %w", ErrKeys, err)}
	}
	mac, err := newCMACKey(k.SMAC)
	if err != nil {
		return channel{err: fmt.Errorf("%w: S-MAC: %w", ErrKeys, err)}
	}
	c := channel{enc: enc, mac: mac}
	copy(c.mcv[:], k.MCV)
	return c
}

// icv returns the ICV for block counter c: AES-ECB_{S-ENC}(c as 16-byte
// big-endian integer).
func (c *channel) icv(counter uint64) []byte {
	var b [aes.BlockSize]byte
	binary.BigEndian.PutUint64(b[8:], counter)
	c.enc.Encrypt(b[:], b[:])
	return b[:]
}

// segmentHeader returns tag || BER length of a value of n bytes.
func segmentHeader(tag byte, n int) []byte {
	return append([]byte{tag}, tlv.EncodeLength(n)...)
}

// Protector protects segments on the SM-DP+ side. It is stateful (block
// counter and MAC chaining value), so segments must be produced in the
// order the receiver will open them. It is not safe for concurrent use.
type Protector struct {
	ch channel
}

// NewProtector starts a key set with counter 0 and the MCV of k. Invalid
// keys are reported (wrapping ErrKeys) by the first Encrypt or MACOnly.
func NewProtector(k SessionKeys) *Protector {
	return &Protector{ch: newChannel(k)}
}

// Encrypt returns the complete protected segment tag || length ||
// ciphertext || C-MAC for tag 0x86 or 0x87. plaintext is padded with
// 80 00.. and may be at most MaxEncryptedPlain bytes.
func (p *Protector) Encrypt(tag byte, plaintext []byte) ([]byte, error) {
	if tag != TagProfileSegment && tag != TagEncryptedSegment {
		return nil, fmt.Errorf("bsp: encrypt: tag %02X is not 86 or 87", tag)
	}
	if len(plaintext) > MaxEncryptedPlain {
		return nil, fmt.Errorf("%w: %d plaintext bytes (max %d)", ErrSegmentTooLarge, len(plaintext), MaxEncryptedPlain)
	}
	if p.ch.err != nil {
		return nil, p.ch.err
	}
	p.ch.counter++
	padded := (len(plaintext)/aes.BlockSize + 1) * aes.BlockSize
	header := segmentHeader(tag, padded+macLen)
	out := make([]byte, len(header)+padded, len(header)+padded+macLen)
	copy(out, header)
	payload := out[len(header):]
	copy(payload, plaintext)
	payload[len(plaintext)] = 0x80
	cipher.NewCBCEncrypter(p.ch.enc, p.ch.icv(p.ch.counter)).CryptBlocks(payload, payload)
	return p.seal(out, header, payload), nil
}

// MACOnly returns the complete segment tag || length || plaintext || C-MAC
// for tag 0x88. plaintext may be at most MaxMACOnlyPlain bytes.
func (p *Protector) MACOnly(tag byte, plaintext []byte) ([]byte, error) {
	if tag != TagMACOnlySegment {
		return nil, fmt.Errorf("bsp: MAC-only: tag %02X is not 88", tag)
	}
	if len(plaintext) > MaxMACOnlyPlain {
		return nil, fmt.Errorf("%w: %d plaintext bytes (max %d)", ErrSegmentTooLarge, len(plaintext), MaxMACOnlyPlain)
	}
	if p.ch.err != nil {
		return nil, p.ch.err
	}
	p.ch.counter++
	header := segmentHeader(tag, len(plaintext)+macLen)
	out := make([]byte, 0, len(header)+len(plaintext)+macLen)
	out = append(out, header...)
	out = append(out, plaintext...)
	return p.seal(out, header, plaintext), nil
}

// seal chains the MAC over header||payload and appends the C-MAC to out.
func (p *Protector) seal(out, header, payload []byte) []byte {
	full := p.ch.mac.sum(p.ch.mcv[:], header, payload)
	p.ch.mcv = full
	return append(out, full[:macLen]...)
}

// Unprotector verifies and decrypts segments on the eUICC side, with the
// same chaining as Protector. It is not safe for concurrent use.
type Unprotector struct {
	ch channel
}

// NewUnprotector starts a key set with counter 0 and the MCV of k. Invalid
// keys are reported (wrapping ErrKeys) by the first Open.
func NewUnprotector(k SessionKeys) *Unprotector {
	return &Unprotector{ch: newChannel(k)}
}

// Open verifies one complete segment (86, 87 or 88 TLV) and returns its tag
// and plaintext. The C-MAC is checked in constant time before anything is
// decrypted. Errors wrap ErrFormat (not a segment), ErrMAC or ErrPadding;
// on any error the chaining state is left unchanged. Segments larger than
// MaxSegmentSize are accepted: the size limit is the sender's rule.
func (u *Unprotector) Open(segment []byte) (tag byte, plaintext []byte, err error) {
	if u.ch.err != nil {
		return 0, nil, u.ch.err
	}
	t, err := tlv.DecodeOne(segment)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: segment: %w", ErrFormat, err)
	}
	switch t.Tag {
	case tlv.Tag(TagProfileSegment), tlv.Tag(TagEncryptedSegment), tlv.Tag(TagMACOnlySegment):
	default:
		return 0, nil, fmt.Errorf("%w: tag %s is not a BSP segment (86/87/88)", ErrFormat, t.Tag)
	}
	tag = byte(t.Tag)
	if len(t.Value) < macLen {
		return 0, nil, fmt.Errorf("%w: %02X segment of %d bytes has no C-MAC", ErrFormat, tag, len(t.Value))
	}
	encrypted := tag != TagMACOnlySegment
	payload := t.Value[:len(t.Value)-macLen]
	if encrypted && (len(payload) == 0 || len(payload)%aes.BlockSize != 0) {
		return 0, nil, fmt.Errorf("%w: %02X ciphertext of %d bytes is not whole AES blocks", ErrFormat, tag, len(payload))
	}
	header := segment[:len(segment)-len(t.Value)]
	full := u.ch.mac.sum(u.ch.mcv[:], header, payload)
	if subtle.ConstantTimeCompare(full[:macLen], t.Value[len(payload):]) != 1 {
		return 0, nil, fmt.Errorf("%w: %02X segment #%d", ErrMAC, tag, u.ch.counter+1)
	}
	counter := u.ch.counter + 1
	if encrypted {
		plaintext = make([]byte, len(payload))
		cipher.NewCBCDecrypter(u.ch.enc, u.ch.icv(counter)).CryptBlocks(plaintext, payload)
		if plaintext, err = unpad(plaintext); err != nil {
			return 0, nil, fmt.Errorf("%w: %02X segment #%d", err, tag, counter)
		}
	} else {
		plaintext = append([]byte(nil), payload...)
	}
	u.ch.counter = counter
	u.ch.mcv = full
	return tag, plaintext, nil
}

// unpad strips trailing 00s and the 80 before them; the padding is 1..16
// bytes long.
func unpad(b []byte) ([]byte, error) {
	i := len(b) - 1
	for i >= 0 && b[i] == 0 {
		i--
	}
	if i < 0 || b[i] != 0x80 || len(b)-i > aes.BlockSize {
		return nil, ErrPadding
	}
	return b[:i], nil
}
