package lpa

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/bsp"
	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/tlv"
)

// Stage is the phase of a download reported through Progress.
type Stage int

// Download stages, in order.
const (
	// StageAuthenticating: challenge, initiateAuthentication,
	// AuthenticateServer, authenticateClient.
	StageAuthenticating Stage = iota + 1
	// StageAuthenticated: the SM-DP+ sent the profile metadata; the user
	// is asked to confirm (DownloadOptions.Confirm).
	StageAuthenticated
	// StageDownloading: PrepareDownload and getBoundProfilePackage.
	StageDownloading
	// StageInstalling: the BPP segments go to the eUICC (Done of Total).
	StageInstalling
	// StageDone: the profile is installed.
	StageDone
)

// String names the stage.
func (s Stage) String() string {
	switch s {
	case StageAuthenticating:
		return "authenticating"
	case StageAuthenticated:
		return "authenticated"
	case StageDownloading:
		return "downloading"
	case StageInstalling:
		return "installing"
	case StageDone:
		return "done"
	}
	return fmt.Sprintf("Stage(%d)", int(s))
}

// Progress is one progress event of Download.
type Progress struct {
	Stage Stage
	// Done and Total count BPP segments during StageInstalling; otherwise
	// Total is 0, or 1 with Done 0/1 around a single long step.
	Done, Total int
	// Message is a short human-readable description ("installing 3/14").
	Message string
}

// DownloadOptions configure Client.Download.
type DownloadOptions struct {
	// ConfirmationCode is required when the activation code or the SM-DP+
	// says so; Download then fails early with ErrConfirmationCodeRequired.
	ConfirmationCode string
	// DeviceInfo goes into ctxParams1. A zero TAC is replaced by
	// DefaultTAC.
	DeviceInfo rsp.DeviceInfo
	// Progress, when set, is called synchronously at every step.
	Progress func(Progress)
	// Confirm, when set, is asked to accept the profile metadata before
	// anything is prepared on the eUICC. An error cancels the session with
	// reason endUserRejection, or metadataMismatch when it wraps
	// ErrMetadataMismatch.
	Confirm func(ctx context.Context, metadata rsp.StoreMetadataRequest) error
	// BPPCache, when set, keeps the downloaded BPP until it is installed;
	// see BPPCache for what that can and cannot recover.
	BPPCache *BPPCache
}

// DownloadResult describes an installed profile.
type DownloadResult struct {
	ICCID rsp.ICCID
	// ISDPAID is the AID of the new profile's ISD-P.
	ISDPAID []byte
	// Metadata is the profile metadata the SM-DP+ sent.
	Metadata rsp.StoreMetadataRequest
	// TransactionID of the download session.
	TransactionID []byte
	// NotificationDelivered reports that the SM-DP+ acknowledged the
	// installation result and it was removed from the eUICC. When false,
	// NotificationErr says why; the notification stays on the card for
	// ProcessNotifications.
	NotificationDelivered bool
	NotificationErr       error
	// FromCache reports that a cached BPP of an earlier attempt was
	// installed.
	FromCache bool
	// BPPBytes and Segments describe the bound profile package.
	BPPBytes, Segments int
	// APDUs, BytesOut and BytesIn count the ES10 traffic of this download.
	APDUs, BytesOut, BytesIn int64
}

// Step names the part of a download that failed.
type Step string

// Download steps.
const (
	StepAddress                 Step = "GetEuiccConfiguredAddresses"
	StepChallenge               Step = "GetEUICCChallenge"
	StepEUICCInfo1              Step = "GetEUICCInfo1"
	StepInitiateAuthentication  Step = "initiateAuthentication"
	StepAuthenticateServer      Step = "AuthenticateServer"
	StepAuthenticateClient      Step = "authenticateClient"
	StepConfirmationCode        Step = "confirmation code"
	StepConfirm                 Step = "confirm"
	StepPrepareDownload         Step = "PrepareDownload"
	StepGetBoundProfilePackage  Step = "getBoundProfilePackage"
	StepLoadBoundProfilePackage Step = "LoadBoundProfilePackage"
)

