package chromium

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/service/webca"
)

// startXvfb starts a virtual X display and returns its DISPLAY value; the
// server picks a free display number and reports it on a pipe
// (-displayfd), so there is no race for the number.
func startXvfb(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Skip("Xvfb not installed (apt-get install -y xvfb)")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
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

// TestWindow runs the portal in a Chromium window on an X display (Xvfb
// here, the user's display in `mobileplans activate --browser window`):
// the browser is not headless, and the bridge works the same.
func TestWindow(t *testing.T) {
	t.Setenv("DISPLAY", startXvfb(t))
	ca, err := webca.New("window test CA", nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCert(portalHost)
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, cert)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	b, err := New(ctx, Options{AllowedHost: portalHost, RootCAs: ca.CertPEM(), Window: true,
		HostMap: map[string]string{portalHost: srv.Listener.Addr().String()}})
	if errors.Is(err, ErrUnavailable) {
		t.Skipf("skipping browser test: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Open(ctx, "https://"+portalHost+"/"); err != nil {
		t.Fatal(err)
	}
	var got struct {
		UA     string
		Bridge bool
		Width  int
	}
	if err := b.Eval(ctx, `({UA: navigator.userAgent, Bridge: typeof MobilePlans === "object", Width: window.outerWidth})`, &got); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got.UA, "Headless") || !got.Bridge || got.Width <= 0 {
		t.Fatalf("window browser: %+v", got)
	}
	if err := b.Eval(ctx, `MobilePlans.notifyCancelledPurchase(MobilePlans.createPurchaseMetaData())`, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-b.Calls():
		if _, err := m.Parse(portalHost); err != nil {
			t.Fatalf("bridge message from the window: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("no bridge message from the window")
	}
}
