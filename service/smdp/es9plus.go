package smdp

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mobileplans/mobileplans/esim/bsp"
	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/pki"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/tlv"
)

// Status codes this server uses beyond the named ones of package es9 (the
// subject codes are those of sgp22.md 3.3, the reasons its 2.x/4.x families).
func statusAddressMissing() es9.Status     { return es9.Status{Subject: "8.8.1", Reason: "2.2"} }
func statusEUICCDataInvalid() es9.Status   { return es9.Status{Subject: "8.1", Reason: "2.1"} }
func statusEUICCReportedError() es9.Status { return es9.Status{Subject: "8.1", Reason: "4.2"} }

// Tags of the ES9+ TLVs assembled here.
const (
	tagSignature tlv.Tag = 0x5F37
	tagOctets    tlv.Tag = 0x04
	tagSequence  tlv.Tag = 0x30
)

// Reasons recorded when a session ends.
const (
	endSuperseded = "superseded by a new session of the same eUICC"
	endCCExceeded = "confirmation code retries exceeded"
)

// errorReasonCC marks an order put in error by wrong confirmation codes.
const errorReasonCC = "confirmation code retries exceeded"

// sessionRetention is how long ended sessions are kept, so that late
// installation results can still be verified.
const sessionRetention = 30 * 24 * time.Hour

// hostIDLen is the length of the random hostId of each BPP.
const hostIDLen = 16

// ---- initiateAuthentication ----

func (s *Server) initiateAuthentication(ctx context.Context, body io.Reader) (any, error) {
	req, err := es9.Decode[es9.InitiateAuthenticationRequest](body, s.cfg.MaxRequestBody)
	if err != nil {
		return nil, err
	}
	s.sweep(ctx)
	if req.SMDPAddress == "" {
		return nil, failure(statusAddressMissing(), "smdpAddress missing")
	}
	if !strings.EqualFold(req.SMDPAddress, s.cfg.Address) {
		return nil, failure(es9.StatusInvalidSMDPAddress(), "this is %s, not %s", s.cfg.Address, req.SMDPAddress)
	}
	if len(req.EUICCChallenge) != 16 {
		return nil, failure(statusEUICCDataInvalid(), "euiccChallenge has %d bytes, want 16", len(req.EUICCChallenge))
	}
	info1, err := rsp.DecodeEUICCInfo1(req.EUICCInfo1)
	if err != nil {
		return nil, failure(statusEUICCDataInvalid(), "euiccInfo1: %v", err)
	}
	if info1.SVN[0] < 2 {
		return nil, failure(es9.StatusSVNNotSupported(), "SGP.22 version %s not supported", info1.SVN)
	}
	ci := s.pki.CIPKID()
	if !containsKey(info1.CIPKIDsForSigning, ci) {
		return nil, failure(es9.StatusCIPKIDNotSupported(), "none of the eUICC's CIs for signing is trusted")
	}
	if !containsKey(info1.CIPKIDsForVerification, ci) {
		return nil, failure(es9.StatusNoDPAuthCertificate(), "the eUICC cannot verify a certificate of this SM-DP+")
	}

	now := s.now()
	txid := randomBytes(16)
	serverChallenge := [16]byte(randomBytes(16))
	signed := rsp.ServerSigned1{
		TransactionID:   txid,
		EUICCChallenge:  [16]byte(req.EUICCChallenge),
		ServerAddress:   s.cfg.Address,
		ServerChallenge: serverChallenge,
	}
	signedBytes := signed.Bytes()
	tamperSig1, _, untrusted := s.faults.flags()
	dpauth := s.pki.DPauth
	if untrusted {
		if dpauth, err = s.rogueDPauth(); err != nil {
			return nil, err
		}
	}
	sig, err := pki.SignTR03111(dpauth.Key, signedBytes)
	if err != nil {
		return nil, fmt.Errorf("smdp: sign serverSigned1: %w", err)
	}
	if tamperSig1 {
		sig[len(sig)-1] ^= 0x01
		s.log.Info("fault: serverSignature1 tampered")
	}
	sess := sessionRow{
		TxID:            rsp.TransactionIDString(txid),
		State:           sessInitiated,
		EUICCChallenge:  req.EUICCChallenge,
		ServerChallenge: serverChallenge[:],
		CIPKID:          ci,
		Created:         now,
		Expires:         now.Add(s.cfg.SessionTTL),
	}
	if err := s.db.insertSession(ctx, sess); err != nil {
		return nil, err
	}
	s.log.Info("session started", "txid", sess.TxID, "svn", info1.SVN.String())
	return es9.InitiateAuthenticationResponse{
		Header:              es9.Success(),
		TransactionID:       sess.TxID,
		ServerSigned1:       signedBytes,
		ServerSignature1:    tlv.Encode(tagSignature, sig),
		EUICCCIPKIDToBeUsed: tlv.Encode(tagOctets, ci),
		ServerCertificate:   dpauth.DER,
	}, nil
}

