package saip

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// smallSpec builds a profile of about 3 KB, so that splitting it at every
// position stays cheap.
func smallSpec() Spec {
	s := testSpec()
	s.Filler = 600
	return s
}

func TestParserEverySplit(t *testing.T) {
	upp := mustBuild(t, smallSpec())
	want, err := Parse(upp)
	if err != nil {
		t.Fatal(err)
	}
	for cut := 0; cut <= len(upp); cut++ {
		got, err := parseChunks(upp, func(i int) int {
			if i == 0 {
				return cut
			}
			return len(upp)
		})
		if err != nil || got != want {
			t.Fatalf("split at %d: %+v, %v", cut, got, err)
		}
	}
}

func TestParserChunkings(t *testing.T) {
	upp := mustBuild(t, testSpec())
	want, err := Parse(upp)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name  string
		sizes func(i int) int
	}{
		{"1-byte chunks", func(int) int { return 1 }},
		{"2-byte chunks", func(int) int { return 2 }},
		{"BPP segments of 1007 bytes", func(int) int { return 1007 }},
		{"random chunks up to 64", func(int) int { return rng.IntN(65) }},
		{"random chunks up to 3000", func(int) int { return rng.IntN(3001) }},
		{"empty writes between bytes", func(i int) int { return i % 2 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseChunks(upp, tc.sizes)
			if err != nil || got != want {
				t.Fatalf("got %+v, %v; want %+v", got, err, want)
			}
		})
	}
}

// minimalUPP is a hand-made package in the shape other SM-DP+s produce:
// header with profileType, PE-MF without EF.ICCID content, an unknown
// extension element (BF21 opt-iot), a nonStandard element, a PE-USIM whose
// EF.IMSI is written with an fcp, an offset and two content pieces, EF.SPN
// marked doNotCreate, PE-End.
const minimalUPP = "" +
	"A0 1C 80 01 02 81 01 01 82 04 74657374 83 0A 8949449999999990007F A5 00 A6 00" +
	"B0 11 A0 03 81 01 01 81 06 67810F010201 A2 00 A4 00" +
	"BF21 05 A0 03 81 01 02" +
	"A9 0C A0 03 81 01 03 06 01 00 04 02 CAFE" +
	"B3 2F A0 03 81 01 04 81 07 67810F01020402 A2 00" +
	"   A3 19 A1 07 83 02 6F 07 80 01 09 83 03 08 09 10 82 01 00 83 06 10 10 32 54 76 98" +
	"   AD 02 80 00" +
	"AA 05 A0 03 81 01 05"

