package lpa

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/euicc"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/tlv"
)

// cardChannel is a logical channel on the simulated eUICC, the way a modem
// backend provides one: the channel number is put into every class byte.
type cardChannel struct {
	card *euicc.Card
	n    int
	// modem makes a status 6881 (channel unknown to the card) come back as
	// an error wrapping apdu.ErrChannelClosed, as AT modems report it.
	modem  bool
	closed bool
}

func (c *cardChannel) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c.closed {
		return nil, errors.New("test channel: transmit after close")
	}
	raw := bytes.Clone(cmd)
	raw[0] = apdu.WithChannel(raw[0], c.n)
	r := c.card.Transmit(raw)
	if _, sw, err := apdu.SplitResponse(r); err == nil && c.modem && sw == apdu.SWLogicalChannelNotSup {
		return nil, fmt.Errorf("+CME ERROR: 21 (channel %d): %w", c.n, apdu.ErrChannelClosed)
	}
	return r, nil
}

func (c *cardChannel) Close() error {
	c.closed = true
	r := c.card.Transmit([]byte{0x00, 0x70, 0x80, byte(c.n)})
	if _, sw, err := apdu.SplitResponse(r); err != nil || sw != apdu.SWOK {
		return fmt.Errorf("MANAGE CHANNEL close %d: %X", c.n, r)
	}
	return nil
}

// cardOpener opens a logical channel with MANAGE CHANNEL and selects the
// application on it, counting the opens.
func cardOpener(card *euicc.Card, modem bool, opens *atomic.Int32) apdu.Opener {
	return func(ctx context.Context, aid []byte) (apdu.Channel, error) {
		opens.Add(1)
		data, sw, err := apdu.SplitResponse(card.Transmit([]byte{0x00, 0x70, 0x00, 0x00, 0x01}))
		if err != nil {
			return nil, err
		}
		if sw != apdu.SWOK || len(data) != 1 {
			return nil, fmt.Errorf("MANAGE CHANNEL open: %w", &apdu.StatusError{SW: sw})
		}
		ch := &cardChannel{card: card, n: int(data[0]), modem: modem}
		sel := apdu.Command{CLA: apdu.WithChannel(0x00, ch.n), INS: 0xA4, P1: 0x04, P2: 0x00, Data: aid}
		_, sw, err = apdu.SplitResponse(card.Transmit(sel.Bytes()))
		for err == nil && sw>>8 == 0x61 {
			gr := apdu.Command{CLA: apdu.WithChannel(0x00, ch.n), INS: 0xC0, Le: byte(sw), HasLe: true}
			_, sw, err = apdu.SplitResponse(card.Transmit(gr.Bytes()))
		}
		if err != nil || sw != apdu.SWOK {
			_ = ch.Close()
			return nil, fmt.Errorf("SELECT %X: %v %w", aid, err, &apdu.StatusError{SW: sw})
		}
		return ch, nil
	}
}

func TestIntegrationEUICC(t *testing.T) {
	tests := []struct {
		name      string
		blockSize int
		forceGR   bool
		modem     bool
	}{
		{name: "255-byte blocks, 6881 on reset"},
		{name: "120-byte blocks, T=0 GET RESPONSE, modem errors on reset", blockSize: 120, forceGR: true, modem: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runIntegration(t, tc.blockSize, tc.forceGR, tc.modem)
		})
	}
}

