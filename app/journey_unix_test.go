//go:build unix

package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/modem/sim"
	"github.com/mobileplans/mobileplans/service/smdp"
	"github.com/mobileplans/mobileplans/ui/portal"
)

const inline = portal.ObjectMobilePlansInlineOperations

func TestUISteps(t *testing.T) {
	r := newRig(t)
	a, ev := r.agent(r.config())
	ctx := r.ctx

	d, err := a.Probe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.EID != string(r.card.EID()) || d.IMEI != sim.DefaultIMEI || d.ICCID != r.seeded[0] || d.ServingMCC != "001" ||
		d.Registration.State != portal.RegistrationHome || len(d.Profiles) != 2 {
		t.Fatalf("device %+v", d)
	}
	if p, ok := d.EnabledProfile(); !ok || p.ICCID != r.seeded[0] {
		t.Fatalf("enabled profile %+v %v", p, ok)
	}

	l, err := a.Operators(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l.Country != "US" || l.CountrySource != "mcc" || len(l.Operators) != 2 {
		t.Fatalf("operators %+v", l)
	}
	q := r.disc.queries[len(r.disc.queries)-1]
	if q.MCC != "001" || q.EID != d.EID || !slices.Equal(q.ICCIDs, []string{d.Profiles[0].ICCID, d.Profiles[1].ICCID}) {
		t.Fatalf("query %+v", q)
	}
	if !l.Operators[0].Owned || !slices.Equal(l.Operators[0].OwnedICCIDs, []string{r.seeded[1]}) {
		t.Fatalf("contoso not owning the seeded profile: %+v", l.Operators[0])
	}

	g, err := a.Gateway(ctx, "contoso")
	if err != nil {
		t.Fatal(err)
	}
	if g.Operator.Brand != "Contoso Cellular" || g.Selection.FallbackReason != "iccid="+r.seeded[1] {
		t.Fatalf("gateway %+v %+v", g.Operator, g.Selection)
	}

	req, err := a.PortalLaunch(ctx, "contoso")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	v := u.Query()
	if u.Host != callbackHost || u.Path != "/activate" || v.Get("lang") != "en" || v.Get("market") != "US" || v.Get("location") != "US" ||
		v.Get("eid") != d.EID || v.Get("imei") != sim.DefaultIMEI || v.Get("iccids") != r.seeded[1] {
		t.Fatalf("portal URL %s", req.URL)
	}
	if tx := v.Get("transactionId"); tx == "" || len(tx) > 64 || tx != req.TransactionID {
		t.Fatalf("transactionId %q", tx)
	}
	if req.CallbackHost != callbackHost || req.Headers.Get("Accept-Language") != "en-US" || req.Headers.Get(HeaderLPAErrorCodes) != "" {
		t.Fatalf("request %+v", req)
	}
	// The fabrikam operator owns the enabled seeded profile.
	if _, err := a.Gateway(ctx, "fabrikam"); err != nil {
		t.Fatal(err)
	}
	req2, err := a.PortalLaunch(ctx, "fabrikam")
	if err != nil {
		t.Fatal(err)
	}
	if u2, _ := url.Parse(req2.URL); u2.Query().Get("iccids") != r.seeded[0] || req2.TransactionID == req.TransactionID {
		t.Fatalf("fabrikam portal %s", req2.URL)
	}
	// Parsed calls are checked against the session's callback host too.
	sn := &portal.ScriptNames{Source: portal.Source{Object: inline, Op: portal.OpSetScripts, Origin: "https://portal.fabrikam.test"},
		Registration: "onReg", Activation: "onAct"}
	if rep, err := a.HandleBridgeCall(ctx, sn); err != nil || rep.Action != ActionScriptsSet {
		t.Fatalf("script names: %+v %v", rep, err)
	}
	sn.Origin = origin
	if _, err := a.HandleBridgeCall(ctx, sn); !errors.Is(err, portal.ErrForeignOrigin) {
		t.Fatalf("call of the other operator's portal: %v", err)
	}
	want := []State{StateProbe, StateDiscover, StateGateway, StatePortal, StateGateway, StatePortal}
	if got := ev.states(); !slices.Equal(got, want) {
		t.Fatalf("states %v, want %v", got, want)
	}
	// An unknown operator fails the step.
	if _, err := a.Gateway(ctx, "nobody"); err == nil {
		t.Fatal("gateway of an unknown operator")
	}
	ev.next(t, "error", func(e Event) bool { _, ok := e.(ErrorEvent); return ok })
	if a.State() != StateFailed {
		t.Fatalf("state %s after a failed step", a.State())
	}
	if err := a.Cancel(ctx); !errors.Is(err, ErrNoJourney) {
		t.Fatalf("cancel in failed state: %v", err)
	}
}

func TestImmediateDownload(t *testing.T) {
	tests := []struct {
		name    string
		caps    bool
		states  []State
		connect bool
	}{
		{name: "AT modem", states: []State{StatePortal, StateDownload, StateInstall, StateEnable, StateRegister, StateDone}},
		{name: "modem that refreshes and connects", caps: true, connect: true,
			states: []State{StatePortal, StateDownload, StateInstall, StateEnable, StateRefresh, StateRegister, StateConnect, StateDone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.clock.autoAdvance(r.ctx)
			cfg := r.config()
			cm := &capModem{Modem: r.modem}
			if tt.caps {
				cfg.Modem = cm
			}
			a, ev := r.agent(cfg)
			r.launch(a)
			ac, iccid := r.order()
			rep := r.bridge(a, inline, "notifyProfileDownload", map[string]any{"meta": meta(), "activationCode": ac}, "mp-1")
			if rep.Action != ActionDownloadStarted || rep.ContextID != "mp-1" {
				t.Fatalf("reply %+v", rep)
			}
			out := r.wait(a, ev)
			if out.State != StateDone || out.ICCID != iccid || out.Result != portal.ActivationSuccess ||
				out.Registration != portal.RegistrationHome || out.Connected != tt.connect || out.Err != nil {
				t.Fatalf("outcome %+v", out)
			}
			if got := ev.states(); !slices.Equal(got, tt.states) {
				t.Fatalf("states %v, want %v", got, tt.states)
			}
			if got := ev.scripts(ScriptActivation); !slices.Equal(got, []string{actScript(portal.ActivationSuccess, iccid)}) {
				t.Fatalf("activation scripts %q", got)
			}
			regs := ev.scripts(ScriptRegistration)
			if len(regs) == 0 || regs[len(regs)-1] != regScript(portal.RegistrationHome, iccid) {
				t.Fatalf("registration scripts %q", regs)
			}
			if got := r.activeICCID(); got != iccid {
				t.Fatalf("modem uses %s, want %s", got, iccid)
			}
			if st := r.smdpState(iccid); st != smdp.StateInstalled {
				t.Fatalf("SM-DP+ order state %s", st)
			}
			installing := 0
			for _, e := range ev.all() {
				if p, ok := e.(Progress); ok && p.Stage == StageInstalling && p.Total > 0 && p.Done <= p.Total {
					installing++
				}
			}
			if installing == 0 {
				t.Fatal("no installing progress")
			}
			if tt.caps {
				if len(cm.conns) != 1 || cm.conns[0].APN != contosoAPN || cm.conns[0].IPType != "ipv4v6" || cm.refreshes != 1 {
					t.Fatalf("connections %+v, refreshes %d", cm.conns, cm.refreshes)
				}
			}
			// The device now shows the profile enabled.
			d, err := a.Probe(r.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if p, ok := d.EnabledProfile(); !ok || p.ICCID != iccid || p.ServiceProviderName != smdp.DefaultSPN {
				t.Fatalf("enabled profile %+v", p)
			}
		})
	}
}

func TestDeferredDownloadSurvivesRestart(t *testing.T) {
	r := newRig(t)
	notifier := &fakeNotifier{}
	cfg := r.config()
	cfg.Notifier = notifier
	a, _ := r.agent(cfg)
	r.launch(a)
	ac, iccid := r.order()
	start := r.clock.Now()
	rep := r.bridge(a, inline, "notifyProfileDownload", map[string]any{"meta": meta(), "activationCode": ac, "downloadDelay": 20}, "mp-later")
	if rep.Action != ActionDeferred || rep.Deferred == nil || rep.Deferred.ID != "mp-later" || !rep.Deferred.Due.Equal(start.Add(30*time.Minute)) ||
		rep.Deferred.ActivationCode == ac || rep.Deferred.OperatorID != "contoso" {
		t.Fatalf("reply %+v %+v", rep, rep.Deferred)
	}
	if a.State() != StatePortal || r.es9Hits.Load() != 0 {
		t.Fatalf("state %s, %d ES9+ requests after a deferred download", a.State(), r.es9Hits.Load())
	}
	// The scheduler sleeps until the download is due.
	r.clock.waitSleepers(t, func(p []time.Duration) bool { return len(p) == 1 && p[0] == 30*time.Minute })
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(r.stateDir, StateFile))
	if err != nil || !strings.Contains(string(b), ac) {
		t.Fatalf("state file lacks the download: %v\n%s", err, b)
	}

	// A new agent on the same state.
	a2, ev2 := r.agent(cfg)
	pending := a2.PendingDownloads()
	if len(pending) != 1 || pending[0].ID != "mp-later" || len(a2.DueDownloads()) != 0 {
		t.Fatalf("pending %+v", pending)
	}
	if err := a2.RunDeferred(r.ctx, "mp-later"); !errors.Is(err, ErrNotDue) {
		t.Fatalf("early run: %v", err)
	}
	r.clock.waitSleepers(t, func(p []time.Duration) bool { return len(p) == 1 && p[0] == 30*time.Minute })
	r.clock.Advance(30 * time.Minute)
	n := ev2.next(t, "notification", func(e Event) bool { _, ok := e.(Notification); return ok }).(Notification)
	if n.Kind != NotifyDeferredDownloadDue || n.DeferredID != "mp-later" || n.OperatorID != "contoso" || !strings.Contains(n.Body, "Contoso") {
		t.Fatalf("notification %+v", n)
	}
	if got := notifier.all(); len(got) != 1 || got[0] != n {
		t.Fatalf("desktop notifications %+v", got)
	}
	if err := a2.CancelDeferred("mp-later"); !errors.Is(err, ErrAlreadyNotified) {
		t.Fatalf("cancel after the notification: %v", err)
	}
	if due := a2.DueDownloads(); len(due) != 1 || !due[0].Notified {
		t.Fatalf("due %+v", due)
	}
	r.clock.autoAdvance(r.ctx)
	if err := a2.RunDeferred(r.ctx, "mp-later"); err != nil {
		t.Fatal(err)
	}
	out := r.wait(a2, ev2)
	if out.State != StateDone || out.Kind != KindDeferred || out.ICCID != iccid || out.DeferredID != "mp-later" {
		t.Fatalf("outcome %+v", out)
	}
	if got := r.activeICCID(); got != iccid {
		t.Fatalf("modem uses %s, want %s", got, iccid)
	}
	if p := a2.PendingDownloads(); len(p) != 0 {
		t.Fatalf("installed download still pending: %+v", p)
	}
	b, err = os.ReadFile(filepath.Join(r.stateDir, StateFile))
	if err != nil || strings.Contains(string(b), ac) {
		t.Fatalf("state file still holds the activation code: %v\n%s", err, b)
	}
	if err := a2.RunDeferred(r.ctx, "mp-later"); !errors.Is(err, ErrUnknownOperation) {
		t.Fatalf("second run: %v", err)
	}
}

func TestDeferredCancel(t *testing.T) {
	r := newRig(t)
	tests := []struct {
		name      string
		notify    bool
		cancelID  string
		wantErr   error
		remaining int
	}{
		{name: "before the notification", cancelID: "mp-cancel"},
		{name: "after the notification", notify: true, cancelID: "mp-cancel", wantErr: ErrAlreadyNotified, remaining: 1},
		{name: "unknown operation", cancelID: "mp-other", wantErr: ErrUnknownOperation, remaining: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.t = t
			cfg := r.config()
			cfg.StateDir = t.TempDir()
			a, ev := r.agent(cfg)
			r.launch(a)
			ac, _ := r.order()
			r.bridge(a, inline, "notifyProfileDownload", map[string]any{"meta": meta(), "activationCode": ac, "downloadDelay": 1}, "mp-cancel")
			if tt.notify {
				r.clock.waitSleepers(t, func(p []time.Duration) bool { return len(p) == 1 && p[0] == 15*time.Minute })
				r.clock.Advance(15 * time.Minute)
				ev.next(t, "notification", func(e Event) bool { _, ok := e.(Notification); return ok })
			}
			rep, err := a.HandleBridgeMessage(r.ctx, msg(inline, "notifyOperationCancel", map[string]any{}, tt.cancelID))
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("cancel: %v, want %v", err, tt.wantErr)
			}
			if err == nil && (rep.Action != ActionDeferredCancelled || rep.ContextID != tt.cancelID) {
				t.Fatalf("reply %+v", rep)
			}
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			a2, _ := r.agent(cfg)
			if got := len(a2.PendingDownloads()); got != tt.remaining {
				t.Fatalf("%d deferred downloads after restart, want %d", got, tt.remaining)
			}
		})
	}
	if n := r.es9Hits.Load(); n != 0 {
		t.Fatalf("%d ES9+ requests for deferred downloads", n)
	}
}

