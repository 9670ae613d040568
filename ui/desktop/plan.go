package desktop

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/ui/portal"
)

// Screens of the plan flow (planFlow.screen).
const (
	screenStarting   = "starting"
	screenStartError = "start-error"
	screenDevice     = "device"
	screenOperators  = "operators"
	screenGateway    = "gateway"
	screenCode       = "code"
	screenPortal     = "portal"
	screenProgress   = "progress"
	screenResult     = "result"
)

// planFlow is the "Get a plan" tab: device → operators → gateway → portal
// → progress → result, and the activation-code path.
type planFlow struct {
	u      *UI
	root   *fyne.Container
	screen string

	dev     app.Device
	ops     app.OperatorList
	op      app.Operator
	gw      app.Gateway
	win     PortalWindow
	busy    bool // a fulfilment runs
	outcome *app.Outcome

	// progress screen widgets
	stepLabel *widget.Label
	bar       *widget.ProgressBar
	detail    *widget.Label
	cancelBtn *widget.Button

	// code screen
	codeEntry  *widget.Entry
	codeStatus *widget.Label
}

func newPlanFlow(u *UI) *planFlow {
	p := &planFlow{u: u, root: container.NewStack()}
	p.set(screenStarting, p.startingView())
	return p
}

// set shows a screen and logs it ("screen shown", for diagnostics and
// the tests that drive the real app).
func (p *planFlow) set(name string, o fyne.CanvasObject) {
	p.show(name, o)
	p.u.log.Info("screen shown", "name", name)
}

// wait shows a screen's loading state.
func (p *planFlow) wait(name, title, what string) {
	p.show(name, container.NewVBox(heading(title), label(what)))
}

func (p *planFlow) show(name string, o fyne.CanvasObject) {
	p.screen = name
	p.root.Objects = []fyne.CanvasObject{container.NewPadded(o)}
	p.root.Refresh()
}

// Screen returns the name of the shown screen (for tests and logs).
func (p *planFlow) Screen() string { return p.screen }

// back goes to the previous screen of the flow (Escape), never past the
// portal while a fulfilment runs.
func (p *planFlow) back() {
	switch p.screen {
	case screenProgress:
		return
	case screenPortal:
		p.leavePortal()
		return
	case screenGateway:
		p.showOperators()
	case screenOperators, screenCode, screenResult:
		p.showDevice()
	}
}

func (p *planFlow) refresh() {
	if p.screen == screenDevice {
		p.showDevice()
	}
}

func (p *planFlow) startingView() fyne.CanvasObject {
	return container.NewVBox(heading("Mobile Plans"), label("Looking for the modem and its eSIM…"))
}

func (p *planFlow) showStarting() {
	p.set(screenStarting, p.startingView())
}

func (p *planFlow) showStartError(err error) {
	p.u.log.Warn("session start failed", "err", err)
	m := explain(err)
	settings := widget.NewButtonWithIcon("Open Settings", theme.SettingsIcon(), func() { p.u.Select(TabSettings) })
	retry := widget.NewButtonWithIcon("Try again", theme.ViewRefreshIcon(), func() { p.u.restart(p.u.settings) })
	retry.Importance = widget.HighImportance
	p.set(screenStartError, container.NewVBox(messageView(m), container.NewHBox(retry, settings)))
}

// showDevice reads the device and shows it.
func (p *planFlow) showDevice() {
	p.wait(screenDevice, "This device", "Reading the modem and the eSIM…")
	var d app.Device
	p.u.call(func(ctx context.Context, a Agent) error {
		var err error
		d, err = a.Device(ctx)
		return err
	}, func(err error) {
		if p.screen != screenDevice {
			return
		}
		p.dev = d
		if err != nil {
			retry := widget.NewButtonWithIcon("Try again", theme.ViewRefreshIcon(), p.showDevice)
			p.set(screenDevice, container.NewVBox(heading("This device"), messageView(explain(err)), retry))
			return
		}
		p.set(screenDevice, p.deviceView())
	})
}

