package desktop

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	fdesktop "fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/internal/fynetest"
	"github.com/mobileplans/mobileplans/internal/launch"
	"github.com/mobileplans/mobileplans/modem/backend"
	"github.com/mobileplans/mobileplans/service/discovery"
)

// rig is the UI on a fake agent under the test driver.
type rig struct {
	t     *testing.T
	q     *fynetest.Queue
	a     *fakeAgent
	win   *fakeWindow
	b     *fakeBackend
	u     *UI
	w     fyne.Window
	store *memStore
}

func newRig(t *testing.T, change func(*fakeAgent, *fakeBackend)) *rig {
	t.Helper()
	fa := test.NewTempApp(t)
	r := &rig{t: t, q: fynetest.NewQueue(), a: newFakeAgent(), win: &fakeWindow{kind: "webkit", events: make(chan PortalEvent, 4)}}
	r.b = &fakeBackend{sess: &fakeSession{a: r.a, win: r.win}}
	if change != nil {
		change(r.a, r.b)
	}
	r.store = &memStore{s: launch.Settings{Mock: true}}
	r.w = test.NewWindow(nil)
	r.w.Resize(fyne.NewSize(900, 620))
	now := func() time.Time { return time.Date(2030, 1, 7, 8, 0, 0, 0, time.UTC) }
	r.u = New(fa, r.w, Options{Backend: r.b, Store: r.store, Do: r.q.Do, Now: now,
		Logs:     fixedLines{"time=… level=INFO msg=\"agent started\"", "time=… level=INFO msg=journey from=idle to=probe"},
		DecodeQR: func(path string) (string, error) { return "LPA:1$smdp.contoso.test$QR-CODE", nil }})
	t.Cleanup(func() {
		r.u.Close()
		r.w.Close()
	})
	r.u.Start()
	return r
}

func (r *rig) until(what string, cond func() bool) {
	r.t.Helper()
	r.q.Until(r.t, 10*time.Second, what, cond)
}

func (r *rig) screen(name string) {
	r.t.Helper()
	r.until("screen "+name, func() bool { return r.u.Screen() == name && !fynetest.ObjectHasText(r.u.plan.root, "…") })
}

// tap taps the button whose text contains text.
// toPortal walks from the device screen to Contoso's portal: see plans,
// choose Contoso, go on from its gateway page.
func (r *rig) toPortal() {
	r.t.Helper()
	r.tap("See plans")
	r.tap("Choose")
	r.tap("Get Contoso")
	r.screen(screenPortal)
}

func (r *rig) tap(text string) {
	r.t.Helper()
	var b interface{ Tapped(*fyne.PointEvent) }
	r.until("button "+text, func() bool {
		bt := fynetest.Button(r.w.Canvas(), text)
		if bt == nil || bt.Disabled() {
			return false
		}
		b = bt
		return true
	})
	test.Tap(b.(fyne.Tappable))
	r.q.Run()
}

func (r *rig) has(s string) {
	r.t.Helper()
	r.until("text "+s, func() bool { return fynetest.HasText(r.w.Canvas(), s) })
}

func (r *rig) master(name string) {
	r.t.Helper()
	r.q.Run()
	test.AssertRendersToMarkup(r.t, name+".xml", r.w.Canvas())
}

