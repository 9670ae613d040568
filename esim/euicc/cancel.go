package euicc

import (
	"bytes"
	"errors"
	"slices"

	"github.com/mobileplans/mobileplans/esim/rsp"
)

// cancelSession implements ES10b.CancelSession (sgp22.md 2.1, 4.8): for
// the current session's transactionId it signs euiccCancelSessionSigned
// (transactionId, the SM-DP+ OID, the reason) and ends the session,
// dropping anything staged; otherwise it answers invalidTransactionId.
func (c *Card) cancelSession(req []byte) (es10Result, error) {
	r, err := rsp.DecodeCancelSessionRequest(req)
	if err != nil {
		return es10Result{}, err
	}
	fail := func(code rsp.CancelSessionErrorCode, err error) (es10Result, error) {
		c.log.Info("CancelSession refused", "code", code.String(), "err", err)
		return ok(rsp.CancelSessionResponse{Error: code}.Encode()), nil
	}
	s := c.sess
	if s == nil || !bytes.Equal(s.txid, r.TransactionID) {
		return fail(rsp.CancelSessionInvalidTransactionID, errors.New("no session with this transactionId"))
	}
	signed := rsp.EUICCCancelSessionSigned{
		TransactionID: bytes.Clone(s.txid),
		SMDPOID:       slices.Clone(s.smdpOID),
		Reason:        r.Reason,
	}
	signed.Raw = signed.Bytes()
	sig, err := signPlain(c.creds.Key, c.rand, signed.Raw)
	if err != nil {
		return fail(rsp.CancelSessionUndefinedError, err)
	}
	c.endSession("cancelled: " + r.Reason.String())
	return ok(rsp.CancelSessionResponse{Ok: &signed, Signature: sig}.Encode()), nil
}
