package pki

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testOptions() Options {
	return Options{
		Now:           func() time.Time { return testNow },
		EIDPrefix:     "89049032",
		SMDPHost:      "smdp.mobileplans.test",
		ExtraTLSHosts: []string{"localhost", "127.0.0.1"},
	}
}

func newTestPKI(t testing.TB) *PKI {
	t.Helper()
	p, err := Generate(testOptions())
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return p
}

// makeEID builds a valid EID: prefix, serial zero-padded to 30 digits, and
// the two SGP.29 check digits.
func makeEID(prefix string, serial int) string {
	return withCheckDigits(prefix + fmt.Sprintf("%0*d", 30-len(prefix), serial))
}

// withCheckDigits appends the SGP.29 check digits to a 30-digit body.
func withCheckDigits(body string) string {
	r := 0
	for _, c := range body + "00" {
		r = (r*10 + int(c-'0')) % 97
	}
	return fmt.Sprintf("%s%02d", body, 98-r)
}

func TestMakeEID(t *testing.T) {
	// The SGP.26 test eUICC's EID has valid check digits.
	if got := withCheckDigits("890490321234512345123456789012"); got != "89049032123451234512345678901235" {
		t.Fatalf("makeEID = %s", got)
	}
	for _, eid := range []string{makeEID("89049032", 1), makeEID("8900", 99)} {
		if err := checkEID(eid); err != nil {
			t.Errorf("checkEID(%s): %v", eid, err)
		}
	}
}

func TestCheckEID(t *testing.T) {
	good := makeEID("89049032", 42)
	tests := []struct {
		name string
		eid  string
		ok   bool
	}{
		{"valid", good, true},
		{"short", good[:31], false},
		{"long", good + "0", false},
		{"letter", "A" + good[1:], false},
		{"check digits", good[:30] + fmt.Sprintf("%02d", (int(good[30]-'0')*10+int(good[31]-'0')+1)%100), false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkEID(tt.eid)
			if (err == nil) != tt.ok {
				t.Fatalf("checkEID(%q) = %v, want ok=%v", tt.eid, err, tt.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "EID") {
				t.Errorf("error %q does not mention the EID", err)
			}
		})
	}
}
