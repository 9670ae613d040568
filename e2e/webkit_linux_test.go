//go:build linux

package e2e

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/internal/syncbuf"
	"github.com/mobileplans/mobileplans/internal/xvfb"
	"github.com/mobileplans/mobileplans/service/discovery"
	"github.com/mobileplans/mobileplans/service/stack"
	"github.com/mobileplans/mobileplans/service/webca"
	"github.com/mobileplans/mobileplans/ui/portal"
	"github.com/mobileplans/mobileplans/ui/portal/webkit"
	"github.com/mobileplans/mobileplans/ui/portalhost"
)

// The tests of this file run the real portal helper (cmd/mobileplans-portal
// built with -tags webkit: GTK 3 and WebKitGTK 4.1) on an Xvfb display.
// They skip when the WebKitGTK development files are missing or the helper
// cannot start GTK or WebKit, and fail instead when MMTEST_REQUIRE=1 or
// WEBKIT_REQUIRE=1.
//
// Environment of the helper: DISPLAY of the Xvfb server, GDK_BACKEND=x11,
// a private XDG_RUNTIME_DIR, NO_AT_BRIDGE=1 (no accessibility bus) and
// GSETTINGS_BACKEND=memory (no dconf). No session bus is needed. WebKitGTK
// 2.50's 4.1 API runs the web process without its bubblewrap sandbox
// unless WEBKIT_FORCE_SANDBOX=1, so running as root needs nothing more
// (with WEBKIT_FORCE_SANDBOX=1 the sandbox works as root here too; where
// bubblewrap cannot create namespaces, WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS=1
// turns it off again). These variables concern the web process sandbox and
// desktop services only; TLS verification is the same either way.

func webkitRequired() bool {
	return os.Getenv("MMTEST_REQUIRE") == "1" || os.Getenv("WEBKIT_REQUIRE") == "1"
}

// webkitUnavailable skips the test, or fails it when WebKit is required.
func webkitUnavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if webkitRequired() {
		t.Fatalf("WebKit is required (MMTEST_REQUIRE or WEBKIT_REQUIRE) but "+format, args...)
	}
	t.Skipf(format, args...)
}

// webkitHelper is the built helper and the environment it runs in.
type webkitHelper struct {
	path string
	env  []string
}

// portalHelperBin is the WebKitGTK portal helper.
var portalHelperBin goBinary

// buildPortalHelper builds the helper (skipping the test, or failing it
// where WebKit is required, without WebKitGTK's development files) and
// returns its path.
func buildPortalHelper(t *testing.T) string {
	t.Helper()
	if out, err := exec.Command("pkg-config", "--exists", "--print-errors", "webkit2gtk-4.1").CombinedOutput(); err != nil {
		webkitUnavailable(t, "WebKitGTK 4.1 development files are missing (apt-get install -y libwebkit2gtk-4.1-dev): %v %s", err, out)
	}
	return portalHelperBin.build(t, "mobileplans-portal", "./cmd/mobileplans-portal", "-tags", "webkit")
}

// newWebkitHelper builds the helper and starts an X display for it.
func newWebkitHelper(t *testing.T) webkitHelper {
	t.Helper()
	path := buildPortalHelper(t)
	display := xvfb.Start(t, "1024x768x24", webkitRequired())
	return webkitHelper{path: path, env: []string{
		"DISPLAY=" + display,
		"GDK_BACKEND=x11",
		"WAYLAND_DISPLAY=",
		"XDG_RUNTIME_DIR=" + t.TempDir(),
		"NO_AT_BRIDGE=1",
		"GSETTINGS_BACKEND=memory",
	}}
}

