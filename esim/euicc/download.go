package euicc

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/mobileplans/mobileplans/esim/pki"
	"github.com/mobileplans/mobileplans/esim/rsp"
)

// session is one profile download (SGP.22 common mutual authentication
// followed by the BPP load). AuthenticateServer creates it, PrepareDownload
// adds the one-time key, and it ends when the BPP is loaded (or fails),
// when it is cancelled, replaced by a new AuthenticateServer, or the card
// resets. Closing the logical channel it ran on does not end it.
type session struct {
	txid          []byte
	serverAddress string
	smdpOID       asn1.ObjectIdentifier
	ci            *x509.Certificate
	// euiccSig1 is the euiccSignature1 that smdpSignature2 covers.
	euiccSig1 []byte

	// Set by PrepareDownload.
	prepared bool
	dppb     *ecdsa.PublicKey
	otSK     *ecdh.PrivateKey
	otPK     []byte

	// load is the BPP being loaded, nil before the first segment.
	load *loader
}

// endSession drops the download session and anything it staged.
func (c *Card) endSession(why string) {
	if c.sess == nil {
		return
	}
	c.log.Debug("download session ended", "why", why, "loading", c.sess.load != nil)
	c.sess = nil
}

// errCurve reports a certificate key that is not ECDSA P-256.
var errCurve = errors.New("euicc: certificate key is not ECDSA P-256")

// verifyServerCert checks an SM-DP+ certificate (DER) of the given role
// against the CI and returns its public key and SM-DP+ OID. Errors wrap
// errCurve, pki.ErrWrongRole or another pki error.
func (c *Card) verifyServerCert(der []byte, ci *x509.Certificate, role pki.Role) (*ecdsa.PublicKey, asn1.ObjectIdentifier, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s certificate: %w", pki.ErrBadCert, role, err)
	}
	pub, isEC := cert.PublicKey.(*ecdsa.PublicKey)
	if !isEC || pub.Curve != elliptic.P256() {
		return nil, nil, fmt.Errorf("%w: %s certificate", errCurve, role)
	}
	if _, err := pki.VerifyChain(der, nil, []*x509.Certificate{ci}, role, c.now()); err != nil {
		return nil, nil, err
	}
	oid, err := pki.RegisteredID(cert)
	if err != nil {
		return nil, nil, err
	}
	return pub, oid, nil
}

// authenticateServer implements ES10b.AuthenticateServer (sgp22.md 2.3,
// 4.3 step 3). A new AuthenticateServer ends any previous session; the
// eUICC challenge is used up by it, whatever the outcome.
func (c *Card) authenticateServer(req []byte) (es10Result, error) {
	r, err := rsp.DecodeAuthenticateServerRequest(req)
	if err != nil {
		return es10Result{}, err
	}
	c.endSession("new AuthenticateServer")
	challenge := c.challenge
	c.challenge = nil
	txid := r.ServerSigned1.TransactionID
	fail := func(code rsp.AuthenticateErrorCode, err error) (es10Result, error) {
		c.log.Info("AuthenticateServer refused", "code", code.String(), "err", err)
		resp := rsp.AuthenticateServerResponse{Error: &rsp.AuthenticateResponseError{TransactionID: bytes.Clone(txid), Code: code}}
		return ok(resp.Encode()), nil
	}

	ci := c.trustedCI(r.CIPKIDToBeUsed)
	if ci == nil {
		return fail(rsp.AuthenticateCIPKUnknown, fmt.Errorf("CI %X is not trusted", r.CIPKIDToBeUsed))
	}
	pub, oid, err := c.verifyServerCert(r.ServerCertificate, ci, pki.RoleDPauth)
	switch {
	case errors.Is(err, errCurve):
		return fail(rsp.AuthenticateUnsupportedCurve, err)
	case errors.Is(err, pki.ErrWrongRole):
		return fail(rsp.AuthenticateInvalidOID, err)
	case err != nil:
		return fail(rsp.AuthenticateInvalidCertificate, err)
	}
	if err := pki.VerifyTR03111(pub, r.ServerSigned1.Bytes(), r.ServerSignature1); err != nil {
		return fail(rsp.AuthenticateInvalidSignature, err)
	}
	if challenge == nil || !bytes.Equal(challenge, r.ServerSigned1.EUICCChallenge[:]) {
		return fail(rsp.AuthenticateEUICCChallengeMismatch, errors.New("euiccChallenge is not the last one issued"))
	}

	signed := rsp.EUICCSigned1{
		TransactionID:   bytes.Clone(txid),
		ServerAddress:   r.ServerSigned1.ServerAddress,
		ServerChallenge: r.ServerSigned1.ServerChallenge,
		EUICCInfo2:      c.euiccInfo2(),
		CtxParams1:      r.CtxParams1,
	}
	signed.Raw = signed.Bytes()
	sig, err := signPlain(c.creds.Key, c.rand, signed.Raw)
	if err != nil {
		return fail(rsp.AuthenticateUndefinedError, err)
	}
	c.sess = &session{
		txid:          bytes.Clone(txid),
		serverAddress: r.ServerSigned1.ServerAddress,
		smdpOID:       oid,
		ci:            ci,
		euiccSig1:     sig,
	}
	c.log.Info("SM-DP+ authenticated", "address", r.ServerSigned1.ServerAddress, "oid", oid.String())
	resp := rsp.AuthenticateServerResponse{Ok: &rsp.AuthenticateResponseOk{
		EUICCSigned1:     signed,
		EUICCSignature1:  sig,
		EUICCCertificate: bytes.Clone(c.creds.EUICCCert),
		EUMCertificate:   bytes.Clone(c.creds.EUMCert),
	}}
	return ok(resp.Encode()), nil
}