func (p *planFlow) deviceView() fyne.CanvasObject {
	d := p.dev
	name := strings.TrimSpace(d.Manufacturer + " " + d.Model)
	if name == "" {
		name = "Cellular modem"
	}
	inUse := "None"
	if pr, ok := d.EnabledProfile(); ok {
		inUse = profileTitle(pr)
	}
	info := widget.NewForm(
		widget.NewFormItem("Modem", label(name)),
		widget.NewFormItem("IMEI", label(orDash(d.IMEI))),
		widget.NewFormItem("EID", label(orDash(d.EID))),
		widget.NewFormItem("Network", label(networkText(d.Registration))),
		widget.NewFormItem("Signal", label(signalText(d.Registration))),
		widget.NewFormItem("Plan in use", label(inUse)),
	)
	plans := widget.NewButtonWithIcon("See plans from operators", theme.NavigateNextIcon(), p.showOperators)
	plans.Importance = widget.HighImportance
	code := widget.NewButtonWithIcon("Use an activation code", theme.ContentPasteIcon(), p.showCode)
	refresh := widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), p.showDevice)
	var sess string
	if p.u.sess != nil {
		sess = p.u.sess.Describe()
	}
	return container.NewVBox(heading("This device"), label(sess), info, container.NewHBox(plans, code, refresh))
}

func profileTitle(pr app.Profile) string {
	n := firstNonEmpty(pr.Nickname, pr.ServiceProviderName, pr.ProfileName, "Profile")
	if pr.ServiceProviderName != "" && pr.Nickname != "" && pr.Nickname != pr.ServiceProviderName {
		n += " (" + pr.ServiceProviderName + ")"
	}
	return n + " · " + pr.ICCID
}

func networkText(r app.NetworkRegistration) string {
	var s string
	switch r.State {
	case portal.RegistrationHome:
		s = "Registered"
	case portal.RegistrationRoaming:
		s = "Roaming"
	case portal.RegistrationSearching:
		return "Searching…"
	case portal.RegistrationDenied:
		return "Registration denied"
	default:
		return "Not registered"
	}
	if r.OperatorName != "" {
		s += " on " + r.OperatorName
	}
	if r.AccessTech != "" {
		s += " (" + r.AccessTech + ")"
	}
	return s
}

func signalText(r app.NetworkRegistration) string {
	if !r.SignalValid {
		return "—"
	}
	q := "Weak"
	switch {
	case r.SignalDBm >= -75:
		q = "Excellent"
	case r.SignalDBm >= -90:
		q = "Good"
	case r.SignalDBm >= -105:
		q = "Fair"
	}
	return fmt.Sprintf("%s (%d dBm)", q, r.SignalDBm)
}

// showOperators asks the discovery service for the country's operators.
func (p *planFlow) showOperators() {
	p.wait(screenOperators, "Operators", "Finding operators for your country…")
	var list app.OperatorList
	p.u.call(func(ctx context.Context, a Agent) error {
		l, err := a.Operators(ctx)
		list = l
		return err
	}, func(err error) {
		if p.screen != screenOperators {
			return
		}
		if err != nil {
			p.set(screenOperators, p.operatorsOffline(err))
			return
		}
		p.ops = list
		p.set(screenOperators, p.operatorsView())
	})
}

func (p *planFlow) operatorsOffline(err error) fyne.CanvasObject {
	p.u.log.Warn("operators", "err", err)
	m := explain(err)
	if _, st := app.Classify(err); st == app.StatusServerNotReachable || st == app.StatusTimeoutWaitingForResponse || st == app.StatusOther {
		m = message{"Can't reach Mobile Plans", "The list of operators could not be loaded.",
			"Check your internet connection and try again. You can also use an activation code from your operator."}
	}
	retry := widget.NewButtonWithIcon("Try again", theme.ViewRefreshIcon(), p.showOperators)
	retry.Importance = widget.HighImportance
	code := widget.NewButtonWithIcon("Use an activation code", theme.ContentPasteIcon(), p.showCode)
	return container.NewVBox(heading("Operators"), messageView(m), container.NewHBox(retry, code, p.backButton()))
}

func (p *planFlow) backButton() *widget.Button {
	return widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), p.back)
}

func (p *planFlow) operatorsView() fyne.CanvasObject {
	ops := slices.Clone(p.ops.Operators)
	slices.SortFunc(ops, func(a, b app.Operator) int {
		return strings.Compare(strings.ToLower(a.Brand), strings.ToLower(b.Brand))
	})
	title := heading("Operators in " + countryName(p.ops.Country))
	if len(ops) == 0 {
		code := widget.NewButtonWithIcon("Use an activation code", theme.ContentPasteIcon(), p.showCode)
		return container.NewVBox(title,
			label("No operator offers plans for "+countryName(p.ops.Country)+" through Mobile Plans yet."),
			label("If your operator gave you an activation code or a QR code, you can use it instead."),
			container.NewHBox(code, p.backButton()))
	}
	rows := container.NewVBox()
	for _, op := range ops {
		op := op
		sub := "Plans on " + hostOf(op.PortalURL)
		if op.Owned {
			sub = "You already have a plan from this operator"
		}
		choose := widget.NewButtonWithIcon("Choose", theme.NavigateNextIcon(), func() { p.showGateway(op) })
		logo := newLogo(p.u, op.Brand, op.LogoURL)
		row := container.NewBorder(nil, nil, logo, choose,
			container.NewVBox(widget.NewLabelWithStyle(op.Brand, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), label(sub)))
		rows.Add(widget.NewCard("", "", row))
	}
	return container.NewBorder(container.NewVBox(title, label("Pick an operator to see its plans.")),
		container.NewHBox(p.backButton()), nil, nil, container.NewVScroll(rows))
}