// Errors of Download, wrapped in a *DownloadError.
var (
	// ErrConfirmationCodeRequired: the activation code or the SM-DP+ asks
	// for a confirmation code and DownloadOptions.ConfirmationCode is empty.
	ErrConfirmationCodeRequired = errors.New("lpa: confirmation code required")
	// ErrMetadataMismatch may be wrapped by DownloadOptions.Confirm to
	// reject metadata that does not match what was ordered.
	ErrMetadataMismatch = errors.New("lpa: profile metadata does not match the order")
	// ErrCancelledByUser, as the cause of the download context
	// (context.WithCancelCause), makes the cancel reason endUserRejection
	// instead of postponed.
	ErrCancelledByUser = errors.New("lpa: download cancelled by the user")
	// ErrNoSMDPAddress: the activation code has no SM-DP+ address and the
	// eUICC has no default SM-DP+ address.
	ErrNoSMDPAddress = errors.New("lpa: no SM-DP+ address in the activation code and no default on the eUICC")
	// ErrServerResponse: an SM-DP+ answer was inconsistent or malformed.
	ErrServerResponse = errors.New("lpa: invalid SM-DP+ response")
	// ErrNoInstallResult: the eUICC took every segment but returned no
	// ProfileInstallationResult.
	ErrNoInstallResult = errors.New("lpa: eUICC returned no profile installation result")
)

// DownloadError is a failed Download. Err says what failed (errors.Is/As
// reach the cause: *rsp.ResultError, *rsp.InstallError, *es9.Error,
// *TransportError, context errors, ErrConfirmationCodeRequired, ...).
type DownloadError struct {
	Step          Step
	Err           error
	TransactionID []byte // nil before initiateAuthentication
	// Cancel reports how the session was ended after the failure; nil when
	// no eUICC session had been opened (or the eUICC ended it itself with
	// a profile installation result).
	Cancel *CancelReport
}

func (e *DownloadError) Error() string {
	s := fmt.Sprintf("download: %s: %v", e.Step, e.Err)
	if e.Cancel != nil && e.Cancel.Err != nil {
		s += fmt.Sprintf(" (cancelling the session (%s) failed: %v)", e.Cancel.Reason, e.Cancel.Err)
	}
	return s
}

// Unwrap returns the cause.
func (e *DownloadError) Unwrap() error { return e.Err }

// DefaultTAC is the deviceInfo TAC sent when DownloadOptions.DeviceInfo has
// none: the value lpac sends without an IMEI (sgp22.md 2.3); SM-DP+ servers
// do not validate it.
func DefaultTAC() [4]byte { return [4]byte{0x35, 0x29, 0x06, 0x11} }

// downloadRun is the state of one Download call.
type downloadRun struct {
	c    *Client
	es9  *ES9Client
	ac   ActivationCode
	opts DownloadOptions
	log  *slog.Logger

	addr    string // SM-DP+ address in use
	txid    []byte
	session bool // the eUICC has (or may have) a session for txid
	before  Stats
	// recovered is the eUICC's installation result found after a failed
	// load (see deliverStoredResult).
	recovered *recoveredResult
}

