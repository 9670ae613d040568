package at

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestParseCGSN(t *testing.T) {
	tests := []struct {
		lines []string
		want  string
		ok    bool
	}{
		{[]string{"352906110123456"}, "352906110123456", true},
		{[]string{`+CGSN: "490154203237518"`}, "490154203237518", true},
		{[]string{"+CGSN: 490154203237518"}, "490154203237518", true},
		{[]string{"IMEI follows", "3529061101234567"}, "3529061101234567", true},
		{[]string{"A1000049ABCDEF"}, "A1000049ABCDEF", true}, // MEID
		{[]string{"Quectel"}, "", false},
		{[]string{"1234"}, "", false},
		{nil, "", false},
	}
	for _, tc := range tests {
		got, err := ParseCGSN(tc.lines)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseCGSN(%q) = %q, %v", tc.lines, got, err)
		}
	}
}

func TestParseCIMI(t *testing.T) {
	tests := []struct {
		lines []string
		want  string
		ok    bool
	}{
		{[]string{"001010123456789"}, "001010123456789", true},
		{[]string{"+CIMI: 310260000000000"}, "310260000000000", true},
		{[]string{"0010101234567890"}, "", false},
		{[]string{"00101X"}, "", false},
		{nil, "", false},
	}
	for _, tc := range tests {
		got, err := ParseCIMI(tc.lines)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseCIMI(%q) = %q, %v", tc.lines, got, err)
		}
	}
}

func TestParseICCIDLine(t *testing.T) {
	tests := []struct {
		line, want string
		ok         bool
	}{
		{"+CCID: 89014103211118510720", "89014103211118510720", true},
		{"+ICCID: 8910390000012345678F", "8910390000012345678", true},
		{`+QCCID: "8944110068256270054f"`, "8944110068256270054", true},
		{"#CCID: 89390100001234567890", "89390100001234567890", true},
		{"89860318640220133897", "89860318640220133897", true},
		{"+CCID: 8901410321111851072A", "", false},
		{"+CCID: ", "", false},
		{"+CCID: 891234567890123456789012", "", false},
		{"OK", "", false},
	}
	for _, tc := range tests {
		got, err := ParseICCIDLine(tc.line)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseICCIDLine(%q) = %q, %v", tc.line, got, err)
		}
	}
}

