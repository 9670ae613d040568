package rsp

import (
	"bytes"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// Download messages built by hand from sgp22.md 2.3, 2.4, 2.1 and 2.5 (see
// the structure comments) and cross-checked with an independent DER builder.
var (
	// 30 { 80 10 txid, 81 10 euiccChallenge, 83 10 "smdp.example.com", 84 10 serverChallenge }
	hexServerSigned1 = "3048" + "8010000102030405060708090A0B0C0D0E0F" + "8110" + strings.Repeat("11", 16) +
		"8310736D64702E6578616D706C652E636F6D" + "8410" + strings.Repeat("22", 16)
	// A0 { 80 "MATCHING-ID-1", A1 { 80 04 tac, A1 { 80 03 0D0000, 85 03 0F0000 }, 82 08 IMEI 356938035643809 } }
	hexCtxParams1 = "A02D800D4D41544348494E472D49442D31" + "A11C800435290611A10A80030D000085030F0000" + "820853968330653408F9"
	// BF38 { serverSigned1, 5F37 40 sig, 04 14 SKI, 30 03 (certificate stand-in), ctxParams1 }
	hexAuthServerReq = "BF3881D7" + hexServerSigned1 + "5F3740" + strings.Repeat("33", 64) +
		"0414F54172BDF98A95D65CBEB88A38A1C11D800A85C3" + "3003020101" + hexCtxParams1
	// BF21 { 30 { 80 01 AA, 01 01 FF }, 5F37 40 sig, 04 20 hashCc, 30 03 (certificate stand-in) }
	hexPrepDownloadReq = "BF2172" + "30068001AA0101FF" + "5F3740" + strings.Repeat("55", 64) +
		"0420" + strings.Repeat("44", 32) + "3003020101"
	// BF21 { A0 { 30 { 80 01 AA, 5F49 41 04||X||Y }, 5F37 40 sig } }
	hexPrepDownloadResp = "BF21818FA0818C" + "30478001AA5F494104" + strings.Repeat("66", 64) +
		"5F3740" + strings.Repeat("77", 64)
	// BF21 { A1 { 80 01 AA, 02 01 05 invalidTransactionId } }
	hexPrepDownloadErr = "BF2108A1068001AA020105"
	// BF38 { A1 { 80 01 AA, 02 01 06 euiccChallengeMismatch } } and the same with 81
	hexAuthServerErr   = "BF3808A1068001AA020106"
	hexAuthServerErr81 = "BF3808A1068001AA810106"
	// BF41 { 80 10 txid, 81 01 01 postponed }
	hexCancelReq = "BF41158010000102030405060708090A0B0C0D0E0F810101"
	// BF41 { A0 { 30 { 80 01 AA, 81 03 <2.999.10>, 82 01 00 }, 5F37 40 sig } }
	hexCancelResp = "BF4152A050" + "300B8001AA810388370A820100" + "5F3740" + strings.Repeat("88", 64)
	// BF41 { 81 01 05 invalidTransactionId }
	hexCancelErr = "BF4103810105"
	// BF2E 12 { 80 10 challenge }
	hexChallengeResp = "BF2E128010" + strings.Repeat("AB", 16)
	// BF24 { B8 { 80 03 <2.999.10> } }
	hexConfigureISDP = "BF2407B805800388370A"
	// sgp22.md 2.6 (pySim test data)
	hexStoreMetadata = "BF25285A0A89000123456789012341910A4F736D6F636F6D53504E920E4F736D6F636F6D50726F66696C65"
	// BF37 { BF27 { 80 01 AA, BF2F { 80 01 01, 81 02 0780, 0C "a.io" }, 06 <2.999.10>,
	//   A2 { A1 { 80 01 01 configureISDP, 81 01 08 scp03tSecurityError } } }, 5F37 40 sig }
	hexPIRFailure = "BF3768BF27228001AABF2F0D800101810207800C04612E696F060388370AA208A1068001018101085F3740" +
		strings.Repeat("99", 64)
)

var testOID = asn1.ObjectIdentifier{2, 999, 10}

func testTxID() []byte {
	return []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
}

func fill16(b byte) [16]byte {
	var a [16]byte
	for i := range a {
		a[i] = b
	}
	return a
}

func testServerSigned1() ServerSigned1 {
	return ServerSigned1{TransactionID: testTxID(), EUICCChallenge: fill16(0x11),
		ServerAddress: "smdp.example.com", ServerChallenge: fill16(0x22)}
}

func testCtxParams1(t testing.TB) CtxParams1 {
	return CtxParams1{MatchingID: "MATCHING-ID-1", HasMatchingID: true, DeviceInfo: DeviceInfo{
		TAC:          [4]byte{0x35, 0x29, 0x06, 0x11},
		Capabilities: unhex(t, "80030D000085030F0000"),
		IMEI:         "356938035643809",
	}}
}

func testAuthServerReq(t testing.TB) AuthenticateServerRequest {
	return AuthenticateServerRequest{
		ServerSigned1:     testServerSigned1(),
		ServerSignature1:  bytes.Repeat([]byte{0x33}, 64),
		CIPKIDToBeUsed:    testSKI(t),
		ServerCertificate: unhex(t, "3003020101"),
		CtxParams1:        testCtxParams1(t),
	}
}

func testAuthServerOk(t testing.TB) AuthenticateServerResponse {
	return AuthenticateServerResponse{Ok: &AuthenticateResponseOk{
		EUICCSigned1: EUICCSigned1{
			TransactionID:   testTxID(),
			ServerAddress:   "smdp.example.com",
			ServerChallenge: fill16(0x22),
			EUICCInfo2:      testEUICCInfo2(t),
			CtxParams1:      testCtxParams1(t),
		},
		EUICCSignature1:  bytes.Repeat([]byte{0x44}, 64),
		EUICCCertificate: unhex(t, "3003020101"),
		EUMCertificate:   unhex(t, "3003020102"),
	}}
}

func testStoreMetadata(t testing.TB) StoreMetadataRequest {
	return StoreMetadataRequest{
		ICCID:               testICCID,
		ServiceProviderName: "Contoso",
		ProfileName:         "Contoso Plan",
		IconType:            ptr(IconPNG),
		Icon:                []byte("\x89PNG"),
		ProfileClass:        ptr(ProfileClassTest),
		NotificationConfig: []NotificationConfig{
			{Event: EventInstall | EventDelete, Address: "smdp.example.com"},
			{Event: EventEnable, Address: "other.example.com"},
		},
		ProfileOwner: &ProfileOwner{MCCMNC: []byte{0x13, 0xF0, 0x01}, GID1: []byte{0xFF}},
		PPR:          []byte{0x06, 0x40},
	}
}

func testPIRSuccess(t testing.TB) ProfileInstallationResult {
	return ProfileInstallationResult{
		Data: ProfileInstallationResultData{
			TransactionID: testTxID(),
			Notification:  NotificationMetadata{Seq: 3, Event: EventInstall, Address: "smdp.example.com", ICCID: testICCID},
			SMDPOID:       testOID,
			Success:       &InstallSuccess{AID: unhex(t, hexISDPAID), SimaResponse: unhex(t, "3005A003300180")},
		},
		Signature: bytes.Repeat([]byte{0x02}, 64),
	}
}

// clearRaw returns a copy of v with every Raw []byte field set to nil,
// following pointers, so that decoded values compare with built ones.
func clearRaw[T any](v T) T {
	p := reflect.New(reflect.TypeOf(v))
	p.Elem().Set(reflect.ValueOf(v))
	clearRawValue(p)
	return p.Elem().Interface().(T)
}

func clearRawValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			clearRawValue(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if !f.CanSet() {
				continue
			}
			if v.Type().Field(i).Name == "Raw" && f.Type() == reflect.TypeOf([]byte(nil)) {
				f.SetBytes(nil)
				continue
			}
			clearRawValue(f)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Uint8 {
			for i := 0; i < v.Len(); i++ {
				clearRawValue(v.Index(i))
			}
		}
	}
}

