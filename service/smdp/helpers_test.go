package smdp

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/bsp"
	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/pki"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/tlv"
	"github.com/mobileplans/mobileplans/internal/syncbuf"
)

// testHost is the SM-DP+ address of the test environments.
const testHost = "smdp.mobileplans.test"

// clock is a settable clock for session expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testEnv is an SM-DP+ behind real TLS with an LPA-side and an
// operator-side HTTP client.
type testEnv struct {
	t        testing.TB
	pki      *pki.PKI
	srv      *Server
	ts       *httptest.Server
	clock    *clock
	faults   *Faults
	logs     *syncbuf.Buffer
	lpa      *http.Client // trusts the CI, no client certificate
	operator *ES2Client   // client certificate issued under the CI
	serials  int
	mu       sync.Mutex
}

// envOption adjusts the Config of a test environment.
type envOption func(*Config)

func newEnv(t testing.TB, opts ...envOption) *testEnv {
	t.Helper()
	p, err := pki.Generate(pki.Options{SMDPHost: testHost, ExtraTLSHosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	return newEnvWithPKI(t, p, opts...)
}

func newEnvWithPKI(t testing.TB, p *pki.PKI, opts ...envOption) *testEnv {
	t.Helper()
	e := &testEnv{t: t, pki: p, clock: newClock(), faults: &Faults{}, logs: &syncbuf.Buffer{}}
	cfg := Config{
		PKI:           p,
		Address:       testHost,
		Logger:        slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:           e.clock.Now,
		Faults:        e.faults,
		InventorySize: 4,
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.ts = httptest.NewUnstartedServer(srv.Handler())
	e.ts.Config.ErrorLog = slog.NewLogLogger(slog.NewTextHandler(e.logs, nil), slog.LevelInfo)
	if e.ts.TLS, err = srv.TLSConfig(); err != nil {
		t.Fatal(err)
	}
	e.ts.StartTLS()
	e.lpa = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: p.RootPool(), ServerName: testHost,
	}}}
	opCert, err := IssueOperatorCertificate(p, "Contoso operator", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.operator = NewES2Client(e.ts.URL, &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: p.RootPool(), ServerName: testHost, Certificates: []tls.Certificate{opCert},
	}}}, "")
	t.Cleanup(func() {
		e.ts.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", e.logs.String())
		}
	})
	return e
}

// order places and releases an order with ES2+ and returns its matching ID.
func (e *testEnv) order(ctx context.Context, eid, matchingID, cc string) (iccid, mid string) {
	e.t.Helper()
	do, err := e.operator.DownloadOrder(ctx, DownloadOrderRequest{EID: eid})
	if err != nil {
		e.t.Fatalf("downloadOrder: %v", err)
	}
	co, err := e.operator.ConfirmOrder(ctx, ConfirmOrderRequest{
		ICCID: do.ICCID, EID: eid, MatchingID: matchingID, ConfirmationCode: cc, ReleaseFlag: true,
	})
	if err != nil {
		e.t.Fatalf("confirmOrder: %v", err)
	}
	if co.SMDPAddress != testHost || co.MatchingID == "" {
		e.t.Fatalf("confirmOrder answered %+v", co)
	}
	return do.ICCID, co.MatchingID
}

// state returns the state of a profile.
func (e *testEnv) state(iccid string) State {
	e.t.Helper()
	p, err := e.srv.Profile(context.Background(), iccid)
	if err != nil {
		e.t.Fatal(err)
	}
	return p.State
}

// post sends an ES9+ request as an LPA does and decodes a 200 answer into
// resp. It returns the HTTP status.
func (e *testEnv) post(ctx context.Context, path string, req, resp any) (int, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return 0, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, e.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("User-Agent", es9.UserAgent)
	hr.Header.Set(es9.HeaderAdminProtocol, es9.AdminProtocol)
	res, err := e.lpa.Do(hr)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, err
	}
	if res.StatusCode == http.StatusOK && resp != nil {
		if err := json.Unmarshal(b, resp); err != nil {
			return res.StatusCode, fmt.Errorf("decode %s answer: %w", path, err)
		}
	}
	return res.StatusCode, nil
}

