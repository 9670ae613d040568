// Profile download messages (sgp22.md 2.3, 2.4, 2.6, 4.2, 5.2): the ES10b
// functions GetEUICCChallenge, AuthenticateServer and PrepareDownload, the
// signed structures they carry, and the helpers for the signed data.
//
// Signatures cover the exact TLV bytes that were received. Every signed
// structure therefore has a Raw field: its decoder fills Raw with the exact
// TLV (tag, length, value) it was decoded from, and Bytes returns Raw when it
// is non-nil and a fresh DER encoding otherwise. Values built by hand leave
// Raw nil. Request and response Encode methods embed the Bytes of their
// signed parts, so what was signed is what is sent.

package rsp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// Inner tags of the download messages.
const (
	tagInteger = tlv.Tag(0x02)
	tagBoolean = tlv.Tag(0x01)
	tagOID     = tlv.Tag(0x06)
	tagOtpk    = tlv.Tag(0x5F49)
)

// MaxTransactionIDLen is the longest TransactionId in bytes.
const MaxTransactionIDLen = 16

// ---- TransactionId ----

// TransactionIDString returns txid as upper-case hex, as ES9+ JSON carries it.
func TransactionIDString(txid []byte) string { return strings.ToUpper(hex.EncodeToString(txid)) }

// ParseTransactionID decodes a hex TransactionId (either case) of 1 to 16
// bytes. Errors wrap ErrMalformed.
func ParseTransactionID(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("rsp: %w: transactionId of %d characters is not hex: %w", ErrMalformed, len(s), err)
	}
	if err := checkTxID(b); err != nil {
		return nil, fmt.Errorf("rsp: transactionId: %w", err)
	}
	return b, nil
}

func checkTxID(b []byte) error {
	if len(b) < 1 || len(b) > MaxTransactionIDLen {
		return fmt.Errorf("%w: transactionId of %d bytes, want 1..%d", ErrMalformed, len(b), MaxTransactionIDLen)
	}
	return nil
}

// fieldTxID decodes the TransactionId element e.
func fieldTxID(e elem, what string) ([]byte, error) {
	if err := checkTxID(e.val); err != nil {
		return nil, fmt.Errorf("rsp: %s: %s: %w", what, e.tag, err)
	}
	return bytes.Clone(e.val), nil
}

// mustTxID decodes the mandatory TransactionId child tag of es.
func mustTxID(es []elem, tag tlv.Tag, what string) ([]byte, error) {
	e, err := must(es, tag, what)
	if err != nil {
		return nil, err
	}
	return fieldTxID(e, what)
}

// must16 decodes the mandatory 16-byte child tag of es (a challenge).
func must16(es []elem, tag tlv.Tag, what string) ([16]byte, error) {
	var v [16]byte
	e, err := must(es, tag, what)
	if err != nil {
		return v, err
	}
	if len(e.val) != len(v) {
		return v, fmt.Errorf("rsp: %s: %s: %w: %d bytes, want 16", what, e.tag, ErrMalformed, len(e.val))
	}
	copy(v[:], e.val)
	return v, nil
}

// mustBytes returns a copy of the value of the mandatory child tag of es.
func mustBytes(es []elem, tag tlv.Tag, what string) ([]byte, error) {
	e, err := must(es, tag, what)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(e.val), nil
}

// optBytes returns a copy of the value of child tag, or nil when absent.
func optBytes(es []elem, tag tlv.Tag) []byte {
	if e, ok := find(es, tag); ok {
		return bytes.Clone(e.val)
	}
	return nil
}

// nthRaw returns the complete encoding of the n-th (0-based) child with
// the given tag, as when SEQUENCE elements of one type follow each other.
func nthRaw(es []elem, tag tlv.Tag, n int, what, name string) ([]byte, error) {
	for _, e := range es {
		if e.tag != tag {
			continue
		}
		if n == 0 {
			return bytes.Clone(e.raw), nil
		}
		n--
	}
	return nil, fmt.Errorf("rsp: %s: %w %s (%s)", what, ErrMissingField, tag, name)
}

