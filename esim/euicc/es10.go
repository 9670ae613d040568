package euicc

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/tlv"
)

// es10Result is the outcome of one ES10 command: response data with 9000,
// or a bare status word; reset asks for a card reset once the response has
// been delivered.
type es10Result struct {
	data  []byte
	sw    uint16
	reset bool
}

func ok(data []byte) es10Result { return es10Result{data: data, sw: apdu.SWOK} }

func status(sw uint16) es10Result { return es10Result{sw: sw} }

// Simulated resources announced in EUICCInfo2.
const (
	nvmCapacity = 1 << 20 // bytes of NVM for profiles
	profileNVM  = 24 << 10
	freeRAM     = 64 << 10
)

// challengeLen is the length of the eUICC challenge (GetEUICCChallenge).
const challengeLen = 16

// errNothingToDelete aborts a memory reset that would change nothing.
var errNothingToDelete = errors.New("euicc: nothing to delete")

// es10 decodes one reassembled ES10 request and runs the function.
func (c *Card) es10(req []byte) es10Result {
	if tag, err := rsp.RequestTag(req); err == nil && c.isBPPTransfer(tag) {
		return c.loadBPP(req)
	}
	if _, err := tlv.DecodeOne(req); err != nil {
		c.log.Debug("ES10 request is not one TLV", "len", len(req), "err", err)
		return status(apdu.SWWrongData)
	}
	tag, err := rsp.RequestTag(req)
	if err != nil {
		return status(apdu.SWWrongData)
	}
	var r es10Result
	switch tag {
	case rsp.TagGetEID:
		r, err = c.getEID(req)
	case rsp.TagEUICCInfo1:
		r, err = c.getEUICCInfo1(req)
	case rsp.TagEUICCInfo2:
		r, err = c.getEUICCInfo2(req)
	case rsp.TagGetEUICCChallenge:
		r, err = c.getEUICCChallenge(req)
	case rsp.TagProfilesInfo:
		r, err = c.getProfilesInfo(req)
	case rsp.TagEnable:
		r, err = c.enableProfile(req)
	case rsp.TagDisable:
		r, err = c.disableProfile(req)
	case rsp.TagDelete:
		r, err = c.deleteProfile(req)
	case rsp.TagSetNickname:
		r, err = c.setNickname(req)
	case rsp.TagMemoryReset:
		r, err = c.memoryReset(req)
	case rsp.TagConfiguredAddresses:
		r, err = c.getConfiguredAddresses(req)
	case rsp.TagSetDefaultDP:
		r, err = c.setDefaultDPAddress(req)
	case rsp.TagListNotification:
		r, err = c.listNotification(req)
	case rsp.TagRetrieveNotifications:
		r, err = c.retrieveNotifications(req)
	case rsp.TagNotificationSent:
		r, err = c.notificationSent(req)
	case rsp.TagAuthenticateServer:
		r, err = c.authenticateServer(req)
	case rsp.TagPrepareDownload:
		r, err = c.prepareDownload(req)
	case rsp.TagCancelSession:
		r, err = c.cancelSession(req)
	default:
		c.log.Debug("unsupported ES10 function", "tag", tag, "name", rsp.FunctionName(tag))
		return status(apdu.SWWrongData)
	}
	if err != nil {
		c.log.Debug("undecodable ES10 request", "function", rsp.FunctionName(tag), "err", err)
		return status(apdu.SWWrongData)
	}
	return r
}

// shortID shortens an identifier for logs.
func shortID(s string) string {
	if len(s) <= 4 {
		return s
	}
	return "…" + s[len(s)-4:]
}

func (c *Card) getEID(req []byte) (es10Result, error) {
	if _, err := rsp.DecodeGetEIDRequest(req); err != nil {
		return es10Result{}, err
	}
	return ok(rsp.GetEIDResponse{EID: rsp.EID(c.st.EID)}.Encode()), nil
}

func (c *Card) ciPKIDs() [][]byte {
	out := make([][]byte, len(c.creds.CIPKIDs))
	for i, id := range c.creds.CIPKIDs {
		out[i] = bytes.Clone(id)
	}
	return out
}

func (c *Card) getEUICCInfo1(req []byte) (es10Result, error) {
	if _, err := rsp.DecodeGetEUICCInfo1Request(req); err != nil {
		return es10Result{}, err
	}
	info := rsp.EUICCInfo1{SVN: c.svn, CIPKIDsForVerification: c.ciPKIDs(), CIPKIDsForSigning: c.ciPKIDs()}
	return ok(info.Encode()), nil
}