// start starts a window; its log is shown when the test fails or
// WEBKIT_TEST_LOG=1.
func (h webkitHelper) start(t *testing.T, ctx context.Context, opts webkit.Options) *webkit.Browser {
	t.Helper()
	logs := &syncbuf.Buffer{}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("WEBKIT_TEST_LOG") == "1" {
			t.Logf("portal helper log:\n%s", logs.String())
		}
	})
	opts.HelperPath = h.path
	opts.Env = append(slices.Clone(h.env), opts.Env...)
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := webkit.Start(ctx, opts)
	if errors.Is(err, webkit.ErrUnavailable) {
		webkitUnavailable(t, "the WebKitGTK helper cannot start GTK or WebKit here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("closing the helper: %v", err)
		}
	})
	return b
}

// webkitEvent waits for the next event of kind (and url, unless ""),
// skipping the others.
func webkitEvent(t *testing.T, ctx context.Context, b *webkit.Browser, kind webkit.EventKind, url string) webkit.Event {
	t.Helper()
	for {
		select {
		case ev, ok := <-b.Events():
			if !ok {
				t.Fatalf("the window closed before a %s event", kind)
			}
			if ev.Kind == kind && (url == "" || ev.URL == url) {
				return ev
			}
		case <-ctx.Done():
			t.Fatalf("no %s event: %v", kind, ctx.Err())
		}
	}
}

// webkitCall waits for the next bridge message.
func webkitCall(t *testing.T, ctx context.Context, b *webkit.Browser) portal.Message {
	t.Helper()
	select {
	case m, ok := <-b.Calls():
		if !ok {
			t.Fatal("the window closed before a bridge message")
		}
		return m
	case <-ctx.Done():
		t.Fatalf("no bridge message: %v", ctx.Err())
	}
	return portal.Message{}
}