// dlCase is one download message: encode, decode, and the decoded value
// must equal the original up to Raw fields, and re-encode identically.
type dlCase struct {
	name string
	enc  func() []byte
	// dec decodes and returns the value with Raw fields cleared, plus its
	// re-encoding.
	dec  func([]byte) (any, []byte, error)
	want any
}

func encCase[T encoder](name string, v T, dec func([]byte) (T, error)) dlCase {
	return dlCase{name: name, enc: v.Encode, want: v, dec: func(b []byte) (any, []byte, error) {
		d, err := dec(b)
		return clearRaw(d), d.Encode(), err
	}}
}

type byteser interface{ Bytes() []byte }

func bytesCase[T byteser](name string, v T, dec func([]byte) (T, error)) dlCase {
	return dlCase{name: name, enc: v.Bytes, want: v, dec: func(b []byte) (any, []byte, error) {
		d, err := dec(b)
		return clearRaw(d), d.Bytes(), err
	}}
}

func dlMessages(t testing.TB) []dlCase {
	withHash := PrepareDownloadRequest{
		SMDPSigned2:     SMDPSigned2{TransactionID: []byte{0xAA}, CCRequired: true, BPPEUICCOtpk: bytes.Repeat([]byte{0x04}, 65)},
		SMDPSignature2:  bytes.Repeat([]byte{0x55}, 64),
		HashCC:          bytes.Repeat([]byte{0x44}, 32),
		SMDPCertificate: unhex(t, "3003020101"),
	}
	noHash := withHash
	noHash.SMDPSigned2 = SMDPSigned2{TransactionID: []byte{0xAA}}
	noHash.HashCC = nil
	pdOk := PrepareDownloadResponse{Ok: &PrepareDownloadResponseOk{
		EUICCSigned2:    EUICCSigned2{TransactionID: testTxID(), EUICCOtpk: bytes.Repeat([]byte{0x66}, 65), HashCC: bytes.Repeat([]byte{0x44}, 32)},
		EUICCSignature2: bytes.Repeat([]byte{0x77}, 64),
	}}
	failure := testPIRSuccess(t)
	failure.Data.Success = nil
	failure.Data.Failure = &InstallFailure{Command: BPPLoadProfileElements, Reason: InstallPEProcessingError, SimaResponse: []byte{0x30, 0x00}}
	minimalPIR := ProfileInstallationResult{
		Data: ProfileInstallationResultData{
			Notification: NotificationMetadata{Seq: 0, Event: EventInstall, Address: "a"},
			Failure:      &InstallFailure{Command: BPPInitialiseSecureChannel, Reason: InstallInvalidSignature},
		},
		Signature: []byte{},
	}
	noMatching := testAuthServerReq(t)
	noMatching.CtxParams1 = CtxParams1{DeviceInfo: DeviceInfo{TAC: [4]byte{1, 2, 3, 4}}}
	emptyMatching := testAuthServerReq(t)
	emptyMatching.CtxParams1 = CtxParams1{HasMatchingID: true, DeviceInfo: DeviceInfo{TAC: [4]byte{1, 2, 3, 4}}}
	return []dlCase{
		encCase("GetEUICCChallengeRequest", GetEUICCChallengeRequest{}, DecodeGetEUICCChallengeRequest),
		encCase("GetEUICCChallengeResponse", GetEUICCChallengeResponse{Challenge: fill16(0xAB)}, DecodeGetEUICCChallengeResponse),
		bytesCase("ServerSigned1", testServerSigned1(), DecodeServerSigned1),
		encCase("AuthenticateServerRequest", testAuthServerReq(t), DecodeAuthenticateServerRequest),
		encCase("AuthenticateServerRequest/noMatchingID", noMatching, DecodeAuthenticateServerRequest),
		encCase("AuthenticateServerRequest/emptyMatchingID", emptyMatching, DecodeAuthenticateServerRequest),
		encCase("AuthenticateServerResponse/ok", testAuthServerOk(t), DecodeAuthenticateServerResponse),
		encCase("AuthenticateServerResponse/error", AuthenticateServerResponse{Error: &AuthenticateResponseError{
			TransactionID: testTxID(), Code: AuthenticateCIPKUnknown}}, DecodeAuthenticateServerResponse),
		encCase("AuthenticateServerResponse/errorNoTxID", AuthenticateServerResponse{Error: &AuthenticateResponseError{
			Code: AuthenticateUndefinedError}}, DecodeAuthenticateServerResponse),
		bytesCase("SMDPSigned2", withHash.SMDPSigned2, DecodeSMDPSigned2),
		encCase("PrepareDownloadRequest/hashCc", withHash, DecodePrepareDownloadRequest),
		encCase("PrepareDownloadRequest/plain", noHash, DecodePrepareDownloadRequest),
		encCase("PrepareDownloadResponse/ok", pdOk, DecodePrepareDownloadResponse),
		encCase("PrepareDownloadResponse/error", PrepareDownloadResponse{Error: &PrepareDownloadResponseError{
			TransactionID: []byte{1}, Code: DownloadInvalidSignature}}, DecodePrepareDownloadResponse),
		bytesCase("StoreMetadataRequest/full", testStoreMetadata(t), DecodeStoreMetadataRequest),
		bytesCase("StoreMetadataRequest/minimal", StoreMetadataRequest{ICCID: "8904903212345123451"}, DecodeStoreMetadataRequest),
		encCase("ConfigureISDPRequest/empty", ConfigureISDPRequest{}, DecodeConfigureISDPRequest),
		encCase("ConfigureISDPRequest/oid", ConfigureISDPRequest{DPOID: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 45796, 1, 1}}, DecodeConfigureISDPRequest),
		encCase("ProfileInstallationResult/success", testPIRSuccess(t), DecodeProfileInstallationResult),
		encCase("ProfileInstallationResult/failure", failure, DecodeProfileInstallationResult),
		encCase("ProfileInstallationResult/minimal", minimalPIR, DecodeProfileInstallationResult),
		encCase("CancelSessionRequest", CancelSessionRequest{TransactionID: testTxID(), Reason: CancelLoadBPPExecutionError}, DecodeCancelSessionRequest),
		encCase("CancelSessionResponse/ok", CancelSessionResponse{
			Ok:        &EUICCCancelSessionSigned{TransactionID: testTxID(), SMDPOID: testOID, Reason: CancelUndefinedReason},
			Signature: bytes.Repeat([]byte{0x88}, 64),
		}, DecodeCancelSessionResponse),
		encCase("CancelSessionResponse/error", CancelSessionResponse{Error: CancelSessionInvalidTransactionID}, DecodeCancelSessionResponse),
	}
}

