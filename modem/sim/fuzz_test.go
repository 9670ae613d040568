package sim

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// fuzzPort feeds a fixed input to Serve and collects what the modem writes.
type fuzzPort struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (p *fuzzPort) Read(b []byte) (int, error)  { return p.in.Read(b) }
func (p *fuzzPort) Write(b []byte) (int, error) { return p.out.Write(b) }

// FuzzServe feeds arbitrary bytes from "the host" to the AT interpreter: it
// must neither panic nor hang, and must answer every complete command line
// with a final result.
func FuzzServe(f *testing.F) {
	for _, s := range []string{
		"AT\r",
		"ATE0V1+CMEE=1\r",
		"AT+CCHO=\"A0000005591010FFFFFFFF8900000100\"\r",
		"AT+CGLA=1,16,\"81E2910003BF3E00\"\r",
		"AT+CSIM=10,\"0070000001\"\r",
		"AT+CRSM=176,12258,0,0,10\r",
		"AT+COPS=3,2;+COPS?\r",
		"AT+CGDCONT=1,\"IP\",\"internet\"\r",
		"A/\r",
		"AT+CGLA=1,99999999999999999999,\"00\"\r",
		"at\"\"\"\r\n\x00\xff+CSQ\r",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := New(newFakeCard(profileA()), Options{})
		p := &fuzzPort{in: bytes.NewReader(data)}
		err := m.Serve(context.Background(), p)
		if err != nil && err != io.EOF {
			t.Fatalf("Serve: %v", err)
		}
		out := p.out.String()
		if strings.Contains(out, "panic") {
			t.Fatalf("output mentions a panic: %q", out)
		}
	})
}

// FuzzParseLine checks that the command-line splitter accepts or refuses
// any input without panicking and that accepted lines give commands.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"", "E0V1", "+CGLA=1,4,\"0070\"", "+COPS?;+CSQ", "&C1X4", "+CSCS=\"UCS2\"", ";;", "\"", "+"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cmds, err := parseLine(s)
		if err == nil && len(cmds) == 0 {
			t.Fatalf("parseLine(%q) gave no commands and no error", s)
		}
	})
}
