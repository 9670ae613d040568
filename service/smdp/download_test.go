package smdp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/pki"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/saip"
)

func TestDownloadHappyPath(t *testing.T) {
	for _, replace := range []bool{false, true} {
		t.Run(fmt.Sprintf("replaceSessionKeys=%v", replace), func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.ReplaceSessionKeys = replace })
			ctx := context.Background()
			iccid, mid := e.order(ctx, "", "", "")
			c := e.newCard()
			out, err := e.download(ctx, c, mid, "")
			if err != nil {
				t.Fatal(err)
			}
			if err := out.Result.Err(); err != nil {
				t.Fatalf("card: %v", err)
			}
			if out.KeysReplaced != replace {
				t.Errorf("KeysReplaced = %v, want %v", out.KeysReplaced, replace)
			}
			// The decrypted package is the stored one, and parses.
			want, err := e.srv.db.upp(ctx, iccid)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.UPP, want) {
				t.Fatalf("decrypted profile package (%d bytes) differs from the stored one (%d bytes)", len(out.UPP), len(want))
			}
			if n := len(want); n < 10<<10 || n > 15<<10 {
				t.Errorf("profile package is %d bytes, want 10..15 KB", n)
			}
			info, err := saip.Parse(out.UPP)
			if err != nil {
				t.Fatal(err)
			}
			if string(info.ICCID) != iccid {
				t.Errorf("package ICCID %s, want %s", info.ICCID, iccid)
			}
			// ConfigureISDP carries the SM-DP+ OID.
			cfg, err := rsp.DecodeConfigureISDPRequest(out.ConfigureISDP)
			if err != nil {
				t.Fatal(err)
			}
			if !cfg.DPOID.Equal(e.pki.SMDPOID) {
				t.Errorf("ConfigureISDP OID %v, want %v", cfg.DPOID, e.pki.SMDPOID)
			}
			// StoreMetadata is the profileMetadata the LPA was shown.
			m, err := rsp.DecodeStoreMetadataRequest(out.Metadata)
			if err != nil {
				t.Fatal(err)
			}
			if string(m.ICCID) != iccid || m.ServiceProviderName != DefaultSPN || m.ProfileName != DefaultProfileName {
				t.Errorf("metadata %s %q %q", m.ICCID, m.ServiceProviderName, m.ProfileName)
			}
			var events rsp.NotificationEvent
			for _, nc := range m.NotificationConfig {
				if nc.Address != testHost {
					t.Errorf("notification address %q, want %q", nc.Address, testHost)
				}
				events |= nc.Event
			}
			if want := rsp.EventInstall | rsp.EventEnable | rsp.EventDisable | rsp.EventDelete; events != want {
				t.Errorf("notification events %v, want %v", events, want)
			}
			if m.ProfileOwner == nil || !bytes.Equal(m.ProfileOwner.MCCMNC, []byte{0x00, 0xF1, 0x10}) {
				t.Errorf("profile owner %+v, want MCC/MNC 00F110", m.ProfileOwner)
			}
			if got := e.state(iccid); got != StateInstalled {
				t.Fatalf("state %s, want installed", got)
			}
			p, _ := e.srv.Profile(ctx, iccid)
			if p.DeviceEID != c.eid {
				t.Errorf("DeviceEID %s, want %s", p.DeviceEID, c.eid)
			}
			ns, err := e.srv.Notifications(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(ns) != 1 || !ns[0].Verified || ns[0].Kind != "install" || ns[0].Result != "success" || ns[0].ICCID != iccid {
				t.Fatalf("notifications %+v", ns)
			}
		})
	}
}

func TestSecondDownloadRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	iccid, mid := e.order(ctx, "", "", "")
	c := e.newCard()
	if _, err := e.download(ctx, c, mid, ""); err != nil {
		t.Fatal(err)
	}
	for _, again := range []*card{c, e.newCard()} {
		_, err := e.download(ctx, again, mid, "")
		wantStatus(t, err, es9.StatusMatchingIDRefused())
	}
	if got := e.state(iccid); got != StateInstalled {
		t.Fatalf("state %s, want installed", got)
	}
}

