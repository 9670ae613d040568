package bsp

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"testing"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// testSession plays both ends of one download: the eUICC's one-time key and
// EID, the SM-DP+'s DPpb signing key, the transaction and the profile.
type testSession struct {
	eid     []byte
	txid    []byte
	euicc   *ecdh.PrivateKey
	dpSign  *ecdsa.PrivateKey
	verify  *ecdsa.PublicKey // key the eUICC verifies smdpSign with
	upp     []byte
	isdp    []byte
	meta    []byte
	rsk     *SessionKeys
	tweakSC func(r *InitialiseSecureChannel) // changes BF23 before signing
}

func newTestSession(t testing.TB, withRSK bool) *testSession {
	t.Helper()
	euicc, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dpSign, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	upp := make([]byte, 3000)
	for i := range upp {
		upp[i] = byte(i*13 + 7)
	}
	s := &testSession{
		eid:    unhex(t, vecEID),
		txid:   unhex(t, "0123456789abcdef8899aabbccddeeff"),
		euicc:  euicc,
		dpSign: dpSign,
		verify: &dpSign.PublicKey,
		upp:    upp,
		isdp:   unhex(t, "bf2400"),
		meta:   unhex(t, vecSeg2Plain),
	}
	if withRSK {
		k := rskKeys()
		s.rsk = &k
	}
	return s
}

// iscBytes encodes r without the field checks of Bytes, so tests can send
// values a real SM-DP+ would not.
func iscBytes(r *InitialiseSecureChannel) []byte {
	content := r.unsignedContent()
	content = append(content, tlv.Encode(TagSignature, r.Signature)...)
	return tlv.Encode(TagInitialiseSecureChannel, content)
}

