package bsp

import (
	"bytes"
	"crypto/ecdh"
	"fmt"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// Tags of InitialiseSecureChannelRequest (BF23) and its elements.
const (
	TagInitialiseSecureChannel tlv.Tag = 0xBF23
	tagRemoteOpID              tlv.Tag = 0x82
	tagTransactionID           tlv.Tag = 0x80
	tagCRT                     tlv.Tag = 0xA6
	tagCRTKeyType              tlv.Tag = 0x80
	tagCRTKeyLen               tlv.Tag = 0x81
	tagCRTHostID               tlv.Tag = 0x84
	// TagOneTimePublicKey (5F49) wraps otPK.DP.ECKA and otPK.EUICC.ECKA.
	TagOneTimePublicKey tlv.Tag = 0x5F49
	// TagSignature (5F37) wraps smdpSign and the other RSP signatures.
	TagSignature tlv.Tag = 0x5F37
)

// RemoteOpInstallBPP is remoteOpId installBoundProfilePackage.
const RemoteOpInstallBPP byte = 1

// maxTransactionIDLen is the SGP.22 bound on transactionId.
const maxTransactionIDLen = 16

// uncompressedP256Len is the length of 04||X||Y on P-256.
const uncompressedP256Len = 65

// InitialiseSecureChannel is the InitialiseSecureChannelRequest (BF23) that
// opens a BPP:
//
//	BF23 { 82 01 01, 80 txid, A6 { 80 01 88, 81 01 10, 84 L hostId },
//	       5F49 41 otPK.DP.ECKA, 5F37 40 smdpSign }
//
// Build one with NewInitialiseSecureChannel on the SM-DP+ side; the eUICC
// gets one from ParseInitialiseSecureChannel.
type InitialiseSecureChannel struct {
	RemoteOpID    byte
	TransactionID []byte
	KeyType       byte
	KeyLen        byte
	HostID        []byte
	DPPublicKey   []byte // otPK.DP.ECKA, uncompressed 04||X||Y
	Signature     []byte // smdpSign, raw r||s (64 bytes)

	// signed holds the received content bytes before 5F37 when parsed, so
	// the signature is checked over the original encoding.
	signed []byte
}

// NewInitialiseSecureChannel returns a request for installBoundProfilePackage
// with AES-128 keys (88/10). Sign SignedData(otPK.EUICC) with SK.DPpb, set
// Signature and call Bytes.
func NewInitialiseSecureChannel(transactionID, hostID, dpPublicKey []byte) *InitialiseSecureChannel {
	return &InitialiseSecureChannel{
		RemoteOpID:    RemoteOpInstallBPP,
		TransactionID: transactionID,
		KeyType:       KeyTypeAES,
		KeyLen:        KeyLenAES128,
		HostID:        hostID,
		DPPublicKey:   dpPublicKey,
	}
}

// unsignedContent encodes 82 || 80 || A6 || 5F49 from the fields.
func (r *InitialiseSecureChannel) unsignedContent() []byte {
	var b bytes.Buffer
	b.Write(tlv.Encode(tagRemoteOpID, []byte{r.RemoteOpID}))
	b.Write(tlv.Encode(tagTransactionID, r.TransactionID))
	b.Write(tlv.NewConstructed(tagCRT,
		tlv.New(tagCRTKeyType, []byte{r.KeyType}),
		tlv.New(tagCRTKeyLen, []byte{r.KeyLen}),
		tlv.New(tagCRTHostID, r.HostID),
	).Bytes())
	b.Write(tlv.Encode(TagOneTimePublicKey, r.DPPublicKey))
	return b.Bytes()
}

// SignedData returns the data smdpSign covers: the BF23 content without
// 5F37, followed by 5F49 || len || euiccOtPK (the eUICC's one-time public
// key from PrepareDownload). For a parsed request the received bytes are
// used, never a re-encoding.
func (r *InitialiseSecureChannel) SignedData(euiccOtPK []byte) []byte {
	content := r.signed
	if content == nil {
		content = r.unsignedContent()
	}
	out := make([]byte, 0, len(content)+3+len(euiccOtPK))
	out = append(out, content...)
	return append(out, tlv.Encode(TagOneTimePublicKey, euiccOtPK)...)
}

// Bytes returns the complete BF23 TLV. It checks the fields the way
// ParseInitialiseSecureChannel does, so what it encodes parses back.
func (r *InitialiseSecureChannel) Bytes() ([]byte, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	content := r.unsignedContent()
	content = append(content, tlv.Encode(TagSignature, r.Signature)...)
	return tlv.Encode(TagInitialiseSecureChannel, content), nil
}

// check validates the field values.
func (r *InitialiseSecureChannel) check() error {
	if r.RemoteOpID != RemoteOpInstallBPP {
		return fmt.Errorf("%w: remoteOpId %d", ErrUnsupportedRemoteOp, r.RemoteOpID)
	}
	if len(r.TransactionID) == 0 || len(r.TransactionID) > maxTransactionIDLen {
		return fmt.Errorf("%w: transactionId of %d bytes (want 1..%d)", ErrFormat, len(r.TransactionID), maxTransactionIDLen)
	}
	if r.KeyType != KeyTypeAES || r.KeyLen != KeyLenAES128 {
		return fmt.Errorf("%w: key type %02X length %02X (want 88/10)", ErrUnsupportedCRT, r.KeyType, r.KeyLen)
	}
	if len(r.HostID) == 0 || len(r.HostID) > MaxHostIDLen {
		return fmt.Errorf("%w: hostId of %d bytes (want 1..%d)", ErrUnsupportedCRT, len(r.HostID), MaxHostIDLen)
	}
	if len(r.DPPublicKey) != uncompressedP256Len || r.DPPublicKey[0] != 0x04 {
		return fmt.Errorf("%w: otPK.DP.ECKA is not an uncompressed P-256 point (%d bytes)", ErrFormat, len(r.DPPublicKey))
	}
	if len(r.Signature) == 0 {
		return fmt.Errorf("%w: empty smdpSign", ErrFormat)
	}
	return nil
}

// SessionKeys performs the eUICC's ECKA with its one-time private key and
// otPK.DP.ECKA, and derives the session keys with the request's CRT and the
// eUICC's EID (16 bytes).
func (r *InitialiseSecureChannel) SessionKeys(euiccOtSK *ecdh.PrivateKey, eid []byte) (SessionKeys, error) {
	shs, err := ECKA(euiccOtSK, r.DPPublicKey)
	if err != nil {
		return SessionKeys{}, err
	}
	return DeriveSessionKeys(shs, r.KeyType, r.KeyLen, r.HostID, eid)
}

// ParseInitialiseSecureChannel parses a complete BF23 TLV. The elements
// must appear in the order 82, 80, A6, 5F49, 5F37. Errors wrap ErrFormat,
// ErrUnsupportedRemoteOp (remoteOpId other than 1) or ErrUnsupportedCRT
// (keys other than AES-128, hostId not 1..16 bytes). The signature is not
// verified here: do that over SignedData with the SM-DP+'s CERT.DPpb key.
// The returned value does not alias b.
func ParseInitialiseSecureChannel(b []byte) (*InitialiseSecureChannel, error) {
	t, err := tlv.DecodeOne(b)
	if err != nil {
		return nil, fmt.Errorf("%w: InitialiseSecureChannel: %w", ErrFormat, err)
	}
	if t.Tag != TagInitialiseSecureChannel {
		return nil, fmt.Errorf("%w: tag %s, want %s", ErrFormat, t.Tag, TagInitialiseSecureChannel)
	}
	content := bytes.Clone(t.Value)
	// Decode the elements one by one, remembering where the last one (5F37)
	// starts: the signed part is everything before it, as received.
	var cs []tlv.TLV
	lastStart := 0
	for rest := content; len(rest) > 0; {
		lastStart = len(content) - len(rest)
		c, r, err := tlv.Decode(rest)
		if err != nil {
			return nil, fmt.Errorf("%w: InitialiseSecureChannel: %w", ErrFormat, err)
		}
		cs = append(cs, c)
		rest = r
	}
	want := []tlv.Tag{tagRemoteOpID, tagTransactionID, tagCRT, TagOneTimePublicKey, TagSignature}
	if len(cs) != len(want) {
		return nil, fmt.Errorf("%w: InitialiseSecureChannel has %d elements, want %d", ErrFormat, len(cs), len(want))
	}
	for i, c := range cs {
		if c.Tag != want[i] {
			return nil, fmt.Errorf("%w: InitialiseSecureChannel element %d is %s, want %s", ErrFormat, i, c.Tag, want[i])
		}
	}
	if len(cs[0].Value) != 1 {
		return nil, fmt.Errorf("%w: remoteOpId of %d bytes", ErrFormat, len(cs[0].Value))
	}
	r := &InitialiseSecureChannel{
		RemoteOpID:    cs[0].Value[0],
		TransactionID: cs[1].Value,
		DPPublicKey:   cs[3].Value,
		Signature:     cs[4].Value,
	}
	crt, err := cs[2].Children()
	if err != nil {
		return nil, fmt.Errorf("%w: control reference template: %w", ErrFormat, err)
	}
	wantCRT := []tlv.Tag{tagCRTKeyType, tagCRTKeyLen, tagCRTHostID}
	if len(crt) != len(wantCRT) {
		return nil, fmt.Errorf("%w: control reference template has %d elements, want 3", ErrFormat, len(crt))
	}
	for i, c := range crt {
		if c.Tag != wantCRT[i] {
			return nil, fmt.Errorf("%w: control reference template element %d is %s, want %s", ErrFormat, i, c.Tag, wantCRT[i])
		}
	}
	if len(crt[0].Value) != 1 || len(crt[1].Value) != 1 {
		return nil, fmt.Errorf("%w: key type/length must be one byte each", ErrUnsupportedCRT)
	}
	r.KeyType, r.KeyLen, r.HostID = crt[0].Value[0], crt[1].Value[0], crt[2].Value
	r.signed = content[:lastStart:lastStart]
	if err := r.check(); err != nil {
		return nil, err
	}
	return r, nil
}