func TestParseForeignPackage(t *testing.T) {
	upp := unhex(t, minimalUPP)
	got, err := Parse(upp)
	if err != nil {
		t.Fatal(err)
	}
	want := Profile{
		ICCID: "8949449999999990007", IMSI: "001010123456789",
		MajorVersion: 2, MinorVersion: 1, ProfileType: "test",
		Elements: 6, Size: len(upp),
	}
	if got != want {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

// mutate returns a copy of b with f applied.
func mutate(b []byte, f func([]byte) []byte) []byte {
	return f(append([]byte(nil), b...))
}

func TestParseRefusals(t *testing.T) {
	upp := mustBuild(t, smallSpec())
	es := elements(t, upp)
	headerLen := len(es[0].Bytes())
	endLen := len(es[len(es)-1].Bytes())
	imsiOff := bytes.Index(upp, unhex(t, "83 09 08 09 10 10 10 32 54 76 98"))
	if imsiOff < 0 {
		t.Fatal("test profile layout changed")
	}
	withICCID := func(hdrICCID string) []byte {
		hdr := tlv.NewConstructed(tagHeader,
			tlv.New(0x80, []byte{2}), tlv.New(0x81, []byte{3}), tlv.New(0x83, unhex(t, hdrICCID)))
		return replaceElement(t, upp, tagHeader, hdr)
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrIncomplete},
		{"one byte", upp[:1], ErrIncomplete},
		{"header tag and length only", upp[:2], ErrIncomplete},
		{"header only", upp[:headerLen], ErrIncomplete},
		{"cut in the middle", upp[:len(upp)/2], ErrIncomplete},
		{"last byte missing", upp[:len(upp)-1], ErrIncomplete},
		{"no PE-End", upp[:len(upp)-endLen], ErrIncomplete},
		{"first element not the header", upp[headerLen:], ErrMalformed},
		{"universal SEQUENCE first", append(unhex(t, "30 00"), upp...), ErrMalformed},
		{"primitive element", append(append([]byte(nil), upp[:headerLen]...), unhex(t, "80 00")...), ErrMalformed},
		{"second header", append(append([]byte(nil), upp[:headerLen]...), upp...), ErrMalformed},
		{"data after PE-End", append(append([]byte(nil), upp...), 0xA9), ErrMalformed},
		{"element after PE-End", append(append([]byte(nil), upp...), es[1].Bytes()...), ErrMalformed},
		{"indefinite length", append(append([]byte(nil), upp[:headerLen]...), unhex(t, "B0 80 00 00")...), ErrMalformed},
		{"tag longer than 4 bytes", append(append([]byte(nil), upp[:headerLen]...), unhex(t, "BF FF FF FF 01 00")...), ErrMalformed},
		{"inner TLV overruns its element", append(append([]byte(nil), upp[:headerLen]...), unhex(t, "B0 03 A0 05 81")...), ErrMalformed},
		{"header ICCID not BCD", withICCID("8949449999999990A07F"), ErrMalformed},
		{"header ICCID too short", withICCID("89494499999999FFFFFF"), ErrMalformed},
		{"header ICCID differs from EF.ICCID", withICCID("8949449999999990015F"), ErrMalformed},
		{"header without ICCID", replaceElement(t, upp, tagHeader, tlv.NewConstructed(tagHeader, tlv.New(0x80, []byte{2}), tlv.New(0x81, []byte{3}))), ErrMalformed},
		{"header without version", replaceElement(t, upp, tagHeader, tlv.NewConstructed(tagHeader, tlv.New(0x83, unhex(t, "8949449999999990007F")))), ErrMalformed},
		{"profileType not UTF-8", replaceElement(t, upp, tagHeader, tlv.NewConstructed(tagHeader, tlv.New(0x80, []byte{2}), tlv.New(0x81, []byte{3}), tlv.New(0x82, []byte{0xFF}), tlv.New(0x83, unhex(t, "8949449999999990007F")))), ErrMalformed},
		{"no PE-USIM", append(append([]byte(nil), upp[:headerLen]...), es[len(es)-1].Bytes()...), ErrMalformed},
		{"IMSI parity wrong", mutate(upp, func(b []byte) []byte { b[imsiOff+3] = 0x01; return b }), ErrMalformed},
		{"IMSI digit not BCD", mutate(upp, func(b []byte) []byte { b[imsiOff+5] = 0x1C; return b }), ErrMalformed},
		{"EF.IMSI without content", replaceElement(t, upp, tagUSIM, tlv.NewConstructed(tagUSIM, tlv.New(0xA3, nil))), ErrMalformed},
		{"PE-USIM without ef-imsi", replaceElement(t, upp, tagUSIM, tlv.NewConstructed(tagUSIM, tlv.New(0xAD, nil))), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse = %+v, %v; want %v", got, err, tc.want)
			}
			// Byte-by-byte input ends in the same class of error.
			if _, err := parseChunks(tc.in, func(int) int { return 1 }); !errors.Is(err, tc.want) {
				t.Fatalf("1-byte chunks: %v; want %v", err, tc.want)
			}
		})
	}
}