func TestDownloadRoundTrip(t *testing.T) {
	for _, c := range dlMessages(t) {
		t.Run(c.name, func(t *testing.T) {
			enc := c.enc()
			got, re, err := c.dec(enc)
			if err != nil {
				t.Fatalf("decode %X: %v", enc, err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("round trip:\n got  %+v\n want %+v", got, c.want)
			}
			if !bytes.Equal(re, enc) {
				t.Errorf("re-encoding differs:\n got  %X\n want %X", re, enc)
			}
		})
	}
}

func TestDownloadKnownEncodings(t *testing.T) {
	pirFailure := ProfileInstallationResult{
		Data: ProfileInstallationResultData{
			TransactionID: []byte{0xAA},
			Notification:  NotificationMetadata{Seq: 1, Event: EventInstall, Address: "a.io"},
			SMDPOID:       testOID,
			Failure:       &InstallFailure{Command: BPPConfigureISDP, Reason: InstallSCP03tSecurityError},
		},
		Signature: bytes.Repeat([]byte{0x99}, 64),
	}
	cases := []struct {
		name string
		got  []byte
		want string
	}{
		{"GetEUICCChallengeRequest", GetEUICCChallengeRequest{}.Encode(), "BF2E00"},
		{"GetEUICCChallengeResponse", GetEUICCChallengeResponse{Challenge: fill16(0xAB)}.Encode(), hexChallengeResp},
		{"ServerSigned1", testServerSigned1().Bytes(), hexServerSigned1},
		{"CtxParams1", testCtxParams1(t).Bytes(), hexCtxParams1},
		{"AuthenticateServerRequest", testAuthServerReq(t).Encode(), hexAuthServerReq},
		{"AuthenticateServerResponse/error", AuthenticateServerResponse{Error: &AuthenticateResponseError{
			TransactionID: []byte{0xAA}, Code: AuthenticateEUICCChallengeMismatch}}.Encode(), hexAuthServerErr},
		{"PrepareDownloadRequest", PrepareDownloadRequest{
			SMDPSigned2:     SMDPSigned2{TransactionID: []byte{0xAA}, CCRequired: true},
			SMDPSignature2:  bytes.Repeat([]byte{0x55}, 64),
			HashCC:          bytes.Repeat([]byte{0x44}, 32),
			SMDPCertificate: unhex(t, "3003020101"),
		}.Encode(), hexPrepDownloadReq},
		{"PrepareDownloadResponse/ok", PrepareDownloadResponse{Ok: &PrepareDownloadResponseOk{
			EUICCSigned2:    EUICCSigned2{TransactionID: []byte{0xAA}, EUICCOtpk: append([]byte{0x04}, bytes.Repeat([]byte{0x66}, 64)...)},
			EUICCSignature2: bytes.Repeat([]byte{0x77}, 64),
		}}.Encode(), hexPrepDownloadResp},
		{"PrepareDownloadResponse/error", PrepareDownloadResponse{Error: &PrepareDownloadResponseError{
			TransactionID: []byte{0xAA}, Code: DownloadInvalidTransactionID}}.Encode(), hexPrepDownloadErr},
		{"StoreMetadataRequest", StoreMetadataRequest{ICCID: "98001032547698103214",
			ServiceProviderName: "OsmocomSPN", ProfileName: "OsmocomProfile"}.Bytes(), hexStoreMetadata},
		{"ConfigureISDPRequest/empty", ConfigureISDPRequest{}.Encode(), "BF2400"},
		{"ConfigureISDPRequest/oid", ConfigureISDPRequest{DPOID: testOID}.Encode(), hexConfigureISDP},
		{"ProfileInstallationResult/failure", pirFailure.Encode(), hexPIRFailure},
		{"CancelSessionRequest", CancelSessionRequest{TransactionID: testTxID(), Reason: CancelPostponed}.Encode(), hexCancelReq},
		{"CancelSessionResponse/ok", CancelSessionResponse{
			Ok:        &EUICCCancelSessionSigned{TransactionID: []byte{0xAA}, SMDPOID: testOID, Reason: CancelEndUserRejection},
			Signature: bytes.Repeat([]byte{0x88}, 64),
		}.Encode(), hexCancelResp},
		{"CancelSessionResponse/error", CancelSessionResponse{Error: CancelSessionInvalidTransactionID}.Encode(), hexCancelErr},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if want := unhex(t, c.want); !bytes.Equal(c.got, want) {
				t.Errorf("encoding:\n got  %X\n want %X", c.got, want)
			}
		})
	}
}

