package es9

import (
	"fmt"
	"strings"
)

// Status is an ES9+ status code: a subject code and a reason code, e.g.
// {"8.2.6", "3.8"} (matching ID refused). See sgp22.md 3.3.
type Status struct {
	Subject, Reason string
}

// String returns "subject/reason", e.g. "8.2.6/3.8".
func (s Status) String() string { return s.Subject + "/" + s.Reason }

// Err returns a Failed *Error with this status and no function, for
// errors.Is(err, s.Err()).
func (s Status) Err() *Error {
	return &Error{Status: StatusFailed, Subject: s.Subject, Reason: s.Reason}
}

// Known reports whether s is one of the status codes SGP.22 assigns a
// specific meaning to (the table of sgp22.md 3.3).
func (s Status) Known() bool { return s.knownName() != "" }

// Name returns a readable meaning of s, e.g. "matching ID refused". For a
// combination without a specific meaning it is made of the names of the
// subject and of the reason ("matching ID: invalid"), and "" when neither is
// known.
func (s Status) Name() string {
	if n := s.knownName(); n != "" {
		return n
	}
	subj, reason := subjectName(s.Subject), reasonName(s.Reason)
	switch {
	case subj != "" && reason != "":
		return subj + ": " + reason
	case subj != "":
		return subj
	}
	return reason
}

// Status codes of sgp22.md 3.3 with the functions that return them.

// StatusInvalidSMDPAddress (8.8.1/3.8): the smdpAddress is not the server's
// (initiateAuthentication).
func StatusInvalidSMDPAddress() Status { return Status{"8.8.1", "3.8"} }

// StatusCIPKIDNotSupported (8.8.2/3.1): none of the eUICC's CI public key
// identifiers is supported (initiateAuthentication).
func StatusCIPKIDNotSupported() Status { return Status{"8.8.2", "3.1"} }

// StatusSVNNotSupported (8.8.3/3.1): the eUICC's specification version is
// not supported (initiateAuthentication).
func StatusSVNNotSupported() Status { return Status{"8.8.3", "3.1"} }

// StatusNoDPAuthCertificate (8.8.4/3.7): no CERT.DPauth chains to a CI of
// the eUICC (initiateAuthentication).
func StatusNoDPAuthCertificate() Status { return Status{"8.8.4", "3.7"} }

// StatusTransactionIDUnknown (8.10.1/3.9): the transactionId is unknown
// (every function after initiateAuthentication).
func StatusTransactionIDUnknown() Status { return Status{"8.10.1", "3.9"} }

// StatusEUMCertificateInvalid (8.1.2/6.1) (authenticateClient).
func StatusEUMCertificateInvalid() Status { return Status{"8.1.2", "6.1"} }

// StatusEUMCertificateExpired (8.1.2/6.3) (authenticateClient).
func StatusEUMCertificateExpired() Status { return Status{"8.1.2", "6.3"} }

// StatusEUICCCertificateInvalid (8.1.3/6.1) (authenticateClient).
func StatusEUICCCertificateInvalid() Status { return Status{"8.1.3", "6.1"} }

// StatusEUICCCertificateExpired (8.1.3/6.3) (authenticateClient).
func StatusEUICCCertificateExpired() Status { return Status{"8.1.3", "6.3"} }

// StatusEUICCSignatureInvalid (8.1/6.1): an eUICC signature does not verify
// or the serverChallenge does not match (authenticateClient,
// getBoundProfilePackage, cancelSession).
func StatusEUICCSignatureInvalid() Status { return Status{"8.1", "6.1"} }

// StatusCIUnknown (8.11.1/3.9): the CI of the EUM certificate is not trusted
// (authenticateClient).
func StatusCIUnknown() Status { return Status{"8.11.1", "3.9"} }

// StatusMatchingIDRefused (8.2.6/3.8) (authenticateClient).
func StatusMatchingIDRefused() Status { return Status{"8.2.6", "3.8"} }