// bitString returns DER BIT STRING content (unused-bits byte first) with
// the given bit numbers set, bit 0 being the most significant bit of the
// first byte.
func bitString(bits ...int) []byte {
	top := -1
	for _, b := range bits {
		top = max(top, b)
	}
	if top < 0 {
		return []byte{0}
	}
	n := top/8 + 1
	out := make([]byte, 1+n)
	out[0] = byte(8*n - (top + 1))
	for _, b := range bits {
		out[1+b/8] |= 0x80 >> (b % 8)
	}
	return out
}

// freeNVM estimates the free profile memory: a fixed capacity minus a base
// cost per installed profile plus its stored content and icon.
func (s *state) freeNVM() int64 {
	used := 0
	for _, p := range s.Profiles {
		used += profileNVM + len(p.Content) + len(p.Icon)
	}
	return int64(max(0, nvmCapacity-used))
}

func (c *Card) euiccInfo2() rsp.EUICCInfo2 {
	ts102241 := rsp.Version{9, 2, 0}
	gp := rsp.Version{2, 3, 0}
	category := 1 // basicEuicc
	return rsp.EUICCInfo2{
		ProfileVersion:  rsp.Version{2, 3, 1},
		SVN:             c.svn,
		FirmwareVersion: rsp.Version{1, 0, 0},
		ExtCardResource: rsp.ExtCardResource{
			InstalledApplications: len(c.st.Profiles),
			FreeNVM:               c.st.freeNVM(),
			FreeRAM:               freeRAM,
		},
		// usim, isim, milenage, javacard, berTlv
		UICCCapability:        bitString(1, 2, 4, 14, 19),
		TS102241Version:       &ts102241,
		GlobalPlatformVersion: &gp,
		// additionalProfile, testProfileSupport
		RSPCapability:          bitString(0, 3),
		CIPKIDsForVerification: c.ciPKIDs(),
		CIPKIDsForSigning:      c.ciPKIDs(),
		Category:               &category,
		PPVersion:              rsp.Version{0, 0, 1},
		SASAccreditationNumber: "MOBILEPLANS-SIMULATOR",
	}
}

func (c *Card) getEUICCInfo2(req []byte) (es10Result, error) {
	if _, err := rsp.DecodeGetEUICCInfo2Request(req); err != nil {
		return es10Result{}, err
	}
	return ok(c.euiccInfo2().Encode()), nil
}

// getEUICCChallenge answers BF2E with 16 fresh random bytes and remembers
// them for the authentication that follows.
func (c *Card) getEUICCChallenge(req []byte) (es10Result, error) {
	t, err := tlv.DecodeOne(req)
	if err != nil {
		return es10Result{}, err
	}
	if t.Tag != rsp.TagGetEUICCChallenge {
		return es10Result{}, fmt.Errorf("euicc: GetEUICCChallenge request has tag %s", t.Tag)
	}
	ch := make([]byte, challengeLen)
	if _, err := io.ReadFull(c.rand, ch); err != nil {
		c.log.Error("no randomness for the eUICC challenge", "err", err)
		return status(apdu.SWNoPreciseDiagnosis), nil
	}
	c.challenge = ch
	return ok(tlv.NewConstructed(rsp.TagGetEUICCChallenge, tlv.New(0x80, ch)).Bytes()), nil
}

// info converts a stored profile to its ProfileInfo.
func (p *storedProfile) info() rsp.ProfileInfo {
	pi := rsp.ProfileInfo{
		ICCID:               rsp.ICCID(p.ICCID),
		ISDPAID:             bytes.Clone(p.ISDPAID),
		State:               rsp.ProfileDisabled,
		Nickname:            p.Nickname,
		ServiceProviderName: p.ServiceProviderName,
		ProfileName:         p.ProfileName,
		Icon:                cloneBytes(p.Icon),
		PolicyRules:         cloneBytes(p.PolicyRules),
	}
	if p.Enabled {
		pi.State = rsp.ProfileEnabled
	}
	if p.IconType != nil {
		t := rsp.IconType(*p.IconType)
		pi.IconType = &t
	}
	class := rsp.ProfileClass(p.Class)
	pi.Class = &class
	for _, nc := range p.NotificationConfig {
		pi.NotificationConfig = append(pi.NotificationConfig, rsp.NotificationConfig{Event: rsp.NotificationEvent(nc.Events), Address: nc.Address})
	}
	if p.Owner != nil {
		pi.Owner = &rsp.ProfileOwner{MCCMNC: cloneBytes(p.Owner.MCCMNC), GID1: cloneBytes(p.Owner.GID1), GID2: cloneBytes(p.Owner.GID2)}
	}
	return pi
}

