package at

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// errNoLine is returned by the multi-line parsers when no line matches.
var errNoLine = errors.New("no matching line")

// splitFields splits the parameters of a response line at the commas that
// are not inside double quotes, trimming blanks around each field. Quotes
// are kept; see unquote.
func splitFields(s string) []string {
	var out []string
	inQuote := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// unquote strips one pair of surrounding double quotes.
func unquote(s string) (string, bool) {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1], true
	}
	return s, false
}

// after returns what follows the first of the prefixes line starts with
// (compared case-insensitively), trimmed.
func after(line string, prefixes ...string) (string, bool) {
	line = strings.TrimSpace(line)
	for _, p := range prefixes {
		if len(line) >= len(p) && strings.EqualFold(line[:len(p)], p) {
			return strings.TrimSpace(line[len(p):]), true
		}
	}
	return "", false
}

func atoiField(f, what string) (int, error) {
	v, _ := unquote(f)
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("at: %s %q is not a number", what, f)
	}
	return n, nil
}

// optInt parses an optional integer field; empty means -1.
func optInt(fields []string, i int, what string) (int, error) {
	if i >= len(fields) || fields[i] == "" || fields[i] == `""` {
		return -1, nil
	}
	return atoiField(fields[i], what)
}

func optString(fields []string, i int) string {
	if i >= len(fields) {
		return ""
	}
	s, _ := unquote(fields[i])
	return s
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isHexDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// ParseCGSN extracts the serial number (IMEI) from the lines of an AT+CGSN
// or AT+CGSN=1 response: a bare "<sn>" line, "+CGSN: <sn>" or
// "+CGSN: "<sn>"". The serial is 8 to 20 hex digits (IMEI and IMEISV are
// decimal; MEIDs are hex).
func ParseCGSN(lines []string) (string, error) {
	for _, l := range lines {
		v, ok := after(l, "+CGSN:", "+GSN:")
		if !ok {
			v = strings.TrimSpace(l)
		}
		v, _ = unquote(v)
		if len(v) >= 8 && len(v) <= 20 && isHexDigits(v) {
			return v, nil
		}
	}
	return "", fmt.Errorf("at: no serial number in +CGSN response: %w", errNoLine)
}

// ParseCIMI extracts the IMSI (6 to 15 digits) from the lines of an AT+CIMI
// response, a bare line or "+CIMI: <imsi>".
func ParseCIMI(lines []string) (string, error) {
	for _, l := range lines {
		v, ok := after(l, "+CIMI:")
		if !ok {
			v = strings.TrimSpace(l)
		}
		v, _ = unquote(v)
		if len(v) >= 6 && len(v) <= 15 && isDigits(v) {
			return v, nil
		}
	}
	return "", fmt.Errorf("at: no IMSI in +CIMI response: %w", errNoLine)
}

// ParseICCIDLine extracts the ICCID from a vendor ICCID response line:
// "+CCID: ", "+ICCID: ", "+QCCID: ", "#CCID: " or a bare line, quotes
// optional. A trailing F filler is stripped; the result is 10 to 20 digits.
func ParseICCIDLine(line string) (string, error) {
	v, ok := after(line, "+CCID:", "+ICCID:", "+QCCID:", "#CCID:")
	if !ok {
		v = strings.TrimSpace(line)
	}
	v, _ = unquote(v)
	v = strings.TrimRight(v, "Ff")
	if len(v) < 10 || len(v) > 20 || !isDigits(v) {
		return "", fmt.Errorf("at: %q is not an ICCID", line)
	}
	return v, nil
}

// ParseCRSMICCID decodes the answer to AT+CRSM=176,12258,0,0,10 (READ
// BINARY of EF.ICCID): "+CRSM: 144,0,"98101032547698103214"" holds the
// ICCID as nibble-swapped BCD with F filler.
func ParseCRSMICCID(line string) (string, error) {
	rest, ok := after(line, "+CRSM:")
	if !ok {
		return "", fmt.Errorf("at: %q is not a +CRSM response", line)
	}
	f := splitFields(rest)
	if len(f) < 3 {
		return "", fmt.Errorf("at: +CRSM response %q has no data", line)
	}
	sw1, err := atoiField(f[0], "+CRSM sw1")
	if err != nil {
		return "", err
	}
	sw2, err := atoiField(f[1], "+CRSM sw2")
	if err != nil {
		return "", err
	}
	if sw1 != 0x90 && sw1 != 0x91 {
		return "", fmt.Errorf("at: reading EF.ICCID returned status %02X%02X", sw1&0xFF, sw2&0xFF)
	}
	data, _ := unquote(f[2])
	if len(data)%2 != 0 || !isHexDigits(data) {
		return "", fmt.Errorf("at: +CRSM data %q is not hex", data)
	}
	var b strings.Builder
	for i := 0; i+1 < len(data); i += 2 {
		b.WriteByte(data[i+1])
		b.WriteByte(data[i])
	}
	return ParseICCIDLine(b.String())
}

// ParseCPIN returns the SIM state of a "+CPIN: <code>" line, e.g. "READY",
// "SIM PIN", "NOT READY".
func ParseCPIN(line string) (string, error) {
	rest, ok := after(line, "+CPIN:")
	if !ok {
		return "", fmt.Errorf("at: %q is not a +CPIN response", line)
	}
	rest, _ = unquote(rest)
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return "", fmt.Errorf("at: empty +CPIN response")
	}
	return rest, nil
}