// TestWebkitJourney buys a Contoso Cellular line in the real WebKitGTK
// window: the bundled stack serves the portal on https://localhost:PORT
// (WebKit has no host resolver rules, and the discovery service accepts a
// port in the callback host only on loopback names), the helper trusts
// the stack's web CA, portalhost connects the window to the agent on the
// simulated modem, the portal is walked with the autopilot script, and the
// page's notifyProfileDownload reaches the agent with the origin WebKit
// reported. The profile ends installed and enabled on the simulated
// eUICC, and the page shows the results the agent reported back.
func TestWebkitJourney(t *testing.T) {
	h := newWebkitHelper(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := stack.Start(ctx, stack.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if host, _, _ := net.SplitHostPort(st.PortalCallbackHost); host != "localhost" {
		t.Fatalf("the stack's callback host is %q, want localhost:PORT", st.PortalCallbackHost)
	}
	b := h.start(t, ctx, webkit.Options{AllowedHost: st.PortalCallbackHost, CAFile: st.WebCAFile, Title: "Contoso Cellular"})

	_, agent := stackAgent(t, ctx, st, nil)

	type handled struct {
		m   portal.Message
		r   app.Reply
		err error
	}
	replies := make(chan handled, 64)
	host := portalhost.New(b, agent, portalhost.Options{OnReply: func(m portal.Message, r app.Reply, err error) {
		select {
		case replies <- handled{m, r, err}:
		default:
			t.Errorf("reply queue full; dropped %v", r.Action)
		}
	}})
	go func() { _ = host.Serve(ctx) }()
	// The agent's scripts run in the page; activated tells that the
	// activation result was reported there.
	activated := make(chan struct{})
	go func() {
		var once sync.Once
		for ev := range agent.Events() {
			ps, ok := ev.(app.PortalScript)
			if !ok {
				continue
			}
			if err := host.RunScript(ctx, ps); err != nil {
				if ctx.Err() == nil {
					t.Errorf("portal script %s: %v", ps.Kind, err)
				}
				continue
			}
			if ps.Kind == app.ScriptActivation {
				once.Do(func() { close(activated) })
			}
		}
	}()

	dev, err := agent.Probe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := agent.Operators(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ops.Operators, func(o app.Operator) bool { return o.ID == discovery.ContosoID }) {
		t.Fatalf("Contoso not offered: %+v", ops)
	}
	if _, err := agent.Gateway(ctx, discovery.ContosoID); err != nil {
		t.Fatal(err)
	}
	req, err := host.Launch(ctx, discovery.ContosoID)
	if err != nil {
		t.Fatal(err)
	}
	if req.CallbackHost != st.PortalCallbackHost || !strings.HasPrefix(req.URL, "https://"+st.PortalCallbackHost+"/") {
		t.Fatalf("launch %+v, want the portal on %s", req, st.PortalCallbackHost)
	}
	// Like the app while a purchase may be under way.
	if err := b.Guard(ctx, true); err != nil {
		t.Fatal(err)
	}

	script, err := os.Open(filepath.Join("..", "scripts", "contoso-autopilot.txt"))
	if err != nil {
		t.Fatal(err)
	}
	steps, err := portalhost.ParseScript(script)
	script.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := portalhost.Autopilot(ctx, b, steps, nil); err != nil {
		t.Fatal(err)
	}

	// The first call other than the naming of the callback scripts is the
	// hand-back: notifyProfileDownload, from the portal's origin as WebKit
	// reported it.
	var r handled
	for r.r.Action == "" || r.r.Action == app.ActionScriptsSet {
		select {
		case r = <-replies:
		case <-ctx.Done():
			t.Fatal("no bridge call from the portal")
		}
	}
	if r.err != nil || r.r.Action != app.ActionDownloadStarted {
		t.Fatalf("bridge reply %+v %v, want %s", r.r, r.err, app.ActionDownloadStarted)
	}
	if want := "https://" + st.PortalCallbackHost; r.m.Origin != want {
		t.Fatalf("bridge message from %q, want %q", r.m.Origin, want)
	}
	call, err := r.m.Parse(st.PortalCallbackHost)
	if pd, ok := call.(*portal.ProfileDownload); err != nil || !ok || pd.Op != "notifyProfileDownload" {
		t.Fatalf("the hand-back is %T %+v (%v), want notifyProfileDownload", call, call, err)
	}

	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	out, err := agent.Wait(wctx)
	if err != nil {
		t.Fatal(err)
	}
	if out.State != app.StateDone || out.Result != portal.ActivationSuccess || out.ICCID == "" {
		t.Fatalf("outcome %+v", out)
	}
	after, err := agent.Probe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := after.EnabledProfile()
	if !ok || p.ICCID != out.ICCID || after.ICCID != out.ICCID || len(after.Profiles) != len(dev.Profiles)+1 {
		t.Fatalf("after the purchase the device has %+v (enabled %+v), want %s enabled and one profile more than %d",
			after.Profiles, p, out.ICCID, len(dev.Profiles))
	}
	if a, ok := st.Card.Active(); !ok || string(a.ICCID) != out.ICCID {
		t.Fatalf("the simulated eUICC runs %+v, want %s", a, out.ICCID)
	}

	select {
	case <-activated:
	case <-ctx.Done():
		t.Fatal("the activation result was not reported into the page")
	}
	var page struct{ Act, ActICCID string }
	if err := b.Eval(ctx, `({Act: document.querySelector("#activation-status").dataset.result,
		ActICCID: document.querySelector("#activation-status").dataset.iccid || ""})`, &page); err != nil {
		t.Fatal(err)
	}
	if page.Act != "success" || page.ActICCID != out.ICCID {
		t.Fatalf("the page shows %+v, want success for %s", page, out.ICCID)
	}
}

// webkitTestPage is the allowed origin's page: a popup button, a
// target=_blank link, and a cross-origin iframe that posts to the message
// handler directly and tells the page what it sees of the bridge; the page
// reports that through the bridge.
const webkitTestPage = `<!doctype html><meta charset="utf-8"><title>WebKit test</title>
<a id="blank" href="/other" target="_blank">new window</a>
<iframe id="frame" src="%s/frame"></iframe>
<script>
addEventListener("message", function (e) {
  if (e.origin !== %q) { return; }
  var m = MobilePlans.createPurchaseMetaData();
  m.planName = "frame:" + e.data;
  MobilePlans.notifyCancelledPurchase(m);
});
</script>`

// webkitFrame posts a forged message straight to the WebKit message
// handler (cross-origin iframes have window.webkit.messageHandlers too)
// and tells the parent whether the bridge or its transport exist here.
const webkitFrame = `<!doctype html><script>
var forged = JSON.stringify({v: 1, op: "notifyCancelledPurchase", object: "MobilePlans", origin: %q,
  args: {meta: {planName: "forged"}}});
window.webkit.messageHandlers.mobileplans.postMessage(forged);
parent.postMessage(typeof MobilePlans + "/" + typeof __mobileplansWebKit, "*");
</script>`

// webkitServer serves handler over TLS with cert on 127.0.0.1 and returns
// its https://localhost:PORT base.
func webkitServer(t *testing.T, cert tls.Certificate, handler http.Handler) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(handler)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	// Refused handshakes are the point of TestWebkitTLSTrust.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return "https://localhost:" + port
}

// TestWebkitWindow: the bridge exists in the top frame only and its
// messages carry the origin WebKit reported; what reaches the message
// handler any other way is refused; popups and new windows are blocked
// and reported; launch headers go with the navigation; Back, and the
// close guard with the real close button.
func TestWebkitWindow(t *testing.T) {
	h := newWebkitHelper(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ca, err := webca.New("webkit test CA", nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCert("localhost")
	if err != nil {
		t.Fatal(err)
	}
	// other is a second origin (another port) with the same certificate.
	var otherURL string
	other := http.NewServeMux()
	portalMux := http.NewServeMux()
	launchHeaders := make(chan http.Header, 4)
	portalURL := webkitServer(t, cert, portalMux)
	otherURL = webkitServer(t, cert, other)
	portalMux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		launchHeaders <- r.Header.Clone()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, webkitTestPage, otherURL, otherURL)
	})
	portalMux.HandleFunc("/other", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>other</title>`)
	})
	other.HandleFunc("/frame", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, webkitFrame, portalURL)
	})
	other.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>Totally Contoso</title>`)
	})
	allowed := strings.TrimPrefix(portalURL, "https://")
	const title = "Mobile Plans WebKit window test"
	b := h.start(t, ctx, webkit.Options{AllowedHost: allowed, RootCAs: ca.CertPEM(), Title: title})
	t.Logf("WebKitGTK %s", b.Version())

	if err := b.OpenWithHeaders(ctx, portalURL+"/", http.Header{app.HeaderLPAErrorCodes: {"8"}}); err != nil {
		t.Fatal(err)
	}
	if got := (<-launchHeaders).Get(app.HeaderLPAErrorCodes); got != "8" {
		t.Fatalf("the portal got %s %q, want 8", app.HeaderLPAErrorCodes, got)
	}
	if ev := webkitEvent(t, ctx, b, webkit.EventTLSTrusted, ""); ev.Host != "localhost" {
		t.Fatalf("trusted %+v", ev)
	}
	var frame struct{ W, H int }
	if err := b.Eval(ctx, `({W: innerWidth, H: innerHeight})`, &frame); err != nil {
		t.Fatal(err)
	}
	if frame.W != 800 || frame.H != 600 {
		t.Errorf("the portal frame is %dx%d, want 800x600", frame.W, frame.H)
	}

	t.Run("bridge in the top frame only", func(t *testing.T) {
		// The frame's direct post is refused by the helper...
		ev := webkitEvent(t, ctx, b, webkit.EventBridgeRefused, "")
		if !strings.Contains(ev.Reason, "top frame") || ev.Origin != portalURL {
			t.Fatalf("refusal %+v", ev)
		}
		// ... and the frame has neither the bridge nor its transport; the
		// top frame's report of that is the first message on Calls.
		m := webkitCall(t, ctx, b)
		if m.Origin != portalURL {
			t.Fatalf("message from %q, want %q", m.Origin, portalURL)
		}
		c, err := m.Parse(allowed)
		cp, ok := c.(*portal.CancelledPurchase)
		if err != nil || !ok || cp.Meta.PlanName != "frame:undefined/undefined" {
			t.Fatalf("message %s: %+v %v", m.Raw, c, err)
		}
	})

	t.Run("popups blocked", func(t *testing.T) {
		var opened bool
		if err := b.Eval(ctx, `window.open("/popup") !== null`, &opened); err != nil {
			t.Fatal(err)
		}
		if ev := webkitEvent(t, ctx, b, webkit.EventPopupBlocked, ""); opened || ev.URL != portalURL+"/popup" {
			t.Fatalf("window.open returned a window: %v; event %+v", opened, ev)
		}
		if err := b.Eval(ctx, `document.getElementById("blank").click()`, nil); err != nil {
			t.Fatal(err)
		}
		if ev := webkitEvent(t, ctx, b, webkit.EventPopupBlocked, ""); ev.URL != portalURL+"/other" {
			t.Fatalf("event %+v", ev)
		}
		var href string
		if err := b.Eval(ctx, `location.href`, &href); err != nil || href != portalURL+"/" {
			t.Fatalf("the page is %q (%v), want it unchanged", href, err)
		}
	})

	t.Run("other origin", func(t *testing.T) {
		if err := b.Open(ctx, otherURL+"/"); err != nil {
			t.Fatal(err)
		}
		// The bridge refuses in the page...
		err := b.Eval(ctx, `MobilePlans.notifyCancelledPurchase(MobilePlans.createPurchaseMetaData())`, nil)
		if err == nil || !strings.Contains(err.Error(), "calls are accepted only from") {
			t.Fatalf("bridge call on another origin: %v", err)
		}
		// ... and a message forged through the transport carries the
		// origin WebKit reported, which the host refuses.
		if err := b.Eval(ctx, `__mobileplansWebKit(JSON.stringify({v: 1, op: "notifyCancelledPurchase",
			object: "MobilePlans", origin: `+strconv.Quote(portalURL)+`, args: {meta: {planName: ""}}}))`, nil); err != nil {
			t.Fatal(err)
		}
		m := webkitCall(t, ctx, b)
		if _, err := m.Parse(allowed); m.Origin != otherURL || !errors.Is(err, portal.ErrForeignOrigin) {
			t.Fatalf("forged message from %q: %v, want a foreign origin %s", m.Origin, err, otherURL)
		}
	})

	t.Run("back", func(t *testing.T) {
		went, err := b.Back(ctx)
		if err != nil || !went {
			t.Fatalf("back = %v, %v", went, err)
		}
		webkitEvent(t, ctx, b, webkit.EventLoaded, portalURL+"/")
	})

	t.Run("close guard", func(t *testing.T) {
		if err := b.Guard(ctx, true); err != nil {
			t.Fatal(err)
		}
		closeButton(t, ctx, h, title)
		webkitEvent(t, ctx, b, webkit.EventCloseRequested, "")
		select {
		case <-b.Done():
			t.Fatal("the guarded window closed")
		default:
		}
		if err := b.Guard(ctx, false); err != nil {
			t.Fatal(err)
		}
		closeButton(t, ctx, h, title)
		webkitEvent(t, ctx, b, webkit.EventClosed, "")
		select {
		case <-b.Done():
		case <-ctx.Done():
			t.Fatal("the helper did not exit after its window closed")
		}
	})
}