func (c *Card) getProfilesInfo(req []byte) (es10Result, error) {
	r, err := rsp.DecodeGetProfilesInfoRequest(req)
	if err != nil {
		return es10Result{}, err
	}
	if r.SearchAID != nil && (len(r.SearchAID) < 5 || len(r.SearchAID) > 16) ||
		r.SearchClass != nil && (*r.SearchClass < rsp.ProfileClassTest || *r.SearchClass > rsp.ProfileClassOperational) {
		return ok(rsp.GetProfilesInfoResponse{Err: rsp.ProfileInfoListIncorrectInputValues}.Encode()), nil
	}
	resp := rsp.GetProfilesInfoResponse{Profiles: []rsp.ProfileInfo{}}
	for i := range c.st.Profiles {
		p := &c.st.Profiles[i]
		switch {
		case r.SearchAID != nil && !bytes.Equal(p.ISDPAID, r.SearchAID),
			r.SearchAID == nil && r.SearchICCID != "" && p.ICCID != string(r.SearchICCID),
			r.SearchAID == nil && r.SearchICCID == "" && r.SearchClass != nil && p.Class != int(*r.SearchClass):
			continue
		}
		pi := p.info()
		if len(r.TagList) > 0 {
			pi.Present = r.TagList
		}
		resp.Profiles = append(resp.Profiles, pi)
	}
	return ok(resp.Encode()), nil
}

// notificationAddress returns the address configured for event, if any.
func (p *storedProfile) notificationAddress(ev rsp.NotificationEvent) (string, bool) {
	for _, nc := range p.NotificationConfig {
		if rsp.NotificationEvent(nc.Events)&ev != 0 {
			return nc.Address, true
		}
	}
	return "", false
}

// notify appends a signed notification for event on profile p to st when
// the profile's metadata asks for one.
func (c *Card) notify(st *state, p *storedProfile, ev rsp.NotificationEvent) error {
	addr, want := p.notificationAddress(ev)
	if !want {
		return nil
	}
	n := rsp.OtherSignedNotification{
		TBS:              rsp.NotificationMetadata{Seq: st.NextSeq, Event: ev, Address: addr, ICCID: rsp.ICCID(p.ICCID)},
		EUICCCertificate: c.creds.EUICCCert,
		EUMCertificate:   c.creds.EUMCert,
	}
	sig, err := signPlain(c.creds.Key, c.rand, n.TBSBytes())
	if err != nil {
		return err
	}
	n.Signature = sig
	st.Notifications = append(st.Notifications, storedNotification{
		Seq: st.NextSeq, Event: uint8(ev), Address: addr, ICCID: p.ICCID, Raw: n.Encode(),
	})
	c.log.Debug("notification created", "seq", st.NextSeq, "event", ev, "iccid", shortID(p.ICCID))
	st.NextSeq++
	return nil
}

func (c *Card) enableProfile(req []byte) (es10Result, error) {
	r, err := rsp.DecodeEnableProfileRequest(req)
	if err != nil {
		return es10Result{}, err
	}
	answer := func(res rsp.EnableResult) es10Result {
		return ok(rsp.EnableProfileResponse{Result: res}.Encode())
	}
	i := c.st.find(r.ID)
	if i < 0 {
		return answer(rsp.EnableICCIDOrAIDNotFound), nil
	}
	if c.st.Profiles[i].Enabled {
		return answer(rsp.EnableProfileNotInDisabledState), nil
	}
	err = c.mutate(func(st *state) error {
		if cur := st.enabled(); cur >= 0 {
			st.Profiles[cur].Enabled = false
			if err := c.notify(st, &st.Profiles[cur], rsp.EventDisable); err != nil {
				return err
			}
		}
		st.Profiles[i].Enabled = true
		return c.notify(st, &st.Profiles[i], rsp.EventEnable)
	})
	if err != nil {
		return answer(rsp.EnableUndefinedError), nil
	}
	c.log.Info("profile enabled", "iccid", shortID(c.st.Profiles[i].ICCID), "refresh", r.Refresh)
	res := answer(rsp.EnableOK)
	res.reset = r.Refresh
	return res, nil
}

