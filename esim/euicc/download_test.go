package euicc

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/pki"
	"github.com/mobileplans/mobileplans/esim/rsp"
)

var testICCID = iccidWithLuhn("8949032000000000123")

func TestDownloadHappyPath(t *testing.T) {
	for _, force := range []bool{false, true} {
		name := "direct"
		if force {
			name = "GET RESPONSE"
		}
		t.Run(name, func(t *testing.T) {
			p := newPKI(t)
			c, path := openTest(t, Options{Issuer: PKIIssuer(p), ForceGetResponse: force})
			e := &dlEnv{t: t, p: p, c: c, path: path, l: openISDR(t, c)}
			before := len(e.l.profiles(rsp.GetProfilesInfoRequest{}))

			i1, err := rsp.DecodeEUICCInfo1(e.l.do(rsp.GetEUICCInfo1Request{}.Encode()))
			if err != nil || !equalIDs(i1.CIPKIDsForVerification, [][]byte{p.CIPKID()}) || !equalIDs(i1.CIPKIDsForSigning, [][]byte{p.CIPKID()}) {
				t.Fatalf("EUICCInfo1 %+v %v: want the CI's key identifier", i1, err)
			}

			pr := e.defaultParams(testICCID)
			out := e.download(pr)
			if out.result == nil {
				t.Fatalf("download did not finish: %+v", out)
			}
			if err := out.result.Err(); err != nil {
				t.Fatalf("installation failed: %v", err)
			}
			e.checkResult(out, pr, testICCID)
			if out.result.Data.Success.SimaResponse == nil {
				t.Error("no simaResponse")
			}

			// The profile is installed, disabled, with its metadata.
			infos := e.l.profiles(rsp.GetProfilesInfoRequest{SearchICCID: testICCID})
			if len(infos) != 1 || len(e.l.profiles(rsp.GetProfilesInfoRequest{})) != before+1 {
				t.Fatalf("profiles after install: %+v", infos)
			}
			pi := infos[0]
			if pi.State != rsp.ProfileDisabled || pi.ServiceProviderName != pr.meta.ServiceProviderName ||
				pi.ProfileName != pr.meta.ProfileName || pi.Class == nil || *pi.Class != rsp.ProfileClassOperational ||
				!bytes.Equal(pi.ISDPAID, out.result.Data.Success.AID) ||
				pi.Owner == nil || !bytes.Equal(pi.Owner.MCCMNC, pr.meta.ProfileOwner.MCCMNC) {
				t.Fatalf("installed profile %+v", pi)
			}
			if !slices.Contains(fileProfiles(t, path), string(testICCID)) {
				t.Fatal("profile not in the state file")
			}
			c.mu.Lock()
			content := bytes.Clone(c.st.Profiles[c.st.byICCID(testICCID)].Content)
			sess := c.sess
			c.mu.Unlock()
			if !bytes.Equal(content, out.upp) {
				t.Error("stored content differs from the profile package")
			}
			if sess != nil {
				t.Error("session survived the installation")
			}

			// Enabling it makes its IMSI the active one.
			if r := e.l.enable(byICCID(testICCID), false); r != rsp.EnableOK {
				t.Fatalf("enable: %v", r)
			}
			act, ok := c.Active()
			if !ok || act.ICCID != testICCID || act.IMSI != pr.spec.IMSI || act.MCCMNC != "00101" || act.SPN != pr.meta.ServiceProviderName {
				t.Fatalf("Active() = %+v %v", act, ok)
			}

			// The install notification goes away with NotificationSent.
			seq := out.result.Data.Notification.Seq
			r, err := rsp.DecodeNotificationSentResponse(e.l.do(rsp.NotificationSentRequest{Seq: seq}.Encode()))
			if err != nil || r.Result != rsp.NotificationSentOK {
				t.Fatalf("NotificationSent: %+v %v", r, err)
			}
			for _, m := range e.l.list(0) {
				if m.Seq == seq {
					t.Fatal("install notification still listed")
				}
			}
			// The session is over: the transaction cannot be cancelled.
			if cr := e.cancel(pr.txid, rsp.CancelEndUserRejection); cr.Ok != nil || cr.Error != rsp.CancelSessionInvalidTransactionID {
				t.Fatalf("CancelSession after install: %+v", cr)
			}
		})
	}
}