// StatusEIDRefused (8.1.1/3.8): the EID does not match the download order
// (authenticateClient).
func StatusEIDRefused() Status { return Status{"8.1.1", "3.8"} }

// StatusNoEligibleProfile (8.2.5/4.3) (authenticateClient).
func StatusNoEligibleProfile() Status { return Status{"8.2.5", "4.3"} }

// StatusInsufficientMemory (8.1/4.8): not enough eUICC memory for the
// profile (authenticateClient).
func StatusInsufficientMemory() Status { return Status{"8.1", "4.8"} }

// StatusDownloadOrderExpired (8.8.5/4.1) (authenticateClient,
// getBoundProfilePackage).
func StatusDownloadOrderExpired() Status { return Status{"8.8.5", "4.1"} }

// StatusDownloadRetriesExceeded (8.8.5/6.4): too many download attempts
// (authenticateClient, getBoundProfilePackage).
func StatusDownloadRetriesExceeded() Status { return Status{"8.8.5", "6.4"} }

// StatusConfirmationCodeMissing (8.2.7/2.2) (getBoundProfilePackage).
func StatusConfirmationCodeMissing() Status { return Status{"8.2.7", "2.2"} }

// StatusConfirmationCodeRefused (8.2.7/3.8) (getBoundProfilePackage).
func StatusConfirmationCodeRefused() Status { return Status{"8.2.7", "3.8"} }

// StatusConfirmationCodeRetriesExceeded (8.2.7/6.4) (getBoundProfilePackage).
func StatusConfirmationCodeRetriesExceeded() Status { return Status{"8.2.7", "6.4"} }

// StatusBPPNotAvailable (8.2/3.7): the Bound Profile Package is not
// available for a new binding (getBoundProfilePackage).
func StatusBPPNotAvailable() Status { return Status{"8.2", "3.7"} }

// StatusInvalidSMDPOID (8.8/3.10): the smdpOid in cancelSession is not the
// server's. Some implementations send 8.8/3.1 instead, which has the same
// Name.
func StatusInvalidSMDPOID() Status { return Status{"8.8", "3.10"} }

// StatusInvalidSMDSAddress (8.9.1/3.8) (ES11).
func StatusInvalidSMDSAddress() Status { return Status{"8.9.1", "3.8"} }

// StatusEventUnknown (8.9.5/3.9): the SM-DS event is unknown (ES11).
func StatusEventUnknown() Status { return Status{"8.9.5", "3.9"} }

func (s Status) knownName() string {
	switch s {
	case StatusInvalidSMDPAddress():
		return "invalid SM-DP+ address"
	case StatusCIPKIDNotSupported():
		return "none of the eUICC's CI public keys supported"
	case StatusSVNNotSupported():
		return "eUICC specification version not supported"
	case StatusNoDPAuthCertificate():
		return "no SM-DP+ authentication certificate for the eUICC's CIs"
	case StatusTransactionIDUnknown():
		return "transaction ID unknown"
	case StatusEUMCertificateInvalid():
		return "EUM certificate invalid"
	case StatusEUMCertificateExpired():
		return "EUM certificate expired"
	case StatusEUICCCertificateInvalid():
		return "eUICC certificate invalid"
	case StatusEUICCCertificateExpired():
		return "eUICC certificate expired"
	case StatusEUICCSignatureInvalid():
		return "eUICC signature invalid"
	case StatusCIUnknown():
		return "CI of the EUM certificate not trusted"
	case StatusMatchingIDRefused():
		return "matching ID refused"
	case StatusEIDRefused():
		return "EID refused"
	case StatusNoEligibleProfile():
		return "no eligible profile"
	case StatusInsufficientMemory():
		return "insufficient eUICC memory"
	case StatusDownloadOrderExpired():
		return "download order expired"
	case StatusDownloadRetriesExceeded():
		return "maximum number of download retries exceeded"
	case StatusConfirmationCodeMissing():
		return "confirmation code missing"
	case StatusConfirmationCodeRefused():
		return "confirmation code refused"
	case StatusConfirmationCodeRetriesExceeded():
		return "maximum number of confirmation code retries exceeded"
	case StatusBPPNotAvailable():
		return "bound profile package not available for a new binding"
	case StatusInvalidSMDPOID(), Status{"8.8", "3.1"}:
		return "invalid SM-DP+ OID"
	case StatusInvalidSMDSAddress():
		return "invalid SM-DS address"
	case StatusEventUnknown():
		return "event unknown"
	}
	return ""
}

