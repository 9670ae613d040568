package lpa

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/tlv"
)

// cancelWant is what a failed download must have done about its session.
type cancelWant int

const (
	noCancel  cancelWant = iota // no eUICC session was opened (or the eUICC ended it with its result)
	bothSides                   // cancelled on the eUICC and on the SM-DP+
)

// TestDownloadServerResponses feeds the LPA SM-DP+ answers that are
// inconsistent, malformed or wrongly signed, and checks where the download
// stops, what it cancels, and that the card is left clean for a retry.
func TestDownloadServerResponses(t *testing.T) {
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		return c
	}
	tests := []struct {
		name   string
		mutate func(s *fakeSMDP)
		ok     bool // the download still succeeds
		step   Step
		is     error
		code   int // *rsp.ResultError code, when non-zero
		cancel cancelWant
		reason rsp.CancelSessionReason
	}{
		{
			name: "transactionId differs from serverSigned1",
			mutate: func(s *fakeSMDP) {
				s.mutateIA = func(r *es9.InitiateAuthenticationResponse) { r.TransactionID = "00" }
			},
			step: StepInitiateAuthentication, is: ErrServerResponse,
		},
		{
			name: "transactionId not hex",
			mutate: func(s *fakeSMDP) {
				s.mutateIA = func(r *es9.InitiateAuthenticationResponse) { r.TransactionID = "XYZ" }
			},
			step: StepInitiateAuthentication, is: ErrServerResponse,
		},
		{
			name: "serverSigned1 without the eUICC challenge",
			mutate: func(s *fakeSMDP) {
				s.mutateIA = func(r *es9.InitiateAuthenticationResponse) {
					ss, err := rsp.DecodeServerSigned1(r.ServerSigned1)
					if err != nil {
						s.t.Error(err)
					}
					ss.Raw = nil
					ss.EUICCChallenge[0] ^= 0xFF
					r.ServerSigned1 = ss.Bytes()
				}
			},
			step: StepInitiateAuthentication, is: ErrServerResponse,
		},
		{
			name: "serverSigned1 not DER",
			mutate: func(s *fakeSMDP) {
				s.mutateIA = func(r *es9.InitiateAuthenticationResponse) { r.ServerSigned1 = []byte{0x30, 0x05, 0x80} }
			},
			step: StepInitiateAuthentication, is: ErrServerResponse,
		},
		{
			name: "serverSignature1 truncated",
			mutate: func(s *fakeSMDP) {
				s.mutateIA = func(r *es9.InitiateAuthenticationResponse) { r.ServerSignature1 = r.ServerSignature1[:10] }
			},
			step: StepInitiateAuthentication, is: ErrServerResponse,
		},
		{
			name: "no serverCertificate",
			mutate: func(s *fakeSMDP) {
				s.mutateIA = func(r *es9.InitiateAuthenticationResponse) { r.ServerCertificate = nil }
			},
			step: StepInitiateAuthentication, is: ErrServerResponse,
		},
		{
			name: "bare serverSignature1 and CI key identifier are accepted",
			mutate: func(s *fakeSMDP) {
				s.mutateIA = func(r *es9.InitiateAuthenticationResponse) {
					r.ServerSignature1 = r.ServerSignature1[3:]
					r.EUICCCIPKIDToBeUsed = r.EUICCCIPKIDToBeUsed[2:]
				}
			},
			ok: true,
		},
		{
			name: "serverSignature1 wrong: the eUICC refuses",
			mutate: func(s *fakeSMDP) {
				s.mutateIA = func(r *es9.InitiateAuthenticationResponse) { r.ServerSignature1 = flip(r.ServerSignature1, 20) }
			},
			step: StepAuthenticateServer, code: int(rsp.AuthenticateInvalidSignature),
		},
		{
			name: "smdpSigned2 for another transaction",
			mutate: func(s *fakeSMDP) {
				s.mutateAC = func(r *es9.AuthenticateClientResponse) {
					r.SMDPSigned2 = rsp.SMDPSigned2{TransactionID: []byte{1, 2, 3}}.Bytes()
				}
			},
			step: StepAuthenticateClient, is: ErrServerResponse, cancel: bothSides, reason: rsp.CancelUndefinedReason,
		},
		{
			name: "profileMetadata not BF25",
			mutate: func(s *fakeSMDP) {
				s.mutateAC = func(r *es9.AuthenticateClientResponse) { r.ProfileMetadata = []byte{0x30, 0x00} }
			},
			step: StepAuthenticateClient, is: ErrServerResponse, cancel: bothSides, reason: rsp.CancelUndefinedReason,
		},
		{
			name: "authenticateClient for another transaction",
			mutate: func(s *fakeSMDP) {
				s.mutateAC = func(r *es9.AuthenticateClientResponse) { r.TransactionID = "0102" }
			},
			step: StepAuthenticateClient, is: ErrServerResponse, cancel: bothSides, reason: rsp.CancelUndefinedReason,
		},
		{
			name: "smdpSignature2 wrong: PrepareDownload refused",
			mutate: func(s *fakeSMDP) {
				s.mutateAC = func(r *es9.AuthenticateClientResponse) { r.SMDPSignature2 = flip(r.SMDPSignature2, 40) }
			},
			step: StepPrepareDownload, code: int(rsp.DownloadInvalidSignature), cancel: bothSides, reason: rsp.CancelUndefinedReason,
		},
		{
			name: "BPP not a BF36",
			mutate: func(s *fakeSMDP) {
				s.mutateBPP = func(r *es9.GetBoundProfilePackageResponse) { r.BoundProfilePackage = []byte{0xBF, 0x37, 0x00} }
			},
			step: StepLoadBoundProfilePackage, is: ErrServerResponse, cancel: bothSides, reason: rsp.CancelLoadBPPExecutionError,
		},
		{
			name: "BPP for another transaction",
			mutate: func(s *fakeSMDP) {
				s.mutateBPP = func(r *es9.GetBoundProfilePackageResponse) { r.TransactionID = "FF" }
			},
			step: StepGetBoundProfilePackage, is: ErrServerResponse, cancel: bothSides, reason: rsp.CancelUndefinedReason,
		},
		{
			name: "profile segment corrupted: the eUICC reports it",
			mutate: func(s *fakeSMDP) {
				s.mutateBPP = func(r *es9.GetBoundProfilePackageResponse) {
					r.BoundProfilePackage = flip(r.BoundProfilePackage, len(r.BoundProfilePackage)-20)
				}
			},
			step: StepLoadBoundProfilePackage, is: &rsp.InstallError{Command: rsp.BPPLoadProfileElements, Reason: rsp.InstallSCP03tSecurityError},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDLTest(t, dlTestOptions{})
			d.smdp.set(tc.mutate)
			res, err := d.lpa.Download(d.ctx, d.es9, d.ac(), DownloadOptions{})
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				if res.ICCID != testICCIDN(1) {
					t.Fatalf("result %+v", res)
				}
				return
			}
			var de *DownloadError
			if !errors.As(err, &de) || de.Step != tc.step {
				t.Fatalf("got %v, want a failure at %s", err, tc.step)
			}
			if tc.is != nil && !errorsIsOrEqual(err, tc.is) {
				t.Fatalf("error %v is not %v", err, tc.is)
			}
			if tc.code != 0 {
				var re *rsp.ResultError
				if !errors.As(err, &re) || re.Code != tc.code {
					t.Fatalf("error %v, want card result %d", err, tc.code)
				}
			}
			switch tc.cancel {
			case noCancel:
				if de.Cancel != nil {
					t.Errorf("cancel %+v, want none", de.Cancel)
				}
				if cs := d.smdp.cancelList(); len(cs) != 0 {
					t.Errorf("server saw cancels %+v", cs)
				}
			case bothSides:
				if de.Cancel == nil || !de.Cancel.EUICC || !de.Cancel.SMDP || de.Cancel.Reason != tc.reason || de.Cancel.Err != nil {
					t.Errorf("cancel %+v, want both sides with %s", de.Cancel, tc.reason)
				}
				if cs := d.smdp.cancelList(); len(cs) != 1 || cs[0].reason != tc.reason {
					t.Errorf("server saw cancels %+v", cs)
				}
			}
			if de.TransactionID != nil {
				d.noSession(de.TransactionID)
			}
			if ps := d.profiles(); len(ps) != 0 {
				t.Fatalf("profiles left: %v", ps)
			}
			if ns := d.notifications(); len(ns) != 0 {
				t.Fatalf("notifications left: %+v", ns)
			}
			d.smdp.set(func(s *fakeSMDP) { s.mutateIA, s.mutateAC, s.mutateBPP = nil, nil, nil })
			if _, err := d.lpa.Download(d.ctx, d.es9, d.ac(), DownloadOptions{}); err != nil {
				t.Fatalf("retry: %v", err)
			}
		})
	}
}

