package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/modem/at"
	"github.com/mobileplans/mobileplans/ui/portal"
)

// Errors of the agent; test with errors.Is.
var (
	// ErrClosed: the agent was closed.
	ErrClosed = errors.New("app: agent closed")
	// ErrBusy: a fulfilment (download, switch, deferred run) is running.
	ErrBusy = errors.New("app: a profile operation is already running")
	// ErrNoJourney: Cancel found nothing to cancel.
	ErrNoJourney = errors.New("app: no journey to cancel")
	// ErrNoPortalSession: a bridge call arrived while no portal session
	// was open (PortalLaunch opens one; the UI steps before it close it).
	ErrNoPortalSession = errors.New("app: no portal session")
	// ErrUnknownOperation: no deferred download has this operation
	// context.
	ErrUnknownOperation = errors.New("app: no deferred download with this operation context")
	// ErrDuplicateOperation: a deferred download with this operation
	// context exists already.
	ErrDuplicateOperation = errors.New("app: operation context already used")
	// ErrAlreadyNotified: the deferred download's notification was shown;
	// the portal can no longer cancel it (mobile-plans.md 2.6).
	ErrAlreadyNotified = errors.New("app: the deferred download was already offered to the user")
	// ErrNotDue: RunDeferred before the download's due time.
	ErrNotDue = errors.New("app: the deferred download is not due yet")
	// ErrModem: the modem could not be read (activation result
	// modemNotFound).
	ErrModem = errors.New("app: modem not available")
	// ErrLPAInit: no LPA session with the eUICC could be opened
	// (activation result lpaInitializationError).
	ErrLPAInit = errors.New("app: cannot reach the eUICC")
	// ErrSettings: the persisted state could not be written (activation
	// result localSettingsAccessFailed).
	ErrSettings = errors.New("app: cannot save the agent state")
	// ErrRegistrationTimeout: the profile did not register on the network
	// in time.
	ErrRegistrationTimeout = errors.New("app: no network registration on the new profile")
	// ErrProfileNotPresent: the ICCID named by the portal is not on the
	// eUICC (activation result profileNotPresent).
	ErrProfileNotPresent = errors.New("app: no such profile on the eUICC")
)

// OperationStatus is a Windows ESimOperationStatus name (mobile-plans.md
// 3.1), as sent in X-MP-LPAError-Codes.
type OperationStatus string

// The ESimOperationStatus names, in the enum's order.
const (
	StatusSuccess                            OperationStatus = "Success"
	StatusNotAuthorized                      OperationStatus = "NotAuthorized"
	StatusNotFound                           OperationStatus = "NotFound"
	StatusPolicyViolation                    OperationStatus = "PolicyViolation"
	StatusInsufficientSpaceOnCard            OperationStatus = "InsufficientSpaceOnCard"
	StatusServerFailure                      OperationStatus = "ServerFailure"
	StatusServerNotReachable                 OperationStatus = "ServerNotReachable"
	StatusTimeoutWaitingForUserConsent       OperationStatus = "TimeoutWaitingForUserConsent"
	StatusIncorrectConfirmationCode          OperationStatus = "IncorrectConfirmationCode"
	StatusConfirmationCodeMaxRetriesExceeded OperationStatus = "ConfirmationCodeMaxRetriesExceeded"
	StatusCardRemoved                        OperationStatus = "CardRemoved"
	StatusCardBusy                           OperationStatus = "CardBusy"
	StatusOther                              OperationStatus = "Other"
	StatusCardGeneralFailure                 OperationStatus = "CardGeneralFailure"
	StatusConfirmationCodeMissing            OperationStatus = "ConfirmationCodeMissing"
	StatusInvalidMatchingID                  OperationStatus = "InvalidMatchingId"
	StatusNoEligibleProfileForThisDevice     OperationStatus = "NoEligibleProfileForThisDevice"
	StatusOperationAborted                   OperationStatus = "OperationAborted"
	StatusEIDMismatch                        OperationStatus = "EidMismatch"
	StatusProfileNotAvailableForNewBinding   OperationStatus = "ProfileNotAvailableForNewBinding"
	StatusProfileNotReleasedByOperator       OperationStatus = "ProfileNotReleasedByOperator"
	StatusOperationProhibitedByProfileClass  OperationStatus = "OperationProhibitedByProfileClass"
	StatusProfileNotPresent                  OperationStatus = "ProfileNotPresent"
	StatusNoCorrespondingRequest             OperationStatus = "NoCorrespondingRequest"
	StatusTimeoutWaitingForResponse          OperationStatus = "TimeoutWaitingForResponse"
	StatusIccidAlreadyExists                 OperationStatus = "IccidAlreadyExists"
	StatusProfileProcessingError             OperationStatus = "ProfileProcessingError"
	StatusServerNotTrusted                   OperationStatus = "ServerNotTrusted"
	StatusProfileDownloadMaxRetriesExceeded  OperationStatus = "ProfileDownloadMaxRetriesExceeded"
)