func TestDownloadErrors(t *testing.T) {
	type want struct {
		auth    rsp.AuthenticateErrorCode
		prep    rsp.DownloadErrorCode
		cmd     rsp.BPPCommandID
		reason  rsp.InstallErrorReason
		success bool
	}
	other := newPKI(t)
	tests := []struct {
		name string
		mod  func(e *dlEnv, pr *dlParams)
		want want
	}{
		{"untrusted CI for DPauth", func(e *dlEnv, pr *dlParams) { pr.dpauth = other.DPauth },
			want{auth: rsp.AuthenticateInvalidCertificate}},
		{"unknown CI PKID", func(e *dlEnv, pr *dlParams) { pr.dpauth, pr.ciPKID = other.DPauth, other.CIPKID() },
			want{auth: rsp.AuthenticateCIPKUnknown}},
		{"DPpb certificate as DPauth", func(e *dlEnv, pr *dlParams) { pr.dpauth = e.p.DPpb },
			want{auth: rsp.AuthenticateInvalidOID}},
		{"tampered serverSignature1", func(e *dlEnv, pr *dlParams) { pr.tamperSig1 = true },
			want{auth: rsp.AuthenticateInvalidSignature}},
		{"challenge mismatch", func(e *dlEnv, pr *dlParams) {
			pr.challenge = func(c [16]byte) [16]byte { c[0] ^= 0xFF; return c }
		}, want{auth: rsp.AuthenticateEUICCChallengeMismatch}},
		{"DPpb with a different OID", func(e *dlEnv, pr *dlParams) {
			pr.dppb = issueWithOID(e.t, e.p, e.p.DPpb, append(slices.Clone(e.p.SMDPOID), 7))
		}, want{prep: rsp.DownloadInvalidCertificate}},
		{"DPpb from another CI", func(e *dlEnv, pr *dlParams) { pr.dppb = other.DPpb },
			want{prep: rsp.DownloadInvalidCertificate}},
		{"DPauth certificate as DPpb", func(e *dlEnv, pr *dlParams) { pr.dppb = e.p.DPauth },
			want{prep: rsp.DownloadInvalidCertificate}},
		{"tampered smdpSignature2", func(e *dlEnv, pr *dlParams) { pr.tamperSig2 = true },
			want{prep: rsp.DownloadInvalidSignature}},
		{"wrong transactionId in smdpSigned2", func(e *dlEnv, pr *dlParams) { pr.prepTxID = []byte{1, 2, 3} },
			want{prep: rsp.DownloadInvalidTransactionID}},
		{"ccRequired without hashCc", func(e *dlEnv, pr *dlParams) { pr.ccRequired = true },
			want{prep: rsp.DownloadUndefinedError}},
		{"ccRequired with hashCc", func(e *dlEnv, pr *dlParams) {
			pr.ccRequired, pr.hashCC = true, rsp.HashCC("1234", pr.txid)
		}, want{success: true}},
		{"tampered profile segment", func(e *dlEnv, pr *dlParams) {
			pr.segments = func(s [][]byte) [][]byte { s[len(s)-2][20] ^= 0x01; return s }
		}, want{cmd: rsp.BPPLoadProfileElements, reason: rsp.InstallSCP03tSecurityError}},
		{"reordered profile segments", func(e *dlEnv, pr *dlParams) {
			pr.segments = func(s [][]byte) [][]byte {
				n := len(s)
				s[n-2], s[n-3] = s[n-3], s[n-2]
				return s
			}
		}, want{cmd: rsp.BPPLoadProfileElements, reason: rsp.InstallSCP03tSecurityError}},
		{"tampered metadata segment", func(e *dlEnv, pr *dlParams) {
			pr.segments = func(s [][]byte) [][]byte { s[3][10] ^= 0x01; return s }
		}, want{cmd: rsp.BPPStoreMetadata, reason: rsp.InstallSCP03tSecurityError}},
		{"wrong transactionId in BF23", func(e *dlEnv, pr *dlParams) { pr.iscTxID = []byte{9, 9, 9} },
			want{cmd: rsp.BPPInitialiseSecureChannel, reason: rsp.InstallInvalidTransactionID}},
		{"smdpSign by another key", func(e *dlEnv, pr *dlParams) { pr.iscKey = e.p.DPauth.Key },
			want{cmd: rsp.BPPInitialiseSecureChannel, reason: rsp.InstallInvalidSignature}},
		{"ICCID already present", func(e *dlEnv, pr *dlParams) {
			a, _ := seeded(e.t, e.c)
			pr.meta.ICCID, pr.spec.ICCID = a, a
		}, want{cmd: rsp.BPPStoreMetadata, reason: rsp.InstallICCIDAlreadyExistsOnEUICC}},
		{"UPP ICCID differs from metadata", func(e *dlEnv, pr *dlParams) {
			pr.spec.ICCID = iccidWithLuhn("8949032000000000999")
		}, want{cmd: rsp.BPPLoadProfileElements, reason: rsp.InstallDataMismatch}},
		{"unsupported profile class", func(e *dlEnv, pr *dlParams) {
			class := rsp.ProfileClass(5)
			pr.meta.ProfileClass = &class
		}, want{cmd: rsp.BPPStoreMetadata, reason: rsp.InstallUnsupportedProfileClass}},
		{"profile larger than allowed", func(e *dlEnv, pr *dlParams) {
			e.c.mu.Lock()
			e.c.maxProfileSize = 4096
			e.c.mu.Unlock()
		}, want{cmd: rsp.BPPLoadProfileElements, reason: rsp.InstallInsufficientMemoryForProfile}},
		{"profile owner not BCD", func(e *dlEnv, pr *dlParams) {
			pr.meta.ProfileOwner = &rsp.ProfileOwner{MCCMNC: []byte{0xA0, 0xF1, 0x10}}
		}, want{cmd: rsp.BPPStoreMetadata, reason: rsp.InstallIncorrectInputValues}},
		{"test profile", func(e *dlEnv, pr *dlParams) {
			class := rsp.ProfileClassTest
			pr.meta.ProfileClass = &class
		}, want{success: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newDLEnv(t)
			pr := e.defaultParams(testICCID)
			tt.mod(e, &pr)
			profilesBefore := fileProfiles(t, e.path)
			notesBefore := len(e.l.list(0))
			out := e.download(pr)

			var gotAuth rsp.AuthenticateErrorCode
			if out.authErr != nil {
				gotAuth = out.authErr.Code
			}
			var gotPrep rsp.DownloadErrorCode
			if out.prepErr != nil {
				gotPrep = out.prepErr.Code
			}
			if gotAuth != tt.want.auth || gotPrep != tt.want.prep {
				t.Fatalf("AuthenticateServer error %v, PrepareDownload error %v; want %v, %v", gotAuth, gotPrep, tt.want.auth, tt.want.prep)
			}
			switch {
			case tt.want.auth != 0:
				if cr := e.cancel(pr.txid, rsp.CancelEndUserRejection); cr.Error != rsp.CancelSessionInvalidTransactionID {
					t.Errorf("CancelSession after a failed authentication: %+v", cr)
				}
			case tt.want.prep != 0:
				// The session stays for the LPA to cancel.
				cr := e.cancel(pr.txid, rsp.CancelEndUserRejection)
				if cr.Ok == nil {
					t.Errorf("CancelSession after a failed PrepareDownload: %+v", cr)
				}
			case tt.want.success:
				if out.result == nil || out.result.Err() != nil {
					t.Fatalf("outcome %+v", out)
				}
				e.checkResult(out, pr, pr.meta.ICCID)
				if len(e.l.profiles(rsp.GetProfilesInfoRequest{SearchICCID: pr.meta.ICCID})) != 1 {
					t.Fatal("profile not installed")
				}
				if tt.name == "ccRequired with hashCc" && !bytes.Equal(out.hashCC, pr.hashCC) {
					t.Errorf("hashCc %X not echoed", out.hashCC)
				}
				return
			default:
				if out.result == nil {
					t.Fatalf("no installation result: %+v", out)
				}
				ie := installError(out.result.Err())
				if ie == nil || ie.Command != tt.want.cmd || ie.Reason != tt.want.reason {
					t.Fatalf("result %v, want %v/%v", out.result.Err(), tt.want.cmd, tt.want.reason)
				}
				var iccid rsp.ICCID
				if tt.want.cmd >= rsp.BPPLoadProfileElements || tt.want.reason == rsp.InstallICCIDAlreadyExistsOnEUICC ||
					tt.want.cmd == rsp.BPPStoreMetadata && tt.want.reason != rsp.InstallSCP03tSecurityError {
					iccid = pr.meta.ICCID
				}
				e.checkResult(out, pr, iccid)
				if len(e.l.list(0)) != notesBefore+1 {
					t.Errorf("want exactly one new notification")
				}
				// The session is over.
				if cr := e.cancel(pr.txid, rsp.CancelEndUserRejection); cr.Error != rsp.CancelSessionInvalidTransactionID {
					t.Errorf("CancelSession after a failed load: %+v", cr)
				}
			}
			if got := fileProfiles(t, e.path); !slices.Equal(got, profilesBefore) {
				t.Fatalf("profiles in the state file changed: %v -> %v", profilesBefore, got)
			}
			if len(e.l.profiles(rsp.GetProfilesInfoRequest{})) != len(profilesBefore) {
				t.Fatal("profile count changed")
			}
		})
	}
}

