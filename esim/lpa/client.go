package lpa

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/tlv"
)

// ES10 transport constants (sgp22.md 1.3).
const (
	// MaxBlockSize is the largest STORE DATA block (short Lc).
	MaxBlockSize = 255
	// FallbackBlockSize is used when a card refuses 255-byte blocks.
	FallbackBlockSize = 120

	claES10        = 0x80
	insStoreData   = 0xE2
	insGetResponse = 0xC0
	p1MoreBlocks   = 0x11
	p1LastBlock    = 0x91

	// maxBlocks is bounded by the one-byte block number in P2.
	maxBlocks = 256
	// maxResponse bounds the data collected through GET RESPONSE, so that a
	// card answering 61xx forever cannot exhaust memory.
	maxResponse = 1 << 20
)

// Options configures a Client.
type Options struct {
	// BlockSize is the STORE DATA block size, 1..255; 0 means 255. If the
	// card answers 6700 or 6A80 to a full 255-byte first block, the client
	// falls back once to 120 bytes and keeps that size.
	BlockSize int
	// Logger receives Debug lines per ES10 function (name and sizes, never
	// payloads) and Info lines on block-size fallback and card resets.
	// nil discards.
	Logger *slog.Logger
	// AID of the application to open; default apdu.ISDR.
	AID []byte
}

// Stats counts the APDU traffic of a Client since New.
type Stats struct {
	// APDUs is the number of command APDUs handed to Transmit.
	APDUs int64
	// BytesOut is the total size of those commands.
	BytesOut int64
	// BytesIn is the total size of the responses, status words included.
	BytesIn int64
}

// Client is an ES10 client bound to one logical channel to the ISD-R. Its
// methods are safe for concurrent use; ES10 exchanges are serialised.
type Client struct {
	open apdu.Opener
	aid  []byte
	log  *slog.Logger

	mu        sync.Mutex
	ch        apdu.Channel // nil after a card reset until the next call re-opens it
	closed    bool
	blockSize int
	fellBack  bool

	apdus    atomic.Int64
	bytesOut atomic.Int64
	bytesIn  atomic.Int64
}

// New opens a channel to the ISD-R (or opts.AID) with open and returns a
// Client on it. The Opener is kept to re-open the channel after a card reset.
func New(ctx context.Context, open apdu.Opener, opts Options) (*Client, error) {
	if open == nil {
		return nil, errors.New("lpa: nil apdu.Opener")
	}
	bs := opts.BlockSize
	if bs == 0 {
		bs = MaxBlockSize
	}
	if bs < 1 || bs > MaxBlockSize {
		return nil, fmt.Errorf("lpa: block size %d out of range 1..%d", opts.BlockSize, MaxBlockSize)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	aid := bytes.Clone(opts.AID)
	if len(aid) == 0 {
		aid = bytes.Clone(apdu.ISDR)
	}
	c := &Client{open: open, aid: aid, log: log, blockSize: bs}
	ch, err := c.openChannel(ctx)
	if err != nil {
		return nil, fmt.Errorf("lpa: %w", err)
	}
	c.ch = ch
	return c, nil
}

// Close closes the channel. Later calls fail with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	ch := c.ch
	c.ch = nil
	if ch == nil {
		return nil
	}
	if err := ch.Close(); err != nil {
		return fmt.Errorf("lpa: close channel: %w", err)
	}
	return nil
}

// Stats returns the traffic counters.
func (c *Client) Stats() Stats {
	return Stats{APDUs: c.apdus.Load(), BytesOut: c.bytesOut.Load(), BytesIn: c.bytesIn.Load()}
}

// BlockSize returns the STORE DATA block size currently in use (it changes
// once if the client falls back to FallbackBlockSize).
func (c *Client) BlockSize() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.blockSize
}