func TestRegistrationArrivesLater(t *testing.T) {
	tests := []struct {
		name string
		call func(r *rig, a *Agent, ac string)
		// sleeps are the waits between the polls
		sleeps []time.Duration
		// everyTry: the page hears every try, not only changes.
		everyTry bool
	}{
		{name: "inline download polls soon, then backs off to the poll interval",
			sleeps: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, DefaultRegistrationPollInterval, DefaultRegistrationPollInterval},
			call: func(r *rig, a *Agent, ac string) {
				r.bridge(a, inline, "notifyProfileDownload", map[string]any{"meta": meta(), "activationCode": ac}, "mp-1")
			}},
		{name: "purchase with profile download retries every interval rounded up to 15 minutes",
			sleeps: []time.Duration{15 * time.Minute, 15 * time.Minute, 15 * time.Minute}, everyTry: true,
			call: func(r *rig, a *Agent, ac string) {
				r.bridge(a, portal.ObjectMobilePlans, "notifyPurchaseWithProfileDownload",
					map[string]any{"meta": meta(), "activationCode": ac, "networkRegistrationInterval": 5}, "")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			a, ev := r.agent(r.config())
			r.launch(a)
			ac, iccid := r.order()
			r.sim.SetRegistration(2, "") // searching, whatever the profile
			tt.call(r, a, ac)
			polls := len(tt.sleeps)
			for i := 1; i <= polls; i++ {
				sleep := tt.sleeps[i-1]
				e := ev.next(t, "registration attempt", func(e Event) bool { _, ok := e.(RegistrationAttempt); return ok }).(RegistrationAttempt)
				if e.Attempt != i || e.State != portal.RegistrationSearching || e.ICCID != iccid || !e.Next.Equal(r.clock.Now().Add(sleep)) {
					t.Fatalf("attempt %d: %+v, want the next in %s", i, e, sleep)
				}
				r.clock.waitSleepers(t, func(p []time.Duration) bool { return len(p) == 1 && p[0] == sleep })
				if i == polls {
					r.sim.SetRegistration(-1, "")
				}
				r.clock.Advance(sleep)
			}
			last := ev.next(t, "registration attempt", func(e Event) bool { _, ok := e.(RegistrationAttempt); return ok }).(RegistrationAttempt)
			if last.Attempt != polls+1 || last.State != portal.RegistrationHome || !last.Next.IsZero() {
				t.Fatalf("last attempt %+v", last)
			}
			out := r.wait(a, ev)
			if out.State != StateDone || out.Registration != portal.RegistrationHome || out.ICCID != iccid {
				t.Fatalf("outcome %+v", out)
			}
			want := []string{regScript(portal.RegistrationSearching, iccid), regScript(portal.RegistrationHome, iccid)}
			if tt.everyTry {
				want = nil
				for range polls {
					want = append(want, regScript(portal.RegistrationSearching, iccid))
				}
				want = append(want, regScript(portal.RegistrationHome, iccid))
			}
			if got := ev.scripts(ScriptRegistration); !slices.Equal(got, want) {
				t.Fatalf("registration scripts\n%q\nwant\n%q", got, want)
			}
		})
	}
}

