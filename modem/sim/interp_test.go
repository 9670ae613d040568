package sim

import (
	"slices"
	"strings"
	"testing"
)

// TestModemManagerProbe replays, in order, every command ModemManager
// 1.20.4 sent to a generic modem while probing, enabling and disabling it
// (shared/reference/modemmanager-harness.md). Each must be answered: OK, or
// ERROR where the harness found ERROR harmless.
func TestModemManagerProbe(t *testing.T) {
	_, c := startModem(t, newFakeCard(profileA()), Options{})
	tests := []struct {
		cmd   string
		final string
		info  []string // nil: not checked
	}{
		{"AT", "OK", []string{}},
		{"AT+CGMI", "OK", []string{"Mobileplans"}},
		{"AT%IPSYS?", "OK", []string{}},
		{"AT+CGMM", "OK", []string{"SimModem 1000"}},
		{"ATE0", "OK", []string{}},
		{"ATV1", "OK", []string{}},
		{"AT+CMEE=1", "OK", []string{}},
		{"ATX4", "OK", []string{}},
		{"AT&C1", "OK", []string{}},
		{"AT+GCAP", "OK", []string{"+GCAP: +CGSM,+DS,+ES"}},
		{"AT+WS46=?", "OK", []string{"+WS46: (12,22,25,28,29,30,31)"}},
		{"AT+CSCS=?", "OK", []string{`+CSCS: ("IRA","GSM","UCS2")`}},
		{`AT+CSCS="UCS2"`, "OK", []string{}},
		{"AT+CSCS?", "OK", []string{`+CSCS: "UCS2"`}},
		{"AT+CGMR", "OK", []string{"1.0.0"}},
		{"AT+CGSN", "OK", []string{DefaultIMEI}},
		{"ATI", "OK", []string{"Mobileplans", "SimModem 1000", "Revision: 1.0.0"}},
		{"AT*CNTI=2", "ERROR", []string{}},
		{"AT+CGDCONT=?", "OK", nil},
		{"AT+CFUN?", "OK", []string{"+CFUN: 1"}},
		{"AT+CPIN?", "OK", []string{"+CPIN: READY"}},
		{`AT+CSIM=10,"0020000100"`, "OK", []string{`+CSIM: 4,"6D00"`}},
		{`AT+CSIM=10,"002C000100"`, "OK", []string{`+CSIM: 4,"6D00"`}},
		{`AT+CSIM=10,"0020008100"`, "OK", []string{`+CSIM: 4,"6D00"`}},
		{`AT+CSIM=10,"002C008100"`, "OK", []string{`+CSIM: 4,"6D00"`}},
		{"AT+CRSM=176,12258,0,0,10", "OK", []string{`+CRSM: 144,0,"989420000021436587F9"`}},
		{"AT+CIMI", "OK", []string{"262011234567890"}},
		{"AT+CRSM=176,28589,0,0,4", "OK", []string{`+CRSM: 144,0,"00000002"`}},
		{"AT+CRSM=176,28486,0,0,17", "OK", []string{`+CRSM: 144,0,"0053696D4E6574FFFFFFFFFFFFFFFFFFFF"`}},
		{"AT+CRSM=176,28599,0,0,15", "OK", []string{"+CRSM: 148,4"}},
		{"AT+CPLS=0", "ERROR", []string{}},
		{"AT+CPOL=,2", "ERROR", []string{}},
		{"AT+CPOL?", "ERROR", []string{}},
		{"AT+CRSM=176,28478,0,0,0", "OK", []string{"+CRSM: 148,4"}},
		{"AT+CRSM=176,28479,0,0,0", "OK", []string{"+CRSM: 148,4"}},
		{"AT+CNUM", "OK", []string{}},
		{"AT+CLCK=?", "OK", []string{`+CLCK: ("SC","FD","PN","PU","PP","PC","PF")`}},
		{`AT+CLCK="SC",2`, "OK", []string{"+CLCK: 0"}},
		{`AT+CLCK="FD",2`, "OK", []string{"+CLCK: 0"}},
		{`AT+CLCK="PF",2`, "OK", []string{"+CLCK: 0"}},
		{`AT+CLCK="PN",2`, "OK", []string{"+CLCK: 0"}},
		{`AT+CLCK="PU",2`, "OK", []string{"+CLCK: 0"}},
		{`AT+CLCK="PP",2`, "OK", []string{"+CLCK: 0"}},
		{`AT+CLCK="PC",2`, "OK", []string{"+CLCK: 0"}},
		{"AT+CEMODE?", "ERROR", []string{}},
		{"AT+CUSD=?", "ERROR", []string{}},
		{"AT+CNMI=?", "OK", []string{"+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)"}},
		{"AT+CPMS=?", "OK", []string{`+CPMS: ("ME","SM"),("ME","SM"),("ME","SM")`}},
		{"AT+CPMS?", "OK", []string{`+CPMS: "ME",0,255,"ME",0,255,"ME",0,255`}},
		{"AT+CTZU=1", "ERROR", []string{}},
		{"AT+CESQ=?", "OK", nil},
		{"ATH", "OK", []string{}},
		{"AT+CLCC=?", "ERROR", []string{}},
		{"AT+IFC=?", "ERROR", []string{}},
		{"AT+CIND=?", "ERROR", []string{}},
		{"AT+CGEREP=?", "OK", []string{"+CGEREP: (0-2),(0-1)"}},
		{"AT+CGEREP=2", "OK", []string{}},
		{"AT+CREG=2", "OK", []string{}},
		{"AT+CGREG=2", "OK", []string{}},
		{"AT+CEREG=2", "OK", []string{}},
		{"AT+CREG?", "OK", []string{`+CREG: 2,1,"1A2B","01A2B3C4",7`}},
		{"AT+CMGF=?", "OK", []string{"+CMGF: (0,1)"}},
		{"AT+CGREG?", "OK", []string{`+CGREG: 2,1,"1A2B","01A2B3C4",7`}},
		{"AT+CMGF=0", "OK", []string{}},
		{"AT+CEREG?", "OK", []string{`+CEREG: 2,1,"1A2B","01A2B3C4",7`}},
		{`AT+CPMS="ME","ME","ME"`, "OK", []string{"+CPMS: 0,255,0,255,0,255"}},
		{`AT+CPMS="ME"`, "OK", []string{"+CPMS: 0,255,0,255,0,255"}},
		{"AT+CMGL=4", "OK", []string{}},
		{`AT+CPMS="SM"`, "OK", []string{"+CPMS: 0,255,0,255,0,255"}},
		{"AT+CNMI=2,1,2,1,0", "OK", []string{}},
		{"AT+CLIP=1", "OK", []string{}},
		{"AT+CRC=1", "OK", []string{}},
		{"AT+CCWA=1", "OK", []string{}},
		{"AT+COPS=3,2", "OK", []string{}},
		{"AT+COPS?", "OK", []string{`+COPS: 0,2,"26201",7`}},
		{"AT+COPS=3,0", "OK", []string{}},
		// +CSCS="UCS2" is in force: the name is UTF-16BE hex.
		{"AT+COPS?", "OK", []string{`+COPS: 0,0,"00530069006D004E00650074",7`}},
		{"AT+CSQ", "OK", []string{"+CSQ: 20,99"}},
		{"AT+CLIP=0", "OK", []string{}},
		{"AT+CRC=0", "OK", []string{}},
		{"AT+CCWA=0", "OK", []string{}},
		{"AT+CREG=0", "OK", []string{}},
		{"AT+CGREG=0", "OK", []string{}},
		{"AT+CEREG=0", "OK", []string{}},
		{"AT+CGEREP=0", "OK", []string{}},
		{"AT+XACT=?", "OK", []string{}},
	}
	for _, tc := range tests {
		info, final := c.cmd(tc.cmd)
		if final != tc.final {
			t.Errorf("%s: final %q, want %q (info %q)", tc.cmd, final, tc.final, info)
			continue
		}
		if tc.info != nil && !slices.Equal(info, tc.info) && !(len(info) == 0 && len(tc.info) == 0) {
			t.Errorf("%s: info %q, want %q", tc.cmd, info, tc.info)
		}
	}
	if len(c.urcs) != 0 {
		t.Errorf("unexpected URCs %q", c.urcs)
	}
}

