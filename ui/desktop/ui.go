package desktop

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/internal/launch"
)

// Trace is the APDU trace the diagnostics view records and exports.
type Trace interface {
	Logs
	SetEnabled(on bool)
	Enabled() bool
}

// Options configure New.
type Options struct {
	// Backend starts sessions; Store keeps the settings. Both required.
	Backend Backend
	Store   Store
	// Logs is the app's log, Trace the APDU trace (either may be nil).
	Logs  Logs
	Trace Trace
	// DecodeQR reads an activation code from a QR code image file; nil
	// hides the option.
	DecodeQR func(path string) (string, error)
	// Do runs a UI update on Fyne's thread; nil means fyne.Do.
	Do func(func())
	// Logger receives the UI's own diagnostics; nil discards them.
	Logger *slog.Logger
	// Now is the clock for displayed times; nil means time.Now.
	Now func() time.Time
}

// Tab names, in order (Ctrl+1 … Ctrl+5 select them).
const (
	TabPlan        = "Get a plan"
	TabProfiles    = "Profiles"
	TabBalance     = "Balance"
	TabSettings    = "Settings"
	TabDiagnostics = "Diagnostics"
)

// UI is the desktop app's window content and its state.
type UI struct {
	app fyne.App
	win fyne.Window
	o   Options
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// The fields below are used on Fyne's thread only.
	settings launch.Settings
	sess     Session
	agent    Agent
	gen      int // session generation: events of an older session are ignored

	tabs *container.AppTabs
	keys map[string]func() // shortcut handlers by name
	plan *planFlow
	prof *profilesView
	bal  *balanceView
	set  *settingsView
	diag *diagnosticsView
}

// New builds the UI in w. It does not start a session: call Start.
func New(a fyne.App, w fyne.Window, o Options) *UI {
	if o.Do == nil {
		o.Do = fyne.Do
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	u := &UI{app: a, win: w, o: o, log: o.Logger, ctx: ctx, cancel: cancel}
	u.plan = newPlanFlow(u)
	u.prof = newProfilesView(u)
	u.bal = newBalanceView(u)
	u.set = newSettingsView(u)
	u.diag = newDiagnosticsView(u)
	u.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon(TabPlan, theme.HomeIcon(), u.plan.root),
		container.NewTabItemWithIcon(TabProfiles, theme.ListIcon(), u.prof.root),
		container.NewTabItemWithIcon(TabBalance, theme.InfoIcon(), u.bal.root),
		container.NewTabItemWithIcon(TabSettings, theme.SettingsIcon(), u.set.root),
		container.NewTabItemWithIcon(TabDiagnostics, theme.DocumentIcon(), u.diag.root),
	)
	u.tabs.SetTabLocation(container.TabLocationLeading)
	u.tabs.OnSelected = func(t *container.TabItem) { u.onTab(t.Text) }
	w.SetContent(u.tabs)
	u.shortcuts()
	return u
}

// shortcuts: Ctrl+1..5 select a tab, Escape goes back in the flow, F5
// refreshes the shown view.
func (u *UI) shortcuts() {
	c := u.win.Canvas()
	u.keys = map[string]func(){}
	keys := []fyne.KeyName{fyne.Key1, fyne.Key2, fyne.Key3, fyne.Key4, fyne.Key5}
	for i, k := range keys {
		sc := &desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierControl}
		u.keys[sc.ShortcutName()] = func() { u.tabs.SelectIndex(i) }
		c.AddShortcut(sc, u.shortcut)
	}
	c.SetOnTypedKey(func(e *fyne.KeyEvent) {
		switch e.Name {
		case fyne.KeyEscape:
			if u.tabs.Selected().Text == TabPlan {
				u.plan.back()
			}
		case fyne.KeyF5:
			u.onTab(u.tabs.Selected().Text)
		}
	})
}

// shortcut runs the handler of a registered shortcut.
func (u *UI) shortcut(s fyne.Shortcut) {
	if f := u.keys[s.ShortcutName()]; f != nil {
		f()
	}
}

// Select shows the named tab.
func (u *UI) Select(tab string) {
	for i, t := range u.tabs.Items {
		if t.Text == tab {
			u.tabs.SelectIndex(i)
			return
		}
	}
}

func (u *UI) onTab(name string) {
	switch name {
	case TabPlan:
		u.plan.refresh()
	case TabProfiles:
		u.prof.refresh()
	case TabBalance:
		u.bal.refresh()
	case TabSettings:
		u.set.show(u.settings)
	case TabDiagnostics:
		u.diag.refresh()
	}
}

// Start loads the settings and starts a session with them.
func (u *UI) Start() {
	s, err := u.o.Store.Load()
	if err != nil {
		u.log.Warn("settings not loaded; using the defaults", "err", err)
		s = launch.Settings{Mock: true}
	}
	u.restart(s)
}

