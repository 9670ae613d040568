package euicc

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/bsp"
	"github.com/mobileplans/mobileplans/esim/pki"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/saip"
)

// This file is the SM-DP+ side of the download tests: it drives a card
// through AuthenticateServer, PrepareDownload and LoadBoundProfilePackage
// with a real PKI (esim/pki), BSP (esim/bsp) and profile package
// (esim/saip).

// testDPAddress is the SM-DP+ address of the test downloads.
const testDPAddress = "smdp.download.test"

// testHostID is the BSP hostId the test SM-DP+ uses.
var testHostID = []byte("mobileplans-dp")

func newPKI(t testing.TB) *pki.PKI {
	t.Helper()
	p, err := pki.Generate(pki.Options{})
	if err != nil {
		t.Fatalf("pki.Generate: %v", err)
	}
	return p
}

// iccidWithLuhn completes a 19-digit ICCID body with its Luhn digit.
func iccidWithLuhn(body string) rsp.ICCID {
	return rsp.ICCID(body + string(luhnDigit(body)))
}

// dlEnv is a card attached to a test PKI and an LPA channel on it.
type dlEnv struct {
	t    testing.TB
	p    *pki.PKI
	c    *Card
	path string
	l    *lpa
}

func newDLEnv(t testing.TB) *dlEnv {
	t.Helper()
	p := newPKI(t)
	c, path := openTest(t, Options{Issuer: PKIIssuer(p)})
	return &dlEnv{t: t, p: p, c: c, path: path, l: openISDR(t, c)}
}

// dlParams describe one download; defaultParams gives a correct one, test
// cases change fields.
type dlParams struct {
	txid []byte
	// AuthenticateServer
	challenge  func([16]byte) [16]byte // what the server puts as euiccChallenge
	dpauth     *pki.Entity
	ciPKID     []byte
	tamperSig1 bool
	// PrepareDownload
	dppb       *pki.Entity
	prepTxID   []byte
	ccRequired bool
	hashCC     []byte
	tamperSig2 bool
	// BPP
	iscTxID  []byte
	iscKey   *ecdsa.PrivateKey // signs smdpSign
	meta     rsp.StoreMetadataRequest
	spec     saip.Spec
	segments func([][]byte) [][]byte
	// beforeSegment runs before segment i is sent; returning false stops
	// the load there.
	beforeSegment func(e *dlEnv, i int) bool
}

func (e *dlEnv) defaultParams(iccid rsp.ICCID) dlParams {
	txid := make([]byte, 16)
	rand.Read(txid)
	owner, err := encodePLMN("001", "01")
	if err != nil {
		e.t.Fatal(err)
	}
	return dlParams{
		txid:      txid,
		challenge: func(c [16]byte) [16]byte { return c },
		dpauth:    e.p.DPauth,
		ciPKID:    e.p.CIPKID(),
		dppb:      e.p.DPpb,
		iscKey:    e.p.DPpb.Key,
		meta: rsp.StoreMetadataRequest{
			ICCID:               iccid,
			ServiceProviderName: "Download Test Operator",
			ProfileName:         "Download Test Profile",
			NotificationConfig: []rsp.NotificationConfig{
				{Event: rsp.EventInstall | rsp.EventEnable | rsp.EventDisable | rsp.EventDelete, Address: testDPAddress},
			},
			ProfileOwner: &rsp.ProfileOwner{MCCMNC: owner},
		},
		spec: saip.Spec{ICCID: iccid, IMSI: "001010000012345", MCCMNC: "00101", SPN: "DL Test"},
	}
}

// dlOutcome is how far a download got and what the card answered.
type dlOutcome struct {
	authErr   *rsp.AuthenticateResponseError
	prepErr   *rsp.PrepareDownloadResponseError
	hashCC    []byte // echoed in euiccSigned2
	result    *rsp.ProfileInstallationResult
	resultRaw []byte
	resultAt  int    // index of the segment answered with the result
	segments  int    // number of segments of the BPP
	stoppedAt int    // segment before which beforeSegment stopped, -1 if not
	loadSW    uint16 // status word that ended the load, if not 9000
	loadSWAt  int
	euiccCert *x509.Certificate
	otPKEUICC []byte
	upp       []byte
}