// TestScreens renders every screen of the app, in its normal and error
// states, against markup masters in testdata/.
func TestScreens(t *testing.T) {
	tests := []struct {
		name   string
		change func(*fakeAgent, *fakeBackend)
		walk   func(r *rig)
	}{
		{"device", nil, func(r *rig) { r.screen(screenDevice); r.has("EM120R-GL") }},
		{"start_error", func(_ *fakeAgent, b *fakeBackend) {
			b.err = &backend.NoModemError{}
		}, func(r *rig) { r.screen(screenStartError); r.has("No cellular modem found") }},
		{"device_error", func(a *fakeAgent, _ *fakeBackend) { a.devErr = app.ErrLPAInit }, func(r *rig) {
			r.screen(screenDevice)
			r.has("The eSIM did not answer")
		}},
		{"operators", nil, func(r *rig) {
			r.tap("See plans")
			r.screen(screenOperators)
			r.has("Fabrikam Mobile")
		}},
		{"operators_empty", func(a *fakeAgent, _ *fakeBackend) { a.ops.Operators = nil }, func(r *rig) {
			r.tap("See plans")
			r.screen(screenOperators)
			r.has("No operator offers plans")
		}},
		{"operators_offline", func(a *fakeAgent, _ *fakeBackend) {
			a.opsErr = errors.New("dial tcp: connection refused")
		}, func(r *rig) {
			r.tap("See plans")
			r.screen(screenOperators)
			r.has("Can't reach Mobile Plans")
		}},
		{"gateway", nil, func(r *rig) {
			r.tap("See plans")
			r.tap("Choose")
			r.screen(screenGateway)
			r.has("Unlimited data for 30 days")
		}},
		{"gateway_standard", func(a *fakeAgent, _ *fakeBackend) {
			a.gw = app.Gateway{Operator: a.gw.Operator, Selection: &discovery.GatewaySelection{OperatorID: "contoso"}}
		}, func(r *rig) {
			r.tap("See plans")
			r.tap("Choose")
			r.screen(screenGateway)
			r.has("Get a data plan from Contoso Cellular")
		}},
		{"portal", nil, func(r *rig) {
			r.toPortal()
			r.has("Buying from Contoso Cellular")
		}},
		{"progress", nil, func(r *rig) {
			r.toPortal()
			r.a.events <- app.StateChanged{From: app.StatePortal, To: app.StateDownload}
			r.a.events <- app.StateChanged{From: app.StateDownload, To: app.StateInstall}
			r.a.events <- app.Progress{Stage: app.StageInstalling, Done: 3, Total: 6, Attempt: 1}
			r.until("progress", func() bool { return r.u.plan.detail != nil && r.u.plan.detail.Text == "Segment 3 of 6" })
		}},
		{"result_done", func(a *fakeAgent, _ *fakeBackend) {
			a.outcome = app.Outcome{Kind: app.KindDownload, State: app.StateDone, ICCID: "8901260000000000033", Connected: true}
		}, func(r *rig) {
			r.toPortal()
			r.a.events <- app.StateChanged{From: app.StatePortal, To: app.StateDownload}
			r.a.events <- app.StateChanged{From: app.StateConnect, To: app.StateDone}
			r.screen(screenResult)
			r.has("You're all set")
			r.until("guard off", func() bool { return strings.HasSuffix(r.win.Asked(), "guard:off") })
		}},
		{"result_failed", func(a *fakeAgent, _ *fakeBackend) {
			a.outcome = app.Outcome{Kind: app.KindDownload, State: app.StateFailed, Status: app.StatusInsufficientSpaceOnCard}
		}, func(r *rig) {
			r.toPortal()
			r.a.events <- app.StateChanged{From: app.StatePortal, To: app.StateDownload}
			r.a.events <- app.StateChanged{From: app.StateDownload, To: app.StateFailed}
			r.screen(screenResult)
			r.has("The eSIM is full")
		}},
		{"code", nil, func(r *rig) {
			r.tap("Use an activation code")
			r.screen(screenCode)
			r.u.ScanQR("/tmp/qr.png")
			r.has("read from the QR code")
		}},
		{"code_invalid", nil, func(r *rig) {
			r.tap("Use an activation code")
			r.screen(screenCode)
			test.Type(r.u.plan.codeEntry, "not-a-code")
			r.tap("Download and install")
			r.has("That is not an activation code")
		}},
		{"profiles", nil, func(r *rig) {
			r.screen(screenDevice)
			r.u.Select(TabProfiles)
			r.has("8944500000000000025")
			r.has("1 notification(s)")
		}},
		{"balance", nil, func(r *rig) {
			r.screen(screenDevice)
			r.u.Select(TabBalance)
			r.has("2.0 GB")
		}},
		{"balance_error", func(a *fakeAgent, _ *fakeBackend) { a.balErr = errors.New("mo_timeout") }, func(r *rig) {
			r.screen(screenDevice)
			r.u.Select(TabBalance)
			r.has("The balance is not available")
		}},
		{"settings", nil, func(r *rig) {
			r.screen(screenDevice)
			r.u.Select(TabSettings)
			r.has("Location and market")
		}},
		{"diagnostics", nil, func(r *rig) {
			r.screen(screenDevice)
			r.u.Select(TabDiagnostics)
			r.has("2 lines")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.change)
			tt.walk(r)
			r.master(tt.name)
		})
	}
}