// subjectName names the subject codes used in sgp22.md 3.3.
func subjectName(code string) string {
	switch code {
	case "8.1":
		return "eUICC"
	case "8.1.1":
		return "EID"
	case "8.1.2":
		return "EUM certificate"
	case "8.1.3":
		return "eUICC certificate"
	case "8.2":
		return "profile"
	case "8.2.5":
		return "profile type"
	case "8.2.6":
		return "matching ID"
	case "8.2.7":
		return "confirmation code"
	case "8.8":
		return "SM-DP+"
	case "8.8.1":
		return "SM-DP+ address"
	case "8.8.2":
		return "CI public key"
	case "8.8.3":
		return "specification version"
	case "8.8.4":
		return "SM-DP+ certificate"
	case "8.8.5":
		return "download order"
	case "8.9":
		return "SM-DS"
	case "8.9.1":
		return "SM-DS address"
	case "8.9.5":
		return "event"
	case "8.10.1":
		return "transaction ID"
	case "8.11.1":
		return "CI public key"
	}
	return ""
}

// reasonName names the reason codes of sgp22.md 3.3.
func reasonName(code string) string {
	switch code {
	case "1.2":
		return "not allowed"
	case "2.1":
		return "invalid"
	case "2.2":
		return "mandatory element missing"
	case "3.1":
		return "unknown or not supported"
	case "3.3":
		return "already used"
	case "3.7":
		return "not available"
	case "3.8":
		return "refused"
	case "3.9":
		return "unknown"
	case "3.10":
		return "invalid association"
	case "4.1":
		return "execution error"
	case "4.2":
		return "execution error raised"
	case "4.3":
		return "no eligible element"
	case "4.8":
		return "insufficient memory"
	case "5.1":
		return "unavailable"
	case "6.1":
		return "verification failed"
	case "6.3":
		return "expired"
	case "6.4":
		return "maximum number of retries exceeded"
	}
	return ""
}

// Error is an ES9+ function that did not execute: a Failed or Expired
// functionExecutionStatus (or, from a faulty server, any status other than
// Executed-*).
type Error struct {
	Function string // e.g. "authenticateClient"; may be empty
	Status   string // e.g. "Failed"
	Subject  string
	Reason   string
	Message  string
}

// Error returns e.g. "authenticateClient failed: 8.2.6/3.8 matching ID
// refused: <message>".
func (e *Error) Error() string {
	var b strings.Builder
	if e.Function != "" {
		b.WriteString(e.Function)
	} else {
		b.WriteString("ES9+ function")
	}
	switch e.Status {
	case StatusFailed, StatusExpired:
		b.WriteString(" " + strings.ToLower(e.Status))
	case "":
		b.WriteString(" returned no status")
	default:
		fmt.Fprintf(&b, " returned status %q", e.Status)
	}
	if e.Subject != "" || e.Reason != "" {
		s := Status{e.Subject, e.Reason}
		b.WriteString(": " + s.String())
		if n := s.Name(); n != "" {
			b.WriteString(" " + n)
		}
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Is reports whether target is an *Error with the same Subject and Reason,
// and the same Function unless target's Function is empty.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t == nil {
		return false
	}
	if t.Function != "" && t.Function != e.Function {
		return false
	}
	return t.Subject == e.Subject && t.Reason == e.Reason
}
