package sim

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Registration commands, indexes into port.regN.
const (
	regCREG = iota
	regCGREG
	regCEREG
)

func regName(kind int) string {
	switch kind {
	case regCREG:
		return "+CREG"
	case regCGREG:
		return "+CGREG"
	}
	return "+CEREG"
}

func registered(stat int) bool { return stat == 1 || stat == 5 }

// regStatLocked is the current 27.007 <stat>.
func (m *Modem) regStatLocked() int {
	if m.cfun != 1 || m.copsMode == 2 {
		return 0
	}
	if m.regOverride != nil {
		return m.regOverride.stat
	}
	if _, ok := m.card.Active(); !ok {
		return 0
	}
	if m.simBusy || m.searching {
		return 2
	}
	return 1
}

// network is one PLMN as the modem reports it.
type network struct {
	code string // MCCMNC
	name string // long and short alphanumeric name
}

// servingLocked is the network the modem is (or would be) registered on:
// the override's MCCMNC or the active profile's home network.
func (m *Modem) servingLocked() (network, bool) {
	prof, hasProfile := m.card.Active()
	code := prof.MCCMNC
	if m.regOverride != nil && m.regOverride.oper != "" {
		code = m.regOverride.oper
	} else if !hasProfile {
		return network{}, false
	}
	if code == "" {
		return network{}, false
	}
	name := code
	if hasProfile && code == prof.MCCMNC && prof.SPN != "" {
		name = prof.SPN
	}
	return network{code: code, name: name}, true
}

// knownNetworksLocked is what a +COPS=? scan finds: the serving network
// and the active profile's home network.
func (m *Modem) knownNetworksLocked() []network {
	var nets []network
	if n, ok := m.servingLocked(); ok {
		nets = append(nets, n)
	}
	if prof, ok := m.card.Active(); ok && prof.MCCMNC != "" && (len(nets) == 0 || nets[0].code != prof.MCCMNC) {
		name := prof.SPN
		if name == "" {
			name = prof.MCCMNC
		}
		nets = append(nets, network{code: prof.MCCMNC, name: name})
	}
	return nets
}

// updateRegLocked recomputes the registration state and, when it changed
// (or force is set), sends +CREG/+CGREG/+CEREG URCs to the ports that
// asked for them. Losing registration deactivates the PDP contexts.
func (m *Modem) updateRegLocked(force bool) {
	stat := m.regStatLocked()
	if !registered(stat) {
		m.deactivateAllLocked()
	}
	if stat == m.lastStat && !force {
		return
	}
	m.lastStat = stat
	m.log.Debug("sim: registration changed", "stat", stat)
	for kind := regCREG; kind <= regCEREG; kind++ {
		m.broadcastLocked(func(p *port) string {
			switch n := p.regN[kind]; {
			case n == 0:
				return ""
			case n >= 2 && registered(stat):
				return fmt.Sprintf("%s: %d,%s", regName(kind), stat, locationInfo())
			default:
				return fmt.Sprintf("%s: %d", regName(kind), stat)
			}
		})
	}
}

func locationInfo() string {
	return fmt.Sprintf(`"%s","%s",%d`, defaultLocationArea, defaultCellID, defaultAccessTech)
}

// broadcastLocked queues a URC for every port; line returns the port's
// text ("" for none).
func (m *Modem) broadcastLocked(line func(*port) string) {
	for p := range m.ports {
		l := line(p)
		if l == "" {
			continue
		}
		select {
		case p.urc <- l:
		default:
			m.log.Warn("sim: URC queue full, URC dropped", "urc", l)
		}
	}
}

func (m *Modem) deactivateAllLocked() {
	for _, ctx := range m.contexts {
		ctx.active = false
	}
}

// cfunCmd: +CFUN? / +CFUN=<fun>[,<rst>]. Levels 0 (minimum) and 4 (RF off)
// deregister but keep the card reachable, as eUICC modems do; <rst>=1
// resets the card first.
func (m *Modem) cfunCmd(c command) reply {
	switch c.op {
	case opRead:
		return ok("+CFUN: " + strconv.Itoa(m.cfun))
	case opTest:
		return ok("+CFUN: (0,1,4),(0,1)")
	case opSet:
		vals, valid := intArgs(splitArgs(c.arg), 0)
		if !valid || len(vals) == 0 || len(vals) > 2 {
			return cme(cmeIncorrectParameters)
		}
		fun, rst := vals[0], 0
		if len(vals) == 2 {
			rst = vals[1]
		}
		if (fun != 0 && fun != 1 && fun != 4) || rst > 1 {
			return cme(cmeIncorrectParameters)
		}
		if rst == 1 {
			m.resetCardLocked()
		}
		m.cfun = fun
		m.updateRegLocked(false)
		return ok()
	}
	return errorReply()
}

