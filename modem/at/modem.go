package at

import (
	"context"
	"errors"
	"strings"

	"github.com/mobileplans/mobileplans/modem"
)

var _ modem.Modem = (*Modem)(nil)

// Info reads the modem's identity and SIM state: +CGMI, +CGMM, +CGMR,
// +CGSN, +CPIN?, the ICCID (AT+CCID, AT+ICCID, AT+QCCID, then the standard
// AT+CRSM read of EF.ICCID) and +CIMI. A field stays empty when the modem
// refuses its command; only transport failures (timeout, closed port,
// cancelled context) are returned as errors.
func (m *Modem) Info(ctx context.Context) (modem.Info, error) {
	info := modem.Info{Port: m.cfg.Device, Backend: "at"}
	var err error
	if info.Manufacturer, err = m.ident(ctx, "AT+CGMI"); err != nil {
		return info, err
	}
	if info.Model, err = m.ident(ctx, "AT+CGMM"); err != nil {
		return info, err
	}
	if info.Revision, err = m.ident(ctx, "AT+CGMR"); err != nil {
		return info, err
	}
	for _, cmd := range []string{"AT+CGSN", "AT+CGSN=1"} {
		r, err := m.Command(ctx, cmd)
		if err != nil {
			if isCommandError(err) {
				continue
			}
			return info, err
		}
		if imei, perr := ParseCGSN(r.Lines); perr == nil {
			info.IMEI = imei
			break
		}
	}
	r, err := m.Command(ctx, "AT+CPIN?")
	var cme *CMEError
	switch {
	case err == nil:
		if len(r.Lines) > 0 {
			info.SIMState, _ = ParseCPIN(r.Lines[0])
		}
	case errors.As(err, &cme) && cme.Code == CMESIMNotInserted:
		info.SIMState = "NOT INSERTED"
	case !isCommandError(err):
		return info, err
	}
	if info.ICCID, err = m.iccid(ctx); err != nil {
		return info, err
	}
	r, err = m.Command(ctx, "AT+CIMI")
	switch {
	case err == nil:
		info.IMSI, _ = ParseCIMI(r.Lines)
	case !isCommandError(err):
		return info, err
	}
	return info, nil
}

// ident runs an identification command (+CGMI, +CGMM, +CGMR) and returns
// its text, without the "+CGMI: " prefix some modems add.
func (m *Modem) ident(ctx context.Context, cmd string) (string, error) {
	r, err := m.Command(ctx, cmd)
	if err != nil {
		if isCommandError(err) {
			return "", nil
		}
		return "", err
	}
	var parts []string
	for _, l := range r.Lines {
		if v, ok := after(l, respPrefix(cmd)+":"); ok {
			l = v
		}
		l, _ = unquote(l)
		if l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " "), nil
}

func (m *Modem) iccid(ctx context.Context) (string, error) {
	for _, cmd := range []string{"AT+CCID", "AT+ICCID", "AT+QCCID"} {
		r, err := m.Command(ctx, cmd)
		if err != nil {
			if isCommandError(err) {
				continue
			}
			return "", err
		}
		for _, l := range r.Lines {
			if id, err := ParseICCIDLine(l); err == nil {
				return id, nil
			}
		}
	}
	r, err := m.Command(ctx, "AT+CRSM=176,12258,0,0,10")
	if err != nil {
		if isCommandError(err) {
			return "", nil
		}
		return "", err
	}
	for _, l := range r.Lines {
		if id, err := ParseCRSMICCID(l); err == nil {
			return id, nil
		}
	}
	return "", nil
}

// Registration reads the serving network: AT+COPS=3,2 and AT+COPS? for the
// numeric operator code, AT+COPS=3,0 and AT+COPS? for its name, AT+CEREG?
// (and AT+CREG? when the modem refuses +CEREG or is not registered on LTE)
// for the state, and AT+CSQ for the signal. Refused commands leave their
// fields empty; transport failures are returned.
func (m *Modem) Registration(ctx context.Context) (modem.Registration, error) {
	var reg modem.Registration
	act := -1
	// numeric code first, then the long name
	for _, format := range []string{"2", "0"} {
		if _, err := m.Command(ctx, "AT+COPS=3,"+format); err != nil && !isCommandError(err) {
			return reg, err
		}
		r, err := m.Command(ctx, "AT+COPS?")
		if err != nil {
			if isCommandError(err) {
				break
			}
			return reg, err
		}
		for _, l := range r.Lines {
			_, f, oper, a, perr := ParseCOPS(l)
			if perr != nil || oper == "" {
				continue
			}
			switch f {
			case 2:
				reg.OperatorCode = oper
			case 0, 1:
				reg.OperatorName = oper
			}
			if a >= 0 {
				act = a
			}
		}
	}

	state, regAct, known, err := m.regState(ctx, "AT+CEREG?")
	if err != nil {
		return reg, err
	}
	if !known || !state.Registered() {
		s2, a2, known2, err := m.regState(ctx, "AT+CREG?")
		if err != nil {
			return reg, err
		}
		if known2 && (!known || s2.Registered()) {
			state, regAct, known = s2, a2, true
		}
	}
	if !known {
		state = modem.RegUnknown
	}
	reg.State = state
	reg.StateName = state.String()
	if act < 0 {
		act = regAct
	}
	reg.AccessTech = accessTech(act)

	r, err := m.Command(ctx, "AT+CSQ")
	switch {
	case err == nil:
		for _, l := range r.Lines {
			if rssi, _, perr := ParseCSQ(l); perr == nil {
				reg.SignalDBm, reg.SignalValid = CSQToDBm(rssi)
				break
			}
		}
	case !isCommandError(err):
		return reg, err
	}
	return reg, nil
}

// regState runs a +CREG-family read command. known is false when the modem
// refused it or sent nothing parseable.
func (m *Modem) regState(ctx context.Context, cmd string) (state modem.RegState, act int, known bool, err error) {
	r, err := m.Command(ctx, cmd)
	if err != nil {
		if isCommandError(err) {
			return 0, -1, false, nil
		}
		return 0, -1, false, err
	}
	for _, l := range r.Lines {
		_, stat, _, _, a, perr := ParseCREG(l)
		if perr == nil {
			return regState(stat), a, true, nil
		}
	}
	return 0, -1, false, nil
}

// regState maps a 27.007 <stat>: the "SMS only" and "CSFB not preferred"
// variants (6, 7, 9, 10) count as registered.
func regState(stat int) modem.RegState {
	switch stat {
	case 6, 9:
		return modem.RegHome
	case 7, 10:
		return modem.RegRoaming
	}
	return modem.RegState(stat)
}

// accessTech names a 27.007 <AcT>.
func accessTech(act int) string {
	switch act {
	case 0:
		return "gsm"
	case 1:
		return "gsm-compact"
	case 2:
		return "utran"
	case 3:
		return "gsm-egprs"
	case 4:
		return "utran-hsdpa"
	case 5:
		return "utran-hsupa"
	case 6:
		return "utran-hspa"
	case 7:
		return "eutran"
	case 8:
		return "ec-gsm-iot"
	case 9:
		return "eutran-nbiot"
	case 10:
		return "eutran-5gc"
	case 11:
		return "nr-5gc"
	case 12:
		return "ng-ran"
	case 13:
		return "eutran-nr"
	}
	return ""
}
