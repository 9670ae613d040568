// Package at drives a cellular modem through 3GPP TS 27.007 AT commands on a
// serial port and implements modem.Modem on top of it.
//
// The engine runs one reader goroutine that splits the byte stream into
// lines, drops echo, blank lines and garbage, routes unsolicited result codes
// (+CEREG:, +CPIN:, RING, ^...) to URCs() and hands the other lines of the
// command in flight to its caller together with the final result code (OK,
// ERROR, +CME ERROR:, +CMS ERROR:, ...). Commands are serialised and each one
// has a deadline, so a modem that stops answering yields ErrTimeout and the
// next command still works.
//
// APDUs reach the eUICC over the logical-channel commands AT+CCHO, AT+CGLA
// and AT+CCHC, or, where the firmware refuses those, over AT+CSIM with the
// LPA-side MANAGE CHANNEL and SELECT. A card reset (a +CPIN: URC, or +CGLA
// failing with a "channel gone" +CME ERROR) makes Transmit fail with an error
// wrapping apdu.ErrChannelClosed so the LPA re-opens its channel.
//
// The parsers for the responses (ParseCGSN, ParseCREG, ParseCGLA, ...) are
// exported pure functions on strings.
package at