// TestDownloadInterrupted resets the card (or closes the channel, or
// cancels) in the middle of a load.
func TestDownloadInterrupted(t *testing.T) {
	tests := []struct {
		name string
		// interrupt acts before segment at; it reports whether the load
		// goes on afterwards.
		interrupt   func(e *dlEnv, pr *dlParams) bool
		wantSuccess bool
	}{
		{"card reset", func(e *dlEnv, pr *dlParams) bool {
			e.c.Reset()
			e.l = openISDR(e.t, e.c)
			return true
		}, false},
		{"self-reset by enable with refresh", func(e *dlEnv, pr *dlParams) bool {
			_, b := seeded(e.t, e.c)
			if r := e.l.enable(byICCID(b), true); r != rsp.EnableOK {
				e.t.Fatalf("enable: %v", r)
			}
			e.l = openISDR(e.t, e.c)
			return true
		}, false},
		{"channel closed and reopened", func(e *dlEnv, pr *dlParams) bool {
			closeCmd := apdu.Command{CLA: apdu.WithChannel(0x00, e.l.ch), INS: 0x70, P1: 0x80, P2: byte(e.l.ch)}
			if _, sw := splitResp(e.t, e.c.Transmit(closeCmd.Bytes())); sw != apdu.SWOK {
				e.t.Fatalf("MANAGE CHANNEL close: %04X", sw)
			}
			e.l = openISDR(e.t, e.c)
			return true
		}, true},
		{"process restart", func(e *dlEnv, pr *dlParams) bool {
			c, err := Open(e.path, Options{})
			if err != nil {
				e.t.Fatalf("reopen: %v", err)
			}
			e.c, e.l = c, openISDR(e.t, c)
			return true
		}, false},
		{"cancelled", func(e *dlEnv, pr *dlParams) bool {
			r := e.cancel(pr.txid, rsp.CancelLoadBPPExecutionError)
			if r.Ok == nil {
				e.t.Fatalf("CancelSession mid-load: %+v", r)
			}
			return true
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newDLEnv(t)
			profilesBefore := fileProfiles(t, e.path)
			pr := e.defaultParams(testICCID)
			at := -1
			pr.beforeSegment = func(e *dlEnv, i int) bool {
				if i == 7 { // inside A3
					at = i
					return tt.interrupt(e, &pr)
				}
				return true
			}
			out := e.download(pr)
			if at < 0 {
				t.Fatalf("the load ended before the interruption: %+v", out)
			}
			if tt.wantSuccess {
				if out.result == nil || out.result.Err() != nil {
					t.Fatalf("load after %s: %+v", tt.name, out)
				}
				return
			}
			// The card no longer knows the load: the next segment is not an
			// ES10 command it understands, and nothing was installed.
			if out.loadSW != apdu.SWWrongData || out.loadSWAt != at {
				t.Fatalf("segment after %s answered %04X at %d, result %+v", tt.name, out.loadSW, out.loadSWAt, out.result)
			}
			if got := fileProfiles(t, e.path); !slices.Equal(got, profilesBefore) {
				t.Fatalf("state file profiles %v, want %v", got, profilesBefore)
			}
			if len(e.l.profiles(rsp.GetProfilesInfoRequest{SearchICCID: testICCID})) != 0 {
				t.Fatal("partial profile visible")
			}
			// A fresh session installs the profile.
			fresh := e.download(e.defaultParams(testICCID))
			if fresh.result == nil || fresh.result.Err() != nil {
				t.Fatalf("fresh download: %+v", fresh)
			}
			if !slices.Contains(fileProfiles(t, e.path), string(testICCID)) {
				t.Fatal("fresh download not persisted")
			}
		})
	}
}

