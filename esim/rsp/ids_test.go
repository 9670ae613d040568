package rsp

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseICCID(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{testICCID, testICCID, true},
		{"8904903212345123451", "8904903212345123451", true},
		{"8904903212345123451F", "8904903212345123451", true},
		{" 8904903212345123451f\n", "8904903212345123451", true},
		{"890490321234512345", "890490321234512345", true},
		{"89049032123451234", "", false},     // 17 digits
		{"890490321234512345123", "", false}, // 21 digits
		{"8904903212345123451A", "", false},
		{"89049032123451234F12", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := ParseICCID(tt.in)
		if tt.ok != (err == nil) || string(got) != tt.want {
			t.Errorf("ParseICCID(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadICCID) {
			t.Errorf("ParseICCID(%q): error %v does not wrap ErrBadICCID", tt.in, err)
		}
	}
}

func TestDecodeICCID(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{hexTestICCID, testICCID, true},
		{"984009232143153254F1", "8904903212345123451", true},
		{"984009232143153254FF", "890490321234512345", true},
		{"9840092321431532FFFF", "", false},   // 16 digits
		{"98400923214315325F21", "", false},   // digit after padding
		{"984009232143153254A1", "", false},   // non-BCD nibble
		{"9840092321431532542101", "", false}, // 11 bytes
		{"984009232143153254", "", false},     // 9 bytes
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := DecodeICCID(unhex(t, tt.in))
		if tt.ok != (err == nil) || string(got) != tt.want {
			t.Errorf("DecodeICCID(%s) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadICCID) {
			t.Errorf("DecodeICCID(%s): error %v does not wrap ErrBadICCID", tt.in, err)
		}
		if err == nil && !bytes.Equal(got.Encode(), unhex(t, tt.in)) {
			t.Errorf("ICCID %q encodes to %X, want %s", got, got.Encode(), tt.in)
		}
	}
}

func TestParseEID(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"SGP.22 example (mod 97 = 1)", testEID, true},
		{"KDF vector A EID (mod 97 = 4)", "89049032123451234512345678901335", false},
		{"spaces trimmed", " " + testEID + " ", true},
		{"one digit changed", "89049032123451234512345678901236", false},
		{"31 digits", testEID[:31], false},
		{"33 digits", testEID + "0", false},
		{"letter", "8904903212345123451234567890123A", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEID(tt.in)
			if tt.ok != (err == nil) {
				t.Fatalf("ParseEID(%q) = %q, %v; want ok=%v", tt.in, got, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrBadEID) {
				t.Fatalf("error %v does not wrap ErrBadEID", err)
			}
		})
	}
}

func TestDecodeEID(t *testing.T) {
	got, err := DecodeEID(unhex(t, testEID))
	if err != nil || got != testEID {
		t.Fatalf("DecodeEID = %q, %v", got, err)
	}
	for _, bad := range []string{"89049032123451234512345678901335", "8904903212345123451234567890123F", testEID[:30], testEID + "00"} {
		if _, err := DecodeEID(unhex(t, bad)); !errors.Is(err, ErrBadEID) {
			t.Errorf("DecodeEID(%s): err %v, want ErrBadEID", bad, err)
		}
	}
}

func TestNewEID(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		serial []byte
		want   string
		ok     bool
	}{
		{"30-digit prefix gives the SGP.22 example", "890490321234512345123456789012", nil, testEID, true},
		{"serial 258 zero-padded", "89049032", []byte{0x01, 0x02}, "89049032000000000000000000025868", true},
		{"serial cut to its low digits", "8904903212345123451234567890", []byte{0x01, 0x00}, "", true},
		{"prefix too long", "8904903212345123451234567890123", nil, "", false},
		{"prefix not digits", "8904x032", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewEID(tt.prefix, tt.serial)
			if tt.ok != (err == nil) {
				t.Fatalf("NewEID = %q, %v; want ok=%v", got, err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrBadEID) {
					t.Fatalf("error %v does not wrap ErrBadEID", err)
				}
				return
			}
			if tt.want != "" && string(got) != tt.want {
				t.Fatalf("NewEID = %q, want %q", got, tt.want)
			}
			if _, err := ParseEID(string(got)); err != nil {
				t.Fatalf("NewEID result %q does not parse: %v", got, err)
			}
			if got[:len(tt.prefix)] != EID(tt.prefix) {
				t.Fatalf("NewEID result %q lost prefix %q", got, tt.prefix)
			}
		})
	}
	// 256 = "256" cut to the 2 free digits gives "56".
	if got, _ := NewEID("8904903212345123451234567890", []byte{0x01, 0x00}); got[28:30] != "56" {
		t.Errorf("serial digits = %q, want 56", got[28:30])
	}
}

func TestVersion(t *testing.T) {
	if s := (Version{2, 2, 1}).String(); s != "2.2.1" {
		t.Errorf("String = %q", s)
	}
	tests := []struct {
		in   string
		want Version
		ok   bool
	}{
		{"2.2.1", Version{2, 2, 1}, true},
		{"255.0.10", Version{255, 0, 10}, true},
		{"2.2", Version{}, false},
		{"2.2.256", Version{}, false},
		{"2.2.1x", Version{}, false},
		{"-1.2.3", Version{}, false},
	}
	for _, tt := range tests {
		got, err := ParseVersion(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestProfileIDString(t *testing.T) {
	if s := (ProfileID{ICCID: testICCID}).String(); s != "iccid "+testICCID {
		t.Errorf("got %q", s)
	}
	if s := (ProfileID{AID: unhex(t, hexISDPAID)}).String(); s != "aid "+hexISDPAID {
		t.Errorf("got %q", s)
	}
}
