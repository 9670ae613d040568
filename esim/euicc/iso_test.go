package euicc

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/tlv"
)

func hexAPDU(t *testing.T, c *Card, cmd []byte) ([]byte, uint16) {
	t.Helper()
	return splitResp(t, c.Transmit(cmd))
}

func TestManageChannel(t *testing.T) {
	c, _ := openTest(t, Options{})
	type step struct {
		name string
		cmd  []byte
		data []byte
		sw   uint16
	}
	steps := []step{
		{"open first", []byte{0x00, 0x70, 0x00, 0x00, 0x01}, []byte{1}, 0x9000},
		{"open second without Le", []byte{0x00, 0x70, 0x00, 0x00}, []byte{2}, 0x9000},
		{"open requested 7", []byte{0x00, 0x70, 0x00, 0x07}, nil, 0x9000},
		{"open requested 7 again", []byte{0x00, 0x70, 0x00, 0x07}, nil, 0x6985},
		{"open requested 20", []byte{0x00, 0x70, 0x00, 0x14}, nil, 0x6A86},
		{"open assigns lowest free", []byte{0x00, 0x70, 0x00, 0x00, 0x01}, []byte{3}, 0x9000},
		{"close 2 with Le", []byte{0x00, 0x70, 0x80, 0x02, 0x00}, nil, 0x9000},
		{"close 2 again", []byte{0x00, 0x70, 0x80, 0x02}, nil, 0x6881},
		{"reopen gives 2", []byte{0x00, 0x70, 0x00, 0x00, 0x01}, []byte{2}, 0x9000},
		{"close 7 without Le", []byte{0x00, 0x70, 0x80, 0x07}, nil, 0x9000},
		{"close basic channel", []byte{0x00, 0x70, 0x80, 0x00}, nil, 0x6A86},
		{"close 20", []byte{0x00, 0x70, 0x80, 0x14}, nil, 0x6A86},
		{"close itself from channel 3 with P2 00", []byte{0x03, 0x70, 0x80, 0x00}, nil, 0x9000},
		{"command on closed channel 3", []byte{0x03, 0x70, 0x00, 0x00, 0x01}, nil, 0x6881},
		{"bad P1", []byte{0x00, 0x70, 0x40, 0x00}, nil, 0x6A86},
		{"data not allowed", []byte{0x00, 0x70, 0x00, 0x00, 0x01, 0x05}, nil, 0x6700},
	}
	for _, s := range steps {
		data, sw := hexAPDU(t, c, s.cmd)
		if sw != s.sw || !bytes.Equal(data, s.data) {
			t.Errorf("%s: got %X %04X, want %X %04X", s.name, data, sw, s.data, s.sw)
		}
	}
}

func TestManageChannelExhausted(t *testing.T) {
	c, _ := openTest(t, Options{})
	for want := 1; want < numChannels; want++ {
		data, sw := hexAPDU(t, c, []byte{0x00, 0x70, 0x00, 0x00, 0x01})
		if sw != 0x9000 || len(data) != 1 || int(data[0]) != want {
			t.Fatalf("open %d: %X %04X", want, data, sw)
		}
	}
	if _, sw := hexAPDU(t, c, []byte{0x00, 0x70, 0x00, 0x00, 0x01}); sw != 0x6A81 {
		t.Fatalf("open with all channels in use: %04X, want 6A81", sw)
	}
}

