package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"syscall"
	"testing"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/modem/at"
	"github.com/mobileplans/mobileplans/ui/portal"
)

// timeoutErr is a net.Error that timed out.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	dl := func(step lpa.Step, err error) error { return &lpa.DownloadError{Step: step, Err: err} }
	es := func(s es9.Status) error {
		return dl(lpa.StepAuthenticateClient, fmt.Errorf("authenticateClient: %w", s.Err()))
	}
	tr := func(status int, err error) error {
		return dl(lpa.StepInitiateAuthentication, &lpa.TransportError{Function: "initiateAuthentication", Host: "smdp.example", StatusCode: status, Err: err})
	}
	install := func(r rsp.InstallErrorReason) error {
		return dl(lpa.StepLoadBoundProfilePackage, &rsp.InstallError{Command: rsp.BPPLoadProfileElements, Reason: r})
	}
	tests := []struct {
		name      string
		err       error
		result    portal.ActivationResult
		status    OperationStatus
		transient bool
	}{
		{"success", nil, portal.ActivationSuccess, StatusSuccess, false},
		{"matching ID refused 8.2.6/3.8", es(es9.StatusMatchingIDRefused()), portal.ActivationInvalidMatchingID, StatusInvalidMatchingID, false},
		{"matching ID, other reason", es(es9.Status{Subject: "8.2.6", Reason: "1.2"}), portal.ActivationInvalidMatchingID, StatusInvalidMatchingID, false},
		{"EID refused 8.1.1/3.8", es(es9.StatusEIDRefused()), portal.ActivationEIDMismatch, StatusEIDMismatch, false},
		{"confirmation code missing 8.2.7/2.2", es(es9.StatusConfirmationCodeMissing()), portal.ActivationConfirmationCodeMissing, StatusConfirmationCodeMissing, false},
		{"confirmation code refused 8.2.7/3.8", es(es9.StatusConfirmationCodeRefused()), portal.ActivationIncorrectConfirmationCode, StatusIncorrectConfirmationCode, false},
		{"confirmation code retries 8.2.7/6.4", es(es9.StatusConfirmationCodeRetriesExceeded()), portal.ActivationConfirmationCodeMaxRetriesExceeded,
			StatusConfirmationCodeMaxRetriesExceeded, false},
		{"no eligible profile 8.2.5/4.3", es(es9.StatusNoEligibleProfile()), portal.ActivationNoEligibleProfileForThisDevice, StatusNoEligibleProfileForThisDevice, false},
		{"BPP not available 8.2/3.7", es(es9.StatusBPPNotAvailable()), portal.ActivationProfileNotAvailableForNewBinding, StatusProfileNotAvailableForNewBinding, false},
		{"insufficient memory 8.1/4.8", es(es9.StatusInsufficientMemory()), portal.ActivationInsufficientSpaceOnCard, StatusInsufficientSpaceOnCard, false},
		{"order expired 8.8.5/4.1", es(es9.StatusDownloadOrderExpired()), portal.ActivationProfileNotReleasedByOperator, StatusProfileNotReleasedByOperator, false},
		{"download retries 8.8.5/6.4", es(es9.StatusDownloadRetriesExceeded()), portal.ActivationOther, StatusProfileDownloadMaxRetriesExceeded, false},
		{"transaction unknown 8.10.1/3.9", es(es9.StatusTransactionIDUnknown()), portal.ActivationNoCorrespondingRequest, StatusNoCorrespondingRequest, false},
		{"eUICC certificate expired 8.1.3/6.3", es(es9.StatusEUICCCertificateExpired()), portal.ActivationNotAuthorized, StatusNotAuthorized, false},
		{"unknown CI 8.11.1/3.9", es(es9.StatusCIUnknown()), portal.ActivationNotAuthorized, StatusNotAuthorized, false},
		{"other ES9+ code", es(es9.StatusSVNNotSupported()), portal.ActivationServerFailure, StatusServerFailure, false},
		{"connection refused", tr(0, &url.Error{Op: "Post", URL: "https://smdp.example", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}),
			portal.ActivationServerNotReachable, StatusServerNotReachable, true},
		{"TLS unknown authority", tr(0, &url.Error{Op: "Post", Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}),
			portal.ActivationServerFailure, StatusServerNotTrusted, false},
		{"TLS wrong host", tr(0, &url.Error{Op: "Post", Err: x509.HostnameError{Host: "other"}}), portal.ActivationServerFailure, StatusServerNotTrusted, false},
		{"request deadline", tr(0, &url.Error{Op: "Post", Err: context.DeadlineExceeded}), portal.ActivationServerNotReachable,
			StatusTimeoutWaitingForResponse, true},
		{"network timeout", tr(0, &url.Error{Op: "Post", Err: timeoutErr{}}), portal.ActivationServerNotReachable, StatusTimeoutWaitingForResponse, true},
		{"HTTP 503", tr(503, lpa.ErrBadStatus), portal.ActivationServerFailure, StatusServerFailure, true},
		{"HTTP 404", tr(404, lpa.ErrBadStatus), portal.ActivationServerFailure, StatusServerFailure, false},
		{"malformed answer", tr(200, es9.ErrMalformed), portal.ActivationServerFailure, StatusServerFailure, false},
		{"confirmation code required", dl(lpa.StepConfirmationCode, lpa.ErrConfirmationCodeRequired), portal.ActivationConfirmationCodeMissing,
			StatusConfirmationCodeMissing, false},
		{"ICCID already on the card", install(rsp.InstallICCIDAlreadyExistsOnEUICC), portal.ActivationOther, StatusIccidAlreadyExists, false},
		{"no memory for the profile", install(rsp.InstallInsufficientMemoryForProfile), portal.ActivationInsufficientSpaceOnCard, StatusInsufficientSpaceOnCard, false},
		{"profile element error", install(rsp.InstallPEProcessingError), portal.ActivationOther, StatusProfileProcessingError, false},
		{"SCP03t error", install(rsp.InstallSCP03tSecurityError), portal.ActivationOther, StatusProfileProcessingError, false},
		{"profile class refused", install(rsp.InstallUnsupportedProfileClass), portal.ActivationOperationProhibitedByProfileClass,
			StatusOperationProhibitedByProfileClass, false},
		{"interrupted install", install(rsp.InstallInterruption), portal.ActivationCardGeneralFailure, StatusProfileProcessingError, true},
		{"eUICC does not trust the SM-DP+", dl(lpa.StepAuthenticateServer, &rsp.ResultError{Function: "AuthenticateServer", Code: 7, Name: "ciPKUnknown"}),
			portal.ActivationServerFailure, StatusServerNotTrusted, false},
		{"eUICC lost the session", dl(lpa.StepPrepareDownload, &rsp.ResultError{Function: "PrepareDownload", Code: 4, Name: "noSessionContext"}),
			portal.ActivationNoCorrespondingRequest, StatusNoCorrespondingRequest, false},
		{"enable: CAT busy", &rsp.ResultError{Function: "EnableProfile", Code: 5, Name: "catBusy"}, portal.ActivationCardBusy, StatusCardBusy, true},
		{"enable: policy", &rsp.ResultError{Function: "EnableProfile", Code: 3, Name: "disallowedByPolicy"}, portal.ActivationPolicyViolation, StatusPolicyViolation, false},
		{"enable: no such profile", &rsp.ResultError{Function: "EnableProfile", Code: 1, Name: "iccidOrAidNotFound"}, portal.ActivationProfileNotPresent,
			StatusProfileNotPresent, false},
		{"profile not on the card", fmt.Errorf("%w: 8900", ErrProfileNotPresent), portal.ActivationProfileNotPresent, StatusProfileNotPresent, false},
		{"card busy status word", dl(lpa.StepLoadBoundProfilePackage, &apdu.StatusError{SW: 0x9300}), portal.ActivationCardBusy, StatusCardBusy, true},
		{"card status word", &apdu.StatusError{SW: apdu.SWNoPreciseDiagnosis}, portal.ActivationCardGeneralFailure, StatusCardGeneralFailure, false},
		{"SIM busy", fmt.Errorf("open: %w", &at.CMEError{Code: at.CMESIMBusy, Command: "AT+CCHO"}), portal.ActivationCardBusy, StatusCardBusy, true},
		{"SIM not inserted", &at.CMEError{Code: at.CMESIMNotInserted}, portal.ActivationCardRemoved, StatusCardRemoved, false},
		{"SIM failure", &at.CMEError{Code: at.CMESIMFailure}, portal.ActivationCardGeneralFailure, StatusCardGeneralFailure, false},
		{"card reset", dl(lpa.StepLoadBoundProfilePackage, &lpa.CardResetError{Function: "LoadBoundProfilePackage", Err: apdu.ErrChannelClosed}),
			portal.ActivationCardGeneralFailure, StatusCardGeneralFailure, true},
		{"modem not answering", fmt.Errorf("AT+CGLA: %w", at.ErrTimeout), portal.ActivationCardBusy, StatusCardBusy, true},
		{"modem gone", fmt.Errorf("x: %w", at.ErrClosed), portal.ActivationModemNotFound, StatusCardRemoved, false},
		{"modem unreadable", fmt.Errorf("%w: boom", ErrModem), portal.ActivationModemNotFound, StatusCardRemoved, false},
		{"no LPA", fmt.Errorf("%w: boom", ErrLPAInit), portal.ActivationLPAInitializationError, StatusCardGeneralFailure, false},
		{"state not saved", fmt.Errorf("%w: disk full", ErrSettings), portal.ActivationLocalSettingsAccessFailed, StatusOther, false},
		{"user cancel", dl(lpa.StepGetBoundProfilePackage, fmt.Errorf("%w", lpa.ErrCancelledByUser)), portal.ActivationOperationAborted, StatusOperationAborted, false},
		{"cancelled context", tr(0, &url.Error{Op: "Post", Err: context.Canceled}), portal.ActivationOperationAborted, StatusOperationAborted, false},
		{"no SM-DP+ address", dl(lpa.StepAddress, lpa.ErrNoSMDPAddress), portal.ActivationNotFound, StatusNotFound, false},
		{"bad activation code", fmt.Errorf("%w: x", lpa.ErrBadActivationCode), portal.ActivationInvalidActivationCode, StatusInvalidMatchingID, false},
		{"invalid bridge call", &portal.InvalidError{Result: portal.ActivationInvalidICCID}, portal.ActivationInvalidICCID, StatusOther, false},
		{"unknown", errors.New("something else"), portal.ActivationUnknownError, StatusOther, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, s := Classify(tt.err)
			if r != tt.result || s != tt.status {
				t.Fatalf("Classify = %s, %s; want %s, %s", r, s, tt.result, tt.status)
			}
			if c := classify(tt.err); c.transient != tt.transient {
				t.Fatalf("transient = %v", c.transient)
			}
			if !r.Valid() || !slices.Contains(OperationStatuses(), s) {
				t.Fatalf("undefined result or status %d %q", r, s)
			}
		})
	}
}

func TestOperationStatuses(t *testing.T) {
	// The enum's values 4, 8-11, 13, 14, 18 and 25 are confirmed by the
	// documents (mobile-plans.md 3.1).
	all := OperationStatuses()
	confirmed := map[int]OperationStatus{4: StatusInsufficientSpaceOnCard, 8: StatusIncorrectConfirmationCode,
		9: StatusConfirmationCodeMaxRetriesExceeded, 10: StatusCardRemoved, 11: StatusCardBusy, 13: StatusCardGeneralFailure,
		14: StatusConfirmationCodeMissing, 18: StatusEIDMismatch, 25: StatusIccidAlreadyExists}
	if len(all) != 29 {
		t.Fatalf("%d statuses", len(all))
	}
	for i, s := range confirmed {
		if all[i] != s {
			t.Errorf("status %d is %s, want %s", i, all[i], s)
		}
	}
}