func TestEIDBinding(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	owner, other := e.newCard(), e.newCard()
	iccid, mid := e.order(ctx, owner.eid, "", "")
	if p, _ := e.srv.Profile(ctx, iccid); p.EID != owner.eid {
		t.Fatalf("order EID %q, want %q", p.EID, owner.eid)
	}
	_, err := e.download(ctx, other, mid, "")
	wantStatus(t, err, es9.StatusEIDRefused())
	if got := e.state(iccid); got != StateReleased {
		t.Fatalf("state %s after a refused EID, want released", got)
	}
	if _, err := e.download(ctx, owner, mid, ""); err != nil {
		t.Fatalf("owner: %v", err)
	}
	if got := e.state(iccid); got != StateInstalled {
		t.Fatalf("state %s, want installed", got)
	}
}

// TestDefaultSMDPWithoutMatchingID: an order bound to an EID is found
// without a matching ID (default SM-DP+ address case).
func TestDefaultSMDPWithoutMatchingID(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.newCard()
	if _, err := e.download(ctx, c, "", ""); err == nil {
		t.Fatal("download without matching ID and without order succeeded")
	} else {
		wantStatus(t, err, es9.StatusMatchingIDRefused())
	}
	iccid, _ := e.order(ctx, c.eid, "", "")
	if _, err := e.download(ctx, c, "", ""); err != nil {
		t.Fatal(err)
	}
	if got := e.state(iccid); got != StateInstalled {
		t.Fatalf("state %s, want installed", got)
	}
}

func TestConfirmationCode(t *testing.T) {
	const cc = "4711"
	tests := []struct {
		name    string
		codes   []string // entered in successive attempts
		want    []es9.Status
		final   State
		blocked bool // a further attempt gets 8.8.5/6.4
		lax     bool // the card sends no hashCc although required
	}{
		{name: "correct", codes: []string{cc}, want: []es9.Status{{}}, final: StateInstalled},
		{name: "missing", codes: []string{""}, want: []es9.Status{es9.StatusConfirmationCodeMissing()}, final: StateReleased, lax: true},
		{name: "wrong then correct", codes: []string{"0000", cc},
			want: []es9.Status{es9.StatusConfirmationCodeRefused(), {}}, final: StateInstalled},
		{name: "retries exceeded", codes: []string{"1", "2", "3"},
			want:  []es9.Status{es9.StatusConfirmationCodeRefused(), es9.StatusConfirmationCodeRefused(), es9.StatusConfirmationCodeRetriesExceeded()},
			final: StateError, blocked: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			iccid, mid := e.order(ctx, "", "", cc)
			if p, _ := e.srv.Profile(ctx, iccid); !p.CCRequired {
				t.Fatal("order does not require the confirmation code")
			}
			c := e.newCard()
			c.laxCC = tt.lax
			for i, code := range tt.codes {
				_, err := e.download(ctx, c, mid, code)
				if tt.want[i] == (es9.Status{}) {
					if err != nil {
						t.Fatalf("attempt %d: %v", i+1, err)
					}
					continue
				}
				wantStatus(t, err, tt.want[i])
			}
			if got := e.state(iccid); got != tt.final {
				t.Fatalf("state %s, want %s", got, tt.final)
			}
			if tt.blocked {
				_, err := e.download(ctx, c, mid, cc)
				wantStatus(t, err, es9.StatusDownloadRetriesExceeded())
			}
		})
	}
}

