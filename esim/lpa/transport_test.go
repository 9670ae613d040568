package lpa

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/mobileplans/mobileplans/esim/apdu"
)

var (
	tagAuth   = []byte{0xBF, 0x38} // AuthenticateServer: state-changing
	tagGetEID = []byte{0xBF, 0x3E}
)

func TestCallExchanges(t *testing.T) {
	eidResp := "BF3E125A1089049032123451234512345678901235"
	req600 := request(tagAuth, 600)
	req300 := request(tagAuth, 300)
	req255 := request(tagAuth, 255)
	req256 := request(tagAuth, 256)
	big := bytes.Repeat([]byte{0xAB}, 256)

	tests := []struct {
		name      string
		blockSize int
		req       []byte
		script    []step
		want      string // response data, hex
		wantErr   string // substring of the error
		wantSW    uint16 // if non-zero, errors.As *apdu.StatusError with this SW
		wantBlock int    // block size after the call
	}{
		{
			name:   "single block GetEID (sgp22.md 1.3 example)",
			req:    mustHex(t, "BF3E035C015A"),
			script: []step{{cmd: "80E2910006BF3E035C015A", resp: eidResp + "9000"}},
			want:   eidResp, wantBlock: 255,
		},
		{
			name: "split at 255",
			req:  req600,
			script: []step{
				{cmd: sd(0x11, 0, req600[:255]), resp: "9000"},
				{cmd: sd(0x11, 1, req600[255:510]), resp: "9000"},
				{cmd: sd(0x91, 2, req600[510:]), resp: "BF38009000"},
			},
			want: "BF3800", wantBlock: 255,
		},
		{
			name:      "split at configured 120",
			blockSize: 120,
			req:       req300,
			script: []step{
				{cmd: sd(0x11, 0, req300[:120]), resp: "9000"},
				{cmd: sd(0x11, 1, req300[120:240]), resp: "9000"},
				{cmd: sd(0x91, 2, req300[240:]), resp: "BF38009000"},
			},
			want: "BF3800", wantBlock: 120,
		},
		{
			name:   "exactly 255 bytes is one block",
			req:    req255,
			script: []step{{cmd: sd(0x91, 0, req255), resp: "9000"}},
			want:   "", wantBlock: 255,
		},
		{
			name: "256 bytes is two blocks",
			req:  req256,
			script: []step{
				{cmd: sd(0x11, 0, req256[:255]), resp: "9000"},
				{cmd: sd(0x91, 1, req256[255:]), resp: "9000"},
			},
			want: "", wantBlock: 255,
		},
		{
			name: "GET RESPONSE loop with 61xx and 6100",
			req:  mustHex(t, "BF2D00"),
			script: []step{
				{cmd: "80E2910003BF2D00", resp: "BF2D8201076110"},
				{cmd: "80C0000010", resp: "00112233445566778899AABBCCDDEEFF6100"},
				{cmd: "80C0000000", resp: fmt.Sprintf("%X6103", big)},
				{cmd: "80C0000003", resp: "0102039000"},
			},
			want: fmt.Sprintf("BF2D82010700112233445566778899AABBCCDDEEFF%X010203", big), wantBlock: 255,
		},
		{
			name: "6Cxx on the last block resends with Le",
			req:  mustHex(t, "BF3E035C015A"),
			script: []step{
				{cmd: "80E2910006BF3E035C015A", resp: "6C15"},
				{cmd: "80E2910006BF3E035C015A15", resp: eidResp + "9000"},
			},
			want: eidResp, wantBlock: 255,
		},
		{
			name: "6Cxx on GET RESPONSE resends with Le",
			req:  mustHex(t, "BF3E035C015A"),
			script: []step{
				{cmd: "80E2910006BF3E035C015A", resp: "6115"},
				{cmd: "80C0000015", resp: "6C14"},
				{cmd: "80C0000014", resp: eidResp + "9000"},
			},
			want: eidResp, wantBlock: 255,
		},
		{
			name: "6Cxx twice is an error",
			req:  mustHex(t, "BF3E035C015A"),
			script: []step{
				{cmd: "80E2910006BF3E035C015A", resp: "6C15"},
				{cmd: "80E2910006BF3E035C015A15", resp: "6C15"},
			},
			wantErr: "GetEID: card returned status 6C15 (wrong Le)", wantSW: 0x6C15,
		},
		{
			name:      "intermediate block error stops the sequence",
			blockSize: 120,
			req:       req300,
			script: []step{
				{cmd: sd(0x11, 0, req300[:120]), resp: "9000"},
				{cmd: sd(0x11, 1, req300[120:240]), resp: "6985"},
			},
			wantErr: "STORE DATA block 2 of 3: card returned status 6985 (conditions of use not satisfied)", wantSW: 0x6985,
		},
		{
			name:      "intermediate block must answer exactly 9000",
			blockSize: 120,
			req:       req300,
			script: []step{
				{cmd: sd(0x11, 0, req300[:120]), resp: "6110"},
			},
			wantErr: "STORE DATA block 1 of 3: card returned status 6110", wantSW: 0x6110,
		},
		{
			name:    "final status error names the function and the SW",
			req:     mustHex(t, "BF3E035C015A"),
			script:  []step{{cmd: "80E2910006BF3E035C015A", resp: "6A88"}},
			wantErr: "GetEID: card returned status 6A88 (unknown)", wantSW: 0x6A88,
		},
		{
			name:    "unknown function is named by its tag",
			req:     mustHex(t, "BF7F00"),
			script:  []step{{cmd: "80E2910003BF7F00", resp: "6D00"}},
			wantErr: "ES10 BF7F: card returned status 6D00 (instruction not supported)", wantSW: 0x6D00,
		},
		{
			name: "GET RESPONSE error",
			req:  mustHex(t, "BF2D00"),
			script: []step{
				{cmd: "80E2910003BF2D00", resp: "BF2D6110"},
				{cmd: "80C0000010", resp: "6F00"},
			},
			wantErr: "GetProfilesInfo: card returned status 6F00", wantSW: 0x6F00,
		},
		{
			name: "61xx without data makes no progress",
			req:  mustHex(t, "BF2D00"),
			script: []step{
				{cmd: "80E2910003BF2D00", resp: "6110"},
				{cmd: "80C0000010", resp: "6110"},
			},
			wantErr: "GET RESPONSE returned no data",
		},
		{
			name:    "response without status word",
			req:     mustHex(t, "BF2D00"),
			script:  []step{{cmd: "80E2910003BF2D00", resp: "90"}},
			wantErr: "no status word",
		},
		{
			name: "fallback from 255 to 120 on 6700",
			req:  req300,
			script: []step{
				{cmd: sd(0x11, 0, req300[:255]), resp: "6700"},
				{cmd: sd(0x11, 0, req300[:120]), resp: "9000"},
				{cmd: sd(0x11, 1, req300[120:240]), resp: "9000"},
				{cmd: sd(0x91, 2, req300[240:]), resp: "BF38009000"},
			},
			want: "BF3800", wantBlock: 120,
		},
		{
			name: "fallback from 255 to 120 on 6A80 for a single full block",
			req:  req255,
			script: []step{
				{cmd: sd(0x91, 0, req255), resp: "6A80"},
				{cmd: sd(0x11, 0, req255[:120]), resp: "9000"},
				{cmd: sd(0x11, 1, req255[120:240]), resp: "9000"},
				{cmd: sd(0x91, 2, req255[240:]), resp: "9000"},
			},
			want: "", wantBlock: 120,
		},
		{
			name: "fallback happens once only",
			req:  req300,
			script: []step{
				{cmd: sd(0x11, 0, req300[:255]), resp: "6A80"},
				{cmd: sd(0x11, 0, req300[:120]), resp: "6A80"},
			},
			wantErr: "STORE DATA block 1 of 3: card returned status 6A80 (incorrect data)", wantSW: 0x6A80,
		},
		{
			name:      "no fallback for a configured block size below 255",
			blockSize: 200,
			req:       req300,
			script: []step{
				{cmd: sd(0x11, 0, req300[:200]), resp: "6700"},
			},
			wantErr: "card returned status 6700 (wrong length)", wantSW: 0x6700,
		},
		{
			name:    "no fallback on a short first block",
			req:     mustHex(t, "BF3E035C015A"),
			script:  []step{{cmd: "80E2910006BF3E035C015A", resp: "6700"}},
			wantErr: "GetEID: card returned status 6700", wantSW: 0x6700,
		},
		{
			name:    "no fallback on other status words",
			req:     req300,
			script:  []step{{cmd: sd(0x11, 0, req300[:255]), resp: "6985"}},
			wantErr: "card returned status 6985", wantSW: 0x6985,
		},
		{
			name:      "too many blocks",
			blockSize: 1,
			req:       request(tagAuth, 257),
			wantErr:   "needs 257 STORE DATA blocks",
		},
		{
			name:    "empty request",
			req:     nil,
			wantErr: "ES10 request",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ch := newTestClient(t, Options{BlockSize: tc.blockSize}, tc.script...)
			got, err := c.Call(context.Background(), tc.req)
			ch.done()
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("got %X, want error containing %q", got, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q does not contain %q", err, tc.wantErr)
				}
				if tc.wantSW != 0 {
					var se *apdu.StatusError
					if !errors.As(err, &se) || se.SW != tc.wantSW {
						t.Errorf("error %v: want *apdu.StatusError %04X", err, tc.wantSW)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := mustHex(t, tc.want); !bytes.Equal(got, want) {
				t.Errorf("response\n got %X\nwant %X", got, want)
			}
			if bs := c.BlockSize(); bs != tc.wantBlock {
				t.Errorf("block size after call = %d, want %d", bs, tc.wantBlock)
			}
		})
	}
}

// TestFallbackIsRemembered checks that the next command starts with 120-byte
// blocks after a fallback and that the fallback is not tried again.
func TestFallbackIsRemembered(t *testing.T) {
	req := request(tagAuth, 300)
	c, ch := newTestClient(t, Options{},
		step{cmd: sd(0x11, 0, req[:255]), resp: "6700"},
		step{cmd: sd(0x11, 0, req[:120]), resp: "9000"},
		step{cmd: sd(0x11, 1, req[120:240]), resp: "9000"},
		step{cmd: sd(0x91, 2, req[240:]), resp: "9000"},
		// second call: straight to 120
		step{cmd: sd(0x11, 0, req[:120]), resp: "9000"},
		step{cmd: sd(0x11, 1, req[120:240]), resp: "9000"},
		step{cmd: sd(0x91, 2, req[240:]), resp: "BF38009000"},
	)
	ctx := context.Background()
	if _, err := c.Call(ctx, req); err != nil {
		t.Fatal(err)
	}
	got, err := c.Call(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte{0xBF, 0x38, 0x00}) {
		t.Errorf("got %X", got)
	}
	ch.done()
}

func TestCallCopiesResponse(t *testing.T) {
	// The channel's buffer must not leak into the returned slice.
	buf := []byte{0xBF, 0x3E, 0x00, 0x90, 0x00}
	c, err := New(context.Background(), func(context.Context, []byte) (apdu.Channel, error) {
		return reuseChannel{buf: buf}, nil
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Call(context.Background(), mustHex(t, "BF3E035C015A"))
	if err != nil {
		t.Fatal(err)
	}
	buf[0] = 0
	if got[0] != 0xBF {
		t.Errorf("response aliases the channel's buffer")
	}
}

type reuseChannel struct{ buf []byte }

func (r reuseChannel) Transmit(context.Context, []byte) ([]byte, error) { return r.buf, nil }
func (r reuseChannel) Close() error                                     { return nil }

func TestCallContext(t *testing.T) {
	req := request(tagAuth, 300)
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKeyType{}, true))
	defer cancel()
	ch := &scriptChannel{t: t, name: "ch1", ctxKey: ctxKeyType{}, script: []step{
		{cmd: sd(0x11, 0, req[:120]), resp: "9000", hook: cancel},
	}}
	op := &opener{t: t, chans: []apdu.Channel{ch}}
	c, err := New(ctx, op.open, Options{BlockSize: 120})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Call(ctx, req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	ch.done()
	if n := c.Stats().APDUs; n != 1 {
		t.Errorf("%d APDUs sent, want 1", n)
	}

	// Cancelled between the last block and GET RESPONSE.
	ctx2, cancel2 := context.WithCancel(context.WithValue(context.Background(), ctxKeyType{}, true))
	defer cancel2()
	ch2 := &scriptChannel{t: t, name: "ch2", ctxKey: ctxKeyType{}, script: []step{
		{cmd: "80E2910003BF2D00", resp: "BF2D6110", hook: cancel2},
	}}
	op2 := &opener{t: t, chans: []apdu.Channel{ch2}}
	c2, err := New(ctx2, op2.open, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Call(ctx2, mustHex(t, "BF2D00")); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	ch2.done()

	// Already cancelled: nothing is sent.
	ch3 := &scriptChannel{t: t, name: "ch3"}
	c3, err := New(context.Background(), (&opener{t: t, chans: []apdu.Channel{ch3}}).open, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c3.Call(ctx, mustHex(t, "BF3E035C015A")); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(ch3.sent) != 0 {
		t.Errorf("sent %d APDUs on a cancelled context", len(ch3.sent))
	}
}

func TestStats(t *testing.T) {
	c, ch := newTestClient(t, Options{},
		step{cmd: "80E2910003BF2D00", resp: "BF2D6103"},   // 8 out, 4 in
		step{cmd: "80C0000003", resp: "8101019000"},       // 5 out, 5 in
		step{cmd: "80E2910006BF3E035C015A", resp: "6A88"}, // 11 out, 2 in
	)
	ctx := context.Background()
	if _, err := c.Call(ctx, mustHex(t, "BF2D00")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Call(ctx, mustHex(t, "BF3E035C015A")); err == nil {
		t.Fatal("want error")
	}
	ch.done()
	if got, want := c.Stats(), (Stats{APDUs: 3, BytesOut: 24, BytesIn: 11}); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}

func TestReset(t *testing.T) {
	eid := "BF3E125A1089049032123451234512345678901235"
	getEID := "80E2910006BF3E035C015A"
	req300 := request(tagGetEID, 300)
	auth := request(tagAuth, 10)
	closedErr := fmt.Errorf("modem: +CME ERROR: 21: %w", apdu.ErrChannelClosed)

	tests := []struct {
		name     string
		req      []byte
		chans    [][]step // one script per channel the opener hands out
		openErrs []error
		want     string
		wantErr  string
		reset    bool // want errors.Is(err, ErrCardReset)
	}{
		{
			name: "read retried after ErrChannelClosed",
			req:  mustHex(t, "BF3E035C015A"),
			chans: [][]step{
				{{cmd: getEID, err: closedErr}},
				{{cmd: getEID, resp: eid + "9000"}},
			},
			want: eid,
		},
		{
			name: "read retried after 6881",
			req:  mustHex(t, "BF3E035C015A"),
			chans: [][]step{
				{{cmd: getEID, resp: "6881"}},
				{{cmd: getEID, resp: eid + "9000"}},
			},
			want: eid,
		},
		{
			name: "read retried after 6E00 on GET RESPONSE",
			req:  mustHex(t, "BF3E035C015A"),
			chans: [][]step{
				{{cmd: getEID, resp: "6115"}, {cmd: "80C0000015", resp: "6E00"}},
				{{cmd: getEID, resp: eid + "9000"}},
			},
			want: eid,
		},
		{
			name: "multi-block read retried from block 0",
			req:  req300,
			chans: [][]step{
				{{cmd: sd(0x11, 0, req300[:255]), resp: "9000"}, {cmd: sd(0x91, 1, req300[255:]), err: closedErr}},
				{{cmd: sd(0x11, 0, req300[:255]), resp: "9000"}, {cmd: sd(0x91, 1, req300[255:]), resp: "BF3E009000"}},
			},
			want: "BF3E00",
		},
		{
			name: "read retried once only",
			req:  mustHex(t, "BF3E035C015A"),
			chans: [][]step{
				{{cmd: getEID, err: closedErr}},
				{{cmd: getEID, resp: "6881"}},
			},
			wantErr: "GetEID: card reset or logical channel lost", reset: true,
		},
		{
			name: "write not retried",
			req:  auth,
			chans: [][]step{
				{{cmd: sd(0x91, 0, auth), err: closedErr}},
			},
			wantErr: "AuthenticateServer: card reset", reset: true,
		},
		{
			name: "write not retried on 6881",
			req:  auth,
			chans: [][]step{
				{{cmd: sd(0x91, 0, auth), resp: "6881"}},
			},
			wantErr: "status 6881", reset: true,
		},
		{
			name: "re-open failure is reported",
			req:  mustHex(t, "BF3E035C015A"),
			chans: [][]step{
				{{cmd: getEID, err: closedErr}},
			},
			openErrs: []error{nil, errors.New("no SIM")},
			wantErr:  "GetEID: open channel to A0000005591010FFFFFFFF8900000100: no SIM",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var chans []*scriptChannel
			op := &opener{t: t, errs: tc.openErrs}
			for i, s := range tc.chans {
				ch := &scriptChannel{t: t, name: fmt.Sprintf("ch%d", i+1), script: s}
				chans = append(chans, ch)
				op.chans = append(op.chans, ch)
			}
			c, err := New(context.Background(), op.open, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Call(context.Background(), tc.req)
			for _, ch := range chans {
				ch.done()
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if errors.Is(err, ErrCardReset) != tc.reset {
					t.Errorf("errors.Is(err, ErrCardReset) = %v, want %v", !tc.reset, tc.reset)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if want := mustHex(t, tc.want); !bytes.Equal(got, want) {
					t.Errorf("got %X, want %X", got, want)
				}
			}
			// Every channel but the last in use must have been closed.
			for i, ch := range chans {
				if i < len(chans)-1 && !ch.closed {
					t.Errorf("stale channel %s was not closed", ch.name)
				}
			}
		})
	}
}

// TestResetWriteReopensForNextCall: a state-changing command fails with
// ErrCardReset and the following call runs on a freshly opened channel.
func TestResetWriteReopensForNextCall(t *testing.T) {
	auth := request(tagAuth, 10)
	eid := "BF3E125A1089049032123451234512345678901235"
	ch1 := &scriptChannel{t: t, name: "ch1", script: []step{{cmd: sd(0x91, 0, auth), resp: "6881"}}}
	ch2 := &scriptChannel{t: t, name: "ch2", script: []step{{cmd: "80E2910006BF3E035C015A", resp: eid + "9000"}}}
	op := &opener{t: t, chans: []apdu.Channel{ch1, ch2}}
	c, err := New(context.Background(), op.open, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Call(context.Background(), auth)
	var re *CardResetError
	if !errors.As(err, &re) || re.Function != "AuthenticateServer" {
		t.Fatalf("err = %v, want *CardResetError", err)
	}
	var se *apdu.StatusError
	if !errors.As(err, &se) || se.SW != 0x6881 {
		t.Errorf("cause not kept: %v", err)
	}
	if !ch1.closed {
		t.Error("stale channel not closed")
	}
	if n := op.opens(); n != 1 {
		t.Errorf("opened %d channels before the next call, want 1 (lazy re-open)", n)
	}
	got, err := c.Call(context.Background(), mustHex(t, "BF3E035C015A"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, mustHex(t, eid)) {
		t.Errorf("got %X", got)
	}
	if n := op.opens(); n != 2 {
		t.Errorf("opened %d channels, want 2", n)
	}
	ch1.done()
	ch2.done()
}

// TestReopenFailureThenSuccess: after a failed re-open the next call tries
// again.
func TestReopenFailureThenSuccess(t *testing.T) {
	auth := request(tagAuth, 10)
	ch1 := &scriptChannel{t: t, name: "ch1", script: []step{{cmd: sd(0x91, 0, auth), err: apdu.ErrChannelClosed}}}
	ch3 := &scriptChannel{t: t, name: "ch3", script: []step{{cmd: sd(0x91, 0, auth), resp: "BF38009000"}}}
	op := &opener{t: t, chans: []apdu.Channel{ch1, nil, ch3}, errs: []error{nil, errors.New("card busy")}}
	c, err := New(context.Background(), op.open, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Call(ctx, auth); !errors.Is(err, ErrCardReset) {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.Call(ctx, auth); err == nil || !strings.Contains(err.Error(), "card busy") {
		t.Fatalf("err = %v, want open failure", err)
	}
	if _, err := c.Call(ctx, auth); err != nil {
		t.Fatal(err)
	}
	ch1.done()
	ch3.done()
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		openErr error
		wantAID []byte
		wantBS  int
		wantErr string
	}{
		{name: "defaults", wantAID: apdu.ISDR, wantBS: 255},
		{name: "custom", opts: Options{BlockSize: 120, AID: []byte{0xA0, 0x01}}, wantAID: []byte{0xA0, 0x01}, wantBS: 120},
		{name: "block size 1", opts: Options{BlockSize: 1}, wantAID: apdu.ISDR, wantBS: 1},
		{name: "block size too big", opts: Options{BlockSize: 256}, wantErr: "block size 256 out of range"},
		{name: "block size negative", opts: Options{BlockSize: -1}, wantErr: "block size -1 out of range"},
		{name: "open fails", openErr: errors.New("no such app"), wantErr: "no such app"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch := &scriptChannel{t: t, name: "ch1"}
			op := &opener{t: t, chans: []apdu.Channel{ch}, errs: []error{tc.openErr}}
			c, err := New(context.Background(), op.open, tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(op.aids[0], tc.wantAID) {
				t.Errorf("opened AID %X, want %X", op.aids[0], tc.wantAID)
			}
			if c.BlockSize() != tc.wantBS {
				t.Errorf("block size %d, want %d", c.BlockSize(), tc.wantBS)
			}
		})
	}
	if _, err := New(context.Background(), nil, Options{}); err == nil {
		t.Error("nil opener accepted")
	}
}

func TestClose(t *testing.T) {
	c, ch := newTestClient(t, Options{})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if !ch.closed {
		t.Error("channel not closed")
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.Call(context.Background(), mustHex(t, "BF3E035C015A")); !errors.Is(err, ErrClosed) {
		t.Errorf("Call after Close: %v, want ErrClosed", err)
	}
}

// FuzzCall feeds arbitrary card responses to the transport: it must never
// panic, and a nil error must come with a final 9000.
func FuzzCall(f *testing.F) {
	f.Add([]byte{0x90, 0x00}, uint8(255), uint16(10))
	f.Add([]byte{0x02, 0x61, 0x10, 0x12, 0xBF, 0x2D, 0x0E, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x90, 0x00}, uint8(120), uint16(300))
	f.Add([]byte{0x02, 0x6C, 0x05, 0x07, 0x01, 0x02, 0x03, 0x04, 0x05, 0x90, 0x00}, uint8(0), uint16(3))
	f.Add([]byte{0x02, 0x67, 0x00, 0x02, 0x90, 0x00, 0x02, 0x90, 0x00, 0x02, 0x90, 0x00}, uint8(0), uint16(300))
	f.Add([]byte{0x02, 0x68, 0x81, 0x02, 0x90, 0x00}, uint8(0), uint16(6))
	f.Add([]byte{0x02, 0x61, 0x00, 0x00}, uint8(7), uint16(30))
	f.Fuzz(func(t *testing.T, script []byte, bs uint8, reqLen uint16) {
		if bs == 0 {
			bs = 255
		}
		ch := &fuzzChannel{script: script}
		c, err := New(context.Background(), func(context.Context, []byte) (apdu.Channel, error) { return ch, nil },
			Options{BlockSize: int(bs)})
		if err != nil {
			t.Fatal(err)
		}
		req := request(tagGetEID, int(reqLen%2048)+2)
		_, err = c.Call(context.Background(), req)
		if ch.bad != nil {
			t.Fatal(ch.bad)
		}
		if err == nil && ch.lastSW != apdu.SWOK {
			t.Fatalf("success although the last status word was %04X", ch.lastSW)
		}
	})
}

// fuzzChannel answers from a byte script: each response is a length byte
// followed by that many bytes; when the script runs out it answers 6F00.
type fuzzChannel struct {
	script []byte
	lastSW uint16
	bad    error
}

func (f *fuzzChannel) Transmit(_ context.Context, cmd []byte) ([]byte, error) {
	if _, err := apdu.ParseCommand(cmd); err != nil {
		f.bad = fmt.Errorf("client sent a malformed APDU %X: %w", cmd, err)
		return nil, f.bad
	}
	resp := []byte{0x6F, 0x00}
	if len(f.script) > 0 {
		n := min(int(f.script[0]), len(f.script)-1)
		resp = f.script[1 : 1+n]
		f.script = f.script[1+n:]
	}
	if len(resp) >= 2 {
		f.lastSW = uint16(resp[len(resp)-2])<<8 | uint16(resp[len(resp)-1])
	}
	return resp, nil
}

func (f *fuzzChannel) Close() error { return nil }

func TestLogging(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	req := request(tagAuth, 300)
	eid := "BF3E125A1089049032123451234512345678901235"
	ch := &scriptChannel{t: t, name: "ch1", script: []step{
		{cmd: "80E2910006BF3E035C015A", resp: eid + "9000"},
		{cmd: sd(0x11, 0, req[:255]), resp: "6A80"},
		{cmd: sd(0x11, 0, req[:120]), resp: "9000"},
		{cmd: sd(0x11, 1, req[120:240]), resp: "9000"},
		{cmd: sd(0x91, 2, req[240:]), resp: "BF38009000"},
	}}
	c, err := New(context.Background(), (&opener{t: t, chans: []apdu.Channel{ch}}).open, Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Call(ctx, mustHex(t, "BF3E035C015A")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Call(ctx, req); err != nil {
		t.Fatal(err)
	}
	ch.done()
	out := buf.String()
	for _, want := range []string{
		"level=DEBUG msg=es10 function=GetEID request_bytes=6 response_bytes=21 apdus=1",
		"level=INFO msg=\"card refused a 255-byte STORE DATA block; using a smaller block size\" function=AuthenticateServer block_size=120",
		"function=AuthenticateServer request_bytes=300 response_bytes=3 apdus=4",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "8904903212345") || strings.Contains(strings.ToUpper(out), "5C015A") {
		t.Errorf("log contains payload:\n%s", out)
	}
}
