package saip

import (
	"bytes"
	"encoding/hex"
	"errors"
	"slices"
	"testing"

	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/tlv"
)

func TestBuildParseRoundTrip(t *testing.T) {
	ki := unhex(t, "000102030405060708090A0B0C0D0E0F")
	opc := unhex(t, "101112131415161718191A1B1C1D1E1F")
	tests := []struct {
		name     string
		spec     Spec
		wantType string
		minSize  int
		maxSize  int
	}{
		{"defaults", testSpec(), "testing", 10_000, 15_000},
		{"operational keys", func() Spec { s := testSpec(); s.Ki, s.OPc = ki, opc; return s }(), "operational", 10_000, 15_000},
		{"only Ki given", func() Spec { s := testSpec(); s.Ki = ki; return s }(), "testing", 10_000, 15_000},
		{"20-digit ICCID, 3-digit MNC", Spec{ICCID: "89012345678901234567", IMSI: "310260123456789", MCCMNC: "310260", SPN: "T-Mobile"}, "testing", 10_000, 15_000},
		{"18-digit ICCID, even IMSI", Spec{ICCID: "890123456789012345", IMSI: "26201123456789", MCCMNC: "26201", SPN: "Telekom.de"}, "testing", 10_000, 15_000},
		{"shortest IMSI", Spec{ICCID: "8949449999999990007", IMSI: "001011", MCCMNC: "00101"}, "testing", 10_000, 15_000},
		{"UCS-2 SPN", func() Spec { s := testSpec(); s.SPN = "Связь"; return s }(), "testing", 10_000, 15_000},
		{"GSM special characters", func() Spec { s := testSpec(); s.SPN = "Ärger@$_ §¿"; return s }(), "testing", 10_000, 15_000},
		{"empty SPN", func() Spec { s := testSpec(); s.SPN = ""; return s }(), "testing", 10_000, 15_000},
		{"profile name ignored", func() Spec { s := testSpec(); s.ProfileName = "My plan"; return s }(), "testing", 10_000, 15_000},
		{"tiny filler", func() Spec { s := testSpec(); s.Filler = 1; return s }(), "testing", 2_000, 3_500},
		{"100 KB filler", func() Spec { s := testSpec(); s.Filler = 100_000; return s }(), "testing", 100_000, 105_000},
		{"max filler", func() Spec { s := testSpec(); s.Filler = MaxFiller; return s }(), "testing", MaxFiller, DefaultMaxSize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			upp := mustBuild(t, tc.spec)
			if len(upp) < tc.minSize || len(upp) > tc.maxSize {
				t.Errorf("UPP is %d bytes, want %d..%d", len(upp), tc.minSize, tc.maxSize)
			}
			got, err := Parse(upp)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := Profile{
				ICCID:        tc.spec.ICCID,
				IMSI:         tc.spec.IMSI,
				SPN:          tc.spec.SPN,
				MajorVersion: 2,
				MinorVersion: 3,
				ProfileType:  tc.wantType,
				Elements:     11,
				Size:         len(upp),
			}
			if got != want {
				t.Fatalf("Parse =\n %+v\nwant\n %+v", got, want)
			}
		})
	}
}

func TestBuildElements(t *testing.T) {
	upp := mustBuild(t, testSpec())
	es := elements(t, upp)
	wantTags := []tlv.Tag{tagHeader, tagMF, tagPUKs, tagPINs, tagTelecom, tagGFM, tagUSIM, tagOptUSIM, tagPINs, tagAKA, tagEnd}
	if len(es) != len(wantTags) {
		t.Fatalf("%d elements, want %d", len(es), len(wantTags))
	}
	for i, e := range es {
		if e.Tag != wantTags[i] {
			t.Fatalf("element %d is %s, want %s", i, e.Tag, wantTags[i])
		}
		if i == 0 {
			continue
		}
		// Every element but the ProfileHeader starts with its PEHeader;
		// identification numbers run from 1.
		id, err := e.Path(0xA0, 0x81)
		if err != nil {
			t.Fatalf("element %d (%s): %v", i, elementName(e.Tag), err)
		}
		if n, err := decUint(id.Value, 0x7FFF); err != nil || n != i {
			t.Fatalf("element %d identification %X, want %d", i, id.Value, i)
		}
	}
	// PE-End carries nothing but its header.
	if got, want := es[len(es)-1].Bytes(), unhex(t, "AA 05 A0 03 81 01 0A"); !bytes.Equal(got, want) {
		t.Fatalf("PE-End % X, want % X", got, want)
	}
}

func TestBuildHeader(t *testing.T) {
	hdr := element(t, mustBuild(t, testSpec()), tagHeader)
	want := unhex(t, "A0 34"+
		"80 01 02  81 01 03"+
		"82 07 74657374696E67"+ // "testing"
		"83 0A 89494499999999900 07F"+
		"A5 04 81 00 84 00"+ // usim, milenage
		"A6 11 06 06 67810F010201  06 07 67810F01020402") // MF, ADF.USIM templates
	if got := hdr.Bytes(); !bytes.Equal(got, want) {
		t.Fatalf("header\n % X\nwant\n % X", got, want)
	}
}

