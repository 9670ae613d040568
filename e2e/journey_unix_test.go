//go:build unix

package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/modem/at"
	"github.com/mobileplans/mobileplans/service/discovery"
	"github.com/mobileplans/mobileplans/service/smdp"
	"github.com/mobileplans/mobileplans/service/stack"
	"github.com/mobileplans/mobileplans/ui/portal"
	"github.com/mobileplans/mobileplans/ui/portal/chromium"
	"github.com/mobileplans/mobileplans/ui/portalhost"
)

const portalHost = "portal.contoso.test"

// journey is the whole product on the bundled stack: the simulated modem
// on a pty reached through the AT backend, the agent (app) with its state
// machine, the discovery service, Contoso Cellular's portal in headless
// Chromium with the real bridge.js, hosted by portalhost, and the SM-DP+.
// The test plays the person at the keyboard: it clicks through the portal
// and starts deferred downloads when the agent's notification says so.
type journey struct {
	t       *testing.T
	ctx     context.Context
	st      *stack.Stack
	browser *chromium.Browser
	agent   *app.Agent
	host    *portalhost.Host
	clock   *skewClock
	modem   *at.Modem
	lpa     *lpa.Client // a second LPA on the same modem, for checks
	evilURL string      // a page of another host
	replies chan reply

	mu     sync.Mutex
	events []app.Event
	bump   chan struct{}
}

type reply struct {
	m   portal.Message
	r   app.Reply
	err error
}

// journeyOptions adjust the agent for a test.
type journeyOptions struct {
	downloadAttempts int
}

