package lpa

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/mobileplans/mobileplans/esim/apdu"
)

// step is one scripted exchange of a fake channel: the exact command the
// client must send and what the "card" answers.
type step struct {
	cmd  string // expected command APDU, hex (spaces allowed)
	resp string // response APDU incl. SW, hex
	err  error  // returned by Transmit instead of resp
	// hook runs after the command was accepted (e.g. to cancel the context).
	hook func()
}

// scriptChannel is an apdu.Channel that plays a script and records every
// command it receives.
type scriptChannel struct {
	t      testing.TB
	name   string
	mu     sync.Mutex
	script []step
	pos    int
	sent   [][]byte
	closed bool
	// ctxKey, when set, must be present in the ctx passed to Transmit.
	ctxKey any
}

type ctxKeyType struct{}

func (c *scriptChannel) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t.Helper()
	if c.closed {
		c.t.Errorf("%s: Transmit %X on a closed channel", c.name, cmd)
		return nil, apdu.ErrChannelClosed
	}
	if c.ctxKey != nil && ctx.Value(c.ctxKey) == nil {
		c.t.Errorf("%s: Transmit got a context that is not the caller's", c.name)
	}
	c.sent = append(c.sent, bytes.Clone(cmd))
	if c.pos >= len(c.script) {
		c.t.Errorf("%s: unexpected command %X after the script ended", c.name, cmd)
		return nil, errors.New("script ended")
	}
	s := c.script[c.pos]
	c.pos++
	if want := mustHex(c.t, s.cmd); !bytes.Equal(cmd, want) {
		c.t.Errorf("%s: command %d:\n got %X\nwant %X", c.name, c.pos, cmd, want)
	}
	if s.hook != nil {
		s.hook()
	}
	if s.err != nil {
		return nil, s.err
	}
	return mustHex(c.t, s.resp), nil
}

func (c *scriptChannel) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}

// done fails the test if part of the script was not played.
func (c *scriptChannel) done() {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pos != len(c.script) {
		c.t.Errorf("%s: %d of %d scripted commands were sent; next expected %s", c.name, c.pos, len(c.script), c.script[c.pos].cmd)
	}
}

// opener hands out the given channels in order, recording the AIDs.
type opener struct {
	t     testing.TB
	mu    sync.Mutex
	chans []apdu.Channel
	errs  []error // errs[i], when non-nil, is returned by the i-th open
	aids  [][]byte
}

func (o *opener) open(_ context.Context, aid []byte) (apdu.Channel, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	i := len(o.aids)
	o.aids = append(o.aids, bytes.Clone(aid))
	if i < len(o.errs) && o.errs[i] != nil {
		return nil, o.errs[i]
	}
	if i >= len(o.chans) {
		o.t.Errorf("unexpected open #%d", i+1)
		return nil, errors.New("no more channels")
	}
	return o.chans[i], nil
}

func (o *opener) opens() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.aids)
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// sd formats a STORE DATA command the way the client must send it.
func sd(p1, p2 byte, data []byte) string {
	return fmt.Sprintf("80E2%02X%02X%02X%X", p1, p2, len(data), data)
}

// request builds a request of n bytes starting with the tag bytes; the
// filler is a recognisable counter pattern.
func request(tag []byte, n int) []byte {
	b := make([]byte, n)
	copy(b, tag)
	for i := len(tag); i < n; i++ {
		b[i] = byte(i)
	}
	return b
}

// newTestClient returns a client over one scripted channel.
func newTestClient(t *testing.T, opts Options, script ...step) (*Client, *scriptChannel) {
	t.Helper()
	ch := &scriptChannel{t: t, name: "ch1", script: script}
	op := &opener{t: t, chans: []apdu.Channel{ch}}
	c, err := New(context.Background(), op.open, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, ch
}

// fakeCard is a minimal ISD-R for method tests: it reassembles STORE DATA
// blocks, hands the request to handle and serves the answer with 61xx/GET
// RESPONSE chaining in 256-byte chunks. Reset invalidates every channel
// opened before it.
type fakeCard struct {
	t      testing.TB
	handle func(req []byte) []byte

	mu       sync.Mutex
	epoch    int
	opens    int
	requests [][]byte
	buf      []byte // request being assembled
	pending  []byte // response not yet fetched
}

func (f *fakeCard) open(_ context.Context, aid []byte) (apdu.Channel, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !bytes.Equal(aid, apdu.ISDR) {
		return nil, fmt.Errorf("fake card: unknown AID %X", aid)
	}
	f.opens++
	return &fakeCardChannel{card: f, epoch: f.epoch}, nil
}

// reset simulates a card reset (refresh): channels opened before are gone.
func (f *fakeCard) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.epoch++
	f.buf, f.pending = nil, nil
}

// last returns the last complete request.
func (f *fakeCard) last() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return nil
	}
	return f.requests[len(f.requests)-1]
}

func (f *fakeCard) transmit(epoch int, raw []byte) ([]byte, error) {
	f.mu.Lock()
	if epoch != f.epoch {
		f.mu.Unlock()
		return nil, apdu.ErrChannelClosed
	}
	cmd, err := apdu.ParseCommand(raw)
	if err != nil {
		f.mu.Unlock()
		f.t.Errorf("fake card: %v", err)
		return []byte{0x67, 0x00}, nil
	}
	switch {
	case cmd.CLA == 0x80 && cmd.INS == 0xE2:
		if cmd.P2 == 0 {
			f.buf = nil
		}
		f.buf = append(f.buf, cmd.Data...)
		if cmd.P1 == 0x11 {
			f.mu.Unlock()
			return []byte{0x90, 0x00}, nil
		}
		req := f.buf
		f.buf = nil
		f.requests = append(f.requests, req)
		handle := f.handle
		f.mu.Unlock()
		resp := handle(req) // may call reset
		f.mu.Lock()
		defer f.mu.Unlock()
		f.pending = resp
		return f.chunk(), nil
	case cmd.CLA == 0x80 && cmd.INS == 0xC0:
		defer f.mu.Unlock()
		if len(f.pending) == 0 {
			return []byte{0x69, 0x85}, nil
		}
		return f.chunk(), nil
	}
	f.mu.Unlock()
	return []byte{0x6D, 0x00}, nil
}

// chunk serves up to 256 bytes of the pending response.
func (f *fakeCard) chunk() []byte {
	n := min(len(f.pending), 256)
	out := append([]byte(nil), f.pending[:n]...)
	f.pending = f.pending[n:]
	if rest := len(f.pending); rest > 0 {
		return append(out, 0x61, byte(min(rest, 256)))
	}
	return append(out, 0x90, 0x00)
}

type fakeCardChannel struct {
	card   *fakeCard
	epoch  int
	closed bool
}

func (c *fakeCardChannel) Transmit(_ context.Context, cmd []byte) ([]byte, error) {
	if c.closed {
		return nil, errors.New("fake card: transmit on closed channel")
	}
	return c.card.transmit(c.epoch, cmd)
}

func (c *fakeCardChannel) Close() error {
	c.closed = true
	return nil
}