func TestRegistrationTimeout(t *testing.T) {
	r := newRig(t)
	r.clock.autoAdvance(r.ctx)
	cfg := r.config()
	cfg.NetworkRegistrationTimeout = 10 * time.Second
	a, ev := r.agent(cfg)
	r.launch(a)
	ac, iccid := r.order()
	r.sim.SetRegistration(3, "") // denied
	r.bridge(a, inline, "notifyProfileDownload", map[string]any{"meta": meta(), "activationCode": ac}, "mp-1")
	out := r.wait(a, ev)
	if out.State != StateFailed || !errors.Is(out.Err, ErrRegistrationTimeout) || out.Registration != portal.RegistrationDenied || out.ICCID != iccid {
		t.Fatalf("outcome %+v", out)
	}
	// The profile was activated; registration is what failed.
	if got := ev.scripts(ScriptActivation); !slices.Equal(got, []string{actScript(portal.ActivationSuccess, iccid)}) {
		t.Fatalf("activation scripts %q", got)
	}
	if got := ev.scripts(ScriptRegistration); !slices.Equal(got, []string{regScript(portal.RegistrationDenied, iccid)}) {
		t.Fatalf("registration scripts %q", got)
	}
	e, ok := ev.find(func(e Event) bool { _, ok := e.(ErrorEvent); return ok })
	if ee, _ := e.(ErrorEvent); !ok || ee.State != StateRegister || ee.Result != 0 || !errors.Is(ee.Err, ErrRegistrationTimeout) {
		t.Fatalf("error event %+v", e)
	}
}