func TestUnknownTransactionID(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, mid := e.order(ctx, "", "", "")
	c := e.newCard()
	s, err := e.initiate(ctx, c, testHost)
	if err != nil {
		t.Fatal(err)
	}
	asr := s.authenticateServer(mid)
	for _, txid := range []string{"00112233445566778899AABBCCDDEEFF", "not hex", "", strings.Repeat("AB", 17)} {
		s.txid = txid
		wantStatus(t, s.authenticateClient(ctx, asr), es9.StatusTransactionIDUnknown())
		wantStatus(t, s.getBPP(ctx, rsp.PrepareDownloadResponse{}), es9.StatusTransactionIDUnknown())
		wantStatus(t, s.cancel(ctx, rsp.CancelEndUserRejection), es9.StatusTransactionIDUnknown())
	}
	// The real one still works, and only once.
	s.txid = s.init.TransactionID
	if err := s.authenticateClient(ctx, asr); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, s.authenticateClient(ctx, asr), es9.StatusTransactionIDUnknown())
}

func TestSMDPAddress(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.newCard()
	_, err := e.initiate(ctx, c, "other.example.com")
	wantStatus(t, err, es9.StatusInvalidSMDPAddress())
	_, err = e.initiate(ctx, c, "")
	wantStatus(t, err, es9.Status{Subject: "8.8.1", Reason: "2.2"})
	if _, err := e.initiate(ctx, c, strings.ToUpper(testHost)); err != nil {
		t.Fatalf("upper-case address: %v", err)
	}
}

func TestInitiateAuthenticationChecks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.newCard()
	ch := c.newChallenge()
	foreign := []byte(strings.Repeat("\x11", 20))
	tests := []struct {
		name string
		req  es9.InitiateAuthenticationRequest
		want es9.Status
	}{
		{"short challenge", es9.InitiateAuthenticationRequest{SMDPAddress: testHost, EUICCChallenge: ch[:8], EUICCInfo1: c.info1().Encode()},
			es9.Status{Subject: "8.1", Reason: "2.1"}},
		{"bad euiccInfo1", es9.InitiateAuthenticationRequest{SMDPAddress: testHost, EUICCChallenge: ch[:], EUICCInfo1: []byte{0xBF, 0x20, 0x01}},
			es9.Status{Subject: "8.1", Reason: "2.1"}},
		{"no common CI", es9.InitiateAuthenticationRequest{SMDPAddress: testHost, EUICCChallenge: ch[:],
			EUICCInfo1: rsp.EUICCInfo1{SVN: rsp.Version{2, 2, 2}, CIPKIDsForVerification: [][]byte{c.ci}, CIPKIDsForSigning: [][]byte{foreign}}.Encode()},
			es9.StatusCIPKIDNotSupported()},
		{"cannot verify DPauth", es9.InitiateAuthenticationRequest{SMDPAddress: testHost, EUICCChallenge: ch[:],
			EUICCInfo1: rsp.EUICCInfo1{SVN: rsp.Version{2, 2, 2}, CIPKIDsForVerification: [][]byte{foreign}, CIPKIDsForSigning: [][]byte{c.ci}}.Encode()},
			es9.StatusNoDPAuthCertificate()},
		{"SGP.22 v1", es9.InitiateAuthenticationRequest{SMDPAddress: testHost, EUICCChallenge: ch[:],
			EUICCInfo1: rsp.EUICCInfo1{SVN: rsp.Version{1, 1, 0}, CIPKIDsForVerification: [][]byte{c.ci}, CIPKIDsForSigning: [][]byte{c.ci}}.Encode()},
			es9.StatusSVNNotSupported()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resp es9.InitiateAuthenticationResponse
			status, err := e.post(ctx, es9.PathInitiateAuthentication, tt.req, &resp)
			wantStatus(t, headerErr(FuncInitiateAuthentication, status, resp.Header, err), tt.want)
		})
	}
}

