package smdp

import (
	"errors"
	"fmt"
)

// State is the lifecycle state of one profile of the inventory, which is
// also the state of the download order placed on it (SGP.22 ES2+).
type State string

// Profile states.
const (
	// StateAvailable: in the inventory, not ordered.
	StateAvailable State = "available"
	// StateAllocated: reserved by ES2+.DownloadOrder without an EID.
	StateAllocated State = "allocated"
	// StateLinked: reserved by ES2+.DownloadOrder and bound to an EID.
	StateLinked State = "linked"
	// StateConfirmed: ES2+.ConfirmOrder without releaseFlag; waits for
	// ES2+.ReleaseProfile.
	StateConfirmed State = "confirmed"
	// StateReleased: downloadable with its matching ID.
	StateReleased State = "released"
	// StateDownloaded: the Bound Profile Package was delivered to an eUICC;
	// the installation result is pending.
	StateDownloaded State = "downloaded"
	// StateInstalled: the eUICC reported a successful installation. Final.
	StateInstalled State = "installed"
	// StateError: unusable (cancelled as Unavailable, or too many wrong
	// confirmation codes). Final.
	StateError State = "error"
)

// States lists every state in lifecycle order.
func States() []State {
	return []State{StateAvailable, StateAllocated, StateLinked, StateConfirmed, StateReleased,
		StateDownloaded, StateInstalled, StateError}
}

// Event is what happens to a profile order; Transition says where it leads.
type Event string

// Events of the order lifecycle.
const (
	// EventOrder: ES2+.DownloadOrder without EID.
	EventOrder Event = "downloadOrder"
	// EventOrderForEID: ES2+.DownloadOrder with an EID.
	EventOrderForEID Event = "downloadOrder(eid)"
	// EventConfirm: ES2+.ConfirmOrder with releaseFlag false.
	EventConfirm Event = "confirmOrder"
	// EventConfirmRelease: ES2+.ConfirmOrder with releaseFlag true.
	EventConfirmRelease Event = "confirmOrder(release)"
	// EventRelease: ES2+.ReleaseProfile.
	EventRelease Event = "releaseProfile"
	// EventCancelAvailable: ES2+.CancelOrder, final status Available.
	EventCancelAvailable Event = "cancelOrder(available)"
	// EventCancelUnavailable: ES2+.CancelOrder, final status Unavailable.
	EventCancelUnavailable Event = "cancelOrder(unavailable)"
	// EventBPPDelivered: ES9+.GetBoundProfilePackage returned the BPP.
	EventBPPDelivered Event = "bppDelivered"
	// EventInstalled: a verified ProfileInstallationResult with success.
	EventInstalled Event = "installed"
	// EventInstallFailed: a verified ProfileInstallationResult with an
	// error; the order can be downloaded again.
	EventInstallFailed Event = "installFailed"
	// EventSessionEnded: the download session was cancelled
	// (ES9+.CancelSession) or expired after the BPP was delivered; the
	// order can be downloaded again.
	EventSessionEnded Event = "sessionEnded"
	// EventCCExhausted: the maximum number of wrong confirmation codes was
	// reached.
	EventCCExhausted Event = "ccRetriesExhausted"
)

// ErrInvalidTransition is wrapped by *TransitionError.
var ErrInvalidTransition = errors.New("smdp: invalid profile state transition")

// TransitionError reports an event that is not allowed in a state.
type TransitionError struct {
	ICCID string
	From  State
	Event Event
}

func (e *TransitionError) Error() string {
	if e.ICCID == "" {
		return fmt.Sprintf("smdp: %s not allowed in state %s", e.Event, e.From)
	}
	return fmt.Sprintf("smdp: profile %s: %s not allowed in state %s", e.ICCID, e.Event, e.From)
}

// Unwrap returns ErrInvalidTransition.
func (e *TransitionError) Unwrap() error { return ErrInvalidTransition }

// transitionTable returns the state machine: for each event the states it
// may happen in and the state it leads to. It is the only place where
// transitions are defined; the store applies them with Transition.
func transitionTable() map[Event]map[State]State {
	return map[Event]map[State]State{
		EventOrder:          {StateAvailable: StateAllocated},
		EventOrderForEID:    {StateAvailable: StateLinked},
		EventConfirm:        {StateAllocated: StateConfirmed, StateLinked: StateConfirmed},
		EventConfirmRelease: {StateAllocated: StateReleased, StateLinked: StateReleased},
		EventRelease:        {StateConfirmed: StateReleased},
		EventCancelAvailable: {
			StateAllocated: StateAvailable, StateLinked: StateAvailable,
			StateConfirmed: StateAvailable, StateReleased: StateAvailable,
		},
		EventCancelUnavailable: {
			StateAllocated: StateError, StateLinked: StateError,
			StateConfirmed: StateError, StateReleased: StateError,
		},
		EventBPPDelivered: {StateReleased: StateDownloaded},
		// A result can arrive after the session expired and the order went
		// back to released: the profile is on the card all the same.
		EventInstalled:     {StateDownloaded: StateInstalled, StateReleased: StateInstalled},
		EventInstallFailed: {StateDownloaded: StateReleased},
		EventSessionEnded:  {StateDownloaded: StateReleased},
		EventCCExhausted:   {StateReleased: StateError},
	}
}

// Transition returns the state that ev leads to from the state from, or a
// *TransitionError when ev is not allowed there.
func Transition(from State, ev Event) (State, error) {
	if to, ok := transitionTable()[ev][from]; ok {
		return to, nil
	}
	return "", &TransitionError{From: from, Event: ev}
}
