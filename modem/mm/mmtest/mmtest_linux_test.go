//go:build linux

package mmtest

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/modem/mm"
	"github.com/mobileplans/mobileplans/modem/sim"
)

// TestNoNamespace runs the fallback: ModemManager exports the simulated
// modem on the port the name trick gives it, and finds it again after a
// restart (the link goes back to the fake sysfs tree and to the pty).
func TestNoNamespace(t *testing.T) {
	t.Parallel()
	env := New(t, Options{NoNamespace: true})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if !env.NoNamespace {
		t.Fatal("Env.NoNamespace is false")
	}
	if !strings.HasPrefix(env.PTY, "/dev/../../../") || !strings.HasSuffix(env.PTY, "/ttyMM0") {
		t.Errorf("PTY = %s", env.PTY)
	}
	check := func(when string) {
		t.Helper()
		ms, err := mm.List(ctx, env.Conn(t))
		if err != nil {
			t.Fatalf("%s: List: %v", when, err)
		}
		if len(ms) != 1 || ms[0].IMEI != sim.DefaultIMEI || ms[0].IMEI != env.IMEI {
			t.Fatalf("%s: List = %+v, want one modem with IMEI %s", when, ms, sim.DefaultIMEI)
		}
		if ports := ms[0].ATPorts(); len(ports) != 1 || ports[0] != env.PTY {
			t.Errorf("%s: ATPorts = %v, want [%s]", when, ports, env.PTY)
		}
		// The port ModemManager opened is the pty.
		if got, err := filepath.EvalSymlinks(env.PTY); err != nil || got != env.PTS {
			t.Errorf("%s: %s -> %s, %v; want %s", when, env.PTY, got, err, env.PTS)
		}
	}
	check("start")

	if err := env.StopDaemon(); err != nil {
		t.Fatal(err)
	}
	if err := env.StartDaemon(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := env.WaitModem(ctx); err != nil {
		t.Fatal(err)
	}
	check("restart")
	if log := env.DaemonLog(); !strings.Contains(log, eventProcessed) || strings.Contains(log, "Is a directory") {
		t.Errorf("ModemManager's log after the restart:\n%s", tail(log, 40))
	}
}

func TestFakeSysfs(t *testing.T) {
	root := t.TempDir()
	tty, err := makeFakeSysfs(root, "Vendor", "Model")
	if err != nil {
		t.Fatal(err)
	}
	// What ModemManager's udev-less backend reads, resolved from the tty.
	links := []struct{ link, want string }{
		{filepath.Join(tty, "subsystem"), filepath.Join(root, "class", "tty")},
		{filepath.Join(tty, "..", "subsystem"), filepath.Join(root, "bus", "usb")},
		{filepath.Join(tty, "..", "driver"), filepath.Join(root, "bus", "usb", "drivers", "option")},
		{filepath.Join(tty, "..", "..", "subsystem"), filepath.Join(root, "bus", "usb")},
	}
	for _, l := range links {
		got, err := filepath.EvalSymlinks(l.link)
		if err != nil || got != l.want {
			t.Errorf("%s -> %s, %v; want %s", l.link, got, err, l.want)
		}
	}
	files := map[string]string{"idVendor": fakeVendor + "\n", "idProduct": fakeProduct + "\n", "manufacturer": "Vendor\n", "product": "Model\n"}
	for name, want := range files {
		b, err := os.ReadFile(filepath.Join(tty, "..", "..", name))
		if err != nil || string(b) != want {
			t.Errorf("%s = %q, %v", name, b, err)
		}
	}
}

// newFeedPTY is a dialPTY whose answers go to a pipe.
func newFeedPTY(t testing.TB) (*dialPTY, *os.File) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return &dialPTY{master: w}, r
}

func TestDialFeed(t *testing.T) {
	tests := []struct {
		in, modem string
		dials     int
	}{
		{"AT+CGMI\r", "AT+CGMI\r", 0},
		{"ATD*99***1#\r", "", 1},
		{"atd*99#\rAT\r", "AT\r", 1},
		{"ATD123;\r", "ATD123;\r", 0},
		{"AT+CG", "", 0},
	}
	for _, tc := range tests {
		d, r := newFeedPTY(t)
		for i := range len(tc.in) {
			if err := d.feed([]byte{tc.in[i]}); err != nil {
				t.Fatal(err)
			}
		}
		if string(d.ready) != tc.modem || len(d.Dials()) != tc.dials {
			t.Errorf("%q: modem got %q, %d dials", tc.in, d.ready, len(d.Dials()))
		}
		d.master.Close()
		answer, _ := io.ReadAll(r)
		if want := bytes.Repeat([]byte("\r\nCONNECT\r\n"), tc.dials); !bytes.Equal(answer, want) {
			t.Errorf("%q: answered %q", tc.in, answer)
		}
	}
}

// FuzzDialFeed: what ModemManager writes reaches the modem unchanged,
// except dial lines, which are answered.
func FuzzDialFeed(f *testing.F) {
	for _, s := range []string{"AT\r", "ATD*99***1#\r", "AT+CGLA=1,4,\"0000\"\rATD*99#\n", "\x7e\x00\x78\xf0\x7e", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		d, r := newFeedPTY(t)
		answered := make(chan int)
		go func() {
			n, _ := io.Copy(io.Discard, r)
			answered <- int(n)
		}()
		if err := d.feed(in); err != nil {
			t.Fatal(err)
		}
		d.master.Close()
		n := <-answered
		got := append(append([]byte(nil), d.ready...), d.partial...)
		dials := len(d.Dials())
		if n != dials*len("\r\nCONNECT\r\n") {
			t.Fatalf("%d dials, %d bytes answered", dials, n)
		}
		if dials == 0 && !bytes.Equal(got, in) {
			t.Fatalf("modem got %q from %q", got, in)
		}
		if len(got) > len(in) {
			t.Fatalf("modem got more than was sent")
		}
	})
}