func TestCancelSession(t *testing.T) {
	tests := []struct {
		name    string
		prepare bool
		txid    func(pr dlParams) []byte
		wantOK  bool
	}{
		{"after AuthenticateServer", false, func(pr dlParams) []byte { return pr.txid }, true},
		{"after PrepareDownload", true, func(pr dlParams) []byte { return pr.txid }, true},
		{"wrong transactionId", true, func(pr dlParams) []byte { return []byte{0xDE, 0xAD} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newDLEnv(t)
			pr := e.defaultParams(testICCID)
			var out dlOutcome
			auth := e.authenticate(&pr, &out)
			if auth == nil {
				t.Fatalf("authentication failed: %+v", out.authErr)
			}
			if tt.prepare {
				if otPK, _ := e.prepare(&pr, auth, &out); otPK == nil {
					t.Fatalf("PrepareDownload failed: %+v", out.prepErr)
				}
			}
			r := e.cancel(tt.txid(pr), rsp.CancelPostponed)
			if !tt.wantOK {
				if r.Ok != nil || r.Error != rsp.CancelSessionInvalidTransactionID || r.Err() == nil {
					t.Fatalf("CancelSession = %+v", r)
				}
				// The session is still there.
				if r := e.cancel(pr.txid, rsp.CancelPostponed); r.Ok == nil {
					t.Fatalf("CancelSession with the right transactionId: %+v", r)
				}
				return
			}
			if r.Ok == nil {
				t.Fatalf("CancelSession = %+v", r)
			}
			if err := pki.VerifyTR03111(out.euiccCert.PublicKey.(*ecdsa.PublicKey), r.Ok.Raw, r.Signature); err != nil {
				t.Fatalf("euiccCancelSessionSignature: %v", err)
			}
			if !bytes.Equal(r.Ok.TransactionID, pr.txid) || !r.Ok.SMDPOID.Equal(e.p.SMDPOID) || r.Ok.Reason != rsp.CancelPostponed {
				t.Fatalf("euiccCancelSessionSigned %+v", r.Ok)
			}
			// The session is gone.
			if r := e.cancel(pr.txid, rsp.CancelPostponed); r.Error != rsp.CancelSessionInvalidTransactionID {
				t.Fatalf("second CancelSession: %+v", r)
			}
			s2 := rsp.SMDPSigned2{TransactionID: pr.txid}
			req := rsp.PrepareDownloadRequest{
				SMDPSigned2:     s2,
				SMDPSignature2:  sign(t, e.p.DPpb.Key, rsp.SMDPSignature2Data(s2.Bytes(), auth.EUICCSignature1)),
				SMDPCertificate: e.p.DPpb.DER,
			}
			pd, err := rsp.DecodePrepareDownloadResponse(e.l.do(req.Encode()))
			if err != nil || pd.Error == nil || pd.Error.Code != rsp.DownloadNoSessionContext {
				t.Fatalf("PrepareDownload after cancel: %+v %v", pd, err)
			}
		})
	}
}

