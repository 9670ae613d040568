package rsp

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"
)

func addSeeds(f *testing.F, extra ...string) {
	for _, s := range append(seedCorpus(), extra...) {
		b, err := hex.DecodeString(s)
		if err != nil {
			f.Fatalf("bad seed %q: %v", s, err)
		}
		f.Add(b)
	}
}

// checkStable decodes b; when that succeeds, the value must re-encode to
// bytes that decode to the same value and re-encode identically.
func checkStable[T encoder](t *testing.T, b []byte, dec func([]byte) (T, error)) {
	t.Helper()
	v, err := dec(b)
	if err != nil {
		return
	}
	enc := v.Encode()
	v2, err := dec(enc)
	if err != nil {
		t.Fatalf("re-decoding %X (from %X) failed: %v", enc, b, err)
	}
	if !reflect.DeepEqual(v, v2) {
		t.Fatalf("unstable:\n first  %+v\n second %+v\n input %X\n enc   %X", v, v2, b, enc)
	}
	if enc2 := v2.Encode(); !bytes.Equal(enc, enc2) {
		t.Fatalf("re-encoding differs:\n %X\n %X", enc, enc2)
	}
}

func FuzzDecodeProfilesInfo(f *testing.F) {
	addSeeds(f, "BF2D10A00EE30C5A0A"+hexTestICCID, "BF2D05A003E30100")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkStable(t, b, DecodeGetProfilesInfoResponse)
		checkStable(t, b, DecodeProfileInfo)
	})
}

func FuzzDecodeEUICCInfo2(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		checkStable(t, b, DecodeEUICCInfo2)
		checkStable(t, b, DecodeEUICCInfo1)
	})
}

func FuzzDecodeNotifications(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		checkStable(t, b, DecodeListNotificationResponse)
		checkStable(t, b, DecodeRetrieveNotificationsListResponse)
		checkStable(t, b, DecodePendingNotification)
		checkStable(t, b, DecodeOtherSignedNotification)
		checkStable(t, b, DecodeNotificationMetadata)
		if p, err := DecodePendingNotification(b); err == nil && !bytes.Equal(p.Raw, b) {
			t.Fatalf("Raw %X differs from input %X", p.Raw, b)
		}
	})
}

// FuzzResponses covers the LPA-side decoders not covered above.
func FuzzResponses(f *testing.F) {
	addSeeds(f, "BF3103800100", "BF330380017F", "BF2903800101", "BF3403800105", "BF3003800101",
		"BF3F03800100", "BF3203800102", "BF3C0E800A736D64702E6C6F63616C810161")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkStable(t, b, DecodeGetEIDResponse)
		checkStable(t, b, DecodeEnableProfileResponse)
		checkStable(t, b, DecodeDisableProfileResponse)
		checkStable(t, b, DecodeDeleteProfileResponse)
		checkStable(t, b, DecodeSetNicknameResponse)
		checkStable(t, b, DecodeMemoryResetResponse)
		checkStable(t, b, DecodeConfiguredAddresses)
		checkStable(t, b, DecodeSetDefaultDPAddressResponse)
		checkStable(t, b, DecodeNotificationSentResponse)
	})
}

// FuzzRequests covers the card-side decoders of every request.
func FuzzRequests(f *testing.F) {
	addSeeds(f, "BF31124F10"+hexISDPAID, "BF330EA00C5A0A"+hexTestICCID, "BF2D06A0044F0201025C00")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkStable(t, b, DecodeGetEIDRequest)
		checkStable(t, b, DecodeGetEUICCInfo1Request)
		checkStable(t, b, DecodeGetEUICCInfo2Request)
		checkStable(t, b, DecodeGetProfilesInfoRequest)
		checkStable(t, b, DecodeEnableProfileRequest)
		checkStable(t, b, DecodeDisableProfileRequest)
		checkStable(t, b, DecodeDeleteProfileRequest)
		checkStable(t, b, DecodeSetNicknameRequest)
		checkStable(t, b, DecodeMemoryResetRequest)
		checkStable(t, b, DecodeGetConfiguredAddressesRequest)
		checkStable(t, b, DecodeSetDefaultDPAddressRequest)
		checkStable(t, b, DecodeListNotificationRequest)
		checkStable(t, b, DecodeRetrieveNotificationsListRequest)
		checkStable(t, b, DecodeNotificationSentRequest)
		if tag, err := RequestTag(b); err == nil && len(tag.Bytes()) > len(b) {
			t.Fatalf("RequestTag %s longer than input %X", tag, b)
		}
	})
}

func FuzzICCID(f *testing.F) {
	for _, s := range []string{testICCID, "8904903212345123451F", "890490321234512345", " 89049032123451234512 ", "8904x"} {
		f.Add([]byte(s))
	}
	for _, h := range []string{hexTestICCID, "984009232143153254F1", "98400923214315325F21", "984009232143153254A1"} {
		f.Add(unhex(f, h))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if id, err := ParseICCID(string(b)); err == nil {
			back, err := DecodeICCID(id.Encode())
			if err != nil || back != id {
				t.Fatalf("ICCID %q encodes to %X which decodes to %q, %v", id, id.Encode(), back, err)
			}
		}
		if id, err := DecodeICCID(b); err == nil {
			if !bytes.Equal(id.Encode(), b) {
				t.Fatalf("DecodeICCID(%X) = %q, re-encodes to %X", b, id, id.Encode())
			}
			if _, err := ParseICCID(string(id)); err != nil {
				t.Fatalf("decoded ICCID %q does not parse: %v", id, err)
			}
		}
	})
}

func FuzzEID(f *testing.F) {
	f.Add([]byte(testEID))
	f.Add([]byte("89049032123451234512345678901335"))
	f.Add(unhex(f, testEID))
	f.Add(unhex(f, "89049032123451234512345678901335"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, err := ParseEID(string(b)); err == nil {
			back, err := DecodeEID(e.Encode())
			if err != nil || back != e {
				t.Fatalf("EID %q encodes to %X which decodes to %q, %v", e, e.Encode(), back, err)
			}
		}
		if e, err := DecodeEID(b); err == nil && !bytes.Equal(e.Encode(), b) {
			t.Fatalf("DecodeEID(%X) = %q, re-encodes to %X", b, e, e.Encode())
		}
		if e, err := NewEID(string(b), b); err == nil {
			if _, err := ParseEID(string(e)); err != nil {
				t.Fatalf("NewEID(%q) = %q which does not parse: %v", b, e, err)
			}
		}
	})
}
