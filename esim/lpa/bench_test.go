package lpa

import (
	"bytes"
	"context"
	"testing"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/rsp"
)

// benchChannel answers every STORE DATA with the first chunk of a canned
// response and GET RESPONSE with the following ones (61xx chaining).
type benchChannel struct {
	chunks [][]byte
	next   int
}

func newBenchChannel(resp []byte) *benchChannel {
	var chunks [][]byte
	for len(resp) > 0 {
		n := min(len(resp), 256)
		c := append([]byte(nil), resp[:n]...)
		resp = resp[n:]
		if rest := len(resp); rest > 0 {
			c = append(c, 0x61, byte(min(rest, 256)))
		} else {
			c = append(c, 0x90, 0x00)
		}
		chunks = append(chunks, c)
	}
	return &benchChannel{chunks: chunks}
}

func (b *benchChannel) Transmit(_ context.Context, cmd []byte) ([]byte, error) {
	switch cmd[1] {
	case 0xE2:
		if cmd[2] == 0x11 {
			return []byte{0x90, 0x00}, nil
		}
		b.next = 1
		return b.chunks[0], nil
	case 0xC0:
		c := b.chunks[b.next]
		b.next++
		return c, nil
	}
	return []byte{0x6D, 0x00}, nil
}

func (b *benchChannel) Close() error { return nil }

// BenchmarkCallProfiles measures Profiles (GetProfilesInfo with three
// profiles, about 1.3 KB of response fetched with GET RESPONSE) including
// decoding.
func BenchmarkCallProfiles(b *testing.B) {
	it := rsp.IconType(1)
	class := rsp.ProfileClass(2)
	p := rsp.ProfileInfo{
		ICCID: testICCID, ISDPAID: apdu.ISDR, State: 1, Nickname: "work",
		ServiceProviderName: "Contoso Cellular", ProfileName: "Contoso 5G",
		IconType: &it, Icon: bytes.Repeat([]byte{0x89}, 300), Class: &class,
		NotificationConfig: []rsp.NotificationConfig{{Event: rsp.EventInstall | rsp.EventEnable, Address: "smdp.contoso.test"}},
	}
	resp := rsp.GetProfilesInfoResponse{Profiles: []rsp.ProfileInfo{p, p, p}}.Encode()
	ch := newBenchChannel(resp)
	c, err := New(context.Background(), func(context.Context, []byte) (apdu.Channel, error) { return ch, nil }, Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(resp)))
	for b.Loop() {
		ps, err := c.Profiles(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(ps) != 3 {
			b.Fatalf("%d profiles", len(ps))
		}
	}
	st := c.Stats()
	b.ReportMetric(float64(st.APDUs)/float64(b.N), "apdus/op")
}