// ParseCOPS parses "+COPS: <mode>[,<format>,<oper>[,<AcT>]]". Absent
// format and AcT are -1.
func ParseCOPS(line string) (mode, format int, oper string, act int, err error) {
	rest, ok := after(line, "+COPS:")
	if !ok {
		return 0, 0, "", 0, fmt.Errorf("at: %q is not a +COPS response", line)
	}
	f := splitFields(rest)
	if mode, err = atoiField(f[0], "+COPS mode"); err != nil {
		return 0, 0, "", 0, err
	}
	if format, err = optInt(f, 1, "+COPS format"); err != nil {
		return 0, 0, "", 0, err
	}
	oper = optString(f, 2)
	if act, err = optInt(f, 3, "+COPS AcT"); err != nil {
		return 0, 0, "", 0, err
	}
	return mode, format, oper, act, nil
}

// ParseCSQ parses "+CSQ: <rssi>,<ber>".
func ParseCSQ(line string) (rssi, ber int, err error) {
	rest, ok := after(line, "+CSQ:")
	if !ok {
		return 0, 0, fmt.Errorf("at: %q is not a +CSQ response", line)
	}
	f := splitFields(rest)
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("at: +CSQ response %q needs 2 fields", line)
	}
	if rssi, err = atoiField(f[0], "+CSQ rssi"); err != nil {
		return 0, 0, err
	}
	if ber, err = atoiField(f[1], "+CSQ ber"); err != nil {
		return 0, 0, err
	}
	return rssi, ber, nil
}

// CSQToDBm converts a +CSQ <rssi> to dBm (27.007: 0..31 -> -113 + 2*rssi);
// ok is false for 99 (unknown) and out-of-range values.
func CSQToDBm(rssi int) (dbm int, ok bool) {
	if rssi < 0 || rssi > 31 {
		return 0, false
	}
	return -113 + 2*rssi, true
}

var regPrefixes = []string{"+CREG:", "+CGREG:", "+CEREG:", "+C5GREG:"}

// regURCForm reports whether the parameters of a +CREG-family line are in
// the unsolicited form "<stat>[,<lac>,<ci>[,<AcT>...]]" rather than the
// read-command form "<n>,<stat>[,<lac>,<ci>[,<AcT>...]]": the read form's
// second field is an unquoted <stat> of 0..11 after an <n> of 0..5.
func regURCForm(f []string) bool {
	if len(f) == 1 {
		return true
	}
	if f[1] == "" || f[1][0] == '"' {
		return true
	}
	n, err1 := strconv.Atoi(f[0])
	stat, err2 := strconv.Atoi(f[1])
	return err1 != nil || err2 != nil || n < 0 || n > 5 || stat < 0 || stat > 11
}

