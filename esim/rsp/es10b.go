package rsp

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// ---- GetEUICCInfo1 (BF20), GetEUICCInfo2 (BF22) ----

// GetEUICCInfo1Request is ES10b.GetEUICCInfo1.
type GetEUICCInfo1Request struct{}

// Encode returns BF20 00.
func (GetEUICCInfo1Request) Encode() []byte { return tlv.NewConstructed(TagEUICCInfo1).Bytes() }

// DecodeGetEUICCInfo1Request checks a GetEUICCInfo1 request.
func DecodeGetEUICCInfo1Request(b []byte) (GetEUICCInfo1Request, error) {
	_, err := open(b, TagEUICCInfo1, "GetEUICCInfo1 request")
	return GetEUICCInfo1Request{}, err
}

// GetEUICCInfo2Request is ES10b.GetEUICCInfo2.
type GetEUICCInfo2Request struct{}

// Encode returns BF22 00.
func (GetEUICCInfo2Request) Encode() []byte { return tlv.NewConstructed(TagEUICCInfo2).Bytes() }

// DecodeGetEUICCInfo2Request checks a GetEUICCInfo2 request.
func DecodeGetEUICCInfo2Request(b []byte) (GetEUICCInfo2Request, error) {
	_, err := open(b, TagEUICCInfo2, "GetEUICCInfo2 request")
	return GetEUICCInfo2Request{}, err
}

// encodeSKIs returns tag { 04 ski ... }.
func encodeSKIs(tag tlv.Tag, skis [][]byte) tlv.TLV {
	cs := make([]tlv.TLV, 0, len(skis))
	for _, s := range skis {
		cs = append(cs, tlv.New(tagOctets, s))
	}
	return tlv.NewConstructed(tag, cs...)
}

// decodeSKIs decodes the 04 elements of a CI key identifier list; other
// elements are skipped. An empty list decodes as nil.
func decodeSKIs(e elem, what string) ([][]byte, error) {
	cs, err := e.children()
	if err != nil {
		return nil, fmt.Errorf("rsp: %s: %w", what, err)
	}
	var out [][]byte
	for _, c := range cs {
		if c.tag == tagOctets {
			out = append(out, bytes.Clone(c.val))
		}
	}
	return out, nil
}

// EUICCInfo1 is the answer to ES10b.GetEUICCInfo1.
type EUICCInfo1 struct {
	SVN                    Version
	CIPKIDsForVerification [][]byte // subject key identifiers of trusted CIs
	CIPKIDsForSigning      [][]byte
}

// Encode returns BF20 { 82 svn, A9 { 04 ... }, AA { 04 ... } }.
func (i EUICCInfo1) Encode() []byte {
	return tlv.NewConstructed(TagEUICCInfo1,
		tlv.New(0x82, i.SVN[:]),
		encodeSKIs(0xA9, i.CIPKIDsForVerification),
		encodeSKIs(0xAA, i.CIPKIDsForSigning)).Bytes()
}

// DecodeEUICCInfo1 decodes EUICCInfo1; svn (82) is mandatory.
func DecodeEUICCInfo1(b []byte) (EUICCInfo1, error) {
	const what = "EUICCInfo1"
	es, err := open(b, TagEUICCInfo1, what)
	if err != nil {
		return EUICCInfo1{}, err
	}
	var i EUICCInfo1
	e, err := must(es, 0x82, what)
	if err != nil {
		return EUICCInfo1{}, err
	}
	if i.SVN, err = fieldVersion(e, what); err != nil {
		return EUICCInfo1{}, err
	}
	if e, ok := find(es, 0xA9); ok {
		if i.CIPKIDsForVerification, err = decodeSKIs(e, what); err != nil {
			return EUICCInfo1{}, err
		}
	}
	if e, ok := find(es, 0xAA); ok {
		if i.CIPKIDsForSigning, err = decodeSKIs(e, what); err != nil {
			return EUICCInfo1{}, err
		}
	}
	return i, nil
}

// ExtCardResource is the content of EUICCInfo2 extCardResource (84), coded
// as TS 102 226 TLVs with unsigned big-endian values.
type ExtCardResource struct {
	InstalledApplications int   // 81
	FreeNVM               int64 // 82, bytes
	FreeRAM               int64 // 83, bytes
}

// encUnsigned returns the shortest big-endian coding of v (at least one byte).
func encUnsigned(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	i := 0
	for i < 7 && b[i] == 0 {
		i++
	}
	return bytes.Clone(b[i:])
}

