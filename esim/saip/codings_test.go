package saip

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/mobileplans/mobileplans/esim/rsp"
)

func TestIMSICoding(t *testing.T) {
	tests := []struct {
		imsi string
		want string
	}{
		// TS 31.102 4.2.2; the 15-digit vector is the one of sgp22.md section 6.
		{"001010123456789", "08 09 10 10 10 32 54 76 98"},
		{"00101012345678", "08 01 10 10 10 32 54 76 F8"},
		{"310260000000001", "08 39 01 62 00 00 00 00 10"},
		{"001010", "04 01 10 10 F0 FF FF FF FF"},
		{"0010101", "04 09 10 10 10 FF FF FF FF"},
	}
	for _, tc := range tests {
		t.Run(tc.imsi, func(t *testing.T) {
			got := encodeIMSI(tc.imsi)
			if want := unhex(t, tc.want); !bytes.Equal(got, want) {
				t.Fatalf("encodeIMSI = % X, want % X", got, want)
			}
			back, err := decodeIMSI(got)
			if err != nil || back != tc.imsi {
				t.Fatalf("decodeIMSI = %q, %v", back, err)
			}
		})
	}
}

func TestDecodeIMSIErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"length only", "08"},
		{"length zero", "00 09 10"},
		{"length nine", "09 09 10 10 10 32 54 76 98 10"},
		{"content shorter than length", "08 09 10 10"},
		{"type not IMSI", "08 0A 10 10 10 32 54 76 98"},
		{"even parity without F", "08 01 10 10 10 32 54 76 98"},
		{"odd parity with F", "08 09 10 10 10 32 54 76 F8"},
		{"non-BCD digit", "08 09 10 1A 10 32 54 76 98"},
		{"too few digits", "03 09 10 10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := decodeIMSI(unhex(t, tc.in)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("decodeIMSI = %q, %v; want ErrMalformed", got, err)
			}
		})
	}
}

func TestICCIDCodings(t *testing.T) {
	tests := []struct {
		iccid  rsp.ICCID
		header string // ProfileHeader iccid: plain BCD, F-padded
		ef     string // EF.ICCID: nibble-swapped
	}{
		// Header bytes of the GSMA TS.48 test profile (sgp22.md section 6).
		{"8949449999999990007", "89 49 44 99 99 99 99 90 00 7F", "98 94 44 99 99 99 99 09 00 F7"},
		{"89012345678901234567", "89 01 23 45 67 89 01 23 45 67", "98 10 32 54 76 98 10 32 54 76"},
		{"890123456789012345", "89 01 23 45 67 89 01 23 45 FF", "98 10 32 54 76 98 10 32 54 FF"},
	}
	for _, tc := range tests {
		t.Run(string(tc.iccid), func(t *testing.T) {
			h := encodeHeaderICCID(tc.iccid)
			if want := unhex(t, tc.header); !bytes.Equal(h, want) {
				t.Fatalf("header iccid % X, want % X", h, want)
			}
			back, err := decodeHeaderICCID(h)
			if err != nil || back != tc.iccid {
				t.Fatalf("decodeHeaderICCID = %q, %v", back, err)
			}
			upp := mustBuild(t, Spec{ICCID: tc.iccid, IMSI: "001010123456789", MCCMNC: "00101"})
			ef, err := element(t, upp, tagMF).Path(ctx(4, true), fileFillContent)
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tc.ef); !bytes.Equal(ef.Value, want) {
				t.Fatalf("EF.ICCID % X, want % X", ef.Value, want)
			}
			hdr, err := element(t, upp, tagHeader).Must(0x83)
			if err != nil || !bytes.Equal(hdr.Value, h) {
				t.Fatalf("header iccid in UPP % X (%v)", hdr.Value, err)
			}
		})
	}
}