func TestParseCRSMICCID(t *testing.T) {
	tests := []struct {
		line, want string
		ok         bool
	}{
		{`+CRSM: 144,0,"98101032547698103214"`, "89010123456789012341", true},
		{`+CRSM: 144,0,"981032547698103214F0"`, "8901234567890123410", true}, // 19 digits, F filler
		{`+CRSM: 144,0,"9810325476981032F4"`, "89012345678901234", true},
		{`+CRSM: 144,0,"98103254769810F21430"`, "", false}, // F in the middle
		{`+CRSM: 148,4,""`, "", false},
		{`+CRSM: 144,0,"981"`, "", false},
		{`+CRSM: 144,0,"98ZZ"`, "", false},
		{`+CRSM: 144,0`, "", false},
		{`+CRSM: x,0,"98"`, "", false},
		{`+CPIN: READY`, "", false},
	}
	for _, tc := range tests {
		got, err := ParseCRSMICCID(tc.line)
		if !tc.ok {
			if err == nil {
				t.Errorf("ParseCRSMICCID(%q) = %q, want an error", tc.line, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseCRSMICCID(%q) = %q, %v; want %q", tc.line, got, err, tc.want)
		}
	}
}

func TestParseCPIN(t *testing.T) {
	tests := []struct {
		line, want string
		ok         bool
	}{
		{"+CPIN: READY", "READY", true},
		{"+CPIN: SIM PIN", "SIM PIN", true},
		{`+CPIN: "NOT READY"`, "NOT READY", true},
		{"+CPIN:", "", false},
		{"+CSQ: 1,2", "", false},
	}
	for _, tc := range tests {
		got, err := ParseCPIN(tc.line)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseCPIN(%q) = %q, %v", tc.line, got, err)
		}
	}
}

func TestParseCOPS(t *testing.T) {
	type res struct {
		mode, format int
		oper         string
		act          int
	}
	tests := []struct {
		line string
		want res
		ok   bool
	}{
		{`+COPS: 0,2,"00101",7`, res{0, 2, "00101", 7}, true},
		{`+COPS: 0,0,"AT&T, Inc",2`, res{0, 0, "AT&T, Inc", 2}, true},
		{`+COPS: 1,2,"310260"`, res{1, 2, "310260", -1}, true},
		{`+COPS: 0`, res{0, -1, "", -1}, true},
		{`+COPS: 2,,,`, res{2, -1, "", -1}, true},
		{`+COPS: x`, res{}, false},
		{`+COPS: 0,a,"1",7`, res{}, false},
		{`+COPS: 0,2,"1",z`, res{}, false},
		{`+CSQ: 0`, res{}, false},
	}
	for _, tc := range tests {
		m, f, o, a, err := ParseCOPS(tc.line)
		if (err == nil) != tc.ok || (tc.ok && (res{m, f, o, a}) != tc.want) {
			t.Errorf("ParseCOPS(%q) = %v %v %q %v, %v", tc.line, m, f, o, a, err)
		}
	}
}

func TestParseCSQ(t *testing.T) {
	tests := []struct {
		line      string
		rssi, ber int
		ok        bool
		dbm       int
		valid     bool
	}{
		{"+CSQ: 20,99", 20, 99, true, -73, true},
		{"+CSQ: 31,0", 31, 0, true, -51, true},
		{"+CSQ: 0,0", 0, 0, true, -113, true},
		{"+CSQ: 99,99", 99, 99, true, 0, false},
		{"+CSQ: 20", 0, 0, false, 0, false},
		{"+CSQ: a,b", 0, 0, false, 0, false},
	}
	for _, tc := range tests {
		r, b, err := ParseCSQ(tc.line)
		if (err == nil) != tc.ok || r != tc.rssi || b != tc.ber {
			t.Errorf("ParseCSQ(%q) = %d %d %v", tc.line, r, b, err)
			continue
		}
		if !tc.ok {
			continue
		}
		if d, v := CSQToDBm(r); d != tc.dbm || v != tc.valid {
			t.Errorf("CSQToDBm(%d) = %d %v", r, d, v)
		}
	}
}

func TestParseCREG(t *testing.T) {
	type res struct {
		n, stat int
		lac, ci string
		act     int
	}
	tests := []struct {
		line string
		want res
		ok   bool
	}{
		// read-command forms
		{"+CREG: 0,1", res{0, 1, "", "", -1}, true},
		{`+CREG: 2,5,"1A2B","00C0FFEE",2`, res{2, 5, "1A2B", "00C0FFEE", 2}, true},
		{`+CEREG: 2,1,"00C3","0012AB34",7`, res{2, 1, "00C3", "0012AB34", 7}, true},
		{`+CGREG: 2,1,"1A2B","00C0FFEE",2,"01"`, res{2, 1, "1A2B", "00C0FFEE", 2}, true},
		{`+C5GREG: 2,1,"000001","0000000001",11,0,""`, res{2, 1, "000001", "0000000001", 11}, true},
		{`+CEREG: 3,3,"00C3","0012AB34",7,0,15`, res{3, 3, "00C3", "0012AB34", 7}, true},
		// unsolicited forms
		{"+CEREG: 1", res{-1, 1, "", "", -1}, true},
		{`+CEREG: 5,"00C3","0012AB34",7`, res{-1, 5, "00C3", "0012AB34", 7}, true},
		{`+CREG: 1,"1A2B","00C0FFEE"`, res{-1, 1, "1A2B", "00C0FFEE", -1}, true},
		{`+CEREG: 1,,,7`, res{-1, 1, "", "", 7}, true},
		{`+CREG: 1,1234,BEEF,2`, res{-1, 1, "1234", "BEEF", 2}, true}, // unquoted lac
		// errors
		{"+CEREG: x", res{}, false},
		{"+CEREG: 2,1,\"a\",\"b\",q", res{}, false},
		{"+COPS: 0", res{}, false},
	}
	for _, tc := range tests {
		n, s, l, c, a, err := ParseCREG(tc.line)
		if (err == nil) != tc.ok || (tc.ok && (res{n, s, l, c, a}) != tc.want) {
			t.Errorf("ParseCREG(%q) = %v %v %q %q %v, %v", tc.line, n, s, l, c, a, err)
		}
	}
}

func TestParseCCHO(t *testing.T) {
	tests := []struct {
		lines []string
		want  int
		ok    bool
	}{
		{[]string{"1"}, 1, true},
		{[]string{"+CCHO: 2"}, 2, true},
		{[]string{`+CCHO: "3"`}, 3, true},
		{[]string{"+CCHO:   1996082401"}, 0, false}, // 10 digits
		{[]string{"+CCHO: 123456789"}, 123456789, true},
		{[]string{"+CCHO: -1"}, 0, false},
		{[]string{"channel"}, 0, false},
		{nil, 0, false},
	}
	for _, tc := range tests {
		got, err := ParseCCHO(tc.lines)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseCCHO(%q) = %d, %v", tc.lines, got, err)
		}
	}
}

