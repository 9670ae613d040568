//go:build unix

package desktopapp

import (
	"context"
	"crypto/tls"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/internal/fynetest"
	"github.com/mobileplans/mobileplans/internal/launch"
	"github.com/mobileplans/mobileplans/service/smdp"
	"github.com/mobileplans/mobileplans/ui/portalhost"
	"github.com/mobileplans/mobileplans/ui/portalwin"
)

// TestJourneyByTaps is the whole purchase driven by taps in the desktop
// UI, on the real agent, the bundled stack (discovery service, Contoso
// Cellular, SM-DP+, simulated modem and eUICC over a pty) and the portal in
// headless Chromium with the bridge, walked like a person would.
func TestJourneyByTaps(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the bundled stack and Chromium")
	}
	if _, err := exec.LookPath("chromium"); err != nil && os.Getenv("MMTEST_REQUIRE") == "" {
		t.Skipf("Chromium not installed: %v", err)
	}
	fa := test.NewTempApp(t)
	q := fynetest.NewQueue()
	dir := t.TempDir()
	d, err := New(fa, Options{ConfigDir: dir, Override: &launch.Settings{Mock: true, MockDir: filepath.Join(dir, "mock")},
		PortalKinds: []string{portalwin.KindChromium}, Headless: true, Do: q.Do, Size: fyne.NewSize(900, 620),
		Tune: func(c *app.Config) {
			c.RegistrationPollInterval = 50 * time.Millisecond
			c.NetworkRegistrationTimeout = 30 * time.Second
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		q.Run()
		d.UI.Close()
	})
	c := d.Window.Canvas()
	until := func(what string, cond func() bool) {
		t.Helper()
		q.Until(t, 60*time.Second, what, cond)
	}
	tap := func(text string) {
		t.Helper()
		until("button "+text, func() bool {
			b := fynetest.Button(c, text)
			return b != nil && !b.Disabled()
		})
		test.Tap(fynetest.Button(c, text))
		q.Run()
	}
	has := func(s string) {
		t.Helper()
		until("text "+s+" (shown: "+strings.Join(fynetest.Texts(c), " | ")+")", func() bool { return fynetest.HasText(c, s) })
	}

	// The device, as the simulated modem and eUICC report it.
	until("the device screen", func() bool { return d.UI.Screen() == "device" && fynetest.HasText(c, "Simulated modem") })
	ls := d.UI.Session().(*session).Launch()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	before, err := ls.Agent.Device(ctx)
	if err != nil {
		t.Fatal(err)
	}
	has(before.EID)

	// Operators for the network's country, then Contoso's gateway page.
	tap("See plans from operators")
	has("Contoso Cellular")
	tap("Choose")
	until("gateway", func() bool { return d.UI.Screen() == "gateway" })
	var cont string
	until("the gateway's button", func() bool {
		for _, s := range fynetest.Texts(c) {
			if strings.HasPrefix(s, "[") && !strings.Contains(s, "Back") && !strings.Contains(s, "Get a plan") &&
				!strings.Contains(s, "Profiles") && !strings.Contains(s, "Balance") && !strings.Contains(s, "Settings") &&
				!strings.Contains(s, "Diagnostics") {
				cont = strings.Trim(s, "[]")
				return true
			}
		}
		return false
	})
	tap(cont)

	// The portal opens; the person walks it.
	until("the portal", func() bool { return d.UI.Screen() == "portal" && d.UI.Portal() != nil })
	has("Buying from Contoso Cellular")
	w, ok := d.UI.Portal().(*portalwin.HostWindow)
	if !ok || w.Chromium == nil {
		t.Fatalf("portal window %T is not Chromium", d.UI.Portal())
	}
	f, err := os.Open(filepath.Join("..", "..", "scripts", "contoso-autopilot.txt"))
	if err != nil {
		t.Fatal(err)
	}
	steps, err := portalhost.ParseScript(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	walked := make(chan error, 1)
	go func() { walked <- portalhost.Autopilot(ctx, w.Chromium, steps, nil) }()

	// The hand-back starts the download; the app shows its progress and
	// then the result.
	until("progress or result", func() bool { s := d.UI.Screen(); return s == "progress" || s == "result" })
	until("the result", func() bool { return d.UI.Screen() == "result" })
	has("You're all set")
	if err := <-walked; err != nil {
		t.Fatalf("portal walk: %v", err)
	}

	// The new profile is in use, on the eUICC itself.
	tap("See profiles")
	has("In use")
	dev, err := ls.Agent.Device(ctx)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := before.EnabledProfile()
	pr, ok := dev.EnabledProfile()
	if !ok || pr.ICCID == old.ICCID || len(dev.Profiles) != len(before.Profiles)+1 {
		t.Fatalf("after the journey: enabled %+v (ok %v, before %s), %d profiles (before %d)", pr, ok, old.ICCID,
			len(dev.Profiles), len(before.Profiles))
	}
	has(pr.ICCID)
}

// TestActivationCodeFromQR: an operator's QR code image, scanned in the
// UI's activation-code screen (no portal), downloads and enables the
// profile on the simulated eUICC.
func TestActivationCodeFromQR(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the bundled stack")
	}
	fa := test.NewTempApp(t)
	q := fynetest.NewQueue()
	dir := t.TempDir()
	d, err := New(fa, Options{ConfigDir: dir, Override: &launch.Settings{Mock: true, MockDir: filepath.Join(dir, "mock")},
		Do: q.Do, Tune: func(c *app.Config) { c.RegistrationPollInterval = 50 * time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Run(); d.UI.Close() })
	c := d.Window.Canvas()
	q.Until(t, 60*time.Second, "the device screen", func() bool { return d.UI.Screen() == "device" && fynetest.HasText(c, "Simulated modem") })
	ls := d.UI.Session().(*session).Launch()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// The operator orders a profile for this EID and prints its QR code.
	before, err := ls.Agent.Device(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := ls.Stack
	cert, err := smdp.IssueOperatorCertificate(st.PKI, "QR test operator", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	es2 := smdp.NewES2Client("https://"+st.SMDPAddress, &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: st.PKI.RootPool(), Certificates: []tls.Certificate{cert}}}}, "")
	dor, err := es2.DownloadOrder(ctx, smdp.DownloadOrderRequest{EID: before.EID})
	if err != nil {
		t.Fatal(err)
	}
	cor, err := es2.ConfirmOrder(ctx, smdp.ConfirmOrderRequest{ICCID: dor.ICCID, EID: before.EID, ReleaseFlag: true})
	if err != nil {
		t.Fatal(err)
	}
	code := "LPA:1$" + cor.SMDPAddress + "$" + cor.MatchingID
	m, err := qrcode.NewQRCodeWriter().Encode(code, gozxing.BarcodeFormat_QR_CODE, 300, 300, nil)
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "qr.png")
	fh, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(fh, m); err != nil {
		t.Fatal(err)
	}
	fh.Close()

	// Use an activation code → scan the image → download.
	test.Tap(fynetest.Button(c, "Use an activation code"))
	q.Run()
	d.UI.ScanQR(img)
	q.Until(t, 10*time.Second, "the code read", func() bool { return fynetest.HasText(c, "read from the QR code") })
	test.Tap(fynetest.Button(c, "Download and install"))
	q.Until(t, 60*time.Second, "the result", func() bool { return d.UI.Screen() == "result" })
	if !fynetest.HasText(c, "You're all set") {
		t.Fatalf("result: %q", fynetest.Texts(c))
	}
	after, err := ls.Agent.Device(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pr, ok := after.EnabledProfile(); !ok || pr.ICCID != strings.TrimRight(dor.ICCID, "Ff") {
		t.Fatalf("enabled %+v, want ICCID %s", pr, dor.ICCID)
	}
}