// prepareDownload implements ES10b.PrepareDownload (sgp22.md 2.4, 4.3
// step 5). Errors keep the session, so that the LPA can cancel it.
func (c *Card) prepareDownload(req []byte) (es10Result, error) {
	r, err := rsp.DecodePrepareDownloadRequest(req)
	if err != nil {
		return es10Result{}, err
	}
	txid := r.SMDPSigned2.TransactionID
	fail := func(code rsp.DownloadErrorCode, err error) (es10Result, error) {
		c.log.Info("PrepareDownload refused", "code", code.String(), "err", err)
		resp := rsp.PrepareDownloadResponse{Error: &rsp.PrepareDownloadResponseError{TransactionID: bytes.Clone(txid), Code: code}}
		return ok(resp.Encode()), nil
	}
	s := c.sess
	if s == nil || s.load != nil {
		return fail(rsp.DownloadNoSessionContext, errors.New("no authenticated session awaiting PrepareDownload"))
	}
	pub, oid, err := c.verifyServerCert(r.SMDPCertificate, s.ci, pki.RoleDPpb)
	switch {
	case errors.Is(err, errCurve):
		return fail(rsp.DownloadUnsupportedCurve, err)
	case err != nil:
		return fail(rsp.DownloadInvalidCertificate, err)
	case !oid.Equal(s.smdpOID):
		return fail(rsp.DownloadInvalidCertificate, fmt.Errorf("DPpb is for SM-DP+ %v, DPauth was for %v", oid, s.smdpOID))
	}
	if err := pki.VerifyTR03111(pub, rsp.SMDPSignature2Data(r.SMDPSigned2.Bytes(), s.euiccSig1), r.SMDPSignature2); err != nil {
		return fail(rsp.DownloadInvalidSignature, err)
	}
	if !bytes.Equal(txid, s.txid) {
		return fail(rsp.DownloadInvalidTransactionID, errors.New("transactionId is not the session's"))
	}
	if r.SMDPSigned2.CCRequired && len(r.HashCC) == 0 {
		return fail(rsp.DownloadUndefinedError, errors.New("confirmation code required but no hashCc"))
	}
	otSK, err := ecdh.P256().GenerateKey(c.rand)
	if err != nil {
		return fail(rsp.DownloadUndefinedError, fmt.Errorf("one-time key: %w", err))
	}
	otPK := otSK.PublicKey().Bytes()
	signed := rsp.EUICCSigned2{TransactionID: bytes.Clone(s.txid), EUICCOtpk: bytes.Clone(otPK), HashCC: bytes.Clone(r.HashCC)}
	signed.Raw = signed.Bytes()
	sig, err := signPlain(c.creds.Key, c.rand, rsp.EUICCSignature2Data(signed.Raw, r.SMDPSignature2))
	if err != nil {
		return fail(rsp.DownloadUndefinedError, err)
	}
	s.prepared, s.dppb, s.otSK, s.otPK = true, pub, otSK, otPK
	c.log.Debug("download prepared", "ccRequired", r.SMDPSigned2.CCRequired)
	resp := rsp.PrepareDownloadResponse{Ok: &rsp.PrepareDownloadResponseOk{EUICCSigned2: signed, EUICCSignature2: sig}}
	return ok(resp.Encode()), nil
}