// showGateway shows the operator's gateway page.
func (p *planFlow) showGateway(op app.Operator) {
	p.op = op
	p.wait(screenGateway, op.Brand, "Loading…")
	var g app.Gateway
	p.u.call(func(ctx context.Context, a Agent) error {
		var err error
		g, err = a.Gateway(ctx, op.ID)
		return err
	}, func(err error) {
		if p.screen != screenGateway {
			return
		}
		if err != nil {
			// The standard page: the portal may still work.
			p.u.log.Warn("gateway", "operator", op.ID, "err", err)
			g = app.Gateway{Operator: op}
		}
		p.gw = g
		p.set(screenGateway, newGatewayView(p.u, g, p.openPortal, p.back))
	})
}

// openPortal opens the operator's portal in its window.
func (p *planFlow) openPortal() {
	op := p.op
	p.closePortal()
	p.wait(screenPortal, op.Brand, "Opening "+op.Brand+"'s page…")
	sess := p.u.sess
	if sess == nil {
		p.set(screenPortal, container.NewVBox(messageView(explain(errNoSession)), p.backButton()))
		return
	}
	var win PortalWindow
	var req app.PortalRequest
	p.u.call(func(ctx context.Context, a Agent) error {
		var err error
		if req, err = a.PortalLaunch(ctx, op.ID); err != nil {
			return err
		}
		win, err = sess.Portals().Open(ctx, req)
		return err
	}, func(err error) {
		if err != nil {
			p.u.log.Warn("portal", "operator", op.ID, "err", err)
			m := message{"Can't open " + op.Brand + "'s page", "The operator's page could not be loaded.",
				"Check your internet connection and try again, or use an activation code."}
			retry := widget.NewButtonWithIcon("Try again", theme.ViewRefreshIcon(), p.openPortal)
			retry.Importance = widget.HighImportance
			p.set(screenPortal, container.NewVBox(messageView(m), container.NewHBox(retry, p.backButton())))
			return
		}
		if p.screen != screenPortal {
			_ = win.Close()
			return
		}
		p.win = win
		p.watchPortal(win)
		p.u.goDo(func(ctx context.Context) func() {
			if err := win.Guard(ctx, true); err != nil {
				p.u.log.Debug("portal guard", "err", err)
			}
			return nil
		})
		p.set(screenPortal, p.portalView())
	})
}

func (p *planFlow) portalView() fyne.CanvasObject {
	where := "in its own window"
	if p.win != nil && p.win.Kind() == "browser" {
		where = "in your web browser"
	}
	back := widget.NewButtonWithIcon("Back in the page", theme.NavigateBackIcon(), func() {
		win := p.win
		p.u.goDo(func(ctx context.Context) func() {
			if win != nil {
				_ = win.Back(ctx)
			}
			return nil
		})
	})
	leave := widget.NewButtonWithIcon("Leave "+p.op.Brand, theme.CancelIcon(), p.leavePortal)
	items := []fyne.CanvasObject{heading("Buying from " + p.op.Brand),
		label(p.op.Brand + "'s page is open " + where + ". Choose a plan and complete the purchase there; this app installs it when " + p.op.Brand + " hands it over."),
		container.NewHBox(back, leave)}
	if p.win != nil && p.win.Kind() == "browser" {
		items = append(items, label("When the page shows an activation code or a QR code instead, use it here:"),
			widget.NewButtonWithIcon("Use an activation code", theme.ContentPasteIcon(), p.showCode))
	}
	return container.NewVBox(items...)
}

// watchPortal follows a portal window's events.
func (p *planFlow) watchPortal(win PortalWindow) {
	ch := win.Events()
	p.u.wg.Add(1)
	go func() {
		defer p.u.wg.Done()
		for ev := range ch {
			p.u.o.Do(func() { p.onPortalEvent(win, ev) })
		}
		p.u.o.Do(func() { p.onPortalEvent(win, PortalClosed) })
	}()
}

