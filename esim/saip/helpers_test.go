package saip

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testSpec is the GSMA TS.48 test ICCID with the test PLMN 001-01.
func testSpec() Spec {
	return Spec{
		ICCID:  "8949449999999990007",
		IMSI:   "001010123456789",
		MCCMNC: "00101",
		SPN:    "Mobile Plans",
	}
}

func mustBuild(t testing.TB, s Spec) []byte {
	t.Helper()
	b, err := Build(s)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return b
}

// elements splits a UPP into its top-level TLVs.
func elements(t testing.TB, upp []byte) []tlv.TLV {
	t.Helper()
	es, err := tlv.DecodeAll(upp)
	if err != nil {
		t.Fatalf("UPP is not a TLV sequence: %v", err)
	}
	return es
}

// element returns the first top-level element with the given tag.
func element(t testing.TB, upp []byte, tag tlv.Tag) tlv.TLV {
	t.Helper()
	for _, e := range elements(t, upp) {
		if e.Tag == tag {
			return e
		}
	}
	t.Fatalf("no element %s", tag)
	return tlv.TLV{}
}

// replaceElement returns upp with its first element of tag replaced by e.
func replaceElement(t testing.TB, upp []byte, tag tlv.Tag, e tlv.TLV) []byte {
	t.Helper()
	var out []byte
	done := false
	for _, x := range elements(t, upp) {
		if x.Tag == tag && !done {
			x, done = e, true
		}
		out = append(out, x.Bytes()...)
	}
	if !done {
		t.Fatalf("no element %s", tag)
	}
	return out
}

// parseChunks feeds upp to a fresh parser in the given chunk sizes (the
// last chunk takes the rest).
func parseChunks(upp []byte, sizes func(i int) int) (Profile, error) {
	p := NewParser(0)
	for i := 0; len(upp) > 0; i++ {
		n := min(max(sizes(i), 0), len(upp))
		if _, err := p.Write(upp[:n]); err != nil {
			return Profile{}, err
		}
		upp = upp[n:]
	}
	return p.Close()
}