// TestLoadWithoutSession sends a BPP start without a prepared session.
func TestLoadWithoutSession(t *testing.T) {
	e := newDLEnv(t)
	pr := e.defaultParams(testICCID)
	var out dlOutcome
	auth := e.authenticate(&pr, &out)
	otPK, _ := e.prepare(&pr, auth, &out)
	segs := e.buildBPP(&pr, otPK, &out)
	// A new AuthenticateServer replaces the prepared session.
	pr2 := e.defaultParams(testICCID)
	if e.authenticate(&pr2, &out) == nil {
		t.Fatal("second authentication failed")
	}
	for _, seg := range segs[:2] {
		if _, sw := e.l.send(seg); sw != apdu.SWConditionsNotSatisf && sw != apdu.SWWrongData {
			t.Fatalf("segment without a prepared session answered %04X", sw)
		}
	}
	if len(e.l.list(rsp.EventInstall)) != 0 {
		t.Fatal("notification without a session")
	}
}

// TestDownloadWriteFailure makes the state write of the commit fail: the
// card answers an error result and keeps no profile.
func TestDownloadWriteFailure(t *testing.T) {
	e := newDLEnv(t)
	fileBefore, err := os.ReadFile(e.path)
	if err != nil {
		t.Fatal(err)
	}
	pr := e.defaultParams(testICCID)
	pr.beforeSegment = func(e *dlEnv, i int) bool {
		e.c.mu.Lock()
		e.c.write = func(string, []byte) error { return errors.New("disk full") }
		e.c.mu.Unlock()
		return true
	}
	out := e.download(pr)
	if out.result == nil {
		t.Fatalf("no result: %+v", out)
	}
	ie := installError(out.result.Err())
	if ie == nil || ie.Command != rsp.BPPLoadProfileElements || ie.Reason != rsp.InstallUnknownError {
		t.Fatalf("result %v", out.result.Err())
	}
	if err := pki.VerifyTR03111(out.euiccCert.PublicKey.(*ecdsa.PublicKey), out.result.Data.Raw, out.result.Signature); err != nil {
		t.Fatalf("euiccSignPIR: %v", err)
	}
	if after, _ := os.ReadFile(e.path); !bytes.Equal(after, fileBefore) {
		t.Fatal("state file changed")
	}
	if len(e.l.profiles(rsp.GetProfilesInfoRequest{SearchICCID: testICCID})) != 0 {
		t.Fatal("profile visible although it was not persisted")
	}
	e.c.mu.Lock()
	e.c.write = writeAtomic
	e.c.mu.Unlock()
	if out := e.download(e.defaultParams(testICCID)); out.result == nil || out.result.Err() != nil {
		t.Fatalf("download after the disk recovered: %+v", out)
	}
}
