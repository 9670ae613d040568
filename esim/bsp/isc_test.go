package bsp

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// testISC returns a built request with a fixed public key and signature.
func testISC(t testing.TB) (*InitialiseSecureChannel, []byte) {
	t.Helper()
	priv, err := ecdh.P256().NewPrivateKey(bytes.Repeat([]byte{0x11}, 32))
	if err != nil {
		t.Fatal(err)
	}
	r := NewInitialiseSecureChannel(unhex(t, "0123456789abcdef8899aabbccddeeff"), unhex(t, vecHostID), priv.PublicKey().Bytes())
	r.Signature = bytes.Repeat([]byte{0x5A}, 64)
	b, err := r.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return r, b
}

func TestInitialiseSecureChannelLayout(t *testing.T) {
	r, b := testISC(t)
	pk := r.DPPublicKey
	unsigned := "820101" + "8010" + "0123456789abcdef8899aabbccddeeff" +
		"a610" + "800188" + "810110" + "8408" + vecHostID
	want := append(unhex(t, "bf23"+"81ae"+unsigned+"5f4941"), pk...)
	want = append(want, unhex(t, "5f3740")...)
	want = append(want, r.Signature...)
	if !bytes.Equal(b, want) {
		t.Fatalf("BF23 =\n%x\nwant\n%x", b, want)
	}
	euiccPK := bytes.Repeat([]byte{0x04}, 65)
	wantSigned := append(unhex(t, unsigned+"5f4941"), pk...)
	wantSigned = append(wantSigned, unhex(t, "5f4941")...)
	wantSigned = append(wantSigned, euiccPK...)
	if got := r.SignedData(euiccPK); !bytes.Equal(got, wantSigned) {
		t.Fatalf("SignedData =\n%x\nwant\n%x", got, wantSigned)
	}

	parsed, err := ParseInitialiseSecureChannel(b)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.RemoteOpID != 1 || parsed.KeyType != 0x88 || parsed.KeyLen != 0x10 ||
		!bytes.Equal(parsed.TransactionID, r.TransactionID) || !bytes.Equal(parsed.HostID, r.HostID) ||
		!bytes.Equal(parsed.DPPublicKey, pk) || !bytes.Equal(parsed.Signature, r.Signature) {
		t.Fatalf("parsed %+v", parsed)
	}
	if got := parsed.SignedData(euiccPK); !bytes.Equal(got, wantSigned) {
		t.Fatalf("parsed SignedData =\n%x\nwant\n%x", got, wantSigned)
	}
}

// TestInitialiseSecureChannelOriginalBytes checks that a parsed request
// signs over the bytes as received, here with a non-minimal length of 80.
func TestInitialiseSecureChannelOriginalBytes(t *testing.T) {
	r, _ := testISC(t)
	content := unhex(t, "820101"+"808110"+"0123456789abcdef8899aabbccddeeff"+"a610800188810110"+"8408"+vecHostID)
	content = append(content, tlv.Encode(TagOneTimePublicKey, r.DPPublicKey)...)
	signedLen := len(content)
	content = append(content, tlv.Encode(TagSignature, r.Signature)...)
	parsed, err := ParseInitialiseSecureChannel(tlv.Encode(TagInitialiseSecureChannel, content))
	if err != nil {
		t.Fatal(err)
	}
	got := parsed.SignedData(nil)
	want := append(bytes.Clone(content[:signedLen]), 0x5F, 0x49, 0x00)
	if !bytes.Equal(got, want) {
		t.Fatalf("SignedData =\n%x\nwant\n%x", got, want)
	}
}

