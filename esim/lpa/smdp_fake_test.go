package lpa

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/bsp"
	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/pki"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/saip"
	"github.com/mobileplans/mobileplans/esim/tlv"
)

// This file is a small SM-DP+ for the download tests. It speaks ES9+ over
// HTTPS with a DPtls certificate of a test PKI (esim/pki), signs with the
// DPauth and DPpb keys, checks the eUICC's certificate chain and every
// eUICC signature over the exact bytes received, and builds real bound
// profile packages (esim/bsp over a esim/saip profile), so that the real
// simulated eUICC (esim/euicc) accepts them. It records what the LPA did.

// testHostID is the BSP hostId of the fake SM-DP+.
var testHostID = []byte("lpa-test-dp")

// fakeSession is the server side of one download.
type fakeSession struct {
	txid            []byte
	serverChallenge [16]byte
	euiccCert       *x509.Certificate
	eid             rsp.EID
	euiccSig1       []byte
	smdpSig2        []byte
	ccRequired      bool
	metadata        rsp.StoreMetadataRequest
	spec            saip.Spec
}

// fakeCancel is a verified cancelSession the LPA sent.
type fakeCancel struct {
	txid   []byte
	reason rsp.CancelSessionReason
}

// fakeNotification is a handleNotification the server acknowledged.
type fakeNotification struct {
	raw     []byte
	install *rsp.ProfileInstallationResult // set for BF37
}

// fakeSMDP is the test SM-DP+.
type fakeSMDP struct {
	t    testing.TB
	p    *pki.PKI
	addr string // host:port the LPA uses, also the server address it signs

	mu sync.Mutex
	// Configuration (set before the download).
	matchingID   string                         // accepted matching ID
	ccRequired   bool                           // ask for a confirmation code
	cc           string                         // the confirmation code
	fixedICCID   rsp.ICCID                      // when set, every order delivers this ICCID
	noNotifyConf bool                           // metadata without notificationConfigurationInfo
	fail         map[string]es9.Status          // function -> injected failure
	notifyStatus int                            // when non-zero, handleNotification answers this HTTP status
	hook         map[string]func(*http.Request) // function -> called before answering
	// Mutations of the answers, to test the LPA's checks.
	mutateIA  func(*es9.InitiateAuthenticationResponse)
	mutateAC  func(*es9.AuthenticateClientResponse)
	mutateBPP func(*es9.GetBoundProfilePackageResponse)
	nextICCID int
	sessions  map[string]*fakeSession
	// Records.
	calls         []string
	cancels       []fakeCancel
	notifications []fakeNotification
}

// newFakeSMDP starts the server on loopback with TLS from p.
func newFakeSMDP(t testing.TB, p *pki.PKI) *fakeSMDP {
	t.Helper()
	s := &fakeSMDP{t: t, p: p, matchingID: "ORDER-1", fail: map[string]es9.Status{}, hook: map[string]func(*http.Request){},
		sessions: map[string]*fakeSession{}, nextICCID: 1}
	mux := http.NewServeMux()
	mux.HandleFunc(es9.PathInitiateAuthentication, s.initiateAuthentication)
	mux.HandleFunc(es9.PathAuthenticateClient, s.authenticateClient)
	mux.HandleFunc(es9.PathGetBoundProfilePackage, s.getBoundProfilePackage)
	mux.HandleFunc(es9.PathHandleNotification, s.handleNotification)
	mux.HandleFunc(es9.PathCancelSession, s.cancelSession)
	s.addr = startTLS(t, p, mux)
	return s
}

// begin records the call, runs its hook and returns an injected failure.
func (s *fakeSMDP) begin(w http.ResponseWriter, r *http.Request, fn string) bool {
	checkHeaders(s.t, r)
	// Read the body first, so that the server notices when the client
	// goes away (the request context then ends).
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mu.Lock()
	s.calls = append(s.calls, fn)
	hook := s.hook[fn]
	st, failing := s.fail[fn]
	s.mu.Unlock()
	if hook != nil {
		hook(r)
		if r.Context().Err() != nil {
			// The client is gone. Should an answer still reach it, it
			// must not look like success.
			http.Error(w, "client gone", http.StatusServiceUnavailable)
			return false
		}
	}
	if failing {
		writeJSON(w, es9.CancelSessionResponse{Header: es9.Failure(st, "injected")})
		return false
	}
	return true
}

func (s *fakeSMDP) refuse(w http.ResponseWriter, st es9.Status, format string, args ...any) {
	s.t.Logf("fake SM-DP+ refuses: "+format, args...)
	writeJSON(w, es9.CancelSessionResponse{Header: es9.Failure(st, fmt.Sprintf(format, args...))})
}

func (s *fakeSMDP) sign(key *ecdsa.PrivateKey, data []byte) []byte {
	sig, err := pki.SignTR03111(key, data)
	if err != nil {
		s.t.Errorf("sign: %v", err)
	}
	return sig
}

