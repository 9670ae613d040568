//go:build unix

package at

import (
	"context"
	"encoding/hex"
	"errors"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/internal/syncbuf"
	"github.com/mobileplans/mobileplans/modem"
)

func TestInitSequence(t *testing.T) {
	tests := []struct {
		name   string
		script map[string][]string
		want   []string
	}{
		{"plain", nil, []string{"AT", "ATE0", "AT+CMEE=1"}},
		{"AT retried", map[string][]string{"AT": {final("ERROR"), ok()}}, []string{"AT", "AT", "ATE0", "AT+CMEE=1"}},
		{"CMEE refused", map[string][]string{"AT+CMEE=1": {final("ERROR")}}, []string{"AT", "ATE0", "AT+CMEE=1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, f := startModem(t, Config{}, tc.script, false)
			if got := f.commands(); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("init sent %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOpenFailsWhenModemNeverSaysOK(t *testing.T) {
	master, slave, err := openPTY(t)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	f := &fakeModem{master: master, script: map[string][]string{"AT": {final("ERROR")}}, seen: make(chan string, 16), done: make(chan struct{})}
	go f.run()
	_, err = Open(testCtx(t), Config{Device: slave.Name()})
	slave.Close()
	if !errors.Is(err, ErrError) {
		t.Fatalf("Open = %v, want ErrError", err)
	}
	f.stop(t)
	if n := len(f.commands()); n != 4 {
		t.Fatalf("AT sent %d times, want 4", n)
	}
}

func TestOpenBadConfig(t *testing.T) {
	if _, err := Open(context.Background(), Config{}); err == nil {
		t.Fatal("Open without a device succeeded")
	}
	if _, err := Open(context.Background(), Config{Device: "/nonexistent/tty"}); err == nil {
		t.Fatal("Open of a missing device succeeded")
	}
	master, slave, err := openPTY(t)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer master.Close()
	defer slave.Close()
	if _, err := Open(context.Background(), Config{Device: slave.Name(), Transport: "smoke-signals"}); err == nil ||
		!strings.Contains(err.Error(), "unknown transport") {
		t.Fatalf("bad transport: %v", err)
	}
}

func TestInfo(t *testing.T) {
	common := map[string][]string{
		"AT+CGMI":  {ok("Quectel")},
		"AT+CGMM":  {ok("EG25")},
		"AT+CGMR":  {ok("Revision: EG25GGBR07A08M2G")},
		"AT+CGSN":  {ok("352906110123456")},
		"AT+CPIN?": {ok("+CPIN: READY")},
		"AT+CIMI":  {ok("001010123456789")},
	}
	tests := []struct {
		name  string
		extra map[string][]string
		want  modem.Info
	}{
		{
			name:  "quectel QCCID",
			extra: map[string][]string{"AT+QCCID": {ok("+QCCID: 8910390000012345678F")}},
			want: modem.Info{Manufacturer: "Quectel", Model: "EG25", Revision: "Revision: EG25GGBR07A08M2G",
				IMEI: "352906110123456", SIMState: "READY", ICCID: "8910390000012345678", IMSI: "001010123456789"},
		},
		{
			name: "CCID and prefixed identity",
			extra: map[string][]string{
				"AT+CGMI": {ok("+CGMI: \"Sierra Wireless\"")},
				"AT+CCID": {ok("+CCID: 89014103211118510720")},
			},
			want: modem.Info{Manufacturer: "Sierra Wireless", Model: "EG25", Revision: "Revision: EG25GGBR07A08M2G",
				IMEI: "352906110123456", SIMState: "READY", ICCID: "89014103211118510720", IMSI: "001010123456789"},
		},
		{
			name: "CRSM ICCID, CGSN=1, PIN needed, no IMSI",
			extra: map[string][]string{
				"AT+CGSN":                  {final("ERROR")},
				"AT+CGSN=1":                {ok(`+CGSN: "490154203237518"`)},
				"AT+CPIN?":                 {ok("+CPIN: SIM PIN")},
				"AT+CRSM=176,12258,0,0,10": {ok(`+CRSM: 144,0,"98101032547698103214"`)},
				"AT+CIMI":                  {final("+CME ERROR: 11")},
			},
			want: modem.Info{Manufacturer: "Quectel", Model: "EG25", Revision: "Revision: EG25GGBR07A08M2G",
				IMEI: "490154203237518", SIMState: "SIM PIN", ICCID: "89010123456789012341"},
		},
		{
			name: "no SIM",
			extra: map[string][]string{
				"AT+CPIN?":                 {final("+CME ERROR: 10")},
				"AT+CRSM=176,12258,0,0,10": {final("+CME ERROR: 10")},
				"AT+CIMI":                  {final("+CME ERROR: 10")},
			},
			want: modem.Info{Manufacturer: "Quectel", Model: "EG25", Revision: "Revision: EG25GGBR07A08M2G",
				IMEI: "352906110123456", SIMState: "NOT INSERTED"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := map[string][]string{}
			for k, v := range common {
				s[k] = v
			}
			for k, v := range tc.extra {
				s[k] = v
			}
			m, _ := startModem(t, Config{}, s, false)
			got, err := m.Info(testCtx(t))
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			want.Port, want.Backend = m.cfg.Device, "at"
			if got != want {
				t.Fatalf("Info:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestInfoTimeoutIsAnError(t *testing.T) {
	m, _ := startModem(t, Config{CommandTimeout: 200 * time.Millisecond}, map[string][]string{
		"AT+CGMI": {ok("Quectel")},
		"AT+CGMM": {silent},
	}, false)
	if _, err := m.Info(testCtx(t)); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Info = %v, want ErrTimeout", err)
	}
}

func TestRegistration(t *testing.T) {
	cops := map[string][]string{
		"AT+COPS=3,2": {ok()},
		"AT+COPS=3,0": {ok()},
		// the fake answers each COPS? in turn: numeric, then long name
		"AT+COPS?": {ok(`+COPS: 0,2,"00101",7`), ok(`+COPS: 0,0,"Contoso Cellular",7`)},
	}
	tests := []struct {
		name  string
		extra map[string][]string
		want  modem.Registration
	}{
		{
			name: "LTE home",
			extra: map[string][]string{
				"AT+CEREG?": {ok(`+CEREG: 2,1,"00C3","0012AB34",7`)},
				"AT+CSQ":    {ok("+CSQ: 20,99")},
			},
			want: modem.Registration{State: modem.RegHome, StateName: "home", OperatorCode: "00101",
				OperatorName: "Contoso Cellular", AccessTech: "eutran", SignalDBm: -73, SignalValid: true},
		},
		{
			name: "CEREG refused, CREG roaming, signal unknown",
			extra: map[string][]string{
				"AT+CEREG?": {final("ERROR")},
				"AT+CREG?":  {ok("+CREG: 0,5")},
				"AT+CSQ":    {ok("+CSQ: 99,99")},
			},
			want: modem.Registration{State: modem.RegRoaming, StateName: "roaming", OperatorCode: "00101",
				OperatorName: "Contoso Cellular", AccessTech: "eutran"},
		},
		{
			name: "searching, no operator",
			extra: map[string][]string{
				"AT+COPS?":  {ok("+COPS: 0")},
				"AT+CEREG?": {ok("+CEREG: 0,2")},
				"AT+CREG?":  {ok("+CREG: 0,0")},
				"AT+CSQ":    {ok("+CSQ: 0,99")},
			},
			want: modem.Registration{State: modem.RegSearching, StateName: "searching", SignalDBm: -113, SignalValid: true},
		},
		{
			name: "UMTS via CREG when LTE is not registered",
			extra: map[string][]string{
				"AT+COPS?":  {ok(`+COPS: 0,2,"23415"`), ok(`+COPS: 0,0,"Vodafone UK"`)},
				"AT+CEREG?": {ok("+CEREG: 0,4")},
				"AT+CREG?":  {ok(`+CREG: 2,1,"1A2B","00C0FFEE",2`)},
				"AT+CSQ":    {final("ERROR")},
			},
			want: modem.Registration{State: modem.RegHome, StateName: "home", OperatorCode: "23415",
				OperatorName: "Vodafone UK", AccessTech: "utran"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := map[string][]string{}
			for k, v := range cops {
				s[k] = v
			}
			for k, v := range tc.extra {
				s[k] = v
			}
			m, _ := startModem(t, Config{}, s, false)
			got, err := m.Registration(testCtx(t))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("Registration:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestFinalResultErrors(t *testing.T) {
	tests := []struct {
		cmd, reply string
		check      func(error) bool
		msg        string
	}{
		{"AT+CPIN?", final("+CME ERROR: 10"), func(err error) bool {
			var e *CMEError
			return errors.As(err, &e) && e.Code == 10 && e.Text == "SIM not inserted" && e.Command == "AT+CPIN"
		}, "AT+CPIN: +CME ERROR: 10 (SIM not inserted)"},
		{"AT+CGLA=1,4,\"0000\"", final("+CME ERROR: SIM busy"), func(err error) bool {
			var e *CMEError
			return errors.As(err, &e) && e.Code == 14 && e.Text == "SIM busy" && e.Command == "AT+CGLA"
		}, "AT+CGLA: +CME ERROR: 14 (SIM busy)"},
		{"AT+XYZ", final("+CME ERROR: frobnicator jammed"), func(err error) bool {
			var e *CMEError
			return errors.As(err, &e) && e.Code == -1 && e.Text == "frobnicator jammed"
		}, "AT+XYZ: +CME ERROR: frobnicator jammed"},
		{"AT+CMGS=20", final("+CMS ERROR: 500"), func(err error) bool {
			var e *CMSError
			return errors.As(err, &e) && e.Code == 500
		}, "AT+CMGS: +CMS ERROR: 500"},
		{"AT+CSQ", final("ERROR"), func(err error) bool { return errors.Is(err, ErrError) }, "AT+CSQ: at: ERROR"},
		{"ATD123;", final("NO CARRIER"), func(err error) bool {
			var e *ResultError
			return errors.As(err, &e) && e.Result == "NO CARRIER"
		}, "ATD123;: NO CARRIER"},
	}
	script := map[string][]string{}
	for _, tc := range tests {
		script[tc.cmd] = []string{tc.reply}
	}
	m, _ := startModem(t, Config{}, script, false)
	for _, tc := range tests {
		t.Run(tc.cmd, func(t *testing.T) {
			_, err := m.Command(testCtx(t), tc.cmd)
			if err == nil || !tc.check(err) {
				t.Fatalf("error %v (%T) does not match", err, err)
			}
			if err.Error() != tc.msg {
				t.Fatalf("message %q, want %q", err.Error(), tc.msg)
			}
		})
	}
}

func TestTimeoutThenNextCommandWorks(t *testing.T) {
	trace := &syncbuf.Buffer{}
	m, f := startModem(t, Config{Trace: trace}, map[string][]string{
		"AT+HANG": {silent},
		"AT+CGMI": {ok("Quectel")},
	}, false)
	_, err := m.CommandTimeout(testCtx(t), "AT+HANG", 200*time.Millisecond)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if want := "AT+HANG: no answer within 200ms: at: timeout"; err.Error() != want {
		t.Fatalf("message %q, want %q", err.Error(), want)
	}
	// the late answer arrives while nothing is in flight
	f.send(t, "\r\nlate line\r\n\r\nOK\r\n")
	waitMatch(t, trace, regexp.MustCompile(`< late line\n\S+ < OK\n`))
	r, err := m.Command(testCtx(t), "AT+CGMI")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, Response{Lines: []string{"Quectel"}, Final: "OK"}) {
		t.Fatalf("response %+v", r)
	}
	if got := pendingURCs(m); !reflect.DeepEqual(got, []string{"late line"}) {
		t.Fatalf("URCs %q, want the late line only", got)
	}
}

func TestContextDeadline(t *testing.T) {
	m, _ := startModem(t, Config{}, map[string][]string{"AT+HANG": {silent}, "AT": {ok()}}, false)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := m.Command(ctx, "AT+HANG"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if _, err := m.Command(testCtx(t), "AT"); err != nil {
		t.Fatal(err)
	}
}

func TestEchoOn(t *testing.T) {
	// the modem ignores ATE0 and echoes every command
	m, _ := startModem(t, Config{}, map[string][]string{
		"AT+CGMI":  {ok("Quectel")},
		"AT+CPIN?": {ok("+CPIN: READY")},
	}, true)
	for _, tc := range []struct {
		cmd  string
		want []string
	}{
		{"AT+CGMI", []string{"Quectel"}},
		{"AT+CPIN?", []string{"+CPIN: READY"}},
		{"AT", nil},
	} {
		r, err := m.Command(testCtx(t), tc.cmd)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r.Lines, tc.want) {
			t.Fatalf("%s: lines %q, want %q", tc.cmd, r.Lines, tc.want)
		}
	}
}

func TestURCsInterleaved(t *testing.T) {
	m, f := startModem(t, Config{}, map[string][]string{
		"AT+CEREG?":  {"\r\n+CEREG: 5,\"00C3\",\"0012AB34\",7\r\n\r\nRING\r\n\r\n+CEREG: 2,1,\"00C3\",\"0012AB34\",7\r\n^RSSI: 12\r\n\r\nOK\r\n"},
		"AT+CGMI":    {"\r\nQuectel\r\n\r\n+CPIN: READY\r\n+CMT: ,24\r\n07911326040000F0040B911346610089F60000208062917314080CC8329BFD06\r\n\r\nOK\r\n"},
		"AT+CEREG=2": {"\r\n+CEREG: 1\r\n\r\nOK\r\n"},
	}, false)
	tests := []struct {
		cmd       string
		wantLines []string
		wantURCs  []string
	}{
		{"AT+CEREG?", []string{`+CEREG: 2,1,"00C3","0012AB34",7`},
			[]string{`+CEREG: 5,"00C3","0012AB34",7`, "RING", "^RSSI: 12"}},
		{"AT+CGMI", []string{"Quectel"},
			[]string{"+CPIN: READY", "+CMT: ,24", "07911326040000F0040B911346610089F60000208062917314080CC8329BFD06"}},
		{"AT+CEREG=2", nil, []string{"+CEREG: 1"}},
	}
	for _, tc := range tests {
		r, err := m.Command(testCtx(t), tc.cmd)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r.Lines, tc.wantLines) {
			t.Fatalf("%s: lines %q, want %q", tc.cmd, r.Lines, tc.wantLines)
		}
		if got := pendingURCs(m); !reflect.DeepEqual(got, tc.wantURCs) {
			t.Fatalf("%s: URCs %q, want %q", tc.cmd, got, tc.wantURCs)
		}
	}
	// and with no command in flight
	f.send(t, "\r\n+CMTI: \"SM\",3\r\n")
	if u := nextURC(t, m); u != `+CMTI: "SM",3` {
		t.Fatalf("URC %q", u)
	}
}

func TestURCOverflowDoesNotBlock(t *testing.T) {
	m, f := startModem(t, Config{URCBuffer: 2}, map[string][]string{"AT+CGMI": {ok("Quectel")}}, false)
	f.send(t, strings.Repeat("\r\nRING\r\n", 5))
	r, err := m.Command(testCtx(t), "AT+CGMI")
	if err != nil || len(r.Lines) != 1 {
		t.Fatalf("%+v %v", r, err)
	}
	if got := len(pendingURCs(m)); got != 2 {
		t.Fatalf("%d URCs kept, want 2", got)
	}
	if d := m.DroppedURCs(); d != 3 {
		t.Fatalf("dropped %d, want 3", d)
	}
}

func TestGarbageIgnored(t *testing.T) {
	m, f := startModem(t, Config{}, map[string][]string{
		"AT+CGMI": {"\x00\xff\x01\r\nQue\x07ctel\r\n\xfe\xfd\r\n\x1b[0m\r\nOK\r\n"},
		"AT+CGMM": {ok("EG25")},
	}, false)
	f.send(t, "\x00\x00\xff\xfe\x80\r\n\x01\x02")
	r, err := m.Command(testCtx(t), "AT+CGMI")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Lines, []string{"Quectel", "[0m"}) {
		t.Fatalf("lines %q", r.Lines)
	}
	r, err = m.Command(testCtx(t), "AT+CGMM")
	if err != nil || !reflect.DeepEqual(r.Lines, []string{"EG25"}) {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestTrace(t *testing.T) {
	trace := &syncbuf.Buffer{}
	m, _ := startModem(t, Config{Trace: trace}, map[string][]string{"AT+CGMI": {ok("Quectel")}}, false)
	if _, err := m.Command(testCtx(t), "AT+CGMI"); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d\.\d{3} > AT\+CGMI\n\d\d:\d\d:\d\d\.\d{3} < Quectel\n\d\d:\d\d:\d\d\.\d{3} < OK\n`)
	if !re.MatchString(trace.String()) {
		t.Fatalf("trace:\n%s", trace.String())
	}
}

const isdrHex = "A0000005591010FFFFFFFF8900000100"

func TestCCHOForms(t *testing.T) {
	tests := []struct {
		reply string
		sid   int
	}{
		{ok("1"), 1},
		{ok("+CCHO: 2"), 2},
		{ok(`+CCHO: "3"`), 3},
		{ok("+CCHO: 1234567"), 1234567},
	}
	for _, tc := range tests {
		t.Run(strings.TrimSpace(tc.reply), func(t *testing.T) {
			sid := tc.sid
			cgla := func(cmd string) string {
				return "AT+CGLA=" + strconv.Itoa(sid) + "," + cmd
			}
			m, f := startModem(t, Config{}, map[string][]string{
				`AT+CCHO="` + isdrHex + `"`:    {tc.reply},
				cgla(`16,"81E2910003BF2000"`):  {ok(`+CGLA: 4,"6145"`)},
				cgla(`10,"81C0000045"`):        {ok(`+CGLA: 8,"BF2000"+"9000"`), ok(`+CGLA: 10,"BF20009000"`)},
				"AT+CCHC=" + strconv.Itoa(sid): {ok()},
			}, false)
			ctx := testCtx(t)
			ch, err := m.OpenChannel(ctx, apdu.ISDR)
			if err != nil {
				t.Fatal(err)
			}
			if got := ch.(*cglaChannel).sid; got != sid {
				t.Fatalf("session %d, want %d", got, sid)
			}
			r, err := ch.Transmit(ctx, []byte{0x81, 0xE2, 0x91, 0x00, 0x03, 0xBF, 0x20, 0x00})
			if err != nil || !reflect.DeepEqual(r, []byte{0x61, 0x45}) {
				t.Fatalf("Transmit = %X, %v", r, err)
			}
			// a malformed +CGLA answer is an error, the next one works
			if _, err := ch.Transmit(ctx, []byte{0x81, 0xC0, 0x00, 0x00, 0x45}); err == nil {
				t.Fatal("malformed +CGLA accepted")
			}
			r, err = ch.Transmit(ctx, []byte{0x81, 0xC0, 0x00, 0x00, 0x45})
			if err != nil || !reflect.DeepEqual(r, []byte{0xBF, 0x20, 0x00, 0x90, 0x00}) {
				t.Fatalf("Transmit = %X, %v", r, err)
			}
			n := len(f.commands())
			if err := ch.Close(); err != nil {
				t.Fatal(err)
			}
			if err := ch.Close(); err != nil {
				t.Fatal(err)
			}
			if got := f.since(n); !reflect.DeepEqual(got, []string{"AT+CCHC=" + strconv.Itoa(sid)}) {
				t.Fatalf("Close sent %q", got)
			}
			if _, err := ch.Transmit(ctx, []byte{0x81, 0xE2, 0x91, 0x00}); !errors.Is(err, apdu.ErrChannelClosed) {
				t.Fatalf("Transmit after Close = %v", err)
			}
		})
	}
}

func TestCSIMTransport(t *testing.T) {
	tests := []struct {
		name      string
		transport string
		cchoReply string
		channel   byte
		wantCCHO  bool
	}{
		{"fallback on ERROR", TransportAuto, final("ERROR"), 1, true},
		{"fallback on CME 3", TransportAuto, final("+CME ERROR: 3"), 2, true},
		{"fallback on CME 4, extended channel", TransportAuto, final("+CME ERROR: 4"), 5, true},
		{"forced", TransportCSIM, ok("1"), 3, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			selCLA := apdu.WithChannel(0x00, int(tc.channel))
			storeCLA := apdu.WithChannel(0x80, int(tc.channel))
			hexb := func(b ...byte) string { return strings.ToUpper(hex.EncodeToString(b)) }
			selectCmd := `AT+CSIM=42,"` + hexb(selCLA, 0xA4, 0x04, 0x00, 0x10) + isdrHex + `"`
			getResp := `AT+CSIM=10,"` + hexb(selCLA, 0xC0, 0x00, 0x00, 0x21) + `"`
			store := `AT+CSIM=16,"` + hexb(storeCLA, 0xE2, 0x91, 0x00, 0x03, 0xBF, 0x20, 0x00) + `"`
			closeCmd := `AT+CSIM=10,"` + hexb(0x00, 0x70, 0x80, tc.channel, 0x00) + `"`
			fci := strings.Repeat("AB", 0x21) + "9000"
			m, f := startModem(t, Config{Transport: tc.transport}, map[string][]string{
				`AT+CCHO="` + isdrHex + `"`: {tc.cchoReply},
				`AT+CSIM=10,"0070000001"`:   {ok(`+CSIM: 6,"` + hexb(tc.channel) + `9000"`)},
				selectCmd:                   {ok(`+CSIM: 4,"6121"`)},
				getResp:                     {ok(`+CSIM: 70,"` + fci + `"`)},
				store:                       {ok(`+CSIM: 10,"BF20009000"`)},
				closeCmd:                    {ok(`+CSIM: 4,"9000"`)},
			}, false)
			ctx := testCtx(t)
			n := len(f.commands())
			ch, err := m.OpenChannel(ctx, apdu.ISDR)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{`AT+CSIM=10,"0070000001"`, selectCmd, getResp}
			if tc.wantCCHO {
				want = append([]string{`AT+CCHO="` + isdrHex + `"`}, want...)
			}
			if got := f.since(n); !reflect.DeepEqual(got, want) {
				t.Fatalf("open sent %q, want %q", got, want)
			}
			// the LPA sends channel 0 bits; the transport sets the channel
			r, err := ch.Transmit(ctx, []byte{0x80, 0xE2, 0x91, 0x00, 0x03, 0xBF, 0x20, 0x00})
			if err != nil || !reflect.DeepEqual(r, []byte{0xBF, 0x20, 0x00, 0x90, 0x00}) {
				t.Fatalf("Transmit = %X, %v", r, err)
			}
			if err := ch.Close(); err != nil {
				t.Fatal(err)
			}
			if got := f.commands(); got[len(got)-1] != closeCmd {
				t.Fatalf("Close sent %q, want %q", got[len(got)-1], closeCmd)
			}
			// the transport is remembered: no second +CCHO attempt
			n = len(f.commands())
			ch, err = m.OpenChannel(ctx, apdu.ISDR)
			if err != nil {
				t.Fatal(err)
			}
			defer ch.Close()
			if got := f.since(n); got[0] != `AT+CSIM=10,"0070000001"` {
				t.Fatalf("second open started with %q", got[0])
			}
		})
	}
}

func TestOpenChannelErrors(t *testing.T) {
	tests := []struct {
		name      string
		transport string
		script    map[string][]string
		check     func(error) bool
		notSent   string
		last      string // the last command sent, when it matters
	}{
		{"no SIM: no fallback", TransportAuto,
			map[string][]string{`AT+CCHO="` + isdrHex + `"`: {final("+CME ERROR: 10")}},
			func(err error) bool { var e *CMEError; return errors.As(err, &e) && e.Code == 10 },
			`AT+CSIM=10,"0070000001"`, ""},
		{"cgla forced: no fallback", TransportCGLA,
			map[string][]string{`AT+CCHO="` + isdrHex + `"`: {final("ERROR")}},
			func(err error) bool { return errors.Is(err, ErrError) },
			`AT+CSIM=10,"0070000001"`, ""},
		{"no free channel", TransportCSIM,
			map[string][]string{`AT+CSIM=10,"0070000001"`: {ok(`+CSIM: 4,"6A81"`)}},
			func(err error) bool { var e *apdu.StatusError; return errors.As(err, &e) && e.SW == 0x6A81 },
			`AT+CSIM=42,"01A4040010` + isdrHex + `"`, ""},
		{"SELECT fails: channel closed again", TransportCSIM,
			map[string][]string{
				`AT+CSIM=10,"0070000001"`:                {ok(`+CSIM: 6,"019000"`)},
				`AT+CSIM=42,"01A4040010` + isdrHex + `"`: {ok(`+CSIM: 4,"6A82"`)},
				`AT+CSIM=10,"0070800100"`:                {ok(`+CSIM: 4,"9000"`)},
			},
			func(err error) bool { var e *apdu.StatusError; return errors.As(err, &e) && e.SW == 0x6A82 },
			"", `AT+CSIM=10,"0070800100"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, f := startModem(t, Config{Transport: tc.transport}, tc.script, false)
			_, err := m.OpenChannel(testCtx(t), apdu.ISDR)
			if err == nil || !tc.check(err) {
				t.Fatalf("OpenChannel = %v", err)
			}
			for _, c := range f.commands() {
				if c == tc.notSent {
					t.Fatalf("sent %q", c)
				}
			}
			if got := f.commands(); tc.last != "" && got[len(got)-1] != tc.last {
				t.Fatalf("last command %q, want %q", got[len(got)-1], tc.last)
			}
		})
	}
	m, _ := startModem(t, Config{}, nil, false)
	if _, err := m.OpenChannel(testCtx(t), []byte{1, 2}); err == nil {
		t.Fatal("short AID accepted")
	}
}

func TestChannelClosedDetection(t *testing.T) {
	const open = `AT+CCHO="` + isdrHex + `"`
	const store = `AT+CGLA=1,16,"81E2910003BF2000"`
	cmd := []byte{0x81, 0xE2, 0x91, 0x00, 0x03, 0xBF, 0x20, 0x00}
	for _, code := range []string{"21", "50", "13", "14"} {
		t.Run("CME "+code, func(t *testing.T) {
			m, f := startModem(t, Config{}, map[string][]string{
				open:  {ok("+CCHO: 1")},
				store: {final("+CME ERROR: " + code)},
			}, false)
			ctx := testCtx(t)
			ch, err := m.OpenChannel(ctx, apdu.ISDR)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ch.Transmit(ctx, cmd)
			var cme *CMEError
			if !errors.Is(err, apdu.ErrChannelClosed) || !errors.As(err, &cme) {
				t.Fatalf("Transmit = %v", err)
			}
			n := len(f.commands())
			if _, err := ch.Transmit(ctx, cmd); !errors.Is(err, apdu.ErrChannelClosed) {
				t.Fatalf("second Transmit = %v", err)
			}
			if err := ch.Close(); err != nil {
				t.Fatal(err)
			}
			if got := f.since(n); len(got) != 0 {
				t.Fatalf("sent %q on a lost channel", got)
			}
		})
	}
	t.Run("other CME errors keep the channel", func(t *testing.T) {
		m, _ := startModem(t, Config{}, map[string][]string{
			open:  {ok("+CCHO: 1")},
			store: {final("+CME ERROR: 100"), ok(`+CGLA: 4,"9000"`)},
		}, false)
		ctx := testCtx(t)
		ch, err := m.OpenChannel(ctx, apdu.ISDR)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ch.Transmit(ctx, cmd); err == nil || errors.Is(err, apdu.ErrChannelClosed) {
			t.Fatalf("Transmit = %v", err)
		}
		if _, err := ch.Transmit(ctx, cmd); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("card reset URC", func(t *testing.T) {
		m, f := startModem(t, Config{}, map[string][]string{
			open:  {ok("+CCHO: 1"), ok("+CCHO: 2")},
			store: {ok(`+CGLA: 4,"9000"`)},
		}, false)
		ctx := testCtx(t)
		ch, err := m.OpenChannel(ctx, apdu.ISDR)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ch.Transmit(ctx, cmd); err != nil {
			t.Fatal(err)
		}
		f.send(t, "\r\n+CPIN: NOT READY\r\n\r\n+CPIN: READY\r\n")
		for _, want := range []string{"+CPIN: NOT READY", "+CPIN: READY"} {
			if u := nextURC(t, m); u != want {
				t.Fatalf("URC %q, want %q", u, want)
			}
		}
		n := len(f.commands())
		if _, err := ch.Transmit(ctx, cmd); !errors.Is(err, apdu.ErrChannelClosed) {
			t.Fatalf("Transmit after reset = %v", err)
		}
		if err := ch.Close(); err != nil {
			t.Fatal(err)
		}
		if got := f.since(n); len(got) != 0 {
			t.Fatalf("sent %q on a reset channel", got)
		}
		// the LPA re-opens
		ch, err = m.OpenChannel(ctx, apdu.ISDR)
		if err != nil {
			t.Fatal(err)
		}
		if got := ch.(*cglaChannel).sid; got != 2 {
			t.Fatalf("re-opened session %d", got)
		}
	})
	t.Run("CSIM 6881", func(t *testing.T) {
		m, _ := startModem(t, Config{Transport: TransportCSIM}, map[string][]string{
			`AT+CSIM=10,"0070000001"`:                {ok(`+CSIM: 6,"019000"`)},
			`AT+CSIM=42,"01A4040010` + isdrHex + `"`: {ok(`+CSIM: 4,"9000"`)},
			`AT+CSIM=16,"81E2910003BF2000"`:          {ok(`+CSIM: 4,"6881"`)},
		}, false)
		ctx := testCtx(t)
		ch, err := m.OpenChannel(ctx, apdu.ISDR)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ch.Transmit(ctx, cmd); !errors.Is(err, apdu.ErrChannelClosed) {
			t.Fatalf("Transmit = %v", err)
		}
	})
}

func TestCloseWhileCommandWaits(t *testing.T) {
	m, f := startModem(t, Config{}, map[string][]string{"AT+WAIT": {silent}}, false)
	res := make(chan error, 1)
	go func() {
		_, err := m.CommandTimeout(context.Background(), "AT+WAIT", time.Hour)
		res <- err
	}()
	f.waitFor(t, "AT+WAIT")
	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()
	select {
	case err := <-res:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("command returned %v, want ErrClosed", err)
		}
	case <-time.After(guard):
		t.Fatal("command still waiting after Close")
	}
	select {
	case <-closed:
	case <-time.After(guard):
		t.Fatal("Close did not return")
	}
	if _, err := m.Command(context.Background(), "AT"); !errors.Is(err, ErrClosed) {
		t.Fatalf("command after Close = %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if _, open := <-m.URCs(); open {
		t.Fatal("URC channel still open")
	}
}

func TestPortHangup(t *testing.T) {
	m, f := startModem(t, Config{}, nil, false)
	f.mu.Lock()
	f.hangup = "AT+UNPLUG"
	f.mu.Unlock()
	_, err := m.CommandTimeout(testCtx(t), "AT+UNPLUG", time.Hour)
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("command on an unplugged modem = %v, want ErrClosed", err)
	}
	if _, err := m.Command(testCtx(t), "AT"); !errors.Is(err, ErrClosed) {
		t.Fatalf("next command = %v, want ErrClosed", err)
	}
}

func BenchmarkCommandRoundTrip(b *testing.B) {
	m, _ := startModem(b, Config{}, nil, false)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Command(ctx, "AT"); err != nil {
			b.Fatal(err)
		}
	}
}