// TestAuthenticateClientSignatures tampers with what the card returns.
func TestAuthenticateClientSignatures(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(e *testEnv, c *card, ok *rsp.AuthenticateResponseOk)
		want   es9.Status
	}{
		{"euiccSignature1", func(e *testEnv, c *card, ok *rsp.AuthenticateResponseOk) {
			ok.EUICCSignature1[10] ^= 1
		}, es9.StatusEUICCSignatureInvalid()},
		{"serverChallenge", func(e *testEnv, c *card, ok *rsp.AuthenticateResponseOk) {
			ok.EUICCSigned1.ServerChallenge[0] ^= 1
			ok.EUICCSigned1.Raw = nil
			ok.EUICCSignature1 = c.sign(ok.EUICCSigned1.Bytes())
		}, es9.StatusEUICCSignatureInvalid()},
		{"signed transactionId", func(e *testEnv, c *card, ok *rsp.AuthenticateResponseOk) {
			ok.EUICCSigned1.TransactionID = []byte{1, 2, 3}
			ok.EUICCSigned1.Raw = nil
			ok.EUICCSignature1 = c.sign(ok.EUICCSigned1.Bytes())
		}, es9.StatusTransactionIDUnknown()},
		{"certificate of another eUICC", func(e *testEnv, c *card, ok *rsp.AuthenticateResponseOk) {
			ok.EUICCCertificate = e.newCard().ent.DER
		}, es9.StatusEUICCSignatureInvalid()},
		{"eUICC under an untrusted CI", func(e *testEnv, c *card, ok *rsp.AuthenticateResponseOk) {
			other := newEnv(t)
			oc := other.newCard()
			ok.EUICCCertificate, ok.EUMCertificate = oc.ent.DER, oc.eum
		}, es9.StatusCIUnknown()},
		{"EUM certificate garbage", func(e *testEnv, c *card, ok *rsp.AuthenticateResponseOk) {
			ok.EUMCertificate = []byte{0x30, 0x03, 0x02, 0x01, 0x00}
		}, es9.StatusEUMCertificateInvalid()},
		{"eUICC certificate issued by the CI itself", func(e *testEnv, c *card, ok *rsp.AuthenticateResponseOk) {
			ok.EUICCCertificate = e.pki.DPauth.DER
		}, es9.StatusEUICCCertificateInvalid()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			iccid, mid := e.order(ctx, "", "", "")
			c := e.newCard()
			s, err := e.initiate(ctx, c, testHost)
			if err != nil {
				t.Fatal(err)
			}
			asr := s.authenticateServer(mid)
			if asr.Ok == nil {
				t.Fatalf("card: %v", asr.Err())
			}
			tt.tamper(e, c, asr.Ok)
			wantStatus(t, s.authenticateClient(ctx, asr), tt.want)
			if got := e.state(iccid); got != StateReleased {
				t.Fatalf("state %s, want released", got)
			}
		})
	}
}

func TestGetBPPSignature(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	iccid, mid := e.order(ctx, "", "", "")
	c := e.newCard()
	s, err := e.initiate(ctx, c, testHost)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.authenticateClient(ctx, s.authenticateServer(mid)); err != nil {
		t.Fatal(err)
	}
	pdr := s.prepareDownload("")
	good := pdr.Ok.EUICCSignature2
	pdr.Ok.EUICCSignature2 = append([]byte(nil), good...)
	pdr.Ok.EUICCSignature2[5] ^= 0x80
	wantStatus(t, s.getBPP(ctx, pdr), es9.StatusEUICCSignatureInvalid())
	// A bad signature does not end the session: the genuine answer works.
	pdr.Ok.EUICCSignature2 = good
	if err := s.getBPP(ctx, pdr); err != nil {
		t.Fatal(err)
	}
	if got := e.state(iccid); got != StateDownloaded {
		t.Fatalf("state %s, want downloaded", got)
	}
	// The eUICC reporting an error in PrepareDownload.
	s2, err := e.initiate(ctx, c, testHost)
	if err != nil {
		t.Fatal(err)
	}
	_, mid2 := e.order(ctx, "", "", "")
	if err := s2.authenticateClient(ctx, s2.authenticateServer(mid2)); err != nil {
		t.Fatal(err)
	}
	refusal := rsp.PrepareDownloadResponse{Error: &rsp.PrepareDownloadResponseError{Code: rsp.DownloadInvalidSignature}}
	wantStatus(t, s2.getBPP(ctx, refusal), es9.Status{Subject: "8.1", Reason: "4.2"})
}

