package rsp

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

type encoder interface{ Encode() []byte }

// codecCase is one message with its decoder, for round-trip tests.
type codecCase struct {
	name string
	v    encoder
	dec  func([]byte) (any, error)
}

func codec[T encoder](name string, v T, dec func([]byte) (T, error)) codecCase {
	return codecCase{name: name, v: v, dec: func(b []byte) (any, error) { return dec(b) }}
}

func allMessages(t testing.TB) []codecCase {
	aid := unhex(t, hexISDPAID)
	seq := 7
	class := ProfileClassTest
	other := OtherSignedNotification{
		TBS:              testMetadata(),
		Signature:        bytes.Repeat([]byte{1}, 64),
		EUICCCertificate: []byte{0x30, 0x02, 0x05, 0x00},
		EUMCertificate:   []byte{0x30, 0x03, 0x01, 0x01, 0xFF},
	}
	minimal := ProfileInfo{ICCID: "8904903212345123451", State: ProfileDisabled, Present: tags(TagICCID, TagProfileState)}
	return []codecCase{
		codec("GetEIDRequest", GetEIDRequest{}, DecodeGetEIDRequest),
		codec("GetEIDResponse", GetEIDResponse{EID: testEID}, DecodeGetEIDResponse),
		codec("GetEUICCInfo1Request", GetEUICCInfo1Request{}, DecodeGetEUICCInfo1Request),
		codec("EUICCInfo1", EUICCInfo1{SVN: Version{2, 2, 0}, CIPKIDsForVerification: [][]byte{testSKI(t)},
			CIPKIDsForSigning: [][]byte{testSKI(t), {1, 2}}}, DecodeEUICCInfo1),
		codec("GetEUICCInfo2Request", GetEUICCInfo2Request{}, DecodeGetEUICCInfo2Request),
		codec("EUICCInfo2", testEUICCInfo2(t), DecodeEUICCInfo2),
		codec("EUICCInfo2 minimal optional", EUICCInfo2{SVN: Version{2, 5, 0}, UICCCapability: []byte{0},
			RSPCapability: []byte{0}, ExtCardResource: ExtCardResource{FreeNVM: 1 << 40}}, DecodeEUICCInfo2),
		codec("GetProfilesInfoRequest empty", GetProfilesInfoRequest{}, DecodeGetProfilesInfoRequest),
		codec("GetProfilesInfoRequest AID", GetProfilesInfoRequest{SearchAID: aid}, DecodeGetProfilesInfoRequest),
		codec("GetProfilesInfoRequest ICCID+tags", GetProfilesInfoRequest{SearchICCID: testICCID,
			TagList: tags(TagICCID, TagProfileState, TagNickname)}, DecodeGetProfilesInfoRequest),
		codec("GetProfilesInfoRequest class", GetProfilesInfoRequest{SearchClass: &class, TagList: []tlv.Tag{}},
			DecodeGetProfilesInfoRequest),
		codec("ProfileInfo", testProfileInfo(t), DecodeProfileInfo),
		codec("GetProfilesInfoResponse", GetProfilesInfoResponse{Profiles: []ProfileInfo{testProfileInfo(t), minimal}},
			DecodeGetProfilesInfoResponse),
		codec("GetProfilesInfoResponse empty", GetProfilesInfoResponse{}, DecodeGetProfilesInfoResponse),
		codec("GetProfilesInfoResponse error", GetProfilesInfoResponse{Err: ProfileInfoListIncorrectInputValues},
			DecodeGetProfilesInfoResponse),
		codec("EnableProfileRequest ICCID", EnableProfileRequest{ID: ProfileID{ICCID: testICCID}, Refresh: true},
			DecodeEnableProfileRequest),
		codec("EnableProfileRequest AID", EnableProfileRequest{ID: ProfileID{AID: aid}}, DecodeEnableProfileRequest),
		codec("EnableProfileResponse", EnableProfileResponse{Result: EnableCATBusy}, DecodeEnableProfileResponse),
		codec("DisableProfileRequest", DisableProfileRequest{ID: ProfileID{AID: aid}, Refresh: true}, DecodeDisableProfileRequest),
		codec("DisableProfileResponse", DisableProfileResponse{Result: DisableProfileNotInEnabledState}, DecodeDisableProfileResponse),
		codec("DeleteProfileRequest ICCID", DeleteProfileRequest{ID: ProfileID{ICCID: testICCID}}, DecodeDeleteProfileRequest),
		codec("DeleteProfileRequest AID", DeleteProfileRequest{ID: ProfileID{AID: aid}}, DecodeDeleteProfileRequest),
		codec("DeleteProfileResponse", DeleteProfileResponse{Result: DeleteUndefinedError}, DecodeDeleteProfileResponse),
		codec("SetNicknameRequest", SetNicknameRequest{ICCID: testICCID, Nickname: "Reise ✈"}, DecodeSetNicknameRequest),
		codec("SetNicknameRequest empty", SetNicknameRequest{ICCID: testICCID}, DecodeSetNicknameRequest),
		codec("SetNicknameResponse", SetNicknameResponse{Result: SetNicknameICCIDNotFound}, DecodeSetNicknameResponse),
		codec("MemoryResetRequest", MemoryResetRequest{Options: ResetDeleteOperational | ResetDefaultSMDP}, DecodeMemoryResetRequest),
		codec("MemoryResetRequest none", MemoryResetRequest{}, DecodeMemoryResetRequest),
		codec("MemoryResetResponse", MemoryResetResponse{Result: MemoryResetNothingToDelete}, DecodeMemoryResetResponse),
		codec("GetConfiguredAddressesRequest", GetConfiguredAddressesRequest{}, DecodeGetConfiguredAddressesRequest),
		codec("ConfiguredAddresses", ConfiguredAddresses{DefaultDPAddress: "smdp.example.com", RootDSAddress: "lpa.ds.gsma.com"},
			DecodeConfiguredAddresses),
		codec("ConfiguredAddresses root only", ConfiguredAddresses{RootDSAddress: "lpa.ds.gsma.com"}, DecodeConfiguredAddresses),
		codec("SetDefaultDPAddressRequest", SetDefaultDPAddressRequest{Address: "smdp.example.com"}, DecodeSetDefaultDPAddressRequest),
		codec("SetDefaultDPAddressResponse", SetDefaultDPAddressResponse{Result: SetDefaultDPAddressUndefinedError},
			DecodeSetDefaultDPAddressResponse),
		codec("ListNotificationRequest all", ListNotificationRequest{}, DecodeListNotificationRequest),
		codec("ListNotificationRequest filter", ListNotificationRequest{Events: EventEnable | EventDelete}, DecodeListNotificationRequest),
		codec("NotificationMetadata", testMetadata(), DecodeNotificationMetadata),
		codec("NotificationMetadata no ICCID", NotificationMetadata{Seq: 0, Event: EventInstall, Address: "a"}, DecodeNotificationMetadata),
		codec("ListNotificationResponse", ListNotificationResponse{Notifications: []NotificationMetadata{testMetadata(),
			{Seq: 300, Event: EventDelete, Address: "b"}}}, DecodeListNotificationResponse),
		codec("ListNotificationResponse error", ListNotificationResponse{Err: ListNotificationUndefinedError}, DecodeListNotificationResponse),
		codec("RetrieveNotificationsListRequest all", RetrieveNotificationsListRequest{}, DecodeRetrieveNotificationsListRequest),
		codec("RetrieveNotificationsListRequest seq", RetrieveNotificationsListRequest{Seq: &seq}, DecodeRetrieveNotificationsListRequest),
		codec("RetrieveNotificationsListRequest events", RetrieveNotificationsListRequest{Events: EventInstall},
			DecodeRetrieveNotificationsListRequest),
		codec("OtherSignedNotification", other, DecodeOtherSignedNotification),
		codec("PendingNotification other", PendingNotification{Raw: other.Encode(), Metadata: testMetadata()}, DecodePendingNotification),
		codec("PendingNotification install", PendingNotification{Raw: unhex(t, hexPIR),
			Metadata: NotificationMetadata{Seq: 9, Event: EventInstall, Address: "smdp.example.com", ICCID: testICCID}},
			DecodePendingNotification),
		codec("RetrieveNotificationsListResponse", RetrieveNotificationsListResponse{Notifications: []PendingNotification{
			{Raw: unhex(t, hexPIR), Metadata: NotificationMetadata{Seq: 9, Event: EventInstall, Address: "smdp.example.com", ICCID: testICCID}},
			{Raw: other.Encode(), Metadata: testMetadata()}}}, DecodeRetrieveNotificationsListResponse),
		codec("RetrieveNotificationsListResponse error", RetrieveNotificationsListResponse{Err: RetrieveNotificationNoResultAvailable},
			DecodeRetrieveNotificationsListResponse),
		codec("NotificationSentRequest", NotificationSentRequest{Seq: 128}, DecodeNotificationSentRequest),
		codec("NotificationSentResponse", NotificationSentResponse{Result: NotificationSentNothingToDelete}, DecodeNotificationSentResponse),
	}
}

