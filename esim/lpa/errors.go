package lpa

import (
	"errors"
	"fmt"
)

// ErrClosed is returned by calls on a closed Client.
var ErrClosed = errors.New("lpa: client closed")

// ErrCardReset matches (errors.Is) a *CardResetError.
var ErrCardReset = errors.New("lpa: card reset or logical channel lost")

// ErrProfileNotFound is returned (wrapped) by Client.Profile when the card
// has no profile with the ICCID.
var ErrProfileNotFound = errors.New("lpa: profile not found")

// CardResetError reports that the logical channel disappeared during a
// state-changing ES10 function (or again during the retry of a read). The
// card may or may not have executed the command; the client has dropped
// the channel and re-opens it on the next call.
type CardResetError struct {
	Function string
	Err      error
}

func (e *CardResetError) Error() string {
	return fmt.Sprintf("%s: card reset or logical channel lost (the command may or may not have run; the channel is re-opened on the next call): %v",
		e.Function, e.Err)
}

// Unwrap returns the transport error that revealed the reset.
func (e *CardResetError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrCardReset) true.
func (e *CardResetError) Is(target error) bool { return target == ErrCardReset }