func containsKey(list [][]byte, k []byte) bool {
	for _, v := range list {
		if bytes.Equal(v, k) {
			return true
		}
	}
	return false
}

// rogueDPauth returns a DPauth certificate and key issued by a second CI
// that the eUICCs do not know (generated once, on first use).
func (s *Server) rogueDPauth() (*pki.Entity, error) {
	s.rogueMu.Lock()
	defer s.rogueMu.Unlock()
	if s.rogue == nil {
		p, err := pki.Generate(pki.Options{
			Now:      s.now,
			SMDPHost: s.pki.DPtls.Cert.Subject.CommonName,
			SMDPOID:  s.oid,
		})
		if err != nil {
			return nil, fmt.Errorf("smdp: generate untrusted PKI: %w", err)
		}
		s.rogue = p
	}
	return s.rogue.DPauth, nil
}

// ---- sessions ----

// openSession loads the session txid (hex) and checks that it is open, not
// expired and, unless want is empty, in state want. Failures are 8.10.1/3.9.
func (s *Server) openSession(ctx context.Context, txid string, want sessionState) (sessionRow, []byte, error) {
	raw, err := rsp.ParseTransactionID(txid)
	if err != nil {
		return sessionRow{}, nil, failure(es9.StatusTransactionIDUnknown(), "malformed transactionId")
	}
	key := rsp.TransactionIDString(raw)
	sess, err := s.db.session(ctx, s.db.db, key)
	if errors.Is(err, ErrNotFound) {
		return sessionRow{}, nil, failure(es9.StatusTransactionIDUnknown(), "no session %s", key)
	}
	if err != nil {
		return sessionRow{}, nil, err
	}
	if !sess.State.open() {
		return sessionRow{}, nil, failure(es9.StatusTransactionIDUnknown(), "session %s has ended (%s)", key, sess.State)
	}
	if !s.now().Before(sess.Expires) {
		if err := s.expire(ctx, sess); err != nil {
			return sessionRow{}, nil, err
		}
		return sessionRow{}, nil, failure(es9.StatusTransactionIDUnknown(), "session %s has expired", key)
	}
	if want != "" && sess.State != want {
		return sessionRow{}, nil, failure(es9.StatusTransactionIDUnknown(), "session %s is %s, not %s", key, sess.State, want)
	}
	return sess, raw, nil
}

// releaseHeld ends the download of a profile held by session txid: a
// downloaded order goes back to released (EventSessionEnded). Nothing
// happens when the order is in another state or held by another session.
func (s *Server) releaseHeld(ctx context.Context, tx *sql.Tx, iccid, txid string) error {
	if iccid == "" {
		return nil
	}
	p, err := s.db.profile(ctx, tx, iccid)
	if err != nil {
		return err
	}
	if p.State != StateDownloaded || p.SessionTxID != txid {
		return nil
	}
	_, err = s.db.transition(ctx, tx, iccid, EventSessionEnded, s.now(), func(p *profileRow) error {
		p.SessionTxID, p.DeviceEID = "", ""
		return nil
	})
	if err == nil {
		s.log.Info("order released for a new download", "iccid", iccid, "txid", txid)
	}
	return err
}

// endAndRelease ends an open session and releases the order it holds.
func (s *Server) endAndRelease(ctx context.Context, sess sessionRow, to sessionState, reason string) error {
	err := s.db.tx(ctx, func(tx *sql.Tx) error {
		if err := s.db.endSession(ctx, tx, sess, to, reason, s.now()); err != nil {
			return err
		}
		return s.releaseHeld(ctx, tx, sess.ICCID, sess.TxID)
	})
	if errors.Is(err, ErrConflict) {
		return nil // ended concurrently
	}
	return err
}

// expire ends an expired session.
func (s *Server) expire(ctx context.Context, sess sessionRow) error {
	s.log.Info("session expired", "txid", sess.TxID, "state", string(sess.State))
	return s.endAndRelease(ctx, sess, sessExpired, "expired")
}

// sweep expires overdue sessions, at most once per tenth of the session
// lifetime.
func (s *Server) sweep(ctx context.Context) {
	now := s.now()
	s.sweepMu.Lock()
	if now.Sub(s.lastSweep) < s.cfg.SessionTTL/10 {
		s.sweepMu.Unlock()
		return
	}
	s.lastSweep = now
	s.sweepMu.Unlock()
	list, err := s.db.expiredSessions(ctx, s.db.db, now)
	if err != nil {
		s.log.Warn("session sweep", "err", err)
		return
	}
	for _, sess := range list {
		if err := s.expire(ctx, sess); err != nil {
			s.log.Warn("session sweep", "txid", sess.TxID, "err", err)
		}
	}
	if n, err := s.db.deleteEndedSessions(ctx, now.Add(-sessionRetention)); err != nil {
		s.log.Warn("session sweep", "err", err)
	} else if n > 0 {
		s.log.Debug("old sessions deleted", "sessions", n)
	}
}