// errorsIsOrEqual is errors.Is, or for an *rsp.InstallError target an
// errors.As with equal fields.
func errorsIsOrEqual(err, target error) bool {
	if ie, ok := target.(*rsp.InstallError); ok {
		var got *rsp.InstallError
		return errors.As(err, &got) && *got == *ie
	}
	return errors.Is(err, target)
}

// TestDownloadLostAnswer loses the eUICC's answer to the last segment: the
// card installed the profile, the LPA finds the result on the card,
// delivers it and reports success.
func TestDownloadLostAnswer(t *testing.T) {
	d := newDLTest(t, dlTestOptions{})
	res, err := d.lpa.Download(d.ctx, d.es9, d.ac(), DownloadOptions{Progress: func(p Progress) {
		if p.Stage == StageInstalling && p.Total > 0 && p.Done == p.Total-1 {
			d.link.loseAnswer.Store(true)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.ICCID != testICCIDN(1) || !res.NotificationDelivered {
		t.Fatalf("result %+v", res)
	}
	if ps := d.profiles(); len(ps) != 1 || ps[0] != res.ICCID {
		t.Fatalf("profiles %v", ps)
	}
	if ns := d.notifications(); len(ns) != 0 {
		t.Fatalf("notifications left: %+v", ns)
	}
	ns := d.smdp.notificationList()
	if len(ns) != 1 || ns[0].install == nil || ns[0].install.Err() != nil {
		t.Fatalf("server notifications %+v", ns)
	}
	if cs := d.smdp.cancelList(); len(cs) != 0 {
		t.Fatalf("cancels %+v", cs)
	}
}

// TestDownloadCorruptCacheEntry: a kept BPP that cannot be used is
// dropped and a new session downloads the profile.
func TestDownloadCorruptCacheEntry(t *testing.T) {
	d := newDLTest(t, dlTestOptions{})
	cache, err := NewBPPCache("")
	if err != nil {
		t.Fatal(err)
	}
	md := rsp.StoreMetadataRequest{ICCID: testICCIDN(9), ServiceProviderName: "x", ProfileName: "y"}
	entries := []CachedBPP{
		{TransactionID: []byte{1}, ProfileMetadata: md.Bytes(), BPP: []byte{0xBF, 0x36, 0x00}},
		{TransactionID: []byte{1}, ProfileMetadata: []byte{1, 2, 3}, BPP: []byte{0xBF, 0x36, 0x00}},
		{ProfileMetadata: md.Bytes(), BPP: []byte{0xBF, 0x36, 0x00}},
	}
	for i, e := range entries {
		e.SMDPAddress = d.smdp.addr
		if err := cache.Put(d.smdp.addr, "ORDER-1", e); err != nil {
			t.Fatal(err)
		}
		res, err := d.lpa.Download(d.ctx, d.es9, d.ac(), DownloadOptions{BPPCache: cache})
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if res.FromCache || res.ICCID != testICCIDN(i+1) {
			t.Fatalf("entry %d: result %+v", i, res)
		}
		if _, ok, _ := cache.Get(d.smdp.addr, "ORDER-1"); ok {
			t.Fatalf("entry %d kept", i)
		}
	}
}

func TestStageString(t *testing.T) {
	for s, want := range map[Stage]string{
		StageAuthenticating: "authenticating", StageAuthenticated: "authenticated", StageDownloading: "downloading",
		StageInstalling: "installing", StageDone: "done", Stage(42): "Stage(42)",
	} {
		if got := s.String(); got != want {
			t.Errorf("%d: %q, want %q", int(s), got, want)
		}
	}
}

func TestDownloadErrorMessage(t *testing.T) {
	e := &DownloadError{Step: StepGetBoundProfilePackage, Err: errors.New("boom"),
		Cancel: &CancelReport{Reason: rsp.CancelPostponed, Err: errors.New("card gone")}}
	want := "download: getBoundProfilePackage: boom (cancelling the session (postponed) failed: card gone)"
	if e.Error() != want {
		t.Errorf("%q, want %q", e.Error(), want)
	}
	if _, err := (&Client{}).Download(context.Background(), nil, ActivationCode{}, DownloadOptions{}); err == nil {
		t.Error("nil ES9Client accepted")
	}
}

// FuzzServerAnswers feeds arbitrary SM-DP+ fields to the checks that turn
// initiateAuthentication and authenticateClient answers into ES10
// requests: they must reject or accept without panicking, and what they
// accept must carry the session's transaction ID.
func FuzzServerAnswers(f *testing.F) {
	txid := []byte{0xA1, 0xB2}
	var challenge [16]byte
	ss1 := rsp.ServerSigned1{TransactionID: txid, EUICCChallenge: challenge, ServerAddress: "smdp.example.com"}.Bytes()
	sig := tlv.Encode(0x5F37, bytes.Repeat([]byte{7}, 64))
	md := rsp.StoreMetadataRequest{ICCID: testICCIDN(1), ServiceProviderName: "a", ProfileName: "b"}.Bytes()
	s2 := rsp.SMDPSigned2{TransactionID: txid, CCRequired: true}.Bytes()
	f.Add("A1B2", ss1, sig, tlv.Encode(0x04, bytes.Repeat([]byte{1}, 20)), []byte{0x30, 0}, md, s2)
	f.Add("a1b2", ss1, sig[3:], bytes.Repeat([]byte{1}, 20), []byte{}, []byte{0xBF, 0x25, 0}, []byte{0x30, 0})
	f.Add("", []byte{}, []byte{0x5F}, []byte{0x04, 0x81}, []byte{0x30}, []byte{0xBF}, []byte{0x30, 0x80})
	f.Fuzz(func(t *testing.T, tx string, signed1, sig1, ci, cert, meta, signed2 []byte) {
		d := &downloadRun{ac: ActivationCode{MatchingID: "M"}}
		req, err := d.authenticateServerRequest(es9.InitiateAuthenticationResponse{
			TransactionID: tx, ServerSigned1: signed1, ServerSignature1: sig1, EUICCCIPKIDToBeUsed: ci, ServerCertificate: cert,
		}, challenge[:])
		if err == nil {
			if !bytes.Equal(req.ServerSigned1.TransactionID, d.txid) || len(req.ServerSignature1) == 0 || len(req.CIPKIDToBeUsed) == 0 {
				t.Fatalf("accepted %+v for txid %X", req, d.txid)
			}
			_ = req.Encode()
		} else if !errors.Is(err, ErrServerResponse) {
			t.Fatalf("error %v does not wrap ErrServerResponse", err)
		}
		d.txid = txid
		m, pd, err := d.prepareDownloadRequest(es9.AuthenticateClientResponse{
			TransactionID: tx, ProfileMetadata: meta, SMDPSigned2: signed2, SMDPSignature2: sig1, SMDPCertificate: cert,
		})
		if err == nil {
			if !bytes.Equal(pd.SMDPSigned2.TransactionID, txid) || len(pd.SMDPSignature2) == 0 {
				t.Fatalf("accepted %+v", pd)
			}
			_, _ = m.Bytes(), pd.Encode()
		} else if !errors.Is(err, ErrServerResponse) {
			t.Fatalf("error %v does not wrap ErrServerResponse", err)
		}
	})
}