// OperationStatuses returns every name, in the enum's order.
func OperationStatuses() []OperationStatus {
	return []OperationStatus{StatusSuccess, StatusNotAuthorized, StatusNotFound, StatusPolicyViolation,
		StatusInsufficientSpaceOnCard, StatusServerFailure, StatusServerNotReachable, StatusTimeoutWaitingForUserConsent,
		StatusIncorrectConfirmationCode, StatusConfirmationCodeMaxRetriesExceeded, StatusCardRemoved, StatusCardBusy,
		StatusOther, StatusCardGeneralFailure, StatusConfirmationCodeMissing, StatusInvalidMatchingID,
		StatusNoEligibleProfileForThisDevice, StatusOperationAborted, StatusEIDMismatch,
		StatusProfileNotAvailableForNewBinding, StatusProfileNotReleasedByOperator,
		StatusOperationProhibitedByProfileClass, StatusProfileNotPresent, StatusNoCorrespondingRequest,
		StatusTimeoutWaitingForResponse, StatusIccidAlreadyExists, StatusProfileProcessingError,
		StatusServerNotTrusted, StatusProfileDownloadMaxRetriesExceeded}
}

// class is the classification of a failure.
type class struct {
	result portal.ActivationResult
	status OperationStatus
	// transient: the same attempt may work a moment later.
	transient bool
}

// Classify maps a failure of a download, a profile switch or an agent step
// to the activation result the portal page hears (mobile-plans.md 3.3) and
// the ESimOperationStatus name (3.1). nil is success; an error it does not
// recognise is unknownError / Other.
func Classify(err error) (portal.ActivationResult, OperationStatus) {
	c := classify(err)
	return c.result, c.status
}

