package at

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; the engine wraps them with the command name.
var (
	// ErrTimeout: the modem sent no final result code before the deadline.
	ErrTimeout = errors.New("at: timeout")
	// ErrError: the modem answered with a plain ERROR final result.
	ErrError = errors.New("at: ERROR")
	// ErrClosed: the modem was closed, or its port failed.
	ErrClosed = errors.New("at: modem closed")
)

// CMEError is a "+CME ERROR: <err>" final result (27.007 9.2), numeric or verbose.
type CMEError struct {
	// Code is the 27.007 error number, or -1 when the modem sent a text this
	// package does not know.
	Code int
	// Text is the 27.007 name of the error (or the modem's own text).
	Text string
	// Command is the name of the command that failed, e.g. "AT+CGLA".
	Command string
}

func (e *CMEError) Error() string {
	if e.Code < 0 {
		return fmt.Sprintf("%s: +CME ERROR: %s", e.Command, e.Text)
	}
	return fmt.Sprintf("%s: +CME ERROR: %d (%s)", e.Command, e.Code, e.Text)
}

// CMSError is a "+CMS ERROR: <err>" final result (27.005 3.2.5).
type CMSError struct {
	// Code is the error number, or -1 for a verbose text.
	Code int
	// Text is the modem's text for a verbose error, else empty.
	Text    string
	Command string
}

func (e *CMSError) Error() string {
	if e.Code < 0 {
		return fmt.Sprintf("%s: +CMS ERROR: %s", e.Command, e.Text)
	}
	return fmt.Sprintf("%s: +CMS ERROR: %d", e.Command, e.Code)
}

// ResultError is a call-related final result other than OK and ERROR
// (NO CARRIER, BUSY, NO ANSWER, NO DIALTONE).
type ResultError struct {
	Command string
	Result  string
}

func (e *ResultError) Error() string { return fmt.Sprintf("%s: %s", e.Command, e.Result) }

// CME error codes this package acts on.
const (
	CMEOperationNotAllowed   = 3
	CMEOperationNotSupported = 4
	CMESIMNotInserted        = 10
	CMESIMFailure            = 13
	CMESIMBusy               = 14
	CMEInvalidIndex          = 21
	CMEIncorrectParameters   = 50
	CMEUnknown               = 100
)

// cmeName returns the 27.007 name of a +CME ERROR code, or "".
func cmeName(code int) string {
	switch code {
	case 0:
		return "phone failure"
	case 1:
		return "no connection to phone"
	case 2:
		return "phone-adaptor link reserved"
	case 3:
		return "operation not allowed"
	case 4:
		return "operation not supported"
	case 5:
		return "PH-SIM PIN required"
	case 6:
		return "PH-FSIM PIN required"
	case 7:
		return "PH-FSIM PUK required"
	case 10:
		return "SIM not inserted"
	case 11:
		return "SIM PIN required"
	case 12:
		return "SIM PUK required"
	case 13:
		return "SIM failure"
	case 14:
		return "SIM busy"
	case 15:
		return "SIM wrong"
	case 16:
		return "incorrect password"
	case 17:
		return "SIM PIN2 required"
	case 18:
		return "SIM PUK2 required"
	case 20:
		return "memory full"
	case 21:
		return "invalid index"
	case 22:
		return "not found"
	case 23:
		return "memory failure"
	case 24:
		return "text string too long"
	case 25:
		return "invalid characters in text string"
	case 26:
		return "dial string too long"
	case 27:
		return "invalid characters in dial string"
	case 30:
		return "no network service"
	case 31:
		return "network timeout"
	case 32:
		return "network not allowed - emergency calls only"
	case 40:
		return "network personalization PIN required"
	case 41:
		return "network personalization PUK required"
	case 42:
		return "network subset personalization PIN required"
	case 43:
		return "network subset personalization PUK required"
	case 44:
		return "service provider personalization PIN required"
	case 45:
		return "service provider personalization PUK required"
	case 46:
		return "corporate personalization PIN required"
	case 47:
		return "corporate personalization PUK required"
	case 50:
		return "incorrect parameters"
	case 100:
		return "unknown"
	}
	return ""
}

// cmeCode finds the code of a verbose +CME ERROR text, or -1. Modems vary
// in case and in using "-" or "," in the longer names, so both sides are
// normalised to lower-case letters and digits.
func cmeCode(text string) int {
	want := normName(text)
	if want == "" {
		return -1
	}
	for code := 0; code <= 100; code++ {
		if n := cmeName(code); n != "" && normName(n) == want {
			return code
		}
	}
	return -1
}

func normName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}