func TestDownloadKnownDecodings(t *testing.T) {
	t.Run("StoreMetadata sgp22.md 2.6", func(t *testing.T) {
		m, err := DecodeStoreMetadataRequest(unhex(t, hexStoreMetadata))
		if err != nil {
			t.Fatal(err)
		}
		if m.ICCID != "98001032547698103214" || m.ServiceProviderName != "OsmocomSPN" || m.ProfileName != "OsmocomProfile" {
			t.Errorf("got %+v", m)
		}
		if m.ProfileClass != nil || m.IconType != nil || m.NotificationConfig != nil || m.ProfileOwner != nil || m.PPR != nil {
			t.Errorf("absent fields decoded as present: %+v", m)
		}
	})
	t.Run("PIR success from the notification test data", func(t *testing.T) {
		r, err := DecodeProfileInstallationResult(unhex(t, hexPIR))
		if err != nil {
			t.Fatal(err)
		}
		d := r.Data
		if !bytes.Equal(d.TransactionID, []byte{1, 2, 3, 4}) || d.Notification.Seq != 9 || d.Notification.Event != EventInstall ||
			d.Notification.ICCID != testICCID || !d.SMDPOID.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 45796, 1, 1}) {
			t.Errorf("data %+v", d)
		}
		if d.Success == nil || !bytes.Equal(d.Success.AID, unhex(t, hexISDPAID)) || d.Failure != nil {
			t.Errorf("result %+v / %+v", d.Success, d.Failure)
		}
		if err := r.Err(); err != nil {
			t.Errorf("Err() = %v", err)
		}
		if len(r.Signature) != 64 {
			t.Errorf("signature of %d bytes", len(r.Signature))
		}
	})
	t.Run("PIR failure", func(t *testing.T) {
		r, err := DecodeProfileInstallationResult(unhex(t, hexPIRFailure))
		if err != nil {
			t.Fatal(err)
		}
		err = r.Err()
		var ie *InstallError
		if !errors.As(err, &ie) || ie.Command != BPPConfigureISDP || ie.Reason != InstallSCP03tSecurityError {
			t.Fatalf("Err() = %v", err)
		}
		if got, want := err.Error(), "install failed at configureISDP: scp03tSecurityError (8)"; got != want {
			t.Errorf("Error() = %q, want %q", got, want)
		}
	})
	t.Run("AuthenticateServer request IMEI and TAC", func(t *testing.T) {
		r, err := DecodeAuthenticateServerRequest(unhex(t, hexAuthServerReq))
		if err != nil {
			t.Fatal(err)
		}
		d := r.CtxParams1.DeviceInfo
		if d.IMEI != "356938035643809" || d.TAC != [4]byte{0x35, 0x29, 0x06, 0x11} || r.CtxParams1.MatchingID != "MATCHING-ID-1" {
			t.Errorf("ctxParams1 %+v", r.CtxParams1)
		}
	})
}

// TestLenientErrorCodes: error codes under the ASN.1 tag and the tag some
// implementations use must both decode.
func TestLenientErrorCodes(t *testing.T) {
	for _, h := range []string{hexAuthServerErr, hexAuthServerErr81} {
		r, err := DecodeAuthenticateServerResponse(unhex(t, h))
		if err != nil {
			t.Fatalf("%s: %v", h, err)
		}
		if r.Ok != nil || r.Error == nil || r.Error.Code != AuthenticateEUICCChallengeMismatch || !bytes.Equal(r.Error.TransactionID, []byte{0xAA}) {
			t.Fatalf("%s: %+v", h, r)
		}
		var re *ResultError
		if err := r.Err(); !errors.As(err, &re) || re.Function != "AuthenticateServer" || re.Code != 6 || re.Name != "euiccChallengeMismatch" {
			t.Errorf("%s: Err() = %v", h, r.Err())
		}
	}
	for _, h := range []string{hexPrepDownloadErr, "BF2108A1068001AA810105", "BF2105A103020105"} {
		r, err := DecodePrepareDownloadResponse(unhex(t, h))
		if err != nil {
			t.Fatalf("%s: %v", h, err)
		}
		if r.Error == nil || r.Error.Code != DownloadInvalidTransactionID {
			t.Fatalf("%s: %+v", h, r)
		}
		if err := r.Err(); err == nil || err.Error() != "PrepareDownload: invalidTransactionId (5)" {
			t.Errorf("%s: Err() = %v", h, err)
		}
	}
	for _, h := range []string{hexCancelErr, "BF4103020105"} {
		r, err := DecodeCancelSessionResponse(unhex(t, h))
		if err != nil {
			t.Fatalf("%s: %v", h, err)
		}
		if r.Ok != nil || r.Error != CancelSessionInvalidTransactionID {
			t.Fatalf("%s: %+v", h, r)
		}
		if err := r.Err(); err == nil || err.Error() != "CancelSession: invalidTransactionId (5)" {
			t.Errorf("%s: Err() = %v", h, err)
		}
	}
}

