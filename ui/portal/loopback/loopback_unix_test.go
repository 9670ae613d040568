//go:build unix

package loopback_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/internal/syncbuf"
	"github.com/mobileplans/mobileplans/service/stack"
	"github.com/mobileplans/mobileplans/ui/portal"
	"github.com/mobileplans/mobileplans/ui/portal/chromium"
	"github.com/mobileplans/mobileplans/ui/portal/loopback"
)

const (
	portalHost   = "portal.contoso.test"
	portalOrigin = "https://" + portalHost
	evilHost     = "shop.evil.test"
	formsHost    = "shop.fabrikam.test" // an operator page that tries other ways to post
	testEID      = "89049032123451234512345678901235"
)

// rig is the bundled stack serving Contoso's portal as
// https://portal.contoso.test, two more HTTPS sites with certificates of
// the stack's web CA, and headless Chromium without the bridge playing the
// user's own browser.
type rig struct {
	t     *testing.T
	ctx   context.Context
	st    *stack.Stack
	caPEM []byte
	hosts map[string]string
	b     *chromium.Browser
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	st, err := stack.Start(ctx, stack.Config{Dir: t.TempDir(), PortalHost: portalHost, NoModem: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if st.PortalCallbackHost != portalHost {
		t.Fatalf("the stack's callback host is %q", st.PortalCallbackHost)
	}
	caPEM, err := os.ReadFile(st.WebCAFile)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, ctx: ctx, st: st, caPEM: caPEM, hosts: map[string]string{portalHost: st.PortalAddr}}
	r.hosts[evilHost] = r.site(evilHost, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!doctype html><title>Totally Contoso</title><p>Free data!</p>`)
	}))
	r.hosts[formsHost] = r.site(formsHost, http.HandlerFunc(formsPage))
	r.b = r.browser(chromium.Options{NoBridge: true})
	return r
}

// site serves h over HTTPS as host and returns its address.
func (r *rig) site(host string, h http.Handler) string {
	r.t.Helper()
	cert, err := r.st.WebCA.ServerCert(host)
	if err != nil {
		r.t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	r.t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func (r *rig) browser(opts chromium.Options) *chromium.Browser {
	r.t.Helper()
	opts.RootCAs, opts.HostMap = r.caPEM, r.hosts
	b, err := chromium.New(r.ctx, opts)
	if errors.Is(err, chromium.ErrUnavailable) {
		r.t.Skipf("headless Chromium not available (install chromium and libnss3-tools): %v", err)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { _ = b.Close() })
	return b
}

// formsPage is another operator's page: /form auto-submits a form POST to
// the cb parameter, /fetch POSTs a bridge message there with fetch in
// mode no-cors; both pages send Referrer-Policy: no-referrer, as
// Contoso's portal does.
func formsPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Referrer-Policy", "no-referrer")
	cb := r.URL.Query().Get("cb")
	switch r.URL.Path {
	case "/form":
		_, _ = io.WriteString(w, `<!doctype html><form id="f" method="post" enctype="text/plain" action="`+html.EscapeString(cb)+
			`"><input name="m" value="x"></form><script>document.getElementById("f").submit();</script>`)
	case "/fetch":
		q, _ := json.Marshal(cb)
		_, _ = io.WriteString(w, `<!doctype html><script>
var msg = {v: 1, op: "notifyCancelledPurchase", object: "MobilePlans", origin: location.origin,
  args: {meta: {userAccount: "bailed", purchaseInstrument: "bailed", line: "bailed", moDirectStatus: "cancelled", planName: ""}}};
window.sent = fetch(`+string(q)+`, {method: "POST", mode: "no-cors", body: JSON.stringify(msg)}).then(function (r) { return r.type; });
</script>`)
	case "/csp":
		// A page whose only connect-src is the src parameter.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; connect-src "+r.URL.Query().Get("src"))
		q, _ := json.Marshal(cb)
		_, _ = io.WriteString(w, `<!doctype html><script>
window.res = null;
fetch(`+string(q)+`, {method: "POST", body: "x"}).then(function (r) { window.res = "status " + r.status; }, function () { window.res = "rejected"; });
</script>`)
	default:
		http.NotFound(w, r)
	}
}

