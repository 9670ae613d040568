package app

import (
	"errors"
	"fmt"
	"slices"
)

// State is a step of the journey.
type State string

// The journey's states.
const (
	// StateIdle: nothing happened yet.
	StateIdle State = "idle"
	// StateProbe: reading the modem and the eUICC.
	StateProbe State = "probe"
	// StateDiscover: asking the discovery service for operators.
	StateDiscover State = "discover"
	// StateGateway: the operator's gateway page.
	StateGateway State = "gateway"
	// StatePortal: the operator's portal is open; the page drives the
	// journey through the bridge.
	StatePortal State = "portal"
	// StateDownload: SGP.22 authentication and bound profile package
	// download.
	StateDownload State = "download"
	// StateInstall: the package goes to the eUICC, segment by segment.
	StateInstall State = "install"
	// StateEnable: enabling the profile.
	StateEnable State = "enable"
	// StateRefresh: asking the modem to re-read the SIM.
	StateRefresh State = "refresh"
	// StateRegister: waiting for network registration on the profile.
	StateRegister State = "register"
	// StateConnect: bringing up the data bearer.
	StateConnect State = "connect"
	// StateDone: the journey succeeded.
	StateDone State = "done"
	// StateFailed: the journey failed (see the ErrorEvent).
	StateFailed State = "failed"
	// StateCancelled: the user or the portal cancelled the journey.
	StateCancelled State = "cancelled"
)

// States returns every state, in journey order.
func States() []State {
	return []State{StateIdle, StateProbe, StateDiscover, StateGateway, StatePortal, StateDownload, StateInstall,
		StateEnable, StateRefresh, StateRegister, StateConnect, StateDone, StateFailed, StateCancelled}
}

// next is the journey's transition table: the only place that says which
// states may follow from. The UI steps (probe, discover, gateway, portal)
// may follow each other in any order. A state may always "move" to itself,
// which changes nothing.
func next(from State) []State {
	ui := []State{StateProbe, StateDiscover, StateGateway, StatePortal}
	switch from {
	case StateIdle:
		return append(ui, StateDownload, StateEnable)
	case StateProbe, StateDiscover, StateGateway:
		return append(ui, StateFailed, StateCancelled)
	case StatePortal:
		return append(ui, StateDownload, StateEnable, StateDone, StateFailed, StateCancelled)
	case StateDownload:
		return []State{StateInstall, StateFailed, StateCancelled}
	case StateInstall:
		// Back to download: a retried attempt.
		return []State{StateDownload, StateEnable, StateFailed, StateCancelled}
	case StateEnable:
		return []State{StateRefresh, StateRegister, StateFailed, StateCancelled}
	case StateRefresh:
		return []State{StateRegister, StateFailed, StateCancelled}
	case StateRegister:
		return []State{StateConnect, StateDone, StateFailed, StateCancelled}
	case StateConnect:
		return []State{StateDone, StateFailed, StateCancelled}
	case StateDone:
		return append(ui, StateDownload, StateEnable, StateCancelled)
	case StateFailed:
		return append(ui, StateDownload, StateEnable, StateDone, StateCancelled)
	case StateCancelled:
		return append(ui, StateDownload, StateEnable, StateDone)
	}
	return nil
}

// CanTransition reports whether the journey may go from one state to the
// other.
func CanTransition(from, to State) bool {
	n := next(from)
	return n != nil && (from == to || slices.Contains(n, to))
}

// Running reports whether s is a state of a fulfilment in progress
// (download to connect).
func (s State) Running() bool {
	switch s {
	case StateDownload, StateInstall, StateEnable, StateRefresh, StateRegister, StateConnect:
		return true
	}
	return false
}

// Terminal reports whether s ends a journey (done, failed, cancelled).
func (s State) Terminal() bool {
	return s == StateDone || s == StateFailed || s == StateCancelled
}

// ErrIllegalTransition matches (errors.Is) every *TransitionError.
var ErrIllegalTransition = errors.New("app: illegal journey transition")

// TransitionError is a refused state change; the journey stays in From.
type TransitionError struct {
	From, To State
}

func (e *TransitionError) Error() string {
	if e.From.Running() {
		return fmt.Sprintf("app: cannot go to %s while the journey is in %s (a fulfilment is running; cancel it or wait)", e.To, e.From)
	}
	return fmt.Sprintf("app: illegal journey transition %s -> %s", e.From, e.To)
}

// Is makes errors.Is(err, ErrIllegalTransition) true.
func (e *TransitionError) Is(target error) bool { return target == ErrIllegalTransition }
