package chromium

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/internal/xvfb"
	"github.com/mobileplans/mobileplans/service/webca"
)

// TestWindow runs the portal in a Chromium window on an X display (Xvfb
// here, the user's display in `mobileplans activate --browser window`):
// the browser is not headless, and the bridge works the same.
func TestWindow(t *testing.T) {
	t.Setenv("DISPLAY", xvfb.Start(t, "1024x768x24", false))
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