func TestBuildUSIMContents(t *testing.T) {
	tests := []struct {
		name   string
		spec   Spec
		field  int
		wantEF string
	}{
		{"EF.IMSI", testSpec(), 3, "08 09 10 10 10 32 54 76 98"},
		{"EF.SPN", func() Spec { s := testSpec(); s.SPN = "GSM-R CH"; return s }(), 13, "01 47534D2D52204348 FFFFFFFFFFFFFFFF"},
		{"EF.AD 2-digit MNC", testSpec(), 21, "00 00 00 02"},
		{"EF.AD 3-digit MNC", Spec{ICCID: "8949449999999990007", IMSI: "310260123456789", MCCMNC: "310260"}, 21, "00 00 00 03"},
		{"EF.ACC class 9", testSpec(), 18, "02 00"},
		{"EF.ACC class 0", Spec{ICCID: "8949449999999990007", IMSI: "001010123456780", MCCMNC: "00101"}, 18, "00 01"},
		{"EF.UST", testSpec(), 8, "00 0A 04 00 00 00 00 00 40 00 10 00 00 00 00 00 00"},
		{"EF.EST", testSpec(), 14, "00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			usim := element(t, mustBuild(t, tc.spec), tagUSIM)
			ef, err := usim.Path(ctx(tc.field, true), fileFillContent)
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tc.wantEF); !bytes.Equal(ef.Value, want) {
				t.Fatalf("% X, want % X", ef.Value, want)
			}
		})
	}
	ehplmn, err := element(t, mustBuild(t, testSpec()), tagOptUSIM).Path(ctx(58, true), fileFillContent)
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex(t, "00F110 FFFFFF FFFFFF FFFFFF FFFFFF"); !bytes.Equal(ehplmn.Value, want) {
		t.Fatalf("EF.EHPLMN % X, want % X", ehplmn.Value, want)
	}
}

func TestBuildKeys(t *testing.T) {
	s := testSpec()
	s.Ki = unhex(t, "000102030405060708090A0B0C0D0E0F")
	s.OPc = unhex(t, "101112131415161718191A1B1C1D1E1F")
	algo, err := element(t, mustBuild(t, s), tagAKA).Path(0xA1, 0xA1)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "80 01 01  81 01 00  82 10 000102030405060708090A0B0C0D0E0F  83 10 101112131415161718191A1B1C1D1E1F")
	if !bytes.Equal(algo.Value, want) {
		t.Fatalf("algoParameter % X, want % X", algo.Value, want)
	}

	// Derived test keys depend on the ICCID only, and differ from each other.
	keys := func(id rsp.ICCID) (ki, opc []byte) {
		s := testSpec()
		s.ICCID = id
		algo, err := element(t, mustBuild(t, s), tagAKA).Path(0xA1, 0xA1)
		if err != nil {
			t.Fatal(err)
		}
		k, _ := algo.Must(0x82)
		o, _ := algo.Must(0x83)
		return k.Value, o.Value
	}
	k1, o1 := keys("8949449999999990007")
	k2, o2 := keys("8949449999999990007")
	k3, _ := keys("8949449999999990015")
	if !bytes.Equal(k1, k2) || !bytes.Equal(o1, o2) {
		t.Fatal("derived keys are not deterministic")
	}
	if bytes.Equal(k1, k3) || bytes.Equal(k1, o1) || len(k1) != 16 || len(o1) != 16 {
		t.Fatalf("derived keys: Ki % X, OPc % X, other ICCID's Ki % X", k1, o1, k3)
	}
}

func TestBuildDeterministic(t *testing.T) {
	a, b := mustBuild(t, testSpec()), mustBuild(t, testSpec())
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of one Spec differ")
	}
}

func TestBuildFiller(t *testing.T) {
	size := func(filler int) int {
		s := testSpec()
		s.Filler = filler
		return len(mustBuild(t, s))
	}
	if d, dflt := size(0), size(DefaultFiller); d != dflt {
		t.Fatalf("Filler 0 gives %d bytes, DefaultFiller %d", d, dflt)
	}
	prev := 0
	for _, f := range []int{1, 33, 8129, 50_000, 200_000} {
		n := size(f)
		if n <= prev {
			t.Fatalf("Filler %d gives %d bytes, a smaller filler %d", f, n, prev)
		}
		prev = n
	}
	// Growth follows the filler: records of 32 bytes plus a few bytes per file.
	if grow := size(200_000) - size(100_000); grow < 100_000 || grow > 101_000 {
		t.Fatalf("100 000 more filler bytes grow the UPP by %d", grow)
	}
	// 8128 bytes (254 records) fill DF.TELECOM/EF.ADN; the next record
	// opens DF.PHONEBOOK/EF.ADN 4F58.
	s := testSpec()
	s.Filler = 8129
	gfm, err := element(t, mustBuild(t, s), tagGFM).Path(0xA1, 0x30)
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := gfm.Children()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cmds {
		switch c.Tag {
		case 0x80:
			got = append(got, "path "+hex.EncodeToString(c.Value))
		case 0x62:
			f, err := c.Must(fcpFileID)
			if err != nil {
				t.Fatal(err)
			}
			size, err := c.Must(fcpEFFileSize)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, "fid "+hex.EncodeToString(f.Value)+" size "+hex.EncodeToString(size.Value))
		}
	}
	want := []string{"path 7f10", "fid 6f3a size 1fc0", "path 7f105f3a", "fid 4f58 size 20"}
	if !slices.Equal(got, want) {
		t.Fatalf("file management commands %q, want %q", got, want)
	}
}