// TestCommands runs each case on a fresh modem: setup commands (must answer
// OK), then the command under test.
func TestCommands(t *testing.T) {
	tests := []struct {
		name      string
		noProfile bool
		profile   func() ActiveProfile
		setup     []string
		cmd       string
		info      []string
		final     string
	}{
		{name: "bare AT", cmd: "AT", final: "OK"},
		{name: "lower case", cmd: "at+cgmi", info: []string{"Mobileplans"}, final: "OK"},
		{name: "spaces ignored", cmd: "AT + CGMM", info: []string{"SimModem 1000"}, final: "OK"},
		{name: "IMEI +CGSN=1", cmd: "AT+CGSN=1", info: []string{`+CGSN: "490154203237518"`}, final: "OK"},
		{name: "IMEISV +CGSN=2", cmd: "AT+CGSN=2", info: []string{`+CGSN: "4901542032375101"`}, final: "OK"},
		{name: "bad +CGSN", setup: []string{"AT+CMEE=1"}, cmd: "AT+CGSN=9", final: "+CME ERROR: 50"},
		{name: "CCID", cmd: "AT+CCID", info: []string{"+CCID: 8949020000123456789"}, final: "OK"},
		{name: "ICCID", cmd: "AT+ICCID", info: []string{"+ICCID: 8949020000123456789"}, final: "OK"},
		{name: "EF.AD 3-digit MNC", profile: profileB, cmd: "AT+CRSM=176,28589,0,0,4", info: []string{`+CRSM: 144,0,"00000003"`}, final: "OK"},
		{name: "EF.ICCID 20 digits", profile: profileB, cmd: "AT+CRSM=176,12258,0,0,10", info: []string{`+CRSM: 144,0,"98100000000000000061"`}, final: "OK"},
		{name: "EF.IMSI", cmd: "AT+CRSM=176,28423,0,0,9", info: []string{`+CRSM: 144,0,"082926102143658709"`}, final: "OK"},
		{name: "READ BINARY offset", cmd: "AT+CRSM=176,12258,0,8,0", info: []string{`+CRSM: 144,0,"87F9"`}, final: "OK"},
		{name: "READ BINARY beyond the file", cmd: "AT+CRSM=176,12258,0,10,1", info: []string{"+CRSM: 107,0"}, final: "OK"},
		{name: "GET RESPONSE EF.ICCID", cmd: "AT+CRSM=192,12258", info: []string{`+CRSM: 144,0,"620F8202412183022FE28002000A8A0105"`}, final: "OK"},
		{name: "CRSM STATUS", cmd: "AT+CRSM=242", info: []string{"+CRSM: 144,0"}, final: "OK"},
		{name: "CRSM unsupported command", cmd: "AT+CRSM=214,28486,0,0,1,\"00\"", info: []string{"+CRSM: 109,0"}, final: "OK"},
		{name: "CRSM bad parameters", setup: []string{"AT+CMEE=1"}, cmd: "AT+CRSM=176,x", final: "+CME ERROR: 50"},
		{name: "CRSM without profile", noProfile: true, cmd: "AT+CRSM=176,12258,0,0,10", info: []string{"+CRSM: 148,4"}, final: "OK"},
		{name: "CPIN without profile", noProfile: true, cmd: "AT+CPIN?", info: []string{"+CPIN: READY"}, final: "OK"},
		{name: "CPIN=<pin> refused", setup: []string{"AT+CMEE=1"}, cmd: `AT+CPIN="1234"`, final: "+CME ERROR: 3"},
		{name: "CIMI without profile", noProfile: true, setup: []string{"AT+CMEE=1"}, cmd: "AT+CIMI", final: "+CME ERROR: 10"},
		{name: "CCID without profile", noProfile: true, setup: []string{"AT+CMEE=1"}, cmd: "AT+CCID", final: "+CME ERROR: 10"},
		{name: "verbose CME", noProfile: true, setup: []string{"AT+CMEE=2"}, cmd: "AT+CIMI", final: "+CME ERROR: SIM not inserted"},
		{name: "CMEE=0 plain ERROR", noProfile: true, cmd: "AT+CIMI", final: "ERROR"},
		{name: "not registered without profile", noProfile: true, cmd: "AT+CEREG?", info: []string{"+CEREG: 0,0"}, final: "OK"},
		{name: "COPS? without profile", noProfile: true, cmd: "AT+COPS?", info: []string{"+COPS: 0"}, final: "OK"},
		{name: "CSQ without profile", noProfile: true, cmd: "AT+CSQ", info: []string{"+CSQ: 99,99"}, final: "OK"},
		{name: "CFUN=4 deregisters", setup: []string{"AT+CFUN=4"}, cmd: "AT+CEREG?", info: []string{"+CEREG: 0,0"}, final: "OK"},
		{name: "CFUN=4 then 1", setup: []string{"AT+CFUN=4", "AT+CFUN=1"}, cmd: "AT+CREG?", info: []string{"+CREG: 0,1"}, final: "OK"},
		{name: "CFUN? after 0", setup: []string{"AT+CFUN=0"}, cmd: "AT+CFUN?", info: []string{"+CFUN: 0"}, final: "OK"},
		{name: "CFUN bad", setup: []string{"AT+CMEE=1"}, cmd: "AT+CFUN=7", final: "+CME ERROR: 50"},
		{name: "COPS name", cmd: "AT+COPS?", info: []string{`+COPS: 0,0,"SimNet",7`}, final: "OK"},
		{name: "COPS scan", cmd: "AT+COPS=?", info: []string{`+COPS: (2,"SimNet","SimNet","26201",7),,(0-4),(0-2)`}, final: "OK"},
		{name: "COPS=2 deregisters", setup: []string{"AT+COPS=2"}, cmd: "AT+COPS?", info: []string{"+COPS: 2"}, final: "OK"},
		{name: "COPS manual home", setup: []string{`AT+COPS=1,2,"26201"`}, cmd: "AT+COPS?", info: []string{`+COPS: 1,2,"26201",7`}, final: "OK"},
		{name: "COPS manual unknown", setup: []string{"AT+CMEE=1"}, cmd: `AT+COPS=1,2,"99999"`, final: "+CME ERROR: 30"},
		{name: "CESQ", cmd: "AT+CESQ", info: []string{"+CESQ: 99,99,255,255,20,50"}, final: "OK"},
		{name: "CEREG=1 read", setup: []string{"AT+CEREG=1"}, cmd: "AT+CEREG?", info: []string{"+CEREG: 1,1"}, final: "OK"},
		{name: "CEREG bad mode", setup: []string{"AT+CMEE=1"}, cmd: "AT+CEREG=7", final: "+CME ERROR: 50"},
		{name: "CGDCONT stored", setup: []string{`AT+CGDCONT=1,"IP","internet"`, `AT+CGDCONT=3,"ipv4v6","ims"`}, cmd: "AT+CGDCONT?",
			info: []string{`+CGDCONT: 1,"IP","internet","0.0.0.0",0,0`, `+CGDCONT: 3,"IPV4V6","ims","0.0.0.0",0,0`}, final: "OK"},
		{name: "CGDCONT delete", setup: []string{`AT+CGDCONT=1,"IP","internet"`, "AT+CGDCONT=1"}, cmd: "AT+CGDCONT?", final: "OK"},
		{name: "CGDCONT bad cid", setup: []string{"AT+CMEE=1"}, cmd: `AT+CGDCONT=17,"IP","x"`, final: "+CME ERROR: 50"},
		{name: "CGACT", setup: []string{`AT+CGDCONT=1,"IP","internet"`, "AT+CGACT=1,1"}, cmd: "AT+CGACT?", info: []string{"+CGACT: 1,1"}, final: "OK"},
		{name: "CGPADDR", setup: []string{`AT+CGDCONT=1,"IP","internet"`, "AT+CGACT=1,1"}, cmd: "AT+CGPADDR=1", info: []string{`+CGPADDR: 1,"10.64.1.2"`}, final: "OK"},
		{name: "CGACT undefined", setup: []string{"AT+CMEE=1"}, cmd: "AT+CGACT=1,2", final: "+CME ERROR: 50"},
		{name: "CGACT unregistered", noProfile: true, setup: []string{"AT+CMEE=1", `AT+CGDCONT=1,"IP","internet"`}, cmd: "AT+CGACT=1,1", final: "+CME ERROR: 30"},
		{name: "CFUN=4 deactivates", setup: []string{`AT+CGDCONT=1,"IP","internet"`, "AT+CGACT=1,1", "AT+CFUN=4"}, cmd: "AT+CGACT?", info: []string{"+CGACT: 1,0"}, final: "OK"},
		{name: "CGATT", cmd: "AT+CGATT?", info: []string{"+CGATT: 1"}, final: "OK"},
		{name: "WS46 read", cmd: "AT+WS46?", info: []string{"+WS46: 25"}, final: "OK"},
		{name: "chained", cmd: "AT+CMEE=1;+CREG=2;+CREG?", info: []string{`+CREG: 2,1,"1A2B","01A2B3C4",7`}, final: "OK"},
		{name: "chained stops at error", cmd: "AT+CGMI;+FOO;+CGMM", info: []string{"Mobileplans"}, final: "ERROR"},
		{name: "basic commands concatenated", cmd: "ATE0V1X4&C1", final: "OK"},
		{name: "basic then extended", cmd: "ATE0;+CGMM", info: []string{"SimModem 1000"}, final: "OK"},
		{name: "unknown", cmd: "AT+FOO", final: "ERROR"},
		{name: "unknown with CMEE=1 is ERROR", setup: []string{"AT+CMEE=1"}, cmd: "AT+FOO?", final: "ERROR"},
		{name: "syntax error", cmd: "AT+CGMI?X", final: "ERROR"},
		{name: "unterminated quote", cmd: `AT+CSCS="UCS2`, final: "ERROR"},
		{name: "CMEE read", setup: []string{"AT+CMEE=2"}, cmd: "AT+CMEE?", info: []string{"+CMEE: 2"}, final: "OK"},
		{name: "ATZ restores defaults", setup: []string{"AT+CMEE=2", "ATZ"}, cmd: "AT+CMEE?", info: []string{"+CMEE: 0"}, final: "OK"},
		{name: "S register read", cmd: "ATS3?", info: []string{"013"}, final: "OK"},
		{name: "S register write", setup: []string{"ATS0=5"}, cmd: "ATS0?", info: []string{"005"}, final: "OK"},
		{name: "ATI1", cmd: "ATI1", info: []string{"Revision: 1.0.0"}, final: "OK"},
		{name: "CLCK unlock refused", setup: []string{"AT+CMEE=1"}, cmd: `AT+CLCK="SC",0,"1234"`, final: "+CME ERROR: 3"},
		{name: "CMGF read", setup: []string{"AT+CMGF=1"}, cmd: "AT+CMGF?", info: []string{"+CMGF: 1"}, final: "OK"},
		{name: "CPMS bad storage", cmd: `AT+CPMS="XX"`, final: "ERROR"},
		{name: "CCHO test", cmd: "AT+CCHO=?", final: "OK"},
		{name: "dial refused", cmd: "ATD*99#", final: "ERROR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			card := newFakeCard(profileA())
			if tc.profile != nil {
				card = newFakeCard(tc.profile())
			}
			if tc.noProfile {
				card = newFakeCard()
			}
			_, c := startModem(t, card, Options{})
			for _, s := range tc.setup {
				c.mustOK(s)
			}
			info, final := c.cmd(tc.cmd)
			if final != tc.final || !slices.Equal(info, tc.info) && len(info)+len(tc.info) > 0 {
				t.Errorf("%s: %q %s, want %q %s", tc.cmd, info, final, tc.info, tc.final)
			}
		})
	}
}

