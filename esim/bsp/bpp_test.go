package bsp

import (
	"bytes"
	"errors"
	"testing"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// vectorParts returns BPP parts built from the published vectors.
func vectorParts(t testing.TB) BPPParts {
	_, isc := testISC(t)
	rsk := rskKeys()
	vs := readProfileVectors(t)
	return BPPParts{
		InitialiseSecureChannel: isc,
		ConfigureISDP:           unhex(t, vecSeg1Plain),
		StoreMetadata:           unhex(t, vecSeg2Plain),
		ReplaceKeys:             &rsk,
		ProfileElements:         [][]byte{vs[0].plain, vs[1].plain},
	}
}

// TestBuildBPPVector assembles a BPP from the published vectors and checks
// every transfer of its segmentation byte for byte.
func TestBuildBPPVector(t *testing.T) {
	parts := vectorParts(t)
	vs := readProfileVectors(t)
	bpp, err := BuildBPP(vectorBKeys(t), parts)
	if err != nil {
		t.Fatal(err)
	}
	seg88 := append(append(unhex(t, "8838"), unhex(t, vecSeg2Plain)...), unhex(t, vecSeg2MAC)...)
	contentLen := len(parts.InitialiseSecureChannel) + 2 + 26 + 2 + 58 + 2 + 74 + 4 + 2*1020
	bf36 := append([]byte{0xBF, 0x36}, tlv.EncodeLength(contentLen)...)
	want := [][]byte{
		append(bf36, parts.InitialiseSecureChannel...),
		append(unhex(t, "a01a"), unhex(t, vecSeg1)...),
		unhex(t, "a13a"),
		seg88,
		append(unhex(t, "a24a"), unhex(t, vecSeg3)...),
		unhex(t, "a38207f8"),
		vs[0].protected,
		vs[1].protected,
	}
	got, err := Segments(bpp)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d transfers, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("transfer %d:\n got %x\nwant %x", i, got[i], want[i])
		}
	}
	if !bytes.Equal(bytes.Join(got, nil), bpp) {
		t.Fatal("transfers do not concatenate to the BPP")
	}
}

// TestBuildBPPOpen builds BPPs of several shapes and opens every segment
// with an Unprotector, switching keys after A2 like the eUICC.
func TestBuildBPPOpen(t *testing.T) {
	upp := make([]byte, 5000)
	for i := range upp {
		upp[i] = byte(i * 31)
	}
	bigISDP := append([]byte{0xBF, 0x24, 0x82, 0x05, 0xDC}, bytes.Repeat([]byte{1}, 1500)...)
	bigMeta := append([]byte{0xBF, 0x25, 0x82, 0x09, 0xC4}, bytes.Repeat([]byte{2}, 2500)...)
	rsk := rskKeys()
	_, isc := testISC(t)
	tests := []struct {
		name      string
		parts     BPPParts
		transfers int
	}{
		{"session keys only", BPPParts{isc, []byte{0xBF, 0x24, 0}, []byte{0xBF, 0x25, 0}, nil, SplitProfile(upp, 0)}, 1 + 1 + 2 + 1 + 5},
		{"with RSK", BPPParts{isc, []byte{0xBF, 0x24, 0}, []byte{0xBF, 0x25, 0}, &rsk, SplitProfile(upp, 0)}, 1 + 1 + 2 + 1 + 1 + 5},
		{"multi-segment commands", BPPParts{isc, bigISDP, bigMeta, &rsk, SplitProfile(upp, 100)}, 1 + 2 + 1 + 3 + 1 + 1 + 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bpp, err := BuildBPP(vectorBKeys(t), tt.parts)
			if err != nil {
				t.Fatal(err)
			}
			transfers, err := Segments(bpp)
			if err != nil {
				t.Fatal(err)
			}
			if len(transfers) != tt.transfers {
				t.Fatalf("%d transfers, want %d", len(transfers), tt.transfers)
			}
			u := NewUnprotector(vectorBKeys(t))
			var got = map[tlv.Tag][]byte{}
			var tag tlv.Tag
			for i, tr := range transfers {
				if i == 0 {
					continue // BF36 header and BF23
				}
				// Strip a leading A0..A3 header; the rest is a segment or nothing.
				rest := tr
				h, n, err := tlv.ReadTag(rest)
				if err != nil {
					t.Fatal(err)
				}
				if h>>4 == 0xA {
					l, ln, err := tlv.ReadLength(rest[n:])
					if err != nil || l == 0 {
						t.Fatal("bad sequence header", err)
					}
					if tag == TagSecondSequenceOf87 {
						u = NewUnprotector(*tt.parts.ReplaceKeys)
					}
					tag = h
					rest = rest[n+ln:]
				}
				if len(rest) == 0 {
					continue
				}
				if len(rest) > MaxSegmentSize {
					t.Fatalf("transfer %d: segment of %d bytes", i, len(rest))
				}
				_, pt, err := u.Open(rest)
				if err != nil {
					t.Fatalf("transfer %d: %v", i, err)
				}
				got[tag] = append(got[tag], pt...)
			}
			if !bytes.Equal(got[TagFirstSequenceOf87], tt.parts.ConfigureISDP) ||
				!bytes.Equal(got[TagSequenceOf88], tt.parts.StoreMetadata) ||
				!bytes.Equal(got[TagSequenceOf86], upp) {
				t.Fatal("recovered plaintext differs")
			}
			if tt.parts.ReplaceKeys != nil {
				if k, err := DecodeReplaceSessionKeys(got[TagSecondSequenceOf87]); err != nil || !bytes.Equal(k.SENC, rsk.SENC) {
					t.Fatalf("A2 content: %v", err)
				}
			}
		})
	}
}

