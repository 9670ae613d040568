package bsp

import (
	"testing"
)

func BenchmarkEncryptSegment(b *testing.B) {
	plain := make([]byte, MaxEncryptedPlain)
	p := NewProtector(vectorBKeys(b))
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Encrypt(TagProfileSegment, plain); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenSegment(b *testing.B) {
	plain := make([]byte, MaxEncryptedPlain)
	k := vectorBKeys(b)
	seg, err := NewProtector(k).Encrypt(TagProfileSegment, plain)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		// A fresh Unprotector each time: the segment is valid only first.
		if _, _, err := NewUnprotector(k).Open(seg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildBPP(b *testing.B) {
	upp := make([]byte, 12*1024)
	for i := range upp {
		upp[i] = byte(i)
	}
	parts := vectorParts(b)
	parts.ProfileElements = SplitProfile(upp, 0)
	k := vectorBKeys(b)
	b.SetBytes(int64(len(upp)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildBPP(k, parts); err != nil {
			b.Fatal(err)
		}
	}
}