func (c *Card) disableProfile(req []byte) (es10Result, error) {
	r, err := rsp.DecodeDisableProfileRequest(req)
	if err != nil {
		return es10Result{}, err
	}
	answer := func(res rsp.DisableResult) es10Result {
		return ok(rsp.DisableProfileResponse{Result: res}.Encode())
	}
	i := c.st.find(r.ID)
	if i < 0 {
		return answer(rsp.DisableICCIDOrAIDNotFound), nil
	}
	if !c.st.Profiles[i].Enabled {
		return answer(rsp.DisableProfileNotInEnabledState), nil
	}
	err = c.mutate(func(st *state) error {
		st.Profiles[i].Enabled = false
		return c.notify(st, &st.Profiles[i], rsp.EventDisable)
	})
	if err != nil {
		return answer(rsp.DisableUndefinedError), nil
	}
	c.log.Info("profile disabled", "iccid", shortID(c.st.Profiles[i].ICCID), "refresh", r.Refresh)
	res := answer(rsp.DisableOK)
	res.reset = r.Refresh
	return res, nil
}

func (c *Card) deleteProfile(req []byte) (es10Result, error) {
	r, err := rsp.DecodeDeleteProfileRequest(req)
	if err != nil {
		return es10Result{}, err
	}
	answer := func(res rsp.DeleteResult) es10Result {
		return ok(rsp.DeleteProfileResponse{Result: res}.Encode())
	}
	i := c.st.find(r.ID)
	if i < 0 {
		return answer(rsp.DeleteICCIDOrAIDNotFound), nil
	}
	if c.st.Profiles[i].Enabled {
		return answer(rsp.DeleteProfileNotInDisabledState), nil
	}
	iccid := c.st.Profiles[i].ICCID
	err = c.mutate(func(st *state) error {
		if err := c.notify(st, &st.Profiles[i], rsp.EventDelete); err != nil {
			return err
		}
		st.Profiles = append(st.Profiles[:i], st.Profiles[i+1:]...)
		return nil
	})
	if err != nil {
		return answer(rsp.DeleteUndefinedError), nil
	}
	c.log.Info("profile deleted", "iccid", shortID(iccid))
	return answer(rsp.DeleteOK), nil
}

func (c *Card) setNickname(req []byte) (es10Result, error) {
	r, err := rsp.DecodeSetNicknameRequest(req)
	if err != nil {
		return es10Result{}, err
	}
	answer := func(res rsp.SetNicknameResult) es10Result {
		return ok(rsp.SetNicknameResponse{Result: res}.Encode())
	}
	i := c.st.byICCID(r.ICCID)
	if i < 0 {
		return answer(rsp.SetNicknameICCIDNotFound), nil
	}
	if len(r.Nickname) > rsp.MaxNicknameLen {
		return es10Result{}, fmt.Errorf("euicc: nickname of %d bytes", len(r.Nickname))
	}
	if c.st.Profiles[i].Nickname != r.Nickname {
		err = c.mutate(func(st *state) error {
			st.Profiles[i].Nickname = r.Nickname
			return nil
		})
		if err != nil {
			return answer(rsp.SetNicknameUndefinedError), nil
		}
	}
	return answer(rsp.SetNicknameOK), nil
}

// memoryReset implements eUICCMemoryReset. Deleting profiles this way
// creates no notifications. If the enabled profile is deleted the card
// resets itself after the response.
func (c *Card) memoryReset(req []byte) (es10Result, error) {
	r, err := rsp.DecodeMemoryResetRequest(req)
	if err != nil {
		return es10Result{}, err
	}
	answer := func(res rsp.MemoryResetResult) es10Result {
		return ok(rsp.MemoryResetResponse{Result: res}.Encode())
	}
	deletedEnabled := false
	deleted := 0
	err = c.mutate(func(st *state) error {
		changed := false
		kept := st.Profiles[:0]
		for _, p := range st.Profiles {
			del := r.Options&rsp.ResetDeleteOperational != 0 && p.Class == int(rsp.ProfileClassOperational) ||
				r.Options&rsp.ResetDeleteFieldLoadedTest != 0 && p.Class == int(rsp.ProfileClassTest) && !p.Preloaded
			if !del {
				kept = append(kept, p)
				continue
			}
			changed = true
			deleted++
			if p.Enabled {
				deletedEnabled = true
			}
		}
		st.Profiles = kept
		if r.Options&rsp.ResetDefaultSMDP != 0 && st.DefaultDPAddress != "" {
			st.DefaultDPAddress = ""
			changed = true
		}
		if !changed {
			return errNothingToDelete
		}
		return nil
	})
	switch {
	case errors.Is(err, errNothingToDelete):
		return answer(rsp.MemoryResetNothingToDelete), nil
	case err != nil:
		return answer(rsp.MemoryResetUndefinedError), nil
	}
	c.log.Info("eUICC memory reset", "options", r.Options, "profilesDeleted", deleted)
	res := answer(rsp.MemoryResetOK)
	res.reset = deletedEnabled
	return res, nil
}