// closeButton clicks the close button of the header bar (top right of the
// window; no window manager runs on the Xvfb display).
func closeButton(t *testing.T, ctx context.Context, h webkitHelper, title string) {
	t.Helper()
	xdo := func(args ...string) string {
		cmd := exec.CommandContext(ctx, "xdotool", args...)
		cmd.Env = append(os.Environ(), h.env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("xdotool %s: %v", strings.Join(args, " "), err)
		}
		return string(out)
	}
	if _, err := exec.LookPath("xdotool"); err != nil {
		webkitUnavailable(t, "xdotool is not installed (apt-get install -y xdotool)")
	}
	id := strings.Fields(xdo("search", "--name", "^"+title+"$"))
	if len(id) != 1 {
		t.Fatalf("windows named %q: %v", title, id)
	}
	var x, y, w int
	for _, l := range strings.Fields(xdo("getwindowgeometry", "--shell", id[0])) {
		k, v, _ := strings.Cut(l, "=")
		switch k {
		case "X":
			fmt.Sscan(v, &x)
		case "Y":
			fmt.Sscan(v, &y)
		case "WIDTH":
			fmt.Sscan(v, &w)
		}
	}
	xdo("mousemove", fmt.Sprint(x+w-24), fmt.Sprint(y+22), "click", "1")
}

