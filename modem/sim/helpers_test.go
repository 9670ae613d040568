package sim

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/apdu"
)

// testEID is what the fake card's GetEID answers.
const testEID = "89049032123451234512345678901235"

func profileA() ActiveProfile {
	return ActiveProfile{ICCID: "8949020000123456789", IMSI: "262011234567890", MCCMNC: "26201", SPN: "SimNet", ProfileName: "A"}
}

func profileB() ActiveProfile {
	return ActiveProfile{ICCID: "89010000000000000016", IMSI: "310260000000016", MCCMNC: "310260", SPN: "Contoso", ProfileName: "B"}
}

// fakeCard is a minimal eUICC: MANAGE CHANNEL (channels 1-3), SELECT of the
// ISD-R, GetEID, and "EnableProfile" (any STORE DATA starting BF31) that
// switches to the next profile and resets the card through its hook.
type fakeCard struct {
	mu          sync.Mutex
	open        map[int]bool
	selected    map[int]bool
	profiles    []ActiveProfile
	current     int // index into profiles, -1 for none
	hook        func()
	hookOnReset bool
	log         [][]byte
	resets      int
}

func newFakeCard(profiles ...ActiveProfile) *fakeCard {
	c := &fakeCard{open: map[int]bool{}, selected: map[int]bool{}, profiles: profiles, current: -1}
	if len(profiles) > 0 {
		c.current = 0
	}
	return c
}

func (c *fakeCard) Transmit(cmd []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log = append(c.log, bytes.Clone(cmd))
	parsed, err := apdu.ParseCommand(cmd)
	if err != nil {
		return []byte{0x67, 0x00}
	}
	ch := apdu.ChannelOf(parsed.CLA)
	switch parsed.INS {
	case 0x70:
		switch parsed.P1 {
		case 0x00:
			for n := 1; n <= 3; n++ {
				if !c.open[n] {
					c.open[n] = true
					return []byte{byte(n), 0x90, 0x00}
				}
			}
			return []byte{0x6A, 0x81}
		case 0x80:
			if !c.open[int(parsed.P2)] {
				return []byte{0x68, 0x81}
			}
			delete(c.open, int(parsed.P2))
			delete(c.selected, int(parsed.P2))
			return []byte{0x90, 0x00}
		}
		return []byte{0x6A, 0x86}
	case 0xA4:
		if ch != 0 && !c.open[ch] {
			return []byte{0x68, 0x81}
		}
		if !bytes.Equal(parsed.Data, apdu.ISDR) {
			return []byte{0x6A, 0x82}
		}
		c.selected[ch] = true
		return []byte{0x90, 0x00}
	case 0xE2:
		if !c.selected[ch] || parsed.CLA&0x80 == 0 {
			return []byte{0x69, 0x85}
		}
		switch {
		case bytes.Equal(parsed.Data, []byte{0xBF, 0x3E, 0x03, 0x5C, 0x01, 0x5A}):
			eid := hexBytes(testEID)
			resp := append([]byte{0xBF, 0x3E, 0x12, 0x5A, 0x10}, eid...)
			return append(resp, 0x90, 0x00)
		case bytes.HasPrefix(parsed.Data, []byte{0xBF, 0x31}):
			if len(c.profiles) > 0 {
				c.current = (c.current + 1) % len(c.profiles)
			}
			c.resetLocked()
			if c.hook != nil {
				c.hook() // inside Transmit, with the card locked
			}
			return []byte{0xBF, 0x31, 0x03, 0x80, 0x01, 0x00, 0x90, 0x00}
		}
		return []byte{0x6A, 0x80}
	}
	return []byte{0x6D, 0x00}
}

func (c *fakeCard) resetLocked() {
	c.open = map[int]bool{}
	c.selected = map[int]bool{}
	c.resets++
}

func (c *fakeCard) Reset() {
	c.mu.Lock()
	c.resetLocked()
	hook := c.hook
	call := c.hookOnReset
	c.mu.Unlock()
	if call && hook != nil {
		hook()
	}
}

func (c *fakeCard) ATR() []byte { return []byte{0x3B, 0x9F, 0x96, 0x80, 0x1F, 0xC7} }