// wrap returns tag || DER length || content (all hex).
func wrap(t testing.TB, tag, content string) string {
	t.Helper()
	return hexString(tlv.Encode(tlv.Tag(beUint(unhex(t, tag))), unhex(t, content)))
}

// wrapLong is wrap with the non-minimal long length form 82 LL LL.
func wrapLong(t testing.TB, tag, content string) string {
	t.Helper()
	n := len(unhex(t, content))
	return tag + "82" + hexString([]byte{byte(n >> 8), byte(n)}) + content
}

func beUint(b []byte) uint32 {
	var v uint32
	for _, c := range b {
		v = v<<8 | uint32(c)
	}
	return v
}

// TestRawPreserved: signed parts received in a non-canonical form (field
// order, long-form lengths, unknown extra fields) must come out of Bytes
// byte for byte, and the request or response they are part of must carry
// them unchanged when re-encoded.
func TestRawPreserved(t *testing.T) {
	sig := func(b string) string { return "5F3740" + strings.Repeat(b, 64) }
	const cert, cert2 = "3003020101", "3003020102"
	// serverSigned1: 84 first, a long-form length on 80, an unknown tag.
	ss1 := wrapLong(t, "30", "8410"+strings.Repeat("22", 16)+"808110000102030405060708090A0B0C0D0E0F"+
		"8110"+strings.Repeat("11", 16)+"8310736D64702E6578616D706C652E636F6D"+"9F7F00")
	// ctxParams1: deviceInfo before matchingId, an unknown extension.
	ctx := wrap(t, "A0", "A11C800435290611A10A80030D000085030F0000820853968330653408F9"+
		"800D4D41544348494E472D49442D31"+"BF6C03010100")
	authReq := wrapLong(t, "BF38", ss1+sig("33")+"0414F54172BDF98A95D65CBEB88A38A1C11D800A85C3"+cert+ctx)
	// euiccSigned1: reordered, long form.
	es1 := wrapLong(t, "30", hexCtxParams1+hexString(testEUICCInfo2(t).Encode())+"8410"+strings.Repeat("22", 16)+"830161"+"8001AA")
	authOk := wrap(t, "BF38", wrap(t, "A0", es1+sig("44")+cert+cert2))
	sm2 := wrapLong(t, "30", "5F4900"+"0101FF"+"8001AA")
	prepReq := wrap(t, "BF21", sm2+sig("55")+cert)
	es2 := wrapLong(t, "30", "0400"+"5F490101"+"8001AA")
	prepResp := wrap(t, "BF21", wrap(t, "A0", es2+sig("77")))
	cs := wrapLong(t, "30", "820100"+"810388370A"+"8001AA")
	cancelResp := wrap(t, "BF41", wrap(t, "A0", cs+sig("88")))
	pird := wrapLong(t, "BF27", "A208A106800101810108"+"BF2F0D800101810207800C04612E696F"+"8001AA")
	pir := wrap(t, "BF37", pird+sig("99"))
	md := wrapLong(t, "BF25", "920E4F736D6F636F6D50726F66696C65"+"910A4F736D6F636F6D53504E"+
		"5A0A89000123456789012341"+"9F7B00"+"950102")

	cases := []struct {
		name string
		in   string
		part string // the signed part as received
		// dec decodes in and returns its re-encoding and the signed part's Bytes.
		dec func([]byte) (enc, part []byte, err error)
	}{
		{"serverSigned1", authReq, ss1, func(b []byte) ([]byte, []byte, error) {
			v, err := DecodeAuthenticateServerRequest(b)
			return v.Encode(), v.ServerSigned1.Bytes(), err
		}},
		{"ctxParams1", authReq, ctx, func(b []byte) ([]byte, []byte, error) {
			v, err := DecodeAuthenticateServerRequest(b)
			return v.Encode(), v.CtxParams1.Bytes(), err
		}},
		{"euiccSigned1", authOk, es1, func(b []byte) ([]byte, []byte, error) {
			v, err := DecodeAuthenticateServerResponse(b)
			if err != nil {
				return nil, nil, err
			}
			return v.Encode(), v.Ok.EUICCSigned1.Bytes(), nil
		}},
		{"smdpSigned2", prepReq, sm2, func(b []byte) ([]byte, []byte, error) {
			v, err := DecodePrepareDownloadRequest(b)
			return v.Encode(), v.SMDPSigned2.Bytes(), err
		}},
		{"euiccSigned2", prepResp, es2, func(b []byte) ([]byte, []byte, error) {
			v, err := DecodePrepareDownloadResponse(b)
			if err != nil {
				return nil, nil, err
			}
			return v.Encode(), v.Ok.EUICCSigned2.Bytes(), nil
		}},
		{"euiccCancelSessionSigned", cancelResp, cs, func(b []byte) ([]byte, []byte, error) {
			v, err := DecodeCancelSessionResponse(b)
			if err != nil {
				return nil, nil, err
			}
			return v.Encode(), v.Ok.Bytes(), nil
		}},
		{"ProfileInstallationResultData", pir, pird, func(b []byte) ([]byte, []byte, error) {
			v, err := DecodeProfileInstallationResult(b)
			return v.Encode(), v.Data.Bytes(), err
		}},
		{"StoreMetadataRequest", md, md, func(b []byte) ([]byte, []byte, error) {
			v, err := DecodeStoreMetadataRequest(b)
			return v.Bytes(), v.Bytes(), err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, part := unhex(t, c.in), unhex(t, c.part)
			enc, got, err := c.dec(in)
			if err != nil {
				t.Fatalf("decode %X: %v", in, err)
			}
			if !bytes.Equal(got, part) {
				t.Errorf("signed part:\n got  %X\n want %X", got, part)
			}
			if !bytes.Contains(enc, part) {
				t.Errorf("re-encoding %X lost the received signed part %X", enc, part)
			}
		})
	}

	// The fields are still decoded from the non-canonical form.
	r, err := DecodeAuthenticateServerRequest(unhex(t, authReq))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := clearRaw(r.ServerSigned1), testServerSigned1(); !reflect.DeepEqual(got, want) {
		t.Errorf("serverSigned1 fields %+v", got)
	}
	if got, want := clearRaw(r.CtxParams1), testCtxParams1(t); !reflect.DeepEqual(got, want) {
		t.Errorf("ctxParams1 fields %+v", got)
	}
	// The eUICC copies the received ctxParams1 into euiccSigned1 unchanged.
	ok := testAuthServerOk(t)
	ok.Ok.EUICCSigned1.CtxParams1 = r.CtxParams1
	if !bytes.Contains(ok.Encode(), unhex(t, ctx)) {
		t.Error("euiccSigned1 does not carry the received ctxParams1 bytes")
	}
	// A value built by hand (Raw nil) encodes canonically.
	if got := clearRaw(r.ServerSigned1).Bytes(); !bytes.Equal(got, unhex(t, hexServerSigned1)) {
		t.Errorf("canonical serverSigned1 %X", got)
	}
}