// nthElem is nthRaw returning the element itself.
func nthElem(es []elem, tag tlv.Tag, n int, what, name string) (elem, error) {
	for _, e := range es {
		if e.tag != tag {
			continue
		}
		if n == 0 {
			return e, nil
		}
		n--
	}
	return elem{}, fmt.Errorf("rsp: %s: %w %s (%s)", what, ErrMissingField, tag, name)
}

// errorCode decodes the error code of an error CHOICE: the universal
// INTEGER 02 of the ASN.1, or a context 81 as some implementations send.
func errorCode(es []elem, what string) (int, error) {
	for _, tag := range []tlv.Tag{tagInteger, 0x81} {
		if e, ok := find(es, tag); ok {
			return fieldInt(e, what)
		}
	}
	return 0, fmt.Errorf("rsp: %s: %w: error code 02 (or 81)", what, ErrMissingField)
}

// optTxID decodes the optional TransactionId 80 of an error answer.
func optTxID(es []elem, what string) ([]byte, error) {
	if e, ok := find(es, 0x80); ok {
		return fieldTxID(e, what)
	}
	return nil, nil
}

// encodeError returns A1 { [80 txid], 02 code }.
func encodeError(txid []byte, code int) []byte {
	var cs []tlv.TLV
	if len(txid) > 0 {
		cs = append(cs, tlv.New(0x80, txid))
	}
	cs = append(cs, intTLV(tagInteger, code))
	return tlv.NewConstructed(0xA1, cs...).Bytes()
}

// rawOr returns a copy of raw when it is non-nil, else build().
func rawOr(raw []byte, build func() []byte) []byte {
	if raw != nil {
		return bytes.Clone(raw)
	}
	return build()
}

// ---- GetEUICCChallenge (BF2E) ----

// GetEUICCChallengeRequest is ES10b.GetEUICCChallenge.
type GetEUICCChallengeRequest struct{}

// Encode returns BF2E 00.
func (GetEUICCChallengeRequest) Encode() []byte {
	return tlv.NewConstructed(TagEUICCChallenge).Bytes()
}

// DecodeGetEUICCChallengeRequest checks a GetEUICCChallenge request.
func DecodeGetEUICCChallengeRequest(b []byte) (GetEUICCChallengeRequest, error) {
	_, err := open(b, TagEUICCChallenge, "GetEUICCChallenge request")
	return GetEUICCChallengeRequest{}, err
}

// GetEUICCChallengeResponse is the answer to ES10b.GetEUICCChallenge.
type GetEUICCChallengeResponse struct{ Challenge [16]byte }

// Encode returns BF2E { 80 10 challenge }.
func (r GetEUICCChallengeResponse) Encode() []byte {
	return tlv.NewConstructed(TagEUICCChallenge, tlv.New(0x80, r.Challenge[:])).Bytes()
}

// DecodeGetEUICCChallengeResponse decodes BF2E { 80 10 challenge }.
func DecodeGetEUICCChallengeResponse(b []byte) (GetEUICCChallengeResponse, error) {
	const what = "GetEUICCChallenge response"
	es, err := open(b, TagEUICCChallenge, what)
	if err != nil {
		return GetEUICCChallengeResponse{}, err
	}
	c, err := must16(es, 0x80, what)
	if err != nil {
		return GetEUICCChallengeResponse{}, err
	}
	return GetEUICCChallengeResponse{Challenge: c}, nil
}

// ---- AuthenticateServer (BF38) ----

// ServerSigned1 is the part of the SM-DP+'s InitiateAuthentication answer
// that serverSignature1 covers.
type ServerSigned1 struct {
	TransactionID   []byte // 80, 1..16 bytes
	EUICCChallenge  [16]byte
	ServerAddress   string
	ServerChallenge [16]byte
	Raw             []byte // exact TLV when decoded
}

// Bytes returns Raw, or else 30 { 80 txid, 81 euiccChallenge, 83
// serverAddress, 84 serverChallenge }.
func (s ServerSigned1) Bytes() []byte {
	return rawOr(s.Raw, func() []byte {
		return tlv.NewConstructed(tagSequence,
			tlv.New(0x80, s.TransactionID),
			tlv.New(0x81, s.EUICCChallenge[:]),
			tlv.New(0x83, []byte(s.ServerAddress)),
			tlv.New(0x84, s.ServerChallenge[:])).Bytes()
	})
}

