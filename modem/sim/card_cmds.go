package sim

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/mobileplans/mobileplans/esim/apdu"
)

// Elementary files +CRSM READ BINARY serves from the active profile.
const (
	efICCID = 0x2FE2
	efIMSI  = 0x6F07
	efSPN   = 0x6F46
	efAD    = 0x6FAD
)

// +CRSM commands (27.007 8.18).
const (
	crsmReadBinary  = 176
	crsmGetResponse = 192
	crsmStatus      = 242
)

// cardWasReset is the card's reset hook. It may run inside Card.Transmit
// (so while m.mu is held by the command that caused it): it only bumps the
// card epoch, which invalidates every open session at once, and leaves the
// URCs and re-registration to a goroutine.
func (m *Modem) cardWasReset() {
	m.cardEpoch.Add(1)
	go m.afterCardReset()
}

// resetCardLocked resets the card (AT+CFUN=1,1). If the card does not call
// its reset hook itself, the modem runs the reset handling anyway.
func (m *Modem) resetCardLocked() {
	before := m.cardEpoch.Load()
	m.card.Reset()
	if m.cardEpoch.Load() == before {
		m.cardWasReset()
	}
}

// afterCardReset drops the stale sessions and runs the SIM and network
// sequence: +CPIN: NOT READY, +CPIN: READY (after SIMReadyDelay), searching,
// registered (after AttachDelay).
func (m *Modem) afterCardReset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	epoch := m.cardEpoch.Load()
	for id, s := range m.sessions {
		if s.epoch != epoch {
			delete(m.sessions, id)
		}
	}
	m.resetGen++
	gen := m.resetGen
	m.searching = true
	m.deactivateAllLocked()
	m.log.Info("sim: card reset", "generation", gen)
	m.broadcastLocked(func(*port) string { return "+CPIN: NOT READY" })
	if d := m.opts.SIMReadyDelay; d > 0 {
		m.simBusy = true
		m.updateRegLocked(false)
		time.AfterFunc(d, func() { m.simReady(gen) })
		return
	}
	m.simBusy = false
	m.broadcastLocked(func(*port) string { return "+CPIN: READY" })
	m.updateRegLocked(false)
	m.scheduleAttachLocked(gen)
}

func (m *Modem) simReady(gen int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if gen != m.resetGen {
		return
	}
	m.simBusy = false
	m.broadcastLocked(func(*port) string { return "+CPIN: READY" })
	m.updateRegLocked(false)
	m.scheduleAttachLocked(gen)
}

func (m *Modem) scheduleAttachLocked(gen int) {
	attach := func() {
		if gen != m.resetGen {
			return
		}
		m.searching = false
		m.updateRegLocked(false)
	}
	if m.opts.AttachDelay < 0 {
		attach()
		return
	}
	time.AfterFunc(m.opts.AttachDelay, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		attach()
	})
}

// cpin: +CPIN? answers READY whenever the card is up, with or without an
// enabled profile (the eUICC itself is present); +CME ERROR: 14 while the
// card is restarting. No PIN is ever required, so +CPIN=<pin> is refused.
func (m *Modem) cpin(c command) reply {
	switch c.op {
	case opRead:
		if m.simBusy {
			return cme(cmeSIMBusy)
		}
		return ok("+CPIN: READY")
	case opTest:
		return ok()
	case opSet:
		return cme(cmeOperationNotAllowed)
	}
	return errorReply()
}

// activeLocked returns the enabled profile, or the +CME ERROR to answer.
func (m *Modem) activeLocked() (ActiveProfile, *reply) {
	if m.simBusy {
		r := cme(cmeSIMBusy)
		return ActiveProfile{}, &r
	}
	prof, ok := m.card.Active()
	if !ok {
		r := cme(cmeSIMNotInserted)
		return ActiveProfile{}, &r
	}
	return prof, nil
}

func (m *Modem) cimi(c command) reply {
	switch c.op {
	case opTest:
		return ok()
	case opAction:
		prof, errR := m.activeLocked()
		if errR != nil {
			return *errR
		}
		if prof.IMSI == "" {
			return cme(cmeSIMFailure)
		}
		return ok(prof.IMSI)
	}
	return errorReply()
}

