// Bound Profile Package commands and the installation result (sgp22.md
// 2.1, 2.5, 2.6): StoreMetadata (BF25), ConfigureISDP (BF24) and
// ProfileInstallationResult (BF37 around BF27).

package rsp

import (
	"bytes"
	"encoding/asn1"
	"fmt"
	"math"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// ---- OBJECT IDENTIFIER content ----

// encOID returns the content octets of oid, or nil when oid cannot be
// encoded (fewer than two arcs, a negative arc, first arc above 2, or second
// arc of 40 or more under 0 and 1).
func encOID(oid asn1.ObjectIdentifier) []byte {
	if len(oid) < 2 || oid[0] < 0 || oid[0] > 2 || oid[1] < 0 || oid[0] < 2 && oid[1] >= 40 {
		return nil
	}
	if oid[1] > math.MaxInt-80 {
		return nil
	}
	out := appendBase128(nil, oid[0]*40+oid[1])
	for _, arc := range oid[2:] {
		if arc < 0 {
			return nil
		}
		out = appendBase128(out, arc)
	}
	return out
}

func appendBase128(b []byte, v int) []byte {
	n := 1
	for x := v >> 7; x > 0; x >>= 7 {
		n++
	}
	for i := n - 1; i >= 0; i-- {
		c := byte(v>>(7*i)) & 0x7F
		if i > 0 {
			c |= 0x80
		}
		b = append(b, c)
	}
	return b
}

// decOID decodes OBJECT IDENTIFIER content octets. Arcs must fit in 31 bits.
func decOID(b []byte) (asn1.ObjectIdentifier, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty OBJECT IDENTIFIER", ErrMalformed)
	}
	var arcs []int
	v := 0
	for i, c := range b {
		if v > math.MaxInt32>>7 {
			return nil, fmt.Errorf("%w: OBJECT IDENTIFIER arc too large", ErrMalformed)
		}
		v = v<<7 | int(c&0x7F)
		if c&0x80 != 0 {
			if i == len(b)-1 {
				return nil, fmt.Errorf("%w: OBJECT IDENTIFIER ends inside an arc", ErrMalformed)
			}
			continue
		}
		if arcs == nil {
			switch {
			case v < 40:
				arcs = []int{0, v}
			case v < 80:
				arcs = []int{1, v - 40}
			default:
				arcs = []int{2, v - 80}
			}
		} else {
			arcs = append(arcs, v)
		}
		v = 0
	}
	return asn1.ObjectIdentifier(arcs), nil
}

// fieldOID decodes the OBJECT IDENTIFIER content of element e.
func fieldOID(e elem, what string) (asn1.ObjectIdentifier, error) {
	oid, err := decOID(e.val)
	if err != nil {
		return nil, fmt.Errorf("rsp: %s: %s: %w", what, e.tag, err)
	}
	return oid, nil
}

// ---- StoreMetadata (BF25) ----

// StoreMetadataRequest is the profile metadata (BF25): sent by the SM-DP+ as
// profileMetadata and, inside the Bound Profile Package, to the eUICC.
type StoreMetadataRequest struct {
	ICCID               ICCID
	ServiceProviderName string
	ProfileName         string
	IconType            *IconType
	Icon                []byte
	ProfileClass        *ProfileClass // nil: omitted, meaning the DEFAULT operational
	NotificationConfig  []NotificationConfig
	ProfileOwner        *ProfileOwner
	PPR                 []byte // raw 99 BIT STRING content, nil if absent
	Raw                 []byte // exact TLV when decoded
}

// Bytes returns Raw, or else BF25 { 5A iccid, 91 serviceProviderName, 92
// profileName, [93 iconType], [94 icon], [95 profileClass], [B6
// notificationConfigurationInfo], [B7 profileOwner], [99 profilePolicyRules] }.
// Nil optional fields are omitted.
func (m StoreMetadataRequest) Bytes() []byte {
	return rawOr(m.Raw, func() []byte {
		cs := []tlv.TLV{
			tlv.New(TagICCID, m.ICCID.Encode()),
			tlv.New(TagServiceProviderName, []byte(m.ServiceProviderName)),
			tlv.New(TagProfileName, []byte(m.ProfileName)),
		}
		if m.IconType != nil {
			cs = append(cs, intTLV(TagIconType, int(*m.IconType)))
		}
		if m.Icon != nil {
			cs = append(cs, tlv.New(TagIcon, m.Icon))
		}
		if m.ProfileClass != nil {
			cs = append(cs, intTLV(TagProfileClass, int(*m.ProfileClass)))
		}
		if m.NotificationConfig != nil {
			cs = append(cs, notificationConfigTLV(m.NotificationConfig))
		}
		if m.ProfileOwner != nil {
			cs = append(cs, profileOwnerTLV(*m.ProfileOwner))
		}
		if m.PPR != nil {
			cs = append(cs, tlv.New(TagPolicyRules, bitsOrEmpty(m.PPR)))
		}
		return tlv.NewConstructed(TagStoreMetadata, cs...).Bytes()
	})
}