// TestWebkitTLSTrust: the helper accepts a server certificate only when
// it verifies against the given CA for the host and port WebKit
// connected to; anything else is a tls-error, the open fails with
// ErrCertificate and nothing of the page is requested or shown.
func TestWebkitTLSTrust(t *testing.T) {
	h := newWebkitHelper(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The trusted CA issues with a clock that the expired case moves back.
	var clock struct {
		sync.Mutex
		back time.Duration
	}
	now := func() time.Time {
		clock.Lock()
		defer clock.Unlock()
		return time.Now().Add(-clock.back)
	}
	trusted, err := webca.New("trusted test CA", now)
	if err != nil {
		t.Fatal(err)
	}
	untrusted, err := webca.New("another CA", nil)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(ca *webca.CA, back time.Duration, hosts ...string) tls.Certificate {
		clock.Lock()
		clock.back = back
		clock.Unlock()
		defer func() { clock.Lock(); clock.back = 0; clock.Unlock() }()
		c, err := ca.ServerCert(hosts...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	type server struct {
		url  string
		hits *int
	}
	var mu sync.Mutex
	serve := func(cert tls.Certificate) server {
		hits := new(int)
		return server{url: webkitServer(t, cert, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			mu.Lock()
			*hits++
			mu.Unlock()
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><title>served</title>`)
		})), hits: hits}
	}
	good := serve(issue(trusted, 0, "localhost"))
	b := h.start(t, ctx, webkit.Options{AllowedHost: strings.TrimPrefix(good.url, "https://"), RootCAs: trusted.CertPEM()})

	tests := []struct {
		name  string
		srv   server
		flags []string // nil: trusted
	}{
		{"trusted CA", good, nil},
		{"another CA", serve(issue(untrusted, 0, "localhost")), []string{"unknown-ca"}},
		{"another host name", serve(issue(trusted, 0, "portal.contoso.test")), []string{"bad-identity"}},
		{"expired", serve(issue(trusted, 3*365*24*time.Hour, "localhost")), []string{"expired"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := b.Open(ctx, tt.srv.url+"/")
			var href string
			if e := b.Eval(ctx, `location.href`, &href); e != nil {
				t.Fatal(e)
			}
			mu.Lock()
			hits := *tt.srv.hits
			mu.Unlock()
			if tt.flags == nil {
				if err != nil || href != tt.srv.url+"/" || hits == 0 {
					t.Fatalf("open: %v; page %q, %d requests", err, href, hits)
				}
				return
			}
			if !errors.Is(err, webkit.ErrCertificate) {
				t.Fatalf("open: %v, want ErrCertificate", err)
			}
			ev := webkitEvent(t, ctx, b, webkit.EventTLSError, "")
			for _, f := range tt.flags {
				if !slices.Contains(ev.Flags, f) {
					t.Errorf("tls-error %+v lacks %s", ev, f)
				}
			}
			if ev.URL != tt.srv.url+"/" || ev.Host != "localhost" {
				t.Errorf("tls-error %+v", ev)
			}
			if hits != 0 || href == tt.srv.url+"/" {
				t.Fatalf("the refused server got %d requests and the page is %q", hits, href)
			}
		})
	}
}