// ccid: +CCID / +ICCID (vendor commands) answer "<name>: <iccid>".
func (m *Modem) ccid(c command) reply {
	switch c.op {
	case opTest:
		return ok()
	case opAction, opRead:
		prof, errR := m.activeLocked()
		if errR != nil {
			return *errR
		}
		return ok(c.name + ": " + string(prof.ICCID))
	}
	return errorReply()
}

// swapNibbles codes a digit string as nibble-swapped BCD (EF.ICCID, EF.IMSI),
// padded with F.
func swapNibbles(digits string) string {
	if len(digits)%2 == 1 {
		digits += "F"
	}
	b := []byte(digits)
	for i := 0; i+1 < len(b); i += 2 {
		b[i], b[i+1] = b[i+1], b[i]
	}
	return strings.ToUpper(string(b))
}

// gsmText codes s in the GSM 7-bit default alphabet, unpacked (EF.SPN).
// Characters that do not have the same code as in ASCII become '?'.
func gsmText(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r == 0x24 || r == 0x40 || (r >= 0x5B && r <= 0x60) || r > 0x7A || r < 0x20:
			out = append(out, '?')
		default:
			out = append(out, byte(r))
		}
	}
	return out
}

// efContent returns the content of an elementary file of the active profile.
func efContent(prof ActiveProfile, fid int) ([]byte, bool) {
	switch fid {
	case efICCID:
		b, err := hex.DecodeString(swapNibbles(string(prof.ICCID)))
		return b, err == nil && len(b) > 0
	case efIMSI:
		if prof.IMSI == "" {
			return nil, false
		}
		parity := "1"
		if len(prof.IMSI)%2 == 1 {
			parity = "9"
		}
		b, err := hex.DecodeString(swapNibbles(parity + prof.IMSI))
		if err != nil {
			return nil, false
		}
		return append([]byte{byte(len(b))}, b...), true
	case efAD:
		mncLen := byte(2)
		if len(prof.MCCMNC) == 6 {
			mncLen = 3
		}
		return []byte{0x00, 0x00, 0x00, mncLen}, true
	case efSPN:
		b := make([]byte, 17)
		for i := range b {
			b[i] = 0xFF
		}
		b[0] = 0x00 // display condition
		copy(b[1:], gsmText(prof.SPN))
		return b, true
	}
	return nil, false
}

// crsm: +CRSM=<command>[,<fileid>[,<P1>,<P2>,<P3>[,<data>[,<pathid>]]]]
// (27.007 8.18): READ BINARY, GET RESPONSE and STATUS on the files the
// active profile provides; other files answer 148,4 (not found).
func (m *Modem) crsm(c command) reply {
	if c.op == opTest {
		return ok()
	}
	if c.op != opSet {
		return errorReply()
	}
	args := splitArgs(c.arg)
	if len(args) > 5 {
		args = args[:5] // <data> and <pathid> are not used by the supported commands
	}
	vals, valid := intArgs(args, 0)
	if !valid || len(vals) == 0 || len(vals) == 3 || len(vals) == 4 {
		return cme(cmeIncorrectParameters)
	}
	if m.simBusy {
		return cme(cmeSIMBusy)
	}
	for len(vals) < 5 {
		vals = append(vals, 0)
	}
	cmd, fid, p1, p2, p3 := vals[0], vals[1], vals[2], vals[3], vals[4]
	if p1 > 255 || p2 > 255 || p3 > 255 {
		return cme(cmeIncorrectParameters)
	}
	notFound := ok("+CRSM: 148,4")
	prof, hasProfile := m.card.Active()
	switch cmd {
	case crsmStatus:
		return ok("+CRSM: 144,0")
	case crsmReadBinary:
		if !hasProfile {
			return notFound
		}
		data, found := efContent(prof, fid)
		if !found {
			return notFound
		}
		off := p1<<8 | p2
		if off >= len(data) {
			return ok("+CRSM: 107,0") // 6B00: wrong offset
		}
		data = data[off:]
		if p3 != 0 && p3 < len(data) {
			data = data[:p3]
		}
		return ok(fmt.Sprintf(`+CRSM: 144,0,"%X"`, data))
	case crsmGetResponse:
		if !hasProfile {
			return notFound
		}
		data, found := efContent(prof, fid)
		if !found {
			return notFound
		}
		// FCP template: transparent working EF, file id, size, activated.
		fcp := []byte{0x62, 0x0F,
			0x82, 0x02, 0x41, 0x21,
			0x83, 0x02, byte(fid >> 8), byte(fid),
			0x80, 0x02, byte(len(data) >> 8), byte(len(data)),
			0x8A, 0x01, 0x05}
		return ok(fmt.Sprintf(`+CRSM: 144,0,"%X"`, fcp))
	}
	return ok("+CRSM: 109,0") // 6D00: instruction not supported
}

