package portal

import (
	"errors"
	"fmt"
)

// Sentinel errors; errors.Is matches them against the typed errors below.
var (
	// ErrForeignOrigin: the call did not come from https://<allowed host>.
	ErrForeignOrigin = errors.New("portal: call from a foreign origin refused")
	// ErrInvalidJSON: the message, its arguments or its metadata are
	// malformed (activation result invalidJson).
	ErrInvalidJSON = errors.New("portal: invalid bridge message")
	// ErrInvalidActivationCode: the activation code is not of the form
	// 1$<SM-DP+ address>$<matching ID> (activation result
	// invalidActivationCode).
	ErrInvalidActivationCode = errors.New("portal: invalid activation code")
	// ErrInvalidICCID: an ICCID argument is malformed (activation result
	// invalidIccid).
	ErrInvalidICCID = errors.New("portal: invalid ICCID")
)

// OriginError refuses a call whose origin is not https://<allowed host>. It
// is not reported back to the page: nothing may be sent to a foreign origin.
type OriginError struct {
	// Origin is the origin the call came from ("" when unknown), Allowed the
	// only origin accepted.
	Origin, Allowed string
	// Reported is true when Origin is what the message claimed, false when it
	// is the frame origin the browser reported.
	Reported bool
}

func (e *OriginError) Error() string {
	who := "frame"
	if e.Reported {
		who = "message"
	}
	return fmt.Sprintf("portal: call refused: %s origin %q is not %q", who, truncate(e.Origin, 100), e.Allowed)
}

// Is makes errors.Is(err, ErrForeignOrigin) true.
func (e *OriginError) Is(target error) bool { return target == ErrForeignOrigin }

// InvalidError is a call from the allowed origin that cannot be acted upon.
// Result is what the app reports to the page's
// profileActivationCompleteScript (invalidJson, invalidActivationCode or
// invalidIccid). Object, Op and ContextID are filled in as far as the message
// could be read.
type InvalidError struct {
	Result     ActivationResult
	Object, Op string
	ContextID  string
	Reason     string
	Err        error
}

func (e *InvalidError) Error() string {
	s := "portal: " + e.Result.String()
	if e.Op != "" {
		s += " in " + e.Object + "." + e.Op
	}
	s += ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error, if any.
func (e *InvalidError) Unwrap() error { return e.Err }

// Is matches the sentinel of e's Result.
func (e *InvalidError) Is(target error) bool {
	switch target {
	case ErrInvalidJSON:
		return e.Result == ActivationInvalidJSON
	case ErrInvalidActivationCode:
		return e.Result == ActivationInvalidActivationCode
	case ErrInvalidICCID:
		return e.Result == ActivationInvalidICCID
	}
	return false
}

// ResultOf returns the activation result to report to the page for an error
// of ParseMessage. ok is false for a refused origin (report nothing) and for
// errors that are not this package's.
func ResultOf(err error) (r ActivationResult, ok bool) {
	var ie *InvalidError
	if errors.As(err, &ie) {
		return ie.Result, true
	}
	return 0, false
}
