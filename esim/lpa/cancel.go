package lpa

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/tlv"
)

// cancelTimeout bounds the cancel calls when the download's own context is
// already done.
const cancelTimeout = 30 * time.Second

// CancelReport says how a download session was ended after a failure.
type CancelReport struct {
	Reason rsp.CancelSessionReason
	// EUICC reports that the eUICC cancelled the session (ES10b
	// CancelSession) and signed the cancellation.
	EUICC bool
	// NoSession reports that the eUICC had no session with this
	// transaction any more (invalidTransactionId): it had already ended
	// it. The SM-DP+ then cannot be sent a signed cancellation; it learns
	// the outcome from the eUICC's installation result when there is one,
	// else its session expires.
	NoSession bool
	// SMDP reports that the SM-DP+ acknowledged cancelSession, or answered
	// that it had no such transaction.
	SMDP bool
	// ResultDelivered reports that an installation result the eUICC had
	// stored for this transaction was sent to the SM-DP+.
	ResultDelivered bool
	// Err is what went wrong while cancelling; nil when both ends are
	// clean.
	Err error
}

// cancel ends the session d.txid on the eUICC and then on the SM-DP+ with
// the eUICC's signed answer. When ctx is already done, a fresh context of
// cancelTimeout carrying ctx's values is used. With afterLoad, an eUICC
// that no longer has the session is asked for an installation result of
// this transaction (e.g. installFailedDueToInterruption after a reset),
// which is then delivered to the SM-DP+.
func (d *downloadRun) cancel(ctx context.Context, reason rsp.CancelSessionReason, afterLoad bool) CancelReport {
	rep := CancelReport{Reason: reason}
	if ctx.Err() != nil {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(context.WithoutCancel(ctx), cancelTimeout)
		defer stop()
	}
	_, raw, err := d.c.CancelSession(ctx, d.txid, reason)
	var re *rsp.ResultError
	switch {
	case errors.As(err, &re) && re.Code == int(rsp.CancelSessionInvalidTransactionID):
		rep.NoSession = true
		d.log.InfoContext(ctx, "the eUICC has no session to cancel", "txid", rsp.TransactionIDString(d.txid))
		if afterLoad {
			if err := d.deliverStoredResult(ctx); err != nil {
				rep.Err = err
			}
			if d.recovered != nil {
				rep.ResultDelivered = d.recovered.delivered
			}
		}
		return rep
	case err != nil:
		rep.Err = fmt.Errorf("eUICC CancelSession: %w", err)
		return rep
	}
	rep.EUICC = true
	err = d.es9.CancelSession(ctx, d.addr, es9.CancelSessionRequest{
		TransactionID: rsp.TransactionIDString(d.txid), CancelSessionResponse: raw,
	})
	switch {
	case err == nil:
		rep.SMDP = true
	case errors.Is(err, es9.StatusTransactionIDUnknown().Err()):
		rep.SMDP = true
		d.log.InfoContext(ctx, "the SM-DP+ had already ended the session", "txid", rsp.TransactionIDString(d.txid))
	default:
		rep.Err = fmt.Errorf("ES9+ cancelSession: %w", err)
	}
	d.log.InfoContext(ctx, "download session cancelled", "reason", reason.String(), "euicc", rep.EUICC, "smdp", rep.SMDP)
	return rep
}

// recoveredResult is an installation result found on the eUICC after its
// answer to the last segment was lost.
type recoveredResult struct {
	pir       rsp.ProfileInstallationResult
	delivered bool
	err       error // delivery error
}

// deliverStoredResult looks among the eUICC's pending install
// notifications for the result of d.txid (the card's answer to a segment
// may have been lost on the way) and, if there is one, keeps it in
// d.recovered and delivers it.
func (d *downloadRun) deliverStoredResult(ctx context.Context) error {
	req := rsp.RetrieveNotificationsListRequest{Events: rsp.EventInstall}
	r, err := exchange(ctx, d.c, rsp.TagRetrieveNotifications, req.Encode(), rsp.DecodeRetrieveNotificationsListResponse)
	if err != nil {
		return fmt.Errorf("looking for the installation result: %w", err)
	}
	if r.Err.Err() != nil {
		return nil // noResultAvailable or similar: nothing stored
	}
	for _, p := range r.Notifications {
		if t, _, err := tlv.ReadTag(p.Raw); err != nil || t != rsp.TagProfileInstallationResult {
			continue
		}
		pir, err := rsp.DecodeProfileInstallationResult(p.Raw)
		if err != nil || !bytes.Equal(pir.Data.TransactionID, d.txid) {
			continue
		}
		d.log.InfoContext(ctx, "found the eUICC's installation result", "txid", rsp.TransactionIDString(d.txid), "ok", pir.Err() == nil)
		delivered, err := d.deliverResult(ctx, pir, p.Raw)
		d.recovered = &recoveredResult{pir: pir, delivered: delivered, err: err}
		return nil
	}
	return nil
}

// deliverResult sends an installation result to the SM-DP+ named in it
// (else the download's) and removes it from the eUICC once acknowledged.
func (d *downloadRun) deliverResult(ctx context.Context, pir rsp.ProfileInstallationResult, raw []byte) (bool, error) {
	addr := pir.Data.Notification.Address
	if addr == "" {
		addr = d.addr
	}
	err := d.c.deliver(ctx, d.es9, addr, raw, pir.Data.Notification.Seq, true)
	if err != nil {
		d.log.WarnContext(ctx, "installation result not delivered; it stays on the eUICC", "seq", pir.Data.Notification.Seq, "error", err)
		return false, err
	}
	return true, nil
}
