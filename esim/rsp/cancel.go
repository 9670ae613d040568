// ES10b.CancelSession (sgp22.md 2.1, 4.2, 4.8).

package rsp

import (
	"bytes"
	"encoding/asn1"
	"fmt"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// CancelSessionRequest is ES10b.CancelSession.
type CancelSessionRequest struct {
	TransactionID []byte
	Reason        CancelSessionReason
}

// Encode returns BF41 { 80 txid, 81 reason }.
func (r CancelSessionRequest) Encode() []byte {
	return tlv.NewConstructed(TagCancelSession, tlv.New(0x80, r.TransactionID), intTLV(0x81, int(r.Reason))).Bytes()
}

// DecodeCancelSessionRequest decodes a CancelSession request; both fields
// are mandatory.
func DecodeCancelSessionRequest(b []byte) (CancelSessionRequest, error) {
	const what = "CancelSession request"
	es, err := open(b, TagCancelSession, what)
	if err != nil {
		return CancelSessionRequest{}, err
	}
	txid, err := mustTxID(es, 0x80, what)
	if err != nil {
		return CancelSessionRequest{}, err
	}
	reason, err := mustInt(es, 0x81, what)
	if err != nil {
		return CancelSessionRequest{}, err
	}
	return CancelSessionRequest{TransactionID: txid, Reason: CancelSessionReason(reason)}, nil
}

// EUICCCancelSessionSigned is the part of the CancelSession answer that
// euiccCancelSessionSignature covers.
type EUICCCancelSessionSigned struct {
	TransactionID []byte
	SMDPOID       asn1.ObjectIdentifier
	Reason        CancelSessionReason
	Raw           []byte // exact TLV when decoded
}

// Bytes returns Raw, or else 30 { 80 txid, 81 smdpOid content, 82 reason }.
// An OID that cannot be encoded gives an empty 81.
func (s EUICCCancelSessionSigned) Bytes() []byte {
	return rawOr(s.Raw, func() []byte {
		return tlv.NewConstructed(tagSequence,
			tlv.New(0x80, s.TransactionID),
			tlv.New(0x81, encOID(s.SMDPOID)),
			intTLV(0x82, int(s.Reason))).Bytes()
	})
}

func decodeCancelSigned(e elem, what string) (EUICCCancelSessionSigned, error) {
	what += " euiccCancelSessionSigned"
	es, err := e.children()
	if err != nil {
		return EUICCCancelSessionSigned{}, fmt.Errorf("rsp: %s: %w", what, err)
	}
	s := EUICCCancelSessionSigned{Raw: bytes.Clone(e.raw)}
	if s.TransactionID, err = mustTxID(es, 0x80, what); err != nil {
		return EUICCCancelSessionSigned{}, err
	}
	o, err := must(es, 0x81, what)
	if err != nil {
		return EUICCCancelSessionSigned{}, err
	}
	if s.SMDPOID, err = fieldOID(o, what); err != nil {
		return EUICCCancelSessionSigned{}, err
	}
	reason, err := mustInt(es, 0x82, what)
	if err != nil {
		return EUICCCancelSessionSigned{}, err
	}
	s.Reason = CancelSessionReason(reason)
	return s, nil
}

// CancelSessionResponse is the answer to ES10b.CancelSession: Ok with its
// Signature, or (Ok nil) an error code.
type CancelSessionResponse struct {
	Ok        *EUICCCancelSessionSigned
	Signature []byte                 // euiccCancelSessionSignature, 64 bytes
	Error     CancelSessionErrorCode // when Ok == nil
}

// Encode returns BF41 { A0 { 30 euiccCancelSessionSigned, 5F37 signature } }
// or BF41 { 81 error }.
func (r CancelSessionResponse) Encode() []byte {
	if r.Ok != nil {
		ok := constructed(0xA0, r.Ok.Bytes(), tlv.Encode(tagSignature, r.Signature))
		return tlv.NewConstructed(TagCancelSession, ok).Bytes()
	}
	return tlv.NewConstructed(TagCancelSession, intTLV(0x81, int(r.Error))).Bytes()
}

// Err returns nil when Ok is set, else a *ResultError naming the error code.
func (r CancelSessionResponse) Err() error {
	if r.Ok != nil {
		return nil
	}
	return resultErr(TagCancelSession, int(r.Error), r.Error.String())
}

// DecodeCancelSessionResponse decodes the answer to CancelSession. The error
// code is accepted under 81 (the ASN.1 CHOICE) and under 02.
func DecodeCancelSessionResponse(b []byte) (CancelSessionResponse, error) {
	const what = "CancelSession response"
	es, err := open(b, TagCancelSession, what)
	if err != nil {
		return CancelSessionResponse{}, err
	}
	a0, ok := find(es, 0xA0)
	if !ok {
		code, err := errorCode(es, what)
		if err != nil {
			return CancelSessionResponse{}, err
		}
		return CancelSessionResponse{Error: CancelSessionErrorCode(code)}, nil
	}
	cs, err := a0.children()
	if err != nil {
		return CancelSessionResponse{}, fmt.Errorf("rsp: %s: %w", what, err)
	}
	se, err := must(cs, tagSequence, what)
	if err != nil {
		return CancelSessionResponse{}, err
	}
	signed, err := decodeCancelSigned(se, what)
	if err != nil {
		return CancelSessionResponse{}, err
	}
	sig, err := mustBytes(cs, tagSignature, what)
	if err != nil {
		return CancelSessionResponse{}, err
	}
	return CancelSessionResponse{Ok: &signed, Signature: sig}, nil
}