func TestSelectAndClass(t *testing.T) {
	c, _ := openTest(t, Options{})
	getEID := rsp.GetEIDRequest{}.Encode()
	storeData := func(cla byte) []byte {
		return apdu.Command{CLA: cla, INS: 0xE2, P1: 0x91, Data: getEID}.Bytes()
	}
	selectAID := func(cla, p1, p2 byte, aid []byte) []byte {
		return apdu.Command{CLA: cla, INS: 0xA4, P1: p1, P2: p2, Data: aid}.Bytes()
	}
	ecasd := bytes.Clone(apdu.ISDR)
	ecasd[14] = 0x02
	fci := append([]byte{0x6F, 0x12, 0x84, 0x10}, apdu.ISDR...)
	tests := []struct {
		name string
		cmd  []byte
		data []byte
		sw   uint16
	}{
		{"ES10 before SELECT", storeData(0x80), nil, 0x6985},
		{"select unknown AID", selectAID(0x00, 0x04, 0x00, ecasd), nil, 0x6A82},
		{"ES10 after failed SELECT", storeData(0x80), nil, 0x6985},
		{"select with bad P1", selectAID(0x00, 0x00, 0x00, apdu.ISDR), nil, 0x6A86},
		{"select with bad P2", selectAID(0x00, 0x04, 0x02, apdu.ISDR), nil, 0x6A86},
		{"select with short AID", selectAID(0x00, 0x04, 0x00, []byte{1, 2}), nil, 0x6A80},
		{"select ISD-R no FCI", selectAID(0x00, 0x04, 0x0C, apdu.ISDR), nil, 0x9000},
		{"select ISD-R with FCI", selectAID(0x00, 0x04, 0x00, apdu.ISDR), fci, 0x9000},
		{"STORE DATA with interindustry CLA", storeData(0x00), nil, 0x6E00},
		{"CLA FF", []byte{0xFF, 0xE2, 0x91, 0x00, 0x01, 0x00}, nil, 0x6E00},
		{"CLA RFU 20", []byte{0x20, 0xA4, 0x04, 0x00}, nil, 0x6E00},
		{"CLA with secure messaging", []byte{0x84, 0xE2, 0x91, 0x00, 0x01, 0x00}, nil, 0x6E00},
		{"CLA with command chaining", []byte{0x90, 0xE2, 0x91, 0x00, 0x01, 0x00}, nil, 0x6E00},
		{"unknown INS", []byte{0x80, 0xCA, 0x00, 0x5A, 0x00}, nil, 0x6D00},
		{"too short", []byte{0x80, 0xE2, 0x91}, nil, 0x6700},
		{"Lc mismatch", []byte{0x80, 0xE2, 0x91, 0x00, 0x05, 0x01}, nil, 0x6700},
		{"terminal capability", []byte{0x80, 0xAA, 0x00, 0x00, 0x0A, 0xA9, 0x08, 0x81, 0x00, 0x82, 0x01, 0x01, 0x83, 0x01, 0x07}, nil, 0x9000},
		{"GET RESPONSE with nothing pending", []byte{0x80, 0xC0, 0x00, 0x00, 0x10}, nil, 0x6985},
		{"channel 1 not open", storeData(0x81), nil, 0x6881},
		{"channel 4 not open", storeData(0xC0), nil, 0x6881},
	}
	for _, tt := range tests {
		data, sw := hexAPDU(t, c, tt.cmd)
		if sw != tt.sw || !bytes.Equal(data, tt.data) {
			t.Errorf("%s: got %X %04X, want %X %04X", tt.name, data, sw, tt.data, tt.sw)
		}
	}
	// The basic channel now has the ISD-R selected.
	data, sw := hexAPDU(t, c, storeData(0x80))
	if sw != 0x9000 {
		t.Fatalf("GetEID on channel 0: %04X", sw)
	}
	if r, err := rsp.DecodeGetEIDResponse(data); err != nil || r.EID != c.EID() {
		t.Fatalf("GetEID on channel 0: %+v %v", r, err)
	}
}