func TestParseInitialiseSecureChannelErrors(t *testing.T) {
	_, good := testISC(t)
	mutate := func(f func(r *InitialiseSecureChannel)) []byte {
		r, _ := testISC(t)
		f(r)
		content := r.unsignedContent()
		content = append(content, tlv.Encode(TagSignature, r.Signature)...)
		return tlv.Encode(TagInitialiseSecureChannel, content)
	}
	tests := []struct {
		name    string
		in      []byte
		wantErr error
	}{
		{"empty", nil, ErrFormat},
		{"other tag", append([]byte{0xBF, 0x24}, good[2:]...), ErrFormat},
		{"trailing", append(bytes.Clone(good), 0), ErrFormat},
		{"remoteOpId 2", mutate(func(r *InitialiseSecureChannel) { r.RemoteOpID = 2 }), ErrUnsupportedRemoteOp},
		{"key type 80", mutate(func(r *InitialiseSecureChannel) { r.KeyType = 0x80 }), ErrUnsupportedCRT},
		{"key length 20", mutate(func(r *InitialiseSecureChannel) { r.KeyLen = 0x20 }), ErrUnsupportedCRT},
		{"empty hostId", mutate(func(r *InitialiseSecureChannel) { r.HostID = nil }), ErrUnsupportedCRT},
		{"long transactionId", mutate(func(r *InitialiseSecureChannel) { r.TransactionID = make([]byte, 17) }), ErrFormat},
		{"compressed key", mutate(func(r *InitialiseSecureChannel) { r.DPPublicKey = r.DPPublicKey[:33] }), ErrFormat},
		{"no signature", mutate(func(r *InitialiseSecureChannel) { r.Signature = nil }), ErrFormat},
		{"missing element", tlv.Encode(TagInitialiseSecureChannel, unhex(t, "820101")), ErrFormat},
		{"swapped elements", tlv.Encode(TagInitialiseSecureChannel, unhex(t, "8001aa820101a600"+"5f4900"+"5f3700")), ErrFormat},
		{"bad CRT", tlv.Encode(TagInitialiseSecureChannel, unhex(t, "8201018001aaa603800188"+"5f4900"+"5f3700")), ErrFormat},
		{"two-byte key type", tlv.Encode(TagInitialiseSecureChannel, unhex(t, "8201018001aaa60a80028800810110840180"+"5f4900"+"5f3700")), ErrUnsupportedCRT},
		{"two-byte remoteOpId", tlv.Encode(TagInitialiseSecureChannel, unhex(t, "820200018001aaa600"+"5f4900"+"5f3700")), ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseInitialiseSecureChannel(tt.in); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestInitialiseSecureChannelBytesChecks(t *testing.T) {
	r, _ := testISC(t)
	r.Signature = nil
	if _, err := r.Bytes(); !errors.Is(err, ErrFormat) {
		t.Fatalf("unsigned request encoded: %v", err)
	}
}

// TestSessionKeysBothSides derives the keys on the SM-DP+ side (ECKA with
// otSK.DP and otPK.EUICC) and through the parsed request on the eUICC side.
func TestSessionKeysBothSides(t *testing.T) {
	dp, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	euicc, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	eid := unhex(t, vecEID)
	r := NewInitialiseSecureChannel([]byte{1, 2, 3}, []byte("host"), dp.PublicKey().Bytes())
	r.Signature = make([]byte, 64)
	b, err := r.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	shs, err := ECKA(dp, euicc.PublicKey().Bytes())
	if err != nil {
		t.Fatal(err)
	}
	dpKeys, err := DeriveSessionKeys(shs, KeyTypeAES, KeyLenAES128, []byte("host"), eid)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseInitialiseSecureChannel(b)
	if err != nil {
		t.Fatal(err)
	}
	euiccKeys, err := parsed.SessionKeys(euicc, eid)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dpKeys.MCV, euiccKeys.MCV) || !bytes.Equal(dpKeys.SENC, euiccKeys.SENC) || !bytes.Equal(dpKeys.SMAC, euiccKeys.SMAC) {
		t.Fatal("the two sides derived different keys")
	}
	if _, err := parsed.SessionKeys(euicc, eid[:4]); !errors.Is(err, ErrKeys) {
		t.Fatalf("short EID: %v", err)
	}
}

func FuzzParseInitialiseSecureChannel(f *testing.F) {
	_, good := testISC(f)
	f.Add(good)
	f.Add(tlv.Encode(TagInitialiseSecureChannel, unhex(f, "820101")))
	f.Add([]byte{0xBF, 0x23, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseInitialiseSecureChannel(b)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupportedCRT) && !errors.Is(err, ErrUnsupportedRemoteOp) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		again, err := r.Bytes()
		if err != nil {
			t.Fatalf("parsed request does not encode: %v", err)
		}
		if len(again) == len(b) && !bytes.Equal(again, b) {
			t.Fatalf("%x re-encodes to %x", b, again)
		}
		// The signed part is taken from the input, not re-encoded.
		signed := r.SignedData(nil)
		if !bytes.Contains(b, signed[:len(signed)-3]) {
			t.Fatalf("signed data %x is not part of %x", signed, b)
		}
	})
}