// clck: facility locks; nothing is ever locked.
func (m *Modem) clck(c command) reply {
	switch c.op {
	case opTest:
		return ok(`+CLCK: ("SC","FD","PN","PU","PP","PC","PF")`)
	case opSet:
		args := splitArgs(c.arg)
		if len(args) < 2 {
			return cme(cmeIncorrectParameters)
		}
		switch strings.ToUpper(unquote(args[0])) {
		case "SC", "FD", "PN", "PU", "PP", "PC", "PF":
		default:
			return cme(cmeIncorrectParameters)
		}
		switch args[1] {
		case "2":
			return ok("+CLCK: 0")
		case "0", "1":
			return cme(cmeOperationNotAllowed)
		}
		return cme(cmeIncorrectParameters)
	}
	return errorReply()
}

// parseAPDUArgs parses "<length>,"<hex>"" where length counts hex digits.
func parseAPDUArgs(args []string) ([]byte, bool) {
	if len(args) != 2 {
		return nil, false
	}
	n, valid := atoi(args[0])
	h := unquote(args[1])
	if !valid || n != len(h) || n%2 != 0 {
		return nil, false
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) < 4 {
		return nil, false
	}
	return b, true
}

func swOK(sw uint16) bool {
	return sw == apdu.SWOK || sw>>8 == 0x61 || sw>>8 == 0x62 || sw>>8 == 0x63
}

// ccho: +CCHO="<AID>": MANAGE CHANNEL open, SELECT the AID on the new
// channel, answer a session id (not the channel number).
func (m *Modem) ccho(c command) reply {
	if m.cchoDisabled.Load() {
		return cme(cmeOperationNotSupported)
	}
	switch c.op {
	case opTest:
		return ok()
	case opSet:
	default:
		return errorReply()
	}
	aid, err := hex.DecodeString(unquote(c.arg))
	if err != nil || len(aid) < 1 || len(aid) > 16 {
		return cme(cmeIncorrectParameters)
	}
	if m.simBusy {
		return cme(cmeSIMBusy)
	}
	epoch := m.cardEpoch.Load()
	resp := m.card.Transmit([]byte{0x00, 0x70, 0x00, 0x00, 0x01})
	data, sw, err := apdu.SplitResponse(resp)
	if err != nil || sw != apdu.SWOK || len(data) != 1 {
		m.log.Warn("sim: MANAGE CHANNEL open failed", "response", fmt.Sprintf("%X", resp))
		return cme(cmeUnknown)
	}
	ch := int(data[0])
	sel := apdu.Command{CLA: apdu.WithChannel(0x00, ch), INS: 0xA4, P1: 0x04, P2: 0x00, Data: aid}
	_, sw, err = apdu.SplitResponse(m.card.Transmit(sel.Bytes()))
	if err != nil || !swOK(sw) {
		m.card.Transmit([]byte{0x00, 0x70, 0x80, byte(ch)})
		if sw == apdu.SWFileNotFound {
			return cme(cmeNotFound)
		}
		m.log.Warn("sim: SELECT failed", "sw", fmt.Sprintf("%04X", sw))
		return cme(cmeUnknown)
	}
	sid := m.nextSession
	m.nextSession++
	m.sessions[sid] = session{channel: ch, epoch: epoch}
	m.log.Debug("sim: channel opened", "session", sid, "channel", ch)
	if m.cchoBare.Load() {
		return ok(fmt.Sprint(sid))
	}
	return ok(fmt.Sprintf("+CCHO: %d", sid))
}