func classify(err error) class {
	if err == nil {
		return class{result: portal.ActivationSuccess, status: StatusSuccess}
	}
	if r, ok := portal.ResultOf(err); ok {
		return class{result: r, status: StatusOther}
	}
	var (
		e9   *es9.Error
		te   *lpa.TransportError
		ie   *rsp.InstallError
		re   *rsp.ResultError
		se   *apdu.StatusError
		cme  *at.CMEError
		step lpa.Step
		de   *lpa.DownloadError
	)
	if errors.As(err, &de) {
		step = de.Step
	}
	switch {
	case errors.Is(err, lpa.ErrCancelledByUser), errors.Is(err, context.Canceled):
		return class{result: portal.ActivationOperationAborted, status: StatusOperationAborted}
	case errors.As(err, &e9):
		return classifyES9(es9.Status{Subject: e9.Subject, Reason: e9.Reason})
	case errors.As(err, &te):
		return classifyTransport(te)
	case errors.Is(err, lpa.ErrConfirmationCodeRequired):
		return class{result: portal.ActivationConfirmationCodeMissing, status: StatusConfirmationCodeMissing}
	case errors.As(err, &ie):
		return classifyInstall(ie)
	case errors.Is(err, context.DeadlineExceeded):
		return class{result: portal.ActivationServerNotReachable, status: StatusTimeoutWaitingForResponse, transient: true}
	case errors.Is(err, lpa.ErrBadActivationCode):
		return class{result: portal.ActivationInvalidActivationCode, status: StatusInvalidMatchingID}
	case errors.Is(err, lpa.ErrNoSMDPAddress):
		return class{result: portal.ActivationNotFound, status: StatusNotFound}
	case errors.Is(err, lpa.ErrServerResponse):
		return class{result: portal.ActivationServerFailure, status: StatusServerFailure}
	case errors.Is(err, lpa.ErrNoInstallResult):
		return class{result: portal.ActivationOther, status: StatusProfileProcessingError}
	case errors.Is(err, lpa.ErrMetadataMismatch):
		return class{result: portal.ActivationPolicyViolation, status: StatusPolicyViolation}
	case errors.Is(err, ErrProfileNotPresent), errors.Is(err, lpa.ErrProfileNotFound):
		return class{result: portal.ActivationProfileNotPresent, status: StatusProfileNotPresent}
	case errors.As(err, &re):
		return classifyResult(re, step)
	case errors.Is(err, ErrModem), errors.Is(err, at.ErrClosed):
		return class{result: portal.ActivationModemNotFound, status: StatusCardRemoved}
	case errors.As(err, &cme):
		switch cme.Code {
		case at.CMESIMBusy:
			return class{result: portal.ActivationCardBusy, status: StatusCardBusy, transient: true}
		case at.CMESIMNotInserted:
			return class{result: portal.ActivationCardRemoved, status: StatusCardRemoved}
		}
		return class{result: portal.ActivationCardGeneralFailure, status: StatusCardGeneralFailure}
	case errors.As(err, &se):
		if se.SW == swCATBusy {
			return class{result: portal.ActivationCardBusy, status: StatusCardBusy, transient: true}
		}
		return class{result: portal.ActivationCardGeneralFailure, status: StatusCardGeneralFailure}
	case errors.Is(err, lpa.ErrCardReset), errors.Is(err, apdu.ErrChannelClosed):
		return class{result: portal.ActivationCardGeneralFailure, status: StatusCardGeneralFailure, transient: true}
	case errors.Is(err, at.ErrTimeout):
		return class{result: portal.ActivationCardBusy, status: StatusCardBusy, transient: true}
	case errors.Is(err, ErrLPAInit), errors.Is(err, lpa.ErrClosed):
		return class{result: portal.ActivationLPAInitializationError, status: StatusCardGeneralFailure}
	case errors.Is(err, ErrSettings):
		return class{result: portal.ActivationLocalSettingsAccessFailed, status: StatusOther}
	}
	return class{result: portal.ActivationUnknownError, status: StatusOther}
}

// swCATBusy is "SIM Application Toolkit busy" (ETSI TS 102 221): the card
// cannot take the command now.
const swCATBusy = 0x9300

// classifyES9 maps an ES9+ subject/reason code (sgp22.md 3.3).
func classifyES9(s es9.Status) class {
	switch s {
	case es9.StatusConfirmationCodeMissing():
		return class{result: portal.ActivationConfirmationCodeMissing, status: StatusConfirmationCodeMissing}
	case es9.StatusConfirmationCodeRefused():
		return class{result: portal.ActivationIncorrectConfirmationCode, status: StatusIncorrectConfirmationCode}
	case es9.StatusConfirmationCodeRetriesExceeded():
		return class{result: portal.ActivationConfirmationCodeMaxRetriesExceeded, status: StatusConfirmationCodeMaxRetriesExceeded}
	case es9.StatusNoEligibleProfile():
		return class{result: portal.ActivationNoEligibleProfileForThisDevice, status: StatusNoEligibleProfileForThisDevice}
	case es9.StatusBPPNotAvailable():
		return class{result: portal.ActivationProfileNotAvailableForNewBinding, status: StatusProfileNotAvailableForNewBinding}
	case es9.StatusInsufficientMemory():
		return class{result: portal.ActivationInsufficientSpaceOnCard, status: StatusInsufficientSpaceOnCard}
	case es9.StatusDownloadOrderExpired():
		return class{result: portal.ActivationProfileNotReleasedByOperator, status: StatusProfileNotReleasedByOperator}
	case es9.StatusDownloadRetriesExceeded():
		return class{result: portal.ActivationOther, status: StatusProfileDownloadMaxRetriesExceeded}
	case es9.StatusTransactionIDUnknown():
		return class{result: portal.ActivationNoCorrespondingRequest, status: StatusNoCorrespondingRequest}
	case es9.StatusInvalidSMDPAddress():
		return class{result: portal.ActivationInvalidActivationCode, status: StatusNotFound}
	case es9.StatusEUICCSignatureInvalid():
		return class{result: portal.ActivationNotAuthorized, status: StatusNotAuthorized}
	}
	switch s.Subject {
	case "8.2.6": // matching ID
		return class{result: portal.ActivationInvalidMatchingID, status: StatusInvalidMatchingID}
	case "8.1.1": // EID
		return class{result: portal.ActivationEIDMismatch, status: StatusEIDMismatch}
	case "8.1.2", "8.1.3", "8.11.1": // EUM or eUICC certificate, CI
		return class{result: portal.ActivationNotAuthorized, status: StatusNotAuthorized}
	case "8.2.7": // confirmation code, other reasons
		return class{result: portal.ActivationIncorrectConfirmationCode, status: StatusIncorrectConfirmationCode}
	}
	return class{result: portal.ActivationServerFailure, status: StatusServerFailure}
}

