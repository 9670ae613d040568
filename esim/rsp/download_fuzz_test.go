package rsp

import (
	"bytes"
	"reflect"
	"testing"
)

// addDownloadSeeds seeds f with the known download encodings and the
// encodings of every round-trip case.
func addDownloadSeeds(f *testing.F) {
	for _, h := range []string{hexServerSigned1, hexCtxParams1, hexAuthServerReq, hexPrepDownloadReq, hexPrepDownloadResp,
		hexPrepDownloadErr, hexAuthServerErr, hexAuthServerErr81, hexCancelReq, hexCancelResp, hexCancelErr,
		hexChallengeResp, hexConfigureISDP, hexStoreMetadata, hexPIRFailure, hexPIR, "BF2E00", "BF2400", "BF4103020105"} {
		f.Add(unhex(f, h))
	}
	for _, c := range dlMessages(f) {
		f.Add(c.enc())
	}
}

// checkStableBytes is checkStable for signed structures (Bytes, not
// Encode). Bytes of a decoded value must also be exactly the input.
func checkStableBytes[T byteser](t *testing.T, b []byte, dec func([]byte) (T, error)) {
	t.Helper()
	v, err := dec(b)
	if err != nil {
		return
	}
	enc := v.Bytes()
	if !bytes.Equal(enc, b) {
		t.Fatalf("Bytes() of decoded %X is %X", b, enc)
	}
	v2, err := dec(enc)
	if err != nil {
		t.Fatalf("re-decoding %X failed: %v", enc, err)
	}
	if !reflect.DeepEqual(v, v2) {
		t.Fatalf("unstable:\n first  %+v\n second %+v", v, v2)
	}
	// The canonical encoding of the fields decodes to the same fields.
	canon := clearRaw(v).Bytes()
	v3, err := dec(canon)
	if err != nil {
		t.Fatalf("decoding canonical %X (from %X) failed: %v", canon, b, err)
	}
	if !reflect.DeepEqual(clearRaw(v3), clearRaw(v)) {
		t.Fatalf("canonical form differs:\n first  %+v\n canon  %+v\n input %X\n canon %X", v, v3, b, canon)
	}
}

// checkCanonical re-encodes a decoded message with every Raw cleared; the
// result must decode to the same fields.
func checkCanonical[T encoder](t *testing.T, b []byte, dec func([]byte) (T, error)) {
	t.Helper()
	v, err := dec(b)
	if err != nil {
		return
	}
	canon := clearRaw(v).Encode()
	v2, err := dec(canon)
	if err != nil {
		t.Fatalf("decoding canonical %X (from %X) failed: %v", canon, b, err)
	}
	if !reflect.DeepEqual(clearRaw(v2), clearRaw(v)) {
		t.Fatalf("canonical form differs:\n first %+v\n canon %+v\n input %X\n canon %X", v, v2, b, canon)
	}
}

func FuzzDecodeDownloadRequests(f *testing.F) {
	addDownloadSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		checkStable(t, b, DecodeGetEUICCChallengeRequest)
		checkStable(t, b, DecodeAuthenticateServerRequest)
		checkCanonical(t, b, DecodeAuthenticateServerRequest)
		checkStable(t, b, DecodePrepareDownloadRequest)
		checkCanonical(t, b, DecodePrepareDownloadRequest)
		checkStable(t, b, DecodeCancelSessionRequest)
	})
}

func FuzzDecodeDownloadResponses(f *testing.F) {
	addDownloadSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		checkStable(t, b, DecodeGetEUICCChallengeResponse)
		checkStable(t, b, DecodeAuthenticateServerResponse)
		checkCanonical(t, b, DecodeAuthenticateServerResponse)
		checkStable(t, b, DecodePrepareDownloadResponse)
		checkCanonical(t, b, DecodePrepareDownloadResponse)
		checkStable(t, b, DecodeCancelSessionResponse)
		checkCanonical(t, b, DecodeCancelSessionResponse)
	})
}

func FuzzDecodeSignedParts(f *testing.F) {
	addDownloadSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		checkStableBytes(t, b, DecodeServerSigned1)
		checkStableBytes(t, b, DecodeSMDPSigned2)
		checkStableBytes(t, b, DecodeStoreMetadataRequest)
	})
}

func FuzzDecodeInstall(f *testing.F) {
	addDownloadSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		checkStable(t, b, DecodeConfigureISDPRequest)
		checkStable(t, b, DecodeProfileInstallationResult)
		checkCanonical(t, b, DecodeProfileInstallationResult)
		if r, err := DecodeProfileInstallationResult(b); err == nil {
			if (r.Err() == nil) != (r.Data.Success != nil) {
				t.Fatalf("Err() = %v with success %+v", r.Err(), r.Data.Success)
			}
		}
	})
}

func FuzzParseTransactionID(f *testing.F) {
	for _, s := range []string{"0A", "000102030405060708090a0b0c0d0e0f", "", "xyz", "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseTransactionID(s)
		if err != nil {
			return
		}
		if len(b) < 1 || len(b) > MaxTransactionIDLen {
			t.Fatalf("accepted %d bytes", len(b))
		}
		b2, err := ParseTransactionID(TransactionIDString(b))
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("round trip of %q: %X, %v", s, b2, err)
		}
	})
}