// ---- authenticateClient ----

// certError maps a certificate verification error to the status of the
// certificate's subject code.
func certError(invalid, expired es9.Status, what string, err error) *es9.Error {
	switch {
	case errors.Is(err, pki.ErrUntrustedCI):
		return failure(es9.StatusCIUnknown(), "%s: %v", what, err)
	case errors.Is(err, pki.ErrExpired):
		return failure(expired, "%s: %v", what, err)
	}
	return failure(invalid, "%s: %v", what, err)
}

func (s *Server) authenticateClient(ctx context.Context, body io.Reader) (any, error) {
	req, err := es9.Decode[es9.AuthenticateClientRequest](body, s.cfg.MaxRequestBody)
	if err != nil {
		return nil, err
	}
	s.sweep(ctx)
	sess, txid, err := s.openSession(ctx, req.TransactionID, sessInitiated)
	if err != nil {
		return nil, err
	}
	asr, err := rsp.DecodeAuthenticateServerResponse(req.AuthenticateServerResponse)
	if err != nil {
		return nil, failure(statusEUICCDataInvalid(), "authenticateServerResponse: %v", err)
	}
	if asr.Ok == nil {
		reason := "no result"
		if asr.Error != nil {
			reason = asr.Error.Code.String()
		}
		if err := s.endAndRelease(ctx, sess, sessFailed, "eUICC error "+reason); err != nil {
			return nil, err
		}
		return nil, failure(statusEUICCReportedError(), "the eUICC refused the server: %s", reason)
	}
	ok := asr.Ok
	signed := ok.EUICCSigned1
	if !bytes.Equal(signed.TransactionID, txid) {
		return nil, failure(es9.StatusTransactionIDUnknown(), "euiccSigned1 carries another transactionId")
	}

	// The eUICC chain: EUM issued by the chosen CI, then CI -> EUM -> eUICC.
	now := s.now()
	eum, err := x509.ParseCertificate(ok.EUMCertificate)
	if err != nil {
		return nil, failure(es9.StatusEUMCertificateInvalid(), "EUM certificate: %v", err)
	}
	if !bytes.Equal(eum.AuthorityKeyId, sess.CIPKID) {
		return nil, failure(es9.StatusCIUnknown(), "the EUM certificate is not issued by the CI chosen for this session")
	}
	if _, err := pki.VerifyChain(ok.EUMCertificate, nil, s.pki.Roots(), pki.RoleEUM, now); err != nil {
		return nil, certError(es9.StatusEUMCertificateInvalid(), es9.StatusEUMCertificateExpired(), "EUM certificate", err)
	}
	eid, cert, err := pki.VerifyEUICC(ok.EUICCCertificate, ok.EUMCertificate, s.pki.Roots(), now)
	if err != nil {
		return nil, certError(es9.StatusEUICCCertificateInvalid(), es9.StatusEUICCCertificateExpired(), "eUICC certificate", err)
	}
	pub, isEC := cert.PublicKey.(*ecdsa.PublicKey)
	if !isEC {
		return nil, failure(es9.StatusEUICCCertificateInvalid(), "eUICC key is not ECDSA")
	}
	if err := pki.VerifyTR03111(pub, signed.Bytes(), ok.EUICCSignature1); err != nil {
		return nil, failure(es9.StatusEUICCSignatureInvalid(), "euiccSignature1 does not verify")
	}
	if subtle.ConstantTimeCompare(signed.ServerChallenge[:], sess.ServerChallenge) != 1 {
		return nil, failure(es9.StatusEUICCSignatureInvalid(), "serverChallenge does not match")
	}
	if !strings.EqualFold(signed.ServerAddress, s.cfg.Address) {
		return nil, failure(es9.StatusInvalidSMDPAddress(), "euiccSigned1 names server %s", signed.ServerAddress)
	}

	order, err := s.findOrder(ctx, sess, eid, signed.CtxParams1)
	if err != nil {
		return nil, err
	}
	metadata, err := s.metadata(order)
	if err != nil {
		return nil, err
	}
	smdpSigned2 := rsp.SMDPSigned2{TransactionID: txid, CCRequired: order.CCHash != nil}
	smdpSigned2Bytes := smdpSigned2.Bytes()
	sig2, err := pki.SignTR03111(s.pki.DPpb.Key, rsp.SMDPSignature2Data(smdpSigned2Bytes, ok.EUICCSignature1))
	if err != nil {
		return nil, fmt.Errorf("smdp: sign smdpSigned2: %w", err)
	}
	from := sess.State
	sess.State = sessAuthenticated
	sess.ICCID, sess.EID, sess.EUICCCert = order.ICCID, eid, ok.EUICCCertificate
	sess.SMDPSignature2, sess.Metadata, sess.CCRequired = sig2, metadata, order.CCHash != nil
	if err := s.db.updateSession(ctx, s.db.db, sess, from); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, failure(es9.StatusTransactionIDUnknown(), "session %s changed concurrently", sess.TxID)
		}
		return nil, err
	}
	s.log.Info("eUICC authenticated", "txid", sess.TxID, "eid", redactEID(eid), "iccid", order.ICCID,
		"matchingId", redact(order.MatchingID), "ccRequired", sess.CCRequired)
	return es9.AuthenticateClientResponse{
		Header:          es9.Success(),
		TransactionID:   sess.TxID,
		ProfileMetadata: metadata,
		SMDPSigned2:     smdpSigned2Bytes,
		SMDPSignature2:  tlv.Encode(tagSignature, sig2),
		SMDPCertificate: s.pki.DPpb.DER,
	}, nil
}