func (s *fakeSMDP) session(txid string) (*fakeSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[txid]
	return ss, ok
}

func (s *fakeSMDP) initiateAuthentication(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, r, "initiateAuthentication") {
		return
	}
	req, err := es9.Decode[es9.InitiateAuthenticationRequest](r.Body, 1<<20)
	if err != nil {
		s.refuse(w, es9.StatusInvalidSMDPAddress(), "bad request: %v", err)
		return
	}
	if req.SMDPAddress != s.addr {
		s.refuse(w, es9.StatusInvalidSMDPAddress(), "address %q", req.SMDPAddress)
		return
	}
	info1, err := rsp.DecodeEUICCInfo1(req.EUICCInfo1)
	if err != nil || !containsID(info1.CIPKIDsForSigning, s.p.CIPKID()) {
		s.refuse(w, es9.StatusCIPKIDNotSupported(), "euiccInfo1 %v", err)
		return
	}
	if len(req.EUICCChallenge) != 16 {
		s.refuse(w, es9.StatusInvalidSMDPAddress(), "challenge of %d bytes", len(req.EUICCChallenge))
		return
	}
	ss := &fakeSession{txid: make([]byte, 16)}
	_, _ = rand.Read(ss.txid)
	_, _ = rand.Read(ss.serverChallenge[:])
	signed := rsp.ServerSigned1{TransactionID: ss.txid, ServerAddress: s.addr, ServerChallenge: ss.serverChallenge}
	copy(signed.EUICCChallenge[:], req.EUICCChallenge)
	raw := signed.Bytes()
	s.mu.Lock()
	s.sessions[rsp.TransactionIDString(ss.txid)] = ss
	s.mu.Unlock()
	resp := es9.InitiateAuthenticationResponse{
		Header:              es9.Success(),
		TransactionID:       rsp.TransactionIDString(ss.txid),
		ServerSigned1:       raw,
		ServerSignature1:    tlv.Encode(0x5F37, s.sign(s.p.DPauth.Key, raw)),
		EUICCCIPKIDToBeUsed: tlv.Encode(0x04, s.p.CIPKID()),
		ServerCertificate:   s.p.DPauth.DER,
	}
	s.mu.Lock()
	mutate := s.mutateIA
	s.mu.Unlock()
	if mutate != nil {
		mutate(&resp)
	}
	writeJSON(w, resp)
}

func (s *fakeSMDP) authenticateClient(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, r, "authenticateClient") {
		return
	}
	req, err := es9.Decode[es9.AuthenticateClientRequest](r.Body, 1<<20)
	if err != nil {
		s.refuse(w, es9.StatusTransactionIDUnknown(), "bad request: %v", err)
		return
	}
	ss, ok := s.session(req.TransactionID)
	if !ok {
		s.refuse(w, es9.StatusTransactionIDUnknown(), "txid %s", req.TransactionID)
		return
	}
	resp, err := rsp.DecodeAuthenticateServerResponse(req.AuthenticateServerResponse)
	if err != nil || resp.Ok == nil {
		s.refuse(w, es9.StatusEUICCSignatureInvalid(), "authenticateServerResponse: %v", err)
		return
	}
	okr := resp.Ok
	eid, cert, err := pki.VerifyEUICC(okr.EUICCCertificate, okr.EUMCertificate, s.p.Roots(), time.Now())
	if err != nil {
		s.refuse(w, es9.StatusEUICCCertificateInvalid(), "%v", err)
		return
	}
	if err := pki.VerifyTR03111(cert.PublicKey.(*ecdsa.PublicKey), okr.EUICCSigned1.Raw, okr.EUICCSignature1); err != nil {
		s.refuse(w, es9.StatusEUICCSignatureInvalid(), "euiccSignature1: %v", err)
		return
	}
	s1 := okr.EUICCSigned1
	if !bytes.Equal(s1.TransactionID, ss.txid) || s1.ServerChallenge != ss.serverChallenge || s1.ServerAddress != s.addr {
		s.refuse(w, es9.StatusEUICCSignatureInvalid(), "euiccSigned1 does not match the session")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss.euiccCert, ss.eid, ss.euiccSig1 = cert, rsp.EID(eid), okr.EUICCSignature1
	if s1.CtxParams1.MatchingID != s.matchingID {
		s.refuse(w, es9.StatusMatchingIDRefused(), "matching ID")
		return
	}
	iccid := s.fixedICCID
	if iccid == "" {
		iccid = testICCIDN(s.nextICCID)
		s.nextICCID++
	}
	ss.ccRequired = s.ccRequired
	ss.metadata = rsp.StoreMetadataRequest{ICCID: iccid, ServiceProviderName: "Contoso Cellular", ProfileName: "Contoso Test " + string(iccid[len(iccid)-4:])}
	if !s.noNotifyConf {
		ss.metadata.NotificationConfig = []rsp.NotificationConfig{{Event: rsp.EventInstall | rsp.EventEnable | rsp.EventDisable | rsp.EventDelete, Address: s.addr}}
	}
	ss.spec = saip.Spec{ICCID: iccid, IMSI: "001010000012345", MCCMNC: "00101", SPN: "Contoso", Filler: 4 << 10}
	signed := rsp.SMDPSigned2{TransactionID: ss.txid, CCRequired: ss.ccRequired}
	raw := signed.Bytes()
	ss.smdpSig2 = s.sign(s.p.DPpb.Key, rsp.SMDPSignature2Data(raw, ss.euiccSig1))
	answer := es9.AuthenticateClientResponse{
		Header:          es9.Success(),
		TransactionID:   rsp.TransactionIDString(ss.txid),
		ProfileMetadata: ss.metadata.Bytes(),
		SMDPSigned2:     raw,
		SMDPSignature2:  tlv.Encode(0x5F37, ss.smdpSig2),
		SMDPCertificate: s.p.DPpb.DER,
	}
	if s.mutateAC != nil {
		s.mutateAC(&answer)
	}
	writeJSON(w, answer)
}