// TestChannels checks that every channel 1..19 (class byte first form for
// 1..3, further form for 4..19) carries its own selection.
func TestChannels(t *testing.T) {
	c, _ := openTest(t, Options{})
	var ls []*lpa
	for range numChannels - 1 {
		ls = append(ls, openISDR(t, c))
	}
	for _, l := range ls {
		t.Run(fmt.Sprintf("channel %d", l.ch), func(t *testing.T) {
			l.t = t
			cla := apdu.WithChannel(0x80, l.ch)
			if got := apdu.ChannelOf(cla); got != l.ch {
				t.Fatalf("class %02X addresses channel %d", cla, got)
			}
			r, err := rsp.DecodeGetEIDResponse(l.do(rsp.GetEIDRequest{}.Encode()))
			if err != nil || r.EID != c.EID() {
				t.Fatalf("GetEID: %+v %v", r, err)
			}
		})
	}
	// Closing a channel removes its selection; reopening it needs a SELECT.
	if _, sw := hexAPDU(t, c, []byte{0x00, 0x70, 0x80, 0x05}); sw != 0x9000 {
		t.Fatalf("close 5: %04X", sw)
	}
	if _, sw := hexAPDU(t, c, []byte{0x00, 0x70, 0x00, 0x05}); sw != 0x9000 {
		t.Fatalf("reopen 5: %04X", sw)
	}
	cmd := apdu.Command{CLA: apdu.WithChannel(0x80, 5), INS: 0xE2, P1: 0x91, Data: rsp.GetEIDRequest{}.Encode()}
	if _, sw := hexAPDU(t, c, cmd.Bytes()); sw != 0x6985 {
		t.Fatalf("ES10 on reopened channel without SELECT: %04X, want 6985", sw)
	}
}

func TestStoreDataChaining(t *testing.T) {
	for _, block := range []int{1, 7, 64, 120, 255} {
		for _, le := range []bool{false, true} {
			for _, ch := range []int{1, 3, 4, 19} {
				t.Run(fmt.Sprintf("block=%d le=%v ch=%d", block, le, ch), func(t *testing.T) {
					c, _ := openTest(t, Options{})
					if _, sw := hexAPDU(t, c, []byte{0x00, 0x70, 0x00, byte(ch)}); sw != 0x9000 {
						t.Fatalf("open channel: %04X", sw)
					}
					l := &lpa{t: t, c: c, ch: ch, block: block, le: le}
					l.selectISDR()
					a, _ := seeded(t, c)
					req := rsp.SetNicknameRequest{ICCID: a, Nickname: "a nickname that makes the request long enough to chain"}.Encode()
					r, err := rsp.DecodeSetNicknameResponse(l.do(req))
					if err != nil || r.Result != rsp.SetNicknameOK {
						t.Fatalf("SetNickname: %+v %v", r, err)
					}
					ps := l.profiles(rsp.GetProfilesInfoRequest{SearchICCID: a})
					if len(ps) != 1 || ps[0].Nickname != "a nickname that makes the request long enough to chain" {
						t.Fatalf("profile after SetNickname: %+v", ps)
					}
				})
			}
		}
	}
}

func TestStoreDataSequence(t *testing.T) {
	c, _ := openTest(t, Options{})
	l := openISDR(t, c)
	cla := apdu.WithChannel(0x80, l.ch)
	req := rsp.GetEIDRequest{}.Encode() // BF3E035C015A, 6 bytes
	sd := func(p1, p2 byte, data []byte) []byte {
		return apdu.Command{CLA: cla, INS: 0xE2, P1: p1, P2: p2, Data: data}.Bytes()
	}
	type step struct {
		cmd []byte
		sw  uint16
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"skipped block number", []step{
			{sd(0x11, 0x00, req[:2]), 0x9000},
			{sd(0x91, 0x02, req[2:]), 0x6A86},
			// The partial command was dropped: block 01 is now out of sequence too.
			{sd(0x91, 0x01, req[2:]), 0x6A86},
		}},
		{"first block not 00", []step{{sd(0x91, 0x01, req), 0x6A86}}},
		{"repeated block number", []step{
			{sd(0x11, 0x00, req[:2]), 0x9000},
			{sd(0x11, 0x00, req[2:4]), 0x6A86},
		}},
		{"bad P1", []step{{sd(0x01, 0x00, req), 0x6A86}}},
		{"empty block", []step{{sd(0x91, 0x00, nil), 0x6700}}},
		{"interrupted by another command", []step{
			{sd(0x11, 0x00, req[:2]), 0x9000},
			{[]byte{cla &^ 0x80, 0xA4, 0x04, 0x0C, 0x10}, 0x6A80}, // SELECT without an AID
			{apdu.Command{CLA: cla &^ 0x80, INS: 0xA4, P1: 0x04, P2: 0x0C, Data: apdu.ISDR}.Bytes(), 0x9000},
			{sd(0x91, 0x01, req[2:]), 0x6A86},
		}},
		{"not one TLV", []step{{sd(0x91, 0x00, append(bytes.Clone(req), 0x00)), 0x6A80}}},
		{"unknown function", []step{{sd(0x91, 0x00, []byte{0xBF, 0x7F, 0x00}), 0x6A80}}},
		{"undecodable request", []step{{sd(0x91, 0x00, []byte{0xBF, 0x31, 0x03, 0x80, 0x01, 0x00}), 0x6A80}}},
		{"truncated TLV", []step{{sd(0x91, 0x00, []byte{0xBF, 0x3E, 0x05, 0x5C}), 0x6A80}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, s := range tt.steps {
				if _, sw := hexAPDU(t, c, s.cmd); sw != s.sw {
					t.Fatalf("step %d (%X): %04X, want %04X", i, s.cmd, sw, s.sw)
				}
			}
			// A fresh, correct command works afterwards.
			if _, err := rsp.DecodeGetEIDResponse(l.do(req)); err != nil {
				t.Fatalf("GetEID afterwards: %v", err)
			}
		})
	}
}

