package sim

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

const (
	isdrAID      = "A0000005591010FFFFFFFF8900000100"
	getEIDAPDU   = "80E2910006BF3E035C015A"
	getEIDAnswer = "BF3E125A10" + testEID + "9000"
)

// openSession runs +CCHO for the ISD-R and returns the session id.
func openSession(t *testing.T, c *client) int {
	t.Helper()
	line := c.one(`AT+CCHO="` + isdrAID + `"`)
	sid, err := strconv.Atoi(strings.TrimPrefix(line, "+CCHO: "))
	if err != nil {
		t.Fatalf("+CCHO answer %q", line)
	}
	return sid
}

func cgla(sid int, hexAPDU string) string {
	return fmt.Sprintf(`AT+CGLA=%d,%d,"%s"`, sid, len(hexAPDU), hexAPDU)
}

// lastCommand returns the last APDU the card received.
func lastCommand(t *testing.T, card *fakeCard) []byte {
	t.Helper()
	log := card.commands()
	if len(log) == 0 {
		t.Fatal("the card received nothing")
	}
	return log[len(log)-1]
}

func TestLogicalChannels(t *testing.T) {
	card := newFakeCard(profileA())
	_, c := startModem(t, card, Options{})
	c.mustOK("AT+CMEE=1")

	s1 := openSession(t, c)
	if got := card.commands(); len(got) != 2 ||
		!bytes.Equal(got[0], []byte{0x00, 0x70, 0x00, 0x00, 0x01}) ||
		!bytes.Equal(got[1], append([]byte{0x01, 0xA4, 0x04, 0x00, 0x10}, hexBytes(isdrAID)...)) {
		t.Fatalf("CCHO sent % X", got)
	}
	s2 := openSession(t, c)
	if s1 == 1 || s2 == 2 || s1 == s2 {
		t.Errorf("session ids %d, %d must differ from each other and from channels 1, 2", s1, s2)
	}

	tests := []struct {
		sid     int
		apdu    string
		wantCLA byte
	}{
		{s1, getEIDAPDU, 0x81},                  // client left the channel bits at 0
		{s2, getEIDAPDU, 0x82},                  // second session is channel 2
		{s2, "81" + getEIDAPDU[2:], 0x82},       // client put its own channel 1 in: rewritten
		{s1, "C3" + getEIDAPDU[2:], 0x81},       // further interindustry class (channel 7) back to 1
		{s1, strings.ToLower(getEIDAPDU), 0x81}, // lower-case hex
	}
	for _, tc := range tests {
		got := c.one(cgla(tc.sid, tc.apdu))
		if want := fmt.Sprintf(`+CGLA: %d,"%s"`, len(getEIDAnswer), getEIDAnswer); got != want {
			t.Errorf("CGLA %d %s: %q, want %q", tc.sid, tc.apdu, got, want)
		}
		if cla := lastCommand(t, card)[0]; cla != tc.wantCLA {
			t.Errorf("CGLA %d %s: card got CLA %02X, want %02X", tc.sid, tc.apdu, cla, tc.wantCLA)
		}
	}

	c.mustOK(fmt.Sprintf("AT+CCHC=%d", s1))
	if got := lastCommand(t, card); !bytes.Equal(got, []byte{0x00, 0x70, 0x80, 0x01}) {
		t.Errorf("CCHC sent % X", got)
	}
	if card.openChannels() != 1 {
		t.Errorf("%d channels open, want 1", card.openChannels())
	}

	errs := []struct {
		cmd  string
		want string
	}{
		{cgla(s1, getEIDAPDU), "+CME ERROR: 21"},                              // closed
		{cgla(999, getEIDAPDU), "+CME ERROR: 21"},                             // never opened
		{fmt.Sprintf("AT+CCHC=%d", s1), "+CME ERROR: 21"},                     // closed twice
		{fmt.Sprintf(`AT+CGLA=%d,20,"%s"`, s2, getEIDAPDU), "+CME ERROR: 50"}, // wrong length
		{fmt.Sprintf(`AT+CGLA=%d,6,"80E2ZZ"`, s2), "+CME ERROR: 50"},          // bad hex
		{fmt.Sprintf(`AT+CGLA=%d,5,"80E29"`, s2), "+CME ERROR: 50"},           // odd
		{fmt.Sprintf(`AT+CGLA=%d,4,"80E2"`, s2), "+CME ERROR: 50"},            // shorter than a header
		{fmt.Sprintf(`AT+CGLA=%d,4`, s2), "+CME ERROR: 50"},                   // missing command
		{`AT+CGLA=x,4,"80E29100"`, "+CME ERROR: 50"},
		{`AT+CCHO="XYZ"`, "+CME ERROR: 50"},
		{`AT+CCHO="A0000005591010FFFFFFFF8900000200"`, "+CME ERROR: 22"}, // not on this card
	}
	for _, tc := range errs {
		if info, final := c.cmd(tc.cmd); final != tc.want || len(info) != 0 {
			t.Errorf("%s: %q %s, want %s", tc.cmd, info, final, tc.want)
		}
	}
	if card.openChannels() != 1 {
		t.Errorf("a failed SELECT left its channel open: %d channels", card.openChannels())
	}
	c.mustOK(fmt.Sprintf("AT+CCHC=%d", s2))
	if card.openChannels() != 0 {
		t.Errorf("%d channels open after closing all", card.openChannels())
	}
}

