package apdu

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// TraceWriter serialises APDU trace lines from any number of channels into
// one writer, in the "> command" / "< response" hex format that lpac users
// know (with a timestamp and the channel's label).
type TraceWriter struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

// NewTraceWriter returns a TraceWriter on w.
func NewTraceWriter(w io.Writer) *TraceWriter {
	return &TraceWriter{w: w, now: time.Now}
}

func (t *TraceWriter) line(label, dir string, b []byte, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ts := t.now().UTC().Format("15:04:05.000")
	if err != nil {
		fmt.Fprintf(t.w, "%s %s %s error: %v\n", ts, label, dir, err)
		return
	}
	fmt.Fprintf(t.w, "%s %s %s %X\n", ts, label, dir, b)
}

// Wrap returns a Channel that writes every command and response to the
// trace before passing it on.
func (t *TraceWriter) Wrap(ch Channel, label string) Channel {
	return &tracedChannel{ch: ch, t: t, label: label}
}

// WrapOpener returns an Opener whose channels are traced.
func (t *TraceWriter) WrapOpener(open Opener) Opener {
	return func(ctx context.Context, aid []byte) (Channel, error) {
		ch, err := open(ctx, aid)
		if err != nil {
			t.line("open", "!", nil, err)
			return nil, err
		}
		return t.Wrap(ch, fmt.Sprintf("[%X]", aid)), nil
	}
}

type tracedChannel struct {
	ch    Channel
	t     *TraceWriter
	label string
}

func (c *tracedChannel) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	c.t.line(c.label, ">", cmd, nil)
	r, err := c.ch.Transmit(ctx, cmd)
	c.t.line(c.label, "<", r, err)
	return r, err
}

func (c *tracedChannel) Close() error { return c.ch.Close() }
