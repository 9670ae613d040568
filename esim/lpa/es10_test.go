package lpa

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/tlv"
)

const (
	testICCID   = rsp.ICCID("89049032123451234512")
	testICCIDEF = "98400923214315325421" // EF.ICCID coding of testICCID (sgp22.md 2.1)
	testEID     = rsp.EID("89049032123451234512345678901235")
)

// newCardClient returns a client on a fakeCard answering with handle.
func newCardClient(t *testing.T, handle func(req []byte) []byte) (*Client, *fakeCard) {
	t.Helper()
	card := &fakeCard{t: t, handle: handle}
	c, err := New(context.Background(), card.open, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, card
}

// fixed answers every request with resp (hex).
func fixed(t *testing.T, resp string) func([]byte) []byte {
	b := mustHex(t, resp)
	return func([]byte) []byte { return b }
}

// TestMethods checks the exact request each method sends and how it maps
// the card's answer.
func TestMethods(t *testing.T) {
	seven := 7
	tests := []struct {
		name    string
		resp    string                                      // card answer (data only), hex
		call    func(context.Context, *Client) (any, error) // the method under test
		wantReq string                                      // exact request, hex
		want    any
		wantErr string
		code    int // for *rsp.ResultError
	}{
		{
			name:    "EID",
			resp:    "BF3E125A1089049032123451234512345678901235",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.EID(ctx) },
			wantReq: "BF3E035C015A",
			want:    testEID,
		},
		{
			name:    "EID with a bad check digit",
			resp:    "BF3E125A1089049032123451234512345678901234",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.EID(ctx) },
			wantReq: "BF3E035C015A",
			wantErr: "GetEID: decode response",
		},
		{
			name:    "Profiles",
			resp:    "BF2D 27 A0 25 E3 16 5A0A" + testICCIDEF + "9F700101 9004776F726B E3 0B 4F0501020304059F700100",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.Profiles(ctx) },
			wantReq: "BF2D00",
			want: []rsp.ProfileInfo{
				{ICCID: testICCID, State: 1, Nickname: "work", Present: []tlv.Tag{0x5A, 0x9F70, 0x90}},
				{ISDPAID: []byte{1, 2, 3, 4, 5}, State: 0, Present: []tlv.Tag{0x4F, 0x9F70}},
			},
		},
		{
			name:    "Profiles with card error",
			resp:    "BF2D03810101",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.Profiles(ctx) },
			wantReq: "BF2D00",
			wantErr: "GetProfilesInfo: incorrectInputValues (1)", code: 1,
		},
		{
			name:    "Profile found among all (card ignored the search)",
			resp:    "BF2D 27 A0 25 E3 0B 4F0501020304059F700100 E3 16 5A0A" + testICCIDEF + "9F700101 9004776F726B",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.Profile(ctx, testICCID) },
			wantReq: "BF2D0EA00C5A0A" + testICCIDEF,
			want:    rsp.ProfileInfo{ICCID: testICCID, State: 1, Nickname: "work", Present: []tlv.Tag{0x5A, 0x9F70, 0x90}},
		},
		{
			name:    "Profile not found",
			resp:    "BF2D02A000",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.Profile(ctx, testICCID) },
			wantReq: "BF2D0EA00C5A0A" + testICCIDEF,
			wantErr: "profile not found: ICCID 89049032123451234512",
		},
		{
			name: "Enable by ICCID with refresh",
			resp: "BF3103800100",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.Enable(ctx, rsp.ProfileID{ICCID: testICCID}, true)
			},
			wantReq: "BF3111A00C5A0A" + testICCIDEF + "8101FF",
		},
		{
			name: "Enable by AID fails with profileNotInDisabledState",
			resp: "BF3103800102",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.Enable(ctx, rsp.ProfileID{AID: []byte{0xA0, 0x00, 0x10}}, false)
			},
			wantReq: "BF310AA0054F03A000108101 00",
			wantErr: "EnableProfile: profileNotInDisabledState (2)", code: 2,
		},
		{
			name: "Disable",
			resp: "BF3203800100",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.Disable(ctx, rsp.ProfileID{ICCID: testICCID}, false)
			},
			wantReq: "BF3211A00C5A0A" + testICCIDEF + "810100",
		},
		{
			name: "Disable fails with profileNotInEnabledState",
			resp: "BF3203800102",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.Disable(ctx, rsp.ProfileID{ICCID: testICCID}, false)
			},
			wantReq: "BF3211A00C5A0A" + testICCIDEF + "810100",
			wantErr: "DisableProfile: profileNotInEnabledState (2)", code: 2,
		},
		{
			name: "Delete is sent bare",
			resp: "BF3303800100",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.Delete(ctx, rsp.ProfileID{ICCID: testICCID})
			},
			wantReq: "BF330C5A0A" + testICCIDEF,
		},
		{
			name: "Delete fails with iccidOrAidNotFound",
			resp: "BF3303800101",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.Delete(ctx, rsp.ProfileID{ICCID: testICCID})
			},
			wantReq: "BF330C5A0A" + testICCIDEF,
			wantErr: "DeleteProfile: iccidOrAidNotFound (1)", code: 1,
		},
		{
			name:    "SetNickname",
			resp:    "BF2903800100",
			call:    func(ctx context.Context, c *Client) (any, error) { return nil, c.SetNickname(ctx, testICCID, "home") },
			wantReq: "BF29125A0A" + testICCIDEF + "9004686F6D65",
		},
		{
			name:    "SetNickname fails with iccidNotFound",
			resp:    "BF2903800101",
			call:    func(ctx context.Context, c *Client) (any, error) { return nil, c.SetNickname(ctx, testICCID, "") },
			wantReq: "BF290E5A0A" + testICCIDEF + "9000",
			wantErr: "SetNickname: iccidNotFound (1)", code: 1,
		},
		{
			name:    "Notifications",
			resp:    "BF28 21 A0 1F BF2F 0F 800101 81020780 0C066470 2E6578 61 BF2F 0A 80020080 81020410 0C00",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.Notifications(ctx) },
			wantReq: "BF2800",
			want: []rsp.NotificationMetadata{
				{Seq: 1, Event: rsp.EventInstall, Address: "dp.exa"},
				{Seq: 128, Event: rsp.EventDelete, Address: ""},
			},
		},
		{
			name:    "Notifications with card error",
			resp:    "BF280381017F",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.Notifications(ctx) },
			wantReq: "BF2800",
			wantErr: "ListNotification: undefinedError (127)", code: 127,
		},
		{
			name:    "RetrieveNotifications by seq",
			resp:    "BF2B 16 A0 14 30 12 BF2F 0F 800107 81020640 0C0664702E657861",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.RetrieveNotifications(ctx, &seven) },
			wantReq: "BF2B05A003800107",
			want: []rsp.PendingNotification{{
				Raw:      mustHex(t, "3012BF2F0F80010781020640 0C0664702E657861"),
				Metadata: rsp.NotificationMetadata{Seq: 7, Event: rsp.EventEnable, Address: "dp.exa"},
			}},
		},
		{
			name:    "RetrieveNotifications all, none pending",
			resp:    "BF2B02A000",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.RetrieveNotifications(ctx, nil) },
			wantReq: "BF2B00",
			want:    []rsp.PendingNotification(nil),
		},
		{
			name:    "RetrieveNotifications noResultAvailable",
			resp:    "BF2B03810101",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.RetrieveNotifications(ctx, &seven) },
			wantReq: "BF2B05A003800107",
			wantErr: "RetrieveNotificationsList: noResultAvailable (1)", code: 1,
		},
		{
			name:    "RemoveNotification",
			resp:    "BF3003800100",
			call:    func(ctx context.Context, c *Client) (any, error) { return nil, c.RemoveNotification(ctx, 7) },
			wantReq: "BF3003800107",
		},
		{
			name:    "RemoveNotification nothingToDelete",
			resp:    "BF3003800101",
			call:    func(ctx context.Context, c *Client) (any, error) { return nil, c.RemoveNotification(ctx, 300) },
			wantReq: "BF300480 02012C",
			wantErr: "RemoveNotificationFromList: nothingToDelete (1)", code: 1,
		},
		{
			name:    "ConfiguredAddresses",
			resp:    "BF3C 0E 8006 64702E657861 8104 64732E65",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.ConfiguredAddresses(ctx) },
			wantReq: "BF3C00",
			want:    rsp.ConfiguredAddresses{DefaultDPAddress: "dp.exa", RootDSAddress: "ds.e"},
		},
		{
			name:    "SetDefaultDPAddress",
			resp:    "BF3F03800100",
			call:    func(ctx context.Context, c *Client) (any, error) { return nil, c.SetDefaultDPAddress(ctx, "dp.exa") },
			wantReq: "BF3F08800664702E657861",
		},
		{
			name:    "SetDefaultDPAddress undefinedError",
			resp:    "BF3F0380017F",
			call:    func(ctx context.Context, c *Client) (any, error) { return nil, c.SetDefaultDPAddress(ctx, "") },
			wantReq: "BF3F028000",
			wantErr: "SetDefaultDpAddress: undefinedError (127)", code: 127,
		},
		{
			name: "MemoryReset all three",
			resp: "BF3403800100",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.MemoryReset(ctx, rsp.ResetDeleteOperational|rsp.ResetDeleteFieldLoadedTest|rsp.ResetDefaultSMDP)
			},
			wantReq: "BF3404820205E0",
		},
		{
			name: "MemoryReset nothingToDelete",
			resp: "BF3403800101",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.MemoryReset(ctx, rsp.ResetDeleteOperational)
			},
			wantReq: "BF3404820207 80",
			wantErr: "eUICCMemoryReset: nothingToDelete (1)", code: 1,
		},
		{
			name:    "Challenge",
			resp:    "BF2E128010 000102030405060708090A0B0C0D0E0F",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.Challenge(ctx) },
			wantReq: "BF2E00",
			want:    mustHex(t, "000102030405060708090A0B0C0D0E0F"),
		},
		{
			name:    "Challenge of the wrong length",
			resp:    "BF2E0380010F",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.Challenge(ctx) },
			wantReq: "BF2E00",
			wantErr: "GetEUICCChallenge: decode response",
		},
		{
			name: "wrong response tag",
			resp: "BF3103800100",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.Delete(ctx, rsp.ProfileID{ICCID: testICCID})
			},
			wantReq: "BF330C5A0A" + testICCIDEF,
			wantErr: "DeleteProfile: decode response",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, card := newCardClient(t, fixed(t, tc.resp))
			got, err := tc.call(context.Background(), c)
			if req := card.last(); !bytes.Equal(req, mustHex(t, tc.wantReq)) {
				t.Errorf("request\n got %X\nwant %s", req, strings.ReplaceAll(tc.wantReq, " ", ""))
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				var re *rsp.ResultError
				if isRE := errors.As(err, &re); isRE != (tc.code != 0) || (isRE && re.Code != tc.code) {
					t.Errorf("err = %#v, want *rsp.ResultError with code %d: %v", err, tc.code, isRE)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != nil && !sameValue(got, tc.want) {
				t.Errorf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

// sameValue is reflect.DeepEqual that treats nil and empty slices alike.
func sameValue(got, want any) bool {
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	if g.Kind() == reflect.Slice && w.Kind() == reflect.Slice && g.Type() == w.Type() && g.Len() == 0 && w.Len() == 0 {
		return true
	}
	return reflect.DeepEqual(got, want)
}

func TestProfileNotFoundIsTyped(t *testing.T) {
	c, _ := newCardClient(t, fixed(t, "BF2D02A000"))
	_, err := c.Profile(context.Background(), testICCID)
	if !errors.Is(err, ErrProfileNotFound) {
		t.Fatalf("err = %v, want ErrProfileNotFound", err)
	}
}

// TestArgumentErrors: invalid arguments are refused before anything is sent.
func TestArgumentErrors(t *testing.T) {
	class := rsp.ProfileClass(2)
	long := strings.Repeat("x", rsp.MaxNicknameLen+1)
	tests := []struct {
		name    string
		call    func(context.Context, *Client) error
		wantErr string
	}{
		{"enable without id", func(ctx context.Context, c *Client) error { return c.Enable(ctx, rsp.ProfileID{}, false) }, "no ICCID or ISD-P AID"},
		{"disable with both", func(ctx context.Context, c *Client) error {
			return c.Disable(ctx, rsp.ProfileID{ICCID: testICCID, AID: []byte{1}}, false)
		}, "not both"},
		{"delete without id", func(ctx context.Context, c *Client) error { return c.Delete(ctx, rsp.ProfileID{}) }, "DeleteProfile: no ICCID"},
		{"nickname too long", func(ctx context.Context, c *Client) error { return c.SetNickname(ctx, testICCID, long) }, "65 bytes"},
		{"nickname not UTF-8", func(ctx context.Context, c *Client) error { return c.SetNickname(ctx, testICCID, "\xff") }, "UTF-8"},
		{"nickname without ICCID", func(ctx context.Context, c *Client) error { return c.SetNickname(ctx, "", "x") }, "empty ICCID"},
		{"profile without ICCID", func(ctx context.Context, c *Client) error { _, err := c.Profile(ctx, ""); return err }, "empty ICCID"},
		{"two search criteria", func(ctx context.Context, c *Client) error {
			_, err := c.ProfilesInfo(ctx, rsp.GetProfilesInfoRequest{SearchICCID: testICCID, SearchClass: &class})
			return err
		}, "at most one search criterion"},
		{"negative seq", func(ctx context.Context, c *Client) error { return c.RemoveNotification(ctx, -1) }, "negative"},
		{"negative retrieve seq", func(ctx context.Context, c *Client) error {
			s := -2
			_, err := c.RetrieveNotifications(ctx, &s)
			return err
		}, "negative"},
		{"memory reset without options", func(ctx context.Context, c *Client) error { return c.MemoryReset(ctx, 0) }, "no reset option"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, card := newCardClient(t, func([]byte) []byte {
				t.Error("request sent")
				return nil
			})
			err := tc.call(context.Background(), c)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if n := len(card.requests); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

// TestProfilesInfoSearch checks the encoding of the search criteria and the
// tag list.
func TestProfilesInfoSearch(t *testing.T) {
	class := rsp.ProfileClass(2)
	tests := []struct {
		name string
		req  rsp.GetProfilesInfoRequest
		want string
	}{
		{"by AID", rsp.GetProfilesInfoRequest{SearchAID: []byte{0xA0, 0x01}}, "BF2D06A0044F02A001"},
		{"by class", rsp.GetProfilesInfoRequest{SearchClass: &class}, "BF2D05A003950102"},
		{"tag list", rsp.GetProfilesInfoRequest{TagList: []tlv.Tag{0x5A, 0x9F70, 0x90}}, "BF2D065C045A9F7090"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, card := newCardClient(t, fixed(t, "BF2D02A000"))
			ps, err := c.ProfilesInfo(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != 0 {
				t.Errorf("got %d profiles", len(ps))
			}
			if got := card.last(); !bytes.Equal(got, mustHex(t, tc.want)) {
				t.Errorf("request %X, want %s", got, tc.want)
			}
		})
	}
}

// TestEUICCInfo round-trips the info structures through the client.
func TestEUICCInfo(t *testing.T) {
	cat := 2
	gp := rsp.Version{2, 3, 1}
	info1 := rsp.EUICCInfo1{
		SVN:                    rsp.Version{2, 2, 1},
		CIPKIDsForVerification: [][]byte{bytes.Repeat([]byte{0x11}, 20)},
		CIPKIDsForSigning:      [][]byte{bytes.Repeat([]byte{0x22}, 20)},
	}
	info2 := rsp.EUICCInfo2{
		ProfileVersion: rsp.Version{2, 3, 1}, SVN: rsp.Version{2, 2, 1}, FirmwareVersion: rsp.Version{1, 0, 0},
		ExtCardResource:        rsp.ExtCardResource{InstalledApplications: 2, FreeNVM: 400000, FreeRAM: 30000},
		UICCCapability:         []byte{0x06, 0x7F, 0xC0},
		GlobalPlatformVersion:  &gp,
		RSPCapability:          []byte{0x06, 0xC0},
		CIPKIDsForVerification: [][]byte{bytes.Repeat([]byte{0x11}, 20)},
		CIPKIDsForSigning:      [][]byte{bytes.Repeat([]byte{0x22}, 20)},
		Category:               &cat,
		PPVersion:              rsp.Version{0, 0, 1},
		SASAccreditationNumber: "TEST-SAS-01",
	}
	c, card := newCardClient(t, func(req []byte) []byte {
		switch {
		case bytes.Equal(req, mustHex(t, "BF2000")):
			return info1.Encode()
		case bytes.Equal(req, mustHex(t, "BF2200")):
			return info2.Encode()
		}
		return []byte{0x6A, 0x80}
	})
	ctx := context.Background()
	got1, err := c.EUICCInfo1(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got1, info1) {
		t.Errorf("EUICCInfo1\n got %+v\nwant %+v", got1, info1)
	}
	got2, err := c.EUICCInfo2(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got2, info2) {
		t.Errorf("EUICCInfo2\n got %+v\nwant %+v", got2, info2)
	}
	if len(card.requests) != 2 {
		t.Errorf("%d requests", len(card.requests))
	}
}

// TestLargeResponse: a profile list larger than one response APDU comes
// back through GET RESPONSE chaining.
func TestLargeResponse(t *testing.T) {
	icon := bytes.Repeat([]byte{0x89}, 1000)
	it := rsp.IconType(1)
	p := rsp.ProfileInfo{ICCID: testICCID, State: 1, ServiceProviderName: "Contoso", IconType: &it, Icon: icon}
	resp := rsp.GetProfilesInfoResponse{Profiles: []rsp.ProfileInfo{p, p, p}}.Encode()
	c, _ := newCardClient(t, func([]byte) []byte { return resp })
	ps, err := c.Profiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 || !bytes.Equal(ps[2].Icon, icon) || ps[2].ServiceProviderName != "Contoso" {
		t.Fatalf("got %d profiles: %+v", len(ps), ps)
	}
	// 1 STORE DATA + ceil(len/256)-1 GET RESPONSE
	if want := int64(1 + (len(resp)+255)/256 - 1); c.Stats().APDUs != want {
		t.Errorf("%d APDUs, want %d", c.Stats().APDUs, want)
	}
}

// TestRefreshReopens: after Enable/Disable with refresh the card resets;
// the next call, read or write, runs on a new channel without an error.
func TestRefreshReopens(t *testing.T) {
	for _, refresh := range []bool{true, false} {
		for _, op := range []string{"enable", "disable"} {
			t.Run(op+map[bool]string{true: " with refresh", false: " without refresh"}[refresh], func(t *testing.T) {
				var card *fakeCard
				c, card := newCardClient(t, func(req []byte) []byte {
					switch req[1] {
					case 0x31, 0x32:
						// the card answers, then the modem resets it
						if refresh {
							defer card.reset()
						}
						return []byte{0xBF, req[1], 0x03, 0x80, 0x01, 0x00}
					case 0x33:
						return mustHex(t, "BF3303800100")
					}
					return mustHex(t, "BF3E125A1089049032123451234512345678901235")
				})
				ctx := context.Background()
				id := rsp.ProfileID{ICCID: testICCID}
				var err error
				if op == "enable" {
					err = c.Enable(ctx, id, refresh)
				} else {
					err = c.Disable(ctx, id, refresh)
				}
				if err != nil {
					t.Fatal(err)
				}
				// A state-changing call right after: must not fail with ErrCardReset.
				if err := c.Delete(ctx, id); err != nil {
					t.Fatal(err)
				}
				if _, err := c.EID(ctx); err != nil {
					t.Fatal(err)
				}
				want := 1
				if refresh {
					want = 2
				}
				if card.opens != want {
					t.Errorf("%d channel opens, want %d", card.opens, want)
				}
			})
		}
	}
}

// TestUnexpectedResetOnRead: a reset nobody announced is absorbed by the
// retry of a read; a write reports ErrCardReset and the next call works.
func TestUnexpectedReset(t *testing.T) {
	c, card := newCardClient(t, func(req []byte) []byte {
		if req[1] == 0x3E {
			return mustHex(t, "BF3E125A1089049032123451234512345678901235")
		}
		return mustHex(t, "BF3303800100")
	})
	ctx := context.Background()
	card.reset()
	eid, err := c.EID(ctx)
	if err != nil || eid != testEID {
		t.Fatalf("EID after reset: %q, %v", eid, err)
	}
	card.reset()
	err = c.Delete(ctx, rsp.ProfileID{ICCID: testICCID})
	if !errors.Is(err, ErrCardReset) {
		t.Fatalf("Delete after reset: %v, want ErrCardReset", err)
	}
	var re *CardResetError
	if !errors.As(err, &re) || re.Function != "DeleteProfile" {
		t.Errorf("err = %v", err)
	}
	if err := c.Delete(ctx, rsp.ProfileID{ICCID: testICCID}); err != nil {
		t.Fatalf("Delete on the new channel: %v", err)
	}
	if card.opens != 3 {
		t.Errorf("%d opens, want 3", card.opens)
	}
	if n := len(card.requests); n != 2 {
		t.Errorf("%d requests reached the card, want 2 (EID and the second Delete)", n)
	}
}

func FuzzDecodeChallenge(f *testing.F) {
	f.Add(mustHex(f, "BF2E128010000102030405060708090A0B0C0D0E0F"))
	f.Add(mustHex(f, "BF2E0380010F"))
	f.Add(mustHex(f, "BF2E00"))
	f.Add(mustHex(f, "BF3E03800100"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ch, err := decodeChallenge(b)
		if err == nil && len(ch) != ChallengeLen {
			t.Fatalf("accepted a %d-byte challenge", len(ch))
		}
	})
}