func TestCCHOBareForm(t *testing.T) {
	m, c := startModem(t, newFakeCard(profileA()), Options{})
	m.SetCCHOForm(true)
	line := c.one(`AT+CCHO="` + isdrAID + `"`)
	sid, err := strconv.Atoi(line)
	if err != nil {
		t.Fatalf("bare +CCHO answer %q", line)
	}
	if got := c.one(cgla(sid, getEIDAPDU)); !strings.Contains(got, getEIDAnswer) {
		t.Errorf("CGLA on bare session: %q", got)
	}
	m.SetCCHOForm(false)
	if got := c.one(`AT+CCHO="` + isdrAID + `"`); !strings.HasPrefix(got, "+CCHO: ") {
		t.Errorf("+CCHO form back: %q", got)
	}
}

// TestCSIMFallback: without +CCHO the client does MANAGE CHANNEL itself.
func TestCSIMFallback(t *testing.T) {
	card := newFakeCard(profileA())
	m, c := startModem(t, card, Options{})
	m.SetCCHOSupported(false)
	c.mustOK("AT+CMEE=1")
	for _, cmd := range []string{`AT+CCHO="` + isdrAID + `"`, "AT+CCHO=?", cgla(100, getEIDAPDU), "AT+CCHC=100"} {
		if _, final := c.cmd(cmd); final != "+CME ERROR: 4" {
			t.Errorf("%s without +CCHO support: %s", cmd, final)
		}
	}
	csim := func(h string) string {
		return c.one(fmt.Sprintf(`AT+CSIM=%d,"%s"`, len(h), h))
	}
	steps := []struct{ apdu, want string }{
		{"0070000001", `+CSIM: 6,"019000"`},
		{"01A4040010" + isdrAID, `+CSIM: 4,"9000"`},
		{"81E2910006BF3E035C015A", fmt.Sprintf(`+CSIM: %d,"%s"`, len(getEIDAnswer), getEIDAnswer)},
		{"0070800100", `+CSIM: 4,"9000"`},
	}
	for _, s := range steps {
		if got := csim(s.apdu); got != s.want {
			t.Errorf("CSIM %s: %q, want %q", s.apdu, got, s.want)
		}
		if got := lastCommand(t, card); !bytes.Equal(got, hexBytes(s.apdu)) {
			t.Errorf("CSIM %s reached the card as % X (must be unchanged)", s.apdu, got)
		}
	}
	for _, bad := range []string{`AT+CSIM=9,"0070000001"`, `AT+CSIM=4,"0070"`, `AT+CSIM=10`, `AT+CSIM=10,"00700000GG"`} {
		if _, final := c.cmd(bad); final != "+CME ERROR: 50" {
			t.Errorf("%s: %s", bad, final)
		}
	}
	m.SetCCHOSupported(true)
	openSession(t, c)
}
