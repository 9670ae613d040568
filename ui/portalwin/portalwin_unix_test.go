//go:build unix

package portalwin

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/internal/launch"
	"github.com/mobileplans/mobileplans/internal/syncbuf"
	"github.com/mobileplans/mobileplans/ui/desktop"
	"github.com/mobileplans/mobileplans/ui/portal/chromium"
	"github.com/mobileplans/mobileplans/ui/portalhost"
)

// session starts the bundled stack with an agent on its simulated modem.
func session(t *testing.T) (*launch.Session, context.Context) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the bundled stack and Chromium")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	se, err := launch.Start(ctx, launch.Settings{Mock: true, MockDir: t.TempDir()}, launch.Options{Tune: func(c *app.Config) {
		c.RegistrationPollInterval = 50 * time.Millisecond
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = se.Close() })
	return se, ctx
}

// contosoSteps is the autopilot script that buys a plan in Contoso's portal.
func contosoSteps(t *testing.T) []portalhost.Step {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "scripts", "contoso-autopilot.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	steps, err := portalhost.ParseScript(f)
	if err != nil {
		t.Fatal(err)
	}
	return steps
}

func walk(t *testing.T, ctx context.Context, e portalhost.Evaler) {
	t.Helper()
	if err := portalhost.Autopilot(ctx, e, contosoSteps(t), nil); err != nil {
		t.Fatalf("portal walk: %v", err)
	}
}

func skipNoChromium(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, chromium.ErrUnavailable) && os.Getenv("MMTEST_REQUIRE") == "" {
		t.Skipf("Chromium not available: %v", err)
	}
}

// TestFallbackToChromium: without the WebKit helper the opener falls back
// to a Chromium window with the bridge, its autopilot walks the portal,
// and the purchase made there installs and enables the profile; closing
// the window ends the events.
func TestFallbackToChromium(t *testing.T) {
	se, ctx := session(t)
	logs := &syncbuf.Buffer{}
	op := New(Options{Agent: se.Agent, RootCAs: se.Portal.RootCAs, Headless: true, Autopilot: contosoSteps(t),
		Kinds: []string{KindWebKit, KindChromium}, WebKitHelper: filepath.Join(t.TempDir(), "no-such-helper"),
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	req, err := se.Agent.PortalLaunch(ctx, "contoso")
	if err != nil {
		t.Fatal(err)
	}
	w, err := op.Open(ctx, req)
	skipNoChromium(t, err)
	if err != nil {
		t.Fatal(err)
	}
	if w.Kind() != KindChromium {
		t.Fatalf("opened a %s window", w.Kind())
	}
	// The autopilot runs on its own: wait for the fulfilment it starts.
	out, err := se.Agent.Wait(ctx)
	for errors.Is(err, app.ErrNoJourney) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
		out, err = se.Agent.Wait(ctx)
	}
	if err != nil || out.State != app.StateDone || out.ICCID == "" {
		t.Fatalf("outcome %+v, %v\n%s", out, err, logs)
	}
	if l := logs.String(); !strings.Contains(l, "autopilot finished") || strings.Contains(l, "correct horse") {
		t.Errorf("the autopilot's log, which must not hold what it typed:\n%s", l)
	}
	d, err := se.Agent.Device(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := d.EnabledProfile(); !ok || p.ICCID != out.ICCID {
		t.Fatalf("enabled %+v, want %s", p, out.ICCID)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for range w.Events() { // closed once the window is gone
	}
}

// TestSystemBrowser: the last resort opens the portal in "the user's
// browser" (here headless Chromium without the bridge) with the loopback
// callback; the portal posts the hand-back there and the agent installs
// the profile.
func TestSystemBrowser(t *testing.T) {
	se, ctx := session(t)
	b, err := chromium.New(ctx, chromium.Options{NoBridge: true, RootCAs: se.Portal.RootCAs})
	skipNoChromium(t, err)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	opened := make(chan string, 1)
	op := New(Options{Agent: se.Agent, Kinds: []string{KindBrowser}, OpenURL: func(u *url.URL) error {
		opened <- u.String()
		return nil
	}})
	req, err := se.Agent.PortalLaunch(ctx, "contoso")
	if err != nil {
		t.Fatal(err)
	}
	w, err := op.Open(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.Kind() != KindBrowser {
		t.Fatalf("opened a %s window", w.Kind())
	}
	u := <-opened
	pu, _ := url.Parse(u)
	if pu.Query().Get("mpcallback") == "" {
		t.Fatalf("launch URL %s has no loopback callback", u)
	}
	if err := w.RunScript(ctx, app.PortalScript{Kind: app.ScriptActivation, JS: "1", TransactionID: req.TransactionID}); err == nil {
		t.Fatal("a script ran in the system browser")
	}
	if err := b.Open(ctx, u); err != nil {
		t.Fatal(err)
	}
	walk(t, ctx, b)
	out, err := se.Agent.Wait(ctx)
	if err != nil || out.State != app.StateDone {
		t.Fatalf("outcome %+v, %v", out, err)
	}
	var _ desktop.PortalWindow = w
}