// sessionLocked finds a live session; sessions from before a card reset
// are dropped.
func (m *Modem) sessionLocked(arg string) (int, session, *reply) {
	sid, valid := atoi(arg)
	if !valid {
		r := cme(cmeIncorrectParameters)
		return 0, session{}, &r
	}
	s, found := m.sessions[sid]
	if found && s.epoch != m.cardEpoch.Load() {
		delete(m.sessions, sid)
		found = false
	}
	if !found {
		r := cme(cmeInvalidIndex)
		return 0, session{}, &r
	}
	return sid, s, nil
}

// cgla: +CGLA=<sessionid>,<length>,"<command>": the class byte's channel
// bits are rewritten to the session's channel.
func (m *Modem) cgla(c command) reply {
	if m.cchoDisabled.Load() {
		return cme(cmeOperationNotSupported)
	}
	switch c.op {
	case opTest:
		return ok()
	case opSet:
	default:
		return errorReply()
	}
	args := splitArgs(c.arg)
	if len(args) != 3 {
		return cme(cmeIncorrectParameters)
	}
	cmd, valid := parseAPDUArgs(args[1:])
	if !valid {
		return cme(cmeIncorrectParameters)
	}
	_, s, errR := m.sessionLocked(args[0])
	if errR != nil {
		return *errR
	}
	if m.simBusy {
		return cme(cmeSIMBusy)
	}
	if sw := uint16(m.cardBusy.Load()); sw != 0 {
		return ok(fmt.Sprintf(`+CGLA: 4,"%04X"`, sw))
	}
	cmd[0] = apdu.WithChannel(cmd[0], s.channel)
	resp := m.card.Transmit(cmd)
	if len(resp) < 2 {
		return cme(cmeSIMFailure)
	}
	return ok(fmt.Sprintf(`+CGLA: %d,"%X"`, 2*len(resp), resp))
}

// cchc: +CCHC=<sessionid>: MANAGE CHANNEL close.
func (m *Modem) cchc(c command) reply {
	if m.cchoDisabled.Load() {
		return cme(cmeOperationNotSupported)
	}
	switch c.op {
	case opTest:
		return ok()
	case opSet:
	default:
		return errorReply()
	}
	sid, s, errR := m.sessionLocked(c.arg)
	if errR != nil {
		return *errR
	}
	delete(m.sessions, sid)
	if _, sw, err := apdu.SplitResponse(m.card.Transmit([]byte{0x00, 0x70, 0x80, byte(s.channel)})); err != nil || sw != apdu.SWOK {
		m.log.Warn("sim: MANAGE CHANNEL close failed", "channel", s.channel, "sw", fmt.Sprintf("%04X", sw))
	}
	return ok()
}

// csim: +CSIM=<length>,"<command>": the APDU goes to the card unchanged.
func (m *Modem) csim(c command) reply {
	switch c.op {
	case opTest:
		return ok()
	case opSet:
	default:
		return errorReply()
	}
	cmd, valid := parseAPDUArgs(splitArgs(c.arg))
	if !valid {
		return cme(cmeIncorrectParameters)
	}
	if m.simBusy {
		return cme(cmeSIMBusy)
	}
	if sw := uint16(m.cardBusy.Load()); sw != 0 {
		return ok(fmt.Sprintf(`+CSIM: 4,"%04X"`, sw))
	}
	resp := m.card.Transmit(cmd)
	if len(resp) < 2 {
		return cme(cmeSIMFailure)
	}
	return ok(fmt.Sprintf(`+CSIM: %d,"%X"`, 2*len(resp), resp))
}