func newJourney(t *testing.T, jo journeyOptions) *journey {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	st, err := stack.Start(ctx, stack.Config{Dir: t.TempDir(), PortalHost: portalHost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	caPEM, err := os.ReadFile(st.WebCAFile)
	if err != nil {
		t.Fatal(err)
	}
	evil := evilServer(t, st)
	b, err := chromium.New(ctx, chromium.Options{
		AllowedHost: portalHost,
		RootCAs:     caPEM,
		HostMap:     map[string]string{portalHost: st.PortalAddr, "shop.evil.test": evil},
	})
	if errors.Is(err, chromium.ErrUnavailable) {
		t.Skipf("headless Chromium not available (install chromium and libnss3-tools): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	clock := newSkewClock()
	m, agent := stackAgent(t, ctx, st, func(c *app.Config) {
		c.Clock, c.DownloadAttempts, c.RetryBackoff = clock, jo.downloadAttempts, 10*time.Millisecond
	})
	c, err := lpa.New(ctx, apdu.Opener(m.OpenChannel), lpa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	j := &journey{t: t, ctx: ctx, st: st, browser: b, agent: agent, clock: clock, lpa: c, modem: m, evilURL: "https://shop.evil.test/",
		replies: make(chan reply, 64), bump: make(chan struct{}, 1)}
	j.host = portalhost.New(b, agent, portalhost.Options{OnReply: func(m portal.Message, r app.Reply, err error) {
		select {
		case j.replies <- reply{m, r, err}:
		default:
			t.Errorf("reply queue full; dropped %v", r.Action)
		}
	}})
	go func() { _ = j.host.Serve(ctx) }()
	go j.pumpEvents()
	t.Cleanup(func() {
		if t.Failed() {
			j.mu.Lock()
			defer j.mu.Unlock()
			for i, ev := range j.events {
				if _, ok := ev.(app.PortalScript); !ok {
					t.Logf("event %d: %T %+v", i, ev, ev)
				}
			}
		}
	})
	return j
}

// evilServer serves a page over HTTPS as shop.evil.test with a
// certificate of the stack's web CA, and returns its address.
func evilServer(t *testing.T, st *stack.Stack) string {
	t.Helper()
	cert, err := st.WebCA.ServerCert("shop.evil.test")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>Totally Contoso</title><p>Free data!</p>`))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// pumpEvents runs the agent's portal scripts in the page and records
// every event.
func (j *journey) pumpEvents() {
	for ev := range j.agent.Events() {
		if ps, ok := ev.(app.PortalScript); ok {
			if err := j.host.RunScript(j.ctx, ps); err != nil && j.ctx.Err() == nil {
				j.t.Logf("portal script %s: %v", ps.Kind, err)
			}
		}
		j.mu.Lock()
		j.events = append(j.events, ev)
		j.mu.Unlock()
		select {
		case j.bump <- struct{}{}:
		default:
		}
	}
}

// waitEvent waits for an event matching f among those from index from on
// and returns it with the index after it.
func (j *journey) waitEvent(from int, what string, f func(app.Event) bool) (app.Event, int) {
	j.t.Helper()
	for {
		j.mu.Lock()
		for i := from; i < len(j.events); i++ {
			if f(j.events[i]) {
				ev := j.events[i]
				j.mu.Unlock()
				return ev, i + 1
			}
		}
		j.mu.Unlock()
		select {
		case <-j.bump:
		case <-time.After(100 * time.Millisecond):
		case <-j.ctx.Done():
			j.t.Fatalf("no %s event: %v", what, j.ctx.Err())
		}
	}
}

func (j *journey) eventCount() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.events)
}

// nextReply returns the agent's answer to the next bridge call of the page
// that is not the naming of the callback scripts.
func (j *journey) nextReply() reply {
	j.t.Helper()
	for {
		select {
		case r := <-j.replies:
			if r.r.Action == app.ActionScriptsSet {
				continue
			}
			return r
		case <-j.ctx.Done():
			j.t.Fatal("no bridge call from the portal")
		}
	}
}

// wantReply returns the next reply, which must be action without an
// error.
func (j *journey) wantReply(action app.Action) reply {
	j.t.Helper()
	r := j.nextReply()
	if r.err != nil || r.r.Action != action {
		j.t.Fatalf("bridge reply %+v %v, want %s", r.r, r.err, action)
	}
	return r
}

// launch opens Contoso's portal the way the app does: probe, operators for
// the country, gateway, then the portal with the agent's launch request.
func (j *journey) launch() app.PortalRequest {
	j.t.Helper()
	if _, err := j.agent.Probe(j.ctx); err != nil {
		j.t.Fatal(err)
	}
	ops, err := j.agent.Operators(j.ctx)
	if err != nil {
		j.t.Fatal(err)
	}
	found := false
	for _, o := range ops.Operators {
		found = found || o.ID == discovery.ContosoID
	}
	if !found {
		j.t.Fatalf("Contoso not offered: %+v", ops)
	}
	if _, err := j.agent.Gateway(j.ctx, discovery.ContosoID); err != nil {
		j.t.Fatal(err)
	}
	req, err := j.host.Launch(j.ctx, discovery.ContosoID)
	if err != nil {
		j.t.Fatal(err)
	}
	return req
}

// do runs JavaScript in the page (form filling and clicks).
func (j *journey) do(js string) {
	j.t.Helper()
	if err := j.browser.Eval(j.ctx, js, nil); err != nil {
		j.t.Fatalf("%s: %v", js, err)
	}
}

// eventually polls cond until it holds, failing with what at the
// journey's deadline.
func (j *journey) eventually(what string, cond func() bool) {
	j.t.Helper()
	for !cond() {
		select {
		case <-j.ctx.Done():
			j.t.Fatalf("waiting for %s: %v", what, j.ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitFor polls a JS expression until it is true.
func (j *journey) waitFor(expr string) {
	j.t.Helper()
	j.eventually(expr, func() bool {
		var ok bool
		return j.browser.Eval(j.ctx, "!!("+expr+")", &ok) == nil && ok
	})
}

// click waits for the element of a CSS selector and clicks it.
func (j *journey) click(selector string) {
	j.t.Helper()
	q := `document.querySelector(` + strconvQuote(selector) + `)`
	j.waitFor(q)
	j.do(q + `.click()`)
}

// signUp creates the buyer's account from the portal's first page.
func (j *journey) signUp() {
	j.t.Helper()
	j.click("#signup-link")
	j.waitFor(`document.querySelector("#signup-form")`)
	j.do(`document.querySelector("#name").value="Ada"; document.querySelector("#email").value="ada@example.test";
		document.querySelector("#password").value="correct horse"; document.querySelector("#signup-submit").click()`)
}

// signIn signs the buyer in again after a new launch.
func (j *journey) signIn() {
	j.t.Helper()
	j.waitFor(`document.querySelector("#signin-form")`)
	j.do(`document.querySelector("#email").value="ada@example.test"; document.querySelector("#password").value="correct horse";
		document.querySelector("#signin-submit").click()`)
}

// buy picks a plan, accepts the terms and buys.
func (j *journey) buy(plan, delivery string) {
	j.t.Helper()
	j.waitFor(`document.querySelector("#plan-radio-` + plan + `")`)
	j.do(`document.querySelector("#plan-radio-` + plan + `").click(); document.querySelector("#next").click()`)
	j.waitFor(`document.querySelector("#accept-terms")`)
	j.do(`{ const d = document.querySelector("#delivery-` + delivery + `"); if (d) d.click(); }
		document.querySelector("#accept-terms").click(); document.querySelector("#buy").click()`)
	j.waitFor(`document.querySelector("#page-confirmation")`)
}

// pageResults reads what the page shows of the results the app sent back.
type pageResults struct {
	Reg, RegICCID, Act, ActICCID string
}

func (j *journey) pageResults() pageResults {
	j.t.Helper()
	var got pageResults
	if err := j.browser.Eval(j.ctx, `({Reg: document.querySelector("#registration-status").dataset.state,
		RegICCID: document.querySelector("#registration-status").dataset.iccid || "",
		Act: document.querySelector("#activation-status").dataset.result,
		ActICCID: document.querySelector("#activation-status").dataset.iccid || ""})`, &got); err != nil {
		j.t.Fatal(err)
	}
	return got
}

// waitPage waits until the page shows the registration and activation
// results.
func (j *journey) waitPage(reg, act, iccid string) {
	j.t.Helper()
	j.waitFor(fmt.Sprintf(`document.querySelector("#registration-status").dataset.state === %q &&
		document.querySelector("#activation-status").dataset.result === %q`, reg, act))
	if got := j.pageResults(); got.RegICCID != iccid || got.ActICCID != iccid {
		j.t.Fatalf("page shows %+v, want the results for %s", got, iccid)
	}
}

// profile reads one profile from the eUICC.
func (j *journey) profile(iccid string) (rsp.ProfileInfo, error) {
	return j.lpa.Profile(j.ctx, rsp.ICCID(iccid))
}

func (j *journey) profileCount() int {
	j.t.Helper()
	ps, err := j.lpa.Profiles(j.ctx)
	if err != nil {
		j.t.Fatal(err)
	}
	return len(ps)
}

func (j *journey) wait() app.Outcome {
	j.t.Helper()
	ctx, cancel := context.WithTimeout(j.ctx, time.Minute)
	defer cancel()
	out, err := j.agent.Wait(ctx)
	if err != nil {
		j.t.Fatal(err)
	}
	return out
}

// wantEnabled checks that iccid is the enabled profile on the eUICC and
// that the modem runs on it.
func (j *journey) wantEnabled(iccid string) {
	j.t.Helper()
	p, err := j.profile(iccid)
	if err != nil || p.State != rsp.ProfileEnabled {
		j.t.Fatalf("profile %s on the eUICC: %+v %v", iccid, p, err)
	}
	if a, ok := j.st.Card.Active(); !ok || string(a.ICCID) != iccid {
		j.t.Fatalf("the card runs %+v, want %s", a, iccid)
	}
}

// buyInline buys a prepaid line with an immediate download and waits for
// the journey to end; it returns the new profile's ICCID.
func (j *journey) buyInline() string {
	j.t.Helper()
	j.buy("prepaid-5gb", "now")
	j.wantReply(app.ActionDownloadStarted)
	out := j.wait()
	if out.State != app.StateDone || out.Result != portal.ActivationSuccess || out.ICCID == "" {
		j.t.Fatalf("outcome %+v", out)
	}
	return out.ICCID
}

// TestNewLineInline: a new eSIM line with the inline download. The page
// hands the activation code to the bridge, the agent downloads, installs
// and enables the profile over the pty, waits for the registration and
// reports both results back into the page; then the balance of the new
// line comes from the MO API through the discovery service.
func TestNewLineInline(t *testing.T) {
	j := newJourney(t, journeyOptions{})
	req := j.launch()
	if req.Headers.Get(app.HeaderLPAErrorCodes) != "" {
		t.Fatalf("first launch carries LPA errors: %v", req.Headers)
	}
	q, err := url.Parse(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"eid", "imei", "location", "market", "transactionId"} {
		if q.Query().Get(k) == "" {
			t.Errorf("launch URL %s lacks %s", req.URL, k)
		}
	}
	before := j.profileCount()
	mark := j.eventCount()
	j.signUp()
	iccid := j.buyInline()
	j.waitPage("home", "success", iccid)
	j.wantEnabled(iccid)
	if got := j.profileCount(); got != before+1 {
		t.Fatalf("profiles %d -> %d", before, got)
	}
	// Progress reached the segment loading, and the journey passed through
	// every state of a download.
	j.waitEvent(mark, "installing progress", func(ev app.Event) bool {
		p, ok := ev.(app.Progress)
		return ok && p.Stage == app.StageInstalling && p.Total > 0
	})
	for _, s := range []app.State{app.StateDownload, app.StateInstall, app.StateEnable, app.StateRegister, app.StateDone} {
		j.waitEvent(mark, "state "+string(s), func(ev app.Event) bool {
			c, ok := ev.(app.StateChanged)
			return ok && c.To == s
		})
	}
	// The install and enable notifications reach the SM-DP+ in the
	// background and leave the eUICC once acknowledged; the seeded
	// profile's disable notification, whose SM-DP+ does not exist, stays.
	j.eventually("the notifications of the new profile to be delivered", func() bool {
		ns, err := j.lpa.Notifications(j.ctx)
		if err != nil {
			t.Fatal(err)
		}
		ours, others := 0, 0
		for _, n := range ns {
			if n.Address == j.st.SMDPAddress {
				ours++
			} else {
				others++
			}
		}
		if ours == 0 && others == 0 {
			t.Fatal("the undeliverable notification of the old profile was dropped")
		}
		return ours == 0
	})
	bal, err := j.agent.Balance(j.ctx, iccid)
	if err != nil {
		t.Fatal(err)
	}
	if bal.Type != discovery.BalanceMODirectPAYG || bal.DataRemainingInMB == nil || *bal.DataRemainingInMB <= 0 {
		t.Fatalf("balance %+v", bal)
	}
	if png, err := j.browser.Screenshot(j.ctx); err == nil && os.Getenv("E2E_SCREENSHOTS") != "" {
		_ = os.WriteFile(filepath.Join(os.Getenv("E2E_SCREENSHOTS"), "confirmation.png"), png, 0o644)
	}
}

// TestDeferredDownloadThenCancel: "install later" stores a deferred
// download; cancelling it from the page removes it before it was offered,
// and nothing is downloaded.
func TestDeferredDownloadThenCancel(t *testing.T) {
	j := newJourney(t, journeyOptions{})
	j.launch()
	before := j.profileCount()
	j.signUp()
	j.buy("prepaid-5gb", "later")
	r := j.wantReply(app.ActionDeferred)
	if r.r.Deferred == nil {
		t.Fatalf("bridge reply %+v %v, want a deferred download", r.r, r.err)
	}
	if n := len(j.agent.PendingDownloads()); n != 1 {
		t.Fatalf("%d pending downloads", n)
	}
	j.click("#cancel-scheduled")
	ctxID := r.r.ContextID
	r = j.wantReply(app.ActionDeferredCancelled)
	if r.r.ContextID != ctxID {
		t.Fatalf("bridge reply %+v %v, want the deferred download cancelled", r.r, r.err)
	}
	if n := len(j.agent.PendingDownloads()); n != 0 {
		t.Fatalf("%d pending downloads after the cancel", n)
	}
	if got := j.profileCount(); got != before {
		t.Fatalf("profiles %d -> %d", before, got)
	}
}

// TestDeferredDownloadThenToast: the deferred download becomes due after
// its delay rounded up to 15 minutes; the agent's notification (the toast)
// invites the user, who starts it; the profile is installed and enabled.
// The portal can no longer cancel it once the toast was shown.
func TestDeferredDownloadThenToast(t *testing.T) {
	j := newJourney(t, journeyOptions{})
	j.launch()
	j.signUp()
	mark := j.eventCount()
	j.buy("prepaid-5gb", "later")
	r := j.wantReply(app.ActionDeferred)
	if r.r.Deferred == nil {
		t.Fatalf("bridge reply %+v %v, want a deferred download", r.r, r.err)
	}
	d := r.r.Deferred
	if left := d.Due.Sub(d.Created); left <= 0 || left%(15*time.Minute) != 0 {
		t.Fatalf("deferred for %s, want a multiple of 15 minutes", left)
	}
	if err := j.clock.SkipSleep(j.ctx, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	ev, _ := j.waitEvent(mark, "deferred download notification", func(ev app.Event) bool {
		n, ok := ev.(app.Notification)
		return ok && n.Kind == app.NotifyDeferredDownloadDue
	})
	n := ev.(app.Notification)
	if n.DeferredID != d.ID || n.OperatorID != discovery.ContosoID {
		t.Fatalf("notification %+v for %+v", n, d)
	}
	// Too late for the page to cancel it now.
	j.do(`MobilePlansInlineOperations.notifyOperationCancel({id: ` + strconvQuote(d.ID) + `})`)
	if r := j.nextReply(); r.err == nil || r.r.Action == app.ActionDeferredCancelled {
		t.Fatalf("cancel after the toast accepted: %+v", r.r)
	}
	if err := j.agent.RunDeferred(j.ctx, n.DeferredID); err != nil {
		t.Fatal(err)
	}
	out := j.wait()
	if out.State != app.StateDone || out.Kind != app.KindDeferred || out.ICCID == "" {
		t.Fatalf("outcome %+v", out)
	}
	j.wantEnabled(out.ICCID)
	if n := len(j.agent.PendingDownloads()); n != 0 {
		t.Fatalf("%d pending downloads after the download", n)
	}
}

// TestAsyncRegistration: notifyPurchaseWithProfileDownload downloads at
// once while the network is not ready: the first registration attempt is
// denied and reported into the page, the next one after the interval
// (rounded to 15 minutes) registers, and the page hears "home".
func TestAsyncRegistration(t *testing.T) {
	j := newJourney(t, journeyOptions{})
	j.launch()
	j.signUp()
	j.st.Modem.SetRegistration(3, "") // provisioning lags: denied
	mark := j.eventCount()
	j.buy("business-20gb", "now")
	j.wantReply(app.ActionDownloadStarted)
	ev, _ := j.waitEvent(mark, "first registration attempt", func(ev app.Event) bool {
		a, ok := ev.(app.RegistrationAttempt)
		return ok && a.Attempt == 1
	})
	first := ev.(app.RegistrationAttempt)
	if first.State.Registered() || first.Next.IsZero() {
		t.Fatalf("first attempt %+v, want a failed one with a next try", first)
	}
	if gap := first.Next.Sub(j.clock.Now()); gap <= 0 || gap > 15*time.Minute {
		t.Fatalf("next try in %s", gap)
	}
	j.waitFor(`document.querySelector("#registration-status").dataset.state === "denied"`)
	j.st.Modem.SetRegistration(-1, "") // the network caught up
	// The modem searches briefly before it attaches; the agent's next try
	// is due only after its interval, which the test skips once attached.
	j.eventually("the modem to register once the network allows it", func() bool {
		reg, err := j.modem.Registration(j.ctx)
		return err == nil && reg.State.Registered()
	})
	if err := j.clock.SkipSleep(j.ctx, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	out := j.wait()
	if out.State != app.StateDone || out.Registration != portal.RegistrationHome {
		t.Fatalf("outcome %+v", out)
	}
	j.waitPage("home", "success", out.ICCID)
	j.wantEnabled(out.ICCID)
}

// TestTopUp: a prepaid line is bought; then, on a later launch, "Add data"
// for it hands back notifyBalanceAddition with its ICCID. While another
// profile is enabled the agent switches to the line (with ICCID switch);
// when the line is already the enabled one nothing changes on the eUICC
// (no switch).
func TestTopUp(t *testing.T) {
	j := newJourney(t, journeyOptions{})
	j.launch()
	j.signUp()
	iccid := j.buyInline()
	j.waitPage("home", "success", iccid)

	topUp := func() {
		t.Helper()
		req := j.launch()
		u, _ := url.Parse(req.URL)
		if !strings.Contains(u.Query().Get("iccids"), iccid) {
			t.Fatalf("launch %s does not name the line %s in iccids", req.URL, iccid)
		}
		j.signIn()
		j.click("#topup-" + iccid)
		j.waitFor(`document.querySelector("#buy-topup")`)
		j.do(`document.querySelector("input[id^=topup-radio-]").click(); document.querySelector("#buy-topup").click()`)
	}

	t.Run("with ICCID switch", func(t *testing.T) {
		// Another profile takes over, as after a trip abroad.
		ps, err := j.lpa.Profiles(j.ctx)
		if err != nil {
			t.Fatal(err)
		}
		other := ""
		for _, p := range ps {
			if string(p.ICCID) != iccid {
				other = string(p.ICCID)
			}
		}
		if err := j.lpa.Enable(j.ctx, rsp.ProfileID{ICCID: rsp.ICCID(other)}, true); err != nil {
			t.Fatal(err)
		}
		topUp()
		j.wantReply(app.ActionSwitchStarted)
		out := j.wait()
		if out.State != app.StateDone || out.Kind != app.KindSwitch || out.ICCID != iccid {
			t.Fatalf("outcome %+v", out)
		}
		j.wantEnabled(iccid)
		j.waitPage("home", "success", iccid)
	})
	t.Run("without switch", func(t *testing.T) {
		was, err := j.agent.Balance(j.ctx, iccid)
		if err != nil {
			t.Fatal(err)
		}
		topUp()
		j.wantReply(app.ActionSwitchStarted)
		out := j.wait()
		if out.State != app.StateDone || out.ICCID != iccid {
			t.Fatalf("outcome %+v", out)
		}
		j.wantEnabled(iccid)
		bal, err := j.agent.Balance(j.ctx, iccid)
		if err != nil {
			t.Fatal(err)
		}
		if bal.DataRemainingInMB == nil || was.DataRemainingInMB == nil || *bal.DataRemainingInMB <= *was.DataRemainingInMB {
			t.Fatalf("balance %+v after the top-up, was %+v", bal, was)
		}
	})
}

// TestCancelledPurchase: cancel on the portal hands back
// notifyCancelledPurchase; the journey ends cancelled and nothing is
// downloaded.
func TestCancelledPurchase(t *testing.T) {
	j := newJourney(t, journeyOptions{})
	j.launch()
	before := j.profileCount()
	j.click("#cancel")
	j.wantReply(app.ActionCancelled)
	if s := j.agent.State(); s != app.StateCancelled {
		t.Fatalf("journey %s", s)
	}
	if got := j.profileCount(); got != before {
		t.Fatalf("profiles %d -> %d", before, got)
	}
}

// TestLegacyDataMart: a portal in legacy mode hands back with
// DataMart.notifyPurchaseResult and its doubly stringified payload; the
// activation code in it is downloaded and enabled.
func TestLegacyDataMart(t *testing.T) {
	j := newJourney(t, journeyOptions{})
	j.launch()
	req, err := j.agent.PortalLaunch(j.ctx, discovery.ContosoID)
	if err != nil {
		t.Fatal(err)
	}
	req.URL += "&legacy=1"
	if err := j.host.Open(j.ctx, req); err != nil {
		t.Fatal(err)
	}
	j.signUp()
	j.buy("travel-1gb", "now")
	r := j.wantReply(app.ActionDownloadStarted)
	if !strings.Contains(string(r.m.Raw), "notifyPurchaseResult") {
		t.Fatalf("hand-back %s, want DataMart.notifyPurchaseResult", r.m.Raw)
	}
	out := j.wait()
	if out.State != app.StateDone {
		t.Fatalf("outcome %+v", out)
	}
	j.wantEnabled(out.ICCID)
}

// TestFailedDownloadRelaunch: the SM-DP+ fails every download attempt; the
// page hears serverFailure, the next launch carries the X-MP-LPAError-*
// headers (one code per attempt, their UTC times, the ICCID), the portal
// shows the failure and hands the same activation code over again, and the
// retry installs the profile and clears the record.
func TestFailedDownloadRelaunch(t *testing.T) {
	j := newJourney(t, journeyOptions{downloadAttempts: 2})
	j.launch()
	j.signUp()
	before := j.profileCount()
	j.st.Faults.Set(smdp.FuncGetBoundProfilePackage, smdp.Fault{HTTPStatus: http.StatusServiceUnavailable})
	j.buy("prepaid-5gb", "now")
	j.wantReply(app.ActionDownloadStarted)
	out := j.wait()
	if out.State != app.StateFailed || out.Result != portal.ActivationServerFailure {
		t.Fatalf("outcome %+v", out)
	}
	j.waitFor(`document.querySelector("#activation-status").dataset.result === "serverFailure"`)
	if got := j.profileCount(); got != before {
		t.Fatalf("a failed download left a profile: %d -> %d", before, got)
	}
	j.st.Faults.Reset()

	req := j.launch()
	codes := req.Headers.Get(app.HeaderLPAErrorCodes)
	if codes != "ServerFailure,ServerFailure" {
		t.Fatalf("X-MP-LPAError-Codes %q, want one ServerFailure per attempt", codes)
	}
	stamps := strings.Split(req.Headers.Get(app.HeaderLPAErrorTimeStamps), ",")
	for _, s := range stamps {
		if _, err := time.Parse(app.LPAErrorTimeLayout, s); err != nil {
			t.Fatalf("time stamp %q: %v", s, err)
		}
	}
	iccid := req.Headers.Get(app.HeaderLPAErrorICCIDs)
	if len(stamps) != 2 || iccid == "" {
		t.Fatalf("headers %v", req.Headers)
	}
	j.waitFor(`document.querySelector("#lpa-error")`)
	var shown string
	if err := j.browser.Eval(j.ctx, `document.querySelector("#lpa-error").dataset.codes`, &shown); err != nil || !strings.Contains(shown, "ServerFailure") {
		t.Fatalf("the portal shows codes %q (%v)", shown, err)
	}
	j.signIn()
	j.click("#retry-download")
	j.wantReply(app.ActionDownloadStarted)
	out = j.wait()
	if out.State != app.StateDone || out.ICCID != iccid {
		t.Fatalf("retry outcome %+v, want %s installed", out, iccid)
	}
	j.wantEnabled(iccid)
	if errs := j.agent.DownloadErrors(); len(errs) != 0 {
		t.Fatalf("download errors kept after the success: %+v", errs)
	}
	if req := j.launch(); req.Headers.Get(app.HeaderLPAErrorCodes) != "" {
		t.Fatalf("launch after the success still carries %v", req.Headers)
	}
}

// TestForeignPageRefused: on a page of another host (a real HTTPS server
// with a certificate of the test web CA) the bridge's objects refuse to
// work, and a call sent straight to the bridge's transport claiming the
// portal's origin is refused by the agent by the frame origin the browser
// reported; nothing starts.
func TestForeignPageRefused(t *testing.T) {
	j := newJourney(t, journeyOptions{})
	j.launch()
	before := j.profileCount()
	// The bridge is injected into every document; its objects refuse to
	// work on another origin.
	if err := j.browser.Open(j.ctx, j.evilURL); err != nil {
		t.Fatal(err)
	}
	var threw string
	j.do(`window.__threw = ""; try { MobilePlansInlineOperations.notifyProfileDownload({}, "1$x$y"); } catch (e) { window.__threw = String(e); }`)
	if err := j.browser.Eval(j.ctx, `window.__threw`, &threw); err != nil || threw == "" {
		t.Fatalf("the bridge accepted a call on %s (%q, %v)", j.evilURL, threw, err)
	}
	// A page that goes around the bridge to its transport, claiming the
	// portal's origin.
	msg := fmt.Sprintf(`{"v":1,"origin":"https://%s","object":"MobilePlansInlineOperations","op":"notifyProfileDownload",
		"context":"ctx-1","args":{"meta":{"moDirectStatus":"complete"},"activationCode":"1$%s$EVIL"}}`, portalHost, j.st.SMDPAddress)
	b, _ := json.Marshal(msg)
	j.do(chromium.BindingName + `(` + string(b) + `)`)
	r := j.nextReply()
	var oe *portal.OriginError
	if !errors.As(r.err, &oe) {
		t.Fatalf("call from %q: reply %+v err %v, want an origin error", r.m.Origin, r.r, r.err)
	}
	if s := j.agent.State(); s != app.StatePortal {
		t.Fatalf("journey %s after a refused call", s)
	}
	if got := j.profileCount(); got != before {
		t.Fatalf("profiles %d -> %d", before, got)
	}
}

// TestMalformedBridgeCalls: on the portal's own origin, a payload that is
// not JSON gets invalidJson and an activation code the LPA refuses gets
// invalidActivationCode, through profileActivationCompleteScript, and no
// download starts.
func TestMalformedBridgeCalls(t *testing.T) {
	j := newJourney(t, journeyOptions{})
	j.launch()
	j.waitFor(`document.querySelector("#signup-link")`)
	j.do(`window.__results = []; window.onTestActivation = function (s) { window.__results.push(JSON.parse(s).activationResult); };
		MobilePlansInlineOperations.profileActivationCompleteScript = "onTestActivation";`)
	j.do(chromium.BindingName + `("{not json")`)
	r := j.nextReply()
	if r.r.Action != app.ActionRejected || r.r.Result != portal.ActivationInvalidJSON {
		t.Fatalf("reply %+v %v, want invalidJson", r.r, r.err)
	}
	j.do(`MobilePlansInlineOperations.notifyProfileDownload(MobilePlans.createPurchaseMetaData(), "2$not an activation code")`)
	r = j.nextReply()
	if r.r.Action != app.ActionRejected || r.r.Result != portal.ActivationInvalidActivationCode {
		t.Fatalf("reply %+v %v, want invalidActivationCode", r.r, r.err)
	}
	j.waitFor(`window.__results.length === 2`)
	var got []string
	if err := j.browser.Eval(j.ctx, `window.__results`, &got); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "invalidJson,invalidActivationCode" {
		t.Fatalf("the page heard %v", got)
	}
	if s := j.agent.State(); s != app.StatePortal {
		t.Fatalf("journey %s after invalid calls", s)
	}
	if _, err := j.agent.Wait(j.ctx); !errors.Is(err, app.ErrNoJourney) {
		t.Fatalf("a fulfilment ran: %v", err)
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// skewClock is the system clock plus an offset the test can advance, so
// the agent's timers of many minutes (deferred downloads, registration
// retries) can be reached at once while short waits run in real time.
type skewClock struct {
	mu       sync.Mutex
	offset   time.Duration
	moved    chan struct{}
	sleepers map[*sleeper]struct{}
}

type sleeper struct {
	until time.Time
	d     time.Duration
}

func newSkewClock() *skewClock {
	return &skewClock{moved: make(chan struct{}), sleepers: make(map[*sleeper]struct{})}
}

func (c *skewClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// advanceLocked moves the clock forward by d and wakes every Sleep.
func (c *skewClock) advanceLocked(d time.Duration) {
	if d <= 0 {
		return
	}
	c.offset += d
	close(c.moved)
	c.moved = make(chan struct{})
}

// SkipSleep waits until some Sleep of at least d is pending and moves the
// clock to its end (so the test does not race with the agent reaching its
// timer).
func (c *skewClock) SkipSleep(ctx context.Context, d time.Duration) error {
	for {
		c.mu.Lock()
		var target *sleeper
		for s := range c.sleepers {
			if s.d >= d && (target == nil || s.until.Before(target.until)) {
				target = s
			}
		}
		if target != nil {
			c.advanceLocked(target.until.Sub(time.Now().Add(c.offset)))
			c.mu.Unlock()
			return nil
		}
		moved := c.moved
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return fmt.Errorf("no sleep of %s pending: %w", d, ctx.Err())
		case <-moved:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (c *skewClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	s := &sleeper{until: time.Now().Add(c.offset + d), d: d}
	c.sleepers[s] = struct{}{}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.sleepers, s)
		c.mu.Unlock()
	}()
	for {
		c.mu.Lock()
		left := s.until.Sub(time.Now().Add(c.offset))
		moved := c.moved
		c.mu.Unlock()
		if left <= 0 {
			return ctx.Err()
		}
		t := time.NewTimer(left)
		select {
		case <-t.C:
		case <-moved:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}