// redactEID keeps the EUM prefix of an EID for logs.
func redactEID(eid string) string {
	if len(eid) <= 8 {
		return "…"
	}
	return eid[:8] + "…"
}

// findOrder finds the order for an authenticated eUICC: by matching ID, or
// without one the oldest released order bound to the EID; and checks that it
// may be downloaded by this eUICC now.
func (s *Server) findOrder(ctx context.Context, sess sessionRow, eid string, cp rsp.CtxParams1) (profileRow, error) {
	var order profileRow
	var err error
	if cp.MatchingID != "" {
		order, err = s.db.profileByMatchingID(ctx, s.db.db, cp.MatchingID)
	} else {
		order, err = s.db.releasedForEID(ctx, s.db.db, eid)
	}
	if errors.Is(err, ErrNotFound) {
		if cp.MatchingID == "" {
			return profileRow{}, failure(es9.StatusMatchingIDRefused(), "no matching ID and no pending order for this EID")
		}
		return profileRow{}, failure(es9.StatusMatchingIDRefused(), "unknown matching ID")
	}
	if err != nil {
		return profileRow{}, err
	}
	if order.EID != "" && order.EID != eid {
		return profileRow{}, failure(es9.StatusEIDRefused(), "the order is bound to another EID")
	}
	switch order.State {
	case StateReleased:
		return order, nil
	case StateDownloaded:
		if order.DeviceEID != eid {
			return profileRow{}, failure(es9.StatusMatchingIDRefused(), "the profile is being downloaded by another eUICC")
		}
		// The same eUICC starts over (its previous session is gone on the
		// card: a new AuthenticateServer replaces it).
		held, err := s.db.session(ctx, s.db.db, order.SessionTxID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return profileRow{}, err
		}
		err = s.db.tx(ctx, func(tx *sql.Tx) error {
			if held.TxID != "" && held.State.open() {
				if err := s.db.endSession(ctx, tx, held, sessFailed, endSuperseded, s.now()); err != nil {
					return err
				}
			}
			return s.releaseHeld(ctx, tx, order.ICCID, order.SessionTxID)
		})
		if err != nil {
			if errors.Is(err, ErrConflict) {
				return profileRow{}, failure(es9.StatusMatchingIDRefused(), "the order changed concurrently")
			}
			return profileRow{}, err
		}
		s.log.Info("previous download superseded", "txid", sess.TxID, "previous", order.SessionTxID, "iccid", order.ICCID)
		order.State, order.SessionTxID, order.DeviceEID = StateReleased, "", ""
		return order, nil
	case StateInstalled:
		return profileRow{}, failure(es9.StatusMatchingIDRefused(), "the profile of this order has already been downloaded and installed")
	case StateError:
		if order.ErrorReason == errorReasonCC {
			return profileRow{}, failure(es9.StatusDownloadRetriesExceeded(), "the order is blocked: %s", errorReasonCC)
		}
		return profileRow{}, failure(es9.StatusMatchingIDRefused(), "the order is cancelled")
	}
	return profileRow{}, failure(es9.StatusMatchingIDRefused(), "the order is not released for download (%s)", order.State)
}

// ---- getBoundProfilePackage ----