func (p *planFlow) onPortalEvent(win PortalWindow, ev PortalEvent) {
	if win != p.win {
		return
	}
	switch ev {
	case PortalCloseRequested:
		p.leavePortal()
	case PortalClosed:
		p.win = nil
		if p.screen == screenPortal {
			p.showOperators()
		}
	}
}

// leavePortal asks before leaving a portal mid-flow, then closes it.
func (p *planFlow) leavePortal() {
	if p.busy {
		return // the download runs: the progress screen has Cancel
	}
	if p.win == nil {
		p.showOperators()
		return
	}
	dialog.ShowConfirm("Leave "+p.op.Brand+"?",
		"Your purchase is not finished. If you leave now, "+p.op.Brand+" does not hand over the plan.",
		func(ok bool) {
			if !ok {
				return
			}
			p.closePortal()
			p.showOperators()
		}, p.u.win)
}

// closePortal closes the portal window, if any.
func (p *planFlow) closePortal() {
	win := p.win
	p.win = nil
	if win == nil {
		return
	}
	go func() { _ = win.Close() }()
}

// showCode is the activation-code screen: paste one, or scan a QR image.
func (p *planFlow) showCode() {
	p.codeEntry = widget.NewEntry()
	p.codeEntry.SetPlaceHolder("LPA:1$smdp.example.com$MATCHING-ID")
	status := label("")
	p.codeStatus = status
	download := widget.NewButtonWithIcon("Download and install", theme.DownloadIcon(), nil)
	download.Importance = widget.HighImportance
	start := func() {
		code := strings.TrimSpace(p.codeEntry.Text)
		if code == "" {
			status.SetText("Paste the activation code first.")
			return
		}
		p.op = app.Operator{Brand: "your operator"}
		p.u.call(func(ctx context.Context, a Agent) error { return a.StartDownload(ctx, "", code) }, func(err error) {
			if err != nil {
				m := explain(err)
				status.SetText(m.Title + ". " + m.What)
			}
		})
	}
	download.OnTapped = start
	p.codeEntry.OnSubmitted = func(string) { start() }
	items := []fyne.CanvasObject{heading("Use an activation code"),
		label("Paste the activation code your operator gave you. It looks like LPA:1$smdp.example.com$CODE."),
		p.codeEntry}
	buttons := container.NewHBox(download)
	if p.u.o.DecodeQR != nil {
		buttons.Add(widget.NewButtonWithIcon("Open a QR code image…", theme.FileImageIcon(), func() { p.openQR(status) }))
	}
	buttons.Add(p.backButton())
	items = append(items, buttons, status)
	p.set(screenCode, container.NewVBox(items...))
}

// openQR picks an image file and reads the activation code from its QR
// code.
func (p *planFlow) openQR(status *widget.Label) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		_ = r.Close()
		p.ScanQR(path, status)
	}, p.u.win)
	d.Show()
}

// ScanQR reads the QR code image at path into the activation code entry.
func (p *planFlow) ScanQR(path string, status *widget.Label) {
	code, err := p.u.o.DecodeQR(path)
	if err != nil {
		status.SetText("No activation code found in that image: " + err.Error())
		return
	}
	p.codeEntry.SetText(code)
	status.SetText("Activation code read from the QR code. Press Download and install.")
}

// onState follows the journey.
func (p *planFlow) onState(e app.StateChanged) {
	switch e.To {
	case app.StateDownload, app.StateInstall, app.StateEnable, app.StateRefresh, app.StateRegister, app.StateConnect:
		if !p.busy {
			p.busy = true
			p.outcome = nil
			p.u.Select(TabPlan)
			p.set(screenProgress, p.progressView())
			p.u.win.RequestFocus()
		}
		p.stepLabel.SetText(stepText(e.To))
		if e.To != app.StateInstall {
			p.detail.SetText("")
		}
	case app.StateDone, app.StateFailed, app.StateCancelled:
		if !p.busy {
			return // a UI step's failure: its screen shows it
		}
		p.busy = false
		var out app.Outcome
		p.u.call(func(ctx context.Context, a Agent) error {
			var err error
			out, err = a.Wait(ctx)
			return err
		}, func(err error) {
			if err != nil && !errors.Is(err, app.ErrNoJourney) {
				out = app.Outcome{State: e.To, Err: err}
			}
			p.showResult(out)
		})
	}
}

func stepText(s app.State) string {
	switch s {
	case app.StateDownload:
		return "Downloading your plan"
	case app.StateInstall:
		return "Installing it on the eSIM"
	case app.StateEnable:
		return "Turning the plan on"
	case app.StateRefresh:
		return "Restarting the SIM"
	case app.StateRegister:
		return "Connecting to the network"
	case app.StateConnect:
		return "Starting mobile data"
	}
	return string(s)
}

