package euicc

import (
	"bytes"

	"github.com/mobileplans/mobileplans/esim/apdu"
)

// Instructions the card understands.
const (
	insManageChannel   = 0x70
	insSelect          = 0xA4
	insStoreData       = 0xE2
	insGetResponse     = 0xC0
	insTerminalCapable = 0xAA
)

// STORE DATA P1 values used by SGP.22: more blocks follow / last block.
const (
	p1MoreBlocks = 0x11
	p1LastBlock  = 0x91
)

// maxCommand bounds a reassembled STORE DATA command.
const maxCommand = 64 << 10

// maxShortResponse is the most data one response APDU carries.
const maxShortResponse = 256

// channel is the state of one logical channel.
type channel struct {
	open bool
	// isdr is set while the ISD-R is selected on the channel.
	isdr bool
	// chain holds the STORE DATA blocks received so far; nextBlock is the
	// block number expected next.
	chain     []byte
	nextBlock int
	// pending is response data still to be fetched with GET RESPONSE.
	pending    []byte
	hasPending bool
}

func (ch *channel) dropChain() {
	ch.chain, ch.nextBlock = nil, 0
}

func (ch *channel) dropPending() {
	ch.pending, ch.hasPending = nil, false
}

func sw(s uint16) []byte { return []byte{byte(s >> 8), byte(s)} }

// Transmit processes one command APDU and returns the response APDU (data
// followed by SW1 SW2).
func (c *Card) Transmit(command []byte) []byte {
	c.mu.Lock()
	resp, reset := c.transmit(command)
	hook := c.resetHook
	c.mu.Unlock()
	if reset && hook != nil {
		hook()
	}
	return resp
}

// supportedCLA reports whether the class byte is one the card handles:
// interindustry (00-1F, 40-7F) or their proprietary mirrors (80-9F, C0-FE),
// without secure messaging or command chaining.
func supportedCLA(cla byte) bool {
	if cla == 0xFF || cla&0x60 == 0x20 {
		return false
	}
	if cla&0x40 == 0 {
		return cla&0x1C == 0 // first interindustry form: b5 chaining, b4-b3 SM
	}
	return cla&0x30 == 0 // further form: b5 chaining, b6 SM
}

// transmit handles one APDU with c.mu held. It reports whether the card
// reset itself (so that Transmit calls the hook).
func (c *Card) transmit(command []byte) ([]byte, bool) {
	cmd, err := apdu.ParseCommand(command)
	if err != nil {
		c.log.Debug("malformed APDU", "len", len(command), "err", err)
		return sw(apdu.SWWrongLength), false
	}
	if !supportedCLA(cmd.CLA) {
		return sw(apdu.SWCLANotSupported), false
	}
	n := apdu.ChannelOf(cmd.CLA)
	reset := false
	if c.resetAfterResponse && !(cmd.INS == insGetResponse && n == c.resetChannel) {
		// The response that preceded the self-reset was abandoned.
		c.log.Debug("card reset deferred until now")
		c.resetLocked()
		reset = true
	}
	ch := &c.channels[n]
	if !ch.open {
		return sw(apdu.SWLogicalChannelNotSup), reset
	}
	if cmd.INS != insGetResponse {
		ch.dropPending()
	}
	if cmd.INS != insStoreData {
		ch.dropChain()
	}
	var resp []byte
	switch cmd.INS {
	case insManageChannel:
		resp = c.manageChannel(cmd, n)
	case insSelect:
		resp = c.selectApp(cmd, ch)
	case insStoreData:
		var selfReset bool
		resp, selfReset = c.storeData(cmd, ch)
		if selfReset {
			if ch.hasPending {
				c.resetAfterResponse, c.resetChannel = true, n
			} else {
				c.resetLocked()
				reset = true
			}
		}
	case insGetResponse:
		resp = c.getResponse(cmd, ch)
		if c.resetAfterResponse && !ch.hasPending {
			c.resetLocked()
			reset = true
		}
	case insTerminalCapable:
		if cmd.CLA&0x80 == 0 {
			return sw(apdu.SWCLANotSupported), reset
		}
		resp = sw(apdu.SWOK)
	default:
		resp = sw(apdu.SWINSNotSupported)
	}
	return resp, reset
}

// manageChannel opens (P1 00) or closes (P1 80) a logical channel.
func (c *Card) manageChannel(cmd apdu.Command, from int) []byte {
	if len(cmd.Data) != 0 {
		return sw(apdu.SWWrongLength)
	}
	switch cmd.P1 {
	case 0x00:
		if cmd.P2 == 0 {
			for i := 1; i < numChannels; i++ {
				if !c.channels[i].open {
					c.channels[i] = channel{open: true}
					c.log.Debug("logical channel opened", "channel", i)
					return []byte{byte(i), 0x90, 0x00}
				}
			}
			return sw(apdu.SWFuncNotSupported)
		}
		if int(cmd.P2) >= numChannels {
			return sw(apdu.SWIncorrectP1P2)
		}
		if c.channels[cmd.P2].open {
			return sw(apdu.SWConditionsNotSatisf)
		}
		c.channels[cmd.P2] = channel{open: true}
		c.log.Debug("logical channel opened", "channel", cmd.P2)
		return sw(apdu.SWOK)
	case 0x80:
		target := int(cmd.P2)
		if target == 0 {
			target = from // P2 00: close the channel the command came on
		}
		if target == 0 || target >= numChannels {
			return sw(apdu.SWIncorrectP1P2)
		}
		if !c.channels[target].open {
			return sw(apdu.SWLogicalChannelNotSup)
		}
		c.channels[target] = channel{}
		c.log.Debug("logical channel closed", "channel", target)
		return sw(apdu.SWOK)
	}
	return sw(apdu.SWIncorrectP1P2)
}