// TestProfileActions: switch, rename and delete (with confirmation) reach
// the agent with the right ICCID; cancelling the confirmation does not.
func TestProfileActions(t *testing.T) {
	r := newRig(t, nil)
	r.screen(screenDevice)
	r.u.Select(TabProfiles)
	r.has("8944500000000000025")
	other := "8944500000000000025"
	if b := r.u.prof.buttons["use:8901260000000000017"]; b == nil || !b.Disabled() {
		t.Fatal("the profile in use can be switched to")
	}
	if b := r.u.prof.buttons["delete:8901260000000000017"]; b == nil || !b.Disabled() {
		t.Fatal("the profile in use can be deleted")
	}
	test.Tap(r.u.prof.buttons["use:"+other])
	r.until("switch", func() bool { return strings.Contains(r.a.Calls(), "SwitchProfile:"+other) })

	test.Tap(r.u.prof.buttons["delete:"+other])
	r.has("removed from the eSIM for good")
	r.tap("No")
	r.q.Run()
	if strings.Contains(r.a.Calls(), "DeleteProfile") {
		t.Fatal("delete ran although the confirmation was declined")
	}
	test.Tap(r.u.prof.buttons["delete:"+other])
	r.tap("Yes")
	r.until("delete", func() bool { return strings.Contains(r.a.Calls(), "DeleteProfile:"+other) })

	r.u.prof.doRename(other, "Holidays")
	r.until("rename", func() bool { return strings.Contains(r.a.Calls(), "RenameProfile:"+other+":Holidays") })

	r.tap("Send now")
	r.until("send", func() bool { return strings.Contains(r.a.Calls(), "SendNotifications") })
	r.has("1 sent.")
}

// TestLeavePortalAsks: leaving an open portal asks first; the window's
// close button (a close request while guarded) does the same.
func TestLeavePortalAsks(t *testing.T) {
	r := newRig(t, nil)
	r.toPortal()
	r.until("guard on", func() bool { return strings.Contains(r.win.Asked(), "guard:on") })
	r.win.events <- PortalCloseRequested
	r.has("Your purchase is not finished")
	r.tap("No")
	if r.u.Screen() != screenPortal || r.win.closed {
		t.Fatal("declining the confirmation left the portal")
	}
	r.tap("Back in the page")
	r.until("back", func() bool { return strings.Contains(r.win.Asked(), "back") })
	r.tap("Leave Contoso")
	r.tap("Yes")
	r.screen(screenOperators)
	r.until("window closed", func() bool {
		r.win.mu.Lock()
		defer r.win.mu.Unlock()
		return r.win.closed
	})
}

// TestPortalScriptsReachWindow: the agent's scripts run in the open portal.
func TestPortalScriptsReachWindow(t *testing.T) {
	r := newRig(t, nil)
	r.toPortal()
	r.a.events <- app.PortalScript{Kind: app.ScriptActivation, JS: "done()", TransactionID: "tx-1"}
	r.until("script", func() bool { return strings.Contains(r.win.Asked(), "script:"+app.ScriptActivation) })
}