// Call performs one raw ES10 exchange: request (a DER TLV, or for
// LoadBoundProfilePackage one segment starting with a tag) is sent with
// STORE DATA chaining and the complete response data is returned (empty
// when the card answers 9000 without data, as for intermediate BPP
// segments).
//
// If the channel turns out to be gone (apdu.ErrChannelClosed, SW 6881 or
// 6E00), the channel is re-opened; read-only functions are retried once,
// others fail with a *CardResetError (errors.Is ErrCardReset) and the next
// call uses the new channel.
func (c *Client) Call(ctx context.Context, request []byte) ([]byte, error) {
	tag, _, err := tlv.ReadTag(request)
	if err != nil {
		return nil, fmt.Errorf("lpa: ES10 request: %w", err)
	}
	return c.call(ctx, tag, request)
}

func (c *Client) call(ctx context.Context, tag tlv.Tag, request []byte) ([]byte, error) {
	fn := functionName(tag)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, fmt.Errorf("%s: %w", fn, ErrClosed)
	}
	start := time.Now()
	before := c.apdus.Load()
	resp, err := c.attempt(ctx, fn, request)
	if err != nil && channelGone(err) {
		c.dropChannel(fn, err)
		if idempotent(tag) {
			c.log.Info("retrying a read on a new channel", "function", fn)
			resp, err = c.attempt(ctx, fn, request)
			if err != nil && channelGone(err) {
				c.dropChannel(fn, err)
			}
		}
		if err != nil && channelGone(err) {
			c.log.Debug("es10 failed", "function", fn, "request_bytes", len(request), "error", err)
			return nil, &CardResetError{Function: fn, Err: err}
		}
	}
	if err != nil {
		c.log.Debug("es10 failed", "function", fn, "request_bytes", len(request), "error", err)
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	if c.log.Enabled(ctx, slog.LevelDebug) {
		c.log.DebugContext(ctx, "es10", "function", fn, "request_bytes", len(request), "response_bytes", len(resp),
			"apdus", c.apdus.Load()-before, "duration", time.Since(start))
	}
	return resp, nil
}

// attempt runs one exchange on the current channel, opening it if needed.
func (c *Client) attempt(ctx context.Context, fn string, request []byte) ([]byte, error) {
	if c.ch == nil {
		ch, err := c.openChannel(ctx)
		if err != nil {
			return nil, err
		}
		c.ch = ch
	}
	for {
		resp, fallback, err := c.storeData(ctx, c.ch, request)
		if !fallback {
			return resp, err
		}
		c.fellBack = true
		c.blockSize = FallbackBlockSize
		c.log.Info("card refused a 255-byte STORE DATA block; using a smaller block size",
			"function", fn, "block_size", FallbackBlockSize)
	}
}

func (c *Client) openChannel(ctx context.Context) (apdu.Channel, error) {
	ch, err := c.open(ctx, c.aid)
	if err != nil {
		return nil, fmt.Errorf("open channel to %X: %w", c.aid, err)
	}
	if ch == nil {
		return nil, fmt.Errorf("open channel to %X: opener returned no channel", c.aid)
	}
	return ch, nil
}

// dropChannel forgets a channel the card no longer knows; the next attempt
// re-opens it.
func (c *Client) dropChannel(fn string, cause error) {
	if c.ch == nil {
		return
	}
	if err := c.ch.Close(); err != nil {
		c.log.Debug("closing stale channel", "function", fn, "error", err)
	}
	c.ch = nil
	c.log.Info("logical channel dropped; it is re-opened on the next ES10 call", "function", fn, "cause", cause)
}

