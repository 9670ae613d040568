package smdp

import (
	"bytes"
	"strings"
	"testing"
)

func TestLuhn(t *testing.T) {
	tests := []struct {
		s     string
		valid bool
	}{
		{"79927398713", true},
		{"79927398710", false},
		{"0", false},
		{"", false},
		{"4x", false},
		{"18", true},
	}
	for _, tt := range tests {
		if got := luhnValid(tt.s); got != tt.valid {
			t.Errorf("luhnValid(%q) = %v, want %v", tt.s, got, tt.valid)
		}
	}
	if d := luhnDigit("7992739871"); d != '3' {
		t.Errorf("luhnDigit = %c, want 3", d)
	}
}

func TestMakeIDs(t *testing.T) {
	iccid, err := makeICCID("8900101", 42)
	if err != nil || iccid != "8900101000000000042"+string(luhnDigit("8900101000000000042")) || !luhnValid(iccid) {
		t.Errorf("makeICCID = %q, %v", iccid, err)
	}
	if _, err := makeICCID("8900101", 1e13); err == nil {
		t.Error("oversized ICCID serial accepted")
	}
	imsi, err := makeIMSI("00101", 7)
	if err != nil || imsi != "001010000000007" {
		t.Errorf("makeIMSI = %q, %v", imsi, err)
	}
	if _, err := makeIMSI("00101", 1e10); err == nil {
		t.Error("oversized IMSI serial accepted")
	}
}

func TestEncodePLMN(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
	}{
		{"00101", []byte{0x00, 0xF1, 0x10}},
		{"310260", []byte{0x13, 0x00, 0x62}},
		{"26201", []byte{0x62, 0xF2, 0x10}},
	}
	for _, tt := range tests {
		got, err := encodePLMN(tt.in)
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("encodePLMN(%q) = %X, %v; want %X", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "0010", "0010100", "00a01"} {
		if _, err := encodePLMN(bad); err == nil {
			t.Errorf("encodePLMN(%q) accepted", bad)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ABCD-EFGH", "ABCD…"},
		{"ABCD", "…"},
		{"", "…"},
		{"ÄÖÜßxyz", "ÄÖÜß…"},
	}
	for _, tt := range tests {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := redactEID("89049032000000000000000000000123"); got != "89049032…" {
		t.Errorf("redactEID = %q", got)
	}
}

func TestMatchingIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		m := newMatchingID()
		if len(m) != 23 || strings.Count(m, "-") != 3 || !validMatchingID(m) {
			t.Fatalf("newMatchingID = %q", m)
		}
		if seen[m] {
			t.Fatalf("duplicate matching ID %q", m)
		}
		seen[m] = true
	}
	for _, bad := range []string{"", "a b", "x$y", strings.Repeat("A", 65), "ÄÖ"} {
		if validMatchingID(bad) {
			t.Errorf("validMatchingID(%q) = true", bad)
		}
	}
}

func TestCheckAddress(t *testing.T) {
	for _, ok := range []string{"smdp.example.com", "smdp.example.com:8443", "127.0.0.1:1", "[::1]:443"} {
		if err := checkAddress(ok); err != nil {
			t.Errorf("checkAddress(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "x/y", "h:0", "h:x", "a$b"} {
		if err := checkAddress(bad); err == nil {
			t.Errorf("checkAddress(%q) accepted", bad)
		}
	}
}