func TestParseCGLAAndCSIM(t *testing.T) {
	tests := []struct {
		line string
		want []byte
		ok   bool
	}{
		{`+CGLA: 4,"6145"`, []byte{0x61, 0x45}, true},
		{`+CGLA: 10,BF20009000`, []byte{0xBF, 0x20, 0x00, 0x90, 0x00}, true},
		{`+CGLA: 10,"bf20009000"`, []byte{0xBF, 0x20, 0x00, 0x90, 0x00}, true},
		{`+CGLA: 6,"6145"`, nil, false},
		{`+CGLA: 2,"90"`, nil, false},
		{`+CGLA: 4,"61ZZ"`, nil, false},
		{`+CGLA: "6145"`, nil, false},
		{`+CGLA: x,"6145"`, nil, false},
		{`+CSIM: 4,"9000"`, nil, false},
	}
	for _, tc := range tests {
		got, err := ParseCGLA(tc.line)
		if (err == nil) != tc.ok || !bytes.Equal(got, tc.want) {
			t.Errorf("ParseCGLA(%q) = %X, %v", tc.line, got, err)
		}
		csim := strings.Replace(tc.line, "+CGLA:", "+CSIM:", 1)
		if strings.HasPrefix(tc.line, "+CSIM:") {
			csim = "+CGLA:" + tc.line[len("+CSIM:"):]
		}
		got, err = ParseCSIM(csim)
		if (err == nil) != tc.ok || !bytes.Equal(got, tc.want) {
			t.Errorf("ParseCSIM(%q) = %X, %v", csim, got, err)
		}
	}
}

func TestCmdNameAndPrefix(t *testing.T) {
	tests := []struct{ cmd, name, prefix string }{
		{`AT+CGLA=1,16,"81E2910003BF2000"`, "AT+CGLA", "+CGLA"},
		{"AT+CEREG?", "AT+CEREG", "+CEREG"},
		{"AT+CEREG=?", "AT+CEREG", "+CEREG"},
		{"ATE0", "ATE0", ""},
		{"AT#CCID", "AT#CCID", "#CCID"},
		{"at+cgmi", "at+cgmi", "+CGMI"},
		{"AT", "AT", ""},
		{"AT+", "AT+", ""},
	}
	for _, tc := range tests {
		if got := cmdName(tc.cmd); got != tc.name {
			t.Errorf("cmdName(%q) = %q", tc.cmd, got)
		}
		if got := respPrefix(tc.cmd); got != tc.prefix {
			t.Errorf("respPrefix(%q) = %q", tc.cmd, got)
		}
	}
}

func TestLineClassification(t *testing.T) {
	tests := []struct {
		cmd, line string
		urc       bool
	}{
		{"AT+CEREG?", `+CEREG: 2,1,"00C3","0012AB34",7`, false},
		{"AT+CEREG?", "+CEREG: 0,1", false},
		{"AT+CEREG?", `+CEREG: 1,"00C3","0012AB34",7`, true},
		{"AT+CEREG?", "+CEREG: 1", true},
		{"AT+CEREG?", `+CREG: 0,1`, true},
		{"AT+CEREG=?", "+CEREG: (0-5)", false},
		{"AT+CEREG=2", "+CEREG: 1", true},
		{"AT+CPIN?", "+CPIN: READY", false},
		{`AT+CPIN="1234"`, "+CPIN: READY", true},
		{"AT+CGMI", "+CPIN: READY", true},
		{"AT+CGMI", "Quectel", false},
		{"AT+CGMI", "RING", true},
		{"AT+CGMI", "^RSSI: 12", true},
		{"AT+CGMI", "+QSIMSTAT: 0,1", true},
		{"AT+CGMI", "+CGEV: ME PDN ACT 1", true},
		{"AT+CUSD=1,\"*100#\",15", "+CUSD: 0,\"Balance 5\",15", true},
		{"AT+CGLA=1,4,\"0000\"", `+CGLA: 4,"9000"`, false},
		{"AT^SYSINFO", "^SYSINFO: 2,3,0,5,1", false},
	}
	for _, tc := range tests {
		if got := newCall(tc.cmd).isURC(tc.line); got != tc.urc {
			t.Errorf("during %q, %q: urc=%v want %v", tc.cmd, tc.line, got, tc.urc)
		}
	}
}