// TestCardRefusesFaults: injected server-side faults are caught by the card.
func TestCardRefusesFaults(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, mid := e.order(ctx, "", "", "")
	c := e.newCard()
	tests := []struct {
		name string
		set  func(on bool)
		want rsp.AuthenticateErrorCode
	}{
		{"tampered serverSignature1", e.faults.TamperServerSignature1, rsp.AuthenticateInvalidSignature},
		{"DPauth from an untrusted CI", e.faults.UntrustedDPauth, rsp.AuthenticateInvalidCertificate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.set(true)
			defer tt.set(false)
			s, err := e.initiate(ctx, c, testHost)
			if err != nil {
				t.Fatal(err)
			}
			asr := s.authenticateServer(mid)
			if asr.Error == nil || asr.Error.Code != tt.want {
				t.Fatalf("card answered %+v, want error %v", asr.Error, tt.want)
			}
			// The LPA reports the card's error with authenticateClient,
			// which ends the session.
			wantStatus(t, s.authenticateClient(ctx, asr), es9.Status{Subject: "8.1", Reason: "4.2"})
			wantStatus(t, s.authenticateClient(ctx, asr), es9.StatusTransactionIDUnknown())
		})
	}
	if _, err := e.download(ctx, c, mid, ""); err != nil {
		t.Fatalf("download after the faults: %v", err)
	}
}

// TestFailedLoadRetry: a BPP segment is tampered with, the card reports
// scp03tSecurityError in BF37, the order is released and the same
// activation code works again.
func TestFailedLoadRetry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	iccid, mid := e.order(ctx, "", "", "")
	c := e.newCard()
	e.faults.TamperBPPSegment(true)
	out, err := e.download(ctx, c, mid, "")
	if err != nil {
		t.Fatal(err)
	}
	var ie *rsp.InstallError
	if !errors.As(out.Result.Err(), &ie) || ie.Reason != rsp.InstallSCP03tSecurityError || ie.Command != rsp.BPPLoadProfileElements {
		t.Fatalf("install result %v, want scp03tSecurityError at loadProfileElements", out.Result.Err())
	}
	if got := e.state(iccid); got != StateReleased {
		t.Fatalf("state %s after the failed load, want released", got)
	}
	e.faults.TamperBPPSegment(false)
	out, err = e.download(ctx, c, mid, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Result.Err(); err != nil {
		t.Fatal(err)
	}
	if got := e.state(iccid); got != StateInstalled {
		t.Fatalf("state %s, want installed", got)
	}
	ns, _ := e.srv.Notifications(ctx)
	if len(ns) != 2 || !ns[0].Verified || !strings.Contains(ns[0].Result, "scp03tSecurityError") || ns[1].Result != "success" {
		t.Fatalf("notifications %+v", ns)
	}
}