func TestBalanceAddition(t *testing.T) {
	tests := []struct {
		name       string
		iccid      func(r *rig) string
		action     Action
		state      State
		result     portal.ActivationResult
		wantActive func(r *rig) string
	}{
		{name: "switch to an installed profile", iccid: func(r *rig) string { return r.seeded[1] }, action: ActionSwitchStarted,
			state: StateDone, result: portal.ActivationSuccess, wantActive: func(r *rig) string { return r.seeded[1] }},
		{name: "the profile already in use", iccid: func(r *rig) string { return r.seeded[0] }, action: ActionSwitchStarted,
			state: StateDone, result: portal.ActivationSuccess, wantActive: func(r *rig) string { return r.seeded[0] }},
		{name: "no ICCID", iccid: func(*rig) string { return "" }, action: ActionBalanceAdded, state: StateDone,
			wantActive: func(r *rig) string { return r.seeded[0] }},
		{name: "a profile that is not on the eUICC", iccid: func(*rig) string { return "8900101999999999999" }, action: ActionSwitchStarted,
			state: StateFailed, result: portal.ActivationProfileNotPresent, wantActive: func(r *rig) string { return r.seeded[0] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.clock.autoAdvance(r.ctx)
			a, ev := r.agent(r.config())
			r.launch(a)
			args := map[string]any{"meta": meta()}
			iccid := tt.iccid(r)
			if iccid != "" {
				args["iccid"] = iccid
			}
			rep := r.bridge(a, inline, "notifyBalanceAddition", args, "mp-topup")
			if rep.Action != tt.action || rep.ContextID != "mp-topup" {
				t.Fatalf("reply %+v", rep)
			}
			if tt.action == ActionSwitchStarted {
				out := r.wait(a, ev)
				if out.Kind != KindSwitch || out.State != tt.state || out.Result != tt.result || out.ICCID != iccid {
					t.Fatalf("outcome %+v", out)
				}
				if got := ev.scripts(ScriptActivation); !slices.Equal(got, []string{actScript(tt.result, iccid)}) {
					t.Fatalf("activation scripts %q", got)
				}
			} else if got := ev.scripts(ScriptActivation); len(got) != 0 {
				t.Fatalf("activation scripts %q", got)
			}
			if a.State() != tt.state {
				t.Fatalf("state %s, want %s", a.State(), tt.state)
			}
			if got := r.activeICCID(); got != tt.wantActive(r) {
				t.Fatalf("modem uses %s, want %s", got, tt.wantActive(r))
			}
			if n := r.es9Hits.Load(); n != 0 {
				t.Fatalf("%d ES9+ requests for a balance addition", n)
			}
		})
	}
}