// newCard returns an eUICC counterpart with a fresh EID in the EUM range.
func (e *testEnv) newCard() *card {
	e.t.Helper()
	e.mu.Lock()
	e.serials++
	n := e.serials
	e.mu.Unlock()
	return newCard(e.t, e.pki, n, e.clock.Now)
}

// card is the eUICC side of a download with real crypto: it checks the
// server the way a card does and signs with its own key.
type card struct {
	t     testing.TB
	roots []*x509.Certificate
	ci    []byte
	eid   string
	ent   *pki.Entity
	eum   []byte
	now   func() time.Time
	seq   int
	// laxCC makes PrepareDownload go on without hashCc when the server
	// requires one (a misbehaving card, to test the server's check).
	laxCC bool

	challenge     [16]byte
	txid          []byte
	serverAddress string
	dpOID         asn1.ObjectIdentifier
	euiccSig1     []byte
	dppb          *x509.Certificate
	otSK          *ecdh.PrivateKey
}

func newCard(t testing.TB, p *pki.PKI, serial int, now func() time.Time) *card {
	t.Helper()
	var sn [8]byte
	binary.BigEndian.PutUint64(sn[:], uint64(serial))
	eid, err := rsp.NewEID(pki.DefaultEIDPrefix, sn[:])
	if err != nil {
		t.Fatal(err)
	}
	ent, err := p.NewEUICC(string(eid))
	if err != nil {
		t.Fatal(err)
	}
	return &card{t: t, roots: p.Roots(), ci: p.CIPKID(), eid: string(eid), ent: ent, eum: p.EUM.DER, now: now}
}

func (c *card) info1() rsp.EUICCInfo1 {
	return rsp.EUICCInfo1{SVN: rsp.Version{2, 2, 2}, CIPKIDsForVerification: [][]byte{c.ci}, CIPKIDsForSigning: [][]byte{c.ci}}
}

func (c *card) info2() rsp.EUICCInfo2 {
	return rsp.EUICCInfo2{
		ProfileVersion:         rsp.Version{2, 3, 1},
		SVN:                    rsp.Version{2, 2, 2},
		FirmwareVersion:        rsp.Version{1, 0, 0},
		ExtCardResource:        rsp.ExtCardResource{FreeNVM: 1 << 20, FreeRAM: 1 << 16},
		UICCCapability:         []byte{0x00, 0x48},
		RSPCapability:          []byte{0x04, 0xF0},
		CIPKIDsForVerification: [][]byte{c.ci},
		CIPKIDsForSigning:      [][]byte{c.ci},
		PPVersion:              rsp.Version{0, 0, 1},
		SASAccreditationNumber: "TEST-SAS",
	}
}

// newChallenge is GetEUICCChallenge.
func (c *card) newChallenge() [16]byte {
	rand.Read(c.challenge[:])
	return c.challenge
}

func (c *card) sign(data []byte) []byte {
	c.t.Helper()
	sig, err := pki.SignTR03111(c.ent.Key, data)
	if err != nil {
		c.t.Fatal(err)
	}
	return sig
}