func (s *Server) getBoundProfilePackage(ctx context.Context, body io.Reader) (any, error) {
	req, err := es9.Decode[es9.GetBoundProfilePackageRequest](body, s.cfg.MaxRequestBody)
	if err != nil {
		return nil, err
	}
	s.sweep(ctx)
	sess, txid, err := s.openSession(ctx, req.TransactionID, sessAuthenticated)
	if err != nil {
		return nil, err
	}
	pdr, err := rsp.DecodePrepareDownloadResponse(req.PrepareDownloadResponse)
	if err != nil {
		return nil, failure(statusEUICCDataInvalid(), "prepareDownloadResponse: %v", err)
	}
	if pdr.Ok == nil {
		reason := "no result"
		if pdr.Error != nil {
			reason = pdr.Error.Code.String()
		}
		if err := s.endAndRelease(ctx, sess, sessFailed, "eUICC error "+reason); err != nil {
			return nil, err
		}
		return nil, failure(statusEUICCReportedError(), "the eUICC refused the download: %s", reason)
	}
	signed := pdr.Ok.EUICCSigned2
	cert, err := x509.ParseCertificate(sess.EUICCCert)
	if err != nil {
		return nil, fmt.Errorf("smdp: stored eUICC certificate: %w", err)
	}
	pub, _ := cert.PublicKey.(*ecdsa.PublicKey)
	if err := pki.VerifyTR03111(pub, rsp.EUICCSignature2Data(signed.Bytes(), sess.SMDPSignature2), pdr.Ok.EUICCSignature2); err != nil {
		return nil, failure(es9.StatusEUICCSignatureInvalid(), "euiccSignature2 does not verify")
	}
	if !bytes.Equal(signed.TransactionID, txid) {
		return nil, failure(es9.StatusTransactionIDUnknown(), "euiccSigned2 carries another transactionId")
	}
	if _, err := ecdh.P256().NewPublicKey(signed.EUICCOtpk); err != nil {
		return nil, failure(statusEUICCDataInvalid(), "otPK.EUICC.ECKA is not a P-256 point")
	}
	if sess.CCRequired {
		if err := s.checkCC(ctx, sess, txid, signed.HashCC); err != nil {
			return nil, err
		}
	}

	bpp, err := s.buildBPP(ctx, sess, txid, signed.EUICCOtpk)
	if err != nil {
		return nil, err
	}
	err = s.db.tx(ctx, func(tx *sql.Tx) error {
		_, err := s.db.transition(ctx, tx, sess.ICCID, EventBPPDelivered, s.now(), func(p *profileRow) error {
			p.DeviceEID, p.SessionTxID = sess.EID, sess.TxID
			return nil
		})
		if err != nil {
			return err
		}
		from := sess.State
		sess.State, sess.OtPKEUICC = sessDelivered, signed.EUICCOtpk
		return s.db.updateSession(ctx, tx, sess, from)
	})
	if errors.Is(err, ErrInvalidTransition) || errors.Is(err, ErrConflict) {
		if err := s.endAndRelease(ctx, sess, sessFailed, "profile not available"); err != nil {
			return nil, err
		}
		return nil, failure(es9.StatusBPPNotAvailable(), "the profile is no longer available for this order")
	}
	if err != nil {
		return nil, err
	}
	s.log.Info("bound profile package delivered", "txid", sess.TxID, "iccid", sess.ICCID, "bytes", len(bpp),
		"replaceSessionKeys", s.cfg.ReplaceSessionKeys)
	return es9.GetBoundProfilePackageResponse{
		Header:              es9.Success(),
		TransactionID:       sess.TxID,
		BoundProfilePackage: bpp,
	}, nil
}

// checkCC compares hashCc with the order's confirmation code, counting wrong
// codes; the last allowed wrong code puts the order in error. Every failure
// ends the session (the eUICC's PrepareDownload is spent).
func (s *Server) checkCC(ctx context.Context, sess sessionRow, txid, hashCC []byte) error {
	if len(hashCC) == 0 {
		if err := s.endAndRelease(ctx, sess, sessFailed, "confirmation code missing"); err != nil {
			return err
		}
		return failure(es9.StatusConfirmationCodeMissing(), "a confirmation code is required")
	}
	var st es9.Status
	var attempts int
	err := s.db.tx(ctx, func(tx *sql.Tx) error {
		p, err := s.db.profile(ctx, tx, sess.ICCID)
		if err != nil {
			return err
		}
		h := sha256.New()
		h.Write(p.CCHash)
		h.Write(txid)
		if p.CCHash != nil && subtle.ConstantTimeCompare(h.Sum(nil), hashCC) == 1 {
			return nil
		}
		attempts = p.CCAttempts + 1
		st = es9.StatusConfirmationCodeRefused()
		reason := "wrong confirmation code"
		if attempts >= s.cfg.MaxCCAttempts {
			st, reason = es9.StatusConfirmationCodeRetriesExceeded(), endCCExceeded
			if _, err := s.db.transition(ctx, tx, p.ICCID, EventCCExhausted, s.now(), func(p *profileRow) error {
				p.CCAttempts, p.ErrorReason = attempts, errorReasonCC
				return nil
			}); err != nil {
				return err
			}
		} else if err := s.db.setCCAttempts(ctx, tx, p.ICCID, attempts, s.now()); err != nil {
			return err
		}
		return s.db.endSession(ctx, tx, sess, sessFailed, reason, s.now())
	})
	if err != nil {
		if errors.Is(err, ErrInvalidTransition) || errors.Is(err, ErrConflict) {
			return failure(es9.StatusBPPNotAvailable(), "the profile is no longer available for this order")
		}
		return err
	}
	if st == (es9.Status{}) {
		return nil
	}
	s.log.Info("confirmation code refused", "txid", sess.TxID, "iccid", sess.ICCID, "attempts", attempts,
		"max", s.cfg.MaxCCAttempts)
	return failure(st, "confirmation code refused (attempt %d of %d)", attempts, s.cfg.MaxCCAttempts)
}