func TestPortalEndsPurchase(t *testing.T) {
	r := newRig(t)
	legacy := func(success bool, ac string) map[string]any {
		inner, _ := json.Marshal(map[string]any{"userAccount": "Bailed", "purchaseInstrument": "None", "line": "None", "moDirectStatus": "None", "planName": ""})
		payload, _ := json.Marshal(map[string]any{"ver": "1", "purchaseResult": string(inner), "success": success, "transactionId": "tx-1",
			"activationCode": ac, "iccid": ""})
		return map[string]any{"payload": string(payload)}
	}
	tests := []struct {
		name          string
		object, op    string
		args          map[string]any
		action        Action
		states        []State
		wantInstalled bool
	}{
		{name: "notifyCancelledPurchase", object: portal.ObjectMobilePlans, op: "notifyCancelledPurchase",
			args:   map[string]any{"meta": map[string]any{"moDirectStatus": "cancelled", "line": "bailed", "planName": ""}},
			action: ActionCancelled, states: []State{StatePortal, StateCancelled}},
		{name: "DataMart purchase result without success", object: portal.ObjectDataMart, op: "notifyPurchaseResult",
			args: legacy(false, ""), action: ActionCancelled, states: []State{StatePortal, StateCancelled}},
		{name: "DataMart purchase result with an activation code", object: portal.ObjectDataMart, op: "notifyPurchaseResult",
			action: ActionDownloadStarted, wantInstalled: true,
			states: []State{StatePortal, StateDownload, StateInstall, StateEnable, StateRegister, StateDone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.t = t
			cfg := r.config()
			cfg.StateDir = t.TempDir()
			ctx, cancel := context.WithCancel(r.ctx)
			defer cancel()
			r.clock.autoAdvance(ctx)
			a, ev := r.agent(cfg)
			r.launch(a)
			args, iccid := tt.args, ""
			if args == nil {
				var ac string
				ac, iccid = r.order()
				args = legacy(true, ac)
			}
			rep := r.bridge(a, tt.object, tt.op, args, "")
			if rep.Action != tt.action {
				t.Fatalf("reply %+v", rep)
			}
			if tt.wantInstalled {
				if out := r.wait(a, ev); out.State != StateDone || out.ICCID != iccid {
					t.Fatalf("outcome %+v", out)
				}
				if got := r.activeICCID(); got != iccid {
					t.Fatalf("modem uses %s", got)
				}
			}
			if !tt.wantInstalled {
				ev.next(t, "final state", isState(tt.states[len(tt.states)-1]))
			}
			if got := ev.states(); !slices.Equal(got, tt.states) {
				t.Fatalf("states %v, want %v", got, tt.states)
			}
		})
	}
}