func sign(t testing.TB, key *ecdsa.PrivateKey, data []byte) []byte {
	t.Helper()
	sig, err := pki.SignTR03111(key, data)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// challenge asks the card for a fresh eUICC challenge.
func (e *dlEnv) challenge() [16]byte {
	e.t.Helper()
	r, err := rsp.DecodeGetEUICCChallengeResponse(e.l.do(rsp.GetEUICCChallengeRequest{}.Encode()))
	if err != nil {
		e.t.Fatalf("GetEUICCChallenge: %v", err)
	}
	return r.Challenge
}

// authenticate runs GetEUICCChallenge and AuthenticateServer and checks a
// successful answer the way the SM-DP+ does.
func (e *dlEnv) authenticate(pr *dlParams, out *dlOutcome) *rsp.AuthenticateResponseOk {
	t := e.t
	t.Helper()
	var serverChallenge [16]byte
	rand.Read(serverChallenge[:])
	ss1 := rsp.ServerSigned1{
		TransactionID:   pr.txid,
		EUICCChallenge:  pr.challenge(e.challenge()),
		ServerAddress:   testDPAddress,
		ServerChallenge: serverChallenge,
	}
	sig1 := sign(t, pr.dpauth.Key, ss1.Bytes())
	if pr.tamperSig1 {
		sig1[10] ^= 0x01
	}
	ctx := rsp.CtxParams1{MatchingID: "MATCH-ME", HasMatchingID: true, DeviceInfo: rsp.DeviceInfo{TAC: [4]byte{0x35, 0x29, 0x06, 0x11}}}
	req := rsp.AuthenticateServerRequest{
		ServerSigned1:     ss1,
		ServerSignature1:  sig1,
		CIPKIDToBeUsed:    pr.ciPKID,
		ServerCertificate: pr.dpauth.DER,
		CtxParams1:        ctx,
	}
	resp, err := rsp.DecodeAuthenticateServerResponse(e.l.do(req.Encode()))
	if err != nil {
		t.Fatalf("AuthenticateServer response: %v", err)
	}
	if resp.Error != nil {
		if !bytes.Equal(resp.Error.TransactionID, pr.txid) {
			t.Errorf("error response transactionId %X, want %X", resp.Error.TransactionID, pr.txid)
		}
		out.authErr = resp.Error
		return nil
	}
	ok := resp.Ok
	eid, cert, err := pki.VerifyEUICC(ok.EUICCCertificate, ok.EUMCertificate, e.p.Roots(), time.Now())
	if err != nil {
		t.Fatalf("eUICC chain: %v", err)
	}
	if eid != string(e.c.EID()) {
		t.Fatalf("eUICC certificate for %s, card is %s", eid, e.c.EID())
	}
	if err := pki.VerifyTR03111(cert.PublicKey.(*ecdsa.PublicKey), ok.EUICCSigned1.Raw, ok.EUICCSignature1); err != nil {
		t.Fatalf("euiccSignature1: %v", err)
	}
	s1 := ok.EUICCSigned1
	if !bytes.Equal(s1.TransactionID, pr.txid) || s1.ServerAddress != testDPAddress || s1.ServerChallenge != serverChallenge ||
		s1.CtxParams1.MatchingID != ctx.MatchingID || s1.CtxParams1.DeviceInfo.TAC != ctx.DeviceInfo.TAC {
		t.Fatalf("euiccSigned1 %+v does not echo the request", s1)
	}
	if !equalIDs(s1.EUICCInfo2.CIPKIDsForVerification, [][]byte{e.p.CIPKID()}) {
		t.Fatalf("EUICCInfo2 in euiccSigned1 lists CIs %X", s1.EUICCInfo2.CIPKIDsForVerification)
	}
	out.euiccCert = cert
	return ok
}

// prepare runs PrepareDownload and checks a successful answer.
func (e *dlEnv) prepare(pr *dlParams, auth *rsp.AuthenticateResponseOk, out *dlOutcome) (otPK, smdpSig2 []byte) {
	t := e.t
	t.Helper()
	txid := pr.txid
	if pr.prepTxID != nil {
		txid = pr.prepTxID
	}
	s2 := rsp.SMDPSigned2{TransactionID: txid, CCRequired: pr.ccRequired}
	sig2 := sign(t, pr.dppb.Key, rsp.SMDPSignature2Data(s2.Bytes(), auth.EUICCSignature1))
	if pr.tamperSig2 {
		sig2[40] ^= 0x80
	}
	req := rsp.PrepareDownloadRequest{SMDPSigned2: s2, SMDPSignature2: sig2, HashCC: pr.hashCC, SMDPCertificate: pr.dppb.DER}
	resp, err := rsp.DecodePrepareDownloadResponse(e.l.do(req.Encode()))
	if err != nil {
		t.Fatalf("PrepareDownload response: %v", err)
	}
	if resp.Error != nil {
		out.prepErr = resp.Error
		return nil, nil
	}
	s := resp.Ok.EUICCSigned2
	if err := pki.VerifyTR03111(out.euiccCert.PublicKey.(*ecdsa.PublicKey), rsp.EUICCSignature2Data(s.Raw, sig2), resp.Ok.EUICCSignature2); err != nil {
		t.Fatalf("euiccSignature2: %v", err)
	}
	if !bytes.Equal(s.TransactionID, pr.txid) || !bytes.Equal(s.HashCC, pr.hashCC) {
		t.Fatalf("euiccSigned2 %+v", s)
	}
	if _, err := ecdh.P256().NewPublicKey(s.EUICCOtpk); err != nil {
		t.Fatalf("otPK.EUICC.ECKA: %v", err)
	}
	out.hashCC = s.HashCC
	out.otPKEUICC = s.EUICCOtpk
	return s.EUICCOtpk, sig2
}

// buildBPP builds the bound profile package for the card's one-time key.
func (e *dlEnv) buildBPP(pr *dlParams, otPK []byte, out *dlOutcome) [][]byte {
	t := e.t
	t.Helper()
	otDP, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	txid := pr.txid
	if pr.iscTxID != nil {
		txid = pr.iscTxID
	}
	isc := bsp.NewInitialiseSecureChannel(txid, testHostID, otDP.PublicKey().Bytes())
	isc.Signature = sign(t, pr.iscKey, isc.SignedData(otPK))
	iscBytes, err := isc.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	shs, err := bsp.ECKA(otDP, otPK)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := bsp.DeriveSessionKeys(shs, bsp.KeyTypeAES, bsp.KeyLenAES128, testHostID, e.c.EID().Encode())
	if err != nil {
		t.Fatal(err)
	}
	upp, err := saip.Build(pr.spec)
	if err != nil {
		t.Fatalf("saip.Build: %v", err)
	}
	out.upp = upp
	bpp, err := bsp.BuildBPP(keys, bsp.BPPParts{
		InitialiseSecureChannel: iscBytes,
		ConfigureISDP:           rsp.ConfigureISDPRequest{DPOID: e.p.SMDPOID}.Encode(),
		StoreMetadata:           pr.meta.Bytes(),
		ProfileElements:         bsp.SplitProfile(upp, 0),
	})
	if err != nil {
		t.Fatalf("BuildBPP: %v", err)
	}
	segs, err := bsp.Segments(bpp)
	if err != nil {
		t.Fatal(err)
	}
	// Copies, so that cases may tamper with them.
	out2 := make([][]byte, len(segs))
	for i, s := range segs {
		out2[i] = bytes.Clone(s)
	}
	if pr.segments != nil {
		out2 = pr.segments(out2)
	}
	return out2
}

// load sends the segments; intermediate ones must be answered 9000 without
// data, the result ends the load.
func (e *dlEnv) load(pr *dlParams, segs [][]byte, out *dlOutcome) {
	t := e.t
	t.Helper()
	out.segments = len(segs)
	for i, seg := range segs {
		if pr.beforeSegment != nil && !pr.beforeSegment(e, i) {
			out.stoppedAt = i
			return
		}
		data, sw := e.l.send(seg)
		if sw != apdu.SWOK {
			out.loadSW, out.loadSWAt = sw, i
			return
		}
		if len(data) == 0 {
			continue
		}
		r, err := rsp.DecodeProfileInstallationResult(data)
		if err != nil {
			t.Fatalf("segment %d answered %X: %v", i, data, err)
		}
		if r.Err() == nil && i != len(segs)-1 {
			t.Fatalf("success reported at segment %d of %d", i, len(segs))
		}
		out.result, out.resultRaw, out.resultAt = &r, data, i
		return
	}
	t.Fatalf("no ProfileInstallationResult after %d segments", len(segs))
}

// download runs a whole download with pr.
func (e *dlEnv) download(pr dlParams) dlOutcome {
	e.t.Helper()
	out := dlOutcome{stoppedAt: -1}
	auth := e.authenticate(&pr, &out)
	if auth == nil {
		return out
	}
	otPK, _ := e.prepare(&pr, auth, &out)
	if otPK == nil {
		return out
	}
	e.load(&pr, e.buildBPP(&pr, otPK, &out), &out)
	return out
}

// checkResult verifies the result's signature with the eUICC certificate
// and its fields, and that it is stored as a pending notification.
func (e *dlEnv) checkResult(out dlOutcome, pr dlParams, wantICCID rsp.ICCID) {
	t := e.t
	t.Helper()
	r := out.result
	if err := pki.VerifyTR03111(out.euiccCert.PublicKey.(*ecdsa.PublicKey), r.Data.Raw, r.Signature); err != nil {
		t.Fatalf("euiccSignPIR: %v", err)
	}
	n := r.Data.Notification
	if !bytes.Equal(r.Data.TransactionID, pr.txid) || !r.Data.SMDPOID.Equal(e.p.SMDPOID) ||
		n.Event != rsp.EventInstall || n.Address != testDPAddress || n.ICCID != wantICCID {
		t.Fatalf("result data %+v", r.Data)
	}
	// Kept as a pending notification, returned exactly as answered.
	found := false
	for _, m := range e.l.list(rsp.EventInstall) {
		if m.Seq == n.Seq {
			found = m == n
		}
	}
	if !found {
		t.Fatalf("install notification %d not listed as %+v", n.Seq, n)
	}
	seq := n.Seq
	rl, err := rsp.DecodeRetrieveNotificationsListResponse(e.l.do(rsp.RetrieveNotificationsListRequest{Seq: &seq}.Encode()))
	if err != nil || len(rl.Notifications) != 1 || !bytes.Equal(rl.Notifications[0].Raw, out.resultRaw) {
		t.Fatalf("RetrieveNotificationsList(%d) = %+v %v", seq, rl, err)
	}
}

// fileProfiles returns the ICCIDs of the profiles in the state file.
func fileProfiles(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := unmarshalState(b)
	if err != nil {
		t.Fatalf("state file: %v", err)
	}
	var out []string
	for _, p := range st.Profiles {
		out = append(out, p.ICCID)
	}
	return out
}

// cancel sends CancelSession and returns the decoded answer.
func (e *dlEnv) cancel(txid []byte, reason rsp.CancelSessionReason) rsp.CancelSessionResponse {
	e.t.Helper()
	r, err := rsp.DecodeCancelSessionResponse(e.l.do(rsp.CancelSessionRequest{TransactionID: txid, Reason: reason}.Encode()))
	if err != nil {
		e.t.Fatalf("CancelSession response: %v", err)
	}
	return r
}

// issueWithOID issues a certificate like base (same subject, policies,
// key usage) from the PKI's CI for a fresh key, with oid as the SM-DP+
// registeredID.
func issueWithOID(t testing.TB, p *pki.PKI, base *pki.Entity, oid asn1.ObjectIdentifier) *pki.Entity {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rid, err := asn1.Marshal(oid)
	if err != nil {
		t.Fatal(err)
	}
	rid[0] = 0x88 // [8] IMPLICIT registeredID
	san, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: rid})
	if err != nil {
		t.Fatal(err)
	}
	ski, err := subjectKeyID(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	skiExt, err := asn1.Marshal(ski)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		RawSubject:   base.Cert.RawSubject,
		NotBefore:    base.Cert.NotBefore,
		NotAfter:     base.Cert.NotAfter,
		KeyUsage:     base.Cert.KeyUsage,
	}
	for _, ext := range base.Cert.Extensions {
		switch {
		case ext.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 17}):
			ext.Value = san
		case ext.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 14}):
			ext.Value = skiExt
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: ext.Id, Critical: ext.Critical, Value: ext.Value})
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.CI.Cert, &key.PublicKey, p.CI.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := pki.RegisteredID(cert); err != nil || !got.Equal(oid) {
		t.Fatalf("issued certificate has registeredID %v %v", got, err)
	}
	if _, err := pki.VerifyChain(der, nil, p.Roots(), pki.RoleDPpb, time.Now()); err != nil && base == p.DPpb {
		t.Fatalf("issued DPpb does not verify: %v", err)
	}
	return &pki.Entity{Cert: cert, DER: der, Key: key}
}

// installError returns the *rsp.InstallError in err's chain, or nil.
func installError(err error) *rsp.InstallError {
	var ie *rsp.InstallError
	if errors.As(err, &ie) {
		return ie
	}
	return nil
}