// authenticateServer is ES10b.AuthenticateServer with the checks of
// sgp22.md 4.3 step 3.
func (c *card) authenticateServer(req rsp.AuthenticateServerRequest) rsp.AuthenticateServerResponse {
	refuse := func(code rsp.AuthenticateErrorCode) rsp.AuthenticateServerResponse {
		return rsp.AuthenticateServerResponse{Error: &rsp.AuthenticateResponseError{
			TransactionID: req.ServerSigned1.TransactionID, Code: code}}
	}
	if !bytes.Equal(req.CIPKIDToBeUsed, c.ci) {
		return refuse(rsp.AuthenticateCIPKUnknown)
	}
	cert, err := pki.VerifyChain(req.ServerCertificate, nil, c.roots, pki.RoleDPauth, c.now())
	if err != nil {
		return refuse(rsp.AuthenticateInvalidCertificate)
	}
	pub, _ := cert.PublicKey.(*ecdsa.PublicKey)
	if pki.VerifyTR03111(pub, req.ServerSigned1.Bytes(), req.ServerSignature1) != nil {
		return refuse(rsp.AuthenticateInvalidSignature)
	}
	if req.ServerSigned1.EUICCChallenge != c.challenge {
		return refuse(rsp.AuthenticateEUICCChallengeMismatch)
	}
	if c.dpOID, err = pki.RegisteredID(cert); err != nil {
		return refuse(rsp.AuthenticateInvalidOID)
	}
	c.txid = req.ServerSigned1.TransactionID
	c.serverAddress = req.ServerSigned1.ServerAddress
	signed := rsp.EUICCSigned1{
		TransactionID:   c.txid,
		ServerAddress:   c.serverAddress,
		ServerChallenge: req.ServerSigned1.ServerChallenge,
		EUICCInfo2:      c.info2(),
		CtxParams1:      req.CtxParams1,
	}
	c.euiccSig1 = c.sign(signed.Bytes())
	return rsp.AuthenticateServerResponse{Ok: &rsp.AuthenticateResponseOk{
		EUICCSigned1: signed, EUICCSignature1: c.euiccSig1, EUICCCertificate: c.ent.DER, EUMCertificate: c.eum,
	}}
}

// prepareDownload is ES10b.PrepareDownload (sgp22.md 4.3 step 5).
func (c *card) prepareDownload(req rsp.PrepareDownloadRequest) rsp.PrepareDownloadResponse {
	refuse := func(code rsp.DownloadErrorCode) rsp.PrepareDownloadResponse {
		return rsp.PrepareDownloadResponse{Error: &rsp.PrepareDownloadResponseError{TransactionID: c.txid, Code: code}}
	}
	cert, err := pki.VerifyChain(req.SMDPCertificate, nil, c.roots, pki.RoleDPpb, c.now())
	if err != nil {
		return refuse(rsp.DownloadInvalidCertificate)
	}
	if oid, err := pki.RegisteredID(cert); err != nil || !oid.Equal(c.dpOID) {
		return refuse(rsp.DownloadInvalidCertificate)
	}
	pub, _ := cert.PublicKey.(*ecdsa.PublicKey)
	if pki.VerifyTR03111(pub, rsp.SMDPSignature2Data(req.SMDPSigned2.Bytes(), c.euiccSig1), req.SMDPSignature2) != nil {
		return refuse(rsp.DownloadInvalidSignature)
	}
	if !bytes.Equal(req.SMDPSigned2.TransactionID, c.txid) {
		return refuse(rsp.DownloadInvalidTransactionID)
	}
	if req.SMDPSigned2.CCRequired && req.HashCC == nil && !c.laxCC {
		return refuse(rsp.DownloadUndefinedError)
	}
	c.dppb = cert
	if c.otSK, err = ecdh.P256().GenerateKey(rand.Reader); err != nil {
		c.t.Fatal(err)
	}
	signed := rsp.EUICCSigned2{TransactionID: c.txid, EUICCOtpk: c.otSK.PublicKey().Bytes(), HashCC: req.HashCC}
	sig := c.sign(rsp.EUICCSignature2Data(signed.Bytes(), req.SMDPSignature2))
	return rsp.PrepareDownloadResponse{Ok: &rsp.PrepareDownloadResponseOk{EUICCSigned2: signed, EUICCSignature2: sig}}
}

