package rsp

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// withExtra re-wraps the complete TLV b with unknown elements added before
// and after its children.
func withExtra(t testing.TB, b []byte) []byte {
	t.Helper()
	outer, err := tlv.DecodeOne(b)
	if err != nil {
		t.Fatalf("bad fixture %X: %v", b, err)
	}
	v := append(unhex(t, "9F7F0142"), outer.Value...)
	v = append(v, unhex(t, "BF7F03DF0100")...)
	return tlv.New(outer.Tag, v).Bytes()
}

func TestUnknownTagsTolerated(t *testing.T) {
	for _, c := range allMessages(t) {
		if _, ok := c.v.(PendingNotification); ok {
			continue // Raw is the exact input, so extra tags change it
		}
		t.Run(c.name, func(t *testing.T) {
			in := withExtra(t, c.v.Encode())
			got, err := c.dec(in)
			if err != nil {
				t.Fatalf("decode %X: %v", in, err)
			}
			if !reflect.DeepEqual(got, any(c.v)) {
				t.Fatalf("got %+v, want %+v", got, c.v)
			}
		})
	}
}

func TestUnknownTagsInside(t *testing.T) {
	// A ProfileInfo with B8 dpProprietaryData and an unknown tag, inside a
	// list that also holds a non-E3 element; EUICCInfo2 with v2.5 fields.
	pi := unhex(t, "E3195A0A"+hexTestICCID+"9F700100B803800101DF2001FF")
	resp := tlv.NewConstructed(TagProfilesInfo, tlv.New(0xA0, append(unhex(t, "E000"), pi...))).Bytes()
	got, err := DecodeGetProfilesInfoResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	want := []ProfileInfo{{ICCID: testICCID, State: ProfileDisabled, Present: tags(TagICCID, TagProfileState)}}
	if !reflect.DeepEqual(got.Profiles, want) {
		t.Fatalf("got %+v", got.Profiles)
	}

	info := unhex(t, hexEUICCInfo2)
	outer, _ := tlv.DecodeOne(info)
	v := append(bytes.Clone(outer.Value), unhex(t, "AC03800100"+"8D0100"+"AF0504030203 00")...)
	ext, err := DecodeEUICCInfo2(tlv.New(TagEUICCInfo2, v).Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ext, testEUICCInfo2(t)) {
		t.Fatalf("got %+v", ext)
	}
}

func TestLenientForms(t *testing.T) {
	aid := unhex(t, hexISDPAID)
	tests := []struct {
		name string
		in   string
		dec  func([]byte) (any, error)
		want any
	}{
		{"enable bare ICCID, no refresh", "BF310C5A0A" + hexTestICCID,
			func(b []byte) (any, error) { return DecodeEnableProfileRequest(b) }, EnableProfileRequest{ID: ProfileID{ICCID: testICCID}}},
		{"enable bare AID", "BF31124F10" + hexISDPAID,
			func(b []byte) (any, error) { return DecodeEnableProfileRequest(b) }, EnableProfileRequest{ID: ProfileID{AID: aid}}},
		{"disable bare ICCID with refresh BER true", "BF320F5A0A" + hexTestICCID + "810101",
			func(b []byte) (any, error) { return DecodeDisableProfileRequest(b) }, DisableProfileRequest{ID: ProfileID{ICCID: testICCID}, Refresh: true}},
		{"delete with A0 wrapper", "BF330EA00C5A0A" + hexTestICCID,
			func(b []byte) (any, error) { return DecodeDeleteProfileRequest(b) }, DeleteProfileRequest{ID: ProfileID{ICCID: testICCID}}},
		{"result as non-minimal INTEGER", "BF310480020002",
			func(b []byte) (any, error) { return DecodeEnableProfileResponse(b) }, EnableProfileResponse{Result: EnableProfileNotInDisabledState}},
		{"profiles error 0 with list", "BF2D05810100A000",
			func(b []byte) (any, error) { return DecodeGetProfilesInfoResponse(b) }, GetProfilesInfoResponse{}},
		{"notification list error wins over list", "BF280581017FA000",
			func(b []byte) (any, error) { return DecodeListNotificationResponse(b) }, ListNotificationResponse{Err: ListNotificationUndefinedError}},
		{"first profile identification wins", "BF33165A0A" + hexTestICCID + "4F08A000000559101000",
			func(b []byte) (any, error) { return DecodeDeleteProfileRequest(b) }, DeleteProfileRequest{ID: ProfileID{ICCID: testICCID}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.dec(unhex(t, tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestProfileInfoPresent(t *testing.T) {
	full := testProfileInfo(t)
	tests := []struct {
		name    string
		present []tlv.Tag
		want    string
	}{
		{"nil emits set fields", nil, hexProfileInfo},
		{"tag list subset, any order", tags(TagProfileState, TagNickname, TagICCID), "E3165A0A" + hexTestICCID + "9F7001019004576F726B"},
		{"empty list emits nothing", []tlv.Tag{}, "E300"},
		{"unknown tag ignored", tags(0xB8, TagProfileName), "E30E920C436F6E746F736F20506C616E"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := full
			p.Present = tt.present
			if got := p.Encode(); !bytes.Equal(got, unhex(t, tt.want)) {
				t.Fatalf("got %X, want %s", got, tt.want)
			}
		})
	}
	// Unset fields are skipped even when listed, except State, and a nil
	// Present on a sparse profile emits only what is set.
	sparse := ProfileInfo{ICCID: testICCID, Present: tags(TagICCID, TagIconType, TagProfileClass, TagProfileOwner, TagNickname)}
	if got, want := sparse.Encode(), unhex(t, "E30E5A0A"+hexTestICCID+"9000"); !bytes.Equal(got, want) {
		t.Errorf("listed but unset: got %X, want %X", got, want)
	}
	sparse.Present = nil
	if got, want := sparse.Encode(), unhex(t, "E3105A0A"+hexTestICCID+"9F700100"); !bytes.Equal(got, want) {
		t.Errorf("nil Present: got %X, want %X", got, want)
	}
	// Decoding reports Present in ASN.1 order whatever the input order.
	got, err := DecodeProfileInfo(unhex(t, "E3169004576F726B9F7001015A0A"+hexTestICCID))
	if err != nil {
		t.Fatal(err)
	}
	if want := tags(TagICCID, TagProfileState, TagNickname); !reflect.DeepEqual(got.Present, want) {
		t.Errorf("Present = %v, want %v", got.Present, want)
	}
}

func TestSetNicknameEncodeCuts(t *testing.T) {
	long := "ü" + string(bytes.Repeat([]byte("a"), 61)) + "ü" // 65 bytes, the last rune straddles byte 64
	r := SetNicknameRequest{ICCID: testICCID, Nickname: long}
	if err := r.Validate(); err == nil {
		t.Fatal("Validate accepted a 66-byte nickname")
	}
	got, err := DecodeSetNicknameRequest(r.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if got.Nickname != long[:63] {
		t.Fatalf("nickname cut to %q (%d bytes), want the first 63 bytes", got.Nickname, len(got.Nickname))
	}
	if err := (SetNicknameRequest{Nickname: "Work"}).Validate(); err != nil {
		t.Fatal(err)
	}
}
