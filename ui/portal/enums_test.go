package portal

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestActivationResultNames(t *testing.T) {
	// The list of mobile-plans.md 3.3, in order.
	want := strings.Fields(`success notAuthorized notFound policyViolation insufficientSpaceOnCard
		serverFailure serverNotReachable timeoutWaitingForUserConsent incorrectConfirmationCode
		confirmationCodeMaxRetriesExceeded cardRemoved cardBusy other cardGeneralFailure
		confirmationCodeMissing invalidMatchingId noEligibleProfileForThisDevice operationAborted
		eidMismatch profileNotAvailableForNewBinding profileNotReleasedByOperator
		operationProhibitedByProfileClass profileNotPresent noCorrespondingRequest unknownError
		lpaInitializationError modemNotFound localSettingsAccessFailed invalidJson
		invalidActivationCode invalidIccid`)
	all := ActivationResults()
	if len(all) != len(want) {
		t.Fatalf("%d results, want %d", len(all), len(want))
	}
	for i, r := range all {
		if r.String() != want[i] {
			t.Errorf("result %d = %q, want %q", i, r, want[i])
		}
		b, err := json.Marshal(r)
		if err != nil || string(b) != `"`+want[i]+`"` {
			t.Errorf("Marshal(%v) = %s, %v", r, b, err)
		}
		var back ActivationResult
		if err := json.Unmarshal([]byte(`"`+strings.ToUpper(want[i])+`"`), &back); err != nil || back != r {
			t.Errorf("Unmarshal(%q) = %v, %v", strings.ToUpper(want[i]), back, err)
		}
	}
	var r ActivationResult
	if err := r.UnmarshalText([]byte("invalidCallback")); err != nil || r != ActivationInvalidJSON {
		t.Errorf("invalidCallback = %v, %v", r, err)
	}
	for _, bad := range []string{"", "succes", "TimeoutWaitingForResponse"} {
		if err := r.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("UnmarshalText(%q) accepted", bad)
		}
	}
	for _, bad := range []ActivationResult{0, ActivationInvalidICCID + 1, -1} {
		if bad.Valid() {
			t.Errorf("%d valid", bad)
		}
		if _, err := json.Marshal(bad); err == nil {
			t.Errorf("Marshal(%d) accepted", bad)
		}
		if bad.String() == "" {
			t.Errorf("String(%d) empty", bad)
		}
	}
}

func TestRegistrationStateNames(t *testing.T) {
	want := []string{"none", "deregistered", "searching", "home", "roaming", "partner", "denied"}
	registered := map[string]bool{"home": true, "roaming": true, "partner": true}
	all := RegistrationStates()
	if len(all) != len(want) {
		t.Fatalf("%d states, want %d", len(all), len(want))
	}
	for i, s := range all {
		if s.String() != want[i] {
			t.Errorf("state %d = %q, want %q", i, s, want[i])
		}
		if s.Registered() != registered[want[i]] {
			t.Errorf("%v.Registered() = %v", s, s.Registered())
		}
		var back RegistrationState
		if err := back.UnmarshalText([]byte(strings.ToUpper(want[i]))); err != nil || back != s {
			t.Errorf("UnmarshalText(%q) = %v, %v", want[i], back, err)
		}
	}
	var zero RegistrationState
	if zero.Valid() || zero.Registered() {
		t.Error("zero state is valid")
	}
	if _, err := zero.MarshalText(); err == nil {
		t.Error("zero state marshals")
	}
	if err := zero.UnmarshalText([]byte("registered")); err == nil {
		t.Error("unknown state accepted")
	}
}