// DecodeServerSigned1 decodes serverSigned1; every field is mandatory.
func DecodeServerSigned1(b []byte) (ServerSigned1, error) {
	const what = "serverSigned1"
	es, err := open(b, tagSequence, what)
	if err != nil {
		return ServerSigned1{}, err
	}
	s := ServerSigned1{Raw: bytes.Clone(b)}
	if s.TransactionID, err = mustTxID(es, 0x80, what); err != nil {
		return ServerSigned1{}, err
	}
	if s.EUICCChallenge, err = must16(es, 0x81, what); err != nil {
		return ServerSigned1{}, err
	}
	a, err := must(es, 0x83, what)
	if err != nil {
		return ServerSigned1{}, err
	}
	s.ServerAddress = string(a.val)
	if s.ServerChallenge, err = must16(es, 0x84, what); err != nil {
		return ServerSigned1{}, err
	}
	return s, nil
}

// DeviceInfo describes the device in ctxParams1.
type DeviceInfo struct {
	TAC          [4]byte
	Capabilities []byte // the raw content of deviceCapabilities (A1), may be empty
	IMEI         string // optional decimal digits (15), sent as 82 08 nibble-swapped with F padding
}

func (d DeviceInfo) tlv() tlv.TLV {
	cs := []tlv.TLV{tlv.New(0x80, d.TAC[:]), tlv.New(0xA1, d.Capabilities)}
	if d.IMEI != "" {
		cs = append(cs, tlv.New(0x82, encodeIMEI(d.IMEI)))
	}
	return tlv.NewConstructed(0xA1, cs...)
}

// encodeIMEI returns the digits of s nibble-swapped, F-padded to whole
// bytes (8 bytes for 15 digits). Non-digits encode as F.
func encodeIMEI(s string) []byte {
	out := make([]byte, (len(s)+1)/2)
	for k := range out {
		lo, hi := byte(0xF), byte(0xF)
		if c := s[2*k]; c >= '0' && c <= '9' {
			lo = c - '0'
		}
		if 2*k+1 < len(s) {
			if c := s[2*k+1]; c >= '0' && c <= '9' {
				hi = c - '0'
			}
		}
		out[k] = lo | hi<<4
	}
	return out
}

// decodeIMEI reverses encodeIMEI; F is allowed only as trailing padding.
func decodeIMEI(b []byte) (string, error) {
	digits := make([]byte, 0, 2*len(b))
	padded := false
	for k, c := range b {
		for _, n := range [2]byte{c & 0x0F, c >> 4} {
			switch {
			case n == 0xF:
				padded = true
			case n > 9 || padded:
				return "", fmt.Errorf("%w: IMEI byte %d (%02X) is not padded BCD", ErrMalformed, k, c)
			default:
				digits = append(digits, '0'+n)
			}
		}
	}
	return string(digits), nil
}

func decodeDeviceInfo(e elem, what string) (DeviceInfo, error) {
	var d DeviceInfo
	cs, err := e.children()
	if err != nil {
		return d, fmt.Errorf("rsp: %s: deviceInfo: %w", what, err)
	}
	tac, err := must(cs, 0x80, what)
	if err != nil {
		return d, err
	}
	// SGP.22 v2.0/2.1 sent an 8-byte tac; its first four bytes are the TAC.
	if len(tac.val) != 4 && len(tac.val) != 8 {
		return d, fmt.Errorf("rsp: %s: tac: %w: %d bytes, want 4", what, ErrMalformed, len(tac.val))
	}
	copy(d.TAC[:], tac.val)
	caps, err := must(cs, 0xA1, what)
	if err != nil {
		return d, err
	}
	if len(caps.val) > 0 {
		d.Capabilities = bytes.Clone(caps.val)
	}
	if im, ok := find(cs, 0x82); ok {
		if d.IMEI, err = decodeIMEI(im.val); err != nil {
			return DeviceInfo{}, fmt.Errorf("rsp: %s: %w", what, err)
		}
	}
	return d, nil
}

// CtxParams1 is ctxParamsForCommonAuthentication.
type CtxParams1 struct {
	MatchingID    string
	HasMatchingID bool // 80 present (possibly empty); a non-empty MatchingID is always sent
	DeviceInfo    DeviceInfo
	Raw           []byte // exact A0 TLV when decoded
}

