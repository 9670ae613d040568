package portal

import (
	"fmt"
	"strings"
)

// RegistrationState is a MobilePlansNetworkRegistrationState value
// (mobile-plans.md 3.3), reported to the page through its
// registrationChangedScript. The zero value is not a state.
type RegistrationState int

// The registration states, in the order of mobile-plans.md 3.3.
const (
	RegistrationNone RegistrationState = iota + 1
	RegistrationDeregistered
	RegistrationSearching
	RegistrationHome
	RegistrationRoaming
	RegistrationPartner
	RegistrationDenied
)

// name returns the lower-camel name of s, "" if undefined.
func (s RegistrationState) name() string {
	switch s {
	case RegistrationNone:
		return "none"
	case RegistrationDeregistered:
		return "deregistered"
	case RegistrationSearching:
		return "searching"
	case RegistrationHome:
		return "home"
	case RegistrationRoaming:
		return "roaming"
	case RegistrationPartner:
		return "partner"
	case RegistrationDenied:
		return "denied"
	}
	return ""
}

// Valid reports whether s is one of the defined states.
func (s RegistrationState) Valid() bool {
	return s >= RegistrationNone && s <= RegistrationDenied
}

// Registered reports whether s counts as a successful registration (home,
// roaming or partner).
func (s RegistrationState) Registered() bool {
	return s == RegistrationHome || s == RegistrationRoaming || s == RegistrationPartner
}

// String returns the lower-camel name the page sees, e.g. "home".
func (s RegistrationState) String() string {
	if !s.Valid() {
		return fmt.Sprintf("RegistrationState(%d)", int(s))
	}
	return s.name()
}

// MarshalText encodes s as its name; an undefined state is an error.
func (s RegistrationState) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("portal: undefined registration state %d", int(s))
	}
	return []byte(s.name()), nil
}

