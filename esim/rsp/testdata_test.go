package rsp

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// Known encodings, built by hand from sgp22.md (sections 2.1, 2.2, 2.5, 2.7)
// and cross-checked with an independent DER builder.
const (
	hexGetEIDReq   = "BF3E035C015A"
	hexGetEIDResp  = "BF3E125A1089049032123451234512345678901235"
	testEID        = "89049032123451234512345678901235"
	testICCID      = "89049032123451234512"
	hexTestICCID   = "98400923214315325421"
	hexISDPAID     = "A0000005591010FFFFFFFF8900001000"
	hexEnable      = "BF3111A00C5A0A984009232143153254218101FF"
	hexDisable     = "BF3217A0124F10A0000005591010FFFFFFFF8900001000810100"
	hexDelete      = "BF330C5A0A98400923214315325421"
	hexNickname    = "BF29125A0A984009232143153254219004576F726B"
	hexMemoryReset = "BF3404820205E0"
	hexEUICCInfo1  = "BF20358203020200A9160414F54172BDF98A95D65CBEB88A38A1C11D800A85C3AA160414F54172BDF98A95D65CBEB88A38A1C11D800A85C3"
	hexEUICCInfo2  = "BF2272810302030182030202028303010000840C810105820301E24083023000850302FFFC86030902008703020300880206C0" +
		"A9160414F54172BDF98A95D65CBEB88A38A1C11D800A85C3AA160414F54172BDF98A95D65CBEB88A38A1C11D800A85C3" +
		"8B010204030100000C0858582D59592D5A5A"
	hexProfileInfo = "E3818B5A0A984009232143153254214F10A0000005591010FFFFFFFF89000010009F7001019004576F726B9107436F6E746F736F" +
		"920C436F6E746F736F20506C616E930101940489504E47950102B6303016800207808110736D64702E6578616D706C652E636F6D" +
		"3016800206408110736D64702E6578616D706C652E636F6DB708800313F0018101FF99020640"
	hexMetadata = "BF2F2580010A810206400C10736D64702E6578616D706C652E636F6D5A0A98400923214315325421"
	hexOtherSig = "3074" + hexMetadata + "5F3740" + "01010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101" +
		"3002050030030101FF"
	hexPIR = "BF37819FBF2759800401020304BF2F25800109810207800C10736D64702E6578616D706C652E636F6D5A0A98400923214315325421" +
		"060A2B0601040182E5640101A21DA01B4F10A0000005591010FFFFFFFF890000100004073005A0033001805F3740" +
		"02020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202"
	hexRetrieveList = "BF2B82011DA0820119" + hexPIR + hexOtherSig
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad test hex %q: %v", s, err)
	}
	return b
}

func ptr[T any](v T) *T { return &v }

func testSKI(t testing.TB) []byte { return unhex(t, "F54172BDF98A95D65CBEB88A38A1C11D800A85C3") }

func testEUICCInfo2(t testing.TB) EUICCInfo2 {
	return EUICCInfo2{
		ProfileVersion:         Version{2, 3, 1},
		SVN:                    Version{2, 2, 2},
		FirmwareVersion:        Version{1, 0, 0},
		ExtCardResource:        ExtCardResource{InstalledApplications: 5, FreeNVM: 123456, FreeRAM: 12288},
		UICCCapability:         []byte{0x02, 0xFF, 0xFC},
		TS102241Version:        &Version{9, 2, 0},
		GlobalPlatformVersion:  &Version{2, 3, 0},
		RSPCapability:          []byte{0x06, 0xC0},
		CIPKIDsForVerification: [][]byte{testSKI(t)},
		CIPKIDsForSigning:      [][]byte{testSKI(t)},
		Category:               ptr(2),
		PPVersion:              Version{1, 0, 0},
		SASAccreditationNumber: "XX-YY-ZZ",
	}
}

func testProfileInfo(t testing.TB) ProfileInfo {
	return ProfileInfo{
		ICCID:               testICCID,
		ISDPAID:             unhex(t, hexISDPAID),
		State:               ProfileEnabled,
		Nickname:            "Work",
		ServiceProviderName: "Contoso",
		ProfileName:         "Contoso Plan",
		IconType:            ptr(IconPNG),
		Icon:                []byte{0x89, 0x50, 0x4E, 0x47},
		Class:               ptr(ProfileClassOperational),
		NotificationConfig: []NotificationConfig{
			{Event: EventInstall, Address: "smdp.example.com"},
			{Event: EventEnable, Address: "smdp.example.com"},
		},
		Owner:       &ProfileOwner{MCCMNC: []byte{0x13, 0xF0, 0x01}, GID1: []byte{0xFF}},
		PolicyRules: []byte{0x06, 0x40},
		Present:     profileInfoTags(),
	}
}

func testMetadata() NotificationMetadata {
	return NotificationMetadata{Seq: 10, Event: EventEnable, Address: "smdp.example.com", ICCID: testICCID}
}

// seedCorpus returns every known encoding, for the fuzz targets.
func seedCorpus() []string {
	return []string{hexGetEIDReq, hexGetEIDResp, hexEnable, hexDisable, hexDelete, hexNickname,
		hexMemoryReset, hexEUICCInfo1, hexEUICCInfo2, hexProfileInfo, hexMetadata, hexOtherSig, hexPIR,
		hexRetrieveList, "BF2D00", "BF2D8191A0818E" + hexProfileInfo, "BF2D03810101", "BF2800",
		"BF282AA028" + hexMetadata, "BF2803" + "81017F", "BF2B00", "BF2B05A003800101", "BF2B06A00481020640",
		"BF300480020080", "BF3C00", "BF3F0C800A736D64702E6C6F63616C", "BF2000", "BF2200", "BF280481020780",
		"BF2D065C045A909F70", "BF2D0EA00C5A0A98400923214315325421"}
}

// tags is a helper for Present lists.
func tags(ts ...tlv.Tag) []tlv.Tag { return ts }