// regCmd: +CREG / +CGREG / +CEREG.
func (m *Modem) regCmd(p *port, c command, kind int) reply {
	name := regName(kind)
	switch c.op {
	case opTest:
		return ok(name + ": (0-2)")
	case opSet:
		n, valid := 0, true
		if c.arg != "" {
			n, valid = atoi(c.arg)
		}
		if !valid || n > 2 {
			return cme(cmeIncorrectParameters)
		}
		p.regN[kind] = n
		return ok()
	case opRead:
		n, stat := p.regN[kind], m.regStatLocked()
		if n >= 2 && registered(stat) {
			return ok(fmt.Sprintf("%s: %d,%d,%s", name, n, stat, locationInfo()))
		}
		return ok(fmt.Sprintf("%s: %d,%d", name, n, stat))
	}
	return errorReply()
}

// encodeText encodes a text parameter in the port's character set
// (+CSCS): UCS2 as hex of UTF-16BE, IRA and GSM as is.
func encodeText(p *port, s string) string {
	if p.cscs != "UCS2" {
		return s
	}
	var b strings.Builder
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	return b.String()
}

// decodeText is the inverse of encodeText (when decoding fails the text is
// taken as is).
func decodeText(p *port, s string) string {
	if p.cscs != "UCS2" || len(s)%4 != 0 {
		return s
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return s
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
	}
	return string(utf16.Decode(u))
}

func operText(p *port, n network, format int) string {
	if format == 2 {
		return n.code
	}
	return encodeText(p, n.name)
}

// cops: +COPS? / +COPS=? / +COPS=<mode>[,<format>[,<oper>[,<AcT>]]].
func (m *Modem) cops(p *port, c command) reply {
	switch c.op {
	case opRead:
		stat := m.regStatLocked()
		n, ok2 := m.servingLocked()
		if !registered(stat) || !ok2 {
			return ok("+COPS: " + strconv.Itoa(m.copsMode))
		}
		return ok(fmt.Sprintf(`+COPS: %d,%d,"%s",%d`, m.copsMode, p.copsFormat, operText(p, n, p.copsFormat), defaultAccessTech))
	case opTest:
		if m.cfun != 1 {
			return cme(cmeNoNetworkService)
		}
		stat := m.regStatLocked()
		serving, _ := m.servingLocked()
		var entries []string
		for _, n := range m.knownNetworksLocked() {
			st := 1
			if registered(stat) && n.code == serving.code {
				st = 2
			}
			entries = append(entries, fmt.Sprintf(`(%d,"%s","%s","%s",%d)`,
				st, encodeText(p, n.name), encodeText(p, n.name), n.code, defaultAccessTech))
		}
		return ok("+COPS: " + strings.Join(entries, ",") + ",,(0-4),(0-2)")
	case opSet:
		args := splitArgs(c.arg)
		if len(args) == 0 || len(args) > 4 {
			return cme(cmeIncorrectParameters)
		}
		mode, valid := atoi(args[0])
		if !valid || mode > 4 {
			return cme(cmeIncorrectParameters)
		}
		format := p.copsFormat
		if len(args) > 1 && args[1] != "" {
			f, valid := atoi(args[1])
			if !valid || f > 2 {
				return cme(cmeIncorrectParameters)
			}
			format = f
		}
		switch mode {
		case 0, 2:
			m.copsMode = mode
		case 3:
			if len(args) < 2 {
				return cme(cmeIncorrectParameters)
			}
		case 1, 4:
			if len(args) < 3 {
				return cme(cmeIncorrectParameters)
			}
			want := unquote(args[2])
			if format != 2 {
				want = decodeText(p, want)
			}
			found := slices.ContainsFunc(m.knownNetworksLocked(), func(n network) bool {
				return (format == 2 && n.code == want) || (format != 2 && n.name == want)
			})
			switch {
			case found:
				m.copsMode = 1
			case mode == 4:
				m.copsMode = 0
			default:
				return cme(cmeNoNetworkService)
			}
		}
		p.copsFormat = format
		m.updateRegLocked(false)
		return ok()
	}
	return errorReply()
}

// csq: +CSQ (rssi 20 = -73 dBm while registered, 99 = unknown otherwise).
func (m *Modem) csq(c command) reply {
	switch c.op {
	case opAction:
		if registered(m.regStatLocked()) {
			return ok(fmt.Sprintf("+CSQ: %d,99", defaultSignalRSSI))
		}
		return ok("+CSQ: 99,99")
	case opTest:
		return ok("+CSQ: (0-31,99),(0-7,99)")
	}
	return errorReply()
}

// cesq: +CESQ, LTE values only (RSRQ 20, RSRP 50 = -91 dBm).
func (m *Modem) cesq(c command) reply {
	switch c.op {
	case opAction:
		if registered(m.regStatLocked()) {
			return ok("+CESQ: 99,99,255,255,20,50")
		}
		return ok("+CESQ: 99,99,255,255,255,255")
	case opTest:
		return ok("+CESQ: (0-63,99),(0-7,99),(0-96,255),(0-49,255),(0-34,255),(0-97,255)")
	}
	return errorReply()
}