// addBigProfile stores an extra disabled profile with an icon so that
// GetProfilesInfo answers with more than 512 bytes.
func addBigProfile(t *testing.T, c *Card, iccid string, class rsp.ProfileClass, preloaded bool) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.mutate(func(st *state) error {
		aid, err := st.allocISDP()
		if err != nil {
			return err
		}
		png := int(rsp.IconPNG)
		st.Profiles = append(st.Profiles, storedProfile{
			ICCID: iccid, ISDPAID: aid, ServiceProviderName: "Big", ProfileName: "Big profile",
			IconType: &png, Icon: bytes.Repeat([]byte{0x42}, 600), Class: int(class),
			IMSI: "001010000000001", MCCMNC: "00101", Preloaded: preloaded,
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestGetResponse(t *testing.T) {
	c, _ := openTest(t, Options{})
	addBigProfile(t, c, "89444765000000000016", rsp.ProfileClassTest, false)
	l := openISDR(t, c)
	cla := apdu.WithChannel(0x80, l.ch)
	req := rsp.GetProfilesInfoRequest{}.Encode()
	sd := apdu.Command{CLA: cla, INS: 0xE2, P1: 0x91, Data: req}.Bytes()

	want, sw := l.send(req)
	if sw != 0x9000 || len(want) <= 2*256 {
		t.Fatalf("GetProfilesInfo: %d bytes, %04X; want more than 512 bytes", len(want), sw)
	}
	if _, err := rsp.DecodeGetProfilesInfoResponse(want); err != nil {
		t.Fatalf("reassembled response: %v", err)
	}
	gr := func(claByte, le byte, hasLe bool) []byte {
		return apdu.Command{CLA: claByte, INS: 0xC0, Le: le, HasLe: hasLe}.Bytes()
	}

	t.Run("chunks of 256", func(t *testing.T) {
		data, sw := hexAPDU(t, c, sd)
		if len(data) != 256 || sw != 0x6100 {
			t.Fatalf("first: %d bytes %04X, want 256 bytes 6100", len(data), sw)
		}
		got := data
		for i := 0; sw != 0x9000; i++ {
			claByte := cla
			if i%2 == 1 {
				claByte &^= 0x80 // the ISO class byte is accepted too
			}
			data, sw = hexAPDU(t, c, gr(claByte, byte(sw), true))
			got = append(got, data...)
			switch left := len(want) - len(got); {
			case left == 0 && sw == 0x9000:
			case left > 0 && len(data) == 256 && sw == moreData(left):
			default:
				t.Fatalf("GET RESPONSE %d: %d bytes %04X with %d bytes left", i, len(data), sw, left)
			}
		}
		if !bytes.Equal(got, want) {
			t.Fatal("reassembled response differs")
		}
		if _, sw := hexAPDU(t, c, gr(cla, 0, true)); sw != 0x6985 {
			t.Fatalf("GET RESPONSE after the end: %04X", sw)
		}
	})
	t.Run("short Le and no Le", func(t *testing.T) {
		data, _ := hexAPDU(t, c, sd)
		got := data
		data, sw := hexAPDU(t, c, gr(cla, 0x10, true))
		if len(data) != 16 || sw != 0x6100 {
			t.Fatalf("Le=10: %d bytes %04X", len(data), sw)
		}
		got = append(got, data...)
		for sw != 0x9000 {
			data, sw = hexAPDU(t, c, gr(cla, 0, false))
			if sw != 0x9000 && sw>>8 != 0x61 {
				t.Fatalf("GET RESPONSE: %04X", sw)
			}
			got = append(got, data...)
		}
		if !bytes.Equal(got, want) {
			t.Fatal("reassembled response differs")
		}
	})
	t.Run("other command drops the response", func(t *testing.T) {
		hexAPDU(t, c, sd)
		l.do(rsp.GetEIDRequest{}.Encode())
		if _, sw := hexAPDU(t, c, gr(cla, 0, true)); sw != 0x6985 {
			t.Fatalf("GET RESPONSE after another command: %04X", sw)
		}
	})
	t.Run("wrong channel", func(t *testing.T) {
		hexAPDU(t, c, sd)
		if _, sw := hexAPDU(t, c, gr(0x80, 0, true)); sw != 0x6985 {
			t.Fatalf("GET RESPONSE on the basic channel: %04X", sw)
		}
		if _, sw := hexAPDU(t, c, apdu.Command{CLA: cla, INS: 0xC0, P1: 1, HasLe: true}.Bytes()); sw != 0x6A86 {
			t.Fatalf("GET RESPONSE with P1 01: %04X", sw)
		}
	})
}

func TestForceGetResponse(t *testing.T) {
	c, _ := openTest(t, Options{ForceGetResponse: true})
	sel := apdu.Command{CLA: 0x00, INS: 0xA4, P1: 0x04, P2: 0x00, Data: apdu.ISDR}.Bytes()
	data, sw := hexAPDU(t, c, sel)
	if len(data) != 0 || sw != 0x6114 {
		t.Fatalf("SELECT: %X %04X, want 6114 without data", data, sw)
	}
	data, sw = hexAPDU(t, c, []byte{0x00, 0xC0, 0x00, 0x00, 0x14})
	if sw != 0x9000 || !bytes.Equal(data[4:], apdu.ISDR) {
		t.Fatalf("GET RESPONSE: %X %04X", data, sw)
	}
	for _, req := range [][]byte{rsp.GetEIDRequest{}.Encode(), rsp.GetProfilesInfoRequest{}.Encode()} {
		data, sw := hexAPDU(t, c, apdu.Command{CLA: 0x80, INS: 0xE2, P1: 0x91, Data: req}.Bytes())
		if len(data) != 0 || sw>>8 != 0x61 {
			t.Fatalf("STORE DATA %X: %X %04X, want 61xx without data", req, data, sw)
		}
		l := &lpa{t: t, c: c, ch: 0}
		all, sw := l.collect(sw16(sw))
		if sw != 0x9000 {
			t.Fatalf("collect: %04X", sw)
		}
		if tg, err := tlv.DecodeOne(all); err != nil || tg.Tag.Bytes()[0] != req[0] || tg.Tag.Bytes()[1] != req[1] {
			t.Fatalf("response %X: %v", all, err)
		}
	}
	// Intermediate blocks still answer plain 9000.
	req := rsp.GetEIDRequest{}.Encode()
	if _, sw := hexAPDU(t, c, apdu.Command{CLA: 0x80, INS: 0xE2, P1: 0x11, Data: req[:3]}.Bytes()); sw != 0x9000 {
		t.Fatalf("intermediate block: %04X", sw)
	}
}

func sw16(sw uint16) []byte { return []byte{byte(sw >> 8), byte(sw)} }

func TestReset(t *testing.T) {
	c, _ := openTest(t, Options{})
	addBigProfile(t, c, "89444765000000000016", rsp.ProfileClassTest, false)
	l := openISDR(t, c)
	cla := apdu.WithChannel(0x80, l.ch)
	hexAPDU(t, c, apdu.Command{CLA: 0x00, INS: 0xA4, P1: 0x04, P2: 0x0C, Data: apdu.ISDR}.Bytes())
	l.do(tlv.NewConstructed(rsp.TagGetEUICCChallenge).Bytes())
	// A pending response on channel 1 and a partial command on channel 0.
	if _, sw := hexAPDU(t, c, apdu.Command{CLA: cla, INS: 0xE2, P1: 0x91, Data: rsp.GetProfilesInfoRequest{}.Encode()}.Bytes()); sw>>8 != 0x61 {
		t.Fatalf("GetProfilesInfo: %04X", sw)
	}
	eid := rsp.GetEIDRequest{}.Encode()
	if _, sw := hexAPDU(t, c, apdu.Command{CLA: 0x80, INS: 0xE2, P1: 0x11, Data: eid[:2]}.Bytes()); sw != 0x9000 {
		t.Fatalf("partial: %04X", sw)
	}
	c.Reset()
	if c.challenge != nil {
		t.Error("challenge survived the reset")
	}
	if _, sw := hexAPDU(t, c, apdu.Command{CLA: cla, INS: 0xC0, HasLe: true}.Bytes()); sw != 0x6881 {
		t.Errorf("GET RESPONSE on channel %d after reset: %04X, want 6881", l.ch, sw)
	}
	if _, sw := hexAPDU(t, c, apdu.Command{CLA: 0x80, INS: 0xE2, P1: 0x91, P2: 0x01, Data: eid[2:]}.Bytes()); sw != 0x6985 {
		t.Errorf("continuing a partial command after reset: %04X, want 6985 (nothing selected)", sw)
	}
	hexAPDU(t, c, apdu.Command{CLA: 0x00, INS: 0xA4, P1: 0x04, P2: 0x0C, Data: apdu.ISDR}.Bytes())
	if _, sw := hexAPDU(t, c, apdu.Command{CLA: 0x80, INS: 0xE2, P1: 0x91, P2: 0x01, Data: eid[2:]}.Bytes()); sw != 0x6A86 {
		t.Errorf("continuing a partial command after reset and SELECT: %04X, want 6A86", sw)
	}
	if data, sw := hexAPDU(t, c, []byte{0x00, 0x70, 0x00, 0x00, 0x01}); sw != 0x9000 || data[0] != 1 {
		t.Errorf("open after reset: %X %04X, want channel 1", data, sw)
	}
}

func TestBusy(t *testing.T) {
	c, _ := openTest(t, Options{})
	l := openISDR(t, c)
	for _, busy := range []uint16{0x6F00, 0x6985} {
		c.SetBusy(busy)
		if _, sw := l.send(rsp.GetEIDRequest{}.Encode()); sw != busy {
			t.Errorf("busy %04X: got %04X", busy, sw)
		}
	}
	c.SetBusy(0)
	l.do(rsp.GetEIDRequest{}.Encode())
}

func TestATR(t *testing.T) {
	c, _ := openTest(t, Options{})
	atr := c.ATR()
	if atr[0] != 0x3B {
		t.Fatalf("TS %02X", atr[0])
	}
	var x byte
	for _, b := range atr[1:] {
		x ^= b
	}
	if x != 0 {
		t.Fatalf("TCK does not check: %X", atr)
	}
	// Walk the interface bytes (ISO 7816-3) and find the TB that follows the
	// TD announcing T=15.
	y, hist := atr[1]>>4, int(atr[1]&0x0F)
	pos, proto, tb15 := 2, -1, -1
	for {
		if y&1 != 0 {
			pos++
		}
		if y&2 != 0 {
			if proto == 15 {
				tb15 = int(atr[pos])
			}
			pos++
		}
		if y&4 != 0 {
			pos++
		}
		if y&8 == 0 {
			break
		}
		y, proto = atr[pos]>>4, int(atr[pos]&0x0F)
		pos++
	}
	if len(atr) != pos+hist+1 {
		t.Fatalf("ATR %X: %d bytes, interface bytes end at %d, %d historical bytes + TCK", atr, len(atr), pos, hist)
	}
	if tb15 != 0x82 {
		t.Fatalf("ATR %X: TB after T=15 is %X, want 82 (eUICC)", atr, tb15)
	}
}