// Download installs the profile of an activation code (sgp22.md 4.3):
// GetEUICCChallenge and GetEUICCInfo1, ES9+ initiateAuthentication,
// AuthenticateServer, ES9+ authenticateClient, the user's confirmation,
// PrepareDownload (with hashCc when a confirmation code is required), ES9+
// getBoundProfilePackage, then the BPP segment by segment. The installation
// result is sent to the SM-DP+ and removed from the card once acknowledged.
//
// On any failure after AuthenticateServer the session is cancelled on the
// eUICC (ES10b.CancelSession: endUserRejection when the user declined or
// the context's cause is ErrCancelledByUser, metadataMismatch, postponed for
// a cancelled context, timeout for an expired deadline, loadBppExecutionError
// for BPP load failures, undefinedReason otherwise) and then on the SM-DP+
// with the signed result (ES9+ cancelSession), using a fresh short context
// if ctx is already done. The eUICC then holds no session and no partial
// profile, so the same activation code can be tried again. A failure the
// eUICC reports in its installation result (*rsp.InstallError) needs no
// cancel: the eUICC has already discarded the profile, and the result is
// still sent to the SM-DP+. Should the eUICC's answer to the last segment
// be lost, its stored installation result is looked up and, if it reports
// success, the download succeeds. Errors are *DownloadError.
//
// A download is a sequence of ES10 commands that belong together: do not
// run two Downloads, or other state-changing ES10 calls, on the same card
// at the same time.
func (c *Client) Download(ctx context.Context, es9c *ES9Client, ac ActivationCode, opts DownloadOptions) (*DownloadResult, error) {
	if es9c == nil {
		return nil, errors.New("lpa: Download: nil ES9Client")
	}
	d := &downloadRun{c: c, es9: es9c, ac: ac, opts: opts, log: c.log, before: c.Stats()}
	if d.opts.DeviceInfo.TAC == [4]byte{} {
		d.opts.DeviceInfo.TAC = DefaultTAC()
	}
	if ac.ConfirmationCodeRequired && opts.ConfirmationCode == "" {
		return nil, &DownloadError{Step: StepConfirmationCode, Err: ErrConfirmationCodeRequired}
	}
	d.progress(StageAuthenticating, 0, 0, "authenticating")
	d.addr = ac.SMDPAddress
	if d.addr == "" {
		a, err := c.ConfiguredAddresses(ctx)
		if err != nil {
			return nil, &DownloadError{Step: StepAddress, Err: err}
		}
		if a.DefaultDPAddress == "" {
			return nil, &DownloadError{Step: StepAddress, Err: ErrNoSMDPAddress}
		}
		d.addr = a.DefaultDPAddress
	}
	c.log.InfoContext(ctx, "download", "activation_code", ac, "smdp", d.addr)
	if opts.BPPCache != nil {
		res, done, err := d.fromCache(ctx)
		if done {
			return res, err
		}
	}
	return d.run(ctx)
}

func (d *downloadRun) progress(s Stage, done, total int, msg string) {
	if d.opts.Progress != nil {
		d.opts.Progress(Progress{Stage: s, Done: done, Total: total, Message: msg})
	}
}

// fail builds the DownloadError for a failed step and, when the eUICC may
// hold a session, cancels it on both sides with a reason derived from ctx
// and err (def when neither decides).
func (d *downloadRun) fail(ctx context.Context, step Step, err error, def rsp.CancelSessionReason) error {
	de := &DownloadError{Step: step, Err: err, TransactionID: d.txid}
	if d.session {
		rep := d.cancel(ctx, cancelReason(ctx, err, def), step == StepLoadBoundProfilePackage)
		de.Cancel = &rep
		d.session = false
		if rep.EUICC || rep.NoSession {
			// The eUICC holds no session any more: a kept BPP is useless.
			// Otherwise (the card was unreachable) it may still hold it,
			// and the next attempt tries the kept BPP first.
			d.dropCache(ctx)
		}
	}
	d.log.InfoContext(ctx, "download failed", "step", string(step), "error", err)
	return de
}

// cancelReason picks the CancelSession reason for a failure.
func cancelReason(ctx context.Context, err error, def rsp.CancelSessionReason) rsp.CancelSessionReason {
	switch {
	case errors.Is(err, ErrCancelledByUser) || (ctx.Err() != nil && errors.Is(context.Cause(ctx), ErrCancelledByUser)):
		return rsp.CancelEndUserRejection
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return rsp.CancelTimeout
	case ctx.Err() != nil:
		return rsp.CancelPostponed
	case errors.Is(err, context.DeadlineExceeded):
		return rsp.CancelTimeout // a per-request timeout
	case errors.Is(err, context.Canceled):
		return rsp.CancelPostponed
	}
	return def
}

// fromCache tries a BPP kept by an earlier, interrupted attempt with the
// same SM-DP+ and matching ID. done is false when there is none or the
// eUICC no longer has its session; the caller then starts a new session.
func (d *downloadRun) fromCache(ctx context.Context) (*DownloadResult, bool, error) {
	e, ok, err := d.opts.BPPCache.Get(d.addr, d.ac.MatchingID)
	if err != nil {
		d.log.WarnContext(ctx, "dropping an unreadable cached BPP", "error", err)
		d.dropCache(ctx)
		return nil, false, nil
	}
	if !ok {
		return nil, false, nil
	}
	md, err := rsp.DecodeStoreMetadataRequest(e.ProfileMetadata)
	if err != nil || len(e.TransactionID) == 0 {
		d.log.WarnContext(ctx, "dropping a cached BPP without usable metadata", "error", err)
		d.dropCache(ctx)
		return nil, false, nil
	}
	d.txid = bytes.Clone(e.TransactionID)
	d.session = true
	d.log.InfoContext(ctx, "trying the BPP kept from an interrupted download", "txid", rsp.TransactionIDString(d.txid))
	d.progress(StageAuthenticated, 0, 0, describeProfile(md))
	if d.opts.Confirm != nil {
		if err := d.opts.Confirm(ctx, md); err != nil {
			reason := rsp.CancelEndUserRejection
			if errors.Is(err, ErrMetadataMismatch) {
				reason = rsp.CancelMetadataMismatch
			}
			return nil, true, d.fail(ctx, StepConfirm, err, reason)
		}
	}
	res, done, err := d.load(ctx, e.BPP, md, true)
	if !done {
		d.txid, d.session = nil, false
	}
	return res, done, err
}