func (m *Modem) cgatt(c command) reply {
	switch c.op {
	case opTest:
		return ok("+CGATT: (0,1)")
	case opRead:
		if registered(m.regStatLocked()) {
			return ok("+CGATT: 1")
		}
		return ok("+CGATT: 0")
	case opSet:
		switch c.arg {
		case "0":
			m.deactivateAllLocked()
			return ok()
		case "1":
			if !registered(m.regStatLocked()) {
				return cme(cmeNoNetworkService)
			}
			return ok()
		}
		return cme(cmeIncorrectParameters)
	}
	return errorReply()
}

func (m *Modem) sortedCIDsLocked() []int {
	cids := make([]int, 0, len(m.contexts))
	for cid := range m.contexts {
		cids = append(cids, cid)
	}
	slices.Sort(cids)
	return cids
}

// cgdcont: +CGDCONT=<cid>[,<PDP_type>[,<APN>...]]; a lone <cid> deletes
// the context.
func (m *Modem) cgdcont(c command) reply {
	switch c.op {
	case opTest:
		return ok(`+CGDCONT: (1-16),"IP",,,(0-2),(0-4)`,
			`+CGDCONT: (1-16),"IPV6",,,(0-2),(0-4)`,
			`+CGDCONT: (1-16),"IPV4V6",,,(0-2),(0-4)`)
	case opRead:
		var lines []string
		for _, cid := range m.sortedCIDsLocked() {
			ctx := m.contexts[cid]
			lines = append(lines, fmt.Sprintf(`+CGDCONT: %d,"%s","%s","0.0.0.0",0,0`, cid, ctx.pdpType, ctx.apn))
		}
		return ok(lines...)
	case opSet:
		args := splitArgs(c.arg)
		if len(args) == 0 {
			return cme(cmeIncorrectParameters)
		}
		cid, valid := atoi(args[0])
		if !valid || cid < 1 || cid > maxPDPContexts {
			return cme(cmeIncorrectParameters)
		}
		if len(args) == 1 {
			delete(m.contexts, cid)
			return ok()
		}
		pdpType := strings.ToUpper(unquote(args[1]))
		switch pdpType {
		case "IP", "IPV6", "IPV4V6":
		default:
			return cme(cmeIncorrectParameters)
		}
		apn := ""
		if len(args) > 2 {
			apn = unquote(args[2])
		}
		m.contexts[cid] = &pdpContext{pdpType: pdpType, apn: apn}
		return ok()
	}
	return errorReply()
}

// cgact: +CGACT=<state>[,<cid>[,<cid>...]]; activation needs registration.
func (m *Modem) cgact(c command) reply {
	switch c.op {
	case opTest:
		return ok("+CGACT: (0,1)")
	case opRead:
		var lines []string
		for _, cid := range m.sortedCIDsLocked() {
			st := 0
			if m.contexts[cid].active {
				st = 1
			}
			lines = append(lines, fmt.Sprintf("+CGACT: %d,%d", cid, st))
		}
		return ok(lines...)
	case opSet:
		vals, valid := intArgs(splitArgs(c.arg), -1)
		if !valid || len(vals) == 0 || vals[0] > 1 || vals[0] < 0 {
			return cme(cmeIncorrectParameters)
		}
		cids := vals[1:]
		if len(cids) == 0 {
			cids = m.sortedCIDsLocked()
		}
		for _, cid := range cids {
			if _, defined := m.contexts[cid]; !defined {
				return cme(cmeIncorrectParameters)
			}
		}
		if vals[0] == 1 && !registered(m.regStatLocked()) {
			return cme(cmeNoNetworkService)
		}
		for _, cid := range cids {
			m.contexts[cid].active = vals[0] == 1
		}
		return ok()
	}
	return errorReply()
}

// cgpaddr: +CGPADDR[=<cid>[,<cid>...]]: 10.64.<cid>.2 for active contexts.
func (m *Modem) cgpaddr(c command) reply {
	switch c.op {
	case opTest:
		parts := make([]string, 0, len(m.contexts))
		for _, cid := range m.sortedCIDsLocked() {
			parts = append(parts, strconv.Itoa(cid))
		}
		return ok("+CGPADDR: (" + strings.Join(parts, ",") + ")")
	case opAction, opSet:
		vals, valid := intArgs(splitArgs(c.arg), -1)
		if !valid {
			return cme(cmeIncorrectParameters)
		}
		if len(vals) == 0 {
			vals = m.sortedCIDsLocked()
		}
		var lines []string
		for _, cid := range vals {
			ctx, defined := m.contexts[cid]
			if !defined {
				return cme(cmeIncorrectParameters)
			}
			if ctx.active {
				lines = append(lines, fmt.Sprintf(`+CGPADDR: %d,"10.64.%d.2"`, cid, cid))
			} else {
				lines = append(lines, fmt.Sprintf("+CGPADDR: %d", cid))
			}
		}
		return ok(lines...)
	}
	return errorReply()
}
