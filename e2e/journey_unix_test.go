//go:build unix

package e2e

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/modem/at"
	"github.com/mobileplans/mobileplans/service/stack"
	"github.com/mobileplans/mobileplans/ui/portal"
	"github.com/mobileplans/mobileplans/ui/portal/browsertest"
)

const portalHost = "portal.contoso.test"

type journey struct {
	t       *testing.T
	ctx     context.Context
	st      *stack.Stack
	browser *browsertest.Browser
	lpa     *lpa.Client
	es9     *lpa.ES9Client
	portal  string // launch URL as the browser sees it
}

func newJourney(t *testing.T) *journey {
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
	u, err := url.Parse(st.PortalURL)
	if err != nil {
		t.Fatal(err)
	}
	b, err := browsertest.New(ctx, browsertest.Options{
		AllowedHost: portalHost,
		RootCAs:     caPEM,
		HostMap:     map[string]string{portalHost: net.JoinHostPort("127.0.0.1", u.Port())},
	})
	if errors.Is(err, browsertest.ErrUnavailable) {
		t.Skipf("headless Chromium not available (install chromium and libnss3-tools): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	m, err := at.Open(ctx, at.Config{Device: st.ModemPath})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	c, err := lpa.New(ctx, apdu.Opener(m.OpenChannel), lpa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	pool, err := lpa.TrustPool(st.PKI.CI.Cert)
	if err != nil {
		t.Fatal(err)
	}
	es9c, err := lpa.NewES9Client(lpa.ES9Options{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	u.Host = portalHost
	return &journey{t: t, ctx: ctx, st: st, browser: b, lpa: c, es9: es9c, portal: u.String()}
}

// do runs JavaScript in the page (form filling and clicks).
func (j *journey) do(js string) {
	j.t.Helper()
	if err := j.browser.Eval(j.ctx, js, nil); err != nil {
		j.t.Fatalf("%s: %v", js, err)
	}
}

// waitFor polls a JS expression until it is true (page loads after form
// posts), failing at the context's deadline.
func (j *journey) waitFor(expr string) {
	j.t.Helper()
	for {
		var ok bool
		if err := j.browser.Eval(j.ctx, "!!("+expr+")", &ok); err == nil && ok {
			return
		}
		select {
		case <-j.ctx.Done():
			j.t.Fatalf("waiting for %s: %v", expr, j.ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// nextCall returns the next bridge call the page made, parsed by the host
// side with the frame origin check.
func (j *journey) nextCall() (portal.Call, error) {
	j.t.Helper()
	for {
		select {
		case m, ok := <-j.browser.Calls():
			if !ok {
				j.t.Fatal("browser closed")
			}
			c, err := m.Parse(portalHost)
			if _, names := c.(*portal.ScriptNames); err == nil && names {
				continue
			}
			return c, err
		case <-j.ctx.Done():
			j.t.Fatal("no bridge call from the portal")
		}
	}
}

// buy goes through the portal: sign up, pick plan, accept, buy.
func (j *journey) buy(plan, delivery string) {
	j.t.Helper()
	j.buyWith(plan, delivery, nil)
}

func (j *journey) buyWith(plan, delivery string, extra url.Values) {
	j.t.Helper()
	eid, err := j.lpa.EID(j.ctx)
	if err != nil {
		j.t.Fatal(err)
	}
	q := url.Values{"eid": {string(eid)}, "imei": {"490154203237518"}, "location": {"US"}, "market": {"us"}, "transactionId": {"e2e/1.0"}, "futureParam": {"x"}}
	for k, v := range extra {
		q[k] = v
	}
	if err := j.browser.Open(j.ctx, j.portal+"?"+q.Encode()); err != nil {
		j.t.Fatal(err)
	}
	j.waitFor(`document.querySelector("#signup-link")`)
	j.do(`document.querySelector("#signup-link").click()`)
	j.waitFor(`document.querySelector("#signup-form")`)
	j.do(`document.querySelector("#name").value="Ada"; document.querySelector("#email").value="ada@example.test";
		document.querySelector("#password").value="correct horse"; document.querySelector("#signup-submit").click()`)
	j.waitFor(`document.querySelector("#plan-radio-` + plan + `")`)
	j.do(`document.querySelector("#plan-radio-` + plan + `").click(); document.querySelector("#next").click()`)
	j.waitFor(`document.querySelector("#accept-terms")`)
	// The delivery choice exists only where the plan and mode offer it.
	j.do(`{ const d = document.querySelector("#delivery-` + delivery + `"); if (d) d.click(); }
		document.querySelector("#accept-terms").click(); document.querySelector("#buy").click()`)
	j.waitFor(`document.querySelector("#page-confirmation")`)
}

// TestInlineDownloadInChromium is the "new eSIM line, inline download"
// scenario: the page hands an activation code to the bridge, the host
// downloads and enables the profile over the pty, and reports the
// registration and activation results back into the page.
func TestInlineDownloadInChromium(t *testing.T) {
	j := newJourney(t)
	j.buy("prepaid-5gb", "now")
	call, err := j.nextCall()
	if err != nil {
		t.Fatal(err)
	}
	pd, ok := call.(*portal.ProfileDownload)
	if !ok || pd.DelayMinutes != nil {
		t.Fatalf("bridge call %#v, want an immediate notifyProfileDownload", call)
	}
	if strings.HasPrefix(pd.ActivationCode, "LPA:") {
		t.Errorf("portal handed over %q: mobile-plans.md 3.4 forbids the LPA: prefix", pd.ActivationCode)
	}
	ac, err := lpa.ParseActivationCode(pd.ActivationCode)
	if err != nil {
		t.Fatal(err)
	}
	res, err := j.lpa.Download(j.ctx, j.es9, ac, lpa.DownloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.lpa.Enable(j.ctx, rsp.ProfileID{ICCID: res.ICCID}, true); err != nil {
		t.Fatal(err)
	}
	// Read back the script names the page registered and call them.
	var names struct{ Reg, Act string }
	j.do(`0`)
	if err := j.browser.Eval(j.ctx, `({Reg: MobilePlansInlineOperations.registrationChangedScript, Act: MobilePlansInlineOperations.profileActivationCompleteScript})`, &names); err != nil {
		t.Fatal(err)
	}
	reg, err := portal.RegistrationScript(names.Reg, portal.RegistrationArgs{State: portal.RegistrationHome, ICCID: string(res.ICCID)})
	if err != nil {
		t.Fatal(err)
	}
	act, err := portal.ActivationScript(names.Act, portal.ActivationArgs{Result: portal.ActivationSuccess, ICCID: string(res.ICCID)})
	if err != nil {
		t.Fatal(err)
	}
	j.do(reg)
	j.do(act)
	var got struct{ Reg, RegICCID, Act, ActICCID string }
	if err := j.browser.Eval(j.ctx, `({Reg: document.querySelector("#registration-status").dataset.state,
		RegICCID: document.querySelector("#registration-status").dataset.iccid,
		Act: document.querySelector("#activation-status").dataset.result,
		ActICCID: document.querySelector("#activation-status").dataset.iccid})`, &got); err != nil {
		t.Fatal(err)
	}
	if got.Reg != "home" || got.Act != "success" || got.RegICCID != string(res.ICCID) || got.ActICCID != string(res.ICCID) {
		t.Fatalf("page shows %+v after the results for %s", got, res.ICCID)
	}
	if p, err := j.lpa.Profile(j.ctx, res.ICCID); err != nil || p.State != rsp.ProfileEnabled {
		t.Fatalf("profile on the eUICC: %+v %v", p, err)
	}
	if png, err := j.browser.Screenshot(j.ctx); err == nil && os.Getenv("E2E_SCREENSHOTS") != "" {
		_ = os.WriteFile(os.Getenv("E2E_SCREENSHOTS")+"/confirmation.png", png, 0o644)
	}
}

// TestCancelledPurchaseInChromium: cancel on the review page hands back
// notifyCancelledPurchase and nothing is downloaded.
func TestCancelledPurchaseInChromium(t *testing.T) {
	j := newJourney(t)
	before, err := j.lpa.Profiles(j.ctx)
	if err != nil {
		t.Fatal(err)
	}
	eid, _ := j.lpa.EID(j.ctx)
	if err := j.browser.Open(j.ctx, j.portal+"?eid="+string(eid)+"&location=US&market=US&transactionId=c1"); err != nil {
		t.Fatal(err)
	}
	j.waitFor(`document.querySelector("#cancel")`)
	j.do(`document.querySelector("#cancel").click()`)
	call, err := j.nextCall()
	if err != nil {
		t.Fatal(err)
	}
	cp, ok := call.(*portal.CancelledPurchase)
	if !ok {
		t.Fatalf("bridge call %#v, want notifyCancelledPurchase", call)
	}
	if cp.Meta.UserAccount != "bailed" {
		t.Errorf("cancel metadata %+v", cp.Meta)
	}
	after, err := j.lpa.Profiles(j.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("profiles changed by a cancelled purchase: %d -> %d", len(before), len(after))
	}
}

// TestLegacyDataMartInChromium: a portal in legacy mode hands back with
// DataMart.notifyPurchaseResult and its doubly stringified payload; the
// activation code in it downloads the profile.
func TestLegacyDataMartInChromium(t *testing.T) {
	j := newJourney(t)
	j.buyWith("travel-1gb", "now", url.Values{"legacy": {"1"}})
	call, err := j.nextCall()
	if err != nil {
		t.Fatal(err)
	}
	lr, ok := call.(*portal.LegacyPurchaseResult)
	if !ok {
		t.Fatalf("bridge call %#v, want DataMart.notifyPurchaseResult", call)
	}
	if !lr.Success || lr.TransactionID != "e2e/1.0" || lr.Result.PlanName == "" || lr.Result.MoDirectStatus != "complete" {
		t.Fatalf("legacy result %+v", lr)
	}
	ac, err := lpa.ParseActivationCode(lr.ActivationCode)
	if err != nil {
		t.Fatal(err)
	}
	res, err := j.lpa.Download(j.ctx, j.es9, ac, lpa.DownloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.lpa.Profile(j.ctx, res.ICCID); err != nil {
		t.Fatal(err)
	}
}

// TestDeferredDownloadThenCancelInChromium: "install later" hands over a
// deferred download with its delay; the scheduled download is then
// cancelled from the page with the operation context the bridge returned.
func TestDeferredDownloadThenCancelInChromium(t *testing.T) {
	j := newJourney(t)
	j.buy("prepaid-5gb", "later")
	call, err := j.nextCall()
	if err != nil {
		t.Fatal(err)
	}
	pd, ok := call.(*portal.ProfileDownload)
	if !ok || pd.DelayMinutes == nil || *pd.DelayMinutes <= 0 || pd.ContextID == "" {
		t.Fatalf("bridge call %#v, want a deferred notifyProfileDownload", call)
	}
	if _, err := lpa.ParseActivationCode(pd.ActivationCode); err != nil {
		t.Fatal(err)
	}
	j.waitFor(`document.querySelector("#cancel-scheduled")`)
	j.do(`document.querySelector("#cancel-scheduled").click()`)
	call, err = j.nextCall()
	if err != nil {
		t.Fatal(err)
	}
	oc, ok := call.(*portal.OperationCancel)
	if !ok || oc.ContextID != pd.ContextID {
		t.Fatalf("bridge call %#v, want notifyOperationCancel of %s", call, pd.ContextID)
	}
}

// TestAsyncActivationInChromium: a plan with asynchronous activation hands
// over notifyPurchaseWithProfileDownload with a registration interval.
func TestAsyncActivationInChromium(t *testing.T) {
	j := newJourney(t)
	j.buy("business-20gb", "now")
	call, err := j.nextCall()
	if err != nil {
		t.Fatal(err)
	}
	pw, ok := call.(*portal.PurchaseWithProfileDownload)
	if !ok || pw.NetworkRegistrationInterval <= 0 {
		t.Fatalf("bridge call %#v, want notifyPurchaseWithProfileDownload", call)
	}
	ac, err := lpa.ParseActivationCode(pw.ActivationCode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.lpa.Download(j.ctx, j.es9, ac, lpa.DownloadOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestTopUpInChromium: after buying a prepaid line, a new launch that names
// its ICCID offers "Add data"; buying a top-up hands back
// notifyBalanceAddition with that ICCID.
func TestTopUpInChromium(t *testing.T) {
	j := newJourney(t)
	j.buy("prepaid-5gb", "now")
	call, err := j.nextCall()
	if err != nil {
		t.Fatal(err)
	}
	pd, ok := call.(*portal.ProfileDownload)
	if !ok {
		t.Fatalf("bridge call %#v", call)
	}
	ac, err := lpa.ParseActivationCode(pd.ActivationCode)
	if err != nil {
		t.Fatal(err)
	}
	res, err := j.lpa.Download(j.ctx, j.es9, ac, lpa.DownloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	iccid := string(res.ICCID)
	eid, _ := j.lpa.EID(j.ctx)
	q := url.Values{"eid": {string(eid)}, "iccids": {iccid}, "location": {"US"}, "market": {"US"}, "transactionId": {"topup-1"}}
	if err := j.browser.Open(j.ctx, j.portal+"?"+q.Encode()); err != nil {
		t.Fatal(err)
	}
	j.waitFor(`document.querySelector("#signin-form")`)
	j.do(`document.querySelector("#email").value="ada@example.test"; document.querySelector("#password").value="correct horse"; document.querySelector("#signin-submit").click()`)
	j.waitFor(`document.querySelector("#topup-` + iccid + `")`)
	j.do(`document.querySelector("#topup-` + iccid + `").click()`)
	j.waitFor(`document.querySelector("#buy-topup")`)
	j.do(`document.querySelector("input[id^=topup-radio-]").click(); document.querySelector("#buy-topup").click()`)
	call, err = j.nextCall()
	if err != nil {
		t.Fatal(err)
	}
	ba, ok := call.(*portal.BalanceAddition)
	if !ok || ba.ICCID != iccid {
		t.Fatalf("bridge call %#v, want notifyBalanceAddition for %s", call, iccid)
	}
}

// TestFailedDownloadRelaunchInChromium: the download fails (the card is
// busy), the portal is launched again with the X-MP-LPAError-* headers of
// mobile-plans.md 3.1, shows the failure and hands the same activation code
// over again, and the retry installs the profile.
func TestFailedDownloadRelaunchInChromium(t *testing.T) {
	j := newJourney(t)
	j.buy("prepaid-5gb", "now")
	call, err := j.nextCall()
	if err != nil {
		t.Fatal(err)
	}
	pd, ok := call.(*portal.ProfileDownload)
	if !ok {
		t.Fatalf("bridge call %#v", call)
	}
	ac, err := lpa.ParseActivationCode(pd.ActivationCode)
	if err != nil {
		t.Fatal(err)
	}
	j.st.Modem.SetCardBusy(0x6F00)
	_, err = j.lpa.Download(j.ctx, j.es9, ac, lpa.DownloadOptions{})
	j.st.Modem.SetCardBusy(0)
	if err == nil {
		t.Fatal("download succeeded on a busy card")
	}
	// The ICCID the app had been told to install comes from the SM-DP+'s
	// order (the portal knows it as the order's line).
	var iccid string
	profiles, perr := j.st.SMDP.Profiles(j.ctx)
	if perr != nil {
		t.Fatal(perr)
	}
	for _, p := range profiles {
		if p.MatchingID == ac.MatchingID {
			iccid = p.ICCID
		}
	}
	if iccid == "" {
		t.Fatal("order not found at the SM-DP+")
	}
	eid, _ := j.lpa.EID(j.ctx)
	q := url.Values{"eid": {string(eid)}, "location": {"US"}, "market": {"US"}, "transactionId": {"retry-1"}}
	hdr := map[string][]string{
		"X-MP-LPAError-Codes":      {"CardBusy"},
		"X-MP-LPAError-TimeStamps": {time.Now().UTC().Format("1/2/2006 3:04:05 PM")},
		"X-MP-LPAError-ICCIDs":     {iccid},
	}
	if err := j.browser.OpenWithHeaders(j.ctx, j.portal+"?"+q.Encode(), hdr); err != nil {
		t.Fatal(err)
	}
	j.waitFor(`document.querySelector("#lpa-error")`)
	var codes string
	if err := j.browser.Eval(j.ctx, `document.querySelector("#lpa-error").dataset.codes`, &codes); err != nil || !strings.Contains(codes, "CardBusy") {
		t.Fatalf("failure notice codes %q (%v)", codes, err)
	}
	// Retrying needs the buyer's session: sign in, then retry.
	j.waitFor(`document.querySelector("#signin-form")`)
	j.do(`document.querySelector("#email").value="ada@example.test"; document.querySelector("#password").value="correct horse"; document.querySelector("#signin-submit").click()`)
	j.waitFor(`document.querySelector("#retry-download")`)
	j.do(`document.querySelector("#retry-download").click()`)
	call, err = j.nextCall()
	if err != nil {
		t.Fatal(err)
	}
	again, ok := call.(*portal.ProfileDownload)
	if !ok || again.ActivationCode != pd.ActivationCode {
		t.Fatalf("retry hand-back %#v, want the same activation code", call)
	}
	res, err := j.lpa.Download(j.ctx, j.es9, ac, lpa.DownloadOptions{})
	if err != nil {
		t.Fatalf("retry download: %v", err)
	}
	if string(res.ICCID) != iccid {
		t.Fatalf("retry installed %s, want %s", res.ICCID, iccid)
	}
}
