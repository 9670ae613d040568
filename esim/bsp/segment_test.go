package bsp

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"testing"
)

// TestVectorSegments protects the published segments with the keys of KDF
// vector B (counter 1, 2, 3), switches to the ReplaceSessionKeys keys and
// protects the two 1007-byte profile segments of the test file.
func TestVectorSegments(t *testing.T) {
	p := NewProtector(vectorBKeys(t))
	u := NewUnprotector(vectorBKeys(t))
	seg2Plain := unhex(t, vecSeg2Plain)
	steps := []struct {
		name  string
		tag   byte
		plain []byte
		want  []byte
	}{
		{"87 ConfigureISDP", 0x87, unhex(t, vecSeg1Plain), unhex(t, vecSeg1)},
		{"88 StoreMetadata", 0x88, seg2Plain, append(append(unhex(t, "8838"), seg2Plain...), unhex(t, vecSeg2MAC)...)},
		{"87 ReplaceSessionKeys", 0x87, unhex(t, vecSeg3Plain), unhex(t, vecSeg3)},
	}
	for _, st := range steps {
		var got []byte
		var err error
		if st.tag == 0x88 {
			got, err = p.MACOnly(st.tag, st.plain)
		} else {
			got, err = p.Encrypt(st.tag, st.plain)
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !bytes.Equal(got, st.want) {
			t.Fatalf("%s:\n got %x\nwant %x", st.name, got, st.want)
		}
		tag, plain, err := u.Open(st.want)
		if err != nil {
			t.Fatalf("%s: open: %v", st.name, err)
		}
		if tag != st.tag || !bytes.Equal(plain, st.plain) {
			t.Fatalf("%s: open = %02X %x, want %02X %x", st.name, tag, plain, st.tag, st.plain)
		}
	}

	// The RSK plaintext is exactly what EncodeReplaceSessionKeys produces.
	if got := EncodeReplaceSessionKeys(rskKeys()); !bytes.Equal(got, unhex(t, vecSeg3Plain)) {
		t.Fatalf("EncodeReplaceSessionKeys = %x, want %x", got, vecSeg3Plain)
	}

	p = NewProtector(rskKeys())
	u = NewUnprotector(rskKeys())
	for i, v := range readProfileVectors(t) {
		if len(v.plain) != MaxEncryptedPlain || len(v.protected) != MaxSegmentSize {
			t.Fatalf("vector %d: sizes %d/%d", i, len(v.plain), len(v.protected))
		}
		got, err := p.Encrypt(0x86, v.plain)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, v.protected) {
			t.Fatalf("profile segment %d:\n got %x\nwant %x", i, got, v.protected)
		}
		tag, plain, err := u.Open(v.protected)
		if err != nil {
			t.Fatalf("profile segment %d: open: %v", i, err)
		}
		if tag != 0x86 || !bytes.Equal(plain, v.plain) {
			t.Fatalf("profile segment %d: open returned other data", i)
		}
	}
}