func hexString(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

func TestHashCC(t *testing.T) {
	// Expected values computed with Python's hashlib:
	// sha256(sha256(b"12345678").digest() + bytes(range(16))).
	got := HashCC("12345678", testTxID())
	want := unhex(t, "AB311C0527DB635C7BAC464EFC070D69AFECBBA55A894064B394C56165610EC0")
	if !bytes.Equal(got, want) {
		t.Errorf("HashCC = %X, want %X", got, want)
	}
	// And with a second, differently written computation.
	for _, c := range []struct {
		cc   string
		txid []byte
	}{{"", []byte{1}}, {"Ünïcode-CC", bytes.Repeat([]byte{0xFF}, 16)}} {
		inner := sha256.Sum256([]byte(c.cc))
		want := sha256.Sum256(append(append([]byte{}, inner[:]...), c.txid...))
		if got := HashCC(c.cc, c.txid); !bytes.Equal(got, want[:]) {
			t.Errorf("HashCC(%q, %X) = %X, want %X", c.cc, c.txid, got, want)
		}
	}
	if bytes.Equal(HashCC("1", []byte{1}), HashCC("1", []byte{2})) {
		t.Error("HashCC ignores the transaction ID")
	}
}

func TestSignatureData(t *testing.T) {
	signed := unhex(t, "30068001AA0101FF")
	sig := bytes.Repeat([]byte{0x5A}, 64)
	want := append(append([]byte{}, signed...), append([]byte{0x5F, 0x37, 0x40}, sig...)...)
	if got := SMDPSignature2Data(signed, sig); !bytes.Equal(got, want) {
		t.Errorf("SMDPSignature2Data = %X", got)
	}
	if got := EUICCSignature2Data(signed, sig); !bytes.Equal(got, want) {
		t.Errorf("EUICCSignature2Data = %X", got)
	}
	if !bytes.Equal(signed, unhex(t, "30068001AA0101FF")) {
		t.Error("input modified")
	}
}

func TestTransactionID(t *testing.T) {
	if got := TransactionIDString([]byte{0x0a, 0xbc, 0xde}); got != "0ABCDE" {
		t.Errorf("TransactionIDString = %q", got)
	}
	cases := []struct {
		in   string
		want []byte
		ok   bool
	}{
		{"0ABCDE", []byte{0x0a, 0xbc, 0xde}, true},
		{"0abcde", []byte{0x0a, 0xbc, 0xde}, true},
		{"000102030405060708090A0B0C0D0E0F", testTxID(), true},
		{"", nil, false},
		{"0", nil, false},
		{"0G", nil, false},
		{"000102030405060708090A0B0C0D0E0F10", nil, false},
	}
	for _, c := range cases {
		got, err := ParseTransactionID(c.in)
		if (err == nil) != c.ok || !bytes.Equal(got, c.want) {
			t.Errorf("ParseTransactionID(%q) = %X, %v", c.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseTransactionID(%q) error %v does not wrap ErrMalformed", c.in, err)
		}
	}
}

func TestDownloadCodeNames(t *testing.T) {
	cases := []struct {
		v    interface{ String() string }
		want string
	}{
		{AuthenticateInvalidCertificate, "invalidCertificate"},
		{AuthenticateInvalidSignature, "invalidSignature"},
		{AuthenticateUnsupportedCurve, "unsupportedCurve"},
		{AuthenticateNoSessionContext, "noSessionContext"},
		{AuthenticateInvalidOID, "invalidOid"},
		{AuthenticateEUICCChallengeMismatch, "euiccChallengeMismatch"},
		{AuthenticateCIPKUnknown, "ciPKUnknown"},
		{AuthenticateUndefinedError, "undefinedError"},
		{AuthenticateErrorCode(8), "unknown(8)"},
		{DownloadInvalidCertificate, "invalidCertificate"},
		{DownloadInvalidSignature, "invalidSignature"},
		{DownloadUnsupportedCurve, "unsupportedCurve"},
		{DownloadNoSessionContext, "noSessionContext"},
		{DownloadInvalidTransactionID, "invalidTransactionId"},
		{DownloadUndefinedError, "undefinedError"},
		{DownloadErrorCode(0), "unknown(0)"},
		{BPPInitialiseSecureChannel, "initialiseSecureChannel"},
		{BPPConfigureISDP, "configureISDP"},
		{BPPStoreMetadata, "storeMetadata"},
		{BPPStoreMetadata2, "storeMetadata2"},
		{BPPReplaceSessionKeys, "replaceSessionKeys"},
		{BPPLoadProfileElements, "loadProfileElements"},
		{BPPCommandID(6), "unknown(6)"},
		{InstallIncorrectInputValues, "incorrectInputValues"},
		{InstallInvalidSignature, "invalidSignature"},
		{InstallInvalidTransactionID, "invalidTransactionId"},
		{InstallUnsupportedCRTValues, "unsupportedCrtValues"},
		{InstallUnsupportedRemoteOperationType, "unsupportedRemoteOperationType"},
		{InstallUnsupportedProfileClass, "unsupportedProfileClass"},
		{InstallSCP03tStructureError, "scp03tStructureError"},
		{InstallSCP03tSecurityError, "scp03tSecurityError"},
		{InstallICCIDAlreadyExistsOnEUICC, "installFailedDueToIccidAlreadyExistsOnEuicc"},
		{InstallInsufficientMemoryForProfile, "installFailedDueToInsufficientMemoryForProfile"},
		{InstallInterruption, "installFailedDueToInterruption"},
		{InstallPEProcessingError, "installFailedDueToPEProcessingError"},
		{InstallDataMismatch, "installFailedDueToDataMismatch"},
		{InstallTestProfileInvalidNAAKey, "testProfileInstallFailedDueToInvalidNaaKey"},
		{InstallPPRNotAllowed, "pprNotAllowed"},
		{InstallInsufficientMinimumSecurityLevel, "insufficientMinimumSecurityLevel"},
		{InstallServerAddressAbsentInEUICCAllowList, "serverAddressAbsentInEuiccAllowList"},
		{InstallUnknownError, "installFailedDueToUnknownError"},
		{InstallErrorReason(16), "unknown(16)"},
		{CancelEndUserRejection, "endUserRejection"},
		{CancelPostponed, "postponed"},
		{CancelTimeout, "timeout"},
		{CancelPPRNotAllowed, "pprNotAllowed"},
		{CancelMetadataMismatch, "metadataMismatch"},
		{CancelLoadBPPExecutionError, "loadBppExecutionError"},
		{CancelUndefinedReason, "undefinedReason"},
		{CancelSessionReason(6), "unknown(6)"},
		{CancelSessionInvalidTransactionID, "invalidTransactionId"},
		{CancelSessionUndefinedError, "undefinedError"},
		{CancelSessionErrorCode(1), "unknown(1)"},
	}
	for _, c := range cases {
		if got := c.v.String(); got != c.want {
			t.Errorf("%T(%v).String() = %q, want %q", c.v, c.v, got, c.want)
		}
	}
}

func TestDownloadErr(t *testing.T) {
	if err := testAuthServerOk(t).Err(); err != nil {
		t.Errorf("ok AuthenticateServer Err() = %v", err)
	}
	if err := (AuthenticateServerResponse{}).Err(); !errors.Is(err, ErrMissingField) {
		t.Errorf("empty AuthenticateServer Err() = %v", err)
	}
	if err := (PrepareDownloadResponse{}).Err(); !errors.Is(err, ErrMissingField) {
		t.Errorf("empty PrepareDownload Err() = %v", err)
	}
	if err := (ProfileInstallationResult{}).Err(); !errors.Is(err, ErrMissingField) {
		t.Errorf("empty ProfileInstallationResult Err() = %v", err)
	}
	ok := CancelSessionResponse{Ok: &EUICCCancelSessionSigned{TransactionID: []byte{1}, SMDPOID: testOID}}
	if err := ok.Err(); err != nil {
		t.Errorf("ok CancelSession Err() = %v", err)
	}
	var re *ResultError
	err := PrepareDownloadResponse{Error: &PrepareDownloadResponseError{Code: DownloadNoSessionContext}}.Err()
	if !errors.As(err, &re) || re.Function != "PrepareDownload" || re.Code != 4 || re.Name != "noSessionContext" {
		t.Errorf("PrepareDownload Err() = %v", err)
	}
}

func TestDownloadDecodeErrors(t *testing.T) {
	cases := []struct {
		name string
		dec  func([]byte) error
		in   string
		want error
	}{
		{"challenge wrong tag", func(b []byte) error { _, err := DecodeGetEUICCChallengeResponse(b); return err }, "BF2F00", ErrWrongTag},
		{"challenge short", func(b []byte) error { _, err := DecodeGetEUICCChallengeResponse(b); return err }, "BF2E03800100", ErrMalformed},
		{"challenge missing", func(b []byte) error { _, err := DecodeGetEUICCChallengeResponse(b); return err }, "BF2E00", ErrMissingField},
		{"serverSigned1 txid too long", func(b []byte) error { _, err := DecodeServerSigned1(b); return err },
			"3013801100" + strings.Repeat("01", 16), ErrMalformed},
		{"serverSigned1 empty txid", func(b []byte) error { _, err := DecodeServerSigned1(b); return err }, "30028000", ErrMalformed},
		{"serverSigned1 no address", func(b []byte) error { _, err := DecodeServerSigned1(b); return err },
			"30" + "27" + "8001AA" + "8110" + strings.Repeat("11", 16) + "8410" + strings.Repeat("22", 16), ErrMissingField},
		{"serverSigned1 truncated", func(b []byte) error { _, err := DecodeServerSigned1(b); return err }, "30058001", tlv.ErrTruncated},
		{"authenticate request without certificate", func(b []byte) error { _, err := DecodeAuthenticateServerRequest(b); return err },
			wrap(t, "BF38", hexServerSigned1+"5F3740"+strings.Repeat("33", 64)+"0414F54172BDF98A95D65CBEB88A38A1C11D800A85C3"+hexCtxParams1), ErrMissingField},
		{"authenticate response empty", func(b []byte) error { _, err := DecodeAuthenticateServerResponse(b); return err }, "BF3800", ErrMissingField},
		{"authenticate error without code", func(b []byte) error { _, err := DecodeAuthenticateServerResponse(b); return err }, "BF3805A1038001AA", ErrMissingField},
		{"device info bad IMEI", func(b []byte) error { _, err := DecodeAuthenticateServerRequest(b); return err },
			strings.Replace(hexAuthServerReq, "820853968330653408F9", "82085396833065F408F9", 1), ErrMalformed},
		{"device info bad TAC", func(b []byte) error { _, err := DecodeAuthenticateServerRequest(b); return err },
			"BF3881D6" + hexServerSigned1 + "5F3740" + strings.Repeat("33", 64) +
				"0414F54172BDF98A95D65CBEB88A38A1C11D800A85C3" + "3003020101" + "A02C800D4D41544348494E472D49442D31" + "A11B8003352906A10A80030D000085030F0000" + "820853968330653408F9", ErrMalformed},
		{"smdpSigned2 without flag", func(b []byte) error { _, err := DecodeSMDPSigned2(b); return err }, "30038001AA", ErrMissingField},
		{"smdpSigned2 bad bool", func(b []byte) error { _, err := DecodeSMDPSigned2(b); return err }, "30078001AA01020000", ErrMalformed},
		{"prepare download response empty", func(b []byte) error { _, err := DecodePrepareDownloadResponse(b); return err }, "BF2100", ErrMissingField},
		{"prepare download ok without otpk", func(b []byte) error { _, err := DecodePrepareDownloadResponse(b); return err },
			"BF210AA00830038001AA5F3700", ErrMissingField},
		{"store metadata without ICCID", func(b []byte) error { _, err := DecodeStoreMetadataRequest(b); return err }, "BF250391014F", ErrMissingField},
		{"store metadata bad ICCID", func(b []byte) error { _, err := DecodeStoreMetadataRequest(b); return err }, "BF250C5A0A" + strings.Repeat("AA", 10), ErrBadICCID},
		{"configure ISDP bad OID", func(b []byte) error { _, err := DecodeConfigureISDPRequest(b); return err }, "BF2405B803800188", ErrMalformed},
		{"configure ISDP empty OID", func(b []byte) error { _, err := DecodeConfigureISDPRequest(b); return err }, "BF2404B8028000", ErrMalformed},
		{"PIR without result", func(b []byte) error { _, err := DecodeProfileInstallationResult(b); return err },
			wrap(t, "BF37", wrap(t, "BF27", "BF2F0D800101810207800C04612E696F"+"A200")+"5F3700"), ErrMissingField},
		{"PIR without signature", func(b []byte) error { _, err := DecodeProfileInstallationResult(b); return err },
			wrap(t, "BF37", wrap(t, "BF27", "BF2F0D800101810207800C04612E696F"+"A208A106800101810108")), ErrMissingField},
		{"PIR without metadata", func(b []byte) error { _, err := DecodeProfileInstallationResult(b); return err },
			wrap(t, "BF37", wrap(t, "BF27", "A208A106800101810108")+"5F3700"), ErrMissingField},
		{"cancel request without reason", func(b []byte) error { _, err := DecodeCancelSessionRequest(b); return err }, "BF41038001AA", ErrMissingField},
		{"cancel response empty", func(b []byte) error { _, err := DecodeCancelSessionResponse(b); return err }, "BF4100", ErrMissingField},
		{"cancel signed without OID", func(b []byte) error { _, err := DecodeCancelSessionResponse(b); return err },
			"BF410DA00B30068001AA8201005F3700", ErrMissingField},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.dec(unhex(t, c.in))
			if !errors.Is(err, c.want) {
				t.Errorf("error %v, want %v", err, c.want)
			}
		})
	}
}