func (c *fakeCard) Active() (ActiveProfile, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current < 0 {
		return ActiveProfile{}, false
	}
	return c.profiles[c.current], true
}

func (c *fakeCard) SetResetHook(f func()) {
	c.mu.Lock()
	c.hook = f
	c.mu.Unlock()
}

func (c *fakeCard) commands() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.log...)
}

func (c *fakeCard) openChannels() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.open)
}

func hexBytes(s string) []byte {
	b := make([]byte, len(s)/2)
	for i := range b {
		fmt.Sscanf(s[2*i:2*i+2], "%02X", &b[i])
	}
	return b
}

// hangGuard bounds every wait for the modem, so that a modem that never
// answers fails the test with a message instead of hanging it.
const hangGuard = 20 * time.Second

// client is the terminal side of a Serve connection. A reader goroutine
// splits the byte stream into lines (at CR or LF, blank lines skipped).
type client struct {
	t       *testing.T
	conn    io.ReadWriteCloser
	lines   chan string
	urcs    []string
	numeric bool // ATV0: final results are 0 / 4
}

func newClient(t *testing.T, conn io.ReadWriteCloser) *client {
	c := &client{t: t, conn: conn, lines: make(chan string, 4096)}
	go func() {
		defer close(c.lines)
		r := bufio.NewReader(conn)
		var cur []byte
		for {
			b, err := r.ReadByte()
			if err != nil {
				return
			}
			if b == '\r' || b == '\n' {
				if len(cur) > 0 {
					c.lines <- string(cur)
					cur = nil
				}
				continue
			}
			cur = append(cur, b)
		}
	}()
	return c
}

// startModem serves a new modem on one end of a net.Pipe and returns the
// modem and a client on the other end.
func startModem(t *testing.T, card Card, opts Options) (*Modem, *client) {
	t.Helper()
	m := New(card, opts)
	return m, serveClient(t, m)
}

func serveClient(t *testing.T, m *Modem) *client {
	t.Helper()
	srv, cli := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx, srv) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Serve: %v", err)
		}
		cli.Close()
		srv.Close()
	})
	return newClient(t, cli)
}

func (c *client) next() string {
	c.t.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok {
			c.t.Fatal("connection closed")
		}
		return l
	case <-time.After(hangGuard):
		c.t.Fatal("no answer from the modem")
	}
	return ""
}

func (c *client) isFinal(l string) bool {
	if c.numeric && (l == "0" || l == "4") {
		return true
	}
	return l == "OK" || l == "ERROR" || strings.HasPrefix(l, "+CME ERROR:") || strings.HasPrefix(l, "+CMS ERROR:")
}

func (c *client) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, line+"\r"); err != nil {
		c.t.Fatalf("write %q: %v", line, err)
	}
}

// cmd sends a command line and returns the information lines and the final
// result. Lines that arrive before the echo are URCs (kept in c.urcs).
func (c *client) cmd(line string) ([]string, string) {
	c.t.Helper()
	c.send(line)
	var got []string
	for {
		l := c.next()
		if l == line {
			c.urcs = append(c.urcs, got...)
			got = nil
			continue
		}
		if c.isFinal(l) {
			return got, l
		}
		got = append(got, l)
	}
}

// mustOK runs a command that must answer OK and returns its information lines.
func (c *client) mustOK(line string) []string {
	c.t.Helper()
	info, final := c.cmd(line)
	if final != "OK" {
		c.t.Fatalf("%s: %v %s, want OK", line, info, final)
	}
	return info
}

// one runs a command that must answer OK with exactly one information line.
func (c *client) one(line string) string {
	c.t.Helper()
	info := c.mustOK(line)
	if len(info) != 1 {
		c.t.Fatalf("%s: info %q, want one line", line, info)
	}
	return info[0]
}

// waitURC waits (between commands) for the URC want.
func (c *client) waitURC(want string) {
	c.t.Helper()
	for i, u := range c.urcs {
		if u == want {
			c.urcs = append(c.urcs[:i:i], c.urcs[i+1:]...)
			return
		}
	}
	for {
		l := c.next()
		if l == want {
			return
		}
		c.urcs = append(c.urcs, l)
	}
}