func (s *fakeSMDP) getBoundProfilePackage(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, r, "getBoundProfilePackage") {
		return
	}
	req, err := es9.Decode[es9.GetBoundProfilePackageRequest](r.Body, 1<<20)
	if err != nil {
		s.refuse(w, es9.StatusTransactionIDUnknown(), "bad request: %v", err)
		return
	}
	ss, ok := s.session(req.TransactionID)
	if !ok || ss.smdpSig2 == nil {
		s.refuse(w, es9.StatusTransactionIDUnknown(), "txid %s", req.TransactionID)
		return
	}
	resp, err := rsp.DecodePrepareDownloadResponse(req.PrepareDownloadResponse)
	if err != nil || resp.Ok == nil {
		s.refuse(w, es9.StatusEUICCSignatureInvalid(), "prepareDownloadResponse: %v", err)
		return
	}
	s2 := resp.Ok.EUICCSigned2
	if err := pki.VerifyTR03111(ss.euiccCert.PublicKey.(*ecdsa.PublicKey), rsp.EUICCSignature2Data(s2.Raw, ss.smdpSig2), resp.Ok.EUICCSignature2); err != nil {
		s.refuse(w, es9.StatusEUICCSignatureInvalid(), "euiccSignature2: %v", err)
		return
	}
	if !bytes.Equal(s2.TransactionID, ss.txid) {
		s.refuse(w, es9.StatusTransactionIDUnknown(), "euiccSigned2 txid")
		return
	}
	s.mu.Lock()
	cc := s.cc
	s.mu.Unlock()
	if ss.ccRequired {
		if len(s2.HashCC) == 0 {
			s.refuse(w, es9.StatusConfirmationCodeMissing(), "no hashCc")
			return
		}
		if !bytes.Equal(s2.HashCC, rsp.HashCC(cc, ss.txid)) {
			s.refuse(w, es9.StatusConfirmationCodeRefused(), "hashCc")
			return
		}
	}
	bpp, err := s.buildBPP(ss, s2.EUICCOtpk)
	if err != nil {
		s.t.Errorf("fake SM-DP+: build BPP: %v", err)
		s.refuse(w, es9.StatusBPPNotAvailable(), "%v", err)
		return
	}
	answer := es9.GetBoundProfilePackageResponse{Header: es9.Success(), TransactionID: rsp.TransactionIDString(ss.txid), BoundProfilePackage: bpp}
	s.mu.Lock()
	mutate := s.mutateBPP
	s.mu.Unlock()
	if mutate != nil {
		mutate(&answer)
	}
	writeJSON(w, answer)
}

func (s *fakeSMDP) buildBPP(ss *fakeSession, euiccOtPK []byte) ([]byte, error) {
	otDP, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	isc := bsp.NewInitialiseSecureChannel(ss.txid, testHostID, otDP.PublicKey().Bytes())
	isc.Signature = s.sign(s.p.DPpb.Key, isc.SignedData(euiccOtPK))
	iscBytes, err := isc.Bytes()
	if err != nil {
		return nil, err
	}
	shs, err := bsp.ECKA(otDP, euiccOtPK)
	if err != nil {
		return nil, err
	}
	keys, err := bsp.DeriveSessionKeys(shs, bsp.KeyTypeAES, bsp.KeyLenAES128, testHostID, ss.eid.Encode())
	if err != nil {
		return nil, err
	}
	upp, err := saip.Build(ss.spec)
	if err != nil {
		return nil, err
	}
	return bsp.BuildBPP(keys, bsp.BPPParts{
		InitialiseSecureChannel: iscBytes,
		ConfigureISDP:           rsp.ConfigureISDPRequest{DPOID: s.p.SMDPOID}.Encode(),
		StoreMetadata:           ss.metadata.Bytes(),
		ProfileElements:         bsp.SplitProfile(upp, 0),
	})
}