// ParseCREG parses a +CREG:, +CGREG:, +CEREG: or +C5GREG: line, in the
// read-command form "<n>,<stat>[,<lac>,<ci>[,<AcT>...]]" or the unsolicited
// form "<stat>[,<lac>,<ci>[,<AcT>...]]" (n is then -1). lac and ci are the
// hex strings without quotes ("" when absent); act is -1 when absent.
func ParseCREG(line string) (n, stat int, lac, ci string, act int, err error) {
	rest, ok := after(line, regPrefixes...)
	if !ok {
		return 0, 0, "", "", 0, fmt.Errorf("at: %q is not a registration line", line)
	}
	f := splitFields(rest)
	n = -1
	if !regURCForm(f) {
		if n, err = atoiField(f[0], "registration <n>"); err != nil {
			return 0, 0, "", "", 0, err
		}
		f = f[1:]
	}
	if stat, err = atoiField(f[0], "registration <stat>"); err != nil {
		return 0, 0, "", "", 0, err
	}
	lac, ci = optString(f, 1), optString(f, 2)
	if act, err = optInt(f, 3, "registration <AcT>"); err != nil {
		return 0, 0, "", "", 0, err
	}
	return n, stat, lac, ci, act, nil
}

// ParseCCHO finds the session id in the lines of an AT+CCHO response:
// "+CCHO: <n>", "+CCHO: "<n>"" or, as 27.007 specifies, a bare "<n>".
func ParseCCHO(lines []string) (int, error) {
	for _, l := range lines {
		v, ok := after(l, "+CCHO:")
		if !ok {
			v = strings.TrimSpace(l)
		}
		v, _ = unquote(v)
		if isDigits(v) && len(v) <= 9 {
			n, err := strconv.Atoi(v)
			if err == nil {
				return n, nil
			}
		}
	}
	return 0, fmt.Errorf("at: no session id in +CCHO response: %w", errNoLine)
}

// ParseCGLA decodes "+CGLA: <length>,"<response hex>"" (quotes optional);
// <length> counts hex characters. The response includes SW1 SW2.
func ParseCGLA(line string) ([]byte, error) { return parseHexAPDU(line, "+CGLA:") }

// ParseCSIM decodes "+CSIM: <length>,"<response hex>"" like ParseCGLA.
func ParseCSIM(line string) ([]byte, error) { return parseHexAPDU(line, "+CSIM:") }

func parseHexAPDU(line, prefix string) ([]byte, error) {
	rest, ok := after(line, prefix)
	if !ok {
		return nil, fmt.Errorf("at: %q is not a %s response", line, prefix)
	}
	f := splitFields(rest)
	if len(f) != 2 {
		return nil, fmt.Errorf("at: %s response needs <length>,<response>", prefix)
	}
	n, err := atoiField(f[0], prefix+" length")
	if err != nil {
		return nil, err
	}
	h, _ := unquote(f[1])
	if n != len(h) {
		return nil, fmt.Errorf("at: %s length %d does not match %d hex characters", prefix, n, len(h))
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("at: %s response is not hex: %w", prefix, err)
	}
	if len(b) < 2 {
		return nil, fmt.Errorf("at: %s response of %d bytes has no status word", prefix, len(b))
	}
	return b, nil
}

// cmdName is the part of a command line that names it, used in errors and
// logs so that parameters (APDUs, PINs) do not leak: "AT+CGLA=1,..." ->
// "AT+CGLA".
func cmdName(cmd string) string {
	cmd = strings.TrimSpace(cmd)
	if i := strings.IndexAny(cmd, "=?"); i >= 0 {
		cmd = cmd[:i]
	}
	if len(cmd) > 24 {
		cmd = cmd[:24]
	}
	return cmd
}

// respPrefix is the prefix of the information lines an extended command
// answers with: "AT+CEREG?" -> "+CEREG". Basic commands ("ATE0") have none.
func respPrefix(cmd string) string {
	c := strings.ToUpper(strings.TrimSpace(cmd))
	if !strings.HasPrefix(c, "AT") || len(c) < 4 {
		return ""
	}
	c = c[2:]
	switch c[0] {
	case '+', '#', '^', '$', '%', '*':
	default:
		return ""
	}
	if i := strings.IndexAny(c, "=?;"); i >= 0 {
		c = c[:i]
	}
	if len(c) < 2 {
		return ""
	}
	return c
}
