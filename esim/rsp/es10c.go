package rsp

import (
	"bytes"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// MaxNicknameLen is the longest profile nickname in bytes of UTF-8.
const MaxNicknameLen = 64

// Tags inside ProfileInfo (E3) and the GetProfilesInfo search criteria.
const (
	TagNickname            = tlv.Tag(0x90)
	TagServiceProviderName = tlv.Tag(0x91)
	TagProfileName         = tlv.Tag(0x92)
	TagIconType            = tlv.Tag(0x93)
	TagIcon                = tlv.Tag(0x94)
	TagProfileClass        = tlv.Tag(0x95)
	TagNotificationConfig  = tlv.Tag(0xB6)
	TagProfileOwner        = tlv.Tag(0xB7)
	TagPolicyRules         = tlv.Tag(0x99)
	TagICCID               = tlv.Tag(0x5A)
	TagISDPAID             = tlv.Tag(0x4F)
	TagProfileState        = tlv.Tag(0x9F70)
)

// profileInfoTags lists the ProfileInfo elements this package knows, in
// ASN.1 order.
func profileInfoTags() []tlv.Tag {
	return []tlv.Tag{TagICCID, TagISDPAID, TagProfileState, TagNickname, TagServiceProviderName,
		TagProfileName, TagIconType, TagIcon, TagProfileClass, TagNotificationConfig,
		TagProfileOwner, TagPolicyRules}
}

// encodeID returns the CHOICE { 4F aid | 5A iccid } element of p.
func (p ProfileID) tlv() tlv.TLV {
	if p.ICCID != "" {
		return tlv.New(tagICCID, p.ICCID.Encode())
	}
	return tlv.New(tagAID, p.AID)
}

// decodeProfileID takes the first 4F or 5A element of es.
func decodeProfileID(es []elem, what string) (ProfileID, bool, error) {
	for _, e := range es {
		switch e.tag {
		case tagICCID:
			id, err := fieldICCID(e, what)
			return ProfileID{ICCID: id}, true, err
		case tagAID:
			return ProfileID{AID: bytes.Clone(e.val)}, true, nil
		}
	}
	return ProfileID{}, false, nil
}

// ---- GetEID (BF3E) ----

// GetEIDRequest is ES10c.GetEID; it encodes as BF3E035C015A.
type GetEIDRequest struct{}

// Encode returns BF3E { 5C 01 5A }.
func (GetEIDRequest) Encode() []byte {
	return tlv.NewConstructed(TagGetEID, tlv.New(tagTagList, TagICCID.Bytes())).Bytes()
}

// DecodeGetEIDRequest checks a GetEID request.
func DecodeGetEIDRequest(b []byte) (GetEIDRequest, error) {
	_, err := open(b, TagGetEID, "GetEID request")
	return GetEIDRequest{}, err
}

// GetEIDResponse is the answer to ES10c.GetEID.
type GetEIDResponse struct {
	EID EID
}

// Encode returns BF3E { 5A 10 <EID> }.
func (r GetEIDResponse) Encode() []byte {
	return tlv.NewConstructed(TagGetEID, tlv.New(tagICCID, r.EID.Encode())).Bytes()
}

// DecodeGetEIDResponse decodes BF3E { 5A 10 <EID> }.
func DecodeGetEIDResponse(b []byte) (GetEIDResponse, error) {
	const what = "GetEID response"
	es, err := open(b, TagGetEID, what)
	if err != nil {
		return GetEIDResponse{}, err
	}
	e, err := must(es, tagICCID, what)
	if err != nil {
		return GetEIDResponse{}, err
	}
	eid, err := DecodeEID(e.val)
	if err != nil {
		return GetEIDResponse{}, fmt.Errorf("rsp: %s: %w", what, err)
	}
	return GetEIDResponse{EID: eid}, nil
}

// ---- GetProfilesInfo (BF2D) ----

// GetProfilesInfoRequest is ES10c.GetProfilesInfo. At most one search
// criterion may be set; if several are, SearchAID wins over SearchICCID,
// which wins over SearchClass. A nil TagList is omitted; a non-nil one (even
// empty) is sent as 5C.
type GetProfilesInfoRequest struct {
	SearchAID   []byte
	SearchICCID ICCID
	SearchClass *ProfileClass
	TagList     []tlv.Tag
}

// Encode returns BF2D { [A0 { 4F | 5A | 95 }] [5C tags] }.
func (r GetProfilesInfoRequest) Encode() []byte {
	var cs []tlv.TLV
	switch {
	case r.SearchAID != nil:
		cs = append(cs, tlv.NewConstructed(0xA0, tlv.New(tagAID, r.SearchAID)))
	case r.SearchICCID != "":
		cs = append(cs, tlv.NewConstructed(0xA0, tlv.New(tagICCID, r.SearchICCID.Encode())))
	case r.SearchClass != nil:
		cs = append(cs, tlv.NewConstructed(0xA0, intTLV(TagProfileClass, int(*r.SearchClass))))
	}
	if r.TagList != nil {
		var tags []byte
		for _, t := range r.TagList {
			tags = append(tags, t.Bytes()...)
		}
		cs = append(cs, tlv.New(tagTagList, tags))
	}
	return tlv.NewConstructed(TagProfilesInfo, cs...).Bytes()
}

// DecodeGetProfilesInfoRequest decodes a GetProfilesInfo request.
func DecodeGetProfilesInfoRequest(b []byte) (GetProfilesInfoRequest, error) {
	const what = "GetProfilesInfo request"
	var r GetProfilesInfoRequest
	es, err := open(b, TagProfilesInfo, what)
	if err != nil {
		return r, err
	}
	if a0, ok := find(es, 0xA0); ok {
		cs, err := a0.children()
		if err != nil {
			return r, fmt.Errorf("rsp: %s: %w", what, err)
		}
		found := false
		for _, c := range cs {
			switch c.tag {
			case tagAID:
				r.SearchAID = bytes.Clone(c.val)
			case tagICCID:
				r.SearchICCID, err = fieldICCID(c, what)
			case TagProfileClass:
				var v int
				v, err = fieldInt(c, what)
				pc := ProfileClass(v)
				r.SearchClass = &pc
			default:
				continue
			}
			if err != nil {
				return GetProfilesInfoRequest{}, err
			}
			found = true
			break
		}
		if !found {
			return r, fmt.Errorf("rsp: %s: %w: searchCriteria A0 holds no 4F, 5A or 95", what, ErrMalformed)
		}
	}
	if e, ok := find(es, tagTagList); ok {
		r.TagList = []tlv.Tag{}
		rest := e.val
		for len(rest) > 0 {
			t, n, err := tlv.ReadTag(rest)
			if err != nil {
				return GetProfilesInfoRequest{}, fmt.Errorf("rsp: %s: tagList: %w", what, err)
			}
			r.TagList = append(r.TagList, t)
			rest = rest[n:]
		}
	}
	return r, nil
}

// ProfileInfo describes one installed profile (E3).
type ProfileInfo struct {
	ICCID               ICCID
	ISDPAID             []byte
	State               ProfileState
	Nickname            string
	ServiceProviderName string
	ProfileName         string
	IconType            *IconType
	Icon                []byte
	Class               *ProfileClass
	NotificationConfig  []NotificationConfig // B6 { 30 { 80 event, 81 address } ... }
	Owner               *ProfileOwner        // B7
	PolicyRules         []byte               // 99, raw BIT STRING content
	// Present lists the elements that were present when decoded (known tags
	// only, in ASN.1 order), or which to emit when encoding. With a nil
	// Present, Encode emits State and every field that is set (non-empty
	// strings, non-nil slices and pointers).
	Present []tlv.Tag
}

// NotificationConfig says which operations on a profile produce a
// notification, and where it is sent.
type NotificationConfig struct {
	Event   NotificationEvent
	Address string
}

// ProfileOwner identifies the operator owning a profile.
type ProfileOwner struct {
	MCCMNC []byte // 3 bytes, BCD as in EF.IMSI
	GID1   []byte // optional
	GID2   []byte // optional
}

// has reports whether field tag is set, for encoding with a nil Present.
func (p ProfileInfo) has(tag tlv.Tag) bool {
	switch tag {
	case TagICCID:
		return p.ICCID != ""
	case TagISDPAID:
		return p.ISDPAID != nil
	case TagProfileState:
		return true
	case TagNickname:
		return p.Nickname != ""
	case TagServiceProviderName:
		return p.ServiceProviderName != ""
	case TagProfileName:
		return p.ProfileName != ""
	case TagIconType:
		return p.IconType != nil
	case TagIcon:
		return p.Icon != nil
	case TagProfileClass:
		return p.Class != nil
	case TagNotificationConfig:
		return p.NotificationConfig != nil
	case TagProfileOwner:
		return p.Owner != nil
	case TagPolicyRules:
		return p.PolicyRules != nil
	}
	return false
}

// encodable reports whether field tag can be emitted when Present lists it.
func (p ProfileInfo) encodable(tag tlv.Tag) bool {
	switch tag {
	case TagICCID, TagIconType, TagProfileClass, TagProfileOwner:
		return p.has(tag)
	}
	return true
}

func (p ProfileInfo) tlv() tlv.TLV {
	var cs []tlv.TLV
	for _, tag := range profileInfoTags() {
		if p.Present == nil && !p.has(tag) || p.Present != nil && (!slices.Contains(p.Present, tag) || !p.encodable(tag)) {
			continue
		}
		switch tag {
		case TagICCID:
			cs = append(cs, tlv.New(tag, p.ICCID.Encode()))
		case TagISDPAID:
			cs = append(cs, tlv.New(tag, p.ISDPAID))
		case TagProfileState:
			cs = append(cs, intTLV(tag, int(p.State)))
		case TagNickname:
			cs = append(cs, tlv.New(tag, []byte(p.Nickname)))
		case TagServiceProviderName:
			cs = append(cs, tlv.New(tag, []byte(p.ServiceProviderName)))
		case TagProfileName:
			cs = append(cs, tlv.New(tag, []byte(p.ProfileName)))
		case TagIconType:
			cs = append(cs, intTLV(tag, int(*p.IconType)))
		case TagIcon:
			cs = append(cs, tlv.New(tag, p.Icon))
		case TagProfileClass:
			cs = append(cs, intTLV(tag, int(*p.Class)))
		case TagNotificationConfig:
			var ns []tlv.TLV
			for _, n := range p.NotificationConfig {
				ns = append(ns, tlv.NewConstructed(tagSequence,
					tlv.New(0x80, n.Event.bitString()), tlv.New(0x81, []byte(n.Address))))
			}
			cs = append(cs, tlv.NewConstructed(tag, ns...))
		case TagProfileOwner:
			os := []tlv.TLV{tlv.New(0x80, p.Owner.MCCMNC)}
			if p.Owner.GID1 != nil {
				os = append(os, tlv.New(0x81, p.Owner.GID1))
			}
			if p.Owner.GID2 != nil {
				os = append(os, tlv.New(0x82, p.Owner.GID2))
			}
			cs = append(cs, tlv.NewConstructed(tag, os...))
		case TagPolicyRules:
			cs = append(cs, tlv.New(tag, bitsOrEmpty(p.PolicyRules)))
		}
	}
	return tlv.NewConstructed(TagProfileInfo, cs...)
}

// Encode returns the E3 ProfileInfo TLV.
func (p ProfileInfo) Encode() []byte { return p.tlv().Bytes() }

// DecodeProfileInfo decodes one E3 ProfileInfo TLV.
func DecodeProfileInfo(b []byte) (ProfileInfo, error) {
	es, err := open(b, TagProfileInfo, "ProfileInfo")
	if err != nil {
		return ProfileInfo{}, err
	}
	return decodeProfileInfo(es)
}

func decodeProfileInfo(es []elem) (ProfileInfo, error) {
	const what = "ProfileInfo"
	p := ProfileInfo{Present: []tlv.Tag{}}
	seen := make(map[tlv.Tag]bool)
	for _, e := range es {
		if seen[e.tag] {
			continue // the first occurrence counts
		}
		var err error
		switch e.tag {
		case TagICCID:
			p.ICCID, err = fieldICCID(e, what)
		case TagISDPAID:
			p.ISDPAID = bytes.Clone(e.val)
		case TagProfileState:
			var v int
			v, err = fieldInt(e, what)
			p.State = ProfileState(v)
		case TagNickname:
			p.Nickname = string(e.val)
		case TagServiceProviderName:
			p.ServiceProviderName = string(e.val)
		case TagProfileName:
			p.ProfileName = string(e.val)
		case TagIconType:
			var v int
			v, err = fieldInt(e, what)
			it := IconType(v)
			p.IconType = &it
		case TagIcon:
			p.Icon = bytes.Clone(e.val)
		case TagProfileClass:
			var v int
			v, err = fieldInt(e, what)
			pc := ProfileClass(v)
			p.Class = &pc
		case TagNotificationConfig:
			p.NotificationConfig, err = decodeNotificationConfig(e)
		case TagProfileOwner:
			p.Owner, err = decodeProfileOwner(e)
		case TagPolicyRules:
			p.PolicyRules, err = rawBits(e, what)
		default:
			continue // unknown or not modelled (e.g. B8 dpProprietaryData)
		}
		if err != nil {
			return ProfileInfo{}, err
		}
		seen[e.tag] = true
	}
	for _, t := range profileInfoTags() {
		if seen[t] {
			p.Present = append(p.Present, t)
		}
	}
	return p, nil
}

func decodeNotificationConfig(e elem) ([]NotificationConfig, error) {
	const what = "ProfileInfo notificationConfigurationInfo"
	cs, err := e.children()
	if err != nil {
		return nil, fmt.Errorf("rsp: %s: %w", what, err)
	}
	out := []NotificationConfig{}
	for _, c := range cs {
		if c.tag != tagSequence {
			continue
		}
		fs, err := c.children()
		if err != nil {
			return nil, fmt.Errorf("rsp: %s: %w", what, err)
		}
		var n NotificationConfig
		if ev, ok := find(fs, 0x80); ok {
			v, err := fieldBits8(ev, what)
			if err != nil {
				return nil, err
			}
			n.Event = NotificationEvent(v)
		}
		if a, ok := find(fs, 0x81); ok {
			n.Address = string(a.val)
		}
		out = append(out, n)
	}
	return out, nil
}

func decodeProfileOwner(e elem) (*ProfileOwner, error) {
	const what = "ProfileInfo profileOwner"
	cs, err := e.children()
	if err != nil {
		return nil, fmt.Errorf("rsp: %s: %w", what, err)
	}
	m, err := must(cs, 0x80, what)
	if err != nil {
		return nil, err
	}
	o := &ProfileOwner{MCCMNC: bytes.Clone(m.val)}
	if g, ok := find(cs, 0x81); ok {
		o.GID1 = bytes.Clone(g.val)
	}
	if g, ok := find(cs, 0x82); ok {
		o.GID2 = bytes.Clone(g.val)
	}
	return o, nil
}

// GetProfilesInfoResponse is the answer to ES10c.GetProfilesInfo. A non-zero
// Err encodes as BF2D { 81 err } and Profiles is then ignored.
type GetProfilesInfoResponse struct {
	Profiles []ProfileInfo
	Err      ProfileInfoListError
}

// Encode returns BF2D { A0 { E3 ... } } or BF2D { 81 err }.
func (r GetProfilesInfoResponse) Encode() []byte {
	if r.Err != 0 {
		return tlv.NewConstructed(TagProfilesInfo, intTLV(0x81, int(r.Err))).Bytes()
	}
	ps := make([]tlv.TLV, 0, len(r.Profiles))
	for _, p := range r.Profiles {
		ps = append(ps, p.tlv())
	}
	return tlv.NewConstructed(TagProfilesInfo, tlv.NewConstructed(0xA0, ps...)).Bytes()
}

// DecodeGetProfilesInfoResponse decodes the answer to GetProfilesInfo.
// Elements of the list other than E3 are skipped.
func DecodeGetProfilesInfoResponse(b []byte) (GetProfilesInfoResponse, error) {
	const what = "GetProfilesInfo response"
	var r GetProfilesInfoResponse
	es, err := open(b, TagProfilesInfo, what)
	if err != nil {
		return r, err
	}
	if e, ok := find(es, 0x81); ok {
		v, err := fieldInt(e, what)
		if err != nil {
			return r, err
		}
		if r.Err = ProfileInfoListError(v); r.Err != 0 {
			return r, nil
		}
	}
	a0, ok := find(es, 0xA0)
	if !ok {
		return r, fmt.Errorf("rsp: %s: %w: neither profileInfoListOk A0 nor error 81", what, ErrMissingField)
	}
	cs, err := a0.children()
	if err != nil {
		return r, fmt.Errorf("rsp: %s: %w", what, err)
	}
	for _, c := range cs {
		if c.tag != TagProfileInfo {
			continue
		}
		fs, err := c.children()
		if err != nil {
			return GetProfilesInfoResponse{}, fmt.Errorf("rsp: %s: profile %d: %w", what, len(r.Profiles), err)
		}
		p, err := decodeProfileInfo(fs)
		if err != nil {
			return GetProfilesInfoResponse{}, fmt.Errorf("profile %d: %w", len(r.Profiles), err)
		}
		r.Profiles = append(r.Profiles, p)
	}
	return r, nil
}

// ---- EnableProfile (BF31), DisableProfile (BF32), DeleteProfile (BF33) ----

// encodeSwitch returns tag { A0 { 4F | 5A }, 81 refreshFlag }.
func encodeSwitch(tag tlv.Tag, id ProfileID, refresh bool) []byte {
	return tlv.NewConstructed(tag, tlv.NewConstructed(0xA0, id.tlv()), boolTLV(0x81, refresh)).Bytes()
}

// decodeSwitch decodes Enable/Disable requests; a bare 4F/5A is accepted
// and a missing refreshFlag means false.
func decodeSwitch(b []byte, tag tlv.Tag, what string) (ProfileID, bool, error) {
	es, err := open(b, tag, what)
	if err != nil {
		return ProfileID{}, false, err
	}
	inner := es
	if a0, ok := find(es, 0xA0); ok {
		if inner, err = a0.children(); err != nil {
			return ProfileID{}, false, fmt.Errorf("rsp: %s: %w", what, err)
		}
	}
	id, ok, err := decodeProfileID(inner, what)
	if err != nil {
		return ProfileID{}, false, err
	}
	if !ok {
		return ProfileID{}, false, fmt.Errorf("rsp: %s: %w: profileIdentification 4F or 5A", what, ErrMissingField)
	}
	refresh := false
	if e, ok := find(es, 0x81); ok {
		if refresh, err = decBool(e.val); err != nil {
			return ProfileID{}, false, fmt.Errorf("rsp: %s: refreshFlag: %w", what, err)
		}
	}
	return id, refresh, nil
}

// encodeResult returns tag { 80 result }.
func encodeResult(tag tlv.Tag, v int) []byte {
	return tlv.NewConstructed(tag, intTLV(0x80, v)).Bytes()
}

// decodeResult decodes tag { 80 result }.
func decodeResult(b []byte, tag tlv.Tag, what string) (int, error) {
	es, err := open(b, tag, what)
	if err != nil {
		return 0, err
	}
	return mustInt(es, 0x80, what)
}

// EnableProfileRequest is ES10c.EnableProfile.
type EnableProfileRequest struct {
	ID      ProfileID
	Refresh bool
}

// Encode returns BF31 { A0 { 4F | 5A }, 81 refreshFlag }.
func (r EnableProfileRequest) Encode() []byte { return encodeSwitch(TagEnable, r.ID, r.Refresh) }

// DecodeEnableProfileRequest decodes an EnableProfile request.
func DecodeEnableProfileRequest(b []byte) (EnableProfileRequest, error) {
	id, refresh, err := decodeSwitch(b, TagEnable, "EnableProfile request")
	if err != nil {
		return EnableProfileRequest{}, err
	}
	return EnableProfileRequest{ID: id, Refresh: refresh}, nil
}

// EnableProfileResponse is the answer to ES10c.EnableProfile.
type EnableProfileResponse struct{ Result EnableResult }

// Encode returns BF31 { 80 result }.
func (r EnableProfileResponse) Encode() []byte { return encodeResult(TagEnable, int(r.Result)) }

// DecodeEnableProfileResponse decodes BF31 { 80 result }.
func DecodeEnableProfileResponse(b []byte) (EnableProfileResponse, error) {
	v, err := decodeResult(b, TagEnable, "EnableProfile response")
	return EnableProfileResponse{Result: EnableResult(v)}, err
}

// DisableProfileRequest is ES10c.DisableProfile.
type DisableProfileRequest struct {
	ID      ProfileID
	Refresh bool
}

// Encode returns BF32 { A0 { 4F | 5A }, 81 refreshFlag }.
func (r DisableProfileRequest) Encode() []byte { return encodeSwitch(TagDisable, r.ID, r.Refresh) }

// DecodeDisableProfileRequest decodes a DisableProfile request.
func DecodeDisableProfileRequest(b []byte) (DisableProfileRequest, error) {
	id, refresh, err := decodeSwitch(b, TagDisable, "DisableProfile request")
	if err != nil {
		return DisableProfileRequest{}, err
	}
	return DisableProfileRequest{ID: id, Refresh: refresh}, nil
}

// DisableProfileResponse is the answer to ES10c.DisableProfile.
type DisableProfileResponse struct{ Result DisableResult }

// Encode returns BF32 { 80 result }.
func (r DisableProfileResponse) Encode() []byte { return encodeResult(TagDisable, int(r.Result)) }

// DecodeDisableProfileResponse decodes BF32 { 80 result }.
func DecodeDisableProfileResponse(b []byte) (DisableProfileResponse, error) {
	v, err := decodeResult(b, TagDisable, "DisableProfile response")
	return DisableProfileResponse{Result: DisableResult(v)}, err
}

// DeleteProfileRequest is ES10c.DeleteProfile.
type DeleteProfileRequest struct {
	ID ProfileID
}

// Encode returns BF33 { 4F | 5A } (the request itself is the CHOICE).
func (r DeleteProfileRequest) Encode() []byte {
	return tlv.NewConstructed(TagDelete, r.ID.tlv()).Bytes()
}

// DecodeDeleteProfileRequest decodes a DeleteProfile request; an A0 wrapper
// as in EnableProfile is accepted too.
func DecodeDeleteProfileRequest(b []byte) (DeleteProfileRequest, error) {
	const what = "DeleteProfile request"
	es, err := open(b, TagDelete, what)
	if err != nil {
		return DeleteProfileRequest{}, err
	}
	id, ok, err := decodeProfileID(es, what)
	if err != nil {
		return DeleteProfileRequest{}, err
	}
	if !ok {
		if a0, found := find(es, 0xA0); found {
			inner, err := a0.children()
			if err != nil {
				return DeleteProfileRequest{}, fmt.Errorf("rsp: %s: %w", what, err)
			}
			if id, ok, err = decodeProfileID(inner, what); err != nil {
				return DeleteProfileRequest{}, err
			}
		}
	}
	if !ok {
		return DeleteProfileRequest{}, fmt.Errorf("rsp: %s: %w: 4F or 5A", what, ErrMissingField)
	}
	return DeleteProfileRequest{ID: id}, nil
}

// DeleteProfileResponse is the answer to ES10c.DeleteProfile.
type DeleteProfileResponse struct{ Result DeleteResult }

// Encode returns BF33 { 80 result }.
func (r DeleteProfileResponse) Encode() []byte { return encodeResult(TagDelete, int(r.Result)) }

// DecodeDeleteProfileResponse decodes BF33 { 80 result }.
func DecodeDeleteProfileResponse(b []byte) (DeleteProfileResponse, error) {
	v, err := decodeResult(b, TagDelete, "DeleteProfile response")
	return DeleteProfileResponse{Result: DeleteResult(v)}, err
}

// ---- SetNickname (BF29) ----

// SetNicknameRequest is ES10c.SetNickname.
type SetNicknameRequest struct {
	ICCID    ICCID
	Nickname string
}

// Validate refuses a nickname longer than MaxNicknameLen bytes or not UTF-8.
func (r SetNicknameRequest) Validate() error {
	return checkNickname(r.Nickname)
}

func checkNickname(s string) error {
	if len(s) > MaxNicknameLen {
		return fmt.Errorf("%w: nickname is %d bytes, at most %d allowed", ErrMalformed, len(s), MaxNicknameLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: nickname is not valid UTF-8", ErrMalformed)
	}
	return nil
}

// Encode returns BF29 { 5A iccid, 90 nickname }. Encode cannot fail: a
// nickname longer than MaxNicknameLen bytes is cut at the last whole UTF-8
// character that fits; call Validate first to refuse it instead.
func (r SetNicknameRequest) Encode() []byte {
	n := r.Nickname
	if len(n) > MaxNicknameLen {
		cut := MaxNicknameLen
		for cut > 0 && !utf8.RuneStart(n[cut]) {
			cut--
		}
		n = n[:cut]
	}
	return tlv.NewConstructed(TagSetNickname,
		tlv.New(tagICCID, r.ICCID.Encode()), tlv.New(TagNickname, []byte(n))).Bytes()
}

// DecodeSetNicknameRequest decodes a SetNickname request and refuses a
// nickname over MaxNicknameLen bytes or not UTF-8.
func DecodeSetNicknameRequest(b []byte) (SetNicknameRequest, error) {
	const what = "SetNickname request"
	es, err := open(b, TagSetNickname, what)
	if err != nil {
		return SetNicknameRequest{}, err
	}
	ie, err := must(es, tagICCID, what)
	if err != nil {
		return SetNicknameRequest{}, err
	}
	id, err := fieldICCID(ie, what)
	if err != nil {
		return SetNicknameRequest{}, err
	}
	ne, err := must(es, TagNickname, what)
	if err != nil {
		return SetNicknameRequest{}, err
	}
	if err := checkNickname(string(ne.val)); err != nil {
		return SetNicknameRequest{}, fmt.Errorf("rsp: %s: %w", what, err)
	}
	return SetNicknameRequest{ICCID: id, Nickname: string(ne.val)}, nil
}

// SetNicknameResponse is the answer to ES10c.SetNickname.
type SetNicknameResponse struct{ Result SetNicknameResult }

// Encode returns BF29 { 80 result }.
func (r SetNicknameResponse) Encode() []byte { return encodeResult(TagSetNickname, int(r.Result)) }

// DecodeSetNicknameResponse decodes BF29 { 80 result }.
func DecodeSetNicknameResponse(b []byte) (SetNicknameResponse, error) {
	v, err := decodeResult(b, TagSetNickname, "SetNickname response")
	return SetNicknameResponse{Result: SetNicknameResult(v)}, err
}

// ---- eUICCMemoryReset (BF34) ----

// MemoryResetRequest is ES10c.eUICCMemoryReset.
type MemoryResetRequest struct {
	Options ResetOptions
}

// Encode returns BF34 { 82 resetOptions }, e.g. 82 02 05 E0 for all three.
func (r MemoryResetRequest) Encode() []byte {
	return tlv.NewConstructed(TagMemoryReset, tlv.New(0x82, encBits8(uint8(r.Options)))).Bytes()
}

// DecodeMemoryResetRequest decodes an eUICCMemoryReset request.
func DecodeMemoryResetRequest(b []byte) (MemoryResetRequest, error) {
	const what = "eUICCMemoryReset request"
	es, err := open(b, TagMemoryReset, what)
	if err != nil {
		return MemoryResetRequest{}, err
	}
	e, err := must(es, 0x82, what)
	if err != nil {
		return MemoryResetRequest{}, err
	}
	v, err := fieldBits8(e, what)
	return MemoryResetRequest{Options: ResetOptions(v)}, err
}

// MemoryResetResponse is the answer to ES10c.eUICCMemoryReset.
type MemoryResetResponse struct{ Result MemoryResetResult }

// Encode returns BF34 { 80 result }.
func (r MemoryResetResponse) Encode() []byte { return encodeResult(TagMemoryReset, int(r.Result)) }

// DecodeMemoryResetResponse decodes BF34 { 80 result }.
func DecodeMemoryResetResponse(b []byte) (MemoryResetResponse, error) {
	v, err := decodeResult(b, TagMemoryReset, "eUICCMemoryReset response")
	return MemoryResetResponse{Result: MemoryResetResult(v)}, err
}