func TestBuildADNRecord(t *testing.T) {
	s := testSpec()
	s.Filler = 32
	gfm, err := element(t, mustBuild(t, s), tagGFM).Path(0xA1, 0x30, 0x81)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "436F6E74616374203030303031 FFFFFFFFFF"+ // "Contact 00001", 18 bytes
		"07 81 5155000000F1 FFFFFFFF"+ // 11 digits 15550000001, TON/NPI 81
		"FF FF")
	if !bytes.Equal(gfm.Value, want) {
		t.Fatalf("ADN record % X, want % X", gfm.Value, want)
	}
}

func TestBuildRejects(t *testing.T) {
	mod := func(f func(*Spec)) Spec { s := testSpec(); f(&s); return s }
	tests := []struct {
		name    string
		spec    Spec
		alsoBad error
	}{
		{"empty spec", Spec{}, rsp.ErrBadICCID},
		{"ICCID 17 digits", mod(func(s *Spec) { s.ICCID = "89494499999999900" }), rsp.ErrBadICCID},
		{"ICCID letters", mod(func(s *Spec) { s.ICCID = "894944999999999000A" }), rsp.ErrBadICCID},
		{"ICCID with F padding", mod(func(s *Spec) { s.ICCID = "8949449999999990007F" }), nil},
		{"ICCID with spaces", mod(func(s *Spec) { s.ICCID = " 8949449999999990007" }), nil},
		{"IMSI 5 digits", mod(func(s *Spec) { s.IMSI = "00101" }), nil},
		{"IMSI 16 digits", mod(func(s *Spec) { s.IMSI = "0010101234567890" }), nil},
		{"IMSI non-digit", mod(func(s *Spec) { s.IMSI = "00101012345678x" }), nil},
		{"MCCMNC 4 digits", mod(func(s *Spec) { s.MCCMNC = "0010" }), nil},
		{"MCCMNC 7 digits", mod(func(s *Spec) { s.MCCMNC = "0010101" }), nil},
		{"MCCMNC letters", mod(func(s *Spec) { s.MCCMNC = "00a01" }), nil},
		{"MCCMNC not IMSI prefix", mod(func(s *Spec) { s.MCCMNC = "00102" }), nil},
		{"IMSI without MSIN", mod(func(s *Spec) { s.IMSI, s.MCCMNC = "001010", "001010" }), nil},
		{"SPN 17 GSM characters", mod(func(s *Spec) { s.SPN = "Mobile Plans Ltd." }), nil},
		{"SPN 8 UCS-2 characters", mod(func(s *Spec) { s.SPN = "Связьсвя" }), nil},
		{"SPN emoji", mod(func(s *Spec) { s.SPN = "📶" }), nil},
		{"Ki 15 bytes", mod(func(s *Spec) { s.Ki = make([]byte, 15) }), nil},
		{"OPc 17 bytes", mod(func(s *Spec) { s.OPc = make([]byte, 17) }), nil},
		{"Ki empty non-nil", mod(func(s *Spec) { s.Ki = []byte{} }), nil},
		{"negative filler", mod(func(s *Spec) { s.Filler = -1 }), nil},
		{"filler too large", mod(func(s *Spec) { s.Filler = MaxFiller + 1 }), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			upp, err := Build(tc.spec)
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("Build = %d bytes, %v; want ErrInvalidSpec", len(upp), err)
			}
			if tc.alsoBad != nil && !errors.Is(err, tc.alsoBad) {
				t.Fatalf("err = %v, want it to wrap %v", err, tc.alsoBad)
			}
			if upp != nil {
				t.Fatal("Build returned bytes with an error")
			}
		})
	}
}

func TestBuildDoesNotRetainKeys(t *testing.T) {
	s := testSpec()
	s.Ki = unhex(t, "000102030405060708090A0B0C0D0E0F")
	upp := mustBuild(t, s)
	s.Ki[0] = 0xEE
	algo, err := element(t, upp, tagAKA).Path(0xA1, 0xA1, 0x82)
	if err != nil {
		t.Fatal(err)
	}
	if algo.Value[0] != 0x00 {
		t.Fatal("UPP aliases the caller's Ki")
	}
}