func TestOID(t *testing.T) {
	cases := []struct {
		oid asn1.ObjectIdentifier
		hex string
	}{
		{asn1.ObjectIdentifier{2, 999, 10}, "88370A"},
		{asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 45796, 1, 1}, "2B0601040182E5640101"},
		{asn1.ObjectIdentifier{0, 0}, "00"},
		{asn1.ObjectIdentifier{2, 23, 146, 1, 2, 1, 4}, "67811201020104"},
	}
	for _, c := range cases {
		if got := encOID(c.oid); !bytes.Equal(got, unhex(t, c.hex)) {
			t.Errorf("encOID(%v) = %X, want %s", c.oid, got, c.hex)
		}
		// Cross-check with encoding/asn1.
		std, err := asn1.Marshal(c.oid)
		if err != nil || !bytes.Equal(std[2:], unhex(t, c.hex)) {
			t.Errorf("asn1.Marshal(%v) = %X, %v", c.oid, std, err)
		}
		got, err := decOID(unhex(t, c.hex))
		if err != nil || !got.Equal(c.oid) {
			t.Errorf("decOID(%s) = %v, %v", c.hex, got, err)
		}
	}
	for _, bad := range []asn1.ObjectIdentifier{nil, {1}, {3, 1}, {1, 40}, {1, 2, -1}} {
		if got := encOID(bad); got != nil {
			t.Errorf("encOID(%v) = %X, want nil", bad, got)
		}
	}
	for _, bad := range []string{"", "88", "FFFFFFFF7F"} {
		if _, err := decOID(unhex(t, bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("decOID(%s) error %v", bad, err)
		}
	}
}
