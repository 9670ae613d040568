package desktopapp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/internal/launch"
	"github.com/mobileplans/mobileplans/internal/qrcode"
	"github.com/mobileplans/mobileplans/internal/ring"
	"github.com/mobileplans/mobileplans/ui/desktop"
	"github.com/mobileplans/mobileplans/ui/portalhost"
	"github.com/mobileplans/mobileplans/ui/portalwin"
)

// AppID is the desktop app's ID (FyneApp.toml, the .desktop entry).
const AppID = "io.github.mobileplans.MobilePlans"

// Options configure Run.
type Options struct {
	// ConfigDir holds desktop.json (the settings); "" means
	// <user config dir>/mobileplans.
	ConfigDir string
	// Override, when set, replaces the saved settings for this run (not
	// saved): `mobileplans ui --mock`.
	Override *launch.Settings
	// StateDir is the agent's state directory ("" = launch's default).
	StateDir string
	// LogLevel of the log the diagnostics view shows.
	LogLevel slog.Level
	// ErrLog also receives the log at ErrLevel and up (the terminal); nil:
	// not.
	ErrLog   io.Writer
	ErrLevel slog.Level
	// PortalKinds orders the portal windows (portalwin.Options.Kinds).
	PortalKinds []string
	// Headless runs a Chromium portal window headless (tests).
	Headless bool
	// Autopilot walks each portal with these steps
	// (portalwin.Options.Autopilot).
	Autopilot []portalhost.Step
	// Tune adjusts each agent's Config (tests).
	Tune func(*app.Config)
	// Do replaces fyne.Do (tests).
	Do func(func())
	// Size of the main window; zero means 960x640.
	Size fyne.Size
}

// App is the running desktop app.
type App struct {
	UI     *desktop.UI
	Window fyne.Window
	Logs   *ring.Lines
	Trace  *ring.Lines
	log    *slog.Logger
}

// New builds the desktop app in a (its main window, the UI, the rings)
// and starts its first session. Show the window and run the app after.
func New(a fyne.App, o Options) (*App, error) {
	logs := ring.New(5000)
	trace := ring.New(20000)
	trace.SetEnabled(false)
	h := fanout{slog.NewTextHandler(logs, &slog.HandlerOptions{Level: o.LogLevel})}
	if o.ErrLog != nil {
		h = append(h, slog.NewTextHandler(o.ErrLog, &slog.HandlerOptions{Level: o.ErrLevel}))
	}
	log := slog.New(h)
	dir := o.ConfigDir
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return nil, err
		}
		dir = filepath.Join(base, "mobileplans")
	}
	var store desktop.Store = &fileStore{path: filepath.Join(dir, "desktop.json"), def: defaults(dir)}
	if o.Override != nil {
		store = &overrideStore{s: *o.Override, Store: store}
	}
	win := a.NewWindow("Mobile Plans")
	size := o.Size
	if size.IsZero() {
		size = fyne.NewSize(960, 640)
	}
	win.Resize(size)
	b := &backend{a: a, o: o, log: log, trace: trace}
	ui := desktop.New(a, win, desktop.Options{Backend: b, Store: store, Logs: logs, Trace: trace,
		DecodeQR: decodeQR, Do: o.Do, Logger: log})
	win.SetCloseIntercept(func() {
		ui.Close()
		win.Close()
	})
	ui.Start()
	return &App{UI: ui, Window: win, Logs: logs, Trace: trace, log: log}, nil
}

// defaults are the first run's settings: mock mode (there is no public
// discovery service to default to), its state kept under dir.
func defaults(dir string) launch.Settings {
	return launch.Settings{Mock: true, MockDir: filepath.Join(dir, "mock"), Modem: "auto"}
}

// overrideStore serves fixed settings for this run; a change made in the
// UI is saved to the real store and used.
type overrideStore struct {
	s     launch.Settings
	saved bool
	desktop.Store
}

func (o *overrideStore) Load() (launch.Settings, error) {
	if o.saved {
		return o.Store.Load()
	}
	return o.s, nil
}

func (o *overrideStore) Save(s launch.Settings) error {
	o.saved = true
	return o.Store.Save(s)
}

// backend starts sessions for the UI.
type backend struct {
	a     fyne.App
	o     Options
	log   *slog.Logger
	trace *ring.Lines
}

func (b *backend) Start(ctx context.Context, s launch.Settings) (desktop.Session, error) {
	ls, err := launch.Start(ctx, s, launch.Options{StateDir: b.o.StateDir, Logger: b.log,
		StackLogger: b.log.With("component", "bundled-stack"), APDUTrace: b.trace, Tune: b.o.Tune})
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if len(ls.Portal.RootCAs) > 0 && !pool.AppendCertsFromPEM(ls.Portal.RootCAs) {
		_ = ls.Close()
		return nil, errors.New("the trusted CA file holds no certificate")
	}
	opener := portalwin.New(portalwin.Options{Agent: ls.Agent, RootCAs: ls.Portal.RootCAs, CAFile: ls.Portal.CAFile,
		Kinds: b.o.PortalKinds, Headless: b.o.Headless, OpenURL: b.a.OpenURL, Autopilot: b.o.Autopilot,
		Logger: b.log.With("component", "portal")})
	return &session{ls: ls, opener: opener, web: &http.Client{Timeout: 20 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}}, nil
}

// session adapts a launch.Session to the UI.
type session struct {
	ls     *launch.Session
	opener *portalwin.Opener
	web    *http.Client
}

func (s *session) Agent() desktop.Agent          { return s.ls.Agent }
func (s *session) Describe() string              { return s.ls.Describe }
func (s *session) Portals() desktop.PortalOpener { return s.opener }
func (s *session) Close() error                  { return s.ls.Close() }

// Launch is the underlying session (tests reach the bundled stack).
func (s *session) Launch() *launch.Session { return s.ls }

// maxImage bounds a fetched logo or gateway image.
const maxImage = 2 << 20

// Fetch gets an image over https with the session's trust.
func (s *session) Fetch(ctx context.Context, u string) ([]byte, error) {
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme != "https" {
		return nil, fmt.Errorf("image %q: only https URLs are fetched", u)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.web.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("image %s: %s", pu.Host, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "image/") {
		return nil, fmt.Errorf("image %s: content type %q", pu.Host, ct)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxImage+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxImage {
		return nil, fmt.Errorf("image %s: larger than %d bytes", pu.Host, maxImage)
	}
	return b, nil
}

// decodeQR reads the activation code of a QR code image file.
func decodeQR(path string) (string, error) {
	text, err := qrcode.DecodeFile(path)
	if err != nil {
		return "", err
	}
	code, err := qrcode.ActivationCode(text)
	if err != nil {
		return "", err
	}
	return "LPA:" + code, nil
}