// storeData sends request as a STORE DATA sequence and collects the
// response. fallback reports that the card refused a full 255-byte first
// block and the caller should retry with FallbackBlockSize.
func (c *Client) storeData(ctx context.Context, ch apdu.Channel, request []byte) ([]byte, bool, error) {
	bs := c.blockSize
	n := (len(request) + bs - 1) / bs
	if n == 0 {
		n = 1
	}
	if n > maxBlocks {
		return nil, false, fmt.Errorf("request of %d bytes needs %d STORE DATA blocks of %d, at most %d",
			len(request), n, bs, maxBlocks)
	}
	for i := range n {
		block := request[i*bs : min((i+1)*bs, len(request))]
		last := i == n-1
		cmd := apdu.Command{CLA: claES10, INS: insStoreData, P1: p1MoreBlocks, P2: byte(i), Data: block}
		if last {
			cmd.P1 = p1LastBlock
		}
		data, sw, err := c.transmit(ctx, ch, cmd)
		if err != nil {
			return nil, false, fmt.Errorf("STORE DATA block %d of %d: %w", i+1, n, err)
		}
		if i == 0 && len(block) == MaxBlockSize && !c.fellBack &&
			(sw == apdu.SWWrongLength || sw == apdu.SWWrongData) {
			return nil, true, nil
		}
		if last {
			resp, err := c.collect(ctx, ch, data, sw)
			return resp, false, err
		}
		if sw != apdu.SWOK {
			return nil, false, fmt.Errorf("STORE DATA block %d of %d: %w", i+1, n, &apdu.StatusError{SW: sw})
		}
	}
	return nil, false, errors.New("lpa: internal error: STORE DATA loop ended without a last block")
}

// collect follows 61xx with GET RESPONSE until 9000.
func (c *Client) collect(ctx context.Context, ch apdu.Channel, data []byte, sw uint16) ([]byte, error) {
	out := make([]byte, 0, len(data)+responseHint(sw))
	out = append(out, data...)
	for sw>>8 == 0x61 {
		if len(out) > maxResponse {
			return nil, fmt.Errorf("response exceeds %d bytes", maxResponse)
		}
		d, s, err := c.transmit(ctx, ch, apdu.Command{CLA: claES10, INS: insGetResponse, Le: byte(sw), HasLe: true})
		if err != nil {
			return nil, fmt.Errorf("GET RESPONSE: %w", err)
		}
		if len(d) == 0 && s>>8 == 0x61 {
			return nil, fmt.Errorf("GET RESPONSE returned no data but status %04X", s)
		}
		out = append(out, d...)
		sw = s
	}
	if sw != apdu.SWOK {
		return nil, &apdu.StatusError{SW: sw}
	}
	return out, nil
}

// responseHint is the number of bytes a 61xx status announces (00 = 256).
func responseHint(sw uint16) int {
	if sw>>8 != 0x61 {
		return 0
	}
	if n := int(sw & 0xFF); n != 0 {
		return n
	}
	return 256
}

// transmit sends one command and splits the response. On 6Cxx it re-sends
// the same command once with Le = xx.
func (c *Client) transmit(ctx context.Context, ch apdu.Channel, cmd apdu.Command) ([]byte, uint16, error) {
	data, sw, err := c.send(ctx, ch, cmd.Bytes())
	if err != nil {
		return nil, 0, err
	}
	if sw>>8 == 0x6C {
		cmd.Le, cmd.HasLe = byte(sw), true
		data, sw, err = c.send(ctx, ch, cmd.Bytes())
		if err != nil {
			return nil, 0, err
		}
	}
	return data, sw, nil
}

func (c *Client) send(ctx context.Context, ch apdu.Channel, raw []byte) ([]byte, uint16, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	c.apdus.Add(1)
	c.bytesOut.Add(int64(len(raw)))
	r, err := ch.Transmit(ctx, raw)
	if err != nil {
		return nil, 0, err
	}
	c.bytesIn.Add(int64(len(r)))
	data, sw, err := apdu.SplitResponse(r)
	if err != nil {
		return nil, 0, err
	}
	if sw == apdu.SWLogicalChannelNotSup || sw == apdu.SWCLANotSupported {
		return nil, 0, &apdu.StatusError{SW: sw}
	}
	return data, sw, nil
}

// channelGone reports whether err means the logical channel no longer
// exists (card reset, modem closed it).
func channelGone(err error) bool {
	if errors.Is(err, apdu.ErrChannelClosed) {
		return true
	}
	var se *apdu.StatusError
	return errors.As(err, &se) && (se.SW == apdu.SWLogicalChannelNotSup || se.SW == apdu.SWCLANotSupported)
}