func TestCancelSessionRetry(t *testing.T) {
	for _, after := range []string{"authenticateClient", "getBoundProfilePackage"} {
		t.Run(after, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			iccid, mid := e.order(ctx, "", "", "")
			c := e.newCard()
			s, err := e.initiate(ctx, c, testHost)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.authenticateClient(ctx, s.authenticateServer(mid)); err != nil {
				t.Fatal(err)
			}
			pdr := s.prepareDownload("")
			reason := rsp.CancelEndUserRejection
			if after == "getBoundProfilePackage" {
				if err := s.getBPP(ctx, pdr); err != nil {
					t.Fatal(err)
				}
				if got := e.state(iccid); got != StateDownloaded {
					t.Fatalf("state %s, want downloaded", got)
				}
				reason = rsp.CancelLoadBPPExecutionError
			}
			// Bad signature, then another OID: refused, session kept.
			bad := c.cancelSession(reason)
			bad.Signature[3] ^= 1
			wantStatus(t, s.postCancel(ctx, bad), es9.StatusEUICCSignatureInvalid())
			c.dpOID = append(c.dpOID[:len(c.dpOID):len(c.dpOID)], 99)
			wantStatus(t, s.cancel(ctx, reason), es9.StatusInvalidSMDPOID())
			c.dpOID = e.pki.SMDPOID
			if err := s.cancel(ctx, reason); err != nil {
				t.Fatal(err)
			}
			if got := e.state(iccid); got != StateReleased {
				t.Fatalf("state %s after cancelSession, want released", got)
			}
			// The session is over.
			wantStatus(t, s.getBPP(ctx, pdr), es9.StatusTransactionIDUnknown())
			if _, err := e.download(ctx, c, mid, ""); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if got := e.state(iccid); got != StateInstalled {
				t.Fatalf("state %s, want installed", got)
			}
		})
	}
}

// TestSessionExpiry: a session that delivered the package and then went
// silent expires and releases the order.
func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SessionTTL = DefaultSessionTTL })
	ctx := context.Background()
	iccid, mid := e.order(ctx, "", "", "")
	c := e.newCard()
	s, err := e.initiate(ctx, c, testHost)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.authenticateClient(ctx, s.authenticateServer(mid)); err != nil {
		t.Fatal(err)
	}
	if err := s.getBPP(ctx, s.prepareDownload("")); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(DefaultSessionTTL + 1)
	wantStatus(t, s.cancel(ctx, rsp.CancelTimeout), es9.StatusTransactionIDUnknown())
	if got := e.state(iccid); got != StateReleased {
		t.Fatalf("state %s after expiry, want released", got)
	}
	// A late success result still counts: the profile is on the card.
	out := c.loadBPP(s.bpp)
	if err := e.notify(ctx, out.Raw); err != nil {
		t.Fatal(err)
	}
	if got := e.state(iccid); got != StateInstalled {
		t.Fatalf("state %s after a late result, want installed", got)
	}
}

// TestSupersededSession: the same eUICC starts over after getting the
// package without reporting a result.
func TestSupersededSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	iccid, mid := e.order(ctx, "", "", "")
	c := e.newCard()
	s, err := e.initiate(ctx, c, testHost)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.authenticateClient(ctx, s.authenticateServer(mid)); err != nil {
		t.Fatal(err)
	}
	if err := s.getBPP(ctx, s.prepareDownload("")); err != nil {
		t.Fatal(err)
	}
	// Another eUICC cannot take it over.
	_, err = e.download(ctx, e.newCard(), mid, "")
	wantStatus(t, err, es9.StatusMatchingIDRefused())
	if _, err := e.download(ctx, c, mid, ""); err != nil {
		t.Fatal(err)
	}
	if got := e.state(iccid); got != StateInstalled {
		t.Fatalf("state %s, want installed", got)
	}
	// The old session is gone.
	wantStatus(t, s.cancel(ctx, rsp.CancelPostponed), es9.StatusTransactionIDUnknown())
}