func runIntegration(t *testing.T, blockSize int, forceGR, modem bool) {
	ctx := context.Background()
	card, err := euicc.Open(filepath.Join(t.TempDir(), "euicc.json"), euicc.Options{Seed: true, ForceGetResponse: forceGR})
	if err != nil {
		t.Fatal(err)
	}
	var selfResets atomic.Int32
	card.SetResetHook(func() { selfResets.Add(1) })
	var opens atomic.Int32
	c, err := New(ctx, cardOpener(card, modem, &opens), Options{BlockSize: blockSize})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	wantResult := func(err error, fn string, code int) {
		t.Helper()
		var re *rsp.ResultError
		if !errors.As(err, &re) || re.Function != fn || re.Code != code {
			t.Fatalf("err = %v, want %s result %d", err, fn, code)
		}
	}
	profiles := func() map[rsp.ICCID]rsp.ProfileInfo {
		t.Helper()
		ps, err := c.Profiles(ctx)
		must(err)
		m := make(map[rsp.ICCID]rsp.ProfileInfo, len(ps))
		for _, p := range ps {
			m[p.ICCID] = p
		}
		return m
	}

	// Identity and info.
	eid, err := c.EID(ctx)
	must(err)
	if eid != card.EID() {
		t.Errorf("EID %s, card has %s", eid, card.EID())
	}
	if _, err := rsp.ParseEID(string(eid)); err != nil {
		t.Errorf("EID invalid: %v", err)
	}
	info1, err := c.EUICCInfo1(ctx)
	must(err)
	info2, err := c.EUICCInfo2(ctx)
	must(err)
	if info1.SVN != info2.SVN || info1.SVN == (rsp.Version{}) || len(info2.CIPKIDsForSigning) == 0 {
		t.Errorf("EUICCInfo1 %+v / EUICCInfo2 %+v", info1, info2)
	}
	ch1, err := c.Challenge(ctx)
	must(err)
	ch2, err := c.Challenge(ctx)
	must(err)
	if len(ch1) != ChallengeLen || bytes.Equal(ch1, ch2) {
		t.Errorf("challenges %X, %X", ch1, ch2)
	}

	// The seeded card: one enabled and one disabled profile.
	ps, err := c.Profiles(ctx)
	must(err)
	if len(ps) != 2 {
		t.Fatalf("%d profiles", len(ps))
	}
	var on, off rsp.ICCID
	for _, p := range ps {
		if p.State == 1 {
			on = p.ICCID
		} else {
			off = p.ICCID
		}
	}
	if on == "" || off == "" {
		t.Fatalf("want one enabled and one disabled profile: %+v", ps)
	}
	if act, ok := card.Active(); !ok || act.ICCID != on {
		t.Errorf("card's active profile %v, list says %s", act.ICCID, on)
	}
	// A request longer than one STORE DATA block: a long tag list.
	var tags []tlv.Tag
	for range 100 {
		tags = append(tags, rsp.TagICCID, rsp.TagProfileState)
	}
	short, err := c.ProfilesInfo(ctx, rsp.GetProfilesInfoRequest{TagList: tags})
	must(err)
	if len(short) != 2 || short[0].ICCID == "" || short[0].ServiceProviderName != "" {
		t.Errorf("profiles with a tag list: %+v", short)
	}
	p, err := c.Profile(ctx, off)
	must(err)
	if p.ICCID != off || p.State != 0 || p.ServiceProviderName == "" {
		t.Errorf("Profile(%s) = %+v", off, p)
	}
	if _, err := c.Profile(ctx, "8944476500000000001"); !errors.Is(err, ErrProfileNotFound) {
		t.Errorf("unknown ICCID: %v", err)
	}
	notes, err := c.Notifications(ctx)
	must(err)
	if len(notes) != 0 {
		t.Errorf("a new card has %d notifications", len(notes))
	}

	// Enable the disabled profile: the enabled one is disabled implicitly.
	must(c.Enable(ctx, rsp.ProfileID{ICCID: off}, false))
	m := profiles()
	if m[off].State != 1 || m[on].State != 0 {
		t.Errorf("after enable: %s state %d, %s state %d", off, m[off].State, on, m[on].State)
	}
	wantResult(c.Enable(ctx, rsp.ProfileID{ICCID: off}, false), "EnableProfile", 2)
	wantResult(c.Disable(ctx, rsp.ProfileID{ICCID: on}, false), "DisableProfile", 2)

	// Nickname.
	must(c.SetNickname(ctx, off, "Travel ✈"))
	p, err = c.Profile(ctx, off)
	must(err)
	if p.Nickname != "Travel ✈" {
		t.Errorf("nickname %q", p.Nickname)
	}
	wantResult(c.SetNickname(ctx, "8944476500000000001", "x"), "SetNickname", 1)

	// Enable with refresh: the card resets itself; the next call (a write)
	// must go through on a new channel.
	opensBefore := opens.Load()
	must(c.Enable(ctx, rsp.ProfileID{ICCID: on}, true))
	if selfResets.Load() != 1 {
		t.Errorf("card reset %d times after a refresh enable", selfResets.Load())
	}
	must(c.SetNickname(ctx, on, "Home"))
	if got := opens.Load() - opensBefore; got != 1 {
		t.Errorf("%d channel opens after the refresh, want 1", got)
	}
	m = profiles()
	if m[on].State != 1 || m[on].Nickname != "Home" || m[off].State != 0 {
		t.Errorf("after refresh enable: %+v", m)
	}

	// Delete: refused while enabled, fine when disabled.
	wantResult(c.Delete(ctx, rsp.ProfileID{ICCID: on}), "DeleteProfile", 2)
	must(c.Delete(ctx, rsp.ProfileID{AID: m[off].ISDPAID}))
	m = profiles()
	if _, ok := m[off]; ok || len(m) != 1 {
		t.Errorf("after delete: %+v", m)
	}
	wantResult(c.Delete(ctx, rsp.ProfileID{ICCID: off}), "DeleteProfile", 1)

	// Notifications: disable+enable twice, then a delete.
	notes, err = c.Notifications(ctx)
	must(err)
	wantEvents := []struct {
		ev    rsp.NotificationEvent
		iccid rsp.ICCID
	}{{rsp.EventDisable, on}, {rsp.EventEnable, off}, {rsp.EventDisable, off}, {rsp.EventEnable, on}, {rsp.EventDelete, off}}
	got := make(map[string]bool)
	for _, n := range notes {
		got[n.Event.String()+" "+string(n.ICCID)] = true
		if n.Address == "" {
			t.Errorf("notification %d without address", n.Seq)
		}
	}
	for _, w := range wantEvents {
		if !got[w.ev.String()+" "+string(w.iccid)] {
			t.Errorf("missing %s notification for %s in %+v", w.ev, w.iccid, notes)
		}
	}
	if len(notes) != len(wantEvents) {
		t.Fatalf("%d notifications, want %d: %+v", len(notes), len(wantEvents), notes)
	}
	pending, err := c.RetrieveNotifications(ctx, nil)
	must(err)
	if len(pending) != len(notes) {
		t.Errorf("retrieved %d, listed %d", len(pending), len(notes))
	}
	for _, pn := range pending {
		if again, err := rsp.DecodePendingNotification(pn.Raw); err != nil || again.Metadata != pn.Metadata {
			t.Errorf("pending notification %d does not decode: %v", pn.Metadata.Seq, err)
		}
	}
	seq := notes[0].Seq
	one, err := c.RetrieveNotifications(ctx, &seq)
	must(err)
	if len(one) != 1 || one[0].Metadata != notes[0] {
		t.Errorf("retrieve seq %d: %+v", seq, one)
	}
	must(c.RemoveNotification(ctx, seq))
	wantResult(c.RemoveNotification(ctx, seq), "RemoveNotificationFromList", 1)
	_, err = c.RetrieveNotifications(ctx, &seq)
	wantResult(err, "RetrieveNotificationsList", 1)
	notes, err = c.Notifications(ctx)
	must(err)
	if len(notes) != len(wantEvents)-1 {
		t.Errorf("%d notifications after removing one", len(notes))
	}

	// Addresses.
	addrs, err := c.ConfiguredAddresses(ctx)
	must(err)
	if addrs.RootDSAddress == "" || addrs.DefaultDPAddress != "" {
		t.Errorf("addresses of a new card: %+v", addrs)
	}
	must(c.SetDefaultDPAddress(ctx, "smdp.contoso.test"))
	addrs, err = c.ConfiguredAddresses(ctx)
	must(err)
	if addrs.DefaultDPAddress != "smdp.contoso.test" {
		t.Errorf("default SM-DP+ %q", addrs.DefaultDPAddress)
	}

	// A reset nobody announced: reads are retried, writes report it.
	card.Reset()
	if e, err := c.EID(ctx); err != nil || e != eid {
		t.Fatalf("EID after an unannounced reset: %v", err)
	}
	card.Reset()
	err = c.SetNickname(ctx, on, "x")
	if !errors.Is(err, ErrCardReset) {
		t.Fatalf("write after an unannounced reset: %v, want ErrCardReset", err)
	}
	if modem != errors.Is(err, apdu.ErrChannelClosed) {
		t.Errorf("cause: %v", err)
	}
	must(c.SetNickname(ctx, on, "Home again"))

	// Memory reset deletes the enabled profile; the card resets itself.
	resetsBefore := selfResets.Load()
	must(c.MemoryReset(ctx, rsp.ResetDeleteOperational|rsp.ResetDeleteFieldLoadedTest|rsp.ResetDefaultSMDP))
	if selfResets.Load() != resetsBefore+1 {
		t.Errorf("card did not reset after deleting the enabled profile")
	}
	if m := profiles(); len(m) != 0 {
		t.Errorf("profiles after memory reset: %+v", m)
	}
	addrs, err = c.ConfiguredAddresses(ctx)
	must(err)
	if addrs.DefaultDPAddress != "" {
		t.Errorf("default SM-DP+ after memory reset: %q", addrs.DefaultDPAddress)
	}
	wantResult(c.MemoryReset(ctx, rsp.ResetDeleteOperational), "eUICCMemoryReset", 1)

	st := c.Stats()
	if st.APDUs == 0 || st.BytesIn == 0 || st.BytesOut == 0 {
		t.Errorf("stats %+v", st)
	}
	wantBS := blockSize
	if wantBS == 0 {
		wantBS = MaxBlockSize
	}
	if c.BlockSize() != wantBS {
		t.Errorf("block size changed to %d", c.BlockSize())
	}
}