// Bytes returns Raw, or else A0 { [80 matchingId], A1 deviceInfo }.
func (c CtxParams1) Bytes() []byte {
	return rawOr(c.Raw, func() []byte {
		var cs []tlv.TLV
		if c.HasMatchingID || c.MatchingID != "" {
			cs = append(cs, tlv.New(0x80, []byte(c.MatchingID)))
		}
		cs = append(cs, c.DeviceInfo.tlv())
		return tlv.NewConstructed(0xA0, cs...).Bytes()
	})
}

func decodeCtxParams1(e elem, what string) (CtxParams1, error) {
	what += " ctxParams1"
	cs, err := e.children()
	if err != nil {
		return CtxParams1{}, fmt.Errorf("rsp: %s: %w", what, err)
	}
	c := CtxParams1{Raw: bytes.Clone(e.raw)}
	if m, ok := find(cs, 0x80); ok {
		c.MatchingID, c.HasMatchingID = string(m.val), true
	}
	di, err := must(cs, 0xA1, what)
	if err != nil {
		return CtxParams1{}, err
	}
	if c.DeviceInfo, err = decodeDeviceInfo(di, what); err != nil {
		return CtxParams1{}, err
	}
	return c, nil
}

// AuthenticateServerRequest is ES10b.AuthenticateServer.
type AuthenticateServerRequest struct {
	ServerSigned1     ServerSigned1
	ServerSignature1  []byte // 64 bytes r||s (the 5F37 value)
	CIPKIDToBeUsed    []byte // 20-byte SKI (the 04 value)
	ServerCertificate []byte // DER CERT.DPauth
	CtxParams1        CtxParams1
}

// Encode returns BF38 { 30 serverSigned1, 5F37 serverSignature1, 04
// euiccCiPKIdToBeUsed, 30 serverCertificate, A0 ctxParams1 }.
func (r AuthenticateServerRequest) Encode() []byte {
	return constructed(TagAuthenticateServer,
		r.ServerSigned1.Bytes(),
		tlv.Encode(tagSignature, r.ServerSignature1),
		tlv.Encode(tagOctets, r.CIPKIDToBeUsed),
		r.ServerCertificate,
		r.CtxParams1.Bytes()).Bytes()
}

// DecodeAuthenticateServerRequest decodes an AuthenticateServer request: the
// first 30 element is serverSigned1, the second the server certificate.
func DecodeAuthenticateServerRequest(b []byte) (AuthenticateServerRequest, error) {
	const what = "AuthenticateServer request"
	es, err := open(b, TagAuthenticateServer, what)
	if err != nil {
		return AuthenticateServerRequest{}, err
	}
	var r AuthenticateServerRequest
	s1, err := nthRaw(es, tagSequence, 0, what, "serverSigned1")
	if err != nil {
		return AuthenticateServerRequest{}, err
	}
	if r.ServerSigned1, err = DecodeServerSigned1(s1); err != nil {
		return AuthenticateServerRequest{}, fmt.Errorf("%s: %w", what, err)
	}
	if r.ServerSignature1, err = mustBytes(es, tagSignature, what); err != nil {
		return AuthenticateServerRequest{}, err
	}
	if r.CIPKIDToBeUsed, err = mustBytes(es, tagOctets, what); err != nil {
		return AuthenticateServerRequest{}, err
	}
	if r.ServerCertificate, err = nthRaw(es, tagSequence, 1, what, "serverCertificate"); err != nil {
		return AuthenticateServerRequest{}, err
	}
	ctx, err := must(es, 0xA0, what)
	if err != nil {
		return AuthenticateServerRequest{}, err
	}
	if r.CtxParams1, err = decodeCtxParams1(ctx, what); err != nil {
		return AuthenticateServerRequest{}, err
	}
	return r, nil
}

// EUICCSigned1 is the part of the AuthenticateServer answer that
// euiccSignature1 covers.
type EUICCSigned1 struct {
	TransactionID   []byte
	ServerAddress   string
	ServerChallenge [16]byte
	EUICCInfo2      EUICCInfo2
	CtxParams1      CtxParams1
	Raw             []byte // exact TLV when decoded
}