// buildBPP binds the order's profile package to the session: a one-time
// key pair, InitialiseSecureChannel signed with DPpb, session keys from ECKA
// with otPK.EUICC.ECKA and the EID, then ConfigureISDP, StoreMetadata,
// optionally ReplaceSessionKeys, and the profile in 86 segments.
func (s *Server) buildBPP(ctx context.Context, sess sessionRow, txid, euiccOtPK []byte) ([]byte, error) {
	upp, err := s.db.upp(ctx, sess.ICCID)
	if err != nil {
		return nil, err
	}
	otSK, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("smdp: one-time key: %w", err)
	}
	hostID := randomBytes(hostIDLen)
	isc := bsp.NewInitialiseSecureChannel(txid, hostID, otSK.PublicKey().Bytes())
	if isc.Signature, err = pki.SignTR03111(s.pki.DPpb.Key, isc.SignedData(euiccOtPK)); err != nil {
		return nil, fmt.Errorf("smdp: sign InitialiseSecureChannel: %w", err)
	}
	iscBytes, err := isc.Bytes()
	if err != nil {
		return nil, fmt.Errorf("smdp: InitialiseSecureChannel: %w", err)
	}
	shs, err := bsp.ECKA(otSK, euiccOtPK)
	if err != nil {
		return nil, failure(statusEUICCDataInvalid(), "otPK.EUICC.ECKA: %v", err)
	}
	eid, err := rsp.ParseEID(sess.EID)
	if err != nil {
		return nil, fmt.Errorf("smdp: session EID: %w", err)
	}
	keys, err := bsp.DeriveSessionKeys(shs, bsp.KeyTypeAES, bsp.KeyLenAES128, hostID, eid.Encode())
	if err != nil {
		return nil, fmt.Errorf("smdp: session keys: %w", err)
	}
	parts := bsp.BPPParts{
		InitialiseSecureChannel: iscBytes,
		ConfigureISDP:           rsp.ConfigureISDPRequest{DPOID: s.oid}.Encode(),
		StoreMetadata:           sess.Metadata,
		ProfileElements:         bsp.SplitProfile(upp, 0),
	}
	if s.cfg.ReplaceSessionKeys {
		parts.ReplaceKeys = &bsp.SessionKeys{SENC: randomBytes(16), SMAC: randomBytes(16), MCV: randomBytes(16)}
	}
	bpp, err := bsp.BuildBPP(keys, parts)
	if err != nil {
		return nil, fmt.Errorf("smdp: build BPP: %w", err)
	}
	if _, tamper, _ := s.faults.flags(); tamper {
		if err := tamperLastSegment(bpp); err != nil {
			return nil, err
		}
		s.log.Info("fault: BPP segment tampered", "txid", sess.TxID)
	}
	return bpp, nil
}

// tamperLastSegment flips a byte in the middle of the last 86 segment.
func tamperLastSegment(bpp []byte) error {
	segs, err := bsp.Segments(bpp)
	if err != nil {
		return fmt.Errorf("smdp: tamper BPP: %w", err)
	}
	last := segs[len(segs)-1]
	bpp[len(bpp)-len(last)+len(last)/2] ^= 0x5A
	return nil
}

// ---- handleNotification ----

func (s *Server) handleNotification(ctx context.Context, body io.Reader) (any, error) {
	req, err := es9.Decode[es9.HandleNotificationRequest](body, s.cfg.MaxRequestBody)
	if err != nil {
		// Notifications are answered 204 whatever they carry.
		s.log.Warn("undecodable notification", "err", err)
		return nil, nil
	}
	raw := []byte(req.PendingNotification)
	t, _, err := tlv.Decode(raw)
	switch {
	case err != nil:
		s.log.Warn("malformed notification", "err", err)
	case t.Tag == rsp.TagProfileInstallationResult:
		err = s.installNotification(ctx, raw)
	case t.Tag == tagSequence:
		err = s.otherNotification(ctx, raw)
	default:
		s.log.Warn("unknown notification", "tag", t.Tag.String())
	}
	if err != nil && ctx.Err() == nil {
		s.log.Error("processing notification", "err", err)
	}
	return nil, nil
}