func (r *rig) eval(b *chromium.Browser, js string, out any) {
	r.t.Helper()
	if err := b.Eval(r.ctx, js, out); err != nil {
		r.t.Fatalf("%s: %v", js, err)
	}
}

// waitFor polls a JavaScript condition until it holds or the test's
// deadline passes.
func (r *rig) waitFor(b *chromium.Browser, expr string) {
	r.t.Helper()
	for {
		var ok bool
		if b.Eval(r.ctx, "!!("+expr+")", &ok) == nil && ok {
			return
		}
		select {
		case <-r.ctx.Done():
			var state string
			_ = b.Eval(context.Background(), `document.body ? document.body.id + " " + (document.querySelector("#bridge-status") || {}).outerHTML + " " + (document.querySelector("#handback") || {}).outerHTML : ""`, &state)
			r.t.Fatalf("waiting for %s: %v (page: %s)", expr, r.ctx.Err(), state)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// buy walks Contoso's portal from the launch URL to the confirmation page
// (the steps of scripts/contoso-autopilot.txt): sign up, the prepaid 5 GB
// plan, download now, accept the terms, buy.
func (r *rig) buy(b *chromium.Browser, launchURL, email string) {
	r.t.Helper()
	if err := b.Open(r.ctx, launchURL); err != nil {
		r.t.Fatal(err)
	}
	r.waitFor(b, `document.querySelector("#signup-link")`)
	r.eval(b, `document.querySelector("#signup-link").click()`, nil)
	r.waitFor(b, `document.querySelector("#signup-form")`)
	r.eval(b, `document.querySelector("#name").value = "Ada Lovelace"; document.querySelector("#email").value = `+strconv.Quote(email)+`;
		document.querySelector("#password").value = "correct horse battery"; document.querySelector("#signup-submit").click()`, nil)
	r.waitFor(b, `document.querySelector("#plan-radio-prepaid-5gb")`)
	r.eval(b, `document.querySelector("#plan-radio-prepaid-5gb").click(); document.querySelector("#next").click()`, nil)
	r.waitFor(b, `document.querySelector("#accept-terms")`)
	r.eval(b, `{ const d = document.querySelector("#delivery-now"); if (d) d.click(); }
		document.querySelector("#accept-terms").click(); document.querySelector("#buy").click()`, nil)
	r.waitFor(b, `document.querySelector("#page-confirmation")`)
}

func (r *rig) launchURL(txID string) string {
	return r.st.PortalURL + "?eid=" + testEID + "&transactionId=" + txID
}

func (r *rig) server(allowed string) (*loopback.Server, *syncbuf.Buffer) {
	r.t.Helper()
	logs := &syncbuf.Buffer{}
	s, err := loopback.New(r.ctx, loopback.Options{AllowedHost: allowed,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { _ = s.Close() })
	return s, logs
}

func (r *rig) next(s *loopback.Server) portal.Message {
	r.t.Helper()
	return r.await(nil, s.Messages())
}

// await waits for a message on ch; with b it fails at once when the page
// reports that the hand-back failed.
func (r *rig) await(b *chromium.Browser, ch <-chan portal.Message) portal.Message {
	r.t.Helper()
	for {
		select {
		case m := <-ch:
			return m
		case <-r.ctx.Done():
			r.t.Fatalf("no bridge message arrived: %v", r.ctx.Err())
		case <-time.After(50 * time.Millisecond):
			if b == nil {
				continue
			}
			var failed string
			_ = b.Eval(r.ctx, `(function () { const e = document.querySelector("#bridge-status");
				return e && e.dataset.state === "error" ? document.querySelector("#handback").dataset.error || "error" : ""; })()`, &failed)
			if failed != "" {
				r.t.Fatalf("the page could not hand back: %s", failed)
			}
		}
	}
}

// handback reads what the confirmation page handed over.
type handback struct {
	AC, Context, State, Call string
}

func (r *rig) handback(b *chromium.Browser) handback {
	r.t.Helper()
	var h handback
	r.eval(b, `({AC: document.querySelector("#handback").dataset.ac, Context: document.querySelector("#operation-context").textContent,
		State: document.querySelector("#bridge-status").dataset.state, Call: document.querySelector("#bridge-call").textContent})`, &h)
	return h
}

// normalised replaces the activation code and the operation context of a
// raw bridge message, which differ between two purchases.
func normalised(raw []byte, ac, ctxID string) string {
	s := strings.ReplaceAll(string(raw), ac, "<AC>")
	return strings.ReplaceAll(s, ctxID, "<CONTEXT>")
}

// TestSystemBrowserFallback walks Contoso's portal in a browser without
// the bridge, launched with mpcallback: the portal's shim POSTs
// notifyProfileDownload to the loopback server, which hands it on with the
// Origin the browser sent.
func TestSystemBrowserFallback(t *testing.T) {
	r := newRig(t)
	var shimRaw []byte
	var shimAC, shimCtx string

	t.Run("purchase hands the activation code back", func(t *testing.T) {
		r.t = t
		s, logs := r.server(r.st.PortalCallbackHost)
		u, err := s.LaunchURL(r.launchURL("lb-1"))
		if err != nil {
			t.Fatal(err)
		}
		r.buy(r.b, u, "ada1@example.test")
		var missing bool
		r.eval(r.b, `typeof window.MobilePlans === "undefined" && typeof window.MobilePlansInlineOperations === "undefined"`, &missing)
		if !missing {
			t.Fatal("the plain browser has the bridge objects")
		}
		m := r.await(r.b, s.Messages())
		r.waitFor(r.b, `document.querySelector("#bridge-status").dataset.state === "returned"`)
		h := r.handback(r.b)
		if m.Origin != portalOrigin {
			t.Fatalf("message origin %q, want %q", m.Origin, portalOrigin)
		}
		c, err := m.Parse(r.st.PortalCallbackHost)
		if err != nil {
			t.Fatal(err)
		}
		pd, ok := c.(*portal.ProfileDownload)
		if !ok || pd.Object != portal.ObjectMobilePlansInlineOperations || pd.Op != "notifyProfileDownload" {
			t.Fatalf("call %#v, want MobilePlansInlineOperations.notifyProfileDownload", c)
		}
		if pd.ActivationCode != h.AC || !strings.HasPrefix(pd.ActivationCode, "1$"+r.st.SMDPAddress+"$") || pd.DelayMinutes != nil {
			t.Errorf("activation code %q (delay %v), the page handed over %q", pd.ActivationCode, pd.DelayMinutes, h.AC)
		}
		if pd.ContextID == "" || pd.ContextID != h.Context || h.Call != "MobilePlansInlineOperations.notifyProfileDownload" {
			t.Errorf("context %q, page %+v", pd.ContextID, h)
		}
		if pd.Meta.PlanName == "" || pd.Meta.MoDirectStatus != portal.MoDirectComplete {
			t.Errorf("meta %+v", pd.Meta)
		}
		var text string
		r.eval(r.b, `document.querySelector("#bridge-status").textContent`, &text)
		if !strings.Contains(text, "Return to the Mobile Plans app") {
			t.Errorf("the page says %q", text)
		}
		var fallbackHidden bool
		r.eval(r.b, `document.querySelector("#fallback").hidden`, &fallbackHidden)
		if !fallbackHidden {
			t.Error("the manual-entry fallback is shown although the app has the code")
		}
		if n := len(s.Messages()); n != 0 {
			t.Errorf("%d more messages (setScripts must not be sent)", n)
		}
		if strings.Contains(logs.String(), strings.Split(pd.ActivationCode, "$")[2]) {
			t.Errorf("the matching ID was logged:\n%s", logs.String())
		}
		shimRaw, shimAC, shimCtx = m.Raw, pd.ActivationCode, pd.ContextID
	})

	t.Run("app gone: the page shows the code", func(t *testing.T) {
		r.t = t
		s, _ := r.server(r.st.PortalCallbackHost)
		u, err := s.LaunchURL(r.launchURL("lb-3"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		r.buy(r.b, u, "ada3@example.test")
		r.waitFor(r.b, `document.querySelector("#bridge-status").dataset.state === "error"`)
		var page struct {
			Hidden  bool
			Code    string
			QR      string
			AC      string
			Stored  bool
			Message string
		}
		r.eval(r.b, `({Hidden: document.querySelector("#fallback").hidden, Code: document.querySelector("#activation-code").value,
			QR: document.querySelector("#qr-text").value, AC: document.querySelector("#handback").dataset.ac,
			Stored: sessionStorage.getItem("contoso-handback-" + document.querySelector("#handback").dataset.key) !== null,
			Message: document.querySelector("#bridge-status").textContent})`, &page)
		if page.Hidden || page.Code == "" || page.Code != page.AC || page.QR != "LPA:"+page.AC {
			t.Errorf("the manual fallback is not offered: %+v", page)
		}
		if page.Stored {
			t.Error("a failed hand-back was remembered as done (a reload would not retry)")
		}
		if !strings.Contains(page.Message, "activation code below") {
			t.Errorf("the page says %q", page.Message)
		}
	})

	t.Run("the message is the bridge's", func(t *testing.T) {
		r.t = t
		if shimRaw == nil {
			t.Skip("no message from the shim")
		}
		s, _ := r.server(r.st.PortalCallbackHost)
		b := r.browser(chromium.Options{AllowedHost: r.st.PortalCallbackHost})
		u, err := s.LaunchURL(r.launchURL("lb-2"))
		if err != nil {
			t.Fatal(err)
		}
		r.buy(b, u, "ada2@example.test")
		var m portal.Message
		for {
			select {
			case m = <-b.Calls():
			case <-r.ctx.Done():
				t.Fatal("no bridge call")
			}
			if bytes.Contains(m.Raw, []byte(`"op":"notifyProfileDownload"`)) {
				break
			}
		}
		r.waitFor(b, `document.querySelector("#bridge-status").dataset.state === "called"`)
		c, err := m.Parse(r.st.PortalCallbackHost)
		if err != nil {
			t.Fatal(err)
		}
		pd := c.(*portal.ProfileDownload)
		if got, want := normalised(m.Raw, pd.ActivationCode, pd.ContextID), normalised(shimRaw, shimAC, shimCtx); got != want {
			t.Errorf("the shim's message differs from the bridge's:\nbridge: %s\nshim:   %s", got, want)
		}
		// With the bridge there, the callback is not used.
		if n := len(s.Messages()); n != 0 {
			t.Errorf("the loopback server got %d messages although the page had the bridge", n)
		}
	})

	t.Run("foreign origin and wrong token refused", func(t *testing.T) {
		r.t = t
		s, logs := r.server(r.st.PortalCallbackHost)
		if err := r.b.Open(r.ctx, "https://"+evilHost+"/"); err != nil {
			t.Fatal(err)
		}
		forged := `{"v":1,"op":"notifyProfileDownload","object":"MobilePlansInlineOperations","origin":"` + portalOrigin +
			`","args":{"meta":{"moDirectStatus":"complete","planName":"Free"},"activationCode":"1$smdp.evil.test$EVIL-1"},"context":"mp-1"}`
		cb := s.CallbackURL()
		wrong := cb[:strings.LastIndex(cb, "/")+1] + strings.Repeat("A", 43)
		for _, target := range []string{cb, wrong} {
			r.eval(r.b, `window.res = null; fetch(`+strconv.Quote(target)+`, {method: "POST", body: `+strconv.Quote(forged)+
				`}).then(r => { window.res = "status " + r.status; }, e => { window.res = "rejected"; })`, nil)
			r.waitFor(r.b, `window.res !== null`)
			var res string
			r.eval(r.b, `window.res`, &res)
			if res != "rejected" {
				t.Errorf("the foreign page read the answer: %s", res)
			}
		}
		l := logs.String()
		if !strings.Contains(l, "status=403") || !strings.Contains(l, "origin=https://"+evilHost) || !strings.Contains(l, "status=404") {
			t.Errorf("the refusals are not in the log:\n%s", l)
		}
		// The portal's own message comes next; nothing came before it.
		req, _ := http.NewRequestWithContext(r.ctx, "POST", cb, strings.NewReader(strings.Replace(forged, "smdp.evil.test$EVIL-1", "smdp.contoso.test$OK-1", 1)))
		req.Header.Set("Origin", portalOrigin)
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
		if m := r.next(s); !bytes.Contains(m.Raw, []byte("OK-1")) {
			t.Fatalf("first message %s", m.Raw)
		}
		if n := len(s.Messages()); n != 0 {
			t.Errorf("%d more messages", n)
		}
	})

	t.Run("form POST carries Origin null, fetch the origin", func(t *testing.T) {
		r.t = t
		s, logs := r.server(formsHost)
		q := "?cb=" + url.QueryEscape(s.CallbackURL())
		if err := r.b.Open(r.ctx, "https://"+formsHost+"/form"+q); err != nil {
			t.Fatal(err)
		}
		r.waitFor(r.b, `location.href === `+strconv.Quote(s.CallbackURL()))
		var body string
		r.eval(r.b, `document.body.innerText`, &body)
		if !strings.Contains(body, "Forbidden") {
			t.Errorf("the form POST's answer: %q", body)
		}
		if l := logs.String(); !strings.Contains(l, "status=403") || !strings.Contains(l, "origin=null") {
			t.Errorf("the form POST was not refused for Origin null:\n%s", l)
		}
		if err := r.b.Open(r.ctx, "https://"+formsHost+"/fetch"+q); err != nil {
			t.Fatal(err)
		}
		m := r.next(s)
		if m.Origin != "https://"+formsHost {
			t.Errorf("no-cors fetch origin %q", m.Origin)
		}
		if c, err := m.Parse(formsHost); err != nil {
			t.Error(err)
		} else if _, ok := c.(*portal.CancelledPurchase); !ok {
			t.Errorf("call %#v", c)
		}
	})

	t.Run("IPv6 loopback callback", func(t *testing.T) {
		r.t = t
		ln, err := net.Listen("tcp6", "[::1]:0")
		if err != nil {
			t.Skipf("no IPv6 loopback: %v", err)
		}
		got := make(chan portal.Message, 4)
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) {
			body, _ := io.ReadAll(q.Body)
			got <- portal.Message{Raw: body, Origin: q.Header.Get("Origin")}
			if o := q.Header.Get("Origin"); o == portalOrigin || o == "https://"+formsHost {
				w.Header().Set("Access-Control-Allow-Origin", o)
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		srv.Listener = ln
		srv.Start()
		t.Cleanup(srv.Close)
		// Chromium matches no IPv6 literal in a CSP source, so the
		// portal names [::1] callbacks with a wildcard host.
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		for src, want := range map[string]string{"http://[::1]:" + port: "rejected", "http://*:" + port: "status 204"} {
			if err := r.b.Open(r.ctx, "https://"+formsHost+"/csp?cb="+url.QueryEscape(srv.URL+"/csp")+"&src="+url.QueryEscape(src)); err != nil {
				t.Fatal(err)
			}
			r.waitFor(r.b, `window.res !== null`)
			var res string
			r.eval(r.b, `window.res`, &res)
			if res != want {
				t.Errorf("connect-src %s: %s, want %s", src, res, want)
			}
			if want == "rejected" && len(got) != 0 {
				t.Errorf("a request passed connect-src %s", src)
			}
			if want != "rejected" {
				<-got
			}
		}
		u, err := loopback.AppendCallback(r.launchURL("lb-6"), srv.URL+"/cb")
		if err != nil {
			t.Fatal(err)
		}
		r.buy(r.b, u, "ada6@example.test")
		m := r.await(r.b, got)
		r.waitFor(r.b, `document.querySelector("#bridge-status").dataset.state === "returned"`)
		if m.Origin != portalOrigin {
			t.Errorf("origin %q", m.Origin)
		}
		if _, err := m.Parse(portalHost); err != nil {
			t.Error(err)
		}
	})
}