// TestNumericResultCodes checks ATV0 framing: "<text>\r\n" information and
// "<code>\r" results.
func TestNumericResultCodes(t *testing.T) {
	_, c := startModem(t, newFakeCard(), Options{})
	c.numeric = true
	if _, final := c.cmd("ATV0"); final != "0" {
		t.Fatalf("ATV0: %q", final)
	}
	if info, final := c.cmd("AT+CGMI"); final != "0" || !slices.Equal(info, []string{"Mobileplans"}) {
		t.Errorf("AT+CGMI: %q %q", info, final)
	}
	if _, final := c.cmd("AT+FOO"); final != "4" {
		t.Errorf("AT+FOO: %q", final)
	}
	if _, final := c.cmd("AT+CMEE=1"); final != "0" {
		t.Fatalf("AT+CMEE=1: %q", final)
	}
	if _, final := c.cmd("AT+CIMI"); final != "+CME ERROR: 10" {
		t.Errorf("AT+CIMI: %q", final)
	}
}

func TestFraming(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*port)
		r     reply
		want  string
	}{
		{"ok", nil, ok("+CSQ: 20,99"), "\r\n+CSQ: 20,99\r\n\r\nOK\r\n"},
		{"error", nil, errorReply(), "\r\nERROR\r\n"},
		{"cme 0", nil, cme(10), "\r\nERROR\r\n"},
		{"cme 1", func(p *port) { p.cmee = 1 }, cme(10), "\r\n+CME ERROR: 10\r\n"},
		{"cme 2", func(p *port) { p.cmee = 2 }, cme(21), "\r\n+CME ERROR: invalid index\r\n"},
		{"v0 ok", func(p *port) { p.verbose = false }, ok("x"), "x\r\n0\r"},
		{"v0 error", func(p *port) { p.verbose = false }, errorReply(), "4\r"},
		{"v0 cme", func(p *port) { p.verbose, p.cmee = false, 1 }, cme(50), "+CME ERROR: 50\r\n"},
		{"quiet", func(p *port) { p.quiet = true }, ok("x"), "\r\nx\r\n"},
	}
	for _, tc := range tests {
		p := newPort()
		if tc.setup != nil {
			tc.setup(p)
		}
		got, _ := p.frame(tc.r)
		if string(got) != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		in   string
		want []command
		err  bool
	}{
		{in: "", want: []command{{}}},
		{in: "E0V1", want: []command{{name: "E", arg: "0"}, {name: "V", arg: "1"}}},
		{in: "&F", want: []command{{name: "&F"}}},
		{in: "S0=5", want: []command{{name: "S0", op: opSet, arg: "5"}}},
		{in: "+CMEE=1;+CREG=2", want: []command{{name: "+CMEE", op: opSet, arg: "1"}, {name: "+CREG", op: opSet, arg: "2"}}},
		{in: `+CCHO="A0;00"`, want: []command{{name: "+CCHO", op: opSet, arg: `"A0;00"`}}},
		{in: "+cfun?", want: []command{{name: "+CFUN", op: opRead}}},
		{in: "+CFUN=?", want: []command{{name: "+CFUN", op: opTest}}},
		{in: "%IPSYS?", want: []command{{name: "%IPSYS", op: opRead}}},
		{in: "+CGMI?X", err: true},
		{in: "+", err: true},
		{in: "&", err: true},
		{in: "S", err: true},
		{in: "1", err: true},
		{in: `+CSCS="IRA`, err: true},
	}
	for _, tc := range tests {
		got, err := parseLine(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("parseLine(%q) error %v", tc.in, err)
			continue
		}
		if !tc.err && !slices.Equal(got, tc.want) {
			t.Errorf("parseLine(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestLineBuffer(t *testing.T) {
	var lb lineBuffer
	got := lb.feed([]byte("AT\r\nAT+CG"))
	got = append(got, lb.feed([]byte("MI\r"))...)
	if len(got) != 2 || got[0].text != "AT" || got[1].text != "AT+CGMI" {
		t.Errorf("lines %+v", got)
	}
	if got := lb.feed([]byte{0x7E, 0x00, 0x78, 0xF0, 0x7E}); len(got) != 0 || lb.takeDropped() != 5 {
		t.Errorf("QCDM frame not dropped: %+v", got)
	}
	long := append([]byte("AT+CSIM="+strings.Repeat("0", maxLine)), '\r')
	got = lb.feed(long)
	if len(got) != 1 || !got[0].tooLong {
		t.Errorf("overlong line: %+v", got)
	}
	if got := lb.feed([]byte("AT\r")); len(got) != 1 || got[0].text != "AT" {
		t.Errorf("after an overlong line: %+v", got)
	}
}

func TestLongLineAnswersError(t *testing.T) {
	_, c := startModem(t, newFakeCard(), Options{})
	c.mustOK("ATE0")
	c.send("AT+CSIM=" + strings.Repeat("0", maxLine+10))
	if l := c.next(); l != "ERROR" {
		t.Errorf("overlong line: %q", l)
	}
	c.mustOK("AT")
}

func TestLuhn(t *testing.T) {
	for s, want := range map[string]bool{
		DefaultIMEI:       true,
		"490154203237519": false,
		"49015420323751":  false,
		"49015420323751x": false,
	} {
		if luhnValid(s) != want {
			t.Errorf("luhnValid(%q) = %v", s, !want)
		}
	}
}