func (p *planFlow) progressView() fyne.CanvasObject {
	p.stepLabel = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.bar = widget.NewProgressBar()
	p.detail = label("")
	p.cancelBtn = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() {
		p.cancelBtn.Disable()
		p.u.call(func(ctx context.Context, a Agent) error { return a.Cancel(ctx) }, func(err error) {
			if err != nil && !errors.Is(err, app.ErrNoJourney) {
				p.u.log.Warn("cancel", "err", err)
			}
		})
	})
	return container.NewVBox(heading("Setting up "+p.brand()), p.stepLabel, p.bar, p.detail,
		label("Keep the computer on until this finishes. If it is interrupted, nothing is left half-installed and you can try again."),
		container.NewHBox(p.cancelBtn))
}

func (p *planFlow) brand() string {
	if p.op.Brand != "" {
		return p.op.Brand
	}
	return "your plan"
}

// onEvent handles progress and portal scripts.
func (p *planFlow) onEvent(ev app.Event) {
	switch e := ev.(type) {
	case app.Progress:
		if p.bar == nil || p.screen != screenProgress {
			return
		}
		switch e.Stage {
		case app.StageInstalling:
			if e.Total > 0 {
				p.bar.SetValue(0.3 + 0.6*float64(e.Done)/float64(e.Total))
				p.detail.SetText(fmt.Sprintf("Segment %d of %d", e.Done, e.Total))
			}
		case app.StageAuthenticating:
			p.bar.SetValue(0.05)
			p.detail.SetText("Checking the operator's server")
		case app.StageDownloading:
			p.bar.SetValue(0.2)
			p.detail.SetText("Downloading the profile")
		case app.StageInstalled:
			p.bar.SetValue(0.9)
			p.detail.SetText("Installed")
		}
		if e.Attempt > 1 {
			p.detail.SetText(p.detail.Text + fmt.Sprintf(" (attempt %d)", e.Attempt))
		}
	case app.PortalScript:
		win := p.win
		if win == nil {
			return
		}
		p.u.goDo(func(ctx context.Context) func() {
			if err := win.RunScript(ctx, e); err != nil && !errors.Is(err, ErrNoScripts) {
				p.u.log.Info("portal script not run", "kind", e.Kind, "err", err)
			}
			return nil
		})
	case app.ErrorEvent:
		p.u.log.Warn("journey error", "state", string(e.State), "status", string(e.Status), "err", e.Err)
	}
}

// showResult shows how the fulfilment ended.
func (p *planFlow) showResult(out app.Outcome) {
	p.outcome = &out
	if p.bar != nil && out.State == app.StateDone {
		p.bar.SetValue(1)
	}
	var items []fyne.CanvasObject
	done := widget.NewButtonWithIcon("Done", theme.ConfirmIcon(), func() {
		p.closePortal()
		p.showDevice()
	})
	switch out.State {
	case app.StateDone:
		what := p.brand() + " is installed and in use."
		switch {
		case out.Connected:
			what += " You're connected."
		case out.Registration == portal.RegistrationHome || out.Registration == portal.RegistrationRoaming:
			what += " The network accepted it."
		}
		items = append(items, heading("You're all set"), label(what))
		if out.ICCID != "" {
			items = append(items, label("Profile "+out.ICCID))
		}
		done.Importance = widget.HighImportance
		items = append(items, container.NewHBox(done, widget.NewButtonWithIcon("See profiles", theme.ListIcon(), func() {
			p.closePortal()
			p.showDevice()
			p.u.Select(TabProfiles)
		})))
	default:
		m := explainStatus(out.Status)
		if out.State == app.StateCancelled {
			m = explainStatus(app.StatusOperationAborted)
		} else if out.Err != nil && out.Status == "" {
			m = explain(out.Err)
		}
		items = append(items, messageView(m))
		buttons := container.NewHBox()
		if p.op.ID != "" {
			retry := widget.NewButtonWithIcon("Try again", theme.ViewRefreshIcon(), p.openPortal)
			retry.Importance = widget.HighImportance
			buttons.Add(retry)
		}
		buttons.Add(done)
		items = append(items, buttons)
	}
	p.set(screenResult, container.NewVBox(items...))
	if win := p.win; win != nil {
		p.u.goDo(func(ctx context.Context) func() {
			_ = win.Guard(ctx, false)
			return nil
		})
	}
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func hostOf(u string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	s, _, _ = strings.Cut(s, "/")
	return s
}