var lpaTime = regexp.MustCompile(`^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2} (AM|PM)$`)

func TestFailedDownload(t *testing.T) {
	status := func(s es9.Status) *es9.Status { return &s }
	tests := []struct {
		name      string
		function  string
		fault     smdp.Fault
		result    portal.ActivationResult
		codes     string
		withICCID bool
	}{
		{name: "matching ID refused", function: smdp.FuncAuthenticateClient, fault: smdp.Fault{Status: status(es9.StatusMatchingIDRefused())},
			result: portal.ActivationInvalidMatchingID, codes: "InvalidMatchingId"},
		{name: "EID refused", function: smdp.FuncAuthenticateClient, fault: smdp.Fault{Status: status(es9.StatusEIDRefused())},
			result: portal.ActivationEIDMismatch, codes: "EidMismatch"},
		{name: "package no longer available", function: smdp.FuncGetBoundProfilePackage, fault: smdp.Fault{Status: status(es9.StatusBPPNotAvailable())},
			result: portal.ActivationProfileNotAvailableForNewBinding, codes: "ProfileNotAvailableForNewBinding", withICCID: true},
		{name: "server failing, retried", function: smdp.FuncInitiateAuthentication, fault: smdp.Fault{HTTPStatus: http.StatusServiceUnavailable},
			result: portal.ActivationServerFailure, codes: "ServerFailure,ServerFailure,ServerFailure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.clock.autoAdvance(r.ctx)
			start := r.clock.Now()
			a, ev := r.agent(r.config())
			r.launch(a)
			ac, iccid := r.order()
			r.faults.Set(tt.function, tt.fault)
			r.bridge(a, inline, "notifyProfileDownload", map[string]any{"meta": meta(), "activationCode": ac}, "mp-1")
			out := r.wait(a, ev)
			r.faults.Reset()
			if out.State != StateFailed || out.Result != tt.result || out.ICCID != "" {
				t.Fatalf("outcome %+v", out)
			}
			if got := ev.scripts(ScriptActivation); !slices.Equal(got, []string{actScript(tt.result, "")}) {
				t.Fatalf("activation scripts %q", got)
			}
			e, ok := ev.find(func(e Event) bool { _, ok := e.(ErrorEvent); return ok })
			if ee, _ := e.(ErrorEvent); !ok || ee.Result != tt.result || string(ee.Status) != strings.Split(tt.codes, ",")[0] || ee.State != StateDownload {
				t.Fatalf("error event %+v", e)
			}
			if got := r.activeICCID(); got != r.seeded[0] {
				t.Fatalf("a failed download changed the active profile to %s", got)
			}

			// The next portal launch tells the operator.
			req, err := a.PortalLaunch(r.ctx, "contoso")
			if err != nil {
				t.Fatal(err)
			}
			h := req.Headers
			if h.Get(HeaderLPAErrorCodes) != tt.codes {
				t.Fatalf("%s: %q, want %q", HeaderLPAErrorCodes, h.Get(HeaderLPAErrorCodes), tt.codes)
			}
			times := strings.Split(h.Get(HeaderLPAErrorTimeStamps), ",")
			if len(times) != strings.Count(tt.codes, ",")+1 || times[0] != start.UTC().Format("1/2/2006 3:04:05 PM") {
				t.Fatalf("%s: %q", HeaderLPAErrorTimeStamps, h.Get(HeaderLPAErrorTimeStamps))
			}
			for _, ts := range times {
				if !lpaTime.MatchString(ts) {
					t.Fatalf("timestamp %q", ts)
				}
			}
			wantICCID := ""
			if tt.withICCID {
				wantICCID = iccid
			}
			if got := h.Get(HeaderLPAErrorICCIDs); got != wantICCID {
				t.Fatalf("%s: %q, want %q", HeaderLPAErrorICCIDs, got, wantICCID)
			}
			// The same activation code works once the fault is gone, and
			// a success clears the record.
			r.bridge(a, portal.ObjectMobilePlansInlineOperations, portal.OpSetScripts,
				map[string]any{"registrationChangedScript": "onReg", "profileActivationCompleteScript": "onAct"}, "")
			r.bridge(a, inline, "notifyProfileDownload", map[string]any{"meta": meta(), "activationCode": ac}, "mp-2")
			if out := r.wait(a, ev); out.State != StateDone || out.ICCID != iccid {
				t.Fatalf("retry: %+v", out)
			}
			req, err = a.PortalLaunch(r.ctx, "contoso")
			if err != nil {
				t.Fatal(err)
			}
			if len(req.Headers.Values(HeaderLPAErrorCodes)) != 0 || len(a.DownloadErrors()) != 0 {
				t.Fatalf("errors kept after a success: %v %+v", req.Headers, a.DownloadErrors())
			}
		})
	}
}

