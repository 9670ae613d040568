package bsp

import (
	"crypto/aes"
	"errors"
	"fmt"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// Tags of the BoundProfilePackage (BF36) and its sequences.
const (
	TagBoundProfilePackage tlv.Tag = 0xBF36
	// TagFirstSequenceOf87 (A0) holds the 87 segments of ConfigureISDP.
	TagFirstSequenceOf87 tlv.Tag = 0xA0
	// TagSequenceOf88 (A1) holds the 88 segments of StoreMetadata.
	TagSequenceOf88 tlv.Tag = 0xA1
	// TagSecondSequenceOf87 (A2) holds the 87 segments of ReplaceSessionKeys.
	TagSecondSequenceOf87 tlv.Tag = 0xA2
	// TagSequenceOf86 (A3) holds the 86 segments of the profile.
	TagSequenceOf86 tlv.Tag = 0xA3
)

// BPPParts is the input of BuildBPP.
type BPPParts struct {
	// InitialiseSecureChannel is the complete, signed BF23 TLV.
	InitialiseSecureChannel []byte
	// ConfigureISDP is the plaintext ConfigureISDPRequest TLV (BF24),
	// protected into 87 segments of at most MaxEncryptedPlain bytes each.
	ConfigureISDP []byte
	// StoreMetadata is the plaintext StoreMetadataRequest TLV (BF25),
	// protected into 88 segments of at most MaxMACOnlyPlain bytes each.
	StoreMetadata []byte
	// ReplaceKeys, when set, adds A2 with a ReplaceSessionKeysRequest and
	// protects the profile segments with these keys (counter restarting at
	// 1) instead of the session keys.
	ReplaceKeys *SessionKeys
	// ProfileElements are the plaintext chunks of the unprotected profile
	// package, one 86 segment each (1..MaxEncryptedPlain bytes); see
	// SplitProfile.
	ProfileElements [][]byte
}

// SplitProfile cuts an unprotected profile package into consecutive
// plaintext chunks of maxPlain bytes (the last one shorter), the payloads of
// the 86 segments. The cuts ignore profile element boundaries, as the eUICC
// reassembles the stream. maxPlain <= 0 means MaxEncryptedPlain (1007), the
// largest size whose segment stays within MaxSegmentSize. The chunks alias
// upp.
func SplitProfile(upp []byte, maxPlain int) [][]byte {
	if maxPlain <= 0 {
		maxPlain = MaxEncryptedPlain
	}
	out := make([][]byte, 0, (len(upp)+maxPlain-1)/maxPlain)
	for len(upp) > 0 {
		n := min(maxPlain, len(upp))
		out = append(out, upp[:n:n])
		upp = upp[n:]
	}
	return out
}

// appendHeader appends tag || BER length of n.
func appendHeader(dst []byte, tag tlv.Tag, n int) []byte {
	dst = append(dst, tag.Bytes()...)
	return append(dst, tlv.EncodeLength(n)...)
}

// protectSequence protects data in chunks of at most limit bytes with seg and
// returns the concatenated segments.
func protectSequence(data []byte, limit int, seg func([]byte) ([]byte, error)) ([]byte, error) {
	var out []byte
	for _, c := range SplitProfile(data, limit) {
		s, err := seg(c)
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	return out, nil
}

// BuildBPP assembles and protects a complete BoundProfilePackage (BF36):
//
//	BF36 { BF23, A0 { 87.. }, A1 { 88.. }, [A2 { 87 }], A3 { 86.. } }
//
// A0, A1 and A2 are protected with k; A3 with k as well (continuing its
// counter and MAC chain) or, when parts.ReplaceKeys is set, with those keys
// from a fresh state.
func BuildBPP(k SessionKeys, parts BPPParts) ([]byte, error) {
	isc, err := tlv.DecodeOne(parts.InitialiseSecureChannel)
	if err != nil {
		return nil, fmt.Errorf("bsp: build BPP: InitialiseSecureChannel: %w", err)
	}
	if isc.Tag != TagInitialiseSecureChannel {
		return nil, fmt.Errorf("bsp: build BPP: InitialiseSecureChannel has tag %s, want %s", isc.Tag, TagInitialiseSecureChannel)
	}
	if len(parts.ConfigureISDP) == 0 || len(parts.StoreMetadata) == 0 {
		return nil, errors.New("bsp: build BPP: ConfigureISDP and StoreMetadata must not be empty")
	}
	if len(parts.ProfileElements) == 0 {
		return nil, errors.New("bsp: build BPP: no profile elements")
	}
	for i, pe := range parts.ProfileElements {
		if len(pe) == 0 || len(pe) > MaxEncryptedPlain {
			return nil, fmt.Errorf("bsp: build BPP: profile chunk %d: %w: %d bytes (want 1..%d)", i, ErrSegmentTooLarge, len(pe), MaxEncryptedPlain)
		}
	}
	if err := k.Validate(); err != nil {
		return nil, fmt.Errorf("bsp: build BPP: session keys: %w", err)
	}
	if parts.ReplaceKeys != nil {
		if err := parts.ReplaceKeys.Validate(); err != nil {
			return nil, fmt.Errorf("bsp: build BPP: replacement keys: %w", err)
		}
	}

	p := NewProtector(k)
	enc87 := func(b []byte) ([]byte, error) { return p.Encrypt(TagEncryptedSegment, b) }
	mac88 := func(b []byte) ([]byte, error) { return p.MACOnly(TagMACOnlySegment, b) }

	type seq struct {
		tag     tlv.Tag
		content []byte
	}
	var seqs []seq
	a0, err := protectSequence(parts.ConfigureISDP, MaxEncryptedPlain, enc87)
	if err != nil {
		return nil, fmt.Errorf("bsp: build BPP: ConfigureISDP: %w", err)
	}
	seqs = append(seqs, seq{TagFirstSequenceOf87, a0})
	a1, err := protectSequence(parts.StoreMetadata, MaxMACOnlyPlain, mac88)
	if err != nil {
		return nil, fmt.Errorf("bsp: build BPP: StoreMetadata: %w", err)
	}
	seqs = append(seqs, seq{TagSequenceOf88, a1})
	if parts.ReplaceKeys != nil {
		a2, err := p.Encrypt(TagEncryptedSegment, EncodeReplaceSessionKeys(*parts.ReplaceKeys))
		if err != nil {
			return nil, fmt.Errorf("bsp: build BPP: ReplaceSessionKeys: %w", err)
		}
		seqs = append(seqs, seq{TagSecondSequenceOf87, a2})
		p = NewProtector(*parts.ReplaceKeys)
	}
	a3size := 0
	for _, pe := range parts.ProfileElements {
		a3size += len(pe) + 2*aes.BlockSize // padding, C-MAC, tag and length
	}
	a3 := make([]byte, 0, a3size)
	for i, pe := range parts.ProfileElements {
		s, err := p.Encrypt(TagProfileSegment, pe)
		if err != nil {
			return nil, fmt.Errorf("bsp: build BPP: profile chunk %d: %w", i, err)
		}
		a3 = append(a3, s...)
	}
	seqs = append(seqs, seq{TagSequenceOf86, a3})

	contentLen := len(parts.InitialiseSecureChannel)
	for _, s := range seqs {
		contentLen += len(s.tag.Bytes()) + len(tlv.EncodeLength(len(s.content))) + len(s.content)
	}
	out := appendHeader(make([]byte, 0, contentLen+8), TagBoundProfilePackage, contentLen)
	out = append(out, parts.InitialiseSecureChannel...)
	for _, s := range seqs {
		out = appendHeader(out, s.tag, len(s.content))
		out = append(out, s.content...)
	}
	return out, nil
}

// Segments splits a complete BF36 TLV into the separate
// ES10b.LoadBoundProfilePackage transfers, the way SGP.22 (2.5.5) has the
// LPA do it:
//
//  1. BF36 tag and length with the whole BF23
//  2. A0 tag and length with the first 87, then each further 87 alone
//  3. A1 tag and length alone, then each 88 alone
//  4. if present, A2 tag and length with the first 87, then further 87s alone
//  5. A3 tag and length alone, then each 86 alone
//
// It checks the BPP structure (order of the elements, segment tags, at least
// one segment per sequence) but not the cryptography; errors wrap ErrFormat.
// The returned transfers alias bpp and concatenate to it.
func Segments(bpp []byte) ([][]byte, error) {
	outer, err := tlv.DecodeOne(bpp)
	if err != nil {
		return nil, fmt.Errorf("%w: BPP: %w", ErrFormat, err)
	}
	if outer.Tag != TagBoundProfilePackage {
		return nil, fmt.Errorf("%w: BPP tag %s, want %s", ErrFormat, outer.Tag, TagBoundProfilePackage)
	}
	off := len(bpp) - len(outer.Value) // absolute offset of the next element
	cut := func(from, to int) []byte { return bpp[from:to:to] }

	isc, rest, err := tlv.Decode(outer.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: BPP InitialiseSecureChannel: %w", ErrFormat, err)
	}
	if isc.Tag != TagInitialiseSecureChannel {
		return nil, fmt.Errorf("%w: BPP starts with %s, want %s", ErrFormat, isc.Tag, TagInitialiseSecureChannel)
	}
	end := len(bpp) - len(rest)
	segs := [][]byte{cut(0, end)}
	off = end

	type seqRule struct {
		tag      tlv.Tag
		child    tlv.Tag
		optional bool
		joined   bool // header travels with the first segment
	}
	rules := []seqRule{
		{TagFirstSequenceOf87, tlv.Tag(TagEncryptedSegment), false, true},
		{TagSequenceOf88, tlv.Tag(TagMACOnlySegment), false, false},
		{TagSecondSequenceOf87, tlv.Tag(TagEncryptedSegment), true, true},
		{TagSequenceOf86, tlv.Tag(TagProfileSegment), false, false},
	}
	for _, rule := range rules {
		if len(rest) == 0 {
			if rule.optional {
				continue
			}
			return nil, fmt.Errorf("%w: BPP lacks %s", ErrFormat, rule.tag)
		}
		tag, _, err := tlv.ReadTag(rest)
		if err != nil {
			return nil, fmt.Errorf("%w: BPP: %w", ErrFormat, err)
		}
		if tag != rule.tag {
			if rule.optional {
				continue
			}
			return nil, fmt.Errorf("%w: BPP has %s where %s belongs", ErrFormat, tag, rule.tag)
		}
		s, r, err := tlv.Decode(rest)
		if err != nil {
			return nil, fmt.Errorf("%w: BPP %s: %w", ErrFormat, rule.tag, err)
		}
		hdrEnd := off + (len(rest) - len(r)) - len(s.Value)
		if len(s.Value) == 0 {
			return nil, fmt.Errorf("%w: BPP %s is empty", ErrFormat, rule.tag)
		}
		start := off // start of the pending transfer
		if !rule.joined {
			segs = append(segs, cut(off, hdrEnd))
			start = hdrEnd
		}
		pos := hdrEnd
		for v := s.Value; len(v) > 0; {
			c, vr, err := tlv.Decode(v)
			if err != nil {
				return nil, fmt.Errorf("%w: BPP %s: %w", ErrFormat, rule.tag, err)
			}
			if c.Tag != rule.child {
				return nil, fmt.Errorf("%w: BPP %s holds %s, want %s", ErrFormat, rule.tag, c.Tag, rule.child)
			}
			pos += len(v) - len(vr)
			segs = append(segs, cut(start, pos))
			start = pos
			v = vr
		}
		off = pos
		rest = r
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: BPP has %d bytes after %s", ErrFormat, len(rest), TagSequenceOf86)
	}
	return segs, nil
}