func TestOtherSignedNotification(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	iccid, mid := e.order(ctx, "", "", "")
	c := e.newCard()
	if _, err := e.download(ctx, c, mid, ""); err != nil {
		t.Fatal(err)
	}
	good := c.otherNotification(rsp.EventEnable, iccid)
	bad := c.otherNotification(rsp.EventDelete, iccid)
	bad[len(bad)-len(c.ent.DER)-len(c.eum)-5] ^= 1 // inside the signature
	foreign := newEnv(t).newCard().otherNotification(rsp.EventDisable, iccid)
	for _, raw := range [][]byte{good, bad, foreign, {0x30, 0x00}, {0x01}} {
		if err := e.notify(ctx, raw); err != nil {
			t.Fatal(err)
		}
	}
	ns, err := e.srv.Notifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	others := ns[1:]
	if len(others) != 4 {
		t.Fatalf("%d other notifications recorded, want 4: %+v", len(others), others)
	}
	want := []struct {
		event    string
		verified bool
	}{{"enable", true}, {"delete", false}, {"disable", false}, {"", false}}
	for i, w := range want {
		if others[i].Event != w.event || others[i].Verified != w.verified {
			t.Errorf("notification %d: %s verified=%v, want %s verified=%v", i, others[i].Event, others[i].Verified, w.event, w.verified)
		}
	}
	if others[0].EID != c.eid || others[0].ICCID != iccid {
		t.Errorf("enable notification from %s for %s", others[0].EID, others[0].ICCID)
	}
	if got := e.state(iccid); got != StateInstalled {
		t.Fatalf("state %s, want installed", got)
	}
}

// TestInstallResultForgery: a result not signed by the session's eUICC
// changes nothing.
func TestInstallResultForgery(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	iccid, mid := e.order(ctx, "", "", "")
	c := e.newCard()
	s, err := e.initiate(ctx, c, testHost)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.authenticateClient(ctx, s.authenticateServer(mid)); err != nil {
		t.Fatal(err)
	}
	if err := s.getBPP(ctx, s.prepareDownload("")); err != nil {
		t.Fatal(err)
	}
	out := c.loadBPP(s.bpp)
	forged := out.Result
	other := e.newCard()
	forged.Signature = other.sign(forged.Data.Bytes())
	if err := e.notify(ctx, forged.Encode()); err != nil {
		t.Fatal(err)
	}
	if got := e.state(iccid); got != StateDownloaded {
		t.Fatalf("state %s after a forged result, want downloaded", got)
	}
	if err := e.notify(ctx, out.Raw); err != nil {
		t.Fatal(err)
	}
	if got := e.state(iccid); got != StateInstalled {
		t.Fatalf("state %s, want installed", got)
	}
	// A duplicate is harmless.
	if err := e.notify(ctx, out.Raw); err != nil {
		t.Fatal(err)
	}
	ns, _ := e.srv.Notifications(ctx)
	if len(ns) != 3 || ns[0].Verified || !ns[1].Verified || !ns[2].Verified {
		t.Fatalf("notifications %+v", ns)
	}
}

func TestConcurrentDownloads(t *testing.T) {
	const n = 12
	e := newEnv(t, func(c *Config) { c.InventorySize = n })
	ctx := context.Background()
	type job struct {
		iccid, mid string
		card       *card
	}
	jobs := make([]job, n)
	for i := range jobs {
		c := e.newCard()
		iccid, mid := e.order(ctx, c.eid, "", "")
		jobs[i] = job{iccid, mid, c}
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := e.download(ctx, j.card, j.mid, "")
			if err == nil {
				err = out.Result.Err()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("download %d: %v", i, err)
		}
	}
	for _, j := range jobs {
		if got := e.state(j.iccid); got != StateInstalled {
			t.Errorf("%s: state %s, want installed", j.iccid, got)
		}
	}
}

// TestConcurrentSameOrder: several eUICCs race for one order without an EID
// binding; exactly one gets the package.
func TestConcurrentSameOrder(t *testing.T) {
	const n = 6
	e := newEnv(t)
	ctx := context.Background()
	iccid, mid := e.order(ctx, "", "", "")
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		c := e.newCard()
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.download(ctx, c, mid, "")
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, es9.StatusBPPNotAvailable().Err()), errors.Is(err, es9.StatusMatchingIDRefused().Err()):
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d downloads succeeded, want exactly 1", won)
	}
	if got := e.state(iccid); got != StateInstalled {
		t.Fatalf("state %s, want installed", got)
	}
}

