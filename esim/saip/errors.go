package saip

import "errors"

// Errors returned by Build, Parser and Parse; they are wrapped with details,
// test with errors.Is.
var (
	// ErrMalformed: the input is not a well-formed SAIP profile package
	// (bad BER, first element not the header, data after PE-End, invalid
	// ICCID or IMSI, missing mandatory content).
	ErrMalformed = errors.New("saip: malformed profile package")
	// ErrTooLarge: the input exceeds the parser's size limit.
	ErrTooLarge = errors.New("saip: profile package too large")
	// ErrIncomplete: the input ended before the package was complete
	// (truncated element, no PE-End).
	ErrIncomplete = errors.New("saip: profile package incomplete")
	// ErrInvalidSpec: Build was given a Spec it cannot encode.
	ErrInvalidSpec = errors.New("saip: invalid profile spec")
)