// Bytes returns Raw, or else 30 { 80 txid, 83 serverAddress, 84
// serverChallenge, BF22 euiccInfo2, A0 ctxParams1 }.
func (s EUICCSigned1) Bytes() []byte {
	return rawOr(s.Raw, func() []byte {
		return constructed(tagSequence,
			tlv.Encode(0x80, s.TransactionID),
			tlv.Encode(0x83, []byte(s.ServerAddress)),
			tlv.Encode(0x84, s.ServerChallenge[:]),
			s.EUICCInfo2.Encode(),
			s.CtxParams1.Bytes()).Bytes()
	})
}

func decodeEUICCSigned1(e elem, what string) (EUICCSigned1, error) {
	what += " euiccSigned1"
	es, err := e.children()
	if err != nil {
		return EUICCSigned1{}, fmt.Errorf("rsp: %s: %w", what, err)
	}
	s := EUICCSigned1{Raw: bytes.Clone(e.raw)}
	if s.TransactionID, err = mustTxID(es, 0x80, what); err != nil {
		return EUICCSigned1{}, err
	}
	a, err := must(es, 0x83, what)
	if err != nil {
		return EUICCSigned1{}, err
	}
	s.ServerAddress = string(a.val)
	if s.ServerChallenge, err = must16(es, 0x84, what); err != nil {
		return EUICCSigned1{}, err
	}
	info, err := must(es, TagEUICCInfo2, what)
	if err != nil {
		return EUICCSigned1{}, err
	}
	if s.EUICCInfo2, err = DecodeEUICCInfo2(info.raw); err != nil {
		return EUICCSigned1{}, fmt.Errorf("%s: %w", what, err)
	}
	ctx, err := must(es, 0xA0, what)
	if err != nil {
		return EUICCSigned1{}, err
	}
	if s.CtxParams1, err = decodeCtxParams1(ctx, what); err != nil {
		return EUICCSigned1{}, err
	}
	return s, nil
}

// AuthenticateServerResponse is the answer to ES10b.AuthenticateServer:
// exactly one of Ok and Error is set (Ok wins when encoding both).
type AuthenticateServerResponse struct {
	Ok    *AuthenticateResponseOk
	Error *AuthenticateResponseError
}

// AuthenticateResponseOk is authenticateResponseOk.
type AuthenticateResponseOk struct {
	EUICCSigned1     EUICCSigned1
	EUICCSignature1  []byte // 64 bytes
	EUICCCertificate []byte // DER
	EUMCertificate   []byte // DER
}

// AuthenticateResponseError is authenticateResponseError.
type AuthenticateResponseError struct {
	TransactionID []byte // omitted when empty
	Code          AuthenticateErrorCode
}

// Encode returns BF38 { A0 { 30 euiccSigned1, 5F37 euiccSignature1, 30
// euiccCertificate, 30 eumCertificate } } or BF38 { A1 { 80 txid, 02 code } }
// (BF38 00 when neither is set).
func (r AuthenticateServerResponse) Encode() []byte {
	switch {
	case r.Ok != nil:
		ok := constructed(0xA0, r.Ok.EUICCSigned1.Bytes(), tlv.Encode(tagSignature, r.Ok.EUICCSignature1),
			r.Ok.EUICCCertificate, r.Ok.EUMCertificate)
		return tlv.NewConstructed(TagAuthenticateServer, ok).Bytes()
	case r.Error != nil:
		return constructed(TagAuthenticateServer, encodeError(r.Error.TransactionID, int(r.Error.Code))).Bytes()
	}
	return tlv.NewConstructed(TagAuthenticateServer).Bytes()
}

// Err returns nil when Ok is set, else a *ResultError naming the error code.
// A response with neither set yields an error wrapping ErrMissingField.
func (r AuthenticateServerResponse) Err() error {
	switch {
	case r.Ok != nil:
		return nil
	case r.Error != nil:
		return resultErr(TagAuthenticateServer, int(r.Error.Code), r.Error.Code.String())
	}
	return fmt.Errorf("rsp: AuthenticateServer response: %w: neither ok nor error", ErrMissingField)
}

