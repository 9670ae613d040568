//go:build unix

package at

import (
	"context"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/mobileplans/mobileplans/internal/syncbuf"
)

// guard bounds every wait in the tests; it is a hang detector, not a
// performance assertion.
const guard = 30 * time.Second

// silent as a reply means the fake modem does not answer at all.
const silent = ""

// ok builds a reply: the information lines, then OK.
func ok(lines ...string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("\r\n" + l + "\r\n")
	}
	b.WriteString("\r\nOK\r\n")
	return b.String()
}

// final builds a reply made of one final result code.
func final(code string) string { return "\r\n" + code + "\r\n" }

// fakeModem is a scripted modem on the master side of a pty: each received
// command is answered with the next reply of its script entry (the last one
// repeats); unknown commands get ERROR.
type fakeModem struct {
	master *os.File

	mu     sync.Mutex
	script map[string][]string
	echo   bool
	got    []string
	hangup string // command on which the fake closes the pty master

	seen chan string
	done chan struct{}
}

func baseScript() map[string][]string {
	return map[string][]string{
		"AT":        {ok()},
		"ATE0":      {ok()},
		"AT+CMEE=1": {ok()},
	}
}

// startModem runs a fake modem with script (merged over the init commands)
// and opens it with the real serial driver through the pty's slave name.
func startModem(tb testing.TB, cfg Config, script map[string][]string, echo bool) (*Modem, *fakeModem) {
	tb.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		tb.Skipf("no pty: %v", err)
	}
	s := baseScript()
	for k, v := range script {
		s[k] = v
	}
	f := &fakeModem{master: master, script: s, echo: echo, seen: make(chan string, 1024), done: make(chan struct{})}
	go f.run()
	cfg.Device = slave.Name()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	m, err := Open(ctx, cfg)
	slave.Close()
	if err != nil {
		f.stop(tb)
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		m.Close()
		f.stop(tb)
	})
	return m, f
}

// stop waits for the fake's goroutine, which ends when no slave fd is left
// open (the master then reads EIO).
func (f *fakeModem) stop(tb testing.TB) {
	select {
	case <-f.done:
	case <-time.After(guard):
		tb.Errorf("fake modem did not stop")
	}
}

func (f *fakeModem) run() {
	defer close(f.done)
	defer f.master.Close()
	buf := make([]byte, 4096)
	var line []byte
	for {
		n, err := f.master.Read(buf)
		for _, c := range buf[:n] {
			if c != '\r' && c != '\n' {
				line = append(line, c)
				continue
			}
			if len(line) > 0 {
				if !f.handle(string(line)) {
					return
				}
				line = line[:0]
			}
		}
		if err != nil {
			return
		}
	}
}

func (f *fakeModem) handle(cmd string) bool {
	f.mu.Lock()
	f.got = append(f.got, cmd)
	reply := final("ERROR")
	if r := f.script[cmd]; len(r) > 0 {
		reply = r[0]
		if len(r) > 1 {
			f.script[cmd] = r[1:]
		}
	}
	echo, hangup := f.echo, f.hangup == cmd
	f.mu.Unlock()
	if hangup {
		f.notify(cmd)
		return false
	}
	if echo {
		f.master.Write([]byte(cmd + "\r"))
	}
	if reply != silent {
		f.master.Write([]byte(reply))
	}
	f.notify(cmd)
	return true
}

func (f *fakeModem) notify(cmd string) {
	select {
	case f.seen <- cmd:
	default: // nobody waits (benchmarks)
	}
}

// send writes raw bytes to the modem side (URCs, garbage, late answers).
func (f *fakeModem) send(tb testing.TB, s string) {
	tb.Helper()
	if _, err := f.master.Write([]byte(s)); err != nil {
		tb.Fatalf("fake modem write: %v", err)
	}
}

// commands returns the commands received so far.
func (f *fakeModem) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

// waitFor waits until the fake has received cmd (and answered it).
func (f *fakeModem) waitFor(tb testing.TB, cmd string) {
	tb.Helper()
	t := time.NewTimer(guard)
	defer t.Stop()
	for {
		select {
		case c := <-f.seen:
			if c == cmd {
				return
			}
		case <-t.C:
			tb.Fatalf("fake modem never received %q", cmd)
		}
	}
}

// since returns the commands received after the first n.
func (f *fakeModem) since(n int) []string { return f.commands()[n:] }

// waitMatch polls until the buffer matches re.
func waitMatch(tb testing.TB, s *syncbuf.Buffer, re *regexp.Regexp) {
	tb.Helper()
	deadline := time.Now().Add(guard)
	for !re.MatchString(s.String()) {
		if time.Now().After(deadline) {
			tb.Fatalf("trace never matched %s:\n%s", re, s.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// nextURC receives one URC.
func nextURC(tb testing.TB, m *Modem) string {
	tb.Helper()
	select {
	case u, ok := <-m.URCs():
		if !ok {
			tb.Fatalf("URC channel closed")
		}
		return u
	case <-time.After(guard):
		tb.Fatalf("no URC arrived")
	}
	return ""
}

// pendingURCs drains the URCs already queued.
func pendingURCs(m *Modem) []string {
	var out []string
	for {
		select {
		case u, ok := <-m.URCs():
			if !ok {
				return out
			}
			out = append(out, u)
		default:
			return out
		}
	}
}

func testCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	tb.Cleanup(cancel)
	return ctx
}

func openPTY(tb testing.TB) (master, slave *os.File, err error) {
	tb.Helper()
	return pty.Open()
}