func TestCMEErrorNames(t *testing.T) {
	tests := []struct {
		text string
		code int
		name string
	}{
		{"10", 10, "SIM not inserted"},
		{"3", 3, "operation not allowed"},
		{"21", 21, "invalid index"},
		{"50", 50, "incorrect parameters"},
		{"100", 100, "unknown"},
		{"9999", 9999, "vendor-specific"},
		{"SIM busy", 14, "SIM busy"},
		{"sim not inserted", 10, "sim not inserted"},
		{"Network not allowed, emergency calls only", 32, "Network not allowed, emergency calls only"},
		{"", -1, ""},
		{"whatever", -1, "whatever"},
	}
	for _, tc := range tests {
		e := parseCME("AT+X", tc.text)
		if e.Code != tc.code || e.Text != tc.name || e.Command != "AT+X" {
			t.Errorf("parseCME(%q) = %+v", tc.text, e)
		}
	}
}

func TestLineSplitter(t *testing.T) {
	type ev struct {
		line    string
		garbage int
	}
	tests := []struct {
		name string
		in   string
		max  int
		want []ev
	}{
		{"crlf", "\r\nOK\r\n", 64, []ev{{"OK", 0}}},
		{"lf and cr", "a\nb\rc\r\r\nd\n", 64, []ev{{"a", 0}, {"b", 0}, {"c", 0}, {"d", 0}}},
		{"no terminator yet", "OK", 64, nil},
		{"garbage inside", "O\x00K\xff\r\n", 64, []ev{{"OK", 2}}},
		{"garbage only", "\x00\x01\x02\r\n", 64, []ev{{"", 3}}},
		{"utf-8 kept", "Tél\u00e9com\r\n", 64, []ev{{"Tél\u00e9com", 0}}},
		{"tab and blanks", " \tOK \r\n", 64, []ev{{"OK", 0}}},
		{"blank only", "   \r\n", 64, nil},
		{"too long", "123456789\r\nOK\r\n", 4, []ev{{"", 9}, {"OK", 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []ev
			sp := newLineSplitter(tc.max)
			sp.feed([]byte(tc.in), func(l string, g int) { got = append(got, ev{l, g}) })
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func FuzzParseLines(f *testing.F) {
	for _, s := range []string{
		"352906110123456", `+CGSN: "490154203237518"`, "+CCID: 89014103211118510720",
		`+CRSM: 144,0,"98101032547698103214"`, "+CPIN: READY", `+COPS: 0,2,"00101",7`,
		"+CSQ: 20,99", `+CEREG: 2,1,"00C3","0012AB34",7`, `+CEREG: 5,"00C3","0012AB34",7`,
		"+CCHO: 1", `+CGLA: 4,"6145"`, `+CSIM: 6,"019000"`, "+CME ERROR: SIM busy", `"`, ",,,", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lines := strings.Split(s, "\n")
		ParseCGSN(lines)
		ParseCIMI(lines)
		ParseICCIDLine(s)
		ParseCRSMICCID(s)
		ParseCPIN(s)
		ParseCOPS(s)
		ParseCSQ(s)
		n, stat, _, _, _, err := ParseCREG(s)
		if err == nil && n < -1 {
			t.Fatalf("ParseCREG(%q) n=%d stat=%d", s, n, stat)
		}
		if id, err := ParseCCHO(lines); err == nil && id < 0 {
			t.Fatalf("ParseCCHO(%q) = %d", s, id)
		}
		if b, err := ParseCGLA(s); err == nil && len(b) < 2 {
			t.Fatalf("ParseCGLA(%q) = %X", s, b)
		}
		ParseCSIM(s)
		parseCME("AT", s)
		newCall(s).isURC(s)
		cmdName(s)
	})
}

func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"\r\nOK\r\n", "AT\r\r\nQuectel\r\n\r\nOK\r\n", "\x00\xff\r\n+CME ERROR: 10\r\n",
		"\r\n+CEREG: 1\r\nRING\n\n\r", "Tél\u00e9com\r\n",
	} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, b []byte, chunk uint8) {
		collect := func(feed func(*lineSplitter, func(string, int))) []string {
			var out []string
			sp := newLineSplitter(64)
			feed(sp, func(l string, g int) {
				if g < 0 {
					t.Fatalf("negative garbage count")
				}
				if strings.ContainsAny(l, "\r\n\x00") {
					t.Fatalf("line %q contains a control byte", l)
				}
				if l != strings.TrimSpace(l) {
					t.Fatalf("line %q not trimmed", l)
				}
				out = append(out, l)
			})
			return out
		}
		whole := collect(func(sp *lineSplitter, emit func(string, int)) { sp.feed(b, emit) })
		n := int(chunk%16) + 1
		chunked := collect(func(sp *lineSplitter, emit func(string, int)) {
			for i := 0; i < len(b); i += n {
				sp.feed(b[i:min(i+n, len(b))], emit)
			}
		})
		if !reflect.DeepEqual(whole, chunked) {
			t.Fatalf("chunking by %d changed the lines: %q vs %q", n, whole, chunked)
		}
	})
}