// installNotification processes a ProfileInstallationResult: verified with
// the session's eUICC certificate, success marks the profile installed,
// an error releases the order again so that the download can be retried.
func (s *Server) installNotification(ctx context.Context, raw []byte) error {
	rec := notificationRow{Received: s.now(), Kind: "install", Event: rsp.EventInstall.String(), Raw: raw}
	pir, err := rsp.DecodeProfileInstallationResult(raw)
	if err != nil {
		s.log.Warn("malformed ProfileInstallationResult", "err", err)
		rec.Result = "malformed"
		return s.db.insertNotification(ctx, s.db.db, rec)
	}
	rec.Seq, rec.ICCID = pir.Data.Notification.Seq, string(pir.Data.Notification.ICCID)
	rec.TxID = rsp.TransactionIDString(pir.Data.TransactionID)
	result := "success"
	if err := pir.Err(); err != nil {
		result = err.Error()
	}
	rec.Result = result
	sess, err := s.db.session(ctx, s.db.db, rec.TxID)
	if errors.Is(err, ErrNotFound) || (err == nil && sess.EUICCCert == nil) {
		s.log.Warn("install result for an unknown session", "txid", rec.TxID, "result", result)
		return s.db.insertNotification(ctx, s.db.db, rec)
	}
	if err != nil {
		return err
	}
	rec.EID = sess.EID
	if rec.ICCID == "" {
		rec.ICCID = sess.ICCID
	}
	cert, err := x509.ParseCertificate(sess.EUICCCert)
	if err != nil {
		return fmt.Errorf("smdp: stored eUICC certificate: %w", err)
	}
	pub, _ := cert.PublicKey.(*ecdsa.PublicKey)
	if err := pki.VerifyTR03111(pub, pir.Data.Bytes(), pir.Signature); err != nil {
		s.log.Warn("install result with an invalid euiccSignPIR ignored", "txid", rec.TxID)
		return s.db.insertNotification(ctx, s.db.db, rec)
	}
	if len(pir.Data.SMDPOID) > 0 && !pir.Data.SMDPOID.Equal(s.oid) {
		s.log.Warn("install result names another SM-DP+ OID, ignored", "txid", rec.TxID, "oid", pir.Data.SMDPOID.String())
		return s.db.insertNotification(ctx, s.db.db, rec)
	}
	rec.Verified = true
	success := pir.Data.Success != nil
	return s.db.tx(ctx, func(tx *sql.Tx) error {
		if err := s.db.insertNotification(ctx, tx, rec); err != nil {
			return err
		}
		cur, err := s.db.session(ctx, tx, rec.TxID)
		if err != nil {
			return err
		}
		if cur.State.open() {
			to := sessCompleted
			if !success {
				to = sessFailed
			}
			if err := s.db.endSession(ctx, tx, cur, to, "install result: "+result, s.now()); err != nil {
				return err
			}
		}
		p, err := s.db.profile(ctx, tx, sess.ICCID)
		if err != nil {
			return err
		}
		held := p.State == StateDownloaded && p.SessionTxID == sess.TxID
		// A late result (the session expired or was superseded meanwhile)
		// counts if this session did deliver the package.
		late := p.State == StateReleased && sess.OtPKEUICC != nil
		switch {
		case success && (held || late):
			if _, err := s.db.transition(ctx, tx, p.ICCID, EventInstalled, s.now(), func(p *profileRow) error {
				p.DeviceEID, p.SessionTxID = sess.EID, ""
				return nil
			}); err != nil {
				return err
			}
			s.log.Info("profile installed", "txid", sess.TxID, "iccid", p.ICCID, "eid", redactEID(sess.EID))
		case !success && held:
			if _, err := s.db.transition(ctx, tx, p.ICCID, EventInstallFailed, s.now(), func(p *profileRow) error {
				p.DeviceEID, p.SessionTxID = "", ""
				return nil
			}); err != nil {
				return err
			}
			s.log.Info("profile installation failed, order released for a retry", "txid", sess.TxID,
				"iccid", p.ICCID, "result", result)
		default:
			s.log.Info("install result without effect on the order", "txid", sess.TxID, "iccid", p.ICCID,
				"state", string(p.State), "result", result)
		}
		return nil
	})
}