// notificationConfigTLV returns B6 { 30 { 80 event, 81 address } ... }.
func notificationConfigTLV(ns []NotificationConfig) tlv.TLV {
	cs := make([]tlv.TLV, 0, len(ns))
	for _, n := range ns {
		cs = append(cs, tlv.NewConstructed(tagSequence,
			tlv.New(0x80, n.Event.bitString()), tlv.New(0x81, []byte(n.Address))))
	}
	return tlv.NewConstructed(TagNotificationConfig, cs...)
}

// profileOwnerTLV returns B7 { 80 mccMnc, [81 gid1], [82 gid2] }.
func profileOwnerTLV(o ProfileOwner) tlv.TLV {
	cs := []tlv.TLV{tlv.New(0x80, o.MCCMNC)}
	if o.GID1 != nil {
		cs = append(cs, tlv.New(0x81, o.GID1))
	}
	if o.GID2 != nil {
		cs = append(cs, tlv.New(0x82, o.GID2))
	}
	return tlv.NewConstructed(TagProfileOwner, cs...)
}

// DecodeStoreMetadataRequest decodes BF25. The ICCID is mandatory; absent
// names decode as "". Unknown tags are ignored; of repeated tags the first
// counts.
func DecodeStoreMetadataRequest(b []byte) (StoreMetadataRequest, error) {
	const what = "StoreMetadataRequest"
	es, err := open(b, TagStoreMetadata, what)
	if err != nil {
		return StoreMetadataRequest{}, err
	}
	m := StoreMetadataRequest{Raw: bytes.Clone(b)}
	ie, err := must(es, TagICCID, what)
	if err != nil {
		return StoreMetadataRequest{}, err
	}
	if m.ICCID, err = fieldICCID(ie, what); err != nil {
		return StoreMetadataRequest{}, err
	}
	if e, ok := find(es, TagServiceProviderName); ok {
		m.ServiceProviderName = string(e.val)
	}
	if e, ok := find(es, TagProfileName); ok {
		m.ProfileName = string(e.val)
	}
	if e, ok := find(es, TagIconType); ok {
		v, err := fieldInt(e, what)
		if err != nil {
			return StoreMetadataRequest{}, err
		}
		it := IconType(v)
		m.IconType = &it
	}
	m.Icon = optBytes(es, TagIcon)
	if e, ok := find(es, TagProfileClass); ok {
		v, err := fieldInt(e, what)
		if err != nil {
			return StoreMetadataRequest{}, err
		}
		pc := ProfileClass(v)
		m.ProfileClass = &pc
	}
	if e, ok := find(es, TagNotificationConfig); ok {
		if m.NotificationConfig, err = decodeNotificationConfig(e); err != nil {
			return StoreMetadataRequest{}, err
		}
	}
	if e, ok := find(es, TagProfileOwner); ok {
		if m.ProfileOwner, err = decodeProfileOwner(e); err != nil {
			return StoreMetadataRequest{}, err
		}
	}
	if e, ok := find(es, TagPolicyRules); ok {
		if m.PPR, err = rawBits(e, what); err != nil {
			return StoreMetadataRequest{}, err
		}
	}
	return m, nil
}

// ---- ConfigureISDP (BF24) ----

// ConfigureISDPRequest is the first command of a Bound Profile Package.
type ConfigureISDPRequest struct {
	DPOID asn1.ObjectIdentifier // optional dpProprietaryData dpOid; nil omits B8
}

