package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// execLineLocked runs the commands of one line (the text after "AT") in
// order and stops at the first that does not answer OK. m.mu is held.
func (m *Modem) execLineLocked(p *port, body string) reply {
	cmds, err := parseLine(body)
	if err != nil {
		return errorReply()
	}
	var lines []string
	for _, c := range cmds {
		r := m.execLocked(p, c)
		lines = append(lines, r.lines...)
		if r.status != statusOK {
			r.lines = lines
			return r
		}
	}
	return ok(lines...)
}

// execLocked runs one command.
func (m *Modem) execLocked(p *port, c command) reply {
	if strings.HasPrefix(c.name, "S") && len(c.name) > 1 && isDigit(c.name[1]) {
		return m.sRegister(p, c)
	}
	switch c.name {
	case "":
		return ok()
	// V.250 basic commands.
	case "E", "V", "Q":
		if c.arg != "" && c.arg != "0" && c.arg != "1" {
			return errorReply()
		}
		on := c.arg == "1"
		switch c.name {
		case "E":
			p.echo = on
		case "V":
			p.verbose = on
		case "Q":
			p.quiet = on
		}
		return ok()
	case "X", "&C", "&D", "&K", "&S", "L", "M", "H":
		return ok()
	case "Z", "&F":
		p.reset()
		return ok()
	case "I":
		if c.arg == "" || c.arg == "0" {
			return ok(m.opts.Manufacturer, m.opts.Model, "Revision: "+m.opts.Revision)
		}
		return ok("Revision: " + m.opts.Revision)
	// Vendor probes (Icera, Intel XMM): a bare OK makes ModemManager move on
	// at once, ERROR makes it retry.
	case "%IPSYS":
		if c.op == opRead {
			return ok()
		}
	case "+XACT":
		if c.op == opTest {
			return ok()
		}
	// Identification.
	case "+CGMI", "+GMI":
		return m.ident(c, m.opts.Manufacturer)
	case "+CGMM", "+GMM":
		return m.ident(c, m.opts.Model)
	case "+CGMR", "+GMR":
		return m.ident(c, m.opts.Revision)
	case "+CGSN", "+GSN":
		return m.cgsn(c)
	case "+GCAP":
		if c.op == opAction {
			return ok("+GCAP: +CGSM,+DS,+ES")
		}
	case "+CMEE":
		return m.cmee(p, c)
	case "+CSCS":
		return m.cscs(p, c)
	case "+WS46":
		return m.ws46(p, c)
	// SIM.
	case "+CPIN":
		return m.cpin(c)
	case "+CIMI":
		return m.cimi(c)
	case "+CCID", "+ICCID":
		return m.ccid(c)
	case "+CRSM":
		return m.crsm(c)
	case "+CLCK":
		return m.clck(c)
	case "+CNUM":
		if c.op == opAction || c.op == opTest {
			return ok()
		}
	case "+CCHO":
		return m.ccho(c)
	case "+CGLA":
		return m.cgla(c)
	case "+CCHC":
		return m.cchc(c)
	case "+CSIM":
		return m.csim(c)
	// Power and network.
	case "+CFUN":
		return m.cfunCmd(c)
	case "+CREG":
		return m.regCmd(p, c, regCREG)
	case "+CGREG":
		return m.regCmd(p, c, regCGREG)
	case "+CEREG":
		return m.regCmd(p, c, regCEREG)
	case "+COPS":
		return m.cops(p, c)
	case "+CSQ":
		return m.csq(c)
	case "+CESQ":
		return m.cesq(c)
	case "+CGATT":
		return m.cgatt(c)
	case "+CGDCONT":
		return m.cgdcont(c)
	case "+CGACT":
		return m.cgact(c)
	case "+CGPADDR":
		return m.cgpaddr(c)
	case "+CGEREP":
		return m.cgerep(p, c)
	// SMS, minimal: no messages are ever stored.
	case "+CPMS":
		return m.cpms(p, c)
	case "+CMGF":
		return m.cmgf(p, c)
	case "+CNMI":
		return m.cnmi(p, c)
	case "+CMGL":
		switch c.op {
		case opTest:
			if p.cmgf == 0 {
				return ok("+CMGL: (0-4)")
			}
			return ok(`+CMGL: ("REC UNREAD","REC READ","STO UNSENT","STO SENT","ALL")`)
		default:
			return ok()
		}
	// Call-related settings ModemManager sets while enabling; accepted.
	case "+CLIP", "+CRC", "+CCWA", "+CMER":
		if c.op == opSet {
			return ok()
		}
	}
	return errorReply()
}

func (m *Modem) ident(c command, v string) reply {
	switch c.op {
	case opAction:
		return ok(v)
	case opTest:
		return ok()
	}
	return errorReply()
}

func (m *Modem) sRegister(p *port, c command) reply {
	n, valid := atoi(c.name[1:])
	if !valid || n > 255 {
		return errorReply()
	}
	switch c.op {
	case opRead:
		return ok(fmt.Sprintf("%03d", p.sregs[n]))
	case opSet:
		v, valid := atoi(c.arg)
		if !valid || v > 255 {
			return errorReply()
		}
		p.sregs[n] = v
		return ok()
	}
	return errorReply()
}

