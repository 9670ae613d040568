package sim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/internal/syncbuf"
)

func TestDrop(t *testing.T) {
	var log syncbuf.Buffer
	m, c := startModem(t, newFakeCard(profileA()), Options{Log: &log})
	m.SetDrop(true)
	c.send("AT+CGMI")
	c.send("AT+CFUN=4")
	waitFor(t, func() bool { return len(m.Commands()) == 2 })
	m.SetDrop(false)
	// Commands are handled in order: anything the dropped ones produced
	// would arrive before this command's echo.
	info, final := c.cmd("AT+CFUN?")
	if final != "OK" || !slices.Equal(info, []string{"+CFUN: 1"}) {
		t.Errorf("AT+CFUN? after dropped commands: %q %s (a dropped command ran)", info, final)
	}
	if len(c.urcs) != 0 {
		t.Errorf("dropped commands were answered: %q", c.urcs)
	}
	if got, want := m.Commands(), []string{"AT+CGMI", "AT+CFUN=4", "AT+CFUN?"}; !slices.Equal(got, want) {
		t.Errorf("Commands() = %q, want %q", got, want)
	}
	if !strings.Contains(log.String(), "> AT+CGMI (dropped)") {
		t.Errorf("log misses the dropped command:\n%s", log.String())
	}
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never became true")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDelay(t *testing.T) {
	m, c := startModem(t, newFakeCard(profileA()), Options{})
	const d = 50 * time.Millisecond
	m.SetDelay(d)
	start := time.Now()
	c.mustOK("AT")
	if elapsed := time.Since(start); elapsed < d {
		t.Errorf("reply after %v, want at least %v", elapsed, d)
	}
	m.SetDelay(0)
	c.mustOK("AT")
}

// TestDelayCancel: a reply held back by the delay does not keep Serve from
// returning when ctx is cancelled.
func TestDelayCancel(t *testing.T) {
	m := New(newFakeCard(profileA()), Options{})
	m.SetDelay(time.Hour)
	srv, cli := net.Pipe()
	defer srv.Close()
	defer cli.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx, srv) }()
	c := newClient(t, cli)
	c.send("AT+CGMI")
	if l := c.next(); l != "AT+CGMI" {
		t.Fatalf("echo %q", l)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Serve: %v, want context.Canceled", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("Serve did not return after cancel")
	}
}

func TestGarbage(t *testing.T) {
	m, c := startModem(t, newFakeCard(profileA()), Options{})
	m.SetGarbage(true)
	for range 5 {
		info, final := c.cmd("AT+CGMI")
		if final != "OK" || len(info) != 2 || info[1] != "Mobileplans" {
			t.Fatalf("with garbage: %q %s", info, final)
		}
		for _, b := range []byte(info[0]) {
			if b >= 0x20 && b < 0x7F {
				t.Errorf("garbage %q has a printable byte", info[0])
			}
		}
	}
	m.SetGarbage(false)
	if info := c.mustOK("AT+CGMI"); len(info) != 1 {
		t.Errorf("garbage after it was switched off: %q", info)
	}
}

func TestCardBusy(t *testing.T) {
	card := newFakeCard(profileA())
	m, c := startModem(t, card, Options{})
	sid := openSession(t, c)
	for _, sw := range []uint16{0x6F00, 0x6985} {
		m.SetCardBusy(sw)
		before := len(card.commands())
		if got, want := c.one(cgla(sid, getEIDAPDU)), fmt.Sprintf(`+CGLA: 4,"%04X"`, sw); got != want {
			t.Errorf("CGLA with card busy: %q, want %q", got, want)
		}
		if got, want := c.one(`AT+CSIM=10,"0070000001"`), fmt.Sprintf(`+CSIM: 4,"%04X"`, sw); got != want {
			t.Errorf("CSIM with card busy: %q, want %q", got, want)
		}
		if len(card.commands()) != before {
			t.Errorf("the busy card received APDUs")
		}
	}
	m.SetCardBusy(0)
	if got := c.one(cgla(sid, getEIDAPDU)); !strings.Contains(got, getEIDAnswer) {
		t.Errorf("CGLA after busy cleared: %q", got)
	}
}

func TestLogAndCommands(t *testing.T) {
	var log syncbuf.Buffer
	m, c := startModem(t, newFakeCard(profileA()), Options{Log: &log})
	c.mustOK("AT+CGMI")
	c.send("hello")
	c.mustOK("AT+CEREG=1")
	m.SendURC("+CEREG: 1")
	c.waitURC("+CEREG: 1")
	c.mustOK("AT")
	if got, want := m.Commands(), []string{"AT+CGMI", "AT+CEREG=1", "AT"}; !slices.Equal(got, want) {
		t.Errorf("Commands() = %q, want %q", got, want)
	}
	var dirs []string
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		f := strings.SplitN(line, " ", 3)
		if len(f) != 3 {
			t.Fatalf("log line %q is not <time> <dir> <text>", line)
		}
		if _, err := time.Parse("15:04:05.000", f[0]); err != nil {
			t.Errorf("log line %q: %v", line, err)
		}
		dirs = append(dirs, f[1]+" "+f[2])
	}
	want := []string{"> AT+CGMI", "< Mobileplans", "< OK", `> (ignored) "hello"`, "> AT+CEREG=1", "< OK", "< +CEREG: 1", "> AT", "< OK"}
	if !slices.Equal(dirs, want) {
		t.Errorf("log\n%q\nwant\n%q", dirs, want)
	}
	c2 := m.Commands()
	c2[0] = "changed"
	if m.Commands()[0] != "AT+CGMI" {
		t.Error("Commands() returned the internal slice")
	}
}

// TestTwoPorts: ports have their own settings; URCs reach both.
func TestTwoPorts(t *testing.T) {
	m, c1 := startModem(t, newFakeCard(profileA()), Options{})
	c2 := serveClient(t, m)
	c1.mustOK("AT+CMEE=1;+CEREG=1")
	if got := c2.one("AT+CMEE?"); got != "+CMEE: 0" {
		t.Errorf("second port shares settings: %s", got)
	}
	m.SendURC("+TEST: 1")
	c1.waitURC("+TEST: 1")
	c2.waitURC("+TEST: 1")
	m.SetRegistration(2, "")
	c1.waitURC("+CEREG: 2")
	c2.mustOK("AT")
	if slices.Contains(c2.urcs, "+CEREG: 2") {
		t.Error("port without +CEREG=1 got a +CEREG URC")
	}
}