// Encode returns BF24 { [B8 { 80 dpOid }] }. An OID that cannot be encoded
// (see encoding rules of OBJECT IDENTIFIER) is omitted like a nil one.
func (r ConfigureISDPRequest) Encode() []byte {
	var cs []tlv.TLV
	if oid := encOID(r.DPOID); oid != nil {
		cs = append(cs, tlv.NewConstructed(0xB8, tlv.New(0x80, oid)))
	}
	return tlv.NewConstructed(TagConfigureISDP, cs...).Bytes()
}

// DecodeConfigureISDPRequest decodes BF24; a B8 without 80 is ignored.
func DecodeConfigureISDPRequest(b []byte) (ConfigureISDPRequest, error) {
	const what = "ConfigureISDPRequest"
	es, err := open(b, TagConfigureISDP, what)
	if err != nil {
		return ConfigureISDPRequest{}, err
	}
	var r ConfigureISDPRequest
	if b8, ok := find(es, 0xB8); ok {
		cs, err := b8.children()
		if err != nil {
			return ConfigureISDPRequest{}, fmt.Errorf("rsp: %s: %w", what, err)
		}
		if e, ok := find(cs, 0x80); ok {
			if r.DPOID, err = fieldOID(e, what); err != nil {
				return ConfigureISDPRequest{}, err
			}
		}
	}
	return r, nil
}

// ---- ProfileInstallationResult (BF37) ----

// ProfileInstallationResultData (BF27) is what euiccSignPIR covers.
type ProfileInstallationResultData struct {
	TransactionID []byte                // 80, omitted when empty
	Notification  NotificationMetadata  // BF2F
	SMDPOID       asn1.ObjectIdentifier // 06, omitted when nil or not encodable
	Success       *InstallSuccess       // A2 { A0 { 4F aid, 04 simaResponse } }
	Failure       *InstallFailure       // A2 { A1 { 80 cmd, 81 reason, [82 simaResponse] } }
	Raw           []byte                // exact TLV when decoded
}

// InstallSuccess is successResult. Empty fields decode as nil.
type InstallSuccess struct {
	AID          []byte
	SimaResponse []byte
}

// InstallFailure is errorResult.
type InstallFailure struct {
	Command      BPPCommandID
	Reason       InstallErrorReason
	SimaResponse []byte // optional, nil omits 82
}

// Bytes returns Raw, or else BF27 { 80 txid, BF2F notificationMetadata, 06
// smdpOid, A2 finalResult }. Success wins when both results are set; with
// neither, A2 is omitted.
func (d ProfileInstallationResultData) Bytes() []byte {
	return rawOr(d.Raw, func() []byte {
		var cs []tlv.TLV
		if len(d.TransactionID) > 0 {
			cs = append(cs, tlv.New(0x80, d.TransactionID))
		}
		cs = append(cs, d.Notification.tlv())
		if oid := encOID(d.SMDPOID); oid != nil {
			cs = append(cs, tlv.New(tagOID, oid))
		}
		switch {
		case d.Success != nil:
			cs = append(cs, tlv.NewConstructed(0xA2, tlv.NewConstructed(0xA0,
				tlv.New(tagAID, d.Success.AID), tlv.New(tagOctets, d.Success.SimaResponse))))
		case d.Failure != nil:
			fs := []tlv.TLV{intTLV(0x80, int(d.Failure.Command)), intTLV(0x81, int(d.Failure.Reason))}
			if d.Failure.SimaResponse != nil {
				fs = append(fs, tlv.New(0x82, d.Failure.SimaResponse))
			}
			cs = append(cs, tlv.NewConstructed(0xA2, tlv.NewConstructed(0xA1, fs...)))
		}
		return tlv.NewConstructed(TagProfileInstallationResultData, cs...).Bytes()
	})
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return bytes.Clone(b)
}