// dropCache forgets the kept BPP of this download, if any.
func (d *downloadRun) dropCache(ctx context.Context) {
	if d.opts.BPPCache == nil {
		return
	}
	if err := d.opts.BPPCache.Delete(d.addr, d.ac.MatchingID); err != nil {
		d.log.WarnContext(ctx, "removing the kept BPP failed", "error", err)
	}
}

// run is a download with a new session.
func (d *downloadRun) run(ctx context.Context) (*DownloadResult, error) {
	c := d.c
	challenge, err := c.Challenge(ctx)
	if err != nil {
		return nil, d.fail(ctx, StepChallenge, err, rsp.CancelUndefinedReason)
	}
	_, info1, err := c.EUICCInfo1Raw(ctx)
	if err != nil {
		return nil, d.fail(ctx, StepEUICCInfo1, err, rsp.CancelUndefinedReason)
	}
	ia, err := d.es9.InitiateAuthentication(ctx, d.addr, es9.InitiateAuthenticationRequest{
		SMDPAddress: d.addr, EUICCChallenge: challenge, EUICCInfo1: info1,
	})
	if err != nil {
		return nil, d.fail(ctx, StepInitiateAuthentication, err, rsp.CancelUndefinedReason)
	}
	asReq, err := d.authenticateServerRequest(ia, challenge)
	if err != nil {
		return nil, d.fail(ctx, StepInitiateAuthentication, err, rsp.CancelUndefinedReason)
	}

	_, asRaw, err := c.AuthenticateServer(ctx, asReq)
	var re *rsp.ResultError
	if !errors.As(err, &re) {
		// Success, or a transport failure after which the card may hold
		// the session: from here on failures cancel it.
		d.session = true
	}
	if err != nil {
		return nil, d.fail(ctx, StepAuthenticateServer, err, rsp.CancelUndefinedReason)
	}

	acResp, err := d.es9.AuthenticateClient(ctx, d.addr, es9.AuthenticateClientRequest{
		TransactionID: rsp.TransactionIDString(d.txid), AuthenticateServerResponse: asRaw,
	})
	if err != nil {
		return nil, d.fail(ctx, StepAuthenticateClient, err, rsp.CancelUndefinedReason)
	}
	md, pdReq, err := d.prepareDownloadRequest(acResp)
	if err != nil {
		return nil, d.fail(ctx, StepAuthenticateClient, err, rsp.CancelUndefinedReason)
	}
	d.progress(StageAuthenticated, 0, 0, describeProfile(md))

	if pdReq.SMDPSigned2.CCRequired {
		if d.opts.ConfirmationCode == "" {
			return nil, d.fail(ctx, StepConfirmationCode, ErrConfirmationCodeRequired, rsp.CancelPostponed)
		}
		pdReq.HashCC = rsp.HashCC(d.opts.ConfirmationCode, d.txid)
	}
	if d.opts.Confirm != nil {
		if err := d.opts.Confirm(ctx, md); err != nil {
			reason := rsp.CancelEndUserRejection
			if errors.Is(err, ErrMetadataMismatch) {
				reason = rsp.CancelMetadataMismatch
			}
			return nil, d.fail(ctx, StepConfirm, err, reason)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, d.fail(ctx, StepConfirm, context.Cause(ctx), rsp.CancelPostponed)
	}

	d.progress(StageDownloading, 0, 1, "preparing the download")
	_, pdRaw, err := c.PrepareDownload(ctx, pdReq)
	if err != nil {
		return nil, d.fail(ctx, StepPrepareDownload, err, rsp.CancelUndefinedReason)
	}
	bpResp, err := d.es9.GetBoundProfilePackage(ctx, d.addr, es9.GetBoundProfilePackageRequest{
		TransactionID: rsp.TransactionIDString(d.txid), PrepareDownloadResponse: pdRaw,
	})
	if err != nil {
		return nil, d.fail(ctx, StepGetBoundProfilePackage, err, rsp.CancelUndefinedReason)
	}
	if bpResp.TransactionID != "" && !sameTxID(bpResp.TransactionID, d.txid) {
		return nil, d.fail(ctx, StepGetBoundProfilePackage,
			fmt.Errorf("%w: transactionId %s, want %s", ErrServerResponse, truncate(bpResp.TransactionID, 40), rsp.TransactionIDString(d.txid)),
			rsp.CancelUndefinedReason)
	}
	bpp := []byte(bpResp.BoundProfilePackage)
	d.progress(StageDownloading, 1, 1, fmt.Sprintf("downloaded %d bytes", len(bpp)))
	if d.opts.BPPCache != nil {
		entry := CachedBPP{SMDPAddress: d.addr, TransactionID: d.txid, ProfileMetadata: acResp.ProfileMetadata, BPP: bpp}
		if err := d.opts.BPPCache.Put(d.addr, d.ac.MatchingID, entry); err != nil {
			d.log.WarnContext(ctx, "keeping the BPP failed", "error", err)
		}
	}
	res, _, err := d.load(ctx, bpp, md, false)
	return res, err
}

// authenticateServerRequest checks the initiateAuthentication answer and
// builds the AuthenticateServer request from it; it sets d.txid.
func (d *downloadRun) authenticateServerRequest(ia es9.InitiateAuthenticationResponse, challenge []byte) (rsp.AuthenticateServerRequest, error) {
	txid, err := rsp.ParseTransactionID(ia.TransactionID)
	if err != nil {
		return rsp.AuthenticateServerRequest{}, fmt.Errorf("%w: transactionId: %w", ErrServerResponse, err)
	}
	d.txid = txid
	ss1, err := rsp.DecodeServerSigned1(ia.ServerSigned1)
	if err != nil {
		return rsp.AuthenticateServerRequest{}, fmt.Errorf("%w: serverSigned1: %w", ErrServerResponse, err)
	}
	if !bytes.Equal(ss1.TransactionID, txid) {
		return rsp.AuthenticateServerRequest{}, fmt.Errorf("%w: serverSigned1 transactionId %X differs from %X", ErrServerResponse, ss1.TransactionID, txid)
	}
	if !bytes.Equal(ss1.EUICCChallenge[:], challenge) {
		return rsp.AuthenticateServerRequest{}, fmt.Errorf("%w: serverSigned1 does not carry the eUICC challenge", ErrServerResponse)
	}
	sig, err := unwrapTLV(ia.ServerSignature1, 0x5F37, 64)
	if err != nil {
		return rsp.AuthenticateServerRequest{}, fmt.Errorf("%w: serverSignature1: %w", ErrServerResponse, err)
	}
	ci, err := unwrapTLV(ia.EUICCCIPKIDToBeUsed, 0x04, 20)
	if err != nil {
		return rsp.AuthenticateServerRequest{}, fmt.Errorf("%w: euiccCiPKIdToBeUsed: %w", ErrServerResponse, err)
	}
	if len(ia.ServerCertificate) == 0 {
		return rsp.AuthenticateServerRequest{}, fmt.Errorf("%w: no serverCertificate", ErrServerResponse)
	}
	return rsp.AuthenticateServerRequest{
		ServerSigned1:     ss1,
		ServerSignature1:  sig,
		CIPKIDToBeUsed:    ci,
		ServerCertificate: ia.ServerCertificate,
		CtxParams1: rsp.CtxParams1{
			MatchingID:    d.ac.MatchingID,
			HasMatchingID: d.ac.MatchingID != "",
			DeviceInfo:    d.opts.DeviceInfo,
		},
	}, nil
}

// prepareDownloadRequest checks the authenticateClient answer and builds
// the PrepareDownload request (without hashCc) from it.
func (d *downloadRun) prepareDownloadRequest(r es9.AuthenticateClientResponse) (rsp.StoreMetadataRequest, rsp.PrepareDownloadRequest, error) {
	var none rsp.PrepareDownloadRequest
	if r.TransactionID != "" && !sameTxID(r.TransactionID, d.txid) {
		return rsp.StoreMetadataRequest{}, none, fmt.Errorf("%w: transactionId %s, want %s", ErrServerResponse, truncate(r.TransactionID, 40), rsp.TransactionIDString(d.txid))
	}
	md, err := rsp.DecodeStoreMetadataRequest(r.ProfileMetadata)
	if err != nil {
		return rsp.StoreMetadataRequest{}, none, fmt.Errorf("%w: profileMetadata: %w", ErrServerResponse, err)
	}
	s2, err := rsp.DecodeSMDPSigned2(r.SMDPSigned2)
	if err != nil {
		return rsp.StoreMetadataRequest{}, none, fmt.Errorf("%w: smdpSigned2: %w", ErrServerResponse, err)
	}
	if !bytes.Equal(s2.TransactionID, d.txid) {
		return rsp.StoreMetadataRequest{}, none, fmt.Errorf("%w: smdpSigned2 transactionId %X differs from %X", ErrServerResponse, s2.TransactionID, d.txid)
	}
	sig, err := unwrapTLV(r.SMDPSignature2, 0x5F37, 64)
	if err != nil {
		return rsp.StoreMetadataRequest{}, none, fmt.Errorf("%w: smdpSignature2: %w", ErrServerResponse, err)
	}
	if len(r.SMDPCertificate) == 0 {
		return rsp.StoreMetadataRequest{}, none, fmt.Errorf("%w: no smdpCertificate", ErrServerResponse)
	}
	return md, rsp.PrepareDownloadRequest{SMDPSigned2: s2, SMDPSignature2: sig, SMDPCertificate: r.SMDPCertificate}, nil
}

// load sends the BPP segment by segment and handles the installation
// result. For a cached BPP (cached), a refusal at the first segment means
// the eUICC no longer has that session: done is then false, the cache entry
// is dropped, and the caller starts a new session.
func (d *downloadRun) load(ctx context.Context, bpp []byte, md rsp.StoreMetadataRequest, cached bool) (res *DownloadResult, done bool, err error) {
	c := d.c
	segs, err := bsp.Segments(bpp)
	if err != nil {
		if cached {
			d.log.WarnContext(ctx, "dropping an unusable cached BPP", "error", err)
			d.dropCache(ctx)
			d.session = false
			return nil, false, nil
		}
		return nil, true, d.fail(ctx, StepLoadBoundProfilePackage, fmt.Errorf("%w: bound profile package: %w", ErrServerResponse, err), rsp.CancelLoadBPPExecutionError)
	}
	n := len(segs)
	d.progress(StageInstalling, 0, n, fmt.Sprintf("installing 0/%d", n))
	var result []byte
	at := 0 // index of the segment that produced the result
	for i, s := range segs {
		r, err := c.LoadBoundProfilePackage(ctx, s)
		if err != nil {
			var ste *apdu.StatusError
			if cached && i == 0 && errors.As(err, &ste) {
				d.log.InfoContext(ctx, "the eUICC refused the cached BPP; starting a new session", "error", err)
				d.dropCache(ctx)
				d.session = false
				return nil, false, nil
			}
			ferr := d.fail(ctx, StepLoadBoundProfilePackage, fmt.Errorf("segment %d of %d: %w", i+1, n, err), rsp.CancelLoadBPPExecutionError)
			if r := d.recovered; r != nil {
				if ierr := r.pir.Err(); ierr != nil {
					de := ferr.(*DownloadError)
					de.Err = fmt.Errorf("%w; the eUICC's result: %w", de.Err, ierr)
					return nil, true, de
				}
				// The card installed the profile; only its answer was lost.
				d.log.InfoContext(ctx, "the eUICC installed the profile although its answer was lost", "error", err)
				d.dropCache(ctx)
				return d.installed(ctx, r.pir, md, len(bpp), n, cached, r.delivered, r.err), true, nil
			}
			return nil, true, ferr
		}
		d.progress(StageInstalling, i+1, n, fmt.Sprintf("installing %d/%d", i+1, n))
		if r != nil {
			result, at = r, i
			break
		}
	}
	if result == nil {
		return nil, true, d.fail(ctx, StepLoadBoundProfilePackage, ErrNoInstallResult, rsp.CancelLoadBPPExecutionError)
	}
	// The eUICC ends the session with its result (success or failure).
	d.session = false
	d.dropCache(ctx)
	pir, err := rsp.DecodeProfileInstallationResult(result)
	if err != nil {
		return nil, true, &DownloadError{Step: StepLoadBoundProfilePackage, TransactionID: d.txid,
			Err: fmt.Errorf("segment %d of %d: profile installation result: %w", at+1, n, err)}
	}
	if !bytes.Equal(pir.Data.TransactionID, d.txid) {
		d.log.WarnContext(ctx, "installation result names another transaction", "txid", rsp.TransactionIDString(pir.Data.TransactionID))
	}
	delivered, nerr := d.deliverResult(ctx, pir, result)
	if ierr := pir.Err(); ierr != nil {
		if cached && at == 0 {
			// The eUICC checked the cached BPP's first segment against its
			// session and refused it; its result, now delivered, closes the
			// old session on the SM-DP+. Start afresh.
			d.log.InfoContext(ctx, "the eUICC refused the cached BPP; starting a new session", "error", ierr)
			return nil, false, nil
		}
		return nil, true, &DownloadError{Step: StepLoadBoundProfilePackage, TransactionID: d.txid,
			Err: fmt.Errorf("segment %d of %d: %w", at+1, n, ierr)}
	}
	if at != n-1 {
		d.log.WarnContext(ctx, "eUICC reported success before the last segment", "segment", at+1, "segments", n)
	}
	return d.installed(ctx, pir, md, len(bpp), n, cached, delivered, nerr), true, nil
}

// installed builds the result of a successful installation.
func (d *downloadRun) installed(ctx context.Context, pir rsp.ProfileInstallationResult, md rsp.StoreMetadataRequest,
	bppBytes, segments int, cached, delivered bool, nerr error) *DownloadResult {
	st := d.c.Stats()
	res := &DownloadResult{
		ICCID:                 md.ICCID,
		Metadata:              md,
		TransactionID:         d.txid,
		NotificationDelivered: delivered,
		NotificationErr:       nerr,
		FromCache:             cached,
		BPPBytes:              bppBytes,
		Segments:              segments,
		APDUs:                 st.APDUs - d.before.APDUs,
		BytesOut:              st.BytesOut - d.before.BytesOut,
		BytesIn:               st.BytesIn - d.before.BytesIn,
	}
	if pir.Data.Success != nil {
		res.ISDPAID = bytes.Clone(pir.Data.Success.AID)
	}
	if res.ICCID == "" {
		res.ICCID = pir.Data.Notification.ICCID
	}
	d.progress(StageDone, segments, segments, "installed")
	d.log.InfoContext(ctx, "profile installed", "iccid", res.ICCID, "segments", segments, "bpp_bytes", bppBytes,
		"notification_delivered", delivered)
	return res
}

// describeProfile is the progress message after authentication.
func describeProfile(md rsp.StoreMetadataRequest) string {
	switch {
	case md.ProfileName != "" && md.ServiceProviderName != "":
		return fmt.Sprintf("profile %q from %q", md.ProfileName, md.ServiceProviderName)
	case md.ProfileName != "":
		return fmt.Sprintf("profile %q", md.ProfileName)
	}
	return "profile " + string(md.ICCID)
}

// sameTxID compares a JSON transactionId with the raw one.
func sameTxID(s string, txid []byte) bool {
	b, err := rsp.ParseTransactionID(s)
	return err == nil && bytes.Equal(b, txid)
}

// unwrapTLV returns the value of a TLV with the given tag (e.g. the 64
// bytes of "5F37 40 r||s"). A value of exactly rawLen bytes that is not
// such a TLV is accepted as already unwrapped, for servers that send the
// bare value.
func unwrapTLV(b []byte, tag tlv.Tag, rawLen int) ([]byte, error) {
	t, err := tlv.DecodeOne(b)
	if err == nil && t.Tag == tag {
		if len(t.Value) == 0 {
			return nil, fmt.Errorf("empty %s", tag)
		}
		return bytes.Clone(t.Value), nil
	}
	if len(b) == rawLen {
		return bytes.Clone(b), nil
	}
	if err != nil {
		return nil, fmt.Errorf("not a %s TLV: %w", tag, err)
	}
	return nil, fmt.Errorf("tag %s, want %s", t.Tag, tag)
}