// loadOutcome is what the card got out of a BPP.
type loadOutcome struct {
	ConfigureISDP []byte
	Metadata      []byte
	KeysReplaced  bool
	UPP           []byte
	Result        rsp.ProfileInstallationResult
	Raw           []byte // the encoded BF37
}

// loadBPP is ES10b.LoadBoundProfilePackage: it feeds the transfers of
// bsp.Segments to an Unwrapper and signs the ProfileInstallationResult.
func (c *card) loadBPP(bpp []byte) loadOutcome {
	var out loadOutcome
	var failure *rsp.InstallFailure
	w := bsp.NewUnwrapper(func(isc *bsp.InitialiseSecureChannel) (bsp.SessionKeys, error) {
		if !bytes.Equal(isc.TransactionID, c.txid) {
			return bsp.SessionKeys{}, bsp.ErrTransactionID
		}
		pub, _ := c.dppb.PublicKey.(*ecdsa.PublicKey)
		if pki.VerifyTR03111(pub, isc.SignedData(c.otSK.PublicKey().Bytes()), isc.Signature) != nil {
			return bsp.SessionKeys{}, bsp.ErrSignature
		}
		return isc.SessionKeys(c.otSK, rsp.EID(c.eid).Encode())
	}, bsp.Options{})
	segs, err := bsp.Segments(bpp)
	if err != nil {
		failure = &rsp.InstallFailure{Command: rsp.BPPInitialiseSecureChannel, Reason: rsp.InstallSCP03tStructureError}
	}
	done := false
	for _, s := range segs {
		res, err := w.Feed(s)
		if err != nil {
			var le *bsp.LoadError
			if !errors.As(err, &le) {
				c.t.Fatalf("unwrap: %v", err)
			}
			failure = &rsp.InstallFailure{Command: rsp.BPPCommandID(le.Command), Reason: rsp.InstallErrorReason(le.Reason)}
			break
		}
		if res.ConfigureISDP != nil {
			out.ConfigureISDP = res.ConfigureISDP
		}
		if res.StoreMetadata != nil {
			out.Metadata = res.StoreMetadata
		}
		out.KeysReplaced = out.KeysReplaced || res.KeysReplaced
		out.UPP = append(out.UPP, res.ProfileData...)
		done = res.Done
	}
	if failure == nil && !done {
		failure = &rsp.InstallFailure{Command: rsp.BPPLoadProfileElements, Reason: rsp.InstallSCP03tStructureError}
	}
	var iccid rsp.ICCID
	if m, err := rsp.DecodeStoreMetadataRequest(out.Metadata); err == nil {
		iccid = m.ICCID
	}
	c.seq++
	data := rsp.ProfileInstallationResultData{
		TransactionID: c.txid,
		Notification:  rsp.NotificationMetadata{Seq: c.seq, Event: rsp.EventInstall, Address: c.serverAddress, ICCID: iccid},
		SMDPOID:       c.dpOID,
	}
	if failure != nil {
		data.Failure = failure
	} else {
		data.Success = &rsp.InstallSuccess{AID: []byte{0xA0, 0, 0, 5, 0x59, 0x10, 0x10, 1}, SimaResponse: []byte{0x30, 0x07, 0xA0, 0x05, 0x30, 0x03, 0x80, 0x01, 0x00}}
	}
	out.Result = rsp.ProfileInstallationResult{Data: data, Signature: c.sign(data.Bytes())}
	out.Raw = out.Result.Encode()
	return out
}

// cancelSession is ES10b.CancelSession.
func (c *card) cancelSession(reason rsp.CancelSessionReason) rsp.CancelSessionResponse {
	signed := rsp.EUICCCancelSessionSigned{TransactionID: c.txid, SMDPOID: c.dpOID, Reason: reason}
	return rsp.CancelSessionResponse{Ok: &signed, Signature: c.sign(signed.Bytes())}
}

