package rsp

import (
	"errors"
	"fmt"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// Decoding errors. They are wrapped with details; test with errors.Is.
var (
	// ErrWrongTag: the outer (or a mandatory inner) tag is not the expected one.
	ErrWrongTag = errors.New("rsp: unexpected tag")
	// ErrMissingField: a mandatory element is absent.
	ErrMissingField = errors.New("rsp: missing mandatory field")
	// ErrMalformed: an element is present but its value cannot be decoded.
	ErrMalformed = errors.New("rsp: malformed value")
	// ErrBadICCID: an ICCID is not 18..20 decimal digits or not valid BCD.
	ErrBadICCID = errors.New("rsp: invalid ICCID")
	// ErrBadEID: an EID is not 32 decimal digits or fails the SGP.29 check.
	ErrBadEID = errors.New("rsp: invalid EID")
)

// ResultError is a non-zero result or error code returned by the eUICC in an
// otherwise well-formed ES10 response.
type ResultError struct {
	Function string // ES10 function, e.g. "EnableProfile"
	Code     int    // the numeric code from the card
	Name     string // its SGP.22 name, e.g. "profileNotInDisabledState"
}

// Error returns e.g. "EnableProfile: profileNotInDisabledState (2)".
func (e *ResultError) Error() string {
	return fmt.Sprintf("%s: %s (%d)", e.Function, e.Name, e.Code)
}

func resultErr(fn tlv.Tag, code int, name string) error {
	return &ResultError{Function: FunctionName(fn), Code: code, Name: name}
}