func TestRoundTripSizes(t *testing.T) {
	p := NewProtector(vectorBKeys(t))
	u := NewUnprotector(vectorBKeys(t))
	for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 127, 128, 255, 256, 1000, 1006, 1007, 1008} {
		plain := make([]byte, n)
		for i := range plain {
			plain[i] = byte(i*7 + n)
		}
		type op struct {
			tag byte
			fn  func(byte, []byte) ([]byte, error)
			max int
		}
		for _, o := range []op{{0x86, p.Encrypt, MaxEncryptedPlain}, {0x87, p.Encrypt, MaxEncryptedPlain}, {0x88, p.MACOnly, MaxMACOnlyPlain}} {
			seg, err := o.fn(o.tag, plain)
			if n > o.max {
				if !errors.Is(err, ErrSegmentTooLarge) {
					t.Fatalf("%02X with %d bytes: err = %v, want ErrSegmentTooLarge", o.tag, n, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%02X with %d bytes: %v", o.tag, n, err)
			}
			if len(seg) > MaxSegmentSize {
				t.Fatalf("%02X with %d bytes: segment of %d bytes", o.tag, n, len(seg))
			}
			tag, got, err := u.Open(seg)
			if err != nil {
				t.Fatalf("%02X with %d bytes: open: %v", o.tag, n, err)
			}
			if tag != o.tag || !bytes.Equal(got, plain) {
				t.Fatalf("%02X with %d bytes: round trip differs", o.tag, n)
			}
		}
	}
}

func TestProtectorBadInput(t *testing.T) {
	p := NewProtector(vectorBKeys(t))
	if _, err := p.Encrypt(0x88, nil); err == nil {
		t.Error("Encrypt accepted tag 88")
	}
	if _, err := p.MACOnly(0x87, nil); err == nil {
		t.Error("MACOnly accepted tag 87")
	}
	bad := NewProtector(SessionKeys{SENC: make([]byte, 16), SMAC: make([]byte, 8), MCV: make([]byte, 16)})
	if _, err := bad.Encrypt(0x87, nil); !errors.Is(err, ErrKeys) {
		t.Errorf("Encrypt with bad keys: %v", err)
	}
	if _, err := bad.MACOnly(0x88, nil); !errors.Is(err, ErrKeys) {
		t.Errorf("MACOnly with bad keys: %v", err)
	}
	if _, _, err := NewUnprotector(SessionKeys{}).Open(unhex(t, vecSeg1)); !errors.Is(err, ErrKeys) {
		t.Errorf("Open with no keys: %v", err)
	}
}

// threeSegments returns three protected segments made with vector B keys.
func threeSegments(t *testing.T) [][]byte {
	p := NewProtector(vectorBKeys(t))
	var segs [][]byte
	for i, plain := range [][]byte{[]byte("first segment"), bytes.Repeat([]byte{0xAB}, 40), []byte("third")} {
		s, err := p.Encrypt(0x86, plain)
		if err != nil {
			t.Fatal(i, err)
		}
		segs = append(segs, s)
	}
	return segs
}

func TestOpenTampered(t *testing.T) {
	seg := threeSegments(t)[0]
	// Every byte after the tag and length: ciphertext and C-MAC.
	for i := 2; i < len(seg); i++ {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(seg)
			bad[i] ^= bit
			_, _, err := NewUnprotector(vectorBKeys(t)).Open(bad)
			if !errors.Is(err, ErrMAC) {
				t.Fatalf("flip %02X at %d: err = %v, want ErrMAC", bit, i, err)
			}
		}
	}
	// Another segment tag of the same shape is covered by the MAC too.
	bad := bytes.Clone(seg)
	bad[0] = 0x87
	if _, _, err := NewUnprotector(vectorBKeys(t)).Open(bad); !errors.Is(err, ErrMAC) {
		t.Fatalf("retagged: err = %v, want ErrMAC", err)
	}
	// Wrong keys.
	other := vectorBKeys(t)
	other.SMAC = rskKeys().SMAC
	if _, _, err := NewUnprotector(other).Open(seg); !errors.Is(err, ErrMAC) {
		t.Fatalf("wrong S-MAC: err = %v, want ErrMAC", err)
	}
}

