package smdp

import (
	"errors"
	"fmt"
	"testing"
)

func TestTransitionTable(t *testing.T) {
	type key struct {
		from State
		ev   Event
	}
	// The lifecycle of doc.go; every pair not listed must be refused.
	allowed := map[key]State{
		{StateAvailable, EventOrder}:             StateAllocated,
		{StateAvailable, EventOrderForEID}:       StateLinked,
		{StateAllocated, EventConfirm}:           StateConfirmed,
		{StateLinked, EventConfirm}:              StateConfirmed,
		{StateAllocated, EventConfirmRelease}:    StateReleased,
		{StateLinked, EventConfirmRelease}:       StateReleased,
		{StateConfirmed, EventRelease}:           StateReleased,
		{StateAllocated, EventCancelAvailable}:   StateAvailable,
		{StateLinked, EventCancelAvailable}:      StateAvailable,
		{StateConfirmed, EventCancelAvailable}:   StateAvailable,
		{StateReleased, EventCancelAvailable}:    StateAvailable,
		{StateAllocated, EventCancelUnavailable}: StateError,
		{StateLinked, EventCancelUnavailable}:    StateError,
		{StateConfirmed, EventCancelUnavailable}: StateError,
		{StateReleased, EventCancelUnavailable}:  StateError,
		{StateReleased, EventBPPDelivered}:       StateDownloaded,
		{StateDownloaded, EventInstalled}:        StateInstalled,
		{StateReleased, EventInstalled}:          StateInstalled,
		{StateDownloaded, EventInstallFailed}:    StateReleased,
		{StateDownloaded, EventSessionEnded}:     StateReleased,
		{StateReleased, EventCCExhausted}:        StateError,
	}
	events := []Event{EventOrder, EventOrderForEID, EventConfirm, EventConfirmRelease, EventRelease,
		EventCancelAvailable, EventCancelUnavailable, EventBPPDelivered, EventInstalled, EventInstallFailed,
		EventSessionEnded, EventCCExhausted}
	for _, from := range States() {
		for _, ev := range events {
			t.Run(fmt.Sprintf("%s/%s", from, ev), func(t *testing.T) {
				to, err := Transition(from, ev)
				want, ok := allowed[key{from, ev}]
				if ok {
					if err != nil || to != want {
						t.Fatalf("Transition = %s, %v; want %s", to, err, want)
					}
					return
				}
				var te *TransitionError
				if !errors.As(err, &te) || !errors.Is(err, ErrInvalidTransition) || te.From != from || te.Event != ev {
					t.Fatalf("Transition = %s, %v; want a *TransitionError", to, err)
				}
			})
		}
	}
	// Final states stay final.
	for _, final := range []State{StateInstalled, StateError} {
		for _, ev := range events {
			if _, err := Transition(final, ev); err == nil {
				t.Errorf("%s left by %s", final, ev)
			}
		}
	}
	if _, err := Transition(State("bogus"), EventOrder); err == nil {
		t.Error("unknown state accepted")
	}
}

func TestTransitionErrorMessage(t *testing.T) {
	err := &TransitionError{ICCID: "89001010000000000018", From: StateInstalled, Event: EventBPPDelivered}
	if got, want := err.Error(), "smdp: profile 89001010000000000018: bppDelivered not allowed in state installed"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