func TestBuildBPPErrors(t *testing.T) {
	good := vectorParts(t)
	badKeys := SessionKeys{SENC: make([]byte, 16)}
	tests := []struct {
		name  string
		keys  SessionKeys
		parts func(p *BPPParts)
	}{
		{"no BF23", vectorBKeys(t), func(p *BPPParts) { p.InitialiseSecureChannel = nil }},
		{"BF24 as BF23", vectorBKeys(t), func(p *BPPParts) { p.InitialiseSecureChannel = []byte{0xBF, 0x24, 0} }},
		{"empty ConfigureISDP", vectorBKeys(t), func(p *BPPParts) { p.ConfigureISDP = nil }},
		{"empty StoreMetadata", vectorBKeys(t), func(p *BPPParts) { p.StoreMetadata = nil }},
		{"no profile", vectorBKeys(t), func(p *BPPParts) { p.ProfileElements = nil }},
		{"empty chunk", vectorBKeys(t), func(p *BPPParts) { p.ProfileElements = [][]byte{{}} }},
		{"oversize chunk", vectorBKeys(t), func(p *BPPParts) { p.ProfileElements = [][]byte{make([]byte, 1008)} }},
		{"bad session keys", badKeys, func(p *BPPParts) {}},
		{"bad replacement keys", vectorBKeys(t), func(p *BPPParts) { p.ReplaceKeys = &badKeys }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			tt.parts(&p)
			if _, err := BuildBPP(tt.keys, p); err == nil {
				t.Fatal("BuildBPP succeeded")
			}
		})
	}
}

