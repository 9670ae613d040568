package sim

import (
	"fmt"
	"slices"
	"testing"
)

// enableAPDU is what the fake card treats as EnableProfile with refresh.
const enableAPDU = "80E2910006BF3103800101"

// urcsUntil collects URCs (those already seen and new ones, in arrival
// order) until last arrives.
func urcsUntil(c *client, last string) []string {
	c.t.Helper()
	seen := c.urcs
	c.urcs = nil
	for !slices.Contains(seen, last) {
		seen = append(seen, c.next())
	}
	return seen
}

// inOrder reports whether want appears in got as a subsequence.
func inOrder(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestCardResetInvalidatesSessions(t *testing.T) {
	card := newFakeCard(profileA(), profileB())
	_, c := startModem(t, card, Options{})
	c.mustOK("AT+CMEE=1;+CEREG=1;+CREG=1")
	sid := openSession(t, c)
	if got := c.one(cgla(sid, enableAPDU)); got != `+CGLA: 16,"BF31038001009000"` {
		t.Fatalf("enable: %q", got)
	}
	// The hook ran inside Transmit: the session is gone at once.
	if _, final := c.cmd(cgla(sid, getEIDAPDU)); final != "+CME ERROR: 21" {
		t.Errorf("CGLA after the reset: %s, want +CME ERROR: 21", final)
	}
	if _, final := c.cmd(fmt.Sprintf("AT+CCHC=%d", sid)); final != "+CME ERROR: 21" {
		t.Errorf("CCHC after the reset: %s, want +CME ERROR: 21", final)
	}
	got := urcsUntil(c, "+CEREG: 1")
	want := []string{"+CPIN: NOT READY", "+CPIN: READY", "+CEREG: 2", "+CEREG: 1"}
	if !inOrder(got, want) || !inOrder(got, []string{"+CREG: 2", "+CREG: 1"}) {
		t.Errorf("URCs %q, want %q in order (and +CREG)", got, want)
	}
	// The new profile is in use.
	if imsi := c.one("AT+CIMI"); imsi != profileB().IMSI {
		t.Errorf("IMSI after the switch: %s", imsi)
	}
	c.mustOK("AT+COPS=3,2")
	if got := c.one("AT+COPS?"); got != `+COPS: 0,2,"310260",7` {
		t.Errorf("operator after the switch: %s", got)
	}
	sid2 := openSession(t, c)
	if sid2 == sid {
		t.Errorf("session id %d reused", sid)
	}
	if got := c.one(cgla(sid2, getEIDAPDU)); got != fmt.Sprintf(`+CGLA: %d,"%s"`, len(getEIDAnswer), getEIDAnswer) {
		t.Errorf("CGLA on a new session: %s", got)
	}
}

// TestCFUNReset covers AT+CFUN=1,1 with a card that calls its hook on Reset
// and one that does not: either way the reset is handled exactly once.
func TestCFUNReset(t *testing.T) {
	for _, hookOnReset := range []bool{false, true} {
		t.Run(fmt.Sprint("hookOnReset=", hookOnReset), func(t *testing.T) {
			card := newFakeCard(profileA())
			card.hookOnReset = hookOnReset
			m, c := startModem(t, card, Options{AttachDelay: -1})
			c.mustOK("AT+CMEE=1;+CEREG=2")
			sid := openSession(t, c)
			c.mustOK("AT+CFUN=1,1")
			if _, final := c.cmd(cgla(sid, getEIDAPDU)); final != "+CME ERROR: 21" {
				t.Errorf("CGLA after CFUN=1,1: %s", final)
			}
			got := urcsUntil(c, `+CEREG: 1,"1A2B","01A2B3C4",7`)
			if !inOrder(got, []string{"+CPIN: NOT READY", "+CPIN: READY"}) {
				t.Errorf("URCs %q", got)
			}
			card.mu.Lock()
			resets := card.resets
			card.mu.Unlock()
			if resets != 1 || m.cardEpoch.Load() != 1 {
				t.Errorf("card resets %d, epoch %d; want 1, 1", resets, m.cardEpoch.Load())
			}
			if card.openChannels() != 0 {
				t.Errorf("channels survived the reset")
			}
		})
	}
}

// TestSIMBusyWindow: with SIMReadyDelay the card answers +CME ERROR: 14
// between NOT READY and READY.
func TestSIMBusyWindow(t *testing.T) {
	card := newFakeCard(profileA())
	m, c := startModem(t, card, Options{SIMReadyDelay: hangGuard * 10, AttachDelay: -1})
	c.mustOK("AT+CMEE=1;+CEREG=1")
	c.mustOK("AT+CFUN=1,1")
	c.waitURC("+CPIN: NOT READY")
	for _, cmd := range []string{"AT+CPIN?", "AT+CIMI", `AT+CCHO="` + isdrAID + `"`, `AT+CSIM=10,"0070000001"`, "AT+CRSM=176,12258,0,0,10"} {
		if _, final := c.cmd(cmd); final != "+CME ERROR: 14" {
			t.Errorf("%s while the SIM restarts: %s", cmd, final)
		}
	}
	if got := c.one("AT+CEREG?"); got != "+CEREG: 1,2" {
		t.Errorf("registration while the SIM restarts: %s", got)
	}
	m.mu.Lock()
	gen := m.resetGen
	m.mu.Unlock()
	m.simReady(gen) // what the SIMReadyDelay timer does
	got := urcsUntil(c, "+CEREG: 1")
	if !inOrder(got, []string{"+CPIN: READY", "+CEREG: 1"}) {
		t.Errorf("URCs %q", got)
	}
	if got := c.one("AT+CPIN?"); got != "+CPIN: READY" {
		t.Errorf("after READY: %s", got)
	}
}

func TestSetRegistration(t *testing.T) {
	m, c := startModem(t, newFakeCard(profileA()), Options{})
	c.mustOK("AT+CEREG=2;+CREG=1;+COPS=3,2")
	steps := []struct {
		stat int
		oper string
		urcs []string
		cops string
	}{
		{5, "23415", []string{`+CEREG: 5,"1A2B","01A2B3C4",7`, "+CREG: 5"}, `+COPS: 0,2,"23415",7`},
		{3, "", []string{"+CEREG: 3", "+CREG: 3"}, "+COPS: 0"},
		{-1, "", []string{`+CEREG: 1,"1A2B","01A2B3C4",7`, "+CREG: 1"}, `+COPS: 0,2,"26201",7`},
	}
	for _, s := range steps {
		m.SetRegistration(s.stat, s.oper)
		for _, u := range s.urcs {
			c.waitURC(u)
		}
		if got := c.one("AT+COPS?"); got != s.cops {
			t.Errorf("SetRegistration(%d, %q): %s, want %s", s.stat, s.oper, got, s.cops)
		}
	}
	c.mustOK("AT+COPS=3,0")
	m.SetRegistration(5, "23415")
	c.waitURC("+CREG: 5")
	if got := c.one("AT+COPS?"); got != `+COPS: 0,0,"23415",7` {
		t.Errorf("unknown network's name: %s", got)
	}
	if got := c.one("AT+COPS=?"); got != `+COPS: (2,"23415","23415","23415",7),(1,"SimNet","SimNet","26201",7),,(0-4),(0-2)` {
		t.Errorf("scan while roaming: %s", got)
	}
}

func TestSendURC(t *testing.T) {
	m, c := startModem(t, newFakeCard(profileA()), Options{})
	c.mustOK("AT")
	m.SendURC("+CMTI: \"ME\",1")
	c.waitURC("+CMTI: \"ME\",1")
	c.mustOK("AT")
}
