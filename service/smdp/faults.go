package smdp

import (
	"sync"
	"time"

	"github.com/mobileplans/mobileplans/esim/es9"
)

// Function names accepted by Faults (the ES9+ and ES2+ function names).
const (
	FuncInitiateAuthentication = "initiateAuthentication"
	FuncAuthenticateClient     = "authenticateClient"
	FuncGetBoundProfilePackage = "getBoundProfilePackage"
	FuncHandleNotification     = "handleNotification"
	FuncCancelSession          = "cancelSession"
	FuncDownloadOrder          = "downloadOrder"
	FuncConfirmOrder           = "confirmOrder"
	FuncCancelOrder            = "cancelOrder"
	FuncReleaseProfile         = "releaseProfile"
)

// Fault is an injected misbehaviour of one function. The zero Fault does
// nothing. When several parts are set they apply in this order: Delay, then
// Drop, HTTPStatus or Status (the first one set).
type Fault struct {
	// Delay is slept before the function answers (cut short when the
	// request's context ends).
	Delay time.Duration
	// Drop closes the connection without an answer.
	Drop bool
	// HTTPStatus answers with this HTTP status (e.g. 503) and no body.
	HTTPStatus int
	// Status answers with a Failed function execution status carrying this
	// subject/reason code, without running the function.
	Status *es9.Status
	// Count is the number of requests the fault applies to; 0 means until
	// cleared.
	Count int
}

// active reports whether f does anything.
func (f Fault) active() bool {
	return f.Delay > 0 || f.Drop || f.HTTPStatus != 0 || f.Status != nil
}

// Faults injects errors into a running Server, for tests of the device
// side. All methods are safe for concurrent use, also on a nil *Faults
// (which injects nothing).
type Faults struct {
	mu         sync.Mutex
	byFunction map[string]Fault
	tamperSig1 bool
	tamperBPP  bool
	untrusted  bool
}

// Set installs f for the named function (one of the Func constants),
// replacing a previous fault of that function.
func (fs *Faults) Set(function string, f Fault) {
	if fs == nil {
		return
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.byFunction == nil {
		fs.byFunction = make(map[string]Fault)
	}
	fs.byFunction[function] = f
}

// Clear removes the fault of the named function.
func (fs *Faults) Clear(function string) {
	if fs == nil {
		return
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	delete(fs.byFunction, function)
}

// Reset removes every fault.
func (fs *Faults) Reset() {
	if fs == nil {
		return
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.byFunction = nil
	fs.tamperSig1, fs.tamperBPP, fs.untrusted = false, false, false
}

// TamperServerSignature1 makes initiateAuthentication return a
// serverSignature1 with one bit flipped (the eUICC must refuse it with
// invalidSignature).
func (fs *Faults) TamperServerSignature1(on bool) {
	if fs == nil {
		return
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.tamperSig1 = on
}

// TamperBPPSegment makes getBoundProfilePackage flip one byte inside the
// last profile segment (86) of the BPP, so that the eUICC's MAC check fails
// (scp03tSecurityError) at loadProfileElements.
func (fs *Faults) TamperBPPSegment(on bool) {
	if fs == nil {
		return
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.tamperBPP = on
}

// UntrustedDPauth makes initiateAuthentication present a CERT.DPauth
// issued by a second, freshly generated CI that no eUICC trusts (and sign
// with its key), so the eUICC must refuse the server certificate.
func (fs *Faults) UntrustedDPauth(on bool) {
	if fs == nil {
		return
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.untrusted = on
}

// take returns the fault for function and counts it down.
func (fs *Faults) take(function string) Fault {
	if fs == nil {
		return Fault{}
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, ok := fs.byFunction[function]
	if !ok {
		return Fault{}
	}
	if f.Count > 0 {
		if f.Count == 1 {
			delete(fs.byFunction, function)
		} else {
			next := f
			next.Count--
			fs.byFunction[function] = next
		}
	}
	return f
}

func (fs *Faults) flags() (tamperSig1, tamperBPP, untrusted bool) {
	if fs == nil {
		return false, false, false
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.tamperSig1, fs.tamperBPP, fs.untrusted
}
