package saip

import "testing"

func BenchmarkBuild(b *testing.B) {
	s := testSpec()
	b.ReportAllocs()
	for b.Loop() {
		upp, err := Build(s)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(upp)))
	}
}

func BenchmarkParse(b *testing.B) {
	upp := mustBuild(b, testSpec())
	b.SetBytes(int64(len(upp)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(upp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParserSegments feeds the UPP in 1007-byte pieces, the plaintext
// size of a BPP segment.
func BenchmarkParserSegments(b *testing.B) {
	upp := mustBuild(b, testSpec())
	b.SetBytes(int64(len(upp)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseChunks(upp, func(int) int { return 1007 }); err != nil {
			b.Fatal(err)
		}
	}
}