// DecodeAuthenticateServerResponse decodes the answer to AuthenticateServer.
// The error code is accepted under the universal tag 02 of the ASN.1 and
// under 81.
func DecodeAuthenticateServerResponse(b []byte) (AuthenticateServerResponse, error) {
	const what = "AuthenticateServer response"
	es, err := open(b, TagAuthenticateServer, what)
	if err != nil {
		return AuthenticateServerResponse{}, err
	}
	if a0, ok := find(es, 0xA0); ok {
		cs, err := a0.children()
		if err != nil {
			return AuthenticateServerResponse{}, fmt.Errorf("rsp: %s: %w", what, err)
		}
		var ok AuthenticateResponseOk
		s1, err := nthElem(cs, tagSequence, 0, what, "euiccSigned1")
		if err != nil {
			return AuthenticateServerResponse{}, err
		}
		if ok.EUICCSigned1, err = decodeEUICCSigned1(s1, what); err != nil {
			return AuthenticateServerResponse{}, err
		}
		if ok.EUICCSignature1, err = mustBytes(cs, tagSignature, what); err != nil {
			return AuthenticateServerResponse{}, err
		}
		if ok.EUICCCertificate, err = nthRaw(cs, tagSequence, 1, what, "euiccCertificate"); err != nil {
			return AuthenticateServerResponse{}, err
		}
		if ok.EUMCertificate, err = nthRaw(cs, tagSequence, 2, what, "eumCertificate"); err != nil {
			return AuthenticateServerResponse{}, err
		}
		return AuthenticateServerResponse{Ok: &ok}, nil
	}
	a1, err := must(es, 0xA1, what)
	if err != nil {
		return AuthenticateServerResponse{}, fmt.Errorf("%w: neither A0 nor A1", err)
	}
	txid, code, err := decodeErrorChoice(a1, what)
	if err != nil {
		return AuthenticateServerResponse{}, err
	}
	return AuthenticateServerResponse{Error: &AuthenticateResponseError{TransactionID: txid, Code: AuthenticateErrorCode(code)}}, nil
}

// decodeErrorChoice decodes A1 { [80 txid], 02|81 code }.
func decodeErrorChoice(e elem, what string) ([]byte, int, error) {
	cs, err := e.children()
	if err != nil {
		return nil, 0, fmt.Errorf("rsp: %s: %w", what, err)
	}
	txid, err := optTxID(cs, what)
	if err != nil {
		return nil, 0, err
	}
	code, err := errorCode(cs, what)
	if err != nil {
		return nil, 0, err
	}
	return txid, code, nil
}

// ---- PrepareDownload (BF21) ----

// SMDPSigned2 is the part of the AuthenticateClient answer that
// smdpSignature2 covers.
type SMDPSigned2 struct {
	TransactionID []byte
	CCRequired    bool
	BPPEUICCOtpk  []byte // optional (5F49), nil when absent
	Raw           []byte // exact TLV when decoded
}

// Bytes returns Raw, or else 30 { 80 txid, 01 ccRequiredFlag, [5F49
// bppEuiccOtpk] }.
func (s SMDPSigned2) Bytes() []byte {
	return rawOr(s.Raw, func() []byte {
		cs := []tlv.TLV{tlv.New(0x80, s.TransactionID), boolTLV(tagBoolean, s.CCRequired)}
		if s.BPPEUICCOtpk != nil {
			cs = append(cs, tlv.New(tagOtpk, s.BPPEUICCOtpk))
		}
		return tlv.NewConstructed(tagSequence, cs...).Bytes()
	})
}

// DecodeSMDPSigned2 decodes smdpSigned2; transactionId and ccRequiredFlag
// are mandatory.
func DecodeSMDPSigned2(b []byte) (SMDPSigned2, error) {
	const what = "smdpSigned2"
	es, err := open(b, tagSequence, what)
	if err != nil {
		return SMDPSigned2{}, err
	}
	s := SMDPSigned2{Raw: bytes.Clone(b)}
	if s.TransactionID, err = mustTxID(es, 0x80, what); err != nil {
		return SMDPSigned2{}, err
	}
	cc, err := must(es, tagBoolean, what)
	if err != nil {
		return SMDPSigned2{}, err
	}
	if s.CCRequired, err = decBool(cc.val); err != nil {
		return SMDPSigned2{}, fmt.Errorf("rsp: %s: ccRequiredFlag: %w", what, err)
	}
	s.BPPEUICCOtpk = optBytes(es, tagOtpk)
	return s, nil
}

