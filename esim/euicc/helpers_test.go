package euicc

import (
	"bytes"
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/rsp"
)

// openTest opens a seeded card in a fresh temporary directory.
func openTest(t testing.TB, opts Options) (*Card, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "euicc.json")
	opts.Seed = true
	c, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return c, path
}

// memCard returns a card over a copy of st that persists to memory; the
// returned function gives the last bytes written.
func memCard(t testing.TB, st *state, opts Options) (*Card, func() []byte) {
	t.Helper()
	var last []byte
	c := newCard("mem", opts, func(_ string, b []byte) error {
		last = bytes.Clone(b)
		return nil
	}, rand.Reader)
	c.st = st.clone()
	creds, _, err := c.st.Credentials.parse()
	if err != nil {
		t.Fatalf("credentials: %v", err)
	}
	c.creds = creds
	return c, func() []byte { return last }
}

func splitResp(t testing.TB, r []byte) ([]byte, uint16) {
	t.Helper()
	data, sw, err := apdu.SplitResponse(r)
	if err != nil {
		t.Fatalf("response %X: %v", r, err)
	}
	return data, sw
}

// lpa is a minimal test-side ES10 client on one logical channel.
type lpa struct {
	t     testing.TB
	c     *Card
	ch    int
	block int  // STORE DATA block size
	le    bool // send Le=00 on STORE DATA
}

// openISDR opens a logical channel and selects the ISD-R on it.
func openISDR(t testing.TB, c *Card) *lpa {
	t.Helper()
	data, sw := splitResp(t, c.Transmit([]byte{0x00, 0x70, 0x00, 0x00, 0x01}))
	if sw != apdu.SWOK || len(data) != 1 {
		t.Fatalf("MANAGE CHANNEL open: %X %04X", data, sw)
	}
	l := &lpa{t: t, c: c, ch: int(data[0]), block: 120}
	l.selectISDR()
	return l
}

func (l *lpa) selectISDR() {
	l.t.Helper()
	cmd := apdu.Command{CLA: apdu.WithChannel(0x00, l.ch), INS: 0xA4, P1: 0x04, P2: 0x00, Data: apdu.ISDR}
	_, sw := l.collect(l.c.Transmit(cmd.Bytes()))
	if sw != apdu.SWOK {
		l.t.Fatalf("SELECT ISD-R on channel %d: %04X", l.ch, sw)
	}
}

// collect follows 61xx with GET RESPONSE and returns all data and the
// final status word.
func (l *lpa) collect(r []byte) ([]byte, uint16) {
	l.t.Helper()
	data, sw := splitResp(l.t, r)
	out := bytes.Clone(data)
	for sw>>8 == 0x61 {
		gr := apdu.Command{CLA: apdu.WithChannel(0x80, l.ch), INS: 0xC0, Le: byte(sw), HasLe: true}
		data, sw = splitResp(l.t, l.c.Transmit(gr.Bytes()))
		out = append(out, data...)
	}
	return out, sw
}

// send transmits one ES10 request with STORE DATA chaining and returns the
// complete response data and final status word.
func (l *lpa) send(req []byte) ([]byte, uint16) {
	l.t.Helper()
	cla := apdu.WithChannel(0x80, l.ch)
	for i := 0; ; i++ {
		n := min(l.block, len(req))
		last := n == len(req)
		p1 := byte(0x11)
		if last {
			p1 = 0x91
		}
		cmd := apdu.Command{CLA: cla, INS: 0xE2, P1: p1, P2: byte(i), Data: req[:n], HasLe: l.le}
		r := l.c.Transmit(cmd.Bytes())
		req = req[n:]
		if last {
			return l.collect(r)
		}
		data, sw := splitResp(l.t, r)
		if sw != apdu.SWOK || len(data) != 0 {
			return data, sw
		}
	}
}

// do sends req and fails the test unless the card answers 9000.
func (l *lpa) do(req []byte) []byte {
	l.t.Helper()
	data, sw := l.send(req)
	if sw != apdu.SWOK {
		l.t.Fatalf("ES10 %X: status %04X", req[:min(len(req), 4)], sw)
	}
	return data
}

func (l *lpa) profiles(req rsp.GetProfilesInfoRequest) []rsp.ProfileInfo {
	l.t.Helper()
	r, err := rsp.DecodeGetProfilesInfoResponse(l.do(req.Encode()))
	if err != nil {
		l.t.Fatalf("GetProfilesInfo response: %v", err)
	}
	if r.Err != 0 {
		l.t.Fatalf("GetProfilesInfo error %v", r.Err)
	}
	return r.Profiles
}

func (l *lpa) enable(id rsp.ProfileID, refresh bool) rsp.EnableResult {
	l.t.Helper()
	r, err := rsp.DecodeEnableProfileResponse(l.do(rsp.EnableProfileRequest{ID: id, Refresh: refresh}.Encode()))
	if err != nil {
		l.t.Fatalf("EnableProfile response: %v", err)
	}
	return r.Result
}

func (l *lpa) disable(id rsp.ProfileID, refresh bool) rsp.DisableResult {
	l.t.Helper()
	r, err := rsp.DecodeDisableProfileResponse(l.do(rsp.DisableProfileRequest{ID: id, Refresh: refresh}.Encode()))
	if err != nil {
		l.t.Fatalf("DisableProfile response: %v", err)
	}
	return r.Result
}

func (l *lpa) delete(id rsp.ProfileID) rsp.DeleteResult {
	l.t.Helper()
	r, err := rsp.DecodeDeleteProfileResponse(l.do(rsp.DeleteProfileRequest{ID: id}.Encode()))
	if err != nil {
		l.t.Fatalf("DeleteProfile response: %v", err)
	}
	return r.Result
}

func (l *lpa) list(events rsp.NotificationEvent) []rsp.NotificationMetadata {
	l.t.Helper()
	r, err := rsp.DecodeListNotificationResponse(l.do(rsp.ListNotificationRequest{Events: events}.Encode()))
	if err != nil {
		l.t.Fatalf("ListNotification response: %v", err)
	}
	if r.Err != 0 {
		l.t.Fatalf("ListNotification error %v", r.Err)
	}
	return r.Notifications
}

// seeded returns the ICCIDs of the two seeded profiles (enabled first).
func seeded(t testing.TB, c *Card) (a, b rsp.ICCID) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.st.Profiles) < 2 || !c.st.Profiles[0].Preloaded || !c.st.Profiles[1].Preloaded {
		t.Fatalf("the card does not start with the two seeded profiles")
	}
	return rsp.ICCID(c.st.Profiles[0].ICCID), rsp.ICCID(c.st.Profiles[1].ICCID)
}

func byICCID(id rsp.ICCID) rsp.ProfileID { return rsp.ProfileID{ICCID: id} }

// snapshot returns the marshalled live state.
func snapshot(t testing.TB, c *Card) []byte {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	b, err := c.st.marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
