package es9

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestStatusTable: every row of sgp22.md 3.3 has a specific, readable name.
func TestStatusTable(t *testing.T) {
	rows := []struct {
		subject, reason string
		ctor            func() Status
		want            string
	}{
		{"8.8.1", "3.8", StatusInvalidSMDPAddress, "invalid SM-DP+ address"},
		{"8.8.2", "3.1", StatusCIPKIDNotSupported, "none of the eUICC's CI public keys supported"},
		{"8.8.3", "3.1", StatusSVNNotSupported, "eUICC specification version not supported"},
		{"8.8.4", "3.7", StatusNoDPAuthCertificate, "no SM-DP+ authentication certificate for the eUICC's CIs"},
		{"8.10.1", "3.9", StatusTransactionIDUnknown, "transaction ID unknown"},
		{"8.1.2", "6.1", StatusEUMCertificateInvalid, "EUM certificate invalid"},
		{"8.1.2", "6.3", StatusEUMCertificateExpired, "EUM certificate expired"},
		{"8.1.3", "6.1", StatusEUICCCertificateInvalid, "eUICC certificate invalid"},
		{"8.1.3", "6.3", StatusEUICCCertificateExpired, "eUICC certificate expired"},
		{"8.1", "6.1", StatusEUICCSignatureInvalid, "eUICC signature invalid"},
		{"8.11.1", "3.9", StatusCIUnknown, "CI of the EUM certificate not trusted"},
		{"8.2.6", "3.8", StatusMatchingIDRefused, "matching ID refused"},
		{"8.1.1", "3.8", StatusEIDRefused, "EID refused"},
		{"8.2.5", "4.3", StatusNoEligibleProfile, "no eligible profile"},
		{"8.1", "4.8", StatusInsufficientMemory, "insufficient eUICC memory"},
		{"8.8.5", "4.1", StatusDownloadOrderExpired, "download order expired"},
		{"8.8.5", "6.4", StatusDownloadRetriesExceeded, "maximum number of download retries exceeded"},
		{"8.2.7", "2.2", StatusConfirmationCodeMissing, "confirmation code missing"},
		{"8.2.7", "3.8", StatusConfirmationCodeRefused, "confirmation code refused"},
		{"8.2.7", "6.4", StatusConfirmationCodeRetriesExceeded, "maximum number of confirmation code retries exceeded"},
		{"8.2", "3.7", StatusBPPNotAvailable, "bound profile package not available for a new binding"},
		{"8.8", "3.10", StatusInvalidSMDPOID, "invalid SM-DP+ OID"},
		{"8.8", "3.1", nil, "invalid SM-DP+ OID"},
		{"8.9.1", "3.8", StatusInvalidSMDSAddress, "invalid SM-DS address"},
		{"8.9.5", "3.9", StatusEventUnknown, "event unknown"},
	}
	seen := make(map[Status]bool)
	for _, r := range rows {
		s := Status{r.subject, r.reason}
		if r.ctor != nil {
			if got := r.ctor(); got != s {
				t.Errorf("constructor for %s returns %s", s, got)
			}
			if seen[s] {
				t.Errorf("%s listed twice", s)
			}
			seen[s] = true
		}
		if !s.Known() {
			t.Errorf("%s not Known", s)
		}
		if got := s.Name(); got != r.want {
			t.Errorf("%s.Name() = %q, want %q", s, got, r.want)
		}
	}
}

func TestStatusFallbackName(t *testing.T) {
	cases := []struct {
		s    Status
		want string
	}{
		{Status{"8.2.6", "2.1"}, "matching ID: invalid"},
		{Status{"8.10.1", "6.4"}, "transaction ID: maximum number of retries exceeded"},
		{Status{"8.1", "9.9"}, "eUICC"},
		{Status{"9.9", "1.2"}, "not allowed"},
		{Status{"9.9", "9.9"}, ""},
	}
	for _, c := range cases {
		if c.s.Known() {
			t.Errorf("%s Known", c.s)
		}
		if got := c.s.Name(); got != c.want {
			t.Errorf("%s.Name() = %q, want %q", c.s, got, c.want)
		}
	}
}

func TestHeaderErr(t *testing.T) {
	for _, st := range []string{StatusSuccess, StatusWarning} {
		h := ResponseHeader{FunctionExecutionStatus: FunctionExecutionStatus{Status: st}}
		if err := h.Err("authenticateClient"); err != nil {
			t.Errorf("%s: %v", st, err)
		}
	}
	cases := []struct {
		name string
		h    ResponseHeader
		want string
	}{
		{"failed", Failure(StatusMatchingIDRefused(), "no such order"),
			"authenticateClient failed: 8.2.6/3.8 matching ID refused: no such order"},
		{"failed without message", Failure(StatusMatchingIDRefused(), ""),
			"authenticateClient failed: 8.2.6/3.8 matching ID refused"},
		{"expired", ResponseHeader{FunctionExecutionStatus{Status: StatusExpired,
			StatusCodeData: &StatusCodeData{SubjectCode: "8.8.5", ReasonCode: "4.1"}}},
			"authenticateClient expired: 8.8.5/4.1 download order expired"},
		{"failed without data", ResponseHeader{FunctionExecutionStatus{Status: StatusFailed}}, "authenticateClient failed"},
		{"no status", ResponseHeader{}, "authenticateClient returned no status"},
		{"odd status", ResponseHeader{FunctionExecutionStatus{Status: "Done"}}, `authenticateClient returned status "Done"`},
		{"unknown code", Failure(Status{"9.9", "9.9"}, "x"), "authenticateClient failed: 9.9/9.9: x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.h.Err("authenticateClient")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Err() = %v (%T), want *Error", err, err)
			}
			if got := err.Error(); got != c.want {
				t.Errorf("Error() = %q, want %q", got, c.want)
			}
		})
	}
	if got := (&Error{Status: StatusFailed, Subject: "8.1", Reason: "6.1"}).Error(); got != "ES9+ function failed: 8.1/6.1 eUICC signature invalid" {
		t.Errorf("without function: %q", got)
	}
}

func TestErrorIs(t *testing.T) {
	err := fmt.Errorf("download: %w", Failure(StatusMatchingIDRefused(), "m").Err("authenticateClient"))
	cases := []struct {
		target error
		want   bool
	}{
		{StatusMatchingIDRefused().Err(), true},
		{&Error{Subject: "8.2.6", Reason: "3.8"}, true},
		{&Error{Function: "authenticateClient", Subject: "8.2.6", Reason: "3.8"}, true},
		{&Error{Function: "getBoundProfilePackage", Subject: "8.2.6", Reason: "3.8"}, false},
		{StatusEIDRefused().Err(), false},
		{&Error{Subject: "8.2.6", Reason: "3.9"}, false},
		{(*Error)(nil), false},
		{errors.New("8.2.6/3.8"), false},
	}
	for _, c := range cases {
		if got := errors.Is(err, c.target); got != c.want {
			t.Errorf("errors.Is(%v, %v) = %v", err, c.target, got)
		}
	}
	if !strings.Contains(err.Error(), "matching ID refused") {
		t.Errorf("message %q", err)
	}
}