func decodePIRData(e elem) (ProfileInstallationResultData, error) {
	const what = "ProfileInstallationResultData"
	es, err := e.children()
	if err != nil {
		return ProfileInstallationResultData{}, fmt.Errorf("rsp: %s: %w", what, err)
	}
	d := ProfileInstallationResultData{Raw: bytes.Clone(e.raw)}
	if t, ok := find(es, 0x80); ok {
		if d.TransactionID, err = fieldTxID(t, what); err != nil {
			return ProfileInstallationResultData{}, err
		}
	}
	me, err := must(es, TagNotificationMetadata, what)
	if err != nil {
		return ProfileInstallationResultData{}, err
	}
	ms, err := me.children()
	if err != nil {
		return ProfileInstallationResultData{}, fmt.Errorf("rsp: %s: %w", what, err)
	}
	if d.Notification, err = decodeMetadata(ms); err != nil {
		return ProfileInstallationResultData{}, err
	}
	if o, ok := find(es, tagOID); ok {
		if d.SMDPOID, err = fieldOID(o, what); err != nil {
			return ProfileInstallationResultData{}, err
		}
	}
	a2, err := must(es, 0xA2, what)
	if err != nil {
		return ProfileInstallationResultData{}, err
	}
	rs, err := a2.children()
	if err != nil {
		return ProfileInstallationResultData{}, fmt.Errorf("rsp: %s: finalResult: %w", what, err)
	}
	if a0, ok := find(rs, 0xA0); ok {
		cs, err := a0.children()
		if err != nil {
			return ProfileInstallationResultData{}, fmt.Errorf("rsp: %s: successResult: %w", what, err)
		}
		aid, err := must(cs, tagAID, what)
		if err != nil {
			return ProfileInstallationResultData{}, err
		}
		d.Success = &InstallSuccess{AID: nilIfEmpty(aid.val)}
		if s, ok := find(cs, tagOctets); ok {
			d.Success.SimaResponse = nilIfEmpty(s.val)
		}
		return d, nil
	}
	a1, err := must(rs, 0xA1, what)
	if err != nil {
		return ProfileInstallationResultData{}, fmt.Errorf("%w: finalResult holds neither A0 nor A1", err)
	}
	cs, err := a1.children()
	if err != nil {
		return ProfileInstallationResultData{}, fmt.Errorf("rsp: %s: errorResult: %w", what, err)
	}
	cmd, err := mustInt(cs, 0x80, what)
	if err != nil {
		return ProfileInstallationResultData{}, err
	}
	reason, err := mustInt(cs, 0x81, what)
	if err != nil {
		return ProfileInstallationResultData{}, err
	}
	d.Failure = &InstallFailure{Command: BPPCommandID(cmd), Reason: InstallErrorReason(reason), SimaResponse: optBytes(cs, 0x82)}
	return d, nil
}

// ProfileInstallationResult (BF37) is the signed outcome of
// LoadBoundProfilePackage, also kept as the install notification.
type ProfileInstallationResult struct {
	Data      ProfileInstallationResultData
	Signature []byte // euiccSignPIR over Data.Bytes()
}

// Encode returns BF37 { BF27 data, 5F37 euiccSignPIR }.
func (r ProfileInstallationResult) Encode() []byte {
	return constructed(TagProfileInstallationResult, r.Data.Bytes(), tlv.Encode(tagSignature, r.Signature)).Bytes()
}

// Err returns nil on success and an *InstallError on failure. A result with
// neither yields an error wrapping ErrMissingField.
func (r ProfileInstallationResult) Err() error {
	switch {
	case r.Data.Success != nil:
		return nil
	case r.Data.Failure != nil:
		return &InstallError{Command: r.Data.Failure.Command, Reason: r.Data.Failure.Reason}
	}
	return fmt.Errorf("rsp: ProfileInstallationResult: %w: no finalResult", ErrMissingField)
}

// DecodeProfileInstallationResult decodes BF37; BF27 (with its BF2F
// notificationMetadata and A2 finalResult) and 5F37 are mandatory,
// transactionId and smdpOid optional.
func DecodeProfileInstallationResult(b []byte) (ProfileInstallationResult, error) {
	const what = "ProfileInstallationResult"
	es, err := open(b, TagProfileInstallationResult, what)
	if err != nil {
		return ProfileInstallationResult{}, err
	}
	de, err := must(es, TagProfileInstallationResultData, what)
	if err != nil {
		return ProfileInstallationResult{}, err
	}
	var r ProfileInstallationResult
	if r.Data, err = decodePIRData(de); err != nil {
		return ProfileInstallationResult{}, err
	}
	if r.Signature, err = mustBytes(es, tagSignature, what); err != nil {
		return ProfileInstallationResult{}, err
	}
	return r, nil
}

// InstallError is a failed profile installation as reported in BF37.
type InstallError struct {
	Command BPPCommandID
	Reason  InstallErrorReason
}

// Error returns e.g. "install failed at configureISDP: scp03tSecurityError (8)".
func (e *InstallError) Error() string {
	return fmt.Sprintf("install failed at %s: %s (%d)", e.Command, e.Reason, int(e.Reason))
}