func (c *Card) getConfiguredAddresses(req []byte) (es10Result, error) {
	if _, err := rsp.DecodeGetConfiguredAddressesRequest(req); err != nil {
		return es10Result{}, err
	}
	return ok(rsp.ConfiguredAddresses{DefaultDPAddress: c.st.DefaultDPAddress, RootDSAddress: c.st.RootDSAddress}.Encode()), nil
}

func (c *Card) setDefaultDPAddress(req []byte) (es10Result, error) {
	r, err := rsp.DecodeSetDefaultDPAddressRequest(req)
	if err != nil {
		return es10Result{}, err
	}
	err = c.mutate(func(st *state) error {
		st.DefaultDPAddress = r.Address
		return nil
	})
	res := rsp.SetDefaultDPAddressOK
	if err != nil {
		res = rsp.SetDefaultDPAddressUndefinedError
	}
	return ok(rsp.SetDefaultDPAddressResponse{Result: res}.Encode()), nil
}

func (n *storedNotification) metadata() rsp.NotificationMetadata {
	return rsp.NotificationMetadata{Seq: n.Seq, Event: rsp.NotificationEvent(n.Event), Address: n.Address, ICCID: rsp.ICCID(n.ICCID)}
}

// matches reports whether the notification's event is in the filter (0 =
// no filter).
func (n *storedNotification) matches(events rsp.NotificationEvent) bool {
	return events == 0 || rsp.NotificationEvent(n.Event)&events != 0
}

func (c *Card) listNotification(req []byte) (es10Result, error) {
	r, err := rsp.DecodeListNotificationRequest(req)
	if err != nil {
		return es10Result{}, err
	}
	resp := rsp.ListNotificationResponse{Notifications: []rsp.NotificationMetadata{}}
	for i := range c.st.Notifications {
		if n := &c.st.Notifications[i]; n.matches(r.Events) {
			resp.Notifications = append(resp.Notifications, n.metadata())
		}
	}
	return ok(resp.Encode()), nil
}

func (c *Card) retrieveNotifications(req []byte) (es10Result, error) {
	r, err := rsp.DecodeRetrieveNotificationsListRequest(req)
	if err != nil {
		return es10Result{}, err
	}
	resp := rsp.RetrieveNotificationsListResponse{Notifications: []rsp.PendingNotification{}}
	for i := range c.st.Notifications {
		n := &c.st.Notifications[i]
		if r.Seq != nil && n.Seq != *r.Seq || r.Seq == nil && !n.matches(r.Events) {
			continue
		}
		resp.Notifications = append(resp.Notifications, rsp.PendingNotification{Raw: bytes.Clone(n.Raw), Metadata: n.metadata()})
	}
	if r.Seq != nil && len(resp.Notifications) == 0 {
		resp = rsp.RetrieveNotificationsListResponse{Err: rsp.RetrieveNotificationNoResultAvailable}
	}
	return ok(resp.Encode()), nil
}

func (c *Card) notificationSent(req []byte) (es10Result, error) {
	r, err := rsp.DecodeNotificationSentRequest(req)
	if err != nil {
		return es10Result{}, err
	}
	answer := func(res rsp.NotificationSentResult) es10Result {
		return ok(rsp.NotificationSentResponse{Result: res}.Encode())
	}
	idx := -1
	for i, n := range c.st.Notifications {
		if n.Seq == r.Seq {
			idx = i
			break
		}
	}
	if idx < 0 {
		return answer(rsp.NotificationSentNothingToDelete), nil
	}
	err = c.mutate(func(st *state) error {
		st.Notifications = append(st.Notifications[:idx], st.Notifications[idx+1:]...)
		return nil
	})
	if err != nil {
		return answer(rsp.NotificationSentUndefinedError), nil
	}
	c.log.Debug("notification removed", "seq", r.Seq)
	return answer(rsp.NotificationSentOK), nil
}
