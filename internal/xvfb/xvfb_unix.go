//go:build unix

package xvfb

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Start starts Xvfb with one screen of the given size ("1280x800x24";
// "" means that) and returns its DISPLAY value; the server picks a free
// display number and reports it on a pipe (-displayfd), so there is no
// race for the number. The test is skipped when Xvfb is not installed,
// unless require is set (then it fails). The server stops at cleanup.
func Start(t testing.TB, size string, require bool) string {
	t.Helper()
	if size == "" {
		size = "1280x800x24"
	}
	if _, err := exec.LookPath("Xvfb"); err != nil {
		if require {
			t.Fatal("Xvfb not installed (apt-get install -y xvfb)")
		}
		t.Skip("Xvfb not installed (apt-get install -y xvfb)")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", size, "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
		r.Close()
	})
	num := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		num <- strings.TrimSpace(line)
	}()
	select {
	case n := <-num:
		if n == "" {
			t.Fatal("Xvfb did not report a display")
		}
		return ":" + n
	case <-time.After(30 * time.Second):
		t.Fatal("Xvfb did not start")
	}
	return ""
}