// bpp builds the SM-DP+'s BPP for this session.
func (s *testSession) bpp(t testing.TB) []byte {
	t.Helper()
	dp, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostID := unhex(t, vecHostID)
	r := NewInitialiseSecureChannel(s.txid, hostID, dp.PublicKey().Bytes())
	if s.tweakSC != nil {
		s.tweakSC(r)
	}
	digest := sha256.Sum256(r.SignedData(s.euicc.PublicKey().Bytes()))
	sr, ss, err := ecdsa.Sign(rand.Reader, s.dpSign, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	r.Signature = append(sr.FillBytes(make([]byte, 32)), ss.FillBytes(make([]byte, 32))...)
	shs, err := ECKA(dp, s.euicc.PublicKey().Bytes())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := DeriveSessionKeys(shs, KeyTypeAES, KeyLenAES128, hostID, s.eid)
	if err != nil {
		t.Fatal(err)
	}
	bpp, err := BuildBPP(keys, BPPParts{
		InitialiseSecureChannel: iscBytes(r),
		ConfigureISDP:           s.isdp,
		StoreMetadata:           s.meta,
		ReplaceKeys:             s.rsk,
		ProfileElements:         SplitProfile(s.upp, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	return bpp
}

// agree is the eUICC's KeyAgreement.
func (s *testSession) agree(isc *InitialiseSecureChannel) (SessionKeys, error) {
	if !bytes.Equal(isc.TransactionID, s.txid) {
		return SessionKeys{}, fmt.Errorf("%w: got %x", ErrTransactionID, isc.TransactionID)
	}
	if len(isc.Signature) != 64 {
		return SessionKeys{}, fmt.Errorf("%w: %d bytes", ErrSignature, len(isc.Signature))
	}
	digest := sha256.Sum256(isc.SignedData(s.euicc.PublicKey().Bytes()))
	r, ss := new(big.Int).SetBytes(isc.Signature[:32]), new(big.Int).SetBytes(isc.Signature[32:])
	if !ecdsa.Verify(s.verify, digest[:], r, ss) {
		return SessionKeys{}, ErrSignature
	}
	return isc.SessionKeys(s.euicc, s.eid)
}

// transfers segments a BPP the way the LPA does.
func transfers(t testing.TB, bpp []byte) [][]byte {
	t.Helper()
	segs, err := Segments(bpp)
	if err != nil {
		t.Fatal(err)
	}
	return segs
}

// collected is everything the Unwrapper reported over several Feeds.
type collected struct {
	isdp, meta, upp []byte
	replaced, done  bool
}

func (c *collected) add(t testing.TB, r Result) {
	t.Helper()
	if c.done {
		t.Fatal("result after Done")
	}
	if r.ConfigureISDP != nil {
		if c.isdp != nil {
			t.Fatal("ConfigureISDP reported twice")
		}
		c.isdp = r.ConfigureISDP
	}
	if r.StoreMetadata != nil {
		if c.meta != nil {
			t.Fatal("StoreMetadata reported twice")
		}
		c.meta = r.StoreMetadata
	}
	c.replaced = c.replaced || r.KeysReplaced
	c.upp = append(c.upp, r.ProfileData...)
	c.done = r.Done
}

func (c *collected) check(t testing.TB, s *testSession) {
	t.Helper()
	if !c.done {
		t.Fatal("not done")
	}
	if !bytes.Equal(c.isdp, s.isdp) || !bytes.Equal(c.meta, s.meta) || !bytes.Equal(c.upp, s.upp) {
		t.Fatal("recovered data differs")
	}
	if c.replaced != (s.rsk != nil) {
		t.Fatalf("KeysReplaced = %v", c.replaced)
	}
}

func TestUnwrapPerTransfer(t *testing.T) {
	for _, withRSK := range []bool{false, true} {
		t.Run(fmt.Sprintf("rsk=%v", withRSK), func(t *testing.T) {
			s := newTestSession(t, withRSK)
			trs := transfers(t, s.bpp(t))
			w := NewUnwrapper(s.agree, Options{})
			var c collected
			var commands []BPPCommand
			for i, tr := range trs {
				commands = append(commands, w.Command())
				r, err := w.Feed(tr)
				if err != nil {
					t.Fatalf("transfer %d: %v", i, err)
				}
				c.add(t, r)
				if r.Done != (i == len(trs)-1) {
					t.Fatalf("transfer %d: Done = %v", i, r.Done)
				}
			}
			c.check(t, s)
			// The step before each transfer: BF23, A0+87, A1, 88, [A2+87], A3, 86...
			// Between A1 and the optional A2 the next mandatory step counts.
			want := []BPPCommand{CmdInitialiseSecureChannel, CmdConfigureISDP, CmdStoreMetadata, CmdStoreMetadata}
			if withRSK {
				want = append(want, CmdLoadProfileElements)
			}
			want = append(want, CmdLoadProfileElements) // A3 header
			for range 3 {
				want = append(want, CmdLoadProfileElements)
			}
			if fmt.Sprint(commands) != fmt.Sprint(want) {
				t.Fatalf("commands %v, want %v", commands, want)
			}
			if _, err := w.Feed(trs[len(trs)-1]); !errors.Is(err, ErrFinished) {
				t.Fatalf("feed after done: %v", err)
			}
		})
	}
}

// TestUnwrapGroupings feeds the BPP in other groupings at element
// boundaries: all at once, lpac-style whole sequences, random groups.
func TestUnwrapGroupings(t *testing.T) {
	s := newTestSession(t, true)
	bpp := s.bpp(t)
	trs := transfers(t, bpp)
	rng := mrand.New(mrand.NewPCG(3, 4))
	groupings := map[string][][]byte{
		"whole BPP":       {bpp},
		"whole A1 and A3": {trs[0], trs[1], bytes.Join(trs[2:4], nil), trs[4], bytes.Join(trs[5:], nil)},
	}
	for g := range 20 {
		var out [][]byte
		for i := 0; i < len(trs); {
			n := 1 + rng.IntN(3)
			n = min(n, len(trs)-i)
			out = append(out, bytes.Join(trs[i:i+n], nil))
			i += n
		}
		groupings[fmt.Sprintf("random %d", g)] = out
	}
	for name, feeds := range groupings {
		t.Run(name, func(t *testing.T) {
			w := NewUnwrapper(s.agree, Options{})
			var c collected
			for i, f := range feeds {
				r, err := w.Feed(f)
				if err != nil {
					t.Fatalf("feed %d: %v", i, err)
				}
				c.add(t, r)
			}
			c.check(t, s)
		})
	}
}

func TestUnwrapErrors(t *testing.T) {
	flip := func(b []byte, at int) []byte {
		b = bytes.Clone(b)
		b[len(b)+at] ^= 1
		return b
	}
	otherSigner, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		rsk        bool
		setup      func(s *testSession)
		feeds      func(trs [][]byte) [][]byte
		wantCmd    BPPCommand
		wantReason ErrorReason
		wantErr    error
	}{
		{name: "signature by another key", setup: func(s *testSession) { s.verify = &otherSigner.PublicKey },
			wantCmd: CmdInitialiseSecureChannel, wantReason: ReasonInvalidSignature, wantErr: ErrSignature},
		{name: "signature over other data", feeds: func(trs [][]byte) [][]byte {
			tr := bytes.Clone(trs[0])
			i := bytes.Index(tr, unhex(t, "8408"+vecHostID))
			tr[i+2] ^= 1 // hostId changes: signature no longer matches
			return [][]byte{tr}
		}, wantCmd: CmdInitialiseSecureChannel, wantReason: ReasonInvalidSignature},
		{name: "other transaction", setup: func(s *testSession) { s.tweakSC = func(r *InitialiseSecureChannel) { r.TransactionID = []byte{9} } },
			wantCmd: CmdInitialiseSecureChannel, wantReason: ReasonInvalidTransactionID},
		{name: "remoteOpId 2", setup: func(s *testSession) { s.tweakSC = func(r *InitialiseSecureChannel) { r.RemoteOpID = 2 } },
			wantCmd: CmdInitialiseSecureChannel, wantReason: ReasonUnsupportedRemoteOperationType},
		{name: "CRT key type 89", setup: func(s *testSession) { s.tweakSC = func(r *InitialiseSecureChannel) { r.KeyType = 0x89 } },
			wantCmd: CmdInitialiseSecureChannel, wantReason: ReasonUnsupportedCRTValues},
		{name: "not a BPP", feeds: func(trs [][]byte) [][]byte { return [][]byte{{0xBF, 0x37, 0x00}} },
			wantCmd: CmdInitialiseSecureChannel, wantReason: ReasonSCP03tStructureError},
		{name: "empty transfer", feeds: func(trs [][]byte) [][]byte { return [][]byte{{}} },
			wantCmd: CmdInitialiseSecureChannel, wantReason: ReasonSCP03tStructureError},
		{name: "BF23 split", feeds: func(trs [][]byte) [][]byte { return [][]byte{trs[0][:50], trs[0][50:]} },
			wantCmd: CmdInitialiseSecureChannel, wantReason: ReasonSCP03tStructureError},
		{name: "tampered 87 in A0", feeds: func(trs [][]byte) [][]byte { return [][]byte{trs[0], flip(trs[1], -1)} },
			wantCmd: CmdConfigureISDP, wantReason: ReasonSCP03tSecurityError, wantErr: ErrMAC},
		{name: "A1 missing", feeds: func(trs [][]byte) [][]byte { return [][]byte{trs[0], trs[1], trs[4]} },
			wantCmd: CmdStoreMetadata, wantReason: ReasonSCP03tStructureError},
		{name: "88 before A1", feeds: func(trs [][]byte) [][]byte { return [][]byte{trs[0], trs[1], trs[3]} },
			wantCmd: CmdStoreMetadata, wantReason: ReasonSCP03tStructureError},
		{name: "tampered 88", feeds: func(trs [][]byte) [][]byte { return [][]byte{trs[0], trs[1], trs[2], flip(trs[3], -20)} },
			wantCmd: CmdStoreMetadata, wantReason: ReasonSCP03tSecurityError, wantErr: ErrMAC},
		{name: "88 split", feeds: func(trs [][]byte) [][]byte { return [][]byte{trs[0], trs[1], trs[2], trs[3][:10]} },
			wantCmd: CmdStoreMetadata, wantReason: ReasonSCP03tStructureError},
		{name: "tampered RSK", rsk: true, feeds: func(trs [][]byte) [][]byte { return [][]byte{trs[0], trs[1], trs[2], trs[3], flip(trs[4], -30)} },
			wantCmd: CmdReplaceSessionKeys, wantReason: ReasonSCP03tSecurityError, wantErr: ErrMAC},
		{name: "tampered 86", feeds: func(trs [][]byte) [][]byte {
			return [][]byte{trs[0], trs[1], trs[2], trs[3], trs[4], trs[5], flip(trs[6], -100)}
		}, wantCmd: CmdLoadProfileElements, wantReason: ReasonSCP03tSecurityError, wantErr: ErrMAC},
		{name: "replayed 86", feeds: func(trs [][]byte) [][]byte {
			return [][]byte{trs[0], trs[1], trs[2], trs[3], trs[4], trs[5], trs[5]}
		}, wantCmd: CmdLoadProfileElements, wantReason: ReasonSCP03tSecurityError, wantErr: ErrMAC},
		{name: "86 from after RSK without keys switched", rsk: true, feeds: func(trs [][]byte) [][]byte {
			return [][]byte{trs[0], trs[1], trs[2], trs[3], trs[5], trs[6]}
		}, wantCmd: CmdLoadProfileElements, wantReason: ReasonSCP03tSecurityError, wantErr: ErrMAC},
		{name: "trailing bytes after BF36", feeds: func(trs [][]byte) [][]byte {
			out := append([][]byte(nil), trs...)
			out[len(out)-1] = append(bytes.Clone(out[len(out)-1]), 0x86, 0x00)
			return out
		}, wantCmd: CmdLoadProfileElements, wantReason: ReasonSCP03tStructureError},
		{name: "BF36 length one short", feeds: func(trs [][]byte) [][]byte {
			out := append([][]byte(nil), trs...)
			out[0] = bytes.Clone(out[0])
			out[0][4]-- // BF36 82 HH LL: trs are > 256 bytes long
			return out
		}, wantCmd: CmdLoadProfileElements, wantReason: ReasonSCP03tStructureError},
		{name: "BF36 length one long", feeds: func(trs [][]byte) [][]byte {
			out := append([][]byte(nil), trs...)
			out[0] = bytes.Clone(out[0])
			out[0][4]++
			return out
		}, wantCmd: CmdLoadProfileElements, wantReason: ReasonSCP03tStructureError},
		{name: "BF36 holds only BF23", feeds: func(trs [][]byte) [][]byte {
			bf23 := trs[0][5:] // after BF36 82 HH LL
			return [][]byte{append(append([]byte{0xBF, 0x36}, tlv.EncodeLength(len(bf23))...), bf23...)}
		}, wantCmd: CmdConfigureISDP, wantReason: ReasonSCP03tStructureError},
		{name: "empty A2", rsk: true, feeds: func(trs [][]byte) [][]byte {
			return [][]byte{trs[0], trs[1], trs[2], trs[3], {0xA2, 0x00}}
		}, wantCmd: CmdReplaceSessionKeys, wantReason: ReasonSCP03tStructureError},
		{name: "unknown sequence after A1", feeds: func(trs [][]byte) [][]byte {
			return [][]byte{trs[0], trs[1], trs[2], trs[3], {0xA4, 0x00}}
		}, wantCmd: CmdLoadProfileElements, wantReason: ReasonSCP03tStructureError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSession(t, tt.rsk)
			if tt.setup != nil {
				tt.setup(s)
			}
			trs := transfers(t, s.bpp(t))
			feeds := trs
			if tt.feeds != nil {
				feeds = tt.feeds(trs)
			}
			w := NewUnwrapper(s.agree, Options{})
			var err error
			for _, f := range feeds {
				if _, err = w.Feed(f); err != nil {
					break
				}
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want *LoadError", err)
			}
			if le.Command != tt.wantCmd || le.Reason != tt.wantReason {
				t.Fatalf("got %s/%d, want %s/%d (%v)", le.Command, le.Reason, tt.wantCmd, tt.wantReason, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if _, err := w.Feed(trs[0]); !errors.Is(err, ErrFinished) {
				t.Fatalf("feed after failure: %v", err)
			}
		})
	}
}

func TestUnwrapKeyAgreementFailures(t *testing.T) {
	s := newTestSession(t, false)
	bf := transfers(t, s.bpp(t))[0]
	tests := []struct {
		name  string
		agree KeyAgreement
	}{
		{"nil agreement", nil},
		{"short keys", func(*InitialiseSecureChannel) (SessionKeys, error) { return SessionKeys{SENC: []byte{1}}, nil }},
		{"other failure", func(*InitialiseSecureChannel) (SessionKeys, error) { return SessionKeys{}, errors.New("no session") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewUnwrapper(tt.agree, Options{}).Feed(bf)
			var le *LoadError
			if !errors.As(err, &le) || le.Command != CmdInitialiseSecureChannel || le.Reason != ReasonUnknownError {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestLoadErrorText(t *testing.T) {
	err := error(&LoadError{Command: CmdStoreMetadata, Reason: ReasonSCP03tSecurityError, Err: ErrMAC})
	want := "bsp: load bound profile package: storeMetadata failed (errorReason 8): bsp: segment MAC verification failed"
	if err.Error() != want {
		t.Fatalf("%q", err.Error())
	}
	if BPPCommand(3).String() != "storeMetadata2" || BPPCommand(9).String() != "bppCommandId(9)" {
		t.Fatal("BPPCommand names")
	}
}

// fuzzKeys is the fixed key agreement of FuzzUnwrap: vector B keys,
// whatever the BF23 says.
func fuzzKeys(t testing.TB) KeyAgreement {
	k := vectorBKeys(t)
	return func(*InitialiseSecureChannel) (SessionKeys, error) { return k, nil }
}

func FuzzUnwrap(f *testing.F) {
	for _, p := range []BPPParts{vectorParts(f), func() BPPParts {
		p := vectorParts(f)
		p.ReplaceKeys = nil
		p.ProfileElements = [][]byte{{1, 2, 3}, {4}}
		return p
	}()} {
		bpp, err := BuildBPP(vectorBKeys(f), p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bpp)
	}
	f.Add([]byte{0xBF, 0x36, 0x00})
	f.Add([]byte{0xBF, 0x36, 0x80})
	agree := fuzzKeys(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var whole collected
		r, err := NewUnwrapper(agree, Options{}).Feed(b)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error is not a *LoadError: %v", err)
			}
			return
		}
		whole.add(t, r)
		if !whole.done {
			// A prefix without a complete BPP: fine, nothing to compare.
			return
		}
		// A complete BPP must segment and give the same data fed in pieces.
		trs, err := Segments(b)
		if err != nil {
			t.Fatalf("unwrapped BPP does not segment: %v", err)
		}
		w := NewUnwrapper(agree, Options{})
		var pieces collected
		for i, tr := range trs {
			r, err := w.Feed(tr)
			if err != nil {
				t.Fatalf("transfer %d: %v", i, err)
			}
			pieces.add(t, r)
		}
		if !pieces.done || !bytes.Equal(pieces.upp, whole.upp) || !bytes.Equal(pieces.isdp, whole.isdp) || !bytes.Equal(pieces.meta, whole.meta) {
			t.Fatal("segment-wise unwrapping differs")
		}
	})
}