func TestRoundTrip(t *testing.T) {
	for _, c := range allMessages(t) {
		t.Run(c.name, func(t *testing.T) {
			b := c.v.Encode()
			got, err := c.dec(b)
			if err != nil {
				t.Fatalf("decode %X: %v", b, err)
			}
			if !reflect.DeepEqual(got, any(c.v)) {
				t.Fatalf("round trip mismatch\n got  %+v\n want %+v\n enc  %X", got, c.v, b)
			}
			if again := got.(encoder).Encode(); !bytes.Equal(again, b) {
				t.Fatalf("re-encoding differs:\n %X\n %X", again, b)
			}
		})
	}
}

func TestKnownEncodings(t *testing.T) {
	aid := unhex(t, hexISDPAID)
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"GetEID request", GetEIDRequest{}.Encode(), hexGetEIDReq},
		{"GetEID response", GetEIDResponse{EID: testEID}.Encode(), hexGetEIDResp},
		{"ICCID 20 digits", ICCID(testICCID).Encode(), hexTestICCID},
		{"ICCID 19 digits", ICCID("8904903212345123451").Encode(), "984009232143153254F1"},
		{"ICCID 18 digits", ICCID("890490321234512345").Encode(), "984009232143153254FF"},
		{"EID", EID(testEID).Encode(), testEID},
		{"event install", EventInstall.bitString(), "0780"},
		{"event enable", EventEnable.bitString(), "0640"},
		{"event disable", EventDisable.bitString(), "0520"},
		{"event delete", EventDelete.bitString(), "0410"},
		{"event none", NotificationEvent(0).bitString(), "00"},
		{"ListNotification install", ListNotificationRequest{Events: EventInstall}.Encode(), "BF280481020780"},
		{"ListNotification all", ListNotificationRequest{}.Encode(), "BF2800"},
		{"memory reset all", MemoryResetRequest{Options: ResetDeleteOperational | ResetDeleteFieldLoadedTest | ResetDefaultSMDP}.Encode(), hexMemoryReset},
		{"memory reset operational", MemoryResetRequest{Options: ResetDeleteOperational}.Encode(), "BF340482020780"},
		{"enable by ICCID", EnableProfileRequest{ID: ProfileID{ICCID: testICCID}, Refresh: true}.Encode(), hexEnable},
		{"disable by AID", DisableProfileRequest{ID: ProfileID{AID: aid}}.Encode(), hexDisable},
		{"delete bare", DeleteProfileRequest{ID: ProfileID{ICCID: testICCID}}.Encode(), hexDelete},
		{"set nickname", SetNicknameRequest{ICCID: testICCID, Nickname: "Work"}.Encode(), hexNickname},
		{"notification sent 128", NotificationSentRequest{Seq: 128}.Encode(), "BF300480020080"},
		{"notification sent 0", NotificationSentRequest{Seq: 0}.Encode(), "BF3003800100"},
		{"enable result ok", EnableProfileResponse{}.Encode(), "BF3103800100"},
		{"delete result 127", DeleteProfileResponse{Result: DeleteUndefinedError}.Encode(), "BF330380017F"},
		{"EUICCInfo1", EUICCInfo1{SVN: Version{2, 2, 0}, CIPKIDsForVerification: [][]byte{testSKI(t)},
			CIPKIDsForSigning: [][]byte{testSKI(t)}}.Encode(), hexEUICCInfo1},
		{"EUICCInfo2 (ppVersion 04, sas 0C)", testEUICCInfo2(t).Encode(), hexEUICCInfo2},
		{"GetProfilesInfo lpac", GetProfilesInfoRequest{}.Encode(), "BF2D00"},
		{"GetProfilesInfo tag list", GetProfilesInfoRequest{TagList: tags(TagICCID, TagNickname, TagProfileState)}.Encode(), "BF2D065C045A909F70"},
		{"GetProfilesInfo by ICCID", GetProfilesInfoRequest{SearchICCID: testICCID}.Encode(), "BF2D0EA00C5A0A" + hexTestICCID},
		{"GetProfilesInfo by class", GetProfilesInfoRequest{SearchClass: ptr(ProfileClassOperational)}.Encode(), "BF2D05A003950102"},
		{"ProfileInfo", testProfileInfo(t).Encode(), hexProfileInfo},
		{"profiles error", GetProfilesInfoResponse{Err: ProfileInfoListUndefinedError}.Encode(), "BF2D0381017F"},
		{"profiles empty", GetProfilesInfoResponse{}.Encode(), "BF2D02A000"},
		{"metadata", testMetadata().Encode(), hexMetadata},
		{"other signed notification", OtherSignedNotification{TBS: testMetadata(), Signature: bytes.Repeat([]byte{1}, 64),
			EUICCCertificate: []byte{0x30, 0x02, 0x05, 0x00}, EUMCertificate: []byte{0x30, 0x03, 0x01, 0x01, 0xFF}}.Encode(), hexOtherSig},
		{"retrieve by seq", RetrieveNotificationsListRequest{Seq: ptr(1)}.Encode(), "BF2B05A003800101"},
		{"retrieve by events", RetrieveNotificationsListRequest{Events: EventEnable}.Encode(), "BF2B06A00481020640"},
		{"configured addresses", ConfiguredAddresses{RootDSAddress: "a"}.Encode(), "BF3C03810161"},
		{"set default DP", SetDefaultDPAddressRequest{Address: "smdp.local"}.Encode(), "BF3F0C800A736D64702E6C6F63616C"},
		{"get EUICCInfo2", GetEUICCInfo2Request{}.Encode(), "BF2200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if want := unhex(t, tt.want); !bytes.Equal(tt.got, want) {
				t.Fatalf("got %X, want %X", tt.got, want)
			}
		})
	}
}