// classifyTransport maps an ES9+ request that produced no function result.
func classifyTransport(te *lpa.TransportError) class {
	var (
		ua  x509.UnknownAuthorityError
		ci  x509.CertificateInvalidError
		he  x509.HostnameError
		cve *tls.CertificateVerificationError
		ne  net.Error
	)
	switch {
	case errors.As(te, &ua), errors.As(te, &ci), errors.As(te, &he), errors.As(te, &cve):
		return class{result: portal.ActivationServerFailure, status: StatusServerNotTrusted}
	case errors.Is(te, context.DeadlineExceeded), errors.As(te, &ne) && ne.Timeout():
		return class{result: portal.ActivationServerNotReachable, status: StatusTimeoutWaitingForResponse, transient: true}
	case te.StatusCode >= 500:
		return class{result: portal.ActivationServerFailure, status: StatusServerFailure, transient: true}
	case te.StatusCode != 0, errors.Is(te, lpa.ErrResponseTooLarge), errors.Is(te, es9.ErrMalformed):
		return class{result: portal.ActivationServerFailure, status: StatusServerFailure}
	}
	return class{result: portal.ActivationServerNotReachable, status: StatusServerNotReachable, transient: true}
}

// classifyInstall maps a failed installation reported by the eUICC.
func classifyInstall(ie *rsp.InstallError) class {
	switch ie.Reason {
	case rsp.InstallICCIDAlreadyExistsOnEUICC:
		return class{result: portal.ActivationOther, status: StatusIccidAlreadyExists}
	case rsp.InstallInsufficientMemoryForProfile:
		return class{result: portal.ActivationInsufficientSpaceOnCard, status: StatusInsufficientSpaceOnCard}
	case rsp.InstallUnsupportedProfileClass, rsp.InstallPPRNotAllowed:
		return class{result: portal.ActivationOperationProhibitedByProfileClass, status: StatusOperationProhibitedByProfileClass}
	case rsp.InstallInterruption:
		return class{result: portal.ActivationCardGeneralFailure, status: StatusProfileProcessingError, transient: true}
	}
	return class{result: portal.ActivationOther, status: StatusProfileProcessingError}
}

// classifyResult maps an error code of an ES10 function.
func classifyResult(re *rsp.ResultError, step lpa.Step) class {
	switch {
	case step == lpa.StepAuthenticateServer, step == lpa.StepPrepareDownload, re.Function == "AuthenticateServer",
		re.Function == "PrepareDownload":
		switch re.Name {
		case "invalidCertificate", "invalidSignature", "unsupportedCurve", "invalidOid", "ciPKUnknown", "euiccChallengeMismatch":
			return class{result: portal.ActivationServerFailure, status: StatusServerNotTrusted}
		case "noSessionContext", "invalidTransactionId":
			return class{result: portal.ActivationNoCorrespondingRequest, status: StatusNoCorrespondingRequest}
		}
		return class{result: portal.ActivationCardGeneralFailure, status: StatusCardGeneralFailure}
	}
	switch re.Name {
	case "iccidOrAidNotFound":
		return class{result: portal.ActivationProfileNotPresent, status: StatusProfileNotPresent}
	case "disallowedByPolicy":
		return class{result: portal.ActivationPolicyViolation, status: StatusPolicyViolation}
	case "catBusy":
		return class{result: portal.ActivationCardBusy, status: StatusCardBusy, transient: true}
	}
	return class{result: portal.ActivationCardGeneralFailure, status: StatusCardGeneralFailure}
}
