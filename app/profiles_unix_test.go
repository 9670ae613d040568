//go:build unix

package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/internal/syncbuf"
	"github.com/mobileplans/mobileplans/modem"
	"github.com/mobileplans/mobileplans/modem/at"
	"github.com/mobileplans/mobileplans/service/smdp"
	"github.com/mobileplans/mobileplans/ui/portal"
)

// seedAddress is where the seeded profiles' notifications go: a name that
// does not resolve, so they are never delivered.
const seedAddress = "smdp.mobileplans.test"

// unknownICCID is a well-formed ICCID of no profile on the card.
const unknownICCID = "8900101999999999999"

// cardView is the eUICC as read on a channel of its own, not through the
// agent.
type cardView struct {
	profiles      map[string]rsp.ProfileInfo
	notifications []PendingNotification
}

func (r *rig) cardView() cardView {
	r.t.Helper()
	c, err := lpa.New(r.ctx, r.modem.OpenChannel, lpa.Options{})
	if err != nil {
		r.t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	ps, err := c.Profiles(r.ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	ns, err := c.Notifications(r.ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	v := cardView{profiles: map[string]rsp.ProfileInfo{}}
	for _, p := range ps {
		v.profiles[string(p.ICCID)] = p
	}
	for _, n := range ns {
		v.notifications = append(v.notifications, pendingOf(n))
	}
	slices.SortFunc(v.notifications, func(x, y PendingNotification) int { return x.Seq - y.Seq })
	return v
}

// enabled returns the ICCIDs of the enabled profiles.
func (v cardView) enabled() []string {
	var out []string
	for id, p := range v.profiles {
		if p.State == rsp.ProfileEnabled {
			out = append(out, id)
		}
	}
	return out
}

// eventually polls cond until it holds.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// notifyIdle waits until no delivery of notifications runs.
func notifyIdle(t testing.TB, a *Agent) {
	t.Helper()
	eventually(t, "notification delivery idle", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return !a.notifying
	})
}

// apdus counts the APDUs of the agent's eUICC session.
func apdus(t testing.TB, a *Agent) int64 {
	t.Helper()
	c, err := a.client(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c.Stats().APDUs
}

// smdpNotifications returns the notifications the SM-DP+ received about
// iccid, as "event" strings in order.
func (r *rig) smdpNotifications(iccid string) []string {
	r.t.Helper()
	ns, err := r.smdp.Notifications(r.ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, n := range ns {
		if n.ICCID == iccid {
			if n.Kind == "install" {
				out = append(out, "install")
			} else if n.Verified {
				out = append(out, n.Event)
			} else {
				out = append(out, n.Event+" (unverified: "+n.Result+")")
			}
		}
	}
	return out
}

// flakyModem is the AT modem whose reads fail while fail is set.
type flakyModem struct {
	*at.Modem
	fail atomic.Bool
}

func (m *flakyModem) Info(ctx context.Context) (modem.Info, error) {
	if m.fail.Load() {
		return modem.Info{}, errors.New("modem gone")
	}
	return m.Modem.Info(ctx)
}

func TestDevice(t *testing.T) {
	r := newRig(t)
	cfg := r.config()
	fm := &flakyModem{Modem: r.modem}
	cfg.Modem = fm
	a, ev := r.agent(cfg)
	ctx := r.ctx

	d, err := a.Device(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.EID != string(r.card.EID()) || d.ICCID != r.seeded[0] || d.ServingMCC != "001" ||
		d.Registration.State != portal.RegistrationHome || len(d.Profiles) != 2 {
		t.Fatalf("device %+v", d)
	}
	card := r.cardView()
	for _, p := range d.Profiles {
		cp, ok := card.profiles[p.ICCID]
		if !ok || p.Enabled != (cp.State == rsp.ProfileEnabled) || p.ProfileName != cp.ProfileName {
			t.Fatalf("profile %+v, on the card %+v", p, cp)
		}
	}
	if p, ok := d.EnabledProfile(); !ok || p.ICCID != r.seeded[0] {
		t.Fatalf("enabled %+v", p)
	}
	if a.State() != StateIdle {
		t.Fatalf("state %s after Device", a.State())
	}
	// A failed read does not fail the journey (Probe's would).
	if _, err := a.Probe(ctx); err != nil {
		t.Fatal(err)
	}
	fm.fail.Store(true)
	if _, err := a.Device(ctx); !errors.Is(err, ErrModem) {
		t.Fatalf("Device on a failing modem: %v", err)
	}
	if a.State() != StateProbe {
		t.Fatalf("state %s after a failed Device", a.State())
	}
	fm.fail.Store(false)
	// Events are delivered in order: once the cancel is seen, any state
	// change of the Device calls would have been.
	if err := a.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	ev.next(t, "cancel", isState(StateCancelled))
	if got, want := ev.states(), []State{StateProbe, StateCancelled}; !slices.Equal(got, want) {
		t.Fatalf("states %v, want %v", got, want)
	}
	if _, ok := ev.find(func(e Event) bool { _, ok := e.(ErrorEvent); return ok }); ok {
		t.Fatalf("error event from Device: %s", ev)
	}
}

func TestSwitchProfile(t *testing.T) {
	r := newRig(t)
	r.clock.autoAdvance(r.ctx)
	cfg := r.config()
	cm := &capModem{Modem: r.modem}
	cfg.Modem = cm
	a, ev := r.agent(cfg)
	ctx := r.ctx

	refused := []struct {
		name, iccid string
		want        error
	}{
		{name: "malformed ICCID", iccid: "1234", want: ErrInvalidICCID},
		{name: "not on the eUICC", iccid: unknownICCID, want: ErrProfileNotPresent},
		{name: "the enabled profile", iccid: r.seeded[0], want: ErrAlreadyEnabled},
		{name: "the enabled profile with its F filler", iccid: r.seeded[0] + "F", want: ErrAlreadyEnabled},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			if err := a.SwitchProfile(ctx, tt.iccid); !errors.Is(err, tt.want) {
				t.Fatalf("SwitchProfile(%s): %v, want %v", tt.iccid, err, tt.want)
			}
			if _, err := a.Wait(ctx); !errors.Is(err, ErrNoJourney) {
				t.Fatalf("something ran: %v", err)
			}
			if got := r.cardView().enabled(); !slices.Equal(got, r.seeded[:1]) {
				t.Fatalf("enabled on the card: %v", got)
			}
		})
	}

	// From a UI step: the journey is left (cancelled), then the switch
	// runs.
	if _, err := a.Probe(ctx); err != nil {
		t.Fatal(err)
	}
	switches := []struct {
		name, iccid string
		to, from    string
		states      []State
		apn         string // "" for no connect
	}{
		{name: "to the other seeded profile, from the probe step", iccid: r.seeded[1] + "f", to: r.seeded[1], from: r.seeded[0],
			states: []State{StateProbe, StateCancelled, StateEnable, StateRefresh, StateRegister, StateConnect, StateDone}, apn: contosoAPN},
		// Fabrikam has no APN: the connect step finds none.
		{name: "and back", iccid: r.seeded[0], to: r.seeded[0], from: r.seeded[1],
			states: []State{StateEnable, StateRefresh, StateRegister, StateConnect, StateDone}},
	}
	for i, tt := range switches {
		t.Run(tt.name, func(t *testing.T) {
			before := len(ev.states())
			if err := a.SwitchProfile(ctx, tt.iccid); err != nil {
				t.Fatal(err)
			}
			out := r.wait(a, ev)
			if out.Kind != KindSwitch || out.State != StateDone || out.ICCID != tt.to || out.Result != portal.ActivationSuccess ||
				out.Registration != portal.RegistrationHome || out.Connected != (tt.apn != "") || out.Err != nil {
				t.Fatalf("outcome %+v", out)
			}
			if i == 0 {
				before = 0
			}
			if got := ev.states()[before:]; !slices.Equal(got, tt.states) {
				t.Fatalf("states %v, want %v", got, tt.states)
			}
			card := r.cardView()
			if got := card.enabled(); !slices.Equal(got, []string{tt.to}) {
				t.Fatalf("enabled on the card: %v, want %s", got, tt.to)
			}
			if p, ok := card.profiles[tt.from]; !ok || p.State != rsp.ProfileDisabled {
				t.Fatalf("previous profile %+v", p)
			}
			if got := r.activeICCID(); got != tt.to {
				t.Fatalf("modem uses %s, want %s", got, tt.to)
			}
			cm.mu.Lock()
			refreshes, conns := cm.refreshes, slices.Clone(cm.conns)
			cm.mu.Unlock()
			if refreshes != i+1 {
				t.Fatalf("%d modem refreshes", refreshes)
			}
			if tt.apn != "" && (len(conns) != 1 || conns[0].APN != tt.apn) {
				t.Fatalf("connections %+v", conns)
			}
			if len(ev.scripts(ScriptActivation))+len(ev.scripts(ScriptRegistration)) != 0 {
				t.Fatal("page scripts without a portal")
			}
		})
	}
	if n := r.es9Hits.Load(); n != 0 {
		t.Fatalf("%d ES9+ requests for profile switches", n)
	}
}

func TestProfileOperationsWhileBusy(t *testing.T) {
	r := newRig(t)
	a, ev := r.agent(r.config())
	ctx := r.ctx
	ac, _ := r.order()

	// The switch waits for registration on a fake clock that does not
	// move: it stays in register until released.
	r.sim.SetRegistration(2, "")
	if err := a.SwitchProfile(ctx, r.seeded[1]); err != nil {
		t.Fatal(err)
	}
	ev.next(t, "register", isState(StateRegister))
	d, err := a.Device(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := d.EnabledProfile(); !ok || p.ICCID != r.seeded[1] || a.State() != StateRegister {
		t.Fatalf("device while switching: %+v, state %s", d.Profiles, a.State())
	}
	n := apdus(t, a)
	busy := []struct {
		name string
		op   func() error
	}{
		{name: "switch", op: func() error { return a.SwitchProfile(ctx, r.seeded[0]) }},
		{name: "download", op: func() error { return a.StartDownload(ctx, "", ac) }},
		{name: "rename", op: func() error { return a.RenameProfile(ctx, r.seeded[0], "busy") }},
		{name: "delete", op: func() error { return a.DeleteProfile(ctx, r.seeded[0]) }},
	}
	for _, tt := range busy {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.op(); !errors.Is(err, ErrBusy) {
				t.Fatalf("%v, want ErrBusy", err)
			}
		})
	}
	if got := apdus(t, a); got != n {
		t.Fatalf("%d APDUs sent by refused operations", got-n)
	}
	card := r.cardView()
	if p, ok := card.profiles[r.seeded[0]]; !ok || p.Nickname == "busy" || !slices.Equal(card.enabled(), r.seeded[1:2]) {
		t.Fatalf("card changed while busy: %+v", card.profiles)
	}
	r.sim.SetRegistration(-1, "")
	r.clock.autoAdvance(ctx)
	if out := r.wait(a, ev); out.State != StateDone || out.ICCID != r.seeded[1] {
		t.Fatalf("outcome %+v", out)
	}
	if n := r.es9Hits.Load(); n != 0 {
		t.Fatalf("%d ES9+ requests: the refused download ran", n)
	}
}

func TestRenameProfile(t *testing.T) {
	r := newRig(t)
	a, _ := r.agent(r.config())
	ctx := r.ctx
	full := strings.Repeat("é", MaxNicknameLen/2) // 64 bytes
	steps := []struct {
		name, iccid, nickname string
		want                  error
		// touches: the eUICC was asked.
		touches bool
		// check is the profile to look at and nick its nickname after.
		check, nick string
	}{
		{name: "set", iccid: r.seeded[1], nickname: "Work phone", touches: true, check: r.seeded[1], nick: "Work phone"},
		{name: "64 bytes", iccid: r.seeded[1], nickname: full, touches: true, check: r.seeded[1], nick: full},
		{name: "65 bytes refused", iccid: r.seeded[1], nickname: full + "x", want: ErrNicknameTooLong, check: r.seeded[1], nick: full},
		{name: "not UTF-8", iccid: r.seeded[1], nickname: "bad\xff", want: ErrInvalidNickname, check: r.seeded[1], nick: full},
		{name: "malformed ICCID", iccid: "12", nickname: "x", want: ErrInvalidICCID, check: r.seeded[1], nick: full},
		{name: "not on the eUICC", iccid: unknownICCID, nickname: "x", want: ErrProfileNotPresent, touches: true, check: r.seeded[1], nick: full},
		{name: "the enabled profile, with its F filler", iccid: r.seeded[0] + "F", nickname: "Home", touches: true, check: r.seeded[0], nick: "Home"},
		{name: "cleared", iccid: r.seeded[1], nickname: "", touches: true, check: r.seeded[1], nick: ""},
	}
	for _, tt := range steps {
		t.Run(tt.name, func(t *testing.T) {
			n := apdus(t, a)
			err := a.RenameProfile(ctx, tt.iccid, tt.nickname)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("RenameProfile: %v, want %v", err, tt.want)
			}
			if touched := apdus(t, a) != n; touched != tt.touches {
				t.Fatalf("eUICC asked: %v, want %v", touched, tt.touches)
			}
			if p := r.cardView().profiles[tt.check]; p.Nickname != tt.nick {
				t.Fatalf("nickname on the card %q, want %q", p.Nickname, tt.nick)
			}
			d, err := a.Device(ctx)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(d.Profiles, func(p Profile) bool { return p.ICCID == tt.check })
			if i < 0 || d.Profiles[i].Nickname != tt.nick {
				t.Fatalf("Device profiles %+v, want %s named %q", d.Profiles, tt.check, tt.nick)
			}
		})
	}
	if a.State() != StateIdle {
		t.Fatalf("state %s", a.State())
	}
}

func TestDeleteProfile(t *testing.T) {
	r := newRig(t)
	r.clock.autoAdvance(r.ctx)
	a, ev := r.agent(r.config())
	ctx := r.ctx
	ac, iccid := r.order()
	if err := a.StartDownload(ctx, "contoso", ac); err != nil {
		t.Fatal(err)
	}
	if out := r.wait(a, ev); out.State != StateDone || out.ICCID != iccid {
		t.Fatalf("download %+v", out)
	}
	refused := []struct {
		name, iccid string
		want        error
	}{
		{name: "the enabled profile", iccid: iccid, want: ErrProfileEnabled},
		{name: "not on the eUICC", iccid: unknownICCID, want: ErrProfileNotPresent},
		{name: "malformed ICCID", iccid: "89x", want: ErrInvalidICCID},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			if err := a.DeleteProfile(ctx, tt.iccid); !errors.Is(err, tt.want) {
				t.Fatalf("DeleteProfile: %v, want %v", err, tt.want)
			}
			card := r.cardView()
			if len(card.profiles) != 3 || !slices.Equal(card.enabled(), []string{iccid}) {
				t.Fatalf("card %+v", card.profiles)
			}
		})
	}

	if err := a.SwitchProfile(ctx, r.seeded[0]); err != nil {
		t.Fatal(err)
	}
	if out := r.wait(a, ev); out.State != StateDone {
		t.Fatalf("switch %+v", out)
	}
	if err := a.DeleteProfile(ctx, iccid+"F"); err != nil {
		t.Fatal(err)
	}
	card := r.cardView()
	if _, ok := card.profiles[iccid]; ok || len(card.profiles) != 2 || !slices.Equal(card.enabled(), r.seeded[:1]) {
		t.Fatalf("card after the delete %+v", card.profiles)
	}
	d, err := a.Device(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Profiles) != 2 || slices.ContainsFunc(d.Profiles, func(p Profile) bool { return p.ICCID == iccid }) {
		t.Fatalf("Device profiles %+v", d.Profiles)
	}
	// The delete notification reaches the SM-DP+ in the background and
	// leaves the eUICC.
	eventually(t, "delete notification at the SM-DP+", func() bool {
		return slices.Contains(r.smdpNotifications(iccid), "delete")
	})
	notifyIdle(t, a)
	ns, err := a.PendingNotifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		if n.ICCID == iccid || n.Address != seedAddress {
			t.Fatalf("still pending: %+v (all: %+v)", n, ns)
		}
	}
	if got, want := r.smdpNotifications(iccid), []string{"install", "enable", "disable", "delete"}; !slices.Equal(got, want) {
		t.Fatalf("SM-DP+ notifications %v, want %v", got, want)
	}
	if err := a.DeleteProfile(ctx, iccid); !errors.Is(err, ErrProfileNotPresent) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestNotifications(t *testing.T) {
	r := newRig(t)
	r.clock.autoAdvance(r.ctx)
	a, ev := r.agent(r.config())
	ctx := r.ctx
	ac, iccid := r.order()
	parsed, err := lpa.ParseActivationCode(ac)
	if err != nil {
		t.Fatal(err)
	}
	smdpAddr := parsed.SMDPAddress
	// The SM-DP+ takes no notification: they stay on the eUICC.
	r.faults.Set(smdp.FuncHandleNotification, smdp.Fault{HTTPStatus: 503})
	if err := a.StartDownload(ctx, "", "LPA:"+ac); err != nil {
		t.Fatal(err)
	}
	if out := r.wait(a, ev); out.State != StateDone || out.ICCID != iccid {
		t.Fatalf("download %+v", out)
	}
	notifyIdle(t, a)
	strip := func(ns []PendingNotification) []string {
		var out []string
		for i, n := range ns {
			if i > 0 && n.Seq <= ns[i-1].Seq {
				t.Fatalf("not by sequence number: %+v", ns)
			}
			out = append(out, fmt.Sprintf("%s %s %s", n.Event, n.ICCID, n.Address))
		}
		return out
	}
	ns, err := a.PendingNotifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Enabling the new profile disables the seeded one first.
	want := []string{"install " + iccid + " " + smdpAddr, "disable " + r.seeded[0] + " " + seedAddress, "enable " + iccid + " " + smdpAddr}
	if got := strip(ns); !slices.Equal(got, want) {
		t.Fatalf("pending %q, want %q", got, want)
	}
	if card := r.cardView(); !slices.Equal(card.notifications, ns) {
		t.Fatalf("on the card %+v, listed %+v", card.notifications, ns)
	}
	if st := r.smdpState(iccid); st == smdp.StateInstalled {
		t.Fatal("SM-DP+ order installed without the install notification")
	}

	r.faults.Reset()
	rep, err := a.SendNotifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Delivered != 2 || len(rep.Failed) != 1 || rep.Failed[0].Event != "disable" || rep.Failed[0].ICCID != r.seeded[0] ||
		rep.Failed[0].Address != seedAddress || rep.Failed[0].Err == nil {
		t.Fatalf("report %+v", rep)
	}
	ns, err = a.PendingNotifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := strip(ns); !slices.Equal(got, want[1:2]) {
		t.Fatalf("pending after sending %q, want %q", got, want[1:2])
	}
	if got := r.smdpNotifications(iccid); !slices.Equal(got, []string{"install", "enable"}) {
		t.Fatalf("SM-DP+ notifications %v", got)
	}
	if st := r.smdpState(iccid); st != smdp.StateInstalled {
		t.Fatalf("SM-DP+ order state %s", st)
	}

	// One delivery at a time: explicit sends and background deliveries
	// asked for together deliver each notification once.
	r.faults.Set(smdp.FuncHandleNotification, smdp.Fault{HTTPStatus: 503})
	if err := a.SwitchProfile(ctx, r.seeded[0]); err != nil {
		t.Fatal(err)
	}
	if out := r.wait(a, ev); out.State != StateDone {
		t.Fatalf("switch %+v", out)
	}
	notifyIdle(t, a)
	r.faults.Reset()
	c, err := a.client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var delivered atomic.Int64
	errs := make(chan error, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 1 {
				a.deliverNotificationsLater(c)
			}
			rep, err := a.SendNotifications(ctx)
			if err != nil {
				errs <- err
				return
			}
			delivered.Add(int64(rep.Delivered))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	notifyIdle(t, a)
	if got := r.smdpNotifications(iccid); !slices.Equal(got, []string{"install", "enable", "disable"}) {
		t.Fatalf("SM-DP+ notifications %v (a notification delivered twice?)", got)
	}
	if d := delivered.Load(); d > 1 {
		t.Fatalf("%d deliveries reported for one notification", d)
	}
	if _, err := a.SendNotifications(ctx); err != nil {
		t.Fatal(err)
	}
	if ns, err := a.PendingNotifications(ctx); err != nil || slices.ContainsFunc(ns, func(n PendingNotification) bool { return n.Address != seedAddress }) {
		t.Fatalf("pending %+v %v", ns, err)
	}
}

func TestStartDownload(t *testing.T) {
	r := newRig(t)
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	r.clock.autoAdvance(ctx)
	type run struct {
		name     string
		code     func(ac string) string
		operator string
		caps     bool
		fault    *es9.Status // on authenticateClient
		states   []State
		// connected: the bearer came up with the operator's APN;
		// recorded: failed attempts kept for the operator.
		connected bool
		recorded  int
	}
	runs := []run{
		{name: "QR code text, no operator", code: func(ac string) string { return "LPA:" + ac },
			states: []State{StateDownload, StateInstall, StateEnable, StateRegister, StateDone}},
		{name: "pasted with white space, operator known", code: func(ac string) string { return " " + ac + "\n" }, operator: "contoso", caps: true,
			connected: true, states: []State{StateDownload, StateInstall, StateEnable, StateRefresh, StateRegister, StateConnect, StateDone}},
		{name: "refused matching ID, no operator", code: func(ac string) string { return ac }, fault: ptr(es9.StatusMatchingIDRefused()),
			states: []State{StateDownload, StateFailed}},
		{name: "refused matching ID, operator known", code: func(ac string) string { return ac }, operator: "contoso",
			fault: ptr(es9.StatusMatchingIDRefused()), recorded: 1, states: []State{StateDownload, StateFailed}},
	}
	for _, tt := range runs {
		t.Run(tt.name, func(t *testing.T) {
			r.t = t
			logs := &syncbuf.Buffer{}
			cfg := r.config()
			cfg.StateDir = t.TempDir()
			cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			cm := &capModem{Modem: r.modem}
			if tt.caps {
				cfg.Modem = cm
			}
			a, ev := r.agent(cfg)
			ac, iccid := r.order()
			parsed, err := lpa.ParseActivationCode(ac)
			if err != nil {
				t.Fatal(err)
			}
			if tt.fault != nil {
				r.faults.Set(smdp.FuncAuthenticateClient, smdp.Fault{Status: tt.fault})
				defer r.faults.Reset()
			}
			if err := a.StartDownload(ctx, tt.operator, tt.code(ac)); err != nil {
				t.Fatal(err)
			}
			out := r.wait(a, ev)
			if got := ev.states(); !slices.Equal(got, tt.states) {
				t.Fatalf("states %v, want %v", got, tt.states)
			}
			if n := len(a.DownloadErrors()); n != tt.recorded {
				t.Fatalf("%d download errors recorded, want %d: %+v", n, tt.recorded, a.DownloadErrors())
			}
			if tt.fault != nil {
				if out.State != StateFailed || out.Kind != KindDownload || out.Result != portal.ActivationInvalidMatchingID {
					t.Fatalf("outcome %+v", out)
				}
				if _, ok := r.cardView().profiles[iccid]; ok {
					t.Fatal("profile installed by a failed download")
				}
				return
			}
			if out.State != StateDone || out.Kind != KindDownload || out.ICCID != iccid || out.Connected != tt.connected ||
				out.Registration != portal.RegistrationHome {
				t.Fatalf("outcome %+v", out)
			}
			if got := r.cardView().enabled(); !slices.Equal(got, []string{iccid}) {
				t.Fatalf("enabled on the card %v, want %s", got, iccid)
			}
			if got := r.activeICCID(); got != iccid {
				t.Fatalf("modem uses %s", got)
			}
			if tt.connected {
				cm.mu.Lock()
				conns := slices.Clone(cm.conns)
				cm.mu.Unlock()
				if len(conns) != 1 || conns[0].APN != contosoAPN {
					t.Fatalf("connections %+v", conns)
				}
			}
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if l := logs.String(); strings.Contains(l, parsed.MatchingID) || !strings.Contains(l, "download of an activation code started") {
				t.Fatalf("logs hold the matching ID %q or lack the start:\n%s", parsed.MatchingID, l)
			}
		})
	}

	ac, _ := r.order()
	refused := []struct {
		name, operator, code string
		want                 error
	}{
		{name: "not a code", code: "hello", want: ErrInvalidActivationCode},
		{name: "empty", code: "  ", want: ErrInvalidActivationCode},
		{name: "wrong format", code: "2" + ac[1:], want: ErrInvalidActivationCode},
		{name: "bad matching ID", code: "LPA:1$smdp.example$bad id!", want: ErrInvalidActivationCode},
		{name: "bad SM-DP+ address", code: "LPA:1$smdp..example$ABC", want: ErrInvalidActivationCode},
		{name: "confirmation code required", code: ac + "$$1", want: ErrConfirmationCodeRequired},
		{name: "operator id", operator: "Contoso Cellular", code: ac, want: ErrInvalidOperatorID},
	}
	hits := r.es9Hits.Load()
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			r.t = t
			cfg := r.config()
			cfg.StateDir = t.TempDir()
			a, _ := r.agent(cfg)
			if err := a.StartDownload(ctx, tt.operator, tt.code); !errors.Is(err, tt.want) {
				t.Fatalf("StartDownload: %v, want %v", err, tt.want)
			}
			if _, err := a.Wait(ctx); !errors.Is(err, ErrNoJourney) || a.State() != StateIdle {
				t.Fatalf("something ran: %v, state %s", err, a.State())
			}
		})
	}
	if n := r.es9Hits.Load() - hits; n != 0 {
		t.Fatalf("%d ES9+ requests for refused codes", n)
	}
}

func ptr[T any](v T) *T { return &v }