// TestKeyboard: Ctrl+2 selects Profiles, Ctrl+1 the plan, Escape goes
// back in the flow, and Tab moves the focus to a button that Space
// presses.
func TestKeyboard(t *testing.T) {
	r := newRig(t, nil)
	r.screen(screenDevice)
	c := r.w.Canvas()
	// The test canvas does not dispatch shortcuts: run the handlers the UI
	// registered with the canvas (the Xvfb test presses the real keys).
	r.u.shortcut(&fdesktop.CustomShortcut{KeyName: fyne.Key2, Modifier: fyne.KeyModifierControl})
	r.q.Run()
	if got := r.u.tabs.Selected().Text; got != TabProfiles {
		t.Fatalf("Ctrl+2 selected %q", got)
	}
	r.u.shortcut(&fdesktop.CustomShortcut{KeyName: fyne.Key1, Modifier: fyne.KeyModifierControl})
	r.q.Run()
	if got := r.u.tabs.Selected().Text; got != TabPlan {
		t.Fatalf("Ctrl+1 selected %q", got)
	}
	r.screen(screenDevice)
	// Tab to "See plans from operators", Space presses it.
	var focused *widget.Button
	for i := 0; i < 30 && focused == nil; i++ {
		test.FocusNext(c)
		if b, ok := c.Focused().(*widget.Button); ok && strings.HasPrefix(b.Text, "See plans") {
			focused = b
		}
	}
	if focused == nil {
		t.Fatal("Tab never reached the See plans button")
	}
	c.Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
	r.screen(screenOperators)
	c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	r.screen(screenDevice)
}

// TestDeferredNotification: a due deferred download shows a desktop
// notification.
func TestDeferredNotification(t *testing.T) {
	r := newRig(t, nil)
	r.screen(screenDevice)
	n := app.Notification{Kind: app.NotifyDeferredDownloadDue, Title: "Your Contoso Cellular plan is ready", Body: "Install it now", DeferredID: "op-1"}
	test.AssertNotificationSent(t, fyne.NewNotification(n.Title, n.Body), func() {
		before := strings.Count(r.a.Calls(), "Device")
		r.a.events <- n
		// The notification is shown, then the profiles view refreshes
		// (one more Device call).
		r.until("the event handled", func() bool { return strings.Count(r.a.Calls(), "Device") > before })
	})
}

// TestSettingsApply: Apply saves the settings and restarts the session with
// them; a bad setting is explained and not saved.
func TestSettingsApply(t *testing.T) {
	r := newRig(t, nil)
	r.screen(screenDevice)
	r.u.Select(TabSettings)
	r.u.set.mock.SetChecked(false)
	r.u.set.backend.SetSelected(backendAT)
	test.Type(r.u.set.port, "/dev/ttyUSB2")
	r.u.set.discovery.SetText("http://insecure.example")
	r.tap("Apply")
	r.has("must start with https://")
	if r.store.s.Discovery != "" {
		t.Fatal("an invalid setting was saved")
	}
	r.u.set.discovery.SetText("https://mps.example.net")
	test.Type(r.u.set.location, "de")
	r.tap("Apply")
	r.screen(screenDevice)
	want := launch.Settings{Modem: "at:/dev/ttyUSB2", Discovery: "https://mps.example.net"}
	if r.store.s != want {
		t.Fatalf("saved %+v, want %+v", r.store.s, want)
	}
	if got := r.b.got[len(r.b.got)-1]; got != want {
		t.Fatalf("session started with %+v, want %+v", got, want)
	}
	if r.a.settings.Location != "DE" {
		t.Fatalf("agent location %q, want DE", r.a.settings.Location)
	}
}

// TestDiagnosticsExport: the log view exports its lines.
func TestDiagnosticsExport(t *testing.T) {
	r := newRig(t, nil)
	r.screen(screenDevice)
	var b bytes.Buffer
	if err := r.u.Export(&b, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "agent started") {
		t.Fatalf("export = %q", b.String())
	}
	if err := r.u.Export(&b, true); err == nil {
		t.Fatal("a trace export without a trace succeeded")
	}
}