// PrepareDownloadRequest is ES10b.PrepareDownload.
type PrepareDownloadRequest struct {
	SMDPSigned2     SMDPSigned2
	SMDPSignature2  []byte // 64 bytes
	HashCC          []byte // nil (omitted) or 32 bytes
	SMDPCertificate []byte // DER CERT.DPpb
}

// Encode returns BF21 { 30 smdpSigned2, 5F37 smdpSignature2, [04 hashCc],
// 30 smdpCertificate }.
func (r PrepareDownloadRequest) Encode() []byte {
	raws := [][]byte{r.SMDPSigned2.Bytes(), tlv.Encode(tagSignature, r.SMDPSignature2)}
	if r.HashCC != nil {
		raws = append(raws, tlv.Encode(tagOctets, r.HashCC))
	}
	raws = append(raws, r.SMDPCertificate)
	return constructed(TagPrepareDownload, raws...).Bytes()
}

// DecodePrepareDownloadRequest decodes a PrepareDownload request: the first
// 30 element is smdpSigned2, the second the SM-DP+ certificate.
func DecodePrepareDownloadRequest(b []byte) (PrepareDownloadRequest, error) {
	const what = "PrepareDownload request"
	es, err := open(b, TagPrepareDownload, what)
	if err != nil {
		return PrepareDownloadRequest{}, err
	}
	var r PrepareDownloadRequest
	s2, err := nthRaw(es, tagSequence, 0, what, "smdpSigned2")
	if err != nil {
		return PrepareDownloadRequest{}, err
	}
	if r.SMDPSigned2, err = DecodeSMDPSigned2(s2); err != nil {
		return PrepareDownloadRequest{}, fmt.Errorf("%s: %w", what, err)
	}
	if r.SMDPSignature2, err = mustBytes(es, tagSignature, what); err != nil {
		return PrepareDownloadRequest{}, err
	}
	r.HashCC = optBytes(es, tagOctets)
	if r.SMDPCertificate, err = nthRaw(es, tagSequence, 1, what, "smdpCertificate"); err != nil {
		return PrepareDownloadRequest{}, err
	}
	return r, nil
}

// EUICCSigned2 is the part of the PrepareDownload answer that
// euiccSignature2 covers.
type EUICCSigned2 struct {
	TransactionID []byte
	EUICCOtpk     []byte // 65 bytes 04||X||Y
	HashCC        []byte // optional (04), nil when absent
	Raw           []byte // exact TLV when decoded
}

// Bytes returns Raw, or else 30 { 80 txid, 5F49 euiccOtpk, [04 hashCc] }.
func (s EUICCSigned2) Bytes() []byte {
	return rawOr(s.Raw, func() []byte {
		cs := []tlv.TLV{tlv.New(0x80, s.TransactionID), tlv.New(tagOtpk, s.EUICCOtpk)}
		if s.HashCC != nil {
			cs = append(cs, tlv.New(tagOctets, s.HashCC))
		}
		return tlv.NewConstructed(tagSequence, cs...).Bytes()
	})
}

func decodeEUICCSigned2(e elem, what string) (EUICCSigned2, error) {
	what += " euiccSigned2"
	es, err := e.children()
	if err != nil {
		return EUICCSigned2{}, fmt.Errorf("rsp: %s: %w", what, err)
	}
	s := EUICCSigned2{Raw: bytes.Clone(e.raw)}
	if s.TransactionID, err = mustTxID(es, 0x80, what); err != nil {
		return EUICCSigned2{}, err
	}
	if s.EUICCOtpk, err = mustBytes(es, tagOtpk, what); err != nil {
		return EUICCSigned2{}, err
	}
	s.HashCC = optBytes(es, tagOctets)
	return s, nil
}

// PrepareDownloadResponse is the answer to ES10b.PrepareDownload: exactly
// one of Ok and Error is set (Ok wins when encoding both).
type PrepareDownloadResponse struct {
	Ok    *PrepareDownloadResponseOk
	Error *PrepareDownloadResponseError
}

// PrepareDownloadResponseOk is downloadResponseOk.
type PrepareDownloadResponseOk struct {
	EUICCSigned2    EUICCSigned2
	EUICCSignature2 []byte
}

