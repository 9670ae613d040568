package portalhost

import (
	"context"
	"crypto/tls"
	"errors"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/service/webca"
	"github.com/mobileplans/mobileplans/ui/portal"
	"github.com/mobileplans/mobileplans/ui/portal/chromium"
)

const testPortal = "portal.test"

// pages is a small portal: a form with every kind of control, the page it
// posts to, and the launch headers echoed.
func pages() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html><head><title>Test portal</title></head><body>
<h1>Choose a plan</h1>
<p id="hdr" data-x="` + html.EscapeString(r.Header.Get("X-Test")) + `">Header ` + html.EscapeString(r.Header.Get("X-Test")) + `</p>
<p hidden>Invisible text</p>
<form method="post" action="/next">
<label for="name">Your name</label><input id="name" name="name">
<label for="pw">Password</label><input id="pw" name="pw" type="password">
<label><input type="radio" name="plan" value="small"> Small plan</label>
<label><input type="radio" name="plan" value="big"> Big plan</label>
<label><input type="checkbox" name="terms" id="terms"> I accept the terms</label>
<label for="country">Country</label><select id="country" name="country"><option value="us">United States</option><option value="de">Germany</option></select>
<input type="hidden" name="secret" value="x">
<button id="go" type="submit">Continue</button>
</form>
<a href="/about">About us</a>
<script>window.onAct = function (s) { document.body.dataset.act = s; };</script>
</body></html>`))
	})
	mux.HandleFunc("POST /next", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(600 * time.Millisecond) // a slow server: the click must wait for it
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>Review</title><h1>Review</h1><p id="got">` +
			html.EscapeString(r.Form.Get("name")+"|"+r.Form.Get("pw")+"|"+r.Form.Get("plan")+"|"+r.Form.Get("terms")+"|"+r.Form.Get("country")) + `</p>
<script>window.onAct = function (s) { document.body.dataset.act = s; };</script>`))
	})
	return mux
}

type fakeAgent struct {
	req app.PortalRequest
	mu  sync.Mutex
	got []portal.Message
}

func (f *fakeAgent) PortalLaunch(context.Context, string) (app.PortalRequest, error) {
	return f.req, nil
}

func (f *fakeAgent) HandleBridgeMessage(_ context.Context, m portal.Message) (app.Reply, error) {
	f.mu.Lock()
	f.got = append(f.got, m)
	f.mu.Unlock()
	if _, err := m.Parse(testPortal); err != nil {
		return app.Reply{}, err
	}
	return app.Reply{Action: app.ActionCancelled}, nil
}