func (s *fakeSMDP) handleNotification(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, r, "handleNotification") {
		return
	}
	req, err := es9.Decode[es9.HandleNotificationRequest](r.Body, 1<<20)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	status := s.notifyStatus
	s.mu.Unlock()
	if status != 0 {
		http.Error(w, "notification store unavailable", status)
		return
	}
	n := fakeNotification{raw: bytes.Clone(req.PendingNotification)}
	if t, _, err := tlv.ReadTag(n.raw); err == nil && t == rsp.TagProfileInstallationResult {
		pir, err := rsp.DecodeProfileInstallationResult(n.raw)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ss, ok := s.session(rsp.TransactionIDString(pir.Data.TransactionID))
		if !ok || ss.euiccCert == nil {
			s.t.Errorf("fake SM-DP+: installation result for unknown transaction %X", pir.Data.TransactionID)
		} else if err := pki.VerifyTR03111(ss.euiccCert.PublicKey.(*ecdsa.PublicKey), pir.Data.Raw, pir.Signature); err != nil {
			s.t.Errorf("fake SM-DP+: euiccSignPIR: %v", err)
		}
		n.install = &pir
		s.mu.Lock()
		delete(s.sessions, rsp.TransactionIDString(pir.Data.TransactionID))
		s.mu.Unlock()
	} else if _, err := rsp.DecodeOtherSignedNotification(n.raw); err != nil {
		s.t.Errorf("fake SM-DP+: notification %X: %v", n.raw, err)
	}
	s.mu.Lock()
	s.notifications = append(s.notifications, n)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *fakeSMDP) cancelSession(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, r, "cancelSession") {
		return
	}
	req, err := es9.Decode[es9.CancelSessionRequest](r.Body, 1<<20)
	if err != nil {
		s.refuse(w, es9.StatusTransactionIDUnknown(), "bad request: %v", err)
		return
	}
	ss, ok := s.session(req.TransactionID)
	if !ok || ss.euiccCert == nil {
		s.refuse(w, es9.StatusTransactionIDUnknown(), "txid %s", req.TransactionID)
		return
	}
	resp, err := rsp.DecodeCancelSessionResponse(req.CancelSessionResponse)
	if err != nil || resp.Ok == nil {
		s.t.Errorf("fake SM-DP+: cancelSessionResponse %X: %v", req.CancelSessionResponse, err)
		s.refuse(w, es9.StatusEUICCSignatureInvalid(), "cancelSessionResponse")
		return
	}
	if err := pki.VerifyTR03111(ss.euiccCert.PublicKey.(*ecdsa.PublicKey), resp.Ok.Raw, resp.Signature); err != nil {
		s.t.Errorf("fake SM-DP+: euiccCancelSessionSignature: %v", err)
		s.refuse(w, es9.StatusEUICCSignatureInvalid(), "signature")
		return
	}
	if !bytes.Equal(resp.Ok.TransactionID, ss.txid) || !resp.Ok.SMDPOID.Equal(s.p.SMDPOID) {
		s.t.Errorf("fake SM-DP+: euiccCancelSessionSigned %+v does not match the session", resp.Ok)
	}
	s.mu.Lock()
	s.cancels = append(s.cancels, fakeCancel{txid: bytes.Clone(ss.txid), reason: resp.Ok.Reason})
	delete(s.sessions, req.TransactionID)
	s.mu.Unlock()
	writeJSON(w, es9.CancelSessionResponse{Header: es9.Success()})
}

// Accessors for the records.

func (s *fakeSMDP) callList() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

func (s *fakeSMDP) cancelList() []fakeCancel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]fakeCancel(nil), s.cancels...)
}

func (s *fakeSMDP) notificationList() []fakeNotification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]fakeNotification(nil), s.notifications...)
}

func (s *fakeSMDP) openSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

func (s *fakeSMDP) set(f func(s *fakeSMDP)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func containsID(ids [][]byte, id []byte) bool {
	for _, x := range ids {
		if bytes.Equal(x, id) {
			return true
		}
	}
	return false
}

// testICCIDN returns the n-th test ICCID (19 digits plus the Luhn digit).
func testICCIDN(n int) rsp.ICCID {
	body := fmt.Sprintf("894903200001%07d", n)
	return rsp.ICCID(body + strconv.Itoa(luhn(body)))
}

// luhn returns the Luhn check digit of a decimal string.
func luhn(digits string) int {
	sum := 0
	double := true
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return (10 - sum%10) % 10
}