// cgsn: +CGSN (serial number, the IMEI), +CGSN=<snt> (27.007 7.2).
func (m *Modem) cgsn(c command) reply {
	imei := m.opts.IMEI
	switch c.op {
	case opAction:
		return ok(imei)
	case opTest:
		return ok("+CGSN: (0-3)")
	case opSet:
		snt, valid := atoi(c.arg)
		if !valid {
			return cme(cmeIncorrectParameters)
		}
		svn := "01"
		switch snt {
		case 0:
			return ok(imei)
		case 1:
			return ok(`+CGSN: "` + imei + `"`)
		case 2:
			if len(imei) < 14 {
				return cme(cmeOperationNotSupported)
			}
			return ok(`+CGSN: "` + imei[:14] + svn + `"`)
		case 3:
			return ok(`+CGSN: "` + svn + `"`)
		}
		return cme(cmeIncorrectParameters)
	}
	return errorReply()
}

func (m *Modem) cmee(p *port, c command) reply {
	switch c.op {
	case opTest:
		return ok("+CMEE: (0-2)")
	case opRead:
		return ok("+CMEE: " + strconv.Itoa(p.cmee))
	case opSet:
		n, valid := 0, true
		if c.arg != "" {
			n, valid = atoi(c.arg)
		}
		if !valid || n > 2 {
			return cme(cmeIncorrectParameters)
		}
		p.cmee = n
		return ok()
	}
	return errorReply()
}

func (m *Modem) cscs(p *port, c command) reply {
	switch c.op {
	case opTest:
		return ok(`+CSCS: ("IRA","GSM","UCS2")`)
	case opRead:
		return ok(`+CSCS: "` + p.cscs + `"`)
	case opSet:
		switch v := strings.ToUpper(unquote(c.arg)); v {
		case "IRA", "GSM", "UCS2":
			p.cscs = v
			return ok()
		}
		return cme(cmeIncorrectParameters)
	}
	return errorReply()
}

func (m *Modem) ws46(p *port, c command) reply {
	switch c.op {
	case opTest:
		return ok("+WS46: (12,22,25,28,29,30,31)")
	case opRead:
		return ok("+WS46: " + strconv.Itoa(p.ws46))
	case opSet:
		n, valid := atoi(c.arg)
		if valid {
			switch n {
			case 12, 22, 25, 28, 29, 30, 31:
				p.ws46 = n
				return ok()
			}
		}
		return cme(cmeIncorrectParameters)
	}
	return errorReply()
}

func (m *Modem) cpms(p *port, c command) reply {
	switch c.op {
	case opTest:
		return ok(`+CPMS: ("ME","SM"),("ME","SM"),("ME","SM")`)
	case opRead:
		return ok(fmt.Sprintf(`+CPMS: "%s",0,255,"%s",0,255,"%s",0,255`, p.cpms[0], p.cpms[1], p.cpms[2]))
	case opSet:
		args := splitArgs(c.arg)
		if len(args) == 0 || len(args) > 3 {
			return errorReply()
		}
		next := p.cpms
		for i, a := range args {
			v := strings.ToUpper(unquote(a))
			if v != "ME" && v != "SM" {
				return errorReply()
			}
			next[i] = v
		}
		p.cpms = next
		return ok("+CPMS: 0,255,0,255,0,255")
	}
	return errorReply()
}

func (m *Modem) cmgf(p *port, c command) reply {
	switch c.op {
	case opTest:
		return ok("+CMGF: (0,1)")
	case opRead:
		return ok("+CMGF: " + strconv.Itoa(p.cmgf))
	case opSet:
		n, valid := 0, true
		if c.arg != "" {
			n, valid = atoi(c.arg)
		}
		if !valid || n > 1 {
			return errorReply()
		}
		p.cmgf = n
		return ok()
	}
	return errorReply()
}

func (m *Modem) cnmi(p *port, c command) reply {
	switch c.op {
	case opTest:
		return ok("+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)")
	case opRead:
		return ok("+CNMI: " + p.cnmi)
	case opSet:
		args := splitArgs(c.arg)
		vals, valid := intArgs(args, 0)
		if !valid || len(vals) == 0 || len(vals) > 5 {
			return errorReply()
		}
		for len(vals) < 5 {
			vals = append(vals, 0)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = strconv.Itoa(v)
		}
		p.cnmi = strings.Join(parts, ",")
		return ok()
	}
	return errorReply()
}

func (m *Modem) cgerep(p *port, c command) reply {
	switch c.op {
	case opTest:
		return ok("+CGEREP: (0-2),(0-1)")
	case opRead:
		return ok(fmt.Sprintf("+CGEREP: %d,0", p.cgerep))
	case opSet:
		vals, valid := intArgs(splitArgs(c.arg), 0)
		if !valid || len(vals) > 2 || (len(vals) > 0 && vals[0] > 2) {
			return cme(cmeIncorrectParameters)
		}
		p.cgerep = 0
		if len(vals) > 0 {
			p.cgerep = vals[0]
		}
		return ok()
	}
	return errorReply()
}
