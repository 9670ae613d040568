package bsp

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// unhex decodes hex with optional spaces.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// seq returns first, 01, 02, ..., 0F: the key pattern of the RSK vector.
func seq(first byte) []byte {
	b := []byte{first}
	for i := byte(1); i < 16; i++ {
		b = append(b, i)
	}
	return b
}

// Published vectors of sgp22.md section 8.
const (
	vecEID    = "89049032123451234512345678901235"
	vecHostID = "8080808080808080"
	vecShSB   = "c9a993dd4879a8f7161f2085410edd4f9652f1df37be097ba96ba2ca6be528fe"

	vecSeg1Plain = "bf2400"
	vecSeg1      = "8718f6fe031e4b9cfe87c8e1e62f3fde85c49412d7722a6a2d89"
	vecSeg2Plain = "bf252d5a0a98001032547698103214910947534d415f54455354921147534d415f544553545f50524f46494c45950100"
	vecSeg2MAC   = "8a62cc9adbb5ccbc"
	vecSeg3Plain = "bf26368010000102030405060708090a0b0c0d0e0f8110010102030405060708090a0b0c0d0e0f8210020102030405060708090a0b0c0d0e0f"
	vecSeg3      = "8748a14c800a001992351cd46ad2945654674369701d82b7b46567652bc8fbed234939fc57fba748015525fd6c651e9d3d1330652d42a0cfad950e912122af4ec5362d3c0bc535729c40"
)

// vectorBKeys are the session keys of KDF vector B.
func vectorBKeys(t testing.TB) SessionKeys {
	return SessionKeys{
		MCV:  unhex(t, "406d507b448a699e7a36a38494debbde"),
		SENC: unhex(t, "472f5bfadd97f21d34f3ce9b51b92751"),
		SMAC: unhex(t, "9ec07f5b36a13e12a991d66e294e6242"),
	}
}

// rskKeys are the keys of the ReplaceSessionKeys vector.
func rskKeys() SessionKeys {
	return SessionKeys{MCV: seq(0x00), SENC: seq(0x01), SMAC: seq(0x02)}
}

// profileVector is one plaintext profile segment and its protected form.
type profileVector struct {
	plain, protected []byte
}

// readProfileVectors reads testdata/bsp-segments-vector.txt: data lines
// alternate plaintext and expected 86 TLV.
func readProfileVectors(t testing.TB) []profileVector {
	t.Helper()
	raw, err := os.ReadFile("testdata/bsp-segments-vector.txt")
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		lines = append(lines, unhex(t, l))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 4 {
		t.Fatalf("vector file has %d data lines, want 4", len(lines))
	}
	return []profileVector{{lines[0], lines[1]}, {lines[2], lines[3]}}
}
