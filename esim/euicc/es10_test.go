package euicc

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/tlv"
)

func TestGetEIDAndInfo(t *testing.T) {
	for _, svn := range []rsp.Version{{}, {2, 5, 0}} {
		t.Run("svn "+svn.String(), func(t *testing.T) {
			c, _ := openTest(t, Options{SVN: svn})
			l := openISDR(t, c)
			wantSVN := svn
			if svn == (rsp.Version{}) {
				wantSVN = rsp.Version{2, 2, 2}
			}

			eid, err := rsp.DecodeGetEIDResponse(l.do(rsp.GetEIDRequest{}.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			if eid.EID != c.EID() || !strings.HasPrefix(string(eid.EID), testEIN) {
				t.Fatalf("EID %s, card says %s", eid.EID, c.EID())
			}
			if _, err := rsp.ParseEID(string(eid.EID)); err != nil {
				t.Fatalf("EID: %v", err)
			}

			cert, err := x509.ParseCertificate(c.creds.EUMCert)
			if err != nil {
				t.Fatal(err)
			}
			wantIDs := [][]byte{cert.SubjectKeyId}

			i1, err := rsp.DecodeEUICCInfo1(l.do(rsp.GetEUICCInfo1Request{}.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			if i1.SVN != wantSVN || !equalIDs(i1.CIPKIDsForSigning, wantIDs) || !equalIDs(i1.CIPKIDsForVerification, wantIDs) {
				t.Fatalf("EUICCInfo1 %+v, want SVN %v and CI %X", i1, wantSVN, wantIDs)
			}

			i2, err := rsp.DecodeEUICCInfo2(l.do(rsp.GetEUICCInfo2Request{}.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			if i2.SVN != wantSVN || !equalIDs(i2.CIPKIDsForSigning, wantIDs) || !equalIDs(i2.CIPKIDsForVerification, wantIDs) {
				t.Fatalf("EUICCInfo2 %+v", i2)
			}
			if i2.ExtCardResource.InstalledApplications != 2 || i2.ExtCardResource.FreeNVM != nvmCapacity-2*profileNVM || i2.ExtCardResource.FreeRAM <= 0 {
				t.Fatalf("ExtCardResource %+v", i2.ExtCardResource)
			}
			if len(i2.UICCCapability) == 0 || len(i2.RSPCapability) == 0 || i2.SASAccreditationNumber == "" {
				t.Fatalf("EUICCInfo2 lacks mandatory fields: %+v", i2)
			}

			// Free NVM follows the stored profiles.
			_, b := seeded(t, c)
			if r := l.delete(byICCID(b)); r != rsp.DeleteOK {
				t.Fatalf("delete: %v", r)
			}
			addBigProfile(t, c, "89444765000000000016", rsp.ProfileClassTest, false)
			i2, err = rsp.DecodeEUICCInfo2(l.do(rsp.GetEUICCInfo2Request{}.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			if want := int64(nvmCapacity - 2*profileNVM - 600); i2.ExtCardResource.FreeNVM != want {
				t.Fatalf("free NVM %d, want %d", i2.ExtCardResource.FreeNVM, want)
			}
		})
	}
}

func equalIDs(a, b [][]byte) bool {
	return slices.EqualFunc(a, b, bytes.Equal)
}

func TestBitString(t *testing.T) {
	tests := []struct {
		bits []int
		want []byte
	}{
		{nil, []byte{0}},
		{[]int{0}, []byte{7, 0x80}},
		{[]int{0, 3}, []byte{4, 0x90}},
		{[]int{7}, []byte{0, 0x01}},
		{[]int{1, 2, 4, 14, 19}, []byte{4, 0x68, 0x02, 0x10}},
	}
	for _, tt := range tests {
		if got := bitString(tt.bits...); !bytes.Equal(got, tt.want) {
			t.Errorf("bitString(%v) = %X, want %X", tt.bits, got, tt.want)
		}
	}
}

func TestGetEUICCChallenge(t *testing.T) {
	c, _ := openTest(t, Options{})
	l := openISDR(t, c)
	req := tlv.NewConstructed(rsp.TagGetEUICCChallenge).Bytes()
	var seen [][]byte
	for range 3 {
		r, err := tlv.DecodeOne(l.do(req))
		if err != nil || r.Tag != rsp.TagGetEUICCChallenge {
			t.Fatalf("response %v %v", r, err)
		}
		ch, err := r.Must(0x80)
		if err != nil || len(ch.Value) != challengeLen {
			t.Fatalf("challenge %X %v", ch.Value, err)
		}
		if !bytes.Equal(c.challenge, ch.Value) {
			t.Fatalf("card remembers %X, answered %X", c.challenge, ch.Value)
		}
		for _, s := range seen {
			if bytes.Equal(s, ch.Value) {
				t.Fatalf("challenge %X repeated", s)
			}
		}
		seen = append(seen, ch.Value)
	}
}

func TestGetProfilesInfo(t *testing.T) {
	c, _ := openTest(t, Options{})
	l := openISDR(t, c)
	a, b := seeded(t, c)
	all := l.profiles(rsp.GetProfilesInfoRequest{})
	if len(all) != 2 {
		t.Fatalf("%d profiles", len(all))
	}
	p := all[0]
	if p.ICCID != a || p.State != rsp.ProfileEnabled || p.ServiceProviderName != "Contoso Cellular Test" ||
		p.Class == nil || *p.Class != rsp.ProfileClassOperational || p.Owner == nil ||
		!bytes.Equal(p.Owner.MCCMNC, []byte{0x00, 0xF1, 0x10}) || len(p.NotificationConfig) != 3 {
		t.Fatalf("first profile %+v", p)
	}
	for _, nc := range p.NotificationConfig {
		if nc.Address != "smdp.mobileplans.test" {
			t.Fatalf("notification config %+v", nc)
		}
	}
	if all[1].ICCID != b || all[1].State != rsp.ProfileDisabled || all[1].ServiceProviderName != "Fabrikam Mobile Test" {
		t.Fatalf("second profile %+v", all[1])
	}
	operational := rsp.ProfileClassOperational
	test := rsp.ProfileClassTest
	tests := []struct {
		name  string
		req   rsp.GetProfilesInfoRequest
		iccid []rsp.ICCID
	}{
		{"by ICCID", rsp.GetProfilesInfoRequest{SearchICCID: b}, []rsp.ICCID{b}},
		{"by unknown ICCID", rsp.GetProfilesInfoRequest{SearchICCID: "8944476500000000000"}, nil},
		{"by AID", rsp.GetProfilesInfoRequest{SearchAID: all[0].ISDPAID}, []rsp.ICCID{a}},
		{"by unknown AID", rsp.GetProfilesInfoRequest{SearchAID: isdpAID(0x99)}, nil},
		{"operational", rsp.GetProfilesInfoRequest{SearchClass: &operational}, []rsp.ICCID{a, b}},
		{"test", rsp.GetProfilesInfoRequest{SearchClass: &test}, nil},
		{"tag list", rsp.GetProfilesInfoRequest{TagList: []tlv.Tag{rsp.TagICCID, rsp.TagProfileState}}, []rsp.ICCID{a, b}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := l.profiles(tt.req)
			var ids []rsp.ICCID
			for _, p := range got {
				ids = append(ids, p.ICCID)
			}
			if !slices.Equal(ids, tt.iccid) {
				t.Fatalf("got %v, want %v", ids, tt.iccid)
			}
			if tt.req.TagList != nil {
				for _, p := range got {
					if !slices.Equal(p.Present, tt.req.TagList) || p.ServiceProviderName != "" || p.ISDPAID != nil {
						t.Fatalf("tag list %v: got %+v", tt.req.TagList, p)
					}
				}
			}
		})
	}
	bad := rsp.ProfileClass(7)
	for _, req := range []rsp.GetProfilesInfoRequest{{SearchAID: []byte{1, 2}}, {SearchClass: &bad}} {
		r, err := rsp.DecodeGetProfilesInfoResponse(l.do(req.Encode()))
		if err != nil || r.Err != rsp.ProfileInfoListIncorrectInputValues {
			t.Errorf("request %X: %+v %v, want incorrectInputValues", req.Encode(), r, err)
		}
	}
}

func TestEnableDisable(t *testing.T) {
	c, _ := openTest(t, Options{})
	l := openISDR(t, c)
	a, b := seeded(t, c)
	aidB := l.profiles(rsp.GetProfilesInfoRequest{SearchICCID: b})[0].ISDPAID
	hooks := 0
	c.SetResetHook(func() { hooks++ })

	type step struct {
		name    string
		op      func() int
		want    int
		active  rsp.ICCID // "" = none
		notes   []rsp.NotificationEvent
		noteIDs []rsp.ICCID
	}
	steps := []step{
		{"enable enabled A", func() int { return int(l.enable(byICCID(a), false)) }, int(rsp.EnableProfileNotInDisabledState), a, nil, nil},
		{"enable unknown", func() int { return int(l.enable(byICCID("8944476500000000000"), false)) }, int(rsp.EnableICCIDOrAIDNotFound), a, nil, nil},
		{"enable unknown AID", func() int { return int(l.enable(rsp.ProfileID{AID: isdpAID(0x99)}, false)) }, int(rsp.EnableICCIDOrAIDNotFound), a, nil, nil},
		{"disable disabled B", func() int { return int(l.disable(byICCID(b), false)) }, int(rsp.DisableProfileNotInEnabledState), a, nil, nil},
		{"enable B by AID implicitly disables A", func() int { return int(l.enable(rsp.ProfileID{AID: aidB}, false)) }, 0, b,
			[]rsp.NotificationEvent{rsp.EventDisable, rsp.EventEnable}, []rsp.ICCID{a, b}},
		{"disable B", func() int { return int(l.disable(byICCID(b), false)) }, 0, "",
			[]rsp.NotificationEvent{rsp.EventDisable, rsp.EventEnable, rsp.EventDisable}, []rsp.ICCID{a, b, b}},
		{"disable with none enabled", func() int { return int(l.disable(byICCID(a), false)) }, int(rsp.DisableProfileNotInEnabledState), "",
			[]rsp.NotificationEvent{rsp.EventDisable, rsp.EventEnable, rsp.EventDisable}, []rsp.ICCID{a, b, b}},
		{"enable A with none enabled", func() int { return int(l.enable(byICCID(a), false)) }, 0, a,
			[]rsp.NotificationEvent{rsp.EventDisable, rsp.EventEnable, rsp.EventDisable, rsp.EventEnable}, []rsp.ICCID{a, b, b, a}},
	}
	for _, s := range steps {
		if got := s.op(); got != s.want {
			t.Fatalf("%s: result %d, want %d", s.name, got, s.want)
		}
		act, ok := c.Active()
		if ok != (s.active != "") || act.ICCID != s.active {
			t.Fatalf("%s: active %+v %v, want %s", s.name, act, ok, s.active)
		}
		enabled := 0
		for _, p := range l.profiles(rsp.GetProfilesInfoRequest{}) {
			if p.State == rsp.ProfileEnabled {
				enabled++
				if p.ICCID != s.active {
					t.Fatalf("%s: %s enabled", s.name, p.ICCID)
				}
			}
		}
		if enabled > 1 {
			t.Fatalf("%s: %d profiles enabled", s.name, enabled)
		}
		ns := l.list(0)
		if len(ns) != len(s.notes) {
			t.Fatalf("%s: %d notifications, want %d", s.name, len(ns), len(s.notes))
		}
		for i, n := range ns {
			if n.Seq != i+1 || n.Event != s.notes[i] || n.ICCID != s.noteIDs[i] || n.Address != "smdp.mobileplans.test" {
				t.Fatalf("%s: notification %d = %+v", s.name, i, n)
			}
		}
	}
	if hooks != 0 {
		t.Fatalf("reset hook called %d times without refreshFlag", hooks)
	}
	if act, _ := c.Active(); act.IMSI != "001010123456789" || act.MCCMNC != "00101" || act.SPN != "Contoso Cellular Test" || act.ProfileName == "" {
		t.Fatalf("active profile %+v", act)
	}
}

func TestRefresh(t *testing.T) {
	for _, force := range []bool{false, true} {
		t.Run(map[bool]string{false: "direct", true: "GET RESPONSE"}[force], func(t *testing.T) {
			c, _ := openTest(t, Options{ForceGetResponse: force})
			l := openISDR(t, c)
			a, b := seeded(t, c)
			var hooks int
			var activeInHook ActiveProfile
			c.SetResetHook(func() {
				hooks++
				activeInHook, _ = c.Active() // the hook runs outside the card lock
			})
			cla := apdu.WithChannel(0x80, l.ch)
			r := c.Transmit(apdu.Command{CLA: cla, INS: 0xE2, P1: 0x91, Data: rsp.EnableProfileRequest{ID: byICCID(b), Refresh: true}.Encode()}.Bytes())
			if force {
				if hooks != 0 {
					t.Fatal("card reset before its response was fetched")
				}
				var sw uint16
				r, sw = l.collect(r)
				r = append(r, sw16(sw)...)
			}
			data, sw := splitResp(t, r)
			if sw != 0x9000 {
				t.Fatalf("EnableProfile: %04X", sw)
			}
			if res, err := rsp.DecodeEnableProfileResponse(data); err != nil || res.Result != rsp.EnableOK {
				t.Fatalf("EnableProfile: %+v %v", res, err)
			}
			if hooks != 1 || activeInHook.ICCID != b {
				t.Fatalf("hook called %d times, active %s in hook", hooks, activeInHook.ICCID)
			}
			if _, sw := splitResp(t, c.Transmit(apdu.Command{CLA: cla, INS: 0xE2, P1: 0x91, Data: rsp.GetEIDRequest{}.Encode()}.Bytes())); sw != 0x6881 {
				t.Fatalf("channel %d after refresh: %04X, want 6881", l.ch, sw)
			}
			l = openISDR(t, c)
			if res := l.disable(byICCID(b), true); res != rsp.DisableOK {
				t.Fatalf("DisableProfile: %v", res)
			}
			if hooks != 2 {
				t.Fatalf("hook called %d times after disable with refresh", hooks)
			}
			if _, ok := c.Active(); ok {
				t.Fatal("a profile is still active")
			}
			_ = a
		})
	}
}

// TestRefreshAbandonedResponse: when the LPA does not fetch the response of
// a refreshing command, the reset happens before its next command.
func TestRefreshAbandonedResponse(t *testing.T) {
	c, _ := openTest(t, Options{ForceGetResponse: true})
	l := openISDR(t, c)
	_, b := seeded(t, c)
	hooks := 0
	c.SetResetHook(func() { hooks++ })
	cla := apdu.WithChannel(0x80, l.ch)
	if _, sw := splitResp(t, c.Transmit(apdu.Command{CLA: cla, INS: 0xE2, P1: 0x91, Data: rsp.EnableProfileRequest{ID: byICCID(b), Refresh: true}.Encode()}.Bytes())); sw>>8 != 0x61 {
		t.Fatalf("EnableProfile: %04X", sw)
	}
	if _, sw := splitResp(t, c.Transmit([]byte{0x00, 0x70, 0x00, 0x00, 0x01})); sw != 0x9000 || hooks != 1 {
		t.Fatalf("next command: %04X, hook called %d times", sw, hooks)
	}
	if act, _ := c.Active(); act.ICCID != b {
		t.Fatalf("active %s", act.ICCID)
	}
}

func TestDeleteProfile(t *testing.T) {
	c, _ := openTest(t, Options{})
	l := openISDR(t, c)
	a, b := seeded(t, c)
	aidB := l.profiles(rsp.GetProfilesInfoRequest{SearchICCID: b})[0].ISDPAID
	tests := []struct {
		name string
		id   rsp.ProfileID
		want rsp.DeleteResult
		left []rsp.ICCID
	}{
		{"enabled refused", byICCID(a), rsp.DeleteProfileNotInDisabledState, []rsp.ICCID{a, b}},
		{"unknown", byICCID("8944476500000000000"), rsp.DeleteICCIDOrAIDNotFound, []rsp.ICCID{a, b}},
		{"disabled by AID", rsp.ProfileID{AID: aidB}, rsp.DeleteOK, []rsp.ICCID{a}},
		{"again", rsp.ProfileID{AID: aidB}, rsp.DeleteICCIDOrAIDNotFound, []rsp.ICCID{a}},
	}
	for _, tt := range tests {
		if got := l.delete(tt.id); got != tt.want {
			t.Fatalf("%s: %v, want %v", tt.name, got, tt.want)
		}
		var ids []rsp.ICCID
		for _, p := range l.profiles(rsp.GetProfilesInfoRequest{}) {
			ids = append(ids, p.ICCID)
		}
		if !slices.Equal(ids, tt.left) {
			t.Fatalf("%s: profiles %v, want %v", tt.name, ids, tt.left)
		}
	}
	ns := l.list(rsp.EventDelete)
	if len(ns) != 1 || ns[0].ICCID != b || ns[0].Event != rsp.EventDelete || ns[0].Seq != 1 {
		t.Fatalf("delete notifications %+v", ns)
	}
}

func TestSetNickname(t *testing.T) {
	c, _ := openTest(t, Options{})
	l := openISDR(t, c)
	a, _ := seeded(t, c)
	long := strings.Repeat("n", rsp.MaxNicknameLen)
	tests := []struct {
		name  string
		req   []byte
		sw    uint16
		want  rsp.SetNicknameResult
		check string
	}{
		{"set", rsp.SetNicknameRequest{ICCID: a, Nickname: "Work"}.Encode(), 0x9000, rsp.SetNicknameOK, "Work"},
		{"unicode", rsp.SetNicknameRequest{ICCID: a, Nickname: "Büro 📱"}.Encode(), 0x9000, rsp.SetNicknameOK, "Büro 📱"},
		{"64 bytes", rsp.SetNicknameRequest{ICCID: a, Nickname: long}.Encode(), 0x9000, rsp.SetNicknameOK, long},
		{"unknown ICCID", rsp.SetNicknameRequest{ICCID: "8944476500000000000", Nickname: "x"}.Encode(), 0x9000, rsp.SetNicknameICCIDNotFound, long},
		{"65 bytes", tlv.NewConstructed(rsp.TagSetNickname, tlv.New(0x5A, a.Encode()), tlv.New(0x90, []byte(long+"x"))).Bytes(), 0x6A80, 0, long},
		{"clear", rsp.SetNicknameRequest{ICCID: a, Nickname: ""}.Encode(), 0x9000, rsp.SetNicknameOK, ""},
	}
	for _, tt := range tests {
		data, sw := l.send(tt.req)
		if sw != tt.sw {
			t.Fatalf("%s: %04X, want %04X", tt.name, sw, tt.sw)
		}
		if sw == 0x9000 {
			r, err := rsp.DecodeSetNicknameResponse(data)
			if err != nil || r.Result != tt.want {
				t.Fatalf("%s: %+v %v", tt.name, r, err)
			}
		}
		if got := l.profiles(rsp.GetProfilesInfoRequest{SearchICCID: a})[0].Nickname; got != tt.check {
			t.Fatalf("%s: nickname %q, want %q", tt.name, got, tt.check)
		}
	}
}

func TestConfiguredAddresses(t *testing.T) {
	c, path := openTest(t, Options{})
	l := openISDR(t, c)
	get := func() rsp.ConfiguredAddresses {
		r, err := rsp.DecodeConfiguredAddresses(l.do(rsp.GetConfiguredAddressesRequest{}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if got := get(); got.DefaultDPAddress != "" || got.RootDSAddress != defaultRootDSAddress {
		t.Fatalf("initial addresses %+v", got)
	}
	r, err := rsp.DecodeSetDefaultDPAddressResponse(l.do(rsp.SetDefaultDPAddressRequest{Address: "smdp.example.test"}.Encode()))
	if err != nil || r.Result != rsp.SetDefaultDPAddressOK {
		t.Fatalf("SetDefaultDpAddress: %+v %v", r, err)
	}
	if got := get(); got.DefaultDPAddress != "smdp.example.test" {
		t.Fatalf("after set: %+v", got)
	}
	c2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l2 := openISDR(t, c2)
	if r, err := rsp.DecodeConfiguredAddresses(l2.do(rsp.GetConfiguredAddressesRequest{}.Encode())); err != nil || r.DefaultDPAddress != "smdp.example.test" {
		t.Fatalf("after re-open: %+v %v", r, err)
	}
}

// verifyNotification checks a pending notification's structure and its
// signature against the card's certificate chain.
func verifyNotification(t *testing.T, c *Card, pn rsp.PendingNotification) {
	t.Helper()
	outer, err := tlv.DecodeOne(pn.Raw)
	if err != nil || outer.Tag != 0x30 {
		t.Fatalf("notification %X: %v", pn.Raw, err)
	}
	parts, err := outer.Children()
	if err != nil || len(parts) != 4 || parts[0].Tag != rsp.TagNotificationMetadata || parts[1].Tag != 0x5F37 {
		t.Fatalf("notification parts %v %v", parts, err)
	}
	tbs, sig := parts[0].Bytes(), parts[1].Value
	if len(sig) != 64 {
		t.Fatalf("signature of %d bytes, want 64 (r||s)", len(sig))
	}
	euicc, err := x509.ParseCertificate(parts[2].Bytes())
	if err != nil {
		t.Fatal(err)
	}
	eum, err := x509.ParseCertificate(parts[3].Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := euicc.CheckSignatureFrom(eum); err != nil {
		t.Fatalf("eUICC certificate not signed by the EUM: %v", err)
	}
	if euicc.Subject.SerialNumber != string(c.EID()) {
		t.Fatalf("eUICC certificate serialNumber %q, EID %s", euicc.Subject.SerialNumber, c.EID())
	}
	pub := euicc.PublicKey.(*ecdsa.PublicKey)
	digest := sha256.Sum256(tbs)
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		t.Fatalf("notification %d: signature does not verify", pn.Metadata.Seq)
	}
	// A flipped bit in the signed data must not verify.
	bad := bytes.Clone(tbs)
	bad[len(bad)-1] ^= 1
	badDigest := sha256.Sum256(bad)
	if ecdsa.Verify(pub, badDigest[:], r, s) {
		t.Fatal("signature verifies over modified data")
	}
	md, err := rsp.DecodeNotificationMetadata(tbs)
	if err != nil || md != pn.Metadata {
		t.Fatalf("signed metadata %+v %v, listed %+v", md, err, pn.Metadata)
	}
}

func TestNotifications(t *testing.T) {
	c, _ := openTest(t, Options{})
	l := openISDR(t, c)
	a, b := seeded(t, c)
	// seq 1 disable A, 2 enable B, 3 disable B, 4 delete B
	if l.enable(byICCID(b), false) != rsp.EnableOK || l.disable(byICCID(b), false) != rsp.DisableOK || l.delete(byICCID(b)) != rsp.DeleteOK {
		t.Fatal("profile operations failed")
	}
	retrieve := func(req rsp.RetrieveNotificationsListRequest) rsp.RetrieveNotificationsListResponse {
		r, err := rsp.DecodeRetrieveNotificationsListResponse(l.do(req.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	seqs := func(ms []rsp.NotificationMetadata) []int {
		var out []int
		for _, m := range ms {
			out = append(out, m.Seq)
		}
		return out
	}
	pseqs := func(ps []rsp.PendingNotification) []int {
		var out []int
		for _, p := range ps {
			out = append(out, p.Metadata.Seq)
		}
		return out
	}
	three := 3
	nine := 9
	listTests := []struct {
		events rsp.NotificationEvent
		want   []int
	}{
		{0, []int{1, 2, 3, 4}},
		{rsp.EventDisable, []int{1, 3}},
		{rsp.EventEnable | rsp.EventDelete, []int{2, 4}},
		{rsp.EventInstall, nil},
	}
	for _, tt := range listTests {
		if got := seqs(l.list(tt.events)); !slices.Equal(got, tt.want) {
			t.Errorf("ListNotification(%v) = %v, want %v", tt.events, got, tt.want)
		}
		r := retrieve(rsp.RetrieveNotificationsListRequest{Events: tt.events})
		if got := pseqs(r.Notifications); r.Err != 0 || !slices.Equal(got, tt.want) {
			t.Errorf("RetrieveNotificationsList(%v) = %v %v, want %v", tt.events, got, r.Err, tt.want)
		}
	}
	if r := retrieve(rsp.RetrieveNotificationsListRequest{Seq: &three}); r.Err != 0 || !slices.Equal(pseqs(r.Notifications), []int{3}) {
		t.Errorf("retrieve seq 3: %+v", r)
	}
	if r := retrieve(rsp.RetrieveNotificationsListRequest{Seq: &nine}); r.Err != rsp.RetrieveNotificationNoResultAvailable {
		t.Errorf("retrieve seq 9: %+v", r)
	}
	all := retrieve(rsp.RetrieveNotificationsListRequest{})
	wantEvents := []rsp.NotificationEvent{rsp.EventDisable, rsp.EventEnable, rsp.EventDisable, rsp.EventDelete}
	wantICCIDs := []rsp.ICCID{a, b, b, b}
	for i, pn := range all.Notifications {
		if pn.Metadata.Event != wantEvents[i] || pn.Metadata.ICCID != wantICCIDs[i] {
			t.Errorf("notification %d: %+v", i, pn.Metadata)
		}
		verifyNotification(t, c, pn)
		if !bytes.Contains(pn.Raw, c.creds.EUICCCert) || !bytes.Contains(pn.Raw, c.creds.EUMCert) {
			t.Errorf("notification %d lacks the card's certificates", i)
		}
	}

	sent := func(seq int) rsp.NotificationSentResult {
		r, err := rsp.DecodeNotificationSentResponse(l.do(rsp.NotificationSentRequest{Seq: seq}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		return r.Result
	}
	removeTests := []struct {
		seq  int
		want rsp.NotificationSentResult
		left []int
	}{
		{2, rsp.NotificationSentOK, []int{1, 3, 4}},
		{2, rsp.NotificationSentNothingToDelete, []int{1, 3, 4}},
		{0, rsp.NotificationSentNothingToDelete, []int{1, 3, 4}},
		{4, rsp.NotificationSentOK, []int{1, 3}},
		{1, rsp.NotificationSentOK, []int{3}},
	}
	for _, tt := range removeTests {
		if got := sent(tt.seq); got != tt.want {
			t.Errorf("remove %d: %v, want %v", tt.seq, got, tt.want)
		}
		if got := seqs(l.list(0)); !slices.Equal(got, tt.left) {
			t.Errorf("after remove %d: %v, want %v", tt.seq, got, tt.left)
		}
	}
	// Sequence numbers keep increasing after removals.
	if l.enable(byICCID(a), false) != rsp.EnableOK {
		t.Fatal("enable A failed")
	}
	if got := seqs(l.list(0)); !slices.Equal(got, []int{3, 5}) {
		t.Fatalf("after enabling A: %v, want [3 5]", got)
	}
}

func TestNoNotificationWithoutConfig(t *testing.T) {
	c, _ := openTest(t, Options{})
	addBigProfile(t, c, "89444765000000000016", rsp.ProfileClassTest, false)
	l := openISDR(t, c)
	if l.enable(byICCID("89444765000000000016"), false) != rsp.EnableOK {
		t.Fatal("enable failed")
	}
	// Only A's disable: the new profile has no notification configuration.
	ns := l.list(0)
	if len(ns) != 1 || ns[0].Event != rsp.EventDisable {
		t.Fatalf("notifications %+v", ns)
	}
}

func TestMemoryReset(t *testing.T) {
	const fieldTest, preloadedTest = "89444765000000000016", "89444765000000000024"
	tests := []struct {
		name     string
		setup    func(t *testing.T, c *Card, l *lpa)
		opts     rsp.ResetOptions
		want     rsp.MemoryResetResult
		left     int // profiles left
		reset    bool
		noDefDP  bool
		keepDefD bool
	}{
		{"everything", nil, rsp.ResetDeleteOperational | rsp.ResetDeleteFieldLoadedTest | rsp.ResetDefaultSMDP, rsp.MemoryResetOK, 1, true, true, false},
		{"operational only", nil, rsp.ResetDeleteOperational, rsp.MemoryResetOK, 2, true, false, true},
		{"field-loaded test only", nil, rsp.ResetDeleteFieldLoadedTest, rsp.MemoryResetOK, 3, false, false, true},
		{"default SM-DP+ only", nil, rsp.ResetDefaultSMDP, rsp.MemoryResetOK, 4, false, true, false},
		{"default SM-DP+ already empty", func(t *testing.T, c *Card, l *lpa) {
			l.do(rsp.SetDefaultDPAddressRequest{Address: ""}.Encode())
		}, rsp.ResetDefaultSMDP, rsp.MemoryResetNothingToDelete, 4, false, true, false},
		{"no test profiles to delete", func(t *testing.T, c *Card, l *lpa) {
			l.delete(byICCID(fieldTest))
		}, rsp.ResetDeleteFieldLoadedTest, rsp.MemoryResetNothingToDelete, 3, false, false, true},
		{"disabled operational only", func(t *testing.T, c *Card, l *lpa) {
			a, _ := seeded(t, c)
			l.disable(byICCID(a), false)
		}, rsp.ResetDeleteOperational, rsp.MemoryResetOK, 2, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := openTest(t, Options{})
			l := openISDR(t, c)
			addBigProfile(t, c, fieldTest, rsp.ProfileClassTest, false)
			addBigProfile(t, c, preloadedTest, rsp.ProfileClassTest, true)
			l.do(rsp.SetDefaultDPAddressRequest{Address: "smdp.example.test"}.Encode())
			if tt.setup != nil {
				tt.setup(t, c, l)
			}
			hooks := 0
			c.SetResetHook(func() { hooks++ })
			before := len(l.list(0))
			r, err := rsp.DecodeMemoryResetResponse(l.do(rsp.MemoryResetRequest{Options: tt.opts}.Encode()))
			if err != nil || r.Result != tt.want {
				t.Fatalf("result %+v %v, want %v", r, err, tt.want)
			}
			if tt.reset != (hooks == 1) {
				t.Fatalf("hook called %d times, want reset %v", hooks, tt.reset)
			}
			if tt.reset {
				l = openISDR(t, c)
			}
			ps := l.profiles(rsp.GetProfilesInfoRequest{})
			if len(ps) != tt.left {
				t.Fatalf("%d profiles left, want %d", len(ps), tt.left)
			}
			for _, p := range ps {
				if p.ICCID == preloadedTest {
					continue
				}
				if tt.opts&rsp.ResetDeleteOperational != 0 && *p.Class == rsp.ProfileClassOperational ||
					tt.opts&rsp.ResetDeleteFieldLoadedTest != 0 && *p.Class == rsp.ProfileClassTest {
					t.Fatalf("profile %s survived", p.ICCID)
				}
			}
			addrs, err := rsp.DecodeConfiguredAddresses(l.do(rsp.GetConfiguredAddressesRequest{}.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			if tt.noDefDP && addrs.DefaultDPAddress != "" || tt.keepDefD && addrs.DefaultDPAddress != "smdp.example.test" {
				t.Fatalf("default SM-DP+ %q", addrs.DefaultDPAddress)
			}
			if got := len(l.list(0)); got != before {
				t.Fatalf("memory reset changed the notifications: %d -> %d", before, got)
			}
		})
	}
}

func TestConcurrentTransmit(t *testing.T) {
	c, _ := openTest(t, Options{})
	_, b := seeded(t, c)
	var ls []*lpa
	for range 4 {
		ls = append(ls, openISDR(t, c))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for i, l := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cla := apdu.WithChannel(0x80, l.ch)
			for j := range 20 {
				var req []byte
				switch (i + j) % 3 {
				case 0:
					req = rsp.GetProfilesInfoRequest{}.Encode()
				case 1:
					req = rsp.SetNicknameRequest{ICCID: b, Nickname: "n"}.Encode()
				default:
					req = rsp.GetEIDRequest{}.Encode()
				}
				resp := c.Transmit(apdu.Command{CLA: cla, INS: 0xE2, P1: 0x91, Data: req}.Bytes())
				_, sw, err := apdu.SplitResponse(resp)
				for err == nil && sw>>8 == 0x61 {
					_, sw, err = apdu.SplitResponse(c.Transmit(apdu.Command{CLA: cla, INS: 0xC0, Le: byte(sw), HasLe: true}.Bytes()))
				}
				if err != nil || sw != 0x9000 {
					errs <- "channel " + string(rune('0'+l.ch)) + ": " + apdu.SWName(sw)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func BenchmarkTransmitGetProfilesInfo(b *testing.B) {
	c, _ := openTest(b, Options{})
	l := openISDR(b, c)
	req := rsp.GetProfilesInfoRequest{}.Encode()
	b.ReportAllocs()
	for b.Loop() {
		l.do(req)
	}
}