func TestSplitProfile(t *testing.T) {
	tests := []struct {
		n, max int
		want   []int
	}{
		{0, 0, []int{}},
		{1, 0, []int{1}},
		{1007, 0, []int{1007}},
		{1008, 0, []int{1007, 1}},
		{3021, -1, []int{1007, 1007, 1007}},
		{250, 100, []int{100, 100, 50}},
	}
	for _, tt := range tests {
		upp := make([]byte, tt.n)
		for i := range upp {
			upp[i] = byte(i)
		}
		got := SplitProfile(upp, tt.max)
		if len(got) != len(tt.want) {
			t.Fatalf("%d/%d: %d chunks, want %d", tt.n, tt.max, len(got), len(tt.want))
		}
		for i, c := range got {
			if len(c) != tt.want[i] {
				t.Errorf("%d/%d: chunk %d is %d bytes, want %d", tt.n, tt.max, i, len(c), tt.want[i])
			}
		}
		if !bytes.Equal(bytes.Join(got, nil), upp) {
			t.Errorf("%d/%d: chunks do not join to the input", tt.n, tt.max)
		}
		if len(got) > 1 && cap(got[0]) != len(got[0]) {
			t.Errorf("chunk capacity %d lets appends overwrite the next chunk", cap(got[0]))
		}
	}
}

func TestSegmentsErrors(t *testing.T) {
	_, isc := testISC(t)
	seg87 := unhex(t, vecSeg1)
	seg88 := unhex(t, "8808"+"0000000000000000")
	seg86 := unhex(t, "8618"+"00000000000000000000000000000000"+"0000000000000000")
	el := func(tag tlv.Tag, v ...[]byte) []byte { return tlv.Encode(tag, bytes.Join(v, nil)) }
	bf36 := func(v ...[]byte) []byte { return el(TagBoundProfilePackage, v...) }
	a0, a1, a2, a3 := el(0xA0, seg87), el(0xA1, seg88), el(0xA2, seg87), el(0xA3, seg86)
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"other tag", el(0xBF37, isc, a0, a1, a3)},
		{"trailing after BF36", append(bf36(isc, a0, a1, a3), 0)},
		{"no BF23", bf36(a0, a1, a3)},
		{"only BF23", bf36(isc)},
		{"no A0", bf36(isc, a1, a3)},
		{"A1 before A0", bf36(isc, a1, a0, a3)},
		{"no A3", bf36(isc, a0, a1)},
		{"no A3 after A2", bf36(isc, a0, a1, a2)},
		{"A2 after A3", bf36(isc, a0, a1, a3, a2)},
		{"88 in A0", bf36(isc, el(0xA0, seg88), a1, a3)},
		{"87 in A3", bf36(isc, a0, a1, el(0xA3, seg87))},
		{"empty A1", bf36(isc, a0, el(0xA1), a3)},
		{"empty A3", bf36(isc, a0, a1, el(0xA3))},
		{"garbage in A3", bf36(isc, a0, a1, el(0xA3, seg86, []byte{0x86, 0x05}))},
		{"unknown element", bf36(isc, a0, a1, a3, el(0xA4, seg86))},
		{"bad tag in BF36", bf36(isc, []byte{0xBF})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Segments(tt.in); !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
		})
	}
	// The same pieces in the right order are accepted, with and without A2.
	for _, ok := range [][]byte{bf36(isc, a0, a1, a3), bf36(isc, a0, a1, a2, a3)} {
		if _, err := Segments(ok); err != nil {
			t.Fatalf("valid BPP rejected: %v", err)
		}
	}
}

func FuzzSegments(f *testing.F) {
	bpp, err := BuildBPP(vectorBKeys(f), vectorParts(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bpp)
	small := vectorParts(f)
	small.ReplaceKeys = nil
	small.ProfileElements = [][]byte{{1, 2, 3}}
	if bpp, err = BuildBPP(vectorBKeys(f), small); err != nil {
		f.Fatal(err)
	}
	f.Add(bpp)
	f.Add([]byte{0xBF, 0x36, 0x00})
	f.Add([]byte{0xBF, 0x36, 0x03, 0xBF, 0x23, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		segs, err := Segments(b)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(segs) < 4 {
			t.Fatalf("%d transfers from a valid BPP", len(segs))
		}
		for i, s := range segs {
			if len(s) == 0 {
				t.Fatalf("transfer %d is empty", i)
			}
		}
		if !bytes.Equal(bytes.Join(segs, nil), b) {
			t.Fatal("transfers do not concatenate to the input")
		}
	})
}