// otherNotification returns a signed enable/disable/delete notification.
func (c *card) otherNotification(ev rsp.NotificationEvent, iccid string) []byte {
	c.seq++
	tbs := rsp.NotificationMetadata{Seq: c.seq, Event: ev, Address: testHost, ICCID: rsp.ICCID(iccid)}
	return rsp.OtherSignedNotification{
		TBS: tbs, Signature: c.sign(tbs.Encode()), EUICCCertificate: c.ent.DER, EUMCertificate: c.eum,
	}.Encode()
}

// session drives one download from the LPA's point of view.
type session struct {
	env  *testEnv
	card *card
	txid string
	init es9.InitiateAuthenticationResponse
	auth es9.AuthenticateClientResponse
	bpp  []byte
}

// headerErr returns the error of a failed function (nil on success) or an
// error for a non-200 answer.
func headerErr(function string, status int, h es9.ResponseHeader, err error) error {
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", function, status)
	}
	return h.Err(function)
}

// initiate runs GetEUICCChallenge and initiateAuthentication.
func (e *testEnv) initiate(ctx context.Context, c *card, address string) (*session, error) {
	ch := c.newChallenge()
	s := &session{env: e, card: c}
	status, err := e.post(ctx, es9.PathInitiateAuthentication, es9.InitiateAuthenticationRequest{
		SMDPAddress: address, EUICCChallenge: ch[:], EUICCInfo1: c.info1().Encode(),
	}, &s.init)
	if err := headerErr(FuncInitiateAuthentication, status, s.init.Header, err); err != nil {
		return nil, err
	}
	s.txid = s.init.TransactionID
	return s, nil
}

// authenticateServer builds the AuthenticateServer request from the
// initiateAuthentication answer and runs it on the card.
func (s *session) authenticateServer(matchingID string) rsp.AuthenticateServerResponse {
	s.env.t.Helper()
	ss1, err := rsp.DecodeServerSigned1(s.init.ServerSigned1)
	if err != nil {
		s.env.t.Fatalf("serverSigned1: %v", err)
	}
	req := rsp.AuthenticateServerRequest{
		ServerSigned1:     ss1,
		ServerSignature1:  tlvValue(s.env.t, s.init.ServerSignature1),
		CIPKIDToBeUsed:    tlvValue(s.env.t, s.init.EUICCCIPKIDToBeUsed),
		ServerCertificate: s.init.ServerCertificate,
		CtxParams1: rsp.CtxParams1{MatchingID: matchingID, HasMatchingID: matchingID != "",
			DeviceInfo: rsp.DeviceInfo{TAC: [4]byte{0x35, 0x29, 0x06, 0x11}}},
	}
	// Through the encoding, as the LPA sends it to the card.
	dec, err := rsp.DecodeAuthenticateServerRequest(req.Encode())
	if err != nil {
		s.env.t.Fatalf("AuthenticateServer request: %v", err)
	}
	return s.card.authenticateServer(dec)
}

// authenticateClient posts the card's answer.
func (s *session) authenticateClient(ctx context.Context, asr rsp.AuthenticateServerResponse) error {
	status, err := s.env.post(ctx, es9.PathAuthenticateClient, es9.AuthenticateClientRequest{
		TransactionID: s.txid, AuthenticateServerResponse: asr.Encode(),
	}, &s.auth)
	return headerErr(FuncAuthenticateClient, status, s.auth.Header, err)
}

// prepareDownload assembles PrepareDownload (with the hash of cc when the
// server requires one and cc is not empty) and runs it on the card.
func (s *session) prepareDownload(cc string) rsp.PrepareDownloadResponse {
	s.env.t.Helper()
	signed2, err := rsp.DecodeSMDPSigned2(s.auth.SMDPSigned2)
	if err != nil {
		s.env.t.Fatalf("smdpSigned2: %v", err)
	}
	req := rsp.PrepareDownloadRequest{
		SMDPSigned2:     signed2,
		SMDPSignature2:  tlvValue(s.env.t, s.auth.SMDPSignature2),
		SMDPCertificate: s.auth.SMDPCertificate,
	}
	if signed2.CCRequired && cc != "" {
		req.HashCC = rsp.HashCC(cc, signed2.TransactionID)
	}
	dec, err := rsp.DecodePrepareDownloadRequest(req.Encode())
	if err != nil {
		s.env.t.Fatalf("PrepareDownload request: %v", err)
	}
	return s.card.prepareDownload(dec)
}