// selectApp handles SELECT by DF name (AID). Only the ISD-R is selectable.
func (c *Card) selectApp(cmd apdu.Command, ch *channel) []byte {
	if cmd.P1 != 0x04 {
		return sw(apdu.SWIncorrectP1P2)
	}
	switch cmd.P2 {
	case 0x00, 0x04, 0x0C:
	default:
		return sw(apdu.SWIncorrectP1P2)
	}
	if len(cmd.Data) < 5 || len(cmd.Data) > 16 {
		return sw(apdu.SWWrongData)
	}
	if !bytes.Equal(cmd.Data, apdu.ISDR) {
		return sw(apdu.SWFileNotFound)
	}
	ch.isdr = true
	if cmd.P2 == 0x0C {
		return sw(apdu.SWOK)
	}
	// FCI template with the DF name.
	fci := append([]byte{0x6F, byte(2 + len(apdu.ISDR)), 0x84, byte(len(apdu.ISDR))}, apdu.ISDR...)
	return c.respond(ch, fci)
}

// storeData accumulates STORE DATA blocks and dispatches the complete ES10
// command. It reports whether the command asks for a card reset after its
// response.
func (c *Card) storeData(cmd apdu.Command, ch *channel) ([]byte, bool) {
	if cmd.CLA&0x80 == 0 {
		ch.dropChain()
		return sw(apdu.SWCLANotSupported), false
	}
	if c.busy != 0 {
		ch.dropChain()
		return sw(c.busy), false
	}
	if !ch.isdr {
		ch.dropChain()
		return sw(apdu.SWConditionsNotSatisf), false
	}
	if cmd.P1 != p1MoreBlocks && cmd.P1 != p1LastBlock {
		ch.dropChain()
		return sw(apdu.SWIncorrectP1P2), false
	}
	if int(cmd.P2) != ch.nextBlock {
		c.log.Debug("STORE DATA block out of sequence", "got", cmd.P2, "want", ch.nextBlock)
		ch.dropChain()
		return sw(apdu.SWIncorrectP1P2), false
	}
	if len(cmd.Data) == 0 {
		ch.dropChain()
		return sw(apdu.SWWrongLength), false
	}
	if len(ch.chain)+len(cmd.Data) > maxCommand {
		ch.dropChain()
		return sw(apdu.SWWrongData), false
	}
	ch.chain = append(ch.chain, cmd.Data...)
	if cmd.P1 == p1MoreBlocks {
		ch.nextBlock++
		return sw(apdu.SWOK), false
	}
	req := ch.chain
	ch.dropChain()
	r := c.es10(req)
	if r.sw != apdu.SWOK {
		return sw(r.sw), false
	}
	return c.respond(ch, r.data), r.reset
}

// respond frames response data: up to 256 bytes go out with 9000; more is
// split, the rest waiting for GET RESPONSE (61xx, xx = bytes left, 00 for
// 256 or more). With ForceGetResponse all data waits for GET RESPONSE.
func (c *Card) respond(ch *channel, data []byte) []byte {
	if len(data) == 0 {
		return sw(apdu.SWOK)
	}
	if c.forceGetResponse {
		ch.pending, ch.hasPending = data, true
		return sw(moreData(len(data)))
	}
	if len(data) <= maxShortResponse {
		return append(bytes.Clone(data), 0x90, 0x00)
	}
	ch.pending, ch.hasPending = data[maxShortResponse:], true
	out := append([]byte{}, data[:maxShortResponse]...)
	return append(out, sw(moreData(len(ch.pending)))...)
}

// moreData returns the 61xx status word for n bytes still available.
func moreData(n int) uint16 {
	if n >= maxShortResponse {
		return 0x6100
	}
	return 0x6100 | uint16(n)
}

// getResponse returns the next chunk of pending response data (Le bytes,
// Le 00 or absent meaning 256).
func (c *Card) getResponse(cmd apdu.Command, ch *channel) []byte {
	if cmd.P1 != 0 || cmd.P2 != 0 {
		return sw(apdu.SWIncorrectP1P2)
	}
	if len(cmd.Data) != 0 {
		return sw(apdu.SWWrongLength)
	}
	if !ch.hasPending {
		return sw(apdu.SWConditionsNotSatisf)
	}
	le := int(cmd.Le)
	if !cmd.HasLe || le == 0 {
		le = maxShortResponse
	}
	n := min(le, len(ch.pending))
	out := append([]byte{}, ch.pending[:n]...)
	ch.pending = ch.pending[n:]
	if len(ch.pending) > 0 {
		return append(out, sw(moreData(len(ch.pending)))...)
	}
	ch.dropPending()
	return append(out, 0x90, 0x00)
}
