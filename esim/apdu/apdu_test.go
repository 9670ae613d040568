package apdu

import (
	"bytes"
	"testing"
)

func TestChannelBits(t *testing.T) {
	tests := []struct {
		base byte
		ch   int
		want byte
	}{
		{0x80, 0, 0x80}, {0x80, 1, 0x81}, {0x80, 3, 0x83}, {0x80, 4, 0xC0}, {0x80, 19, 0xCF},
		{0x00, 1, 0x01}, {0x00, 5, 0x41}, {0x81, 2, 0x82},
	}
	for _, tc := range tests {
		if got := WithChannel(tc.base, tc.ch); got != tc.want {
			t.Errorf("WithChannel(%02X,%d)=%02X want %02X", tc.base, tc.ch, got, tc.want)
		}
		if got := ChannelOf(tc.want); got != tc.ch {
			t.Errorf("ChannelOf(%02X)=%d want %d", tc.want, got, tc.ch)
		}
	}
}

func TestCommandRoundTrip(t *testing.T) {
	tests := []Command{
		{CLA: 0x00, INS: 0x70, P1: 0x80, P2: 0x01},
		{CLA: 0x00, INS: 0x70, HasLe: true, Le: 1},
		{CLA: 0x81, INS: 0xE2, P1: 0x91, Data: []byte{0xBF, 0x3E, 0x03, 0x5C, 0x01, 0x5A}},
		{CLA: 0x81, INS: 0xE2, P1: 0x91, Data: []byte{0xBF, 0x20, 0x00}, HasLe: true},
	}
	for _, c := range tests {
		got, err := ParseCommand(c.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if got.CLA != c.CLA || got.INS != c.INS || got.P1 != c.P1 || got.P2 != c.P2 ||
			!bytes.Equal(got.Data, c.Data) || got.HasLe != c.HasLe || got.Le != c.Le {
			t.Fatalf("round trip %X -> %+v", c.Bytes(), got)
		}
	}
	for _, bad := range [][]byte{{0x00}, {0x00, 0xA4, 0x04, 0x00, 0x05, 0x01}, {0, 0, 0, 0, 0, 1, 2}} {
		if _, err := ParseCommand(bad); err == nil {
			t.Errorf("ParseCommand(%X) accepted", bad)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	f.Add([]byte{0x81, 0xE2, 0x91, 0x00, 0x03, 0xBF, 0x20, 0x00})
	f.Add([]byte{0x00, 0x70, 0x00, 0x00, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommand(b)
		if err != nil {
			return
		}
		if len(c.Data) > 0 && !bytes.Equal(c.Bytes(), b) {
			t.Fatalf("re-encode %X != %X", c.Bytes(), b)
		}
	})
}