func TestInvalidBridgeCalls(t *testing.T) {
	r := newRig(t)
	ac, _ := r.order()
	raw := func(s string) portal.Message { return portal.Message{Raw: []byte(s), Origin: origin} }
	tests := []struct {
		name   string
		m      portal.Message
		result portal.ActivationResult // 0: refused without an answer
	}{
		{name: "not JSON", m: raw(`{"v":1,`), result: portal.ActivationInvalidJSON},
		{name: "unknown operation", m: msg(inline, "notifyNothing", map[string]any{}, "mp-1"), result: portal.ActivationInvalidJSON},
		{name: "metadata missing", m: msg(inline, "notifyProfileDownload", map[string]any{"activationCode": ac}, "mp-1"),
			result: portal.ActivationInvalidJSON},
		{name: "negative download delay", m: msg(inline, "notifyProfileDownload",
			map[string]any{"meta": meta(), "activationCode": ac, "downloadDelay": -5}, "mp-1"), result: portal.ActivationInvalidJSON},
		{name: "activation code with the LPA: prefix", m: msg(inline, "notifyProfileDownload",
			map[string]any{"meta": meta(), "activationCode": "LPA:" + ac}, "mp-1"), result: portal.ActivationInvalidActivationCode},
		{name: "activation code needing a confirmation code", m: msg(inline, "notifyProfileDownload",
			map[string]any{"meta": meta(), "activationCode": ac + "$$1"}, "mp-1"), result: portal.ActivationInvalidActivationCode},
		{name: "activation code that is not one", m: msg(portal.ObjectMobilePlans, "notifyPurchaseWithProfileDownload",
			map[string]any{"meta": meta(), "activationCode": "hello", "networkRegistrationInterval": 0}, ""), result: portal.ActivationInvalidActivationCode},
		{name: "bad ICCID", m: msg(inline, "notifyBalanceAddition", map[string]any{"meta": meta(), "iccid": "1234"}, "mp-1"),
			result: portal.ActivationInvalidICCID},
		{name: "legacy payload not a string", m: msg(portal.ObjectDataMart, "notifyPurchaseResult",
			map[string]any{"payload": map[string]any{"success": true, "activationCode": ac}}, ""), result: portal.ActivationInvalidJSON},
		{name: "foreign frame", m: portal.Message{Raw: msg(inline, "notifyProfileDownload",
			map[string]any{"meta": meta(), "activationCode": ac}, "mp-1").Raw, Origin: "https://evil.test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.t = t
			cfg := r.config()
			cfg.StateDir = t.TempDir()
			a, ev := r.agent(cfg)
			r.launch(a)
			rep, err := a.HandleBridgeMessage(r.ctx, tt.m)
			if err == nil {
				t.Fatalf("accepted: %+v", rep)
			}
			var want []string
			if tt.result != 0 {
				want = []string{actScript(tt.result, "")}
				if rep.Action != ActionRejected || rep.Result != tt.result {
					t.Fatalf("reply %+v (%v)", rep, err)
				}
				if got, _ := portal.ResultOf(err); got != tt.result {
					t.Fatalf("error %v", err)
				}
			} else if !errors.Is(err, portal.ErrForeignOrigin) {
				t.Fatalf("error %v", err)
			}
			if a.State() != StatePortal {
				t.Fatalf("state %s", a.State())
			}
			if _, err := a.Wait(r.ctx); !errors.Is(err, ErrNoJourney) {
				t.Fatalf("something ran: %v", err)
			}
			// Events are delivered in order: once the cancel is seen, so
			// is everything the call caused.
			if err := a.Cancel(r.ctx); err != nil {
				t.Fatal(err)
			}
			ev.next(t, "cancel", isState(StateCancelled))
			if got := ev.scripts(ScriptActivation); !slices.Equal(got, want) {
				t.Fatalf("activation scripts %q, want %q", got, want)
			}
		})
	}
	if n := r.es9Hits.Load(); n != 0 {
		t.Fatalf("%d ES9+ requests reached the SM-DP+", n)
	}
}

