package apdu

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

type echoChannel struct{ fail bool }

func (e echoChannel) Transmit(_ context.Context, b []byte) ([]byte, error) {
	if e.fail {
		return nil, ErrChannelClosed
	}
	return append(append([]byte{}, b...), 0x90, 0x00), nil
}
func (echoChannel) Close() error { return nil }

func TestTrace(t *testing.T) {
	var buf bytes.Buffer
	tw := NewTraceWriter(&buf)
	tw.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC) }
	open := tw.WrapOpener(func(context.Context, []byte) (Channel, error) { return echoChannel{}, nil })
	ch, err := open(context.Background(), []byte{0xA0, 0x01})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Transmit(context.Background(), []byte{0x81, 0xE2}); err != nil {
		t.Fatal(err)
	}
	bad := tw.Wrap(echoChannel{fail: true}, "x")
	if _, err := bad.Transmit(context.Background(), []byte{1}); !errors.Is(err, ErrChannelClosed) {
		t.Fatal(err)
	}
	want := "03:04:05.006 [A001] > 81E2\n03:04:05.006 [A001] < 81E29000\n03:04:05.006 x > 01\n03:04:05.006 x < error: apdu: logical channel closed\n"
	if got := buf.String(); got != want {
		t.Fatalf("trace:\n%s\nwant:\n%s", got, want)
	}
	if strings.Count(buf.String(), "\n") != 4 {
		t.Fatal("line count")
	}
}