// PrepareDownloadResponseError is downloadResponseError.
type PrepareDownloadResponseError struct {
	TransactionID []byte // omitted when empty
	Code          DownloadErrorCode
}

// Encode returns BF21 { A0 { 30 euiccSigned2, 5F37 euiccSignature2 } } or
// BF21 { A1 { 80 txid, 02 code } } (BF21 00 when neither is set).
func (r PrepareDownloadResponse) Encode() []byte {
	switch {
	case r.Ok != nil:
		ok := constructed(0xA0, r.Ok.EUICCSigned2.Bytes(), tlv.Encode(tagSignature, r.Ok.EUICCSignature2))
		return tlv.NewConstructed(TagPrepareDownload, ok).Bytes()
	case r.Error != nil:
		return constructed(TagPrepareDownload, encodeError(r.Error.TransactionID, int(r.Error.Code))).Bytes()
	}
	return tlv.NewConstructed(TagPrepareDownload).Bytes()
}

// Err returns nil when Ok is set, else a *ResultError naming the error code.
// A response with neither set yields an error wrapping ErrMissingField.
func (r PrepareDownloadResponse) Err() error {
	switch {
	case r.Ok != nil:
		return nil
	case r.Error != nil:
		return resultErr(TagPrepareDownload, int(r.Error.Code), r.Error.Code.String())
	}
	return fmt.Errorf("rsp: PrepareDownload response: %w: neither ok nor error", ErrMissingField)
}

// DecodePrepareDownloadResponse decodes the answer to PrepareDownload. The
// error code is accepted under 02 and under 81.
func DecodePrepareDownloadResponse(b []byte) (PrepareDownloadResponse, error) {
	const what = "PrepareDownload response"
	es, err := open(b, TagPrepareDownload, what)
	if err != nil {
		return PrepareDownloadResponse{}, err
	}
	if a0, ok := find(es, 0xA0); ok {
		cs, err := a0.children()
		if err != nil {
			return PrepareDownloadResponse{}, fmt.Errorf("rsp: %s: %w", what, err)
		}
		var ok PrepareDownloadResponseOk
		s2, err := must(cs, tagSequence, what)
		if err != nil {
			return PrepareDownloadResponse{}, err
		}
		if ok.EUICCSigned2, err = decodeEUICCSigned2(s2, what); err != nil {
			return PrepareDownloadResponse{}, err
		}
		if ok.EUICCSignature2, err = mustBytes(cs, tagSignature, what); err != nil {
			return PrepareDownloadResponse{}, err
		}
		return PrepareDownloadResponse{Ok: &ok}, nil
	}
	a1, err := must(es, 0xA1, what)
	if err != nil {
		return PrepareDownloadResponse{}, fmt.Errorf("%w: neither A0 nor A1", err)
	}
	txid, code, err := decodeErrorChoice(a1, what)
	if err != nil {
		return PrepareDownloadResponse{}, err
	}
	return PrepareDownloadResponse{Error: &PrepareDownloadResponseError{TransactionID: txid, Code: DownloadErrorCode(code)}}, nil
}

// ---- Signed data (sgp22.md 4.2) and confirmation code (5.2) ----

// SMDPSignature2Data returns the bytes smdpSignature2 covers:
// TLV(smdpSigned2) || 5F37 40 euiccSignature1.
func SMDPSignature2Data(smdpSigned2Raw, euiccSignature1 []byte) []byte {
	return append(bytes.Clone(smdpSigned2Raw), tlv.Encode(tagSignature, euiccSignature1)...)
}

// EUICCSignature2Data returns the bytes euiccSignature2 covers:
// TLV(euiccSigned2) || 5F37 40 smdpSignature2.
func EUICCSignature2Data(euiccSigned2Raw, smdpSignature2 []byte) []byte {
	return append(bytes.Clone(euiccSigned2Raw), tlv.Encode(tagSignature, smdpSignature2)...)
}

// HashCC returns SHA-256(SHA-256(confirmationCode) || transactionID), the
// hashCc of PrepareDownload.
func HashCC(confirmationCode string, transactionID []byte) []byte {
	inner := sha256.Sum256([]byte(confirmationCode))
	h := sha256.New()
	h.Write(inner[:])
	h.Write(transactionID)
	return h.Sum(nil)
}