// UnmarshalText decodes a state name, ignoring letter case.
func (s *RegistrationState) UnmarshalText(b []byte) error {
	for _, v := range RegistrationStates() {
		if strings.EqualFold(v.name(), string(b)) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("portal: unknown registration state %q", truncate(string(b), 40))
}

// ActivationResult is a MobilePlansActivationError value (mobile-plans.md
// 3.3), reported to the page through its profileActivationCompleteScript.
// The zero value is not a result, so that a forgotten field never reads as
// success.
type ActivationResult int

// The activation results, in the order of mobile-plans.md 3.3. The last six
// are the app's own validation errors.
const (
	ActivationSuccess ActivationResult = iota + 1
	ActivationNotAuthorized
	ActivationNotFound
	ActivationPolicyViolation
	ActivationInsufficientSpaceOnCard
	ActivationServerFailure
	ActivationServerNotReachable
	ActivationTimeoutWaitingForUserConsent
	ActivationIncorrectConfirmationCode
	ActivationConfirmationCodeMaxRetriesExceeded
	ActivationCardRemoved
	ActivationCardBusy
	ActivationOther
	ActivationCardGeneralFailure
	ActivationConfirmationCodeMissing
	ActivationInvalidMatchingID
	ActivationNoEligibleProfileForThisDevice
	ActivationOperationAborted
	ActivationEIDMismatch
	ActivationProfileNotAvailableForNewBinding
	ActivationProfileNotReleasedByOperator
	ActivationOperationProhibitedByProfileClass
	ActivationProfileNotPresent
	ActivationNoCorrespondingRequest
	ActivationUnknownError
	ActivationLPAInitializationError
	ActivationModemNotFound
	ActivationLocalSettingsAccessFailed
	ActivationInvalidJSON
	ActivationInvalidActivationCode
	ActivationInvalidICCID
)

// name returns the lower-camel name of r, "" if undefined.
func (r ActivationResult) name() string {
	switch r {
	case ActivationSuccess:
		return "success"
	case ActivationNotAuthorized:
		return "notAuthorized"
	case ActivationNotFound:
		return "notFound"
	case ActivationPolicyViolation:
		return "policyViolation"
	case ActivationInsufficientSpaceOnCard:
		return "insufficientSpaceOnCard"
	case ActivationServerFailure:
		return "serverFailure"
	case ActivationServerNotReachable:
		return "serverNotReachable"
	case ActivationTimeoutWaitingForUserConsent:
		return "timeoutWaitingForUserConsent"
	case ActivationIncorrectConfirmationCode:
		return "incorrectConfirmationCode"
	case ActivationConfirmationCodeMaxRetriesExceeded:
		return "confirmationCodeMaxRetriesExceeded"
	case ActivationCardRemoved:
		return "cardRemoved"
	case ActivationCardBusy:
		return "cardBusy"
	case ActivationOther:
		return "other"
	case ActivationCardGeneralFailure:
		return "cardGeneralFailure"
	case ActivationConfirmationCodeMissing:
		return "confirmationCodeMissing"
	case ActivationInvalidMatchingID:
		return "invalidMatchingId"
	case ActivationNoEligibleProfileForThisDevice:
		return "noEligibleProfileForThisDevice"
	case ActivationOperationAborted:
		return "operationAborted"
	case ActivationEIDMismatch:
		return "eidMismatch"
	case ActivationProfileNotAvailableForNewBinding:
		return "profileNotAvailableForNewBinding"
	case ActivationProfileNotReleasedByOperator:
		return "profileNotReleasedByOperator"
	case ActivationOperationProhibitedByProfileClass:
		return "operationProhibitedByProfileClass"
	case ActivationProfileNotPresent:
		return "profileNotPresent"
	case ActivationNoCorrespondingRequest:
		return "noCorrespondingRequest"
	case ActivationUnknownError:
		return "unknownError"
	case ActivationLPAInitializationError:
		return "lpaInitializationError"
	case ActivationModemNotFound:
		return "modemNotFound"
	case ActivationLocalSettingsAccessFailed:
		return "localSettingsAccessFailed"
	case ActivationInvalidJSON:
		return "invalidJson"
	case ActivationInvalidActivationCode:
		return "invalidActivationCode"
	case ActivationInvalidICCID:
		return "invalidIccid"
	}
	return ""
}

// ActivationResults returns every defined result, in order.
func ActivationResults() []ActivationResult {
	out := make([]ActivationResult, 0, ActivationInvalidICCID)
	for r := ActivationSuccess; r <= ActivationInvalidICCID; r++ {
		out = append(out, r)
	}
	return out
}

// RegistrationStates returns every defined state, in order.
func RegistrationStates() []RegistrationState {
	out := make([]RegistrationState, 0, RegistrationDenied)
	for s := RegistrationNone; s <= RegistrationDenied; s++ {
		out = append(out, s)
	}
	return out
}

// Valid reports whether r is one of the defined results.
func (r ActivationResult) Valid() bool {
	return r >= ActivationSuccess && r <= ActivationInvalidICCID
}

// String returns the lower-camel name the page sees, e.g. "invalidJson".
func (r ActivationResult) String() string {
	if !r.Valid() {
		return fmt.Sprintf("ActivationResult(%d)", int(r))
	}
	return r.name()
}

// MarshalText encodes r as its name; an undefined result is an error.
func (r ActivationResult) MarshalText() ([]byte, error) {
	if !r.Valid() {
		return nil, fmt.Errorf("portal: undefined activation result %d", int(r))
	}
	return []byte(r.name()), nil
}

// UnmarshalText decodes a result name, ignoring letter case. The older name
// "invalidCallback" (mobile-plans.md 3.3) decodes as ActivationInvalidJSON.
func (r *ActivationResult) UnmarshalText(b []byte) error {
	if strings.EqualFold(string(b), "invalidCallback") {
		*r = ActivationInvalidJSON
		return nil
	}
	for _, v := range ActivationResults() {
		if strings.EqualFold(v.name(), string(b)) {
			*r = v
			return nil
		}
	}
	return fmt.Errorf("portal: unknown activation result %q", truncate(string(b), 40))
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
