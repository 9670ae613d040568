//go:build linux

package sim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/mobileplans/mobileplans/internal/tty"
)

// helperEnv makes the test binary act as an unprivileged pty client (see
// TestMain and TestServePTYNonRootReopen).
const helperEnv = "SIM_PTY_CLIENT"

func TestMain(m *testing.M) {
	if spec := os.Getenv(helperEnv); spec != "" {
		os.Exit(ptyClientHelper(spec))
	}
	os.Exit(m.Run())
}

// ptyClientHelper runs in a child process. spec is "<mode>:<path>": mode
// "session" opens the port like ModemManager (TIOCEXCL, tcflush), sends AT
// and expects OK; mode "open" only opens it. Exit status 0 on success, 16
// for EBUSY, 1 for anything else.
func ptyClientHelper(spec string) int {
	mode, path, _ := strings.Cut(spec, ":")
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if errors.Is(err, unix.EBUSY) {
		return 16
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	if mode == "open" {
		return 0
	}
	if err := modemManagerOpen(f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := atOK(f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// modemManagerOpen does what ModemManager does after open(): raw mode,
// TIOCEXCL, tcflush(TCIOFLUSH).
func modemManagerOpen(f *os.File) error {
	if err := tty.MakeRaw(f); err != nil {
		return fmt.Errorf("raw mode: %w", err)
	}
	return tty.Control(f, func(fd int) error {
		if err := unix.IoctlSetInt(fd, unix.TIOCEXCL, 0); err != nil {
			return fmt.Errorf("TIOCEXCL: %w", err)
		}
		if err := unix.IoctlSetInt(fd, unix.TCFLSH, unix.TCIOFLUSH); err != nil {
			return fmt.Errorf("tcflush: %w", err)
		}
		return nil
	})
}

// atOK sends AT and reads lines until OK.
func atOK(f *os.File) error {
	if err := f.SetDeadline(time.Now().Add(hangGuard)); err != nil {
		return err
	}
	if _, err := io.WriteString(f, "AT\r"); err != nil {
		return err
	}
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("reading the reply: %w", err)
		}
		if strings.TrimSpace(line) == "OK" {
			return nil
		}
	}
}

func openPTYClient(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	if err := tty.MakeRaw(f); err != nil {
		t.Fatalf("raw mode: %v", err)
	}
	return f
}

func startPTY(t *testing.T) (*Modem, string, context.CancelFunc) {
	t.Helper()
	m := New(newFakeCard(profileA()), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	path, err := m.ServePTY(ctx)
	if err != nil {
		cancel()
		t.Fatalf("ServePTY: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := m.Wait(); err != nil {
			t.Errorf("Wait: %v", err)
		}
	})
	return m, path, cancel
}

func TestServePTY(t *testing.T) {
	m, path, cancel := startPTY(t)
	if !strings.HasPrefix(path, "/dev/") {
		t.Errorf("slave path %q", path)
	}
	for i := range 3 {
		f := openPTYClient(t, path)
		if err := atOK(f); err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		f.Close()
	}
	f := openPTYClient(t, path)
	c := newClient(t, f)
	if got := c.one("AT+CGMI"); got != "Mobileplans" {
		t.Errorf("AT+CGMI over the pty: %q", got)
	}
	sid := openSession(t, c)
	if got := c.one(cgla(sid, getEIDAPDU)); !strings.Contains(got, getEIDAnswer) {
		t.Errorf("CGLA over the pty: %q", got)
	}
	if n := len(m.Commands()); n != 6 {
		t.Errorf("%d commands logged, want 6", n)
	}
	cancel()
	if err := m.Wait(); err != nil {
		t.Errorf("Wait after cancel: %v", err)
	}
	f.Close()
}

// TestServePTYClearsExclusive: a client's TIOCEXCL (followed by the flush
// ModemManager does) is cleared by the modem while the client is still
// connected, so the next open is not refused.
func TestServePTYClearsExclusive(t *testing.T) {
	_, path, _ := startPTY(t)
	f := openPTYClient(t, path)
	if err := modemManagerOpen(f); err != nil {
		t.Fatal(err)
	}
	// The flush event is read before the data: once AT is answered, the
	// flag has been cleared.
	if err := atOK(f); err != nil {
		t.Fatal(err)
	}
	var excl int
	err := tty.Control(f, func(fd int) (err error) {
		excl, err = unix.IoctlGetInt(fd, unix.TIOCGEXCL)
		return err
	})
	if err != nil {
		t.Fatalf("TIOCGEXCL: %v", err)
	}
	if excl != 0 {
		t.Error("TIOCEXCL still set after the flush")
	}
	f.Close()
	f = openPTYClient(t, path)
	if err := atOK(f); err != nil {
		t.Fatalf("re-open: %v", err)
	}
	f.Close()
}

// TestServePTYNonRootReopen runs ModemManager's open sequence as an
// unprivileged user twice; without the TIOCNXCL work-around the second
// open fails with EBUSY. It needs root (to switch to uid 65534).
func TestServePTYNonRootReopen(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the client as another user")
	}
	dir, err := os.MkdirTemp("", "simpty")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "sim.test")
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(mode, path string) int {
		t.Helper()
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), helperEnv+"="+mode+":"+path)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &exit):
			if exit.ExitCode() == 1 {
				t.Logf("client (%s) failed: %s", mode, out)
			}
			return exit.ExitCode()
		}
		t.Skipf("cannot run a client as uid 65534: %v", err)
		return -1
	}

	// Control: on a plain pty a leftover TIOCEXCL locks the user out.
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer slave.Close()
	if err := os.Chmod(slave.Name(), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := tty.Control(slave, func(fd int) error { return unix.IoctlSetInt(fd, unix.TIOCEXCL, 0) }); err != nil {
		t.Fatal(err)
	}
	if code := run("open", slave.Name()); code != 16 {
		t.Skipf("TIOCEXCL is not enforced for uid 65534 here (exit %d)", code)
	}

	_, path, _ := startPTY(t)
	for i := range 3 {
		if code := run("session", path); code != 0 {
			t.Fatalf("unprivileged session #%d: exit %d", i+1, code)
		}
	}
}