// TestSessionRetention: ended sessions are deleted after the retention
// period by the sweep that runs with ES9+ requests.
func TestSessionRetention(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, mid := e.order(ctx, "", "", "")
	c := e.newCard()
	s, err := e.initiate(ctx, c, testHost)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.authenticateClient(ctx, s.authenticateServer(mid)); err != nil {
		t.Fatal(err)
	}
	if err := s.getBPP(ctx, s.prepareDownload("")); err != nil {
		t.Fatal(err)
	}
	if err := e.notify(ctx, c.loadBPP(s.bpp).Raw); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(sessionRetention - 1)
	if _, err := e.initiate(ctx, c, testHost); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.db.session(ctx, e.srv.db.db, s.txid); err != nil {
		t.Fatalf("session gone before the retention period: %v", err)
	}
	e.clock.Advance(DefaultSessionTTL) // sweeps run at most every TTL/10
	if _, err := e.initiate(ctx, c, testHost); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.db.session(ctx, e.srv.db.db, s.txid); !errors.Is(err, ErrNotFound) {
		t.Fatalf("session after the retention period: %v, want ErrNotFound", err)
	}
}

// TestInstallResultWithoutDelivery: a (validly signed) success result for
// a session that never delivered the package installs nothing.
func TestInstallResultWithoutDelivery(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	iccid, mid := e.order(ctx, "", "", "")
	c := e.newCard()
	s, err := e.initiate(ctx, c, testHost)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.authenticateClient(ctx, s.authenticateServer(mid)); err != nil {
		t.Fatal(err)
	}
	data := rsp.ProfileInstallationResultData{
		TransactionID: c.txid,
		Notification:  rsp.NotificationMetadata{Seq: 1, Event: rsp.EventInstall, Address: testHost, ICCID: rsp.ICCID(iccid)},
		SMDPOID:       c.dpOID,
		Success:       &rsp.InstallSuccess{AID: []byte{1, 2, 3}},
	}
	pir := rsp.ProfileInstallationResult{Data: data, Signature: c.sign(data.Bytes())}
	if err := e.notify(ctx, pir.Encode()); err != nil {
		t.Fatal(err)
	}
	if got := e.state(iccid); got != StateReleased {
		t.Fatalf("state %s, want released", got)
	}
	if _, err := e.download(ctx, c, mid, ""); err != nil {
		t.Fatal(err)
	}
	if got := e.state(iccid); got != StateInstalled {
		t.Fatalf("state %s, want installed", got)
	}
}

func TestCertificateExpiry(t *testing.T) {
	const year = 365 * 24 * time.Hour
	issued := time.Now()
	var pkiNow atomic.Int64
	pkiNow.Store(issued.UnixNano())
	p, err := pki.Generate(pki.Options{SMDPHost: testHost, ExtraTLSHosts: []string{"127.0.0.1"},
		Now: func() time.Time { return time.Unix(0, pkiNow.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		issueAt time.Duration // eUICC certificate issued at issued+issueAt
		checkAt time.Duration // server clock
		want    es9.Status
	}{
		{"EUM expired", 0, 11 * year, es9.StatusEUMCertificateExpired()},
		{"eUICC expired", -5 * year, 6 * year, es9.StatusEUICCCertificateExpired()},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvWithPKI(t, p)
			ctx := context.Background()
			_, mid := e.order(ctx, "", "", "")
			pkiNow.Store(issued.Add(tt.issueAt).UnixNano())
			c := newCard(t, p, 100+i, time.Now) // the card checks the server at the real time
			pkiNow.Store(issued.UnixNano())
			e.clock.Advance(tt.checkAt)
			_, err := e.download(ctx, c, mid, "")
			wantStatus(t, err, tt.want)
		})
	}
}
