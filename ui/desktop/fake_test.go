package desktop

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/internal/launch"
	"github.com/mobileplans/mobileplans/service/discovery"
	"github.com/mobileplans/mobileplans/ui/portal"
)

// fakeAgent is a scripted agent with fixed data, so that the screens
// render the same every time (markup masters). The journey through the
// real agent and the bundled stack is tested in internal/desktopapp.
type fakeAgent struct {
	mu       sync.Mutex
	dev      app.Device
	devErr   error
	ops      app.OperatorList
	opsErr   error
	gw       app.Gateway
	gwErr    error
	bal      *discovery.Balance
	balErr   error
	notes    []app.PendingNotification
	deferred []app.DeferredDownload
	events   chan app.Event
	outcome  app.Outcome
	calls    []string
	settings app.Settings
}

func newFakeAgent() *fakeAgent {
	mb := 2048.0
	secs := int64(6 * 24 * 3600)
	return &fakeAgent{
		dev: app.Device{Manufacturer: "Quectel", Model: "EM120R-GL", IMEI: "356938035643809", SIMState: "READY",
			EID: "89049032123451234512345678901235", ICCID: "8901260000000000017",
			Profiles: []app.Profile{
				{ICCID: "8901260000000000017", Enabled: true, ServiceProviderName: "Contoso Cellular", Nickname: "Work"},
				{ICCID: "8944500000000000025", ServiceProviderName: "Fabrikam Mobile", ProfileName: "Travel"},
			},
			Registration: app.NetworkRegistration{State: portal.RegistrationHome, OperatorName: "Contoso", AccessTech: "LTE",
				SignalDBm: -81, SignalValid: true}, ServingMCC: "310"},
		ops: app.OperatorList{Country: "US", CountrySource: "mcc", Operators: []app.Operator{
			{ID: "fabrikam", Brand: "Fabrikam Mobile", PortalURL: "https://portal.fabrikam.test/buy"},
			{ID: "contoso", Brand: "Contoso Cellular", PortalURL: "https://portal.contoso.test/plans", Owned: true},
		}},
		gw: app.Gateway{Operator: app.Operator{ID: "contoso", Brand: "Contoso Cellular"}, Selection: &discovery.GatewaySelection{
			OperatorID: "contoso", Enhanced: true, Template: &discovery.GatewayTemplate{ID: "1",
				BackgroundColor: &discovery.Color{R: 0x00, G: 0x33, B: 0x66, A: 0xff},
				BodyFontColor:   &discovery.Color{R: 0xff, G: 0xff, B: 0xff, A: 0xff},
				ButtonColor:     &discovery.Color{R: 0xff, G: 0xb9, B: 0x00, A: 0xff},
				ButtonFontColor: &discovery.Color{R: 0x00, G: 0x00, B: 0x00, A: 0xff},
				BodyText:        "Unlimited data for 30 days, from $25.", ButtonText: "Get Contoso"}}},
		bal:      &discovery.Balance{ICCID: "8901260000000000017", OperatorID: "contoso", DataRemainingInMB: &mb, TimeRemainingSeconds: &secs},
		notes:    []app.PendingNotification{{Seq: 3, Event: "install", ICCID: "8901260000000000017", Address: "smdp.contoso.test"}},
		deferred: []app.DeferredDownload{{ID: "op-1", OperatorID: "contoso", OperatorBrand: "Contoso Cellular", Due: time.Date(2030, 1, 7, 9, 30, 0, 0, time.UTC)}},
		events:   make(chan app.Event, 64),
	}
}

func (f *fakeAgent) call(name string) {
	f.mu.Lock()
	f.calls = append(f.calls, name)
	f.mu.Unlock()
}

func (f *fakeAgent) Calls() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.calls, ",")
}

