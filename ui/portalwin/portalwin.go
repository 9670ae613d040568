package portalwin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/ui/desktop"
	"github.com/mobileplans/mobileplans/ui/portal/chromium"
	"github.com/mobileplans/mobileplans/ui/portalhost"
)

// Kinds of portal window, in the default order of preference.
const (
	KindWebKit   = "webkit"
	KindChromium = "chromium"
	KindBrowser  = "browser"
)

// ErrNoWindow: none of the preferred kinds could open.
var ErrNoWindow = errors.New("portalwin: no way to show the portal")

// Options configure an Opener.
type Options struct {
	// Agent receives the bridge calls.
	Agent portalhost.Agent
	// RootCAs (PEM) and CAFile are the extra CA the portal is trusted
	// with (a test CA); empty means the system's roots only.
	RootCAs []byte
	CAFile  string
	// Kinds is the order to try; nil means webkit, chromium, browser.
	Kinds []string
	// WebKitHelper is the portal helper's path ("" = next to the
	// executable, then PATH).
	WebKitHelper string
	// Headless runs Chromium without a window (tests only).
	Headless bool
	// OpenURL opens a URL in the user's browser (fyne.App.OpenURL).
	OpenURL func(*url.URL) error
	// Autopilot, when set, walks each portal with these steps once its
	// first page has loaded (demos and tests: `mobileplans ui
	// --autopilot`); a system browser cannot run them.
	Autopilot []portalhost.Step
	Logger    *slog.Logger
}

// Opener opens portal windows; it satisfies desktop.PortalOpener.
type Opener struct {
	o Options
}

// New returns an Opener.
func New(o Options) *Opener {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Kinds == nil {
		o.Kinds = []string{KindWebKit, KindChromium, KindBrowser}
	}
	return &Opener{o: o}
}

// Open opens req in the first kind of window that works.
func (op *Opener) Open(ctx context.Context, req app.PortalRequest) (desktop.PortalWindow, error) {
	var errs []error
	for _, k := range op.o.Kinds {
		var w desktop.PortalWindow
		var err error
		switch k {
		case KindWebKit:
			w, err = op.openWebKit(ctx, req)
		case KindChromium:
			w, err = op.openChromium(ctx, req)
		case KindBrowser:
			w, err = op.openBrowser(ctx, req)
		default:
			err = fmt.Errorf("unknown portal window kind %q", k)
		}
		if err == nil {
			op.o.Logger.Info("portal opened", "kind", k, "operator", req.OperatorID)
			return w, nil
		}
		op.o.Logger.Info("portal window kind not available", "kind", k, "err", err)
		errs = append(errs, fmt.Errorf("%s: %w", k, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("%w: %w", ErrNoWindow, errors.Join(errs...))
}

func (op *Opener) openChromium(ctx context.Context, req app.PortalRequest) (desktop.PortalWindow, error) {
	b, err := chromium.New(ctx, chromium.Options{AllowedHost: req.CallbackHost, RootCAs: op.o.RootCAs,
		Window: !op.o.Headless, Logger: op.o.Logger})
	if err != nil {
		return nil, err
	}
	w := op.newHostWindow(KindChromium, b, b.Close)
	w.back = func(ctx context.Context) error { return b.Eval(ctx, "history.back()", nil) }
	w.Chromium = b
	if err := w.start(ctx, req); err != nil {
		return nil, err
	}
	return w, nil
}

// HostWindow is a portal in a browser with the bridge, served by a
// portalhost.Host.
type HostWindow struct {
	kind   string
	host   *portalhost.Host
	log    *slog.Logger
	closeB func() error
	back   func(ctx context.Context) error
	guard  func(ctx context.Context, on bool) error
	// extra events of the browser (close-requested), may be nil.
	extra <-chan desktop.PortalEvent
	// Chromium is the browser of a chromium window (tests walk the
	// portal with it).
	Chromium *chromium.Browser
	// autopilot walks page once it has loaded (none in a system browser,
	// which cannot run scripts).
	page      portalhost.Evaler
	autopilot []portalhost.Step

	events    chan desktop.PortalEvent
	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

func (op *Opener) newHostWindow(kind string, b portalhost.Browser, closeB func() error) *HostWindow {
	w := &HostWindow{kind: kind, host: portalhost.New(b, op.o.Agent, portalhost.Options{Logger: op.o.Logger}), log: op.o.Logger,
		closeB: closeB, events: make(chan desktop.PortalEvent, 4), done: make(chan struct{})}
	if kind != KindBrowser {
		w.page, w.autopilot = b, op.o.Autopilot
	}
	return w
}

// start opens the request and serves the bridge until the browser closes.
func (w *HostWindow) start(ctx context.Context, req app.PortalRequest) error {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w.cancel = cancel
	go func() {
		defer close(w.done)
		defer close(w.events)
		errc := make(chan error, 1)
		go func() { errc <- w.host.Serve(sctx) }()
		extra := w.extra
		for {
			select {
			case err := <-errc:
				if errors.Is(err, portalhost.ErrClosed) {
					w.send(desktop.PortalClosed)
				}
				return
			case ev, ok := <-extra:
				if !ok {
					extra = nil
					continue
				}
				w.send(ev)
			}
		}
	}()
	if err := w.host.Open(ctx, req); err != nil {
		_ = w.Close()
		return err
	}
	if len(w.autopilot) > 0 {
		go w.runAutopilot(sctx)
	}
	return nil
}

// runAutopilot walks the page with the autopilot's steps; it stops at the
// first step that fails (logged) or when the window closes. Steps are
// logged by selector only: a fill step's text may be a password.
func (w *HostWindow) runAutopilot(ctx context.Context) {
	err := portalhost.Autopilot(ctx, w.page, w.autopilot, func(s portalhost.Step) {
		w.log.Info("autopilot", "line", s.Line, "step", string(s.Op), "selector", s.Selector)
	})
	switch {
	case err == nil:
		w.log.Info("autopilot finished", "steps", len(w.autopilot))
	case ctx.Err() != nil:
		w.log.Info("autopilot stopped: the portal closed")
	default:
		w.log.Warn("autopilot stopped", "err", err)
	}
}

func (w *HostWindow) send(ev desktop.PortalEvent) {
	select {
	case w.events <- ev:
	default:
		w.log.Debug("portal event dropped", "event", string(ev))
	}
}

// Kind says what shows the portal.
func (w *HostWindow) Kind() string { return w.kind }

// Host is the window's portal host.
func (w *HostWindow) Host() *portalhost.Host { return w.host }

// RunScript runs an agent script in the page.
func (w *HostWindow) RunScript(ctx context.Context, ps app.PortalScript) error {
	return w.host.RunScript(ctx, ps)
}

// Back goes back in the page's history.
func (w *HostWindow) Back(ctx context.Context) error {
	if w.back == nil {
		return nil
	}
	return w.back(ctx)
}

// Guard turns the close button into a close request, where the browser
// can (WebKit); elsewhere it does nothing.
func (w *HostWindow) Guard(ctx context.Context, on bool) error {
	if w.guard == nil {
		return nil
	}
	return w.guard(ctx, on)
}

// Events reports close requests and the window's end.
func (w *HostWindow) Events() <-chan desktop.PortalEvent { return w.events }

// Close closes the browser and waits for the host to stop.
func (w *HostWindow) Close() error {
	w.closeOnce.Do(func() {
		w.closeErr = w.closeB()
		if w.cancel != nil {
			w.cancel()
			<-w.done
		}
	})
	return w.closeErr
}