type rig struct {
	ctx   context.Context
	b     *chromium.Browser
	agent *fakeAgent
	host  *Host
	reply chan error
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	ca, err := webca.New("portalhost test CA", nil)
	if err != nil {
		t.Fatal(err)
	}
	serve := func(host string) string {
		cert, err := ca.ServerCert(host)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewUnstartedServer(pages())
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	}
	b, err := chromium.New(ctx, chromium.Options{AllowedHost: testPortal, RootCAs: ca.CertPEM(),
		HostMap: map[string]string{testPortal: serve(testPortal), "other.test": serve("other.test")}})
	if errors.Is(err, chromium.ErrUnavailable) {
		t.Skipf("Chromium not available: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	fa := &fakeAgent{req: app.PortalRequest{URL: "https://" + testPortal + "/?eid=1", CallbackHost: testPortal,
		TransactionID: "tx-1", Headers: http.Header{"X-Test": {"launch-1"}}, Brand: "Test"}}
	r := &rig{ctx: ctx, b: b, agent: fa, reply: make(chan error, 8)}
	r.host = New(b, fa, Options{OnReply: func(_ portal.Message, _ app.Reply, err error) { r.reply <- err }})
	go func() { _ = r.host.Serve(ctx) }()
	if _, err := r.host.Launch(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLaunchSnapshotAct(t *testing.T) {
	r := newRig(t)
	var x string
	if err := r.b.Eval(r.ctx, `document.querySelector("#hdr").dataset.x`, &x); err != nil || x != "launch-1" {
		t.Fatalf("launch header %q (%v)", x, err)
	}
	p, err := Snapshot(r.ctx, r.b)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	p.Render(&out)
	text := out.String()
	for _, want := range []string{"Test portal", "Choose a plan", "Header launch-1", "Your name", "Big plan", "I accept the terms", "United States | Germany", "<Continue>", "About us (link)"} {
		if !strings.Contains(text, want) {
			t.Errorf("render lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Invisible") || strings.Contains(text, "secret") {
		t.Errorf("render shows hidden content:\n%s", text)
	}
	kinds := map[string]ControlKind{"Your name": KindText, "Password": KindText, "Small plan": KindRadio, "Big plan": KindRadio,
		"I accept the terms": KindCheckbox, "Country": KindSelect, "Continue": KindButton, "About us": KindLink}
	refs := map[string]int{}
	for _, c := range p.Controls {
		if k, ok := kinds[c.Label]; ok {
			if c.Kind != k {
				t.Errorf("%q is %s, want %s", c.Label, c.Kind, k)
			}
			refs[c.Label] = c.Ref
		}
	}
	if len(refs) != len(kinds) {
		t.Fatalf("controls %+v", p.Controls)
	}
	fill := func(label, v string) {
		t.Helper()
		if err := Act(r.ctx, r.b, refs[label], &v); err != nil {
			t.Fatal(err)
		}
	}
	fill("Your name", "Ada")
	fill("Password", "s3cret")
	fill("Country", "Germany")
	for _, l := range []string{"Big plan", "I accept the terms"} {
		if err := Act(r.ctx, r.b, refs[l], nil); err != nil {
			t.Fatal(err)
		}
	}
	p, err = Snapshot(r.ctx, r.b)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range p.Controls {
		if c.Label == "Password" && (c.Value != "" || !c.Secret) {
			t.Errorf("password control %+v shows its value", c)
		}
		if c.Label == "Big plan" && !c.Checked {
			t.Errorf("radio not checked: %+v", c)
		}
	}
	// The click posts to a slow server; Act returns once the next page is
	// there.
	if err := Act(r.ctx, r.b, refs["Continue"], nil); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := r.b.Eval(r.ctx, `document.querySelector("#got") ? document.querySelector("#got").textContent : ""`, &got); err != nil {
		t.Fatal(err)
	}
	if got != "Ada|s3cret|big|on|de" {
		t.Fatalf("posted %q", got)
	}
	if err := Act(r.ctx, r.b, 99, nil); !errors.Is(err, ErrNoControl) {
		t.Fatalf("act on a missing control: %v", err)
	}
}

func TestAutopilot(t *testing.T) {
	r := newRig(t)
	steps, err := ParseScript(strings.NewReader("fill #name Grace\nclick-if #nothing-here\nfill #country de\nclick #terms\nclick #go\nwait #got"))
	if err != nil {
		t.Fatal(err)
	}
	if err := Autopilot(r.ctx, r.b, steps, nil); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := r.b.Eval(r.ctx, `document.querySelector("#got").textContent`, &got); err != nil || got != "Grace|||on|de" {
		t.Fatalf("posted %q (%v)", got, err)
	}
}

func TestRunScriptOnlyOnThePortal(t *testing.T) {
	r := newRig(t)
	ps := app.PortalScript{Kind: app.ScriptActivation, JS: `onAct("{\"activationResult\":\"success\",\"iccid\":\"89\"}");`, TransactionID: "tx-1"}
	if err := r.host.RunScript(r.ctx, ps); err != nil {
		t.Fatal(err)
	}
	var act string
	if err := r.b.Eval(r.ctx, `document.body.dataset.act || ""`, &act); err != nil || !strings.Contains(act, "success") {
		t.Fatalf("page got %q (%v)", act, err)
	}
	other := ps
	other.TransactionID = "tx-2"
	if err := r.host.RunScript(r.ctx, other); !errors.Is(err, ErrNotOnPortal) {
		t.Fatalf("script of another session: %v", err)
	}
	// The page went to another host: the script must not run there.
	if err := r.b.Open(r.ctx, "https://other.test/"); err != nil {
		t.Fatal(err)
	}
	if err := r.host.RunScript(r.ctx, ps); !errors.Is(err, ErrNotOnPortal) {
		t.Fatalf("script on other.test: %v", err)
	}
	if err := r.b.Eval(r.ctx, `document.body.dataset.act || ""`, &act); err != nil || act != "" {
		t.Fatalf("the script ran on other.test: %q (%v)", act, err)
	}
}

func TestServeHandsMessagesToTheAgent(t *testing.T) {
	r := newRig(t)
	if err := r.b.Eval(r.ctx, `MobilePlans.notifyCancelledPurchase(MobilePlans.createPurchaseMetaData())`, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.reply:
		if err != nil {
			t.Fatalf("portal call refused: %v", err)
		}
	case <-r.ctx.Done():
		t.Fatal("no reply")
	}
	// From another host, straight to the transport: refused by origin.
	if err := r.b.Open(r.ctx, "https://other.test/"); err != nil {
		t.Fatal(err)
	}
	if err := r.b.Eval(r.ctx, chromium.BindingName+`('{"v":1,"op":"notifyCancelledPurchase","object":"MobilePlans","origin":"https://portal.test","args":{"meta":{}}}')`, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.reply:
		var oe *portal.OriginError
		if !errors.As(err, &oe) {
			t.Fatalf("call from other.test: %v, want an origin error", err)
		}
	case <-r.ctx.Done():
		t.Fatal("no reply")
	}
	r.agent.mu.Lock()
	defer r.agent.mu.Unlock()
	if len(r.agent.got) != 2 || r.agent.got[0].Origin != "https://portal.test" || r.agent.got[1].Origin != "https://other.test" {
		t.Fatalf("messages %+v", r.agent.got)
	}
}