func (f *fakeAgent) Device(context.Context) (app.Device, error) {
	f.call("Device")
	return f.dev, f.devErr
}
func (f *fakeAgent) Probe(context.Context) (app.Device, error) {
	f.call("Probe")
	return f.dev, f.devErr
}
func (f *fakeAgent) Operators(context.Context) (app.OperatorList, error) {
	f.call("Operators")
	return f.ops, f.opsErr
}
func (f *fakeAgent) Gateway(context.Context, string) (app.Gateway, error) {
	f.call("Gateway")
	return f.gw, f.gwErr
}
func (f *fakeAgent) PortalLaunch(_ context.Context, id string) (app.PortalRequest, error) {
	f.call("PortalLaunch:" + id)
	return app.PortalRequest{URL: "https://portal.contoso.test/plans", CallbackHost: "portal.contoso.test",
		TransactionID: "tx-1", OperatorID: id, Brand: "Contoso Cellular"}, nil
}
func (f *fakeAgent) Events() <-chan app.Event { return f.events }
func (f *fakeAgent) State() app.State         { return app.StateIdle }
func (f *fakeAgent) Wait(context.Context) (app.Outcome, error) {
	f.call("Wait")
	return f.outcome, nil
}
func (f *fakeAgent) Cancel(context.Context) error { f.call("Cancel"); return nil }
func (f *fakeAgent) Balance(context.Context, string) (*discovery.Balance, error) {
	f.call("Balance")
	return f.bal, f.balErr
}
func (f *fakeAgent) Settings() app.Settings { return f.settings }
func (f *fakeAgent) SetSettings(s app.Settings) error {
	f.call("SetSettings")
	f.settings = s
	return nil
}
func (f *fakeAgent) SwitchProfile(_ context.Context, iccid string) error {
	f.call("SwitchProfile:" + iccid)
	return nil
}
func (f *fakeAgent) RenameProfile(_ context.Context, iccid, name string) error {
	f.call("RenameProfile:" + iccid + ":" + name)
	return nil
}
func (f *fakeAgent) DeleteProfile(_ context.Context, iccid string) error {
	f.call("DeleteProfile:" + iccid)
	return nil
}
func (f *fakeAgent) PendingNotifications(context.Context) ([]app.PendingNotification, error) {
	return f.notes, nil
}
func (f *fakeAgent) SendNotifications(context.Context) (app.NotificationReport, error) {
	f.call("SendNotifications")
	return app.NotificationReport{Delivered: len(f.notes)}, nil
}
func (f *fakeAgent) StartDownload(_ context.Context, op, code string) error {
	f.call("StartDownload:" + code)
	if !strings.HasPrefix(code, "LPA:1$") {
		return app.ErrInvalidActivationCode
	}
	return nil
}
func (f *fakeAgent) PendingDownloads() []app.DeferredDownload { return f.deferred }
func (f *fakeAgent) RunDeferred(_ context.Context, id string) error {
	f.call("RunDeferred:" + id)
	return nil
}
func (f *fakeAgent) CancelDeferred(id string) error { f.call("CancelDeferred:" + id); return nil }

// fakeWindow is a portal window that records what it was asked.
type fakeWindow struct {
	mu     sync.Mutex
	kind   string
	events chan PortalEvent
	asked  []string
	closed bool
}

func (w *fakeWindow) Kind() string { return w.kind }
func (w *fakeWindow) RunScript(_ context.Context, ps app.PortalScript) error {
	w.note("script:" + ps.Kind)
	return nil
}
func (w *fakeWindow) Back(context.Context) error { w.note("back"); return nil }
func (w *fakeWindow) Guard(_ context.Context, on bool) error {
	if on {
		w.note("guard:on")
	} else {
		w.note("guard:off")
	}
	return nil
}
func (w *fakeWindow) Events() <-chan PortalEvent { return w.events }
func (w *fakeWindow) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		close(w.events)
	}
	return nil
}
func (w *fakeWindow) note(s string) {
	w.mu.Lock()
	w.asked = append(w.asked, s)
	w.mu.Unlock()
}
func (w *fakeWindow) Asked() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.asked, ",")
}

type fakeSession struct {
	a   *fakeAgent
	win *fakeWindow
}

func (s *fakeSession) Agent() Agent          { return s.a }
func (s *fakeSession) Describe() string      { return "Simulated modem (test)" }
func (s *fakeSession) Portals() PortalOpener { return s }
func (s *fakeSession) Close() error          { return nil }
func (s *fakeSession) Fetch(context.Context, string) ([]byte, error) {
	return nil, errors.New("no images in tests")
}
func (s *fakeSession) Open(context.Context, app.PortalRequest) (PortalWindow, error) {
	return s.win, nil
}

type fakeBackend struct {
	sess *fakeSession
	err  error
	got  []launch.Settings
}

func (b *fakeBackend) Start(_ context.Context, s launch.Settings) (Session, error) {
	b.got = append(b.got, s)
	if b.err != nil {
		return nil, b.err
	}
	return b.sess, nil
}

type memStore struct{ s launch.Settings }

func (m *memStore) Load() (launch.Settings, error) { return m.s, nil }
func (m *memStore) Save(s launch.Settings) error   { m.s = s; return nil }

type fixedLines []string

func (l fixedLines) Lines() []string { return l }
func (l fixedLines) WriteTo(w io.Writer) (int64, error) {
	n, err := io.WriteString(w, strings.Join(l, "\n")+"\n")
	return int64(n), err
}
