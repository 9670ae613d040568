package bsp

import (
	"errors"
	"fmt"
)

// Errors callers branch on with errors.Is.
var (
	// ErrMAC means a segment's C-MAC did not verify: a tampered, reordered,
	// replayed or foreign segment (SGP.22 errorReason 8).
	ErrMAC = errors.New("bsp: segment MAC verification failed")
	// ErrPadding means a segment decrypted to data without valid 80 00..
	// padding (errorReason 8).
	ErrPadding = errors.New("bsp: invalid segment padding")
	// ErrFormat means a segment or BPP structure is malformed or out of
	// order (errorReason 7, scp03tStructureError).
	ErrFormat = errors.New("bsp: malformed structure")
	// ErrKeys means key material or the EID has the wrong size.
	ErrKeys = errors.New("bsp: invalid key material")
	// ErrPublicKey means a one-time public key is not a valid uncompressed
	// P-256 point, or the private key is unusable.
	ErrPublicKey = errors.New("bsp: invalid ECKA key")
	// ErrUnsupportedCRT means the control reference template asks for other
	// keys than AES-128 or has an invalid hostId (errorReason 4).
	ErrUnsupportedCRT = errors.New("bsp: unsupported CRT values")
	// ErrUnsupportedRemoteOp means remoteOpId is not
	// installBoundProfilePackage (errorReason 5).
	ErrUnsupportedRemoteOp = errors.New("bsp: unsupported remote operation type")
	// ErrTransactionID is for KeyAgreement callbacks: the transactionId of
	// BF23 is not the current session's (errorReason 3).
	ErrTransactionID = errors.New("bsp: transaction ID mismatch")
	// ErrSignature is for KeyAgreement callbacks: smdpSign did not verify
	// (errorReason 2).
	ErrSignature = errors.New("bsp: invalid smdpSign signature")
	// ErrSegmentTooLarge means a plaintext does not fit in one segment.
	ErrSegmentTooLarge = errors.New("bsp: segment too large")
	// ErrFinished means the Unwrapper has completed or failed and takes no
	// more data.
	ErrFinished = errors.New("bsp: bound profile package already finished")
)

// BPPCommand is the SGP.22 BppCommandId: the step of the BPP being
// processed when an installation fails.
type BPPCommand byte

// BppCommandId values (SGP.22 ProfileInstallationResult). storeMetadata2 (3)
// is not produced by this package.
const (
	CmdInitialiseSecureChannel BPPCommand = 0
	CmdConfigureISDP           BPPCommand = 1
	CmdStoreMetadata           BPPCommand = 2
	CmdReplaceSessionKeys      BPPCommand = 4
	CmdLoadProfileElements     BPPCommand = 5
)

func (c BPPCommand) String() string {
	switch c {
	case CmdInitialiseSecureChannel:
		return "initialiseSecureChannel"
	case CmdConfigureISDP:
		return "configureISDP"
	case CmdStoreMetadata:
		return "storeMetadata"
	case 3:
		return "storeMetadata2"
	case CmdReplaceSessionKeys:
		return "replaceSessionKeys"
	case CmdLoadProfileElements:
		return "loadProfileElements"
	default:
		return fmt.Sprintf("bppCommandId(%d)", byte(c))
	}
}

// ErrorReason is the SGP.22 ErrorReason of a failed installation. Only the
// values this package can determine are named here.
type ErrorReason byte

// ErrorReason values (SGP.22 ProfileInstallationResult).
const (
	ReasonInvalidSignature               ErrorReason = 2
	ReasonInvalidTransactionID           ErrorReason = 3
	ReasonUnsupportedCRTValues           ErrorReason = 4
	ReasonUnsupportedRemoteOperationType ErrorReason = 5
	ReasonSCP03tStructureError           ErrorReason = 7
	ReasonSCP03tSecurityError            ErrorReason = 8
	ReasonUnknownError                   ErrorReason = 127
)

// ReasonFor maps an error of this package (or one wrapping ErrSignature or
// ErrTransactionID from a KeyAgreement callback) to its SGP.22 ErrorReason;
// anything else is installFailedDueToUnknownError (127).
func ReasonFor(err error) ErrorReason {
	switch {
	case errors.Is(err, ErrMAC), errors.Is(err, ErrPadding):
		return ReasonSCP03tSecurityError
	case errors.Is(err, ErrSignature):
		return ReasonInvalidSignature
	case errors.Is(err, ErrTransactionID):
		return ReasonInvalidTransactionID
	case errors.Is(err, ErrUnsupportedCRT):
		return ReasonUnsupportedCRTValues
	case errors.Is(err, ErrUnsupportedRemoteOp):
		return ReasonUnsupportedRemoteOperationType
	case errors.Is(err, ErrFormat):
		return ReasonSCP03tStructureError
	default:
		return ReasonUnknownError
	}
}

// LoadError is returned by Unwrapper.Feed: the failing step and the SGP.22
// reason to put into the ProfileInstallationResult.
type LoadError struct {
	Command BPPCommand
	Reason  ErrorReason
	Err     error
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("bsp: load bound profile package: %s failed (errorReason %d): %v", e.Command, e.Reason, e.Err)
}

func (e *LoadError) Unwrap() error { return e.Err }