func TestEncInt(t *testing.T) {
	tests := []struct {
		v    int64
		want string
	}{
		{0, "00"}, {1, "01"}, {127, "7F"}, {128, "0080"}, {255, "00FF"}, {256, "0100"},
		{-1, "FF"}, {-128, "80"}, {-129, "FF7F"}, {1<<63 - 1, "7FFFFFFFFFFFFFFF"}, {-1 << 63, "8000000000000000"},
	}
	for _, tt := range tests {
		got := encInt(tt.v)
		if !bytes.Equal(got, unhex(t, tt.want)) {
			t.Errorf("encInt(%d) = %X, want %s", tt.v, got, tt.want)
		}
		back, err := decInt(got)
		if err != nil || int64(back) != tt.v {
			t.Errorf("decInt(%X) = %d, %v; want %d", got, back, err, tt.v)
		}
	}
	if v, err := decInt([]byte{0x00, 0x00, 0x05}); err != nil || v != 5 {
		t.Errorf("non-minimal INTEGER: %d, %v", v, err)
	}
	for _, bad := range [][]byte{nil, make([]byte, 9)} {
		if _, err := decInt(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("decInt(%X): err %v, want ErrMalformed", bad, err)
		}
	}
}

func TestBits(t *testing.T) {
	tests := []struct {
		in      string
		want    uint8
		wantErr bool
	}{
		{"00", 0, false},
		{"0780", 1, false},
		{"0640", 2, false},
		{"05E0", 7, false},
		{"07FF", 1, false},        // unused bits are masked off
		{"0010", 8, false},        // DER would drop the trailing zeros, BER may not
		{"00F00102", 0x0F, false}, // bits beyond 7 are ignored
		{"", 0, true},
		{"08FF", 0, true},
		{"01", 0, true},
	}
	for _, tt := range tests {
		got, err := decBits8(unhex(t, tt.in))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("decBits8(%s) = %d, %v; want %d, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	for v := 0; v < 256; v++ {
		got, err := decBits8(encBits8(uint8(v)))
		if err != nil || got != uint8(v) {
			t.Errorf("bits round trip %08b: %08b, %v", v, got, err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	pi := func(b []byte) error { _, err := DecodeProfileInfo(b); return err }
	tests := []struct {
		name string
		in   string
		dec  func([]byte) error
		want error
	}{
		{"GetEID wrong tag", "BF2D035C015A", func(b []byte) error { _, err := DecodeGetEIDRequest(b); return err }, ErrWrongTag},
		{"GetEID truncated", "BF3E035C01", func(b []byte) error { _, err := DecodeGetEIDRequest(b); return err }, tlv.ErrTruncated},
		{"GetEID empty", "", func(b []byte) error { _, err := DecodeGetEIDRequest(b); return err }, tlv.ErrTruncated},
		{"GetEID trailing", hexGetEIDReq + "00", func(b []byte) error { _, err := DecodeGetEIDRequest(b); return err }, tlv.ErrTrailing},
		{"GetEID response bad check digits", "BF3E125A1089049032123451234512345678901335",
			func(b []byte) error { _, err := DecodeGetEIDResponse(b); return err }, ErrBadEID},
		{"GetEID response non-BCD", "BF3E125A108904903212345123451234567890123A",
			func(b []byte) error { _, err := DecodeGetEIDResponse(b); return err }, ErrBadEID},
		{"GetEID response short EID", "BF3E115A0F890490321234512345123456789012",
			func(b []byte) error { _, err := DecodeGetEIDResponse(b); return err }, ErrBadEID},
		{"GetEID response no EID", "BF3E00", func(b []byte) error { _, err := DecodeGetEIDResponse(b); return err }, ErrMissingField},
		{"Enable wrong tag", strings.Replace(hexEnable, "BF31", "BF32", 1),
			func(b []byte) error { _, err := DecodeEnableProfileRequest(b); return err }, ErrWrongTag},
		{"Enable bad ICCID nibble", "BF3111A00C5A0A9840092321431532542A8101FF",
			func(b []byte) error { _, err := DecodeEnableProfileRequest(b); return err }, ErrBadICCID},
		{"Enable short ICCID", "BF3110A00B5A099840092321431532548101FF",
			func(b []byte) error { _, err := DecodeEnableProfileRequest(b); return err }, ErrBadICCID},
		{"Enable no profile", "BF3103810100", func(b []byte) error { _, err := DecodeEnableProfileRequest(b); return err }, ErrMissingField},
		{"Enable bad bool", "BF3112A00C5A0A98400923214315325421810200FF",
			func(b []byte) error { _, err := DecodeEnableProfileRequest(b); return err }, ErrMalformed},
		{"Enable truncated inner", "BF3106A0045A0A9840",
			func(b []byte) error { _, err := DecodeEnableProfileRequest(b); return err }, tlv.ErrTruncated},
		{"Delete nothing", "BF3300", func(b []byte) error { _, err := DecodeDeleteProfileRequest(b); return err }, ErrMissingField},
		{"Delete ICCID digit after F", "BF330C5A0A9840092321431532F421",
			func(b []byte) error { _, err := DecodeDeleteProfileRequest(b); return err }, ErrBadICCID},
		{"Result missing", "BF3100", func(b []byte) error { _, err := DecodeEnableProfileResponse(b); return err }, ErrMissingField},
		{"Result empty INTEGER", "BF31028000", func(b []byte) error { _, err := DecodeEnableProfileResponse(b); return err }, ErrMalformed},
		{"Nickname too long", "BF294F" + "5A0A" + hexTestICCID + "9041" + strings.Repeat("41", 65),
			func(b []byte) error { _, err := DecodeSetNicknameRequest(b); return err }, ErrMalformed},
		{"Nickname bad UTF-8", "BF29105A0A" + hexTestICCID + "9002C328",
			func(b []byte) error { _, err := DecodeSetNicknameRequest(b); return err }, ErrMalformed},
		{"Nickname missing", "BF290C5A0A" + hexTestICCID,
			func(b []byte) error { _, err := DecodeSetNicknameRequest(b); return err }, ErrMissingField},
		{"Memory reset bad bits", "BF3404820209E0", func(b []byte) error { _, err := DecodeMemoryResetRequest(b); return err }, ErrMalformed},
		{"Memory reset missing", "BF3400", func(b []byte) error { _, err := DecodeMemoryResetRequest(b); return err }, ErrMissingField},
		{"ProfileInfo wrong tag", "E200", pi, ErrWrongTag},
		{"ProfileInfo bad ICCID", "E30C5A0A" + "A8400923214315325421", pi, ErrBadICCID},
		{"ProfileInfo bad state", "E3039F7000", pi, ErrMalformed},
		{"ProfileInfo owner without mccMnc", "E304B7028100", pi, ErrMissingField},
		{"ProfileInfo bad notification event", "E308B606300480020800", pi, ErrMalformed},
		{"ProfilesInfo neither list nor error", "BF2D00", func(b []byte) error { _, err := DecodeGetProfilesInfoResponse(b); return err }, ErrMissingField},
		{"ProfilesInfo bad profile", "BF2D07A005E3039F7000",
			func(b []byte) error { _, err := DecodeGetProfilesInfoResponse(b); return err }, ErrMalformed},
		{"ProfilesInfo request empty criteria", "BF2D02A000",
			func(b []byte) error { _, err := DecodeGetProfilesInfoRequest(b); return err }, ErrMalformed},
		{"ProfilesInfo request bad tag list", "BF2D035C01BF",
			func(b []byte) error { _, err := DecodeGetProfilesInfoRequest(b); return err }, tlv.ErrTruncated},
		{"EUICCInfo2 no svn", "BF22058103020301", func(b []byte) error { _, err := DecodeEUICCInfo2(b); return err }, ErrMissingField},
		{"EUICCInfo2 short version", "BF220482020202", func(b []byte) error { _, err := DecodeEUICCInfo2(b); return err }, ErrMalformed},
		{"EUICCInfo2 bad capability", "BF2209820302020285020900", func(b []byte) error { _, err := DecodeEUICCInfo2(b); return err }, ErrMalformed},
		{"EUICCInfo2 bad ext resource", "BF220A8203020202840381020A", func(b []byte) error { _, err := DecodeEUICCInfo2(b); return err }, tlv.ErrTruncated},
		{"EUICCInfo2 wrong tag", hexEUICCInfo1, func(b []byte) error { _, err := DecodeEUICCInfo2(b); return err }, ErrWrongTag},
		{"EUICCInfo1 no svn", "BF2000", func(b []byte) error { _, err := DecodeEUICCInfo1(b); return err }, ErrMissingField},
		{"metadata no seq", "BF2F0481020640", func(b []byte) error { _, err := DecodeNotificationMetadata(b); return err }, ErrMissingField},
		{"ListNotification neither", "BF2800", func(b []byte) error { _, err := DecodeListNotificationResponse(b); return err }, ErrMissingField},
		{"ListNotification bad metadata", "BF2806A004BF2F0180",
			func(b []byte) error { _, err := DecodeListNotificationResponse(b); return err }, tlv.ErrTruncated},
		{"Pending wrong tag", "A000", func(b []byte) error { _, err := DecodePendingNotification(b); return err }, ErrWrongTag},
		{"Pending no metadata", "3000", func(b []byte) error { _, err := DecodePendingNotification(b); return err }, ErrMissingField},
		{"Pending install without BF27", "BF3700", func(b []byte) error { _, err := DecodePendingNotification(b); return err }, ErrMissingField},
		{"Retrieve list bad item", "BF2B04A0023000",
			func(b []byte) error { _, err := DecodeRetrieveNotificationsListResponse(b); return err }, ErrMissingField},
		{"Retrieve request empty criteria", "BF2B02A000",
			func(b []byte) error { _, err := DecodeRetrieveNotificationsListRequest(b); return err }, ErrMalformed},
		{"Other signed no signature", "3028" + hexMetadata,
			func(b []byte) error { _, err := DecodeOtherSignedNotification(b); return err }, ErrMissingField},
		{"NotificationSent no seq", "BF3000", func(b []byte) error { _, err := DecodeNotificationSentRequest(b); return err }, ErrMissingField},
		{"NotificationSent huge seq", "BF300B8009010000000000000000",
			func(b []byte) error { _, err := DecodeNotificationSentRequest(b); return err }, ErrMalformed},
		{"SetDefaultDP missing", "BF3F00", func(b []byte) error { _, err := DecodeSetDefaultDPAddressRequest(b); return err }, ErrMissingField},
		{"indefinite length", "BF3E80", func(b []byte) error { _, err := DecodeGetEIDResponse(b); return err }, tlv.ErrIndefinite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.dec(unhex(t, tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "rsp: ") && !strings.Contains(err.Error(), "rsp: ") {
				t.Errorf("error %q does not say where it comes from", err)
			}
		})
	}
}