// Apply saves s and restarts the session with it.
func (u *UI) Apply(s launch.Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if err := u.o.Store.Save(s); err != nil {
		return err
	}
	u.restart(s)
	return nil
}

// restart closes the running session and starts one for s.
func (u *UI) restart(s launch.Settings) {
	u.settings = s
	u.closeSession()
	u.gen++
	gen := u.gen
	u.plan.showStarting()
	u.set.show(s)
	u.goDo(func(ctx context.Context) func() {
		sess, err := u.o.Backend.Start(ctx, s)
		return func() {
			if gen != u.gen || u.ctx.Err() != nil {
				if sess != nil {
					_ = sess.Close()
				}
				return
			}
			if err != nil {
				u.plan.showStartError(err)
				return
			}
			u.sess, u.agent = sess, sess.Agent()
			u.pumpEvents(gen, u.agent)
			u.plan.showDevice()
			if t := u.tabs.Selected().Text; t != TabPlan {
				u.onTab(t)
			}
		}
	})
}

func (u *UI) closeSession() {
	u.plan.closePortal()
	if u.sess != nil {
		if err := u.sess.Close(); err != nil {
			u.log.Warn("session close", "err", err)
		}
	}
	u.sess, u.agent = nil, nil
}

// Close ends the session and waits for the UI's goroutines.
func (u *UI) Close() {
	u.closeSession()
	u.cancel()
	u.wg.Wait()
}

// goDo runs work on its own goroutine and its returned UI update through
// Options.Do.
func (u *UI) goDo(work func(ctx context.Context) func()) {
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		f := work(u.ctx)
		if f != nil && u.ctx.Err() == nil {
			u.o.Do(f)
		}
	}()
}

// call runs fn against the agent in the background and gives its error to
// done on Fyne's thread; without a session, done gets errNoSession.
func (u *UI) call(fn func(ctx context.Context, a Agent) error, done func(error)) {
	a := u.agent
	if a == nil {
		if done != nil {
			done(errNoSession)
		}
		return
	}
	u.goDo(func(ctx context.Context) func() {
		err := fn(ctx, a)
		if done == nil {
			return nil
		}
		return func() {
			if u.agent != a {
				return // the session changed meanwhile
			}
			done(err)
		}
	})
}

var errNoSession = errors.New("the app is not connected to a modem yet")

// pumpEvents hands the agent's events to onEvent on Fyne's thread.
func (u *UI) pumpEvents(gen int, a Agent) {
	ch := a.Events()
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		for {
			select {
			case <-u.ctx.Done():
				return
			case ev, ok := <-ch:
				if !ok {
					return
				}
				u.o.Do(func() {
					if gen == u.gen {
						u.onEvent(ev)
					}
				})
			}
		}
	}()
}

func (u *UI) onEvent(ev app.Event) {
	switch e := ev.(type) {
	case app.Notification:
		u.notify(e)
		u.prof.refresh()
	case app.StateChanged:
		u.plan.onState(e)
		if e.To == app.StateDone || e.To == app.StateFailed || e.To == app.StateCancelled {
			u.prof.refresh()
		}
	default:
		u.plan.onEvent(ev)
	}
}

// notify shows a desktop notification.
func (u *UI) notify(n app.Notification) {
	u.app.SendNotification(fyne.NewNotification(n.Title, n.Body))
}

// showError shows err in a dialog, in plain words.
func (u *UI) showError(title string, err error) {
	m := explain(err)
	d := newMessageDialog(u.win, title, m)
	d.Show()
}

// label makes a wrapping label.
func label(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// heading makes a bold label.
func heading(s string) *widget.Label {
	l := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameSubHeadingText
	return l
}

// Screen is the name of the "Get a plan" tab's screen (for tests and
// diagnostics): starting, start-error, device, operators, gateway, code,
// portal, progress or result.
func (u *UI) Screen() string { return u.plan.screen }

// Portal is the open portal window, if any.
func (u *UI) Portal() PortalWindow { return u.plan.win }

// ScanQR reads the activation code of the QR code image at path into the
// activation-code screen (what "Open a QR code image…" does after the file
// dialog); it opens that screen first.
func (u *UI) ScanQR(path string) {
	if u.plan.screen != screenCode {
		u.plan.showCode()
	}
	u.plan.ScanQR(path, u.plan.codeStatus)
}

// Export writes the diagnostics view's lines (the log, or the APDU trace
// when shown) to w: what Export… saves.
func (u *UI) Export(w io.Writer, trace bool) error {
	if trace {
		u.diag.which.SetSelected(viewTrace)
	} else {
		u.diag.which.SetSelected(viewLog)
	}
	return u.diag.Export(w)
}

// Session is the running session (nil while none runs).
func (u *UI) Session() Session { return u.sess }