// otherNotification processes an OtherSignedNotification (enable, disable,
// delete): the eUICC chain and the signature are verified and the operation
// is logged and recorded.
func (s *Server) otherNotification(ctx context.Context, raw []byte) error {
	rec := notificationRow{Received: s.now(), Kind: "other", Raw: raw}
	n, err := rsp.DecodeOtherSignedNotification(raw)
	if err != nil {
		s.log.Warn("malformed OtherSignedNotification", "err", err)
		rec.Result = "malformed"
		return s.db.insertNotification(ctx, s.db.db, rec)
	}
	rec.Event, rec.Seq, rec.ICCID = n.TBS.Event.String(), n.TBS.Seq, string(n.TBS.ICCID)
	tbs, err := firstChild(raw, rsp.TagNotificationMetadata)
	if err != nil {
		return s.db.insertNotification(ctx, s.db.db, rec)
	}
	eid, cert, err := pki.VerifyEUICC(n.EUICCCertificate, n.EUMCertificate, s.pki.Roots(), s.now())
	if err != nil {
		s.log.Warn("notification with an invalid eUICC certificate ignored", "event", rec.Event, "err", err)
		rec.Result = "invalid certificate"
		return s.db.insertNotification(ctx, s.db.db, rec)
	}
	rec.EID = eid
	pub, _ := cert.PublicKey.(*ecdsa.PublicKey)
	if err := pki.VerifyTR03111(pub, tbs, n.Signature); err != nil {
		s.log.Warn("notification with an invalid signature ignored", "event", rec.Event, "eid", redactEID(eid))
		rec.Result = "invalid signature"
		return s.db.insertNotification(ctx, s.db.db, rec)
	}
	rec.Verified, rec.Result = true, "ok"
	s.log.Info("profile operation notified", "event", rec.Event, "iccid", rec.ICCID, "seq", rec.Seq,
		"eid", redactEID(eid))
	return s.db.insertNotification(ctx, s.db.db, rec)
}

// firstChild returns the exact bytes of the first child TLV with tag in the
// constructed TLV b.
func firstChild(b []byte, tag tlv.Tag) ([]byte, error) {
	t, err := tlv.DecodeOne(b)
	if err != nil {
		return nil, err
	}
	for rest := t.Value; len(rest) > 0; {
		c, r, err := tlv.Decode(rest)
		if err != nil {
			return nil, err
		}
		if c.Tag == tag {
			return rest[:len(rest)-len(r)], nil
		}
		rest = r
	}
	return nil, fmt.Errorf("%w: %s", tlv.ErrNotFound, tag)
}

// ---- cancelSession ----

func (s *Server) cancelSession(ctx context.Context, body io.Reader) (any, error) {
	req, err := es9.Decode[es9.CancelSessionRequest](body, s.cfg.MaxRequestBody)
	if err != nil {
		return nil, err
	}
	s.sweep(ctx)
	sess, txid, err := s.openSession(ctx, req.TransactionID, "")
	if err != nil {
		return nil, err
	}
	csr, err := rsp.DecodeCancelSessionResponse(req.CancelSessionResponse)
	if err != nil {
		return nil, failure(statusEUICCDataInvalid(), "cancelSessionResponse: %v", err)
	}
	if csr.Ok == nil {
		return nil, failure(es9.StatusEUICCSignatureInvalid(), "the eUICC answered %s: nothing signed", csr.Error)
	}
	signed := *csr.Ok
	if sess.EUICCCert == nil {
		// Before authenticateClient nothing is bound and no eUICC key is
		// known: just end the session.
		if err := s.endAndRelease(ctx, sess, sessCancelled, "cancelled ("+signed.Reason.String()+")"); err != nil {
			return nil, err
		}
		s.log.Info("session cancelled before authentication", "txid", sess.TxID, "reason", signed.Reason.String())
		return es9.CancelSessionResponse{Header: es9.Success()}, nil
	}
	cert, err := x509.ParseCertificate(sess.EUICCCert)
	if err != nil {
		return nil, fmt.Errorf("smdp: stored eUICC certificate: %w", err)
	}
	pub, _ := cert.PublicKey.(*ecdsa.PublicKey)
	if err := pki.VerifyTR03111(pub, signed.Bytes(), csr.Signature); err != nil {
		return nil, failure(es9.StatusEUICCSignatureInvalid(), "euiccCancelSessionSignature does not verify")
	}
	if !bytes.Equal(signed.TransactionID, txid) {
		return nil, failure(es9.StatusTransactionIDUnknown(), "euiccCancelSessionSigned carries another transactionId")
	}
	if !signed.SMDPOID.Equal(s.oid) {
		return nil, failure(es9.StatusInvalidSMDPOID(), "smdpOid %s is not %s", signed.SMDPOID, s.oid)
	}
	if err := s.endAndRelease(ctx, sess, sessCancelled, "cancelled ("+signed.Reason.String()+")"); err != nil {
		return nil, err
	}
	s.log.Info("session cancelled", "txid", sess.TxID, "iccid", sess.ICCID, "reason", signed.Reason.String())
	return es9.CancelSessionResponse{Header: es9.Success()}, nil
}