// decUnsigned decodes 1..8 bytes big-endian.
func decUnsigned(b []byte) (uint64, error) {
	if len(b) == 0 || len(b) > 8 {
		return 0, fmt.Errorf("%w: unsigned value of %d bytes", ErrMalformed, len(b))
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

func (r ExtCardResource) value() []byte {
	return bytes.Join([][]byte{
		tlv.Encode(0x81, encUnsigned(uint64(r.InstalledApplications))),
		tlv.Encode(0x82, encUnsigned(uint64(r.FreeNVM))),
		tlv.Encode(0x83, encUnsigned(uint64(r.FreeRAM))),
	}, nil)
}

func decodeExtCardResource(e elem) (ExtCardResource, error) {
	const what = "EUICCInfo2 extCardResource"
	var r ExtCardResource
	cs, err := e.children()
	if err != nil {
		return r, fmt.Errorf("rsp: %s: %w", what, err)
	}
	for _, c := range cs {
		if c.tag < 0x81 || c.tag > 0x83 {
			continue
		}
		v, err := decUnsigned(c.val)
		if err != nil {
			return ExtCardResource{}, fmt.Errorf("rsp: %s: %s: %w", what, c.tag, err)
		}
		switch c.tag {
		case 0x81:
			n := int(v)
			if uint64(n) != v {
				return ExtCardResource{}, fmt.Errorf("rsp: %s: %w: %d installed applications", what, ErrMalformed, v)
			}
			r.InstalledApplications = n
		case 0x82:
			r.FreeNVM = int64(v)
		case 0x83:
			r.FreeRAM = int64(v)
		}
	}
	return r, nil
}

// EUICCInfo2 is the answer to ES10b.GetEUICCInfo2 (also embedded in
// AuthenticateServer's euiccSigned1).
type EUICCInfo2 struct {
	ProfileVersion, SVN, FirmwareVersion Version         // 81, 82, 83
	ExtCardResource                      ExtCardResource // 84
	UICCCapability                       []byte          // 85, raw BIT STRING content (incl. unused-bits byte)
	TS102241Version                      *Version        // 86, optional
	GlobalPlatformVersion                *Version        // 87, optional
	RSPCapability                        []byte          // 88, raw BIT STRING content
	CIPKIDsForVerification               [][]byte        // A9
	CIPKIDsForSigning                    [][]byte        // AA
	Category                             *int            // 8B, optional: 0 other, 1 basic, 2 medium, 3 contactless
	ForbiddenProfilePolicyRules          []byte          // 99, optional raw BIT STRING content
	PPVersion                            Version         // universal 04
	SASAccreditationNumber               string          // universal 0C
}

// Encode returns the BF22 TLV in ASN.1 order. Nil UICCCapability and
// RSPCapability are omitted (they are mandatory: set them), as are the nil
// optional fields.
func (i EUICCInfo2) Encode() []byte { return i.tlv().Bytes() }

func (i EUICCInfo2) tlv() tlv.TLV {
	cs := []tlv.TLV{
		tlv.New(0x81, i.ProfileVersion[:]),
		tlv.New(0x82, i.SVN[:]),
		tlv.New(0x83, i.FirmwareVersion[:]),
		tlv.New(0x84, i.ExtCardResource.value()),
	}
	if i.UICCCapability != nil {
		cs = append(cs, tlv.New(0x85, bitsOrEmpty(i.UICCCapability)))
	}
	if i.TS102241Version != nil {
		cs = append(cs, tlv.New(0x86, i.TS102241Version[:]))
	}
	if i.GlobalPlatformVersion != nil {
		cs = append(cs, tlv.New(0x87, i.GlobalPlatformVersion[:]))
	}
	if i.RSPCapability != nil {
		cs = append(cs, tlv.New(0x88, bitsOrEmpty(i.RSPCapability)))
	}
	cs = append(cs, encodeSKIs(0xA9, i.CIPKIDsForVerification), encodeSKIs(0xAA, i.CIPKIDsForSigning))
	if i.Category != nil {
		cs = append(cs, intTLV(0x8B, *i.Category))
	}
	if i.ForbiddenProfilePolicyRules != nil {
		cs = append(cs, tlv.New(0x99, bitsOrEmpty(i.ForbiddenProfilePolicyRules)))
	}
	cs = append(cs, tlv.New(tagOctets, i.PPVersion[:]), tlv.New(tagUTF8, []byte(i.SASAccreditationNumber)))
	return tlv.NewConstructed(TagEUICCInfo2, cs...)
}

// DecodeEUICCInfo2 decodes EUICCInfo2. Only svn (82) is required, so that
// cards of older SGP.22 versions still decode; other absent fields stay zero.
func DecodeEUICCInfo2(b []byte) (EUICCInfo2, error) {
	const what = "EUICCInfo2"
	es, err := open(b, TagEUICCInfo2, what)
	if err != nil {
		return EUICCInfo2{}, err
	}
	if _, err := must(es, 0x82, what); err != nil {
		return EUICCInfo2{}, err
	}
	var i EUICCInfo2
	seen := make(map[tlv.Tag]bool)
	for _, e := range es {
		if seen[e.tag] {
			continue
		}
		seen[e.tag] = true
		switch e.tag {
		case 0x81:
			i.ProfileVersion, err = fieldVersion(e, what)
		case 0x82:
			i.SVN, err = fieldVersion(e, what)
		case 0x83:
			i.FirmwareVersion, err = fieldVersion(e, what)
		case 0x84:
			i.ExtCardResource, err = decodeExtCardResource(e)
		case 0x85:
			i.UICCCapability, err = rawBits(e, what)
		case 0x86:
			var v Version
			v, err = fieldVersion(e, what)
			i.TS102241Version = &v
		case 0x87:
			var v Version
			v, err = fieldVersion(e, what)
			i.GlobalPlatformVersion = &v
		case 0x88:
			i.RSPCapability, err = rawBits(e, what)
		case 0xA9:
			i.CIPKIDsForVerification, err = decodeSKIs(e, what)
		case 0xAA:
			i.CIPKIDsForSigning, err = decodeSKIs(e, what)
		case 0x8B:
			var v int
			v, err = fieldInt(e, what)
			i.Category = &v
		case 0x99:
			i.ForbiddenProfilePolicyRules, err = rawBits(e, what)
		case tagOctets:
			i.PPVersion, err = fieldVersion(e, what)
		case tagUTF8:
			i.SASAccreditationNumber = string(e.val)
		}
		if err != nil {
			return EUICCInfo2{}, err
		}
	}
	return i, nil
}

// ---- Notifications ----

// NotificationMetadata (BF2F) identifies a pending notification.
type NotificationMetadata struct {
	Seq     int               // 80 seqNumber
	Event   NotificationEvent // 81 profileManagementOperation (one bit)
	Address string            // 0C notificationAddress
	ICCID   ICCID             // 5A, optional ("" omitted)
}

func (m NotificationMetadata) tlv() tlv.TLV {
	cs := []tlv.TLV{
		intTLV(0x80, m.Seq),
		tlv.New(0x81, m.Event.bitString()),
		tlv.New(tagUTF8, []byte(m.Address)),
	}
	if m.ICCID != "" {
		cs = append(cs, tlv.New(tagICCID, m.ICCID.Encode()))
	}
	return tlv.NewConstructed(TagNotificationMetadata, cs...)
}

// Encode returns BF2F { 80 seq, 81 event, 0C address, [5A iccid] }.
func (m NotificationMetadata) Encode() []byte { return m.tlv().Bytes() }

// DecodeNotificationMetadata decodes BF2F; seqNumber (80) is mandatory.
func DecodeNotificationMetadata(b []byte) (NotificationMetadata, error) {
	es, err := open(b, TagNotificationMetadata, "NotificationMetadata")
	if err != nil {
		return NotificationMetadata{}, err
	}
	return decodeMetadata(es)
}

func decodeMetadata(es []elem) (NotificationMetadata, error) {
	const what = "NotificationMetadata"
	var m NotificationMetadata
	var err error
	if m.Seq, err = mustInt(es, 0x80, what); err != nil {
		return NotificationMetadata{}, err
	}
	if e, ok := find(es, 0x81); ok {
		v, err := fieldBits8(e, what)
		if err != nil {
			return NotificationMetadata{}, err
		}
		m.Event = NotificationEvent(v)
	}
	if e, ok := find(es, tagUTF8); ok {
		m.Address = string(e.val)
	}
	if e, ok := find(es, tagICCID); ok {
		if m.ICCID, err = fieldICCID(e, what); err != nil {
			return NotificationMetadata{}, err
		}
	}
	return m, nil
}

// ListNotificationRequest is ES10b.ListNotification.
type ListNotificationRequest struct {
	Events NotificationEvent // 0 = no filter (81 omitted)
}

// Encode returns BF28 { [81 events] }.
func (r ListNotificationRequest) Encode() []byte {
	var cs []tlv.TLV
	if r.Events != 0 {
		cs = append(cs, tlv.New(0x81, r.Events.bitString()))
	}
	return tlv.NewConstructed(TagListNotification, cs...).Bytes()
}

// DecodeListNotificationRequest decodes a ListNotification request.
func DecodeListNotificationRequest(b []byte) (ListNotificationRequest, error) {
	const what = "ListNotification request"
	es, err := open(b, TagListNotification, what)
	if err != nil {
		return ListNotificationRequest{}, err
	}
	var r ListNotificationRequest
	if e, ok := find(es, 0x81); ok {
		v, err := fieldBits8(e, what)
		if err != nil {
			return ListNotificationRequest{}, err
		}
		r.Events = NotificationEvent(v)
	}
	return r, nil
}

// ListNotificationResponse is the answer to ES10b.ListNotification. A
// non-zero Err encodes as BF28 { 81 err } and Notifications is then ignored.
type ListNotificationResponse struct {
	Notifications []NotificationMetadata
	Err           ListNotificationError
}

// Encode returns BF28 { A0 { BF2F ... } } or BF28 { 81 err }.
func (r ListNotificationResponse) Encode() []byte {
	if r.Err != 0 {
		return tlv.NewConstructed(TagListNotification, intTLV(0x81, int(r.Err))).Bytes()
	}
	ms := make([]tlv.TLV, 0, len(r.Notifications))
	for _, m := range r.Notifications {
		ms = append(ms, m.tlv())
	}
	return tlv.NewConstructed(TagListNotification, tlv.NewConstructed(0xA0, ms...)).Bytes()
}

// listOrError decodes the { A0 { items } } | { 81 err } shape shared by the
// list responses. items is nil when err is non-zero.
func listOrError(es []elem, what string) (items []elem, code int, err error) {
	if e, ok := find(es, 0x81); ok {
		if code, err = fieldInt(e, what); err != nil || code != 0 {
			return nil, code, err
		}
	}
	a0, ok := find(es, 0xA0)
	if !ok {
		return nil, 0, fmt.Errorf("rsp: %s: %w: neither list A0 nor error 81", what, ErrMissingField)
	}
	if items, err = a0.children(); err != nil {
		return nil, 0, fmt.Errorf("rsp: %s: %w", what, err)
	}
	return items, 0, nil
}

// DecodeListNotificationResponse decodes the answer to ListNotification.
// List elements other than BF2F are skipped.
func DecodeListNotificationResponse(b []byte) (ListNotificationResponse, error) {
	const what = "ListNotification response"
	es, err := open(b, TagListNotification, what)
	if err != nil {
		return ListNotificationResponse{}, err
	}
	items, code, err := listOrError(es, what)
	if err != nil || code != 0 {
		return ListNotificationResponse{Err: ListNotificationError(code)}, err
	}
	var r ListNotificationResponse
	for _, it := range items {
		if it.tag != TagNotificationMetadata {
			continue
		}
		cs, err := it.children()
		if err != nil {
			return ListNotificationResponse{}, fmt.Errorf("rsp: %s: %w", what, err)
		}
		m, err := decodeMetadata(cs)
		if err != nil {
			return ListNotificationResponse{}, fmt.Errorf("notification %d: %w", len(r.Notifications), err)
		}
		r.Notifications = append(r.Notifications, m)
	}
	return r, nil
}

// RetrieveNotificationsListRequest is ES10b.RetrieveNotificationsList: one
// notification by sequence number, or those of the given events, or (with
// neither) all of them. Seq wins when both are set.
type RetrieveNotificationsListRequest struct {
	Seq    *int
	Events NotificationEvent
}

// Encode returns BF2B { [A0 { 80 seq } | A0 { 81 events }] }.
func (r RetrieveNotificationsListRequest) Encode() []byte {
	var cs []tlv.TLV
	switch {
	case r.Seq != nil:
		cs = append(cs, tlv.NewConstructed(0xA0, intTLV(0x80, *r.Seq)))
	case r.Events != 0:
		cs = append(cs, tlv.NewConstructed(0xA0, tlv.New(0x81, r.Events.bitString())))
	}
	return tlv.NewConstructed(TagRetrieveNotifications, cs...).Bytes()
}

// DecodeRetrieveNotificationsListRequest decodes a RetrieveNotificationsList
// request.
func DecodeRetrieveNotificationsListRequest(b []byte) (RetrieveNotificationsListRequest, error) {
	const what = "RetrieveNotificationsList request"
	es, err := open(b, TagRetrieveNotifications, what)
	if err != nil {
		return RetrieveNotificationsListRequest{}, err
	}
	var r RetrieveNotificationsListRequest
	a0, ok := find(es, 0xA0)
	if !ok {
		return r, nil
	}
	cs, err := a0.children()
	if err != nil {
		return r, fmt.Errorf("rsp: %s: %w", what, err)
	}
	for _, c := range cs {
		switch c.tag {
		case 0x80:
			seq, err := fieldInt(c, what)
			if err != nil {
				return RetrieveNotificationsListRequest{}, err
			}
			r.Seq = &seq
			return r, nil
		case 0x81:
			v, err := fieldBits8(c, what)
			if err != nil {
				return RetrieveNotificationsListRequest{}, err
			}
			r.Events = NotificationEvent(v)
			return r, nil
		}
	}
	return r, fmt.Errorf("rsp: %s: %w: searchCriteria A0 holds neither 80 nor 81", what, ErrMalformed)
}

// PendingNotification is one notification as stored on the eUICC: a
// ProfileInstallationResult (BF37) for installs, an OtherSignedNotification
// (30) otherwise.
type PendingNotification struct {
	Raw      []byte // the complete TLV, sent base64 to the SM-DP+
	Metadata NotificationMetadata
}

// Encode returns Raw.
func (p PendingNotification) Encode() []byte { return bytes.Clone(p.Raw) }

// DecodePendingNotification decodes BF37 (metadata from BF27/BF2F) or 30
// (metadata from BF2F). Raw is a copy of b.
func DecodePendingNotification(b []byte) (PendingNotification, error) {
	const what = "PendingNotification"
	t, err := tlv.DecodeOne(b)
	if err != nil {
		return PendingNotification{}, fmt.Errorf("rsp: %s: %w", what, err)
	}
	es, err := elems(t.Value)
	if err != nil {
		return PendingNotification{}, fmt.Errorf("rsp: %s: in %s: %w", what, t.Tag, err)
	}
	switch t.Tag {
	case TagProfileInstallationResult:
		data, err := must(es, TagProfileInstallationResultData, what)
		if err != nil {
			return PendingNotification{}, err
		}
		if es, err = data.children(); err != nil {
			return PendingNotification{}, fmt.Errorf("rsp: %s: %w", what, err)
		}
	case tagSequence:
	default:
		return PendingNotification{}, fmt.Errorf("rsp: %s: %w %s, want %s or %s", what, ErrWrongTag, t.Tag,
			TagProfileInstallationResult, tlv.Tag(tagSequence))
	}
	me, err := must(es, TagNotificationMetadata, what)
	if err != nil {
		return PendingNotification{}, err
	}
	ms, err := me.children()
	if err != nil {
		return PendingNotification{}, fmt.Errorf("rsp: %s: %w", what, err)
	}
	m, err := decodeMetadata(ms)
	if err != nil {
		return PendingNotification{}, err
	}
	return PendingNotification{Raw: bytes.Clone(b), Metadata: m}, nil
}

// OtherSignedNotification is the enable/disable/delete notification (30).
type OtherSignedNotification struct {
	TBS              NotificationMetadata // BF2F tbsOtherNotification
	Signature        []byte               // 5F37 euiccNotificationSignature over TBSBytes
	EUICCCertificate []byte               // complete DER certificate (30 ...)
	EUMCertificate   []byte               // complete DER certificate (30 ...)
}

// TBSBytes returns TLV(BF2F ...), the bytes the signature covers.
func (n OtherSignedNotification) TBSBytes() []byte { return n.TBS.Encode() }

// Encode returns 30 { BF2F, 5F37 signature, euiccCertificate, eumCertificate }.
func (n OtherSignedNotification) Encode() []byte {
	return constructed(tagSequence, n.TBSBytes(), tlv.Encode(tagSignature, n.Signature),
		n.EUICCCertificate, n.EUMCertificate).Bytes()
}

// DecodeOtherSignedNotification decodes an OtherSignedNotification. The
// first and second 30 elements are the eUICC and EUM certificates.
func DecodeOtherSignedNotification(b []byte) (OtherSignedNotification, error) {
	const what = "OtherSignedNotification"
	es, err := open(b, tagSequence, what)
	if err != nil {
		return OtherSignedNotification{}, err
	}
	me, err := must(es, TagNotificationMetadata, what)
	if err != nil {
		return OtherSignedNotification{}, err
	}
	ms, err := me.children()
	if err != nil {
		return OtherSignedNotification{}, fmt.Errorf("rsp: %s: %w", what, err)
	}
	var n OtherSignedNotification
	if n.TBS, err = decodeMetadata(ms); err != nil {
		return OtherSignedNotification{}, err
	}
	sig, err := must(es, tagSignature, what)
	if err != nil {
		return OtherSignedNotification{}, err
	}
	n.Signature = bytes.Clone(sig.val)
	var certs [][]byte
	for _, e := range es {
		if e.tag == tagSequence {
			certs = append(certs, bytes.Clone(e.raw))
		}
	}
	if len(certs) > 0 {
		n.EUICCCertificate = certs[0]
	}
	if len(certs) > 1 {
		n.EUMCertificate = certs[1]
	}
	return n, nil
}

// RetrieveNotificationsListResponse is the answer to
// ES10b.RetrieveNotificationsList. A non-zero Err encodes as BF2B { 81 err }
// and Notifications is then ignored.
type RetrieveNotificationsListResponse struct {
	Notifications []PendingNotification
	Err           RetrieveNotificationError
}

// Encode returns BF2B { A0 { Raw ... } } or BF2B { 81 err }.
func (r RetrieveNotificationsListResponse) Encode() []byte {
	if r.Err != 0 {
		return tlv.NewConstructed(TagRetrieveNotifications, intTLV(0x81, int(r.Err))).Bytes()
	}
	raws := make([][]byte, 0, len(r.Notifications))
	for _, n := range r.Notifications {
		raws = append(raws, n.Raw)
	}
	return tlv.NewConstructed(TagRetrieveNotifications, constructed(0xA0, raws...)).Bytes()
}

// DecodeRetrieveNotificationsListResponse decodes the answer to
// RetrieveNotificationsList. List elements other than BF37 and 30 are
// skipped.
func DecodeRetrieveNotificationsListResponse(b []byte) (RetrieveNotificationsListResponse, error) {
	const what = "RetrieveNotificationsList response"
	es, err := open(b, TagRetrieveNotifications, what)
	if err != nil {
		return RetrieveNotificationsListResponse{}, err
	}
	items, code, err := listOrError(es, what)
	if err != nil || code != 0 {
		return RetrieveNotificationsListResponse{Err: RetrieveNotificationError(code)}, err
	}
	var r RetrieveNotificationsListResponse
	for _, it := range items {
		if it.tag != TagProfileInstallationResult && it.tag != tagSequence {
			continue
		}
		p, err := DecodePendingNotification(it.raw)
		if err != nil {
			return RetrieveNotificationsListResponse{}, fmt.Errorf("notification %d: %w", len(r.Notifications), err)
		}
		r.Notifications = append(r.Notifications, p)
	}
	return r, nil
}

// NotificationSentRequest is ES10b.RemoveNotificationFromList.
type NotificationSentRequest struct {
	Seq int
}

// Encode returns BF30 { 80 seqNumber }.
func (r NotificationSentRequest) Encode() []byte {
	return tlv.NewConstructed(TagNotificationSent, intTLV(0x80, r.Seq)).Bytes()
}

// DecodeNotificationSentRequest decodes a RemoveNotificationFromList request.
func DecodeNotificationSentRequest(b []byte) (NotificationSentRequest, error) {
	const what = "RemoveNotificationFromList request"
	es, err := open(b, TagNotificationSent, what)
	if err != nil {
		return NotificationSentRequest{}, err
	}
	seq, err := mustInt(es, 0x80, what)
	if err != nil {
		return NotificationSentRequest{}, err
	}
	return NotificationSentRequest{Seq: seq}, nil
}

// NotificationSentResponse is the answer to ES10b.RemoveNotificationFromList.
type NotificationSentResponse struct{ Result NotificationSentResult }

// Encode returns BF30 { 80 result }.
func (r NotificationSentResponse) Encode() []byte {
	return encodeResult(TagNotificationSent, int(r.Result))
}

// DecodeNotificationSentResponse decodes BF30 { 80 result }.
func DecodeNotificationSentResponse(b []byte) (NotificationSentResponse, error) {
	v, err := decodeResult(b, TagNotificationSent, "RemoveNotificationFromList response")
	return NotificationSentResponse{Result: NotificationSentResult(v)}, err
}