func TestCancelDownload(t *testing.T) {
	r := newRig(t)
	a, ev := r.agent(r.config())
	r.launch(a)
	ac, iccid := r.order()
	// The SM-DP+ takes its time with the package; the user cancels.
	r.faults.Set(smdp.FuncGetBoundProfilePackage, smdp.Fault{Delay: time.Minute, Count: 1})
	r.bridge(a, inline, "notifyProfileDownload", map[string]any{"meta": meta(), "activationCode": ac}, "mp-1")
	ev.next(t, "downloading progress", func(e Event) bool { p, ok := e.(Progress); return ok && p.Stage == StageDownloading })
	if err := a.Cancel(r.ctx); err != nil {
		t.Fatal(err)
	}
	out := r.wait(a, ev)
	if out.State != StateCancelled || out.Result != portal.ActivationOperationAborted || out.Status != StatusOperationAborted {
		t.Fatalf("outcome %+v", out)
	}
	if got := ev.scripts(ScriptActivation); !slices.Equal(got, []string{actScript(portal.ActivationOperationAborted, "")}) {
		t.Fatalf("activation scripts %q", got)
	}
	if got := ev.states(); got[len(got)-1] != StateCancelled {
		t.Fatalf("states %v", got)
	}
	if len(a.DownloadErrors()) != 0 {
		t.Fatalf("a user cancel was recorded as a download error: %+v", a.DownloadErrors())
	}
	// The session was cancelled on both sides: the order can be downloaded
	// again.
	if st := r.smdpState(iccid); st != smdp.StateReleased {
		t.Fatalf("SM-DP+ order state %s after the cancel", st)
	}
	r.clock.autoAdvance(r.ctx)
	r.bridge(a, inline, "notifyProfileDownload", map[string]any{"meta": meta(), "activationCode": ac}, "mp-2")
	if out := r.wait(a, ev); out.State != StateDone || out.ICCID != iccid {
		t.Fatalf("after cancel: %+v", out)
	}
	ps, err := a.Probe(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := ps.EnabledProfile(); !ok || rsp.ICCID(p.ICCID) != rsp.ICCID(iccid) {
		t.Fatalf("profiles %+v", ps.Profiles)
	}
}

// BenchmarkImmediateJourney measures a whole inline journey on the real
// stack: bridge call, ES9+ over TLS, ES10 over AT+CGLA on a pty, enable,
// registration, notifications. Between iterations the profile is switched
// back and deleted.
func BenchmarkImmediateJourney(b *testing.B) {
	r := newRig(b)
	r.clock.autoAdvance(r.ctx)
	a, ev := r.agent(r.config())
	r.launch(a)
	b.ResetTimer()
	for range b.N { // not b.Loop: the timer stops around the set-up of each iteration
		b.StopTimer()
		ac, iccid := r.order()
		b.StartTimer()
		if _, err := a.HandleBridgeMessage(r.ctx, msg(inline, "notifyProfileDownload", map[string]any{"meta": meta(), "activationCode": ac}, "mp-b")); err != nil {
			b.Fatal(err)
		}
		if out := r.wait(a, ev); out.State != StateDone {
			b.Fatalf("outcome %+v", out)
		}
		b.StopTimer()
		if _, err := a.HandleBridgeMessage(r.ctx, msg(inline, "notifyBalanceAddition", map[string]any{"meta": meta(), "iccid": r.seeded[0]}, "mp-s")); err != nil {
			b.Fatal(err)
		}
		if out := r.wait(a, ev); out.State != StateDone {
			b.Fatalf("switch back: %+v", out)
		}
		if err := r.deleteProfile(a, iccid); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
