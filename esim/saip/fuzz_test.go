package saip

import (
	"errors"
	"testing"

	"github.com/mobileplans/mobileplans/esim/rsp"
)

// FuzzParse checks that the parser never panics, that whole-buffer and
// chunked input agree (chunk sizes come from the first input byte), and
// that a successful parse yields a consistent Profile.
func FuzzParse(f *testing.F) {
	small := testSpec()
	small.Filler = 40
	upp, err := Build(small)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(upp)
	f.Add(upp[:len(upp)/2])
	f.Add(upp[:len(upp)-1])
	f.Add(unhex(f, minimalUPP))
	for _, s := range []string{
		"",
		"A0 00",
		"A0 03 80 01 02 AA 00",
		"30 00",
		"A0 80 00 00",
		"A0 84 7F FF FF FF",
		"BF FF FF FF 01 00",
		"A0 0F 80 01 02 81 01 03 83 0A 8949449999999990007F AA 05 A0 03 81 01 01",
	} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		whole, errWhole := Parse(data)
		step := 1
		if len(data) > 0 {
			step = int(data[0])%97 + 1
		}
		chunked, errChunked := parseChunks(data, func(int) int { return step })
		if (errWhole == nil) != (errChunked == nil) {
			t.Fatalf("whole: %v; chunks of %d: %v", errWhole, step, errChunked)
		}
		if errWhole != nil {
			if !errors.Is(errWhole, ErrMalformed) && !errors.Is(errWhole, ErrTooLarge) && !errors.Is(errWhole, ErrIncomplete) {
				t.Fatalf("untyped error: %v", errWhole)
			}
			return
		}
		if whole != chunked {
			t.Fatalf("whole %+v, chunked %+v", whole, chunked)
		}
		if _, err := rsp.ParseICCID(string(whole.ICCID)); err != nil {
			t.Fatalf("ICCID %q: %v", whole.ICCID, err)
		}
		if err := checkIMSI(whole.IMSI); err != nil {
			t.Fatalf("IMSI %q: %v", whole.IMSI, err)
		}
		if whole.Size != len(data) || whole.Elements < 2 {
			t.Fatalf("size %d of %d, %d elements", whole.Size, len(data), whole.Elements)
		}
	})
}