func TestOpenOrder(t *testing.T) {
	segs := threeSegments(t)
	tests := []struct {
		name  string
		order []int
		fail  int // index in order of the first failing Open
	}{
		{"in order", []int{0, 1, 2}, -1},
		{"replayed first", []int{0, 0}, 1},
		{"skipped", []int{0, 2}, 1},
		{"swapped", []int{1, 0}, 0},
		{"replay after error then continue", []int{0, 0, 1, 2}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := NewUnprotector(vectorBKeys(t))
			for i, idx := range tt.order {
				_, _, err := u.Open(segs[idx])
				if i == tt.fail {
					if !errors.Is(err, ErrMAC) {
						t.Fatalf("step %d: err = %v, want ErrMAC", i, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
		})
	}
}

// macSegment builds a segment with a valid MAC around an arbitrary payload,
// encrypting it without padding, to reach the padding checks.
func macSegment(t *testing.T, k SessionKeys, tag byte, raw []byte) []byte {
	t.Helper()
	ch := newChannel(k)
	payload := bytes.Clone(raw)
	cipher.NewCBCEncrypter(ch.enc, ch.icv(1)).CryptBlocks(payload, payload)
	header := segmentHeader(tag, len(payload)+macLen)
	full := ch.mac.sum(ch.mcv[:], header, payload)
	return append(append(header, payload...), full[:macLen]...)
}

func TestOpenPadding(t *testing.T) {
	k := vectorBKeys(t)
	tests := []struct {
		name    string
		raw     []byte
		want    []byte
		wantErr error
	}{
		{"valid, one byte", append(bytes.Repeat([]byte{1}, 15), 0x80), bytes.Repeat([]byte{1}, 15), nil},
		{"valid, full block", append(bytes.Repeat([]byte{1}, 16), append([]byte{0x80}, make([]byte, 15)...)...), bytes.Repeat([]byte{1}, 16), nil},
		{"no 80", bytes.Repeat([]byte{1}, 16), nil, ErrPadding},
		{"all zero", make([]byte, 32), nil, ErrPadding},
		{"padding longer than a block", append([]byte{0x80}, make([]byte, 31)...), nil, ErrPadding},
		{"81 instead of 80", append([]byte{0x81}, make([]byte, 15)...), nil, ErrPadding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, err := NewUnprotector(k).Open(macSegment(t, k, 0x87, tt.raw))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && !bytes.Equal(got, tt.want) {
				t.Fatalf("plaintext %x, want %x", got, tt.want)
			}
		})
	}
}

func TestOpenFormat(t *testing.T) {
	tests := []struct {
		name string
		seg  string
	}{
		{"empty", ""},
		{"truncated", "8718f6fe"},
		{"trailing bytes", vecSeg1 + "00"},
		{"other tag", "8508" + "0000000000000000"},
		{"no MAC", "880400000000"},
		{"ciphertext not whole blocks", "870c" + "00000000" + "0000000000000000"},
		{"no ciphertext", "8608" + "0000000000000000"},
		{"indefinite length", "8780"},
		{"two-byte tag", "9f8701" + "00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := NewUnprotector(vectorBKeys(t)).Open(unhex(t, tt.seg))
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
		})
	}
}

func FuzzUnprotect(f *testing.F) {
	f.Add(unhex(f, vecSeg1))
	f.Add(unhex(f, vecSeg3))
	f.Add(append(append(unhex(f, "8838"), unhex(f, vecSeg2Plain)...), unhex(f, vecSeg2MAC)...))
	f.Add([]byte{0x86, 0x82, 0x03, 0xF8})
	f.Add([]byte{0x88, 0x08, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{})
	k := vectorBKeys(f)
	f.Fuzz(func(t *testing.T, seg []byte) {
		u := NewUnprotector(k)
		tag, plain, err := u.Open(seg)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrMAC) && !errors.Is(err, ErrPadding) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		// Whatever opens must be what the Protector makes of the plaintext
		// (unless the sender used a longer, non-minimal length encoding).
		p := NewProtector(k)
		var again []byte
		if tag == TagMACOnlySegment {
			again, err = p.MACOnly(tag, plain)
		} else {
			again, err = p.Encrypt(tag, plain)
		}
		if err == nil && len(again) == len(seg) && !bytes.Equal(again, seg) {
			t.Fatalf("opened segment %x re-protects to %x", seg, again)
		}
	})
}

// Make sure the ICV is the encrypted counter: the first block of a
// one-block segment decrypts under plain CBC with that IV.
func TestICVIsEncryptedCounter(t *testing.T) {
	k := vectorBKeys(t)
	block, err := aes.NewCipher(k.SENC)
	if err != nil {
		t.Fatal(err)
	}
	ctr := make([]byte, 16)
	ctr[15] = 1
	icv := make([]byte, 16)
	block.Encrypt(icv, ctr)
	seg := unhex(t, vecSeg1)
	ct := seg[2:18]
	pt := make([]byte, 16)
	cipher.NewCBCDecrypter(block, icv).CryptBlocks(pt, ct)
	want := append(unhex(t, vecSeg1Plain), 0x80)
	want = append(want, make([]byte, 12)...)
	if !bytes.Equal(pt, want) {
		t.Fatalf("decrypted %x, want %x", pt, want)
	}
}