// getBPP posts the card's PrepareDownload answer.
func (s *session) getBPP(ctx context.Context, pdr rsp.PrepareDownloadResponse) error {
	var resp es9.GetBoundProfilePackageResponse
	status, err := s.env.post(ctx, es9.PathGetBoundProfilePackage, es9.GetBoundProfilePackageRequest{
		TransactionID: s.txid, PrepareDownloadResponse: pdr.Encode(),
	}, &resp)
	if err := headerErr(FuncGetBoundProfilePackage, status, resp.Header, err); err != nil {
		return err
	}
	s.bpp = resp.BoundProfilePackage
	return nil
}

// cancel runs CancelSession on the card and posts it.
func (s *session) cancel(ctx context.Context, reason rsp.CancelSessionReason) error {
	return s.postCancel(ctx, s.card.cancelSession(reason))
}

func (s *session) postCancel(ctx context.Context, csr rsp.CancelSessionResponse) error {
	var resp es9.CancelSessionResponse
	status, err := s.env.post(ctx, es9.PathCancelSession, es9.CancelSessionRequest{
		TransactionID: s.txid, CancelSessionResponse: csr.Encode(),
	}, &resp)
	return headerErr(FuncCancelSession, status, resp.Header, err)
}

// notify posts a pending notification; the answer must be 204.
func (e *testEnv) notify(ctx context.Context, raw []byte) error {
	status, err := e.post(ctx, es9.PathHandleNotification, es9.HandleNotificationRequest{PendingNotification: raw}, nil)
	if err != nil {
		return err
	}
	if status != http.StatusNoContent {
		return fmt.Errorf("handleNotification: HTTP %d, want 204", status)
	}
	return nil
}

// download runs a whole download and sends the installation result.
func (e *testEnv) download(ctx context.Context, c *card, matchingID, cc string) (loadOutcome, error) {
	s, err := e.initiate(ctx, c, testHost)
	if err != nil {
		return loadOutcome{}, err
	}
	asr := s.authenticateServer(matchingID)
	if asr.Ok == nil {
		return loadOutcome{}, fmt.Errorf("card refused the server: %v", asr.Err())
	}
	if err := s.authenticateClient(ctx, asr); err != nil {
		return loadOutcome{}, err
	}
	pdr := s.prepareDownload(cc)
	if pdr.Ok == nil {
		return loadOutcome{}, fmt.Errorf("card refused PrepareDownload: %v", pdr.Err())
	}
	if err := s.getBPP(ctx, pdr); err != nil {
		return loadOutcome{}, err
	}
	out := c.loadBPP(s.bpp)
	if err := e.notify(ctx, out.Raw); err != nil {
		return out, err
	}
	return out, nil
}

// tlvValue returns the value of a complete TLV.
func tlvValue(t testing.TB, b []byte) []byte {
	t.Helper()
	v, err := tlv.DecodeOne(b)
	if err != nil {
		t.Fatalf("TLV %X: %v", b, err)
	}
	return v.Value
}

// wantStatus checks that err is a failed ES9+/ES2+ function with st.
func wantStatus(t testing.TB, err error, st es9.Status) {
	t.Helper()
	if err == nil {
		t.Fatalf("succeeded, want %s (%s)", st, st.Name())
	}
	if !errors.Is(err, st.Err()) {
		t.Fatalf("error %v, want status %s (%s)", err, st, st.Name())
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
