package apdu

import (
	"context"
	"errors"
	"fmt"
)

// ISDR is the AID of the eUICC's ISD-R (SGP.22), the application the LPA talks to.
var ISDR = []byte{0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00}

// Channel is an open logical channel to one application on the card, as
// provided by a modem backend. Transmit sends one command APDU (the class
// byte's channel bits are the transport's concern) and returns the full
// response including SW1 SW2. Close releases the channel.
type Channel interface {
	Transmit(ctx context.Context, command []byte) ([]byte, error)
	Close() error
}

// Opener opens a new channel to the application with the given AID. The LPA
// keeps one to re-open its channel after a card reset.
type Opener func(ctx context.Context, aid []byte) (Channel, error)

// ErrChannelClosed is returned by Transmit when the card or the modem no
// longer knows the channel (for example after a card reset); the caller may
// re-open it.
var ErrChannelClosed = errors.New("apdu: logical channel closed")

// Common status words.
const (
	SWOK                   uint16 = 0x9000
	SWWrongLength          uint16 = 0x6700
	SWLogicalChannelNotSup uint16 = 0x6881
	SWConditionsNotSatisf  uint16 = 0x6985
	SWWrongData            uint16 = 0x6A80
	SWFuncNotSupported     uint16 = 0x6A81
	SWFileNotFound         uint16 = 0x6A82
	SWIncorrectP1P2        uint16 = 0x6A86
	SWINSNotSupported      uint16 = 0x6D00
	SWCLANotSupported      uint16 = 0x6E00
	SWNoPreciseDiagnosis   uint16 = 0x6F00
	SWMemoryFailure        uint16 = 0x6581
)

// StatusError is a status word other than 9000/61xx, returned as an error.
type StatusError struct {
	SW uint16
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("card returned status %04X (%s)", e.SW, SWName(e.SW))
}

// SWName returns a readable name for a status word.
func SWName(sw uint16) string {
	switch {
	case sw == SWOK:
		return "success"
	case sw>>8 == 0x61:
		return fmt.Sprintf("%d bytes available", sw&0xFF)
	case sw>>8 == 0x6C:
		return "wrong Le"
	case sw>>8 == 0x63 && sw&0xF0 == 0xC0:
		return fmt.Sprintf("verification failed, %d tries left", sw&0x0F)
	}
	switch sw {
	case SWWrongLength:
		return "wrong length"
	case SWLogicalChannelNotSup:
		return "logical channel not supported"
	case SWConditionsNotSatisf:
		return "conditions of use not satisfied"
	case SWWrongData:
		return "incorrect data"
	case SWFuncNotSupported:
		return "function not supported / no more channels"
	case SWFileNotFound:
		return "application or file not found"
	case SWIncorrectP1P2:
		return "incorrect P1 P2"
	case SWINSNotSupported:
		return "instruction not supported"
	case SWCLANotSupported:
		return "class not supported"
	case SWNoPreciseDiagnosis:
		return "no precise diagnosis (card busy or failed)"
	case SWMemoryFailure:
		return "memory failure"
	}
	return "unknown"
}

// Command is a command APDU.
type Command struct {
	CLA, INS, P1, P2 byte
	Data             []byte
	// Le, when HasLe, is appended as one byte (0 = 256).
	Le    byte
	HasLe bool
}

// Bytes encodes the command in short form. Data must not exceed 255 bytes.
func (c Command) Bytes() []byte {
	b := []byte{c.CLA, c.INS, c.P1, c.P2}
	if len(c.Data) > 0 {
		b = append(b, byte(len(c.Data)))
		b = append(b, c.Data...)
	}
	if c.HasLe {
		b = append(b, c.Le)
	}
	return b
}

// ParseCommand decodes a short-form command APDU (cases 1-4).
func ParseCommand(b []byte) (Command, error) {
	if len(b) < 4 {
		return Command{}, fmt.Errorf("apdu: command of %d bytes is too short", len(b))
	}
	c := Command{CLA: b[0], INS: b[1], P1: b[2], P2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0:
	case len(body) == 1:
		c.Le, c.HasLe = body[0], true
	default:
		lc := int(body[0])
		if lc == 0 {
			return Command{}, errors.New("apdu: extended length is not supported")
		}
		switch len(body) {
		case 1 + lc:
		case 2 + lc:
			c.Le, c.HasLe = body[1+lc], true
		default:
			return Command{}, fmt.Errorf("apdu: Lc %d does not match %d body bytes", lc, len(body))
		}
		c.Data = body[1 : 1+lc]
	}
	return c, nil
}

// SplitResponse splits a response APDU into data and status word.
func SplitResponse(r []byte) ([]byte, uint16, error) {
	if len(r) < 2 {
		return nil, 0, fmt.Errorf("apdu: response of %d bytes has no status word", len(r))
	}
	n := len(r) - 2
	return r[:n], uint16(r[n])<<8 | uint16(r[n+1]), nil
}

// WithChannel sets the logical channel bits of a class byte (ISO 7816-4
// 5.4.1): channels 0-3 in the first interindustry form, 4-19 in the further
// form.
func WithChannel(cla byte, ch int) byte {
	if ch <= 3 {
		return (cla & 0x9C) | byte(ch)
	}
	return (cla & 0xB0) | 0x40 | byte(ch-4)
}

// ChannelOf returns the logical channel a class byte addresses.
func ChannelOf(cla byte) int {
	if cla&0x40 == 0 {
		return int(cla & 0x03)
	}
	return int(cla&0x0F) + 4
}