func TestParserTooLarge(t *testing.T) {
	upp := mustBuild(t, testSpec())
	hdrLen := len(elements(t, upp)[0].Bytes())
	tests := []struct {
		name    string
		max     int
		chunks  [][]byte
		failsAt int // index of the Write that must fail
	}{
		{"whole package over the limit", len(upp) - 1, [][]byte{upp}, 0},
		{"limit reached by a later chunk", len(upp) - 1, [][]byte{upp[:100], upp[100 : len(upp)-10], upp[len(upp)-10:]}, 2},
		// The MF element header declares more than the limit allows: refused
		// as soon as its length bytes arrive, long before its content.
		{"declared length over the limit", 1000, [][]byte{upp[:hdrLen], unhex(t, "B0 83 01 00 00")}, 1},
		{"declared length split in two writes", 1000, [][]byte{upp[:hdrLen], unhex(t, "B0 83"), unhex(t, "01 00 00")}, 2},
		{"length beyond 16 MiB", 1 << 30, [][]byte{upp[:hdrLen], unhex(t, "B0 84 7F FF FF FF")}, 1},
		{"5 length bytes", 1 << 30, [][]byte{upp[:hdrLen], unhex(t, "B0 85 00 00 00 00 10")}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewParser(tc.max)
			for i, c := range tc.chunks {
				n, err := p.Write(c)
				if i < tc.failsAt {
					if err != nil || n != len(c) {
						t.Fatalf("write %d: %d, %v", i, n, err)
					}
					continue
				}
				if !errors.Is(err, ErrTooLarge) || n != 0 {
					t.Fatalf("write %d: %d, %v; want ErrTooLarge", i, n, err)
				}
				break
			}
			if _, err := p.Close(); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Close: %v", err)
			}
		})
	}
}

func TestParserDefaultLimit(t *testing.T) {
	s := testSpec()
	s.Filler = MaxFiller
	upp := mustBuild(t, s)
	if _, err := Parse(upp); err != nil {
		t.Fatalf("largest Build output (%d bytes): %v", len(upp), err)
	}
	for _, max := range []int{0, -1} {
		p := NewParser(max)
		big := append(append([]byte(nil), upp[:len(elements(t, upp)[0].Bytes())]...),
			tlv.New(tagGFM, make([]byte, DefaultMaxSize)).Bytes()...)
		if _, err := p.Write(big[:200]); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("NewParser(%d): 1 MiB element: %v", max, err)
		}
	}
}

func TestParserErrorsAreSticky(t *testing.T) {
	upp := mustBuild(t, smallSpec())
	p := NewParser(0)
	if _, err := p.Write(unhex(t, "30 00")); !errors.Is(err, ErrMalformed) {
		t.Fatalf("first write: %v", err)
	}
	if n, err := p.Write(upp); !errors.Is(err, ErrMalformed) || n != 0 {
		t.Fatalf("write after error: %d, %v", n, err)
	}
	if _, err := p.Close(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Close: %v", err)
	}
}

func TestParserClose(t *testing.T) {
	upp := mustBuild(t, smallSpec())
	p := NewParser(0)
	if _, err := p.Write(upp); err != nil {
		t.Fatal(err)
	}
	first, err := p.Close()
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.Close()
	if err != nil || again != first {
		t.Fatalf("second Close: %+v, %v", again, err)
	}
	if _, err := p.Write(upp[:1]); err == nil || !strings.Contains(err.Error(), "after Close") {
		t.Fatalf("Write after Close: %v", err)
	}

	p = NewParser(0)
	if _, err := p.Write(upp[:10]); err != nil {
		t.Fatal(err)
	}
	_, err1 := p.Close()
	_, err2 := p.Close()
	if !errors.Is(err1, ErrIncomplete) || err1 != err2 {
		t.Fatalf("Close of truncated input: %v, then %v", err1, err2)
	}
}

func TestParserDoesNotAliasInput(t *testing.T) {
	upp := mustBuild(t, smallSpec())
	buf := append([]byte(nil), upp...)
	p := NewParser(0)
	half := len(buf) / 2
	if _, err := p.Write(buf[:half]); err != nil {
		t.Fatal(err)
	}
	// The caller reuses its buffer after Write returns.
	for i := range buf[:half] {
		buf[i] = 0
	}
	if _, err := p.Write(upp[half:]); err != nil {
		t.Fatal(err)
	}
	got, err := p.Close()
	if err != nil || got.IMSI != "001010123456789" || got.ICCID != "8949449999999990007" {
		t.Fatalf("got %+v, %v", got, err)
	}
}
