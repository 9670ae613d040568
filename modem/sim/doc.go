// Package sim is a simulated cellular modem: a 3GPP TS 27.007 AT command
// interpreter backed by a simulated eUICC (see esim/euicc), served either on
// any io.ReadWriter (tests) or on a real pseudo-terminal that ModemManager,
// the modem/at backend or a terminal program can open like a USB modem port.
//
// The modem answers the commands ModemManager 1.20 sends while probing and
// enabling a generic 3GPP modem, the identity and network commands an LPA
// needs (+CGSN, +CIMI, +CCID, +CRSM, +CPIN, +COPS, +CSQ, +CREG/+CGREG/+CEREG)
// and the UICC access commands +CCHO/+CGLA/+CCHC and +CSIM, which it turns
// into APDUs for the card. Logical channels opened with +CCHO are identified
// by session ids that differ from the card's channel numbers; the modem
// rewrites the channel bits of every +CGLA class byte, as 27.007 requires.
//
// When the card resets (a profile switch with refresh, AT+CFUN=1,1) every
// session is invalidated, the modem reports +CPIN: NOT READY then
// +CPIN: READY and registers again (searching, then home).
//
// An eUICC without an enabled profile is still a present, ready card: +CPIN?
// answers READY (the LPA must be able to reach the ISD-R), while +CIMI and
// +CCID answer +CME ERROR: 10 and the modem does not register.
//
// Fault switches (reply delay, dropped commands, garbage bytes, a busy card,
// the bare +CCHO answer form, missing +CCHO support) let tests exercise a
// client's error handling.
//
// ServePTY (Linux, macOS and the BSDs) keeps its own slave descriptor open so
// that clients can close and re-open the port, and puts the master in packet
// mode: when a client flushes the port (ModemManager does tcflush right after
// TIOCEXCL) the modem clears the exclusive flag with TIOCNXCL, so a non-root
// ModemManager can re-open the port.
package sim