func TestDecodeHeaderICCIDErrors(t *testing.T) {
	for _, in := range []string{
		"89 49 44 99 99 99 99 90 00",    // 9 bytes
		"89 49 44 99 99 99 99 90 0A 7F", // non-BCD
		"89 49 44 99 99 99 99 F0 00 7F", // digit after padding
		"89 49 44 99 99 99 99 9F FF FF", // 15 digits
	} {
		if _, err := decodeHeaderICCID(unhex(t, in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", in, err)
		}
	}
}

func TestSPNCoding(t *testing.T) {
	tests := []struct {
		spn  string
		want string
	}{
		// pySim ts_51_011 EF.SPN test vector.
		{"GSM-R CH", "01 47534D2D52204348 FFFFFFFFFFFFFFFF"},
		{"", "01 FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"},
		{"@$_£", "01 00021101 FFFFFFFFFFFFFFFFFFFFFFFF"},
		{"Ärger", "01 5B7267657 2 FFFFFFFFFFFFFFFFFFFFFF"},
		{"0123456789abcdef", "01 30313233343536373839616263646566"},
		{"Связь", "01 80 0421 0432 044F 0437 044C FFFFFFFFFF"},
		{"日本通信", "01 80 65E5 672C 901A 4FE1 FFFFFFFFFFFFFF"},
	}
	for _, tc := range tests {
		t.Run(tc.spn, func(t *testing.T) {
			got, err := encodeSPN(tc.spn)
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tc.want); !bytes.Equal(got, want) {
				t.Fatalf("encodeSPN = % X, want % X", got, want)
			}
			back, err := decodeSPN(got)
			if err != nil || back != tc.spn {
				t.Fatalf("decodeSPN = %q, %v", back, err)
			}
		})
	}
}

func TestSPNRefused(t *testing.T) {
	for _, spn := range []string{
		"0123456789abcdefg", // 17 GSM characters
		"Связьсвязь",        // 10 UCS-2 characters
		"SIM 📶",             // outside the BMP
		"bad \xff utf8",
	} {
		if b, err := encodeSPN(spn); err == nil {
			t.Errorf("encodeSPN(%q) = % X, want error", spn, b)
		}
	}
}

func TestDecodeAlphaVariants(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		// TS 102 221 Annex A: 81 = count, base bits 15..8 (<<7); 82 = count, 16-bit base.
		{"81", "81 02 08 A1 41 FF", "СA"},
		{"82", "82 02 04 10 91 41 FF", "СA"},
		{"80 char with FF low byte", "80 00FF FFFF", "ÿ"},
		{"gsm escape shown as space", "41 1B 42", "A B"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeAlpha(unhex(t, tc.in))
			if err != nil || got != tc.want {
				t.Fatalf("decodeAlpha = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	for _, in := range []string{"81 05 08 A1", "82 01 04", "41 42 C3 FF", "FF FF 41"} {
		if got, err := decodeAlpha(unhex(t, in)); err == nil {
			t.Errorf("decodeAlpha(%s) = %q, want error", in, got)
		}
	}
}

func TestGSMAlphabet(t *testing.T) {
	if n := utf8.RuneCountInString(gsmDefault); n != 128 {
		t.Fatalf("default alphabet has %d characters, want 128", n)
	}
	for b := byte(0); b < 0x80; b++ {
		r := gsmDecodeByte(b)
		c, ok := gsmEncodeRune(r)
		if b == gsmEscape {
			if r != ' ' || c != 0x20 {
				t.Fatalf("escape decodes to %q and re-encodes to %02X", r, c)
			}
			continue
		}
		if !ok || c != b {
			t.Fatalf("septet %02X -> %q -> %02X (%v)", b, r, c, ok)
		}
	}
}

func TestPLMNCoding(t *testing.T) {
	tests := []struct{ mccmnc, want string }{
		{"00101", "00 F1 10"},
		{"310260", "13 00 62"},
		{"26201", "62 F2 10"},
	}
	for _, tc := range tests {
		if got := encodePLMN(tc.mccmnc); !bytes.Equal(got, unhex(t, tc.want)) {
			t.Errorf("encodePLMN(%s) = % X, want %s", tc.mccmnc, got, tc.want)
		}
	}
}

func TestDERHelpers(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"uint 0", encUint(0), "00"},
		{"uint 127", encUint(127), "7F"},
		{"uint 129", encUint(0x81), "00 81"},
		{"uint 256", encUint(256), "01 00"},
		{"unsigned 8128", encUnsigned(8128), "1F C0"},
		{"unsigned 200", encUnsigned(200), "C8"},
		{"oid MF template 2.23.143.1.2.1", oidMF(), "67 81 0F 01 02 01"},
		{"oid USIM template 2.23.143.1.2.4.2", oidUSIM(), "67 81 0F 01 02 04 02"},
		{"tag [58] constructed", ctx(58, true).Bytes(), "BF 3A"},
		{"tag [13] constructed", ctx(13, true).Bytes(), "AD"},
	}
	for _, tc := range tests {
		if !bytes.Equal(tc.got, unhex(t, tc.want)) {
			t.Errorf("%s: % X, want %s", tc.name, tc.got, tc.want)
		}
	}
	for _, in := range []string{"", "80", "01 00 00 00 00", "01 00"} {
		if v, err := decUint(unhex(t, in), 255); err == nil {
			t.Errorf("decUint(%s) = %d, want error", in, v)
		}
	}
}
