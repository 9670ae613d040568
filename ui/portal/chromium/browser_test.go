package chromium

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"errors"
	"image/png"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/service/webca"
	"github.com/mobileplans/mobileplans/ui/portal"
)

const (
	portalHost = "portal.contoso.test"
	evilHost   = "evil.test"
	testAC     = "1$smdp.contoso.test$JO46UQDI07IKQDGG"
	testICCID  = "8988247000100003319"
)

// testPage is the operator page: hooks for the callback scripts and a
// cancel button, as a portal would have.
const testPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>Contoso Cellular</title></head>
<body>
<h1 id="brand">Contoso Cellular</h1>
<button id="cancel" onclick="cancelPurchase()">Cancel</button>
<p id="status">ready</p>
<pre id="reg"></pre>
<pre id="act"></pre>
<script>
window.portalHooks = {
  calls: [],
  onRegistration: function (s) {
    portalHooks.calls.push({fn: "registration", type: typeof s, arg: s});
    document.getElementById("reg").textContent = s;
  },
  onActivation: function (s) {
    portalHooks.calls.push({fn: "activation", type: typeof s, arg: s});
    document.getElementById("act").textContent = s;
  },
};
function cancelPurchase() {
  var m = MobilePlans.createPurchaseMetaData();
  m.userAccount = MobilePlansUserAccount.existing;
  m.lineType = MobilePlansLineType.bailed;
  m.modirectStatus = MobilePlansMoDirectStatus.cancelled;
  m.planName = "";
  MobilePlans.notifyCancelledPurchase(m);
  document.getElementById("status").textContent = "cancelled";
}
</script>
</body></html>`

type env struct {
	b   *Browser
	ca  *webca.CA
	srv *httptest.Server
}

// newEnv serves testPage over HTTPS for portalHost and evilHost (one
// certificate from a fresh webca CA) and starts a browser that trusts the CA
// and resolves both hosts to the server.
func newEnv(t *testing.T) *env {
	t.Helper()
	ca, err := webca.New("browsertest CA", nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCert(portalHost, evilHost)
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, cert)
	addr := srv.Listener.Addr().String()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	b, err := New(ctx, Options{
		AllowedHost: portalHost,
		RootCAs:     ca.CertPEM(),
		HostMap:     map[string]string{portalHost: addr, evilHost: addr},
	})
	if errors.Is(err, ErrUnavailable) {
		t.Skipf("skipping browser test: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return &env{b: b, ca: ca, srv: srv}
}

func newServer(t *testing.T, cert tls.Certificate) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(testPage))
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	// Refused handshakes are expected in TestCertificateVerification.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// testCtx bounds one test so that a browser that stops answering fails the
// test instead of hanging it.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// next returns the next bridge message.
func (e *env) next(t *testing.T, ctx context.Context) portal.Message {
	t.Helper()
	select {
	case m, ok := <-e.b.Calls():
		if !ok {
			t.Fatal("Calls closed")
		}
		return m
	case <-ctx.Done():
		t.Fatalf("no bridge message: %v", ctx.Err())
	}
	return portal.Message{}
}

func (e *env) eval(t *testing.T, ctx context.Context, js string, out any) {
	t.Helper()
	if err := e.b.Eval(ctx, js, out); err != nil {
		t.Fatalf("eval %s: %v", js, err)
	}
}

func TestBridgeCalls(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	if err := e.b.Open(ctx, "https://"+portalHost+"/"); err != nil {
		t.Fatal(err)
	}
	const meta = `(function () {
		var m = MobilePlans.createPurchaseMetaData();
		m.userAccount = MobilePlansUserAccount.new;
		m.purchaseInstrument = MobilePlansPurchaseInstrument.existing;
		m.line = MobilePlansLineType.new;
		m.moDirectStatus = MobilePlansMoDirectStatus.complete;
		m.planName = "10 GB";
		return m;
	})()`
	wantMeta := portal.Meta{UserAccount: portal.UserAccountNew, PurchaseInstrument: portal.PurchaseInstrumentExisting,
		Line: portal.LineNew, MoDirectStatus: portal.MoDirectComplete, PlanName: "10 GB"}
	src := func(object, op string) portal.Source {
		return portal.Source{Object: object, Op: op, Origin: "https://" + portalHost}
	}
	sixty := 60
	legacyPayload := `JSON.stringify({ver: "1", success: true, transactionId: "tx-1", activationCode: "` + testAC +
		`", iccid: "` + testICCID + `", purchaseResult: JSON.stringify({userAccount: "New", purchaseInstrument: "Existing",
		line: "New", moDirectStatus: "Complete", planName: "Unlimited"})})`

	tests := []struct {
		name string
		js   string // returns the operation context id, or ""
		want func(id string) portal.Call
	}{
		{"inline download", `MobilePlansInlineOperations.notifyProfileDownload(` + meta + `, "` + testAC + `").id`,
			func(id string) portal.Call {
				return &portal.ProfileDownload{Source: src(portal.ObjectMobilePlansInlineOperations, "notifyProfileDownload"),
					Meta: wantMeta, ActivationCode: testAC, ContextID: id}
			}},
		{"deferred download", `MobilePlansInlineOperations.notifyProfileDownload(` + meta + `, "` + testAC + `", 60).id`,
			func(id string) portal.Call {
				return &portal.ProfileDownload{Source: src(portal.ObjectMobilePlansInlineOperations, "notifyProfileDownload"),
					Meta: wantMeta, ActivationCode: testAC, DelayMinutes: &sixty, ContextID: id}
			}},
		{"cancel by context object", `(function () {
				var c = MobilePlansInlineOperations.notifyProfileDownload(` + meta + `, "` + testAC + `", 60);
				MobilePlansInlineOperations.notifyOperationCancel(c);
				return c.id;
			})()`, nil}, // two messages, checked below
		{"inline balance addition", `MobilePlansInlineOperations.notifyBalanceAddition(` + meta + `, "` + testICCID + `").id`,
			func(id string) portal.Call {
				return &portal.BalanceAddition{Source: src(portal.ObjectMobilePlansInlineOperations, "notifyBalanceAddition"),
					Meta: wantMeta, ICCID: testICCID, ContextID: id}
			}},
		{"purchase with download", `MobilePlans.notifyPurchaseWithProfileDownload(` + meta + `, "` + testAC + `", 15), ""`,
			func(string) portal.Call {
				return &portal.PurchaseWithProfileDownload{Source: src(portal.ObjectMobilePlans, "notifyPurchaseWithProfileDownload"),
					Meta: wantMeta, ActivationCode: testAC, NetworkRegistrationInterval: 15}
			}},
		{"legacy balance addition", `MobilePlans.notifyBalanceAddition(` + meta + `), ""`,
			func(string) portal.Call {
				return &portal.BalanceAddition{Source: src(portal.ObjectMobilePlans, "notifyBalanceAddition"), Meta: wantMeta}
			}},
		{"delayed profile", `MobilePlans.notifyPurchaseDelayedProfile(` + meta + `, 30), ""`,
			func(string) portal.Call {
				return &portal.PurchaseDelayedProfile{Source: src(portal.ObjectMobilePlans, "notifyPurchaseDelayedProfile"),
					Meta: wantMeta, DelayMinutes: 30}
			}},
		{"legacy inline download", `MobilePlansInlineProfileDownload.notifyInlineProfileDownload(` + meta + `, "` + testAC + `"), ""`,
			func(string) portal.Call {
				return &portal.ProfileDownload{Source: src(portal.ObjectMobilePlansInlineProfileDownload, "notifyInlineProfileDownload"),
					Meta: wantMeta, ActivationCode: testAC}
			}},
		{"DataMart inline download with plain strings", `DataMartInlineProfile.notifyInlineProfileDownload(
				{userAccount: "New", purchaseInstrument: DataMartPurchaseInstrment.new, lineType: "New", modirectStatus: "Complete", planName: "10 GB"},
				"` + testAC + `"), ""`,
			func(string) portal.Call {
				return &portal.ProfileDownload{Source: src(portal.ObjectDataMartInlineProfile, "notifyInlineProfileDownload"),
					Meta: portal.Meta{UserAccount: portal.UserAccountNew, PurchaseInstrument: portal.PurchaseInstrumentNew,
						Line: portal.LineNew, MoDirectStatus: portal.MoDirectComplete, PlanName: "10 GB"}, ActivationCode: testAC}
			}},
		{"DataMart purchase result", `DataMart.notifyPurchaseResult(` + legacyPayload + `), ""`,
			func(string) portal.Call {
				return &portal.LegacyPurchaseResult{Source: src(portal.ObjectDataMart, "notifyPurchaseResult"), Version: "1",
					Success: true, TransactionID: "tx-1", ActivationCode: testAC, ICCID: testICCID,
					Result: portal.Meta{UserAccount: portal.UserAccountNew, PurchaseInstrument: portal.PurchaseInstrumentExisting,
						Line: portal.LineNew, MoDirectStatus: portal.MoDirectComplete, PlanName: "Unlimited"}}
			}},
		{"DataMart cancelled purchase", `DataMart.notifyCancelledPurchase({lineType: DataMartLineType.bailed,
				moDirectStatus: DataMartMoDirectStatus.none, planName: ""}), ""`,
			func(string) portal.Call {
				return &portal.CancelledPurchase{Source: src(portal.ObjectDataMart, "notifyCancelledPurchase"),
					Meta: portal.Meta{Line: portal.LineBailed, MoDirectStatus: portal.MoDirectNone}}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var id string
			e.eval(t, ctx, tt.js, &id)
			m := e.next(t, ctx)
			if m.Origin != "https://"+portalHost {
				t.Errorf("frame origin %q", m.Origin)
			}
			c, err := m.Parse(portalHost)
			if err != nil {
				t.Fatalf("Parse(%s): %v", m.Raw, err)
			}
			if tt.want == nil { // cancel: a deferred download, then its cancel
				if _, ok := c.(*portal.ProfileDownload); !ok {
					t.Fatalf("first call %#v", c)
				}
				c, err = e.next(t, ctx).Parse(portalHost)
				want := &portal.OperationCancel{Source: src(portal.ObjectMobilePlansInlineOperations, "notifyOperationCancel"), ContextID: id}
				if err != nil || !reflect.DeepEqual(c, want) {
					t.Fatalf("cancel = %#v, %v; want %#v", c, err, want)
				}
				return
			}
			if want := tt.want(id); !reflect.DeepEqual(c, want) {
				t.Errorf("call %#v\nwant %#v\nraw  %s", c, want, m.Raw)
			}
			if strings.HasPrefix(tt.js, "MobilePlansInlineOperations") && !strings.HasPrefix(id, "mp-") {
				t.Errorf("operation context id %q", id)
			}
		})
	}

	t.Run("click", func(t *testing.T) {
		if err := e.b.Click(ctx, "#cancel"); err != nil {
			t.Fatal(err)
		}
		c, err := e.next(t, ctx).Parse(portalHost)
		want := &portal.CancelledPurchase{Source: src(portal.ObjectMobilePlans, "notifyCancelledPurchase"),
			Meta: portal.Meta{UserAccount: portal.UserAccountExisting, Line: portal.LineBailed, MoDirectStatus: portal.MoDirectCancelled}}
		if err != nil || !reflect.DeepEqual(c, want) {
			t.Fatalf("call %#v, %v; want %#v", c, err, want)
		}
		if s, err := e.b.Text(ctx, "#status"); err != nil || s != "cancelled" {
			t.Errorf("status = %q, %v", s, err)
		}
	})

	t.Run("errors reach the app typed", func(t *testing.T) {
		tests := []struct {
			js   string
			want error
		}{
			{`MobilePlansInlineOperations.notifyProfileDownload(` + meta + `, "LPA:` + testAC + `").id`, portal.ErrInvalidActivationCode},
			{`MobilePlansInlineOperations.notifyProfileDownload(` + meta + `, "1$smdp.test").id`, portal.ErrInvalidActivationCode},
			{`MobilePlansInlineOperations.notifyProfileDownload(undefined, "` + testAC + `").id`, portal.ErrInvalidJSON},
			{`MobilePlansInlineOperations.notifyProfileDownload({line: "sideways"}, "` + testAC + `").id`, portal.ErrInvalidJSON},
			{`(function () { var m = {}; m.self = m; return MobilePlansInlineOperations.notifyProfileDownload(m, "` + testAC + `").id; })()`, portal.ErrInvalidJSON},
			{`MobilePlansInlineOperations.notifyBalanceAddition(` + meta + `, "12345").id`, portal.ErrInvalidICCID},
			{`DataMart.notifyPurchaseResult({success: true}), ""`, portal.ErrInvalidJSON},
		}
		for _, tt := range tests {
			var id string
			e.eval(t, ctx, tt.js, &id)
			_, err := e.next(t, ctx).Parse(portalHost)
			if !errors.Is(err, tt.want) {
				t.Errorf("%s: %v, want %v", tt.js, err, tt.want)
				continue
			}
			var ie *portal.InvalidError
			if errors.As(err, &ie) && ie.ContextID != id {
				t.Errorf("%s: error context %q, page got %q", tt.js, ie.ContextID, id)
			}
		}
	})
}

func TestCallbackScripts(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	if err := e.b.Open(ctx, "https://"+portalHost+"/"); err != nil {
		t.Fatal(err)
	}
	// Set the names on the two documented objects; both read back the same.
	e.eval(t, ctx, `MobilePlansInlineOperations.registrationChangedScript = "portalHooks.onRegistration"`, nil)
	e.eval(t, ctx, `MobilePlansInlineProfileDownload.profileActivationCompleteScript = "portalHooks.onActivation"`, nil)
	var names []string
	e.eval(t, ctx, `[MobilePlansInlineProfileDownload.registrationChangedScript, MobilePlansInlineOperations.profileActivationCompleteScript,
		DataMartInlineProfile.registrationChangedScript]`, &names)
	if want := []string{"portalHooks.onRegistration", "portalHooks.onActivation", "portalHooks.onRegistration"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names read back %q, want %q", names, want)
	}
	var sn *portal.ScriptNames
	for _, wantObj := range []string{portal.ObjectMobilePlansInlineOperations, portal.ObjectMobilePlansInlineProfileDownload} {
		c, err := e.next(t, ctx).Parse(portalHost)
		if err != nil {
			t.Fatal(err)
		}
		var ok bool
		if sn, ok = c.(*portal.ScriptNames); !ok || sn.Object != wantObj {
			t.Fatalf("call %#v, want ScriptNames from %s", c, wantObj)
		}
	}
	if sn.Registration != "portalHooks.onRegistration" || sn.Activation != "portalHooks.onActivation" {
		t.Fatalf("script names %+v", sn)
	}

	reg, err := portal.RegistrationScript(sn.Registration, portal.RegistrationArgs{State: portal.RegistrationRoaming, ICCID: testICCID})
	if err != nil {
		t.Fatal(err)
	}
	act, err := portal.ActivationScript(sn.Activation, portal.ActivationArgs{Result: portal.ActivationInvalidActivationCode,
		ICCID: `"</script><script>alert(1)</script>\u2028`})
	if err != nil {
		t.Fatal(err)
	}
	e.eval(t, ctx, reg, nil)
	e.eval(t, ctx, act, nil)
	var got []struct{ Fn, Type, Arg string }
	e.eval(t, ctx, `portalHooks.calls`, &got)
	want := []struct{ Fn, Type, Arg string }{
		{"registration", "string", `{"networkRegistrationState":"roaming","iccid":"8988247000100003319"}`},
		{"activation", "string", `{"activationResult":"invalidActivationCode","iccid":"\"\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e\\u2028"}`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("page functions got %+v\nwant %+v", got, want)
	}
	// The page can compare with its enum objects.
	var roaming bool
	e.eval(t, ctx, `JSON.parse(portalHooks.calls[0].arg).networkRegistrationState === MobilePlansNetworkRegistrationState.roaming &&
		JSON.parse(portalHooks.calls[1].arg).activationResult === MobilePlansActivationError.invalidActivationCode`, &roaming)
	if !roaming {
		t.Error("callback values do not match the page's enum objects")
	}
	if s, err := e.b.Text(ctx, "#reg"); err != nil || s != want[0].Arg {
		t.Errorf("#reg = %q, %v", s, err)
	}

	// A name that is not an identifier path is refused by the Go side.
	e.eval(t, ctx, `MobilePlansInlineOperations.registrationChangedScript = "alert(document.domain)"`, nil)
	if _, err := e.next(t, ctx).Parse(portalHost); !errors.Is(err, portal.ErrInvalidJSON) {
		t.Errorf("bad script name: %v", err)
	}
}

func TestForeignOriginRefused(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	if err := e.b.Open(ctx, "https://"+evilHost+"/"); err != nil {
		t.Fatal(err)
	}
	// The bridge refuses every call and every script assignment.
	for _, js := range []string{
		`MobilePlansInlineOperations.notifyProfileDownload(MobilePlans.createPurchaseMetaData(), "` + testAC + `")`,
		`MobilePlansInlineOperations.notifyBalanceAddition({})`,
		`MobilePlansInlineOperations.notifyOperationCancel({id: "mp-1"})`,
		`MobilePlans.notifyCancelledPurchase({})`,
		`DataMart.notifyPurchaseResult("{}")`,
		`DataMartInlineProfile.notifyInlineProfileDownload({}, "` + testAC + `")`,
		`MobilePlansInlineOperations.registrationChangedScript = "f"`,
	} {
		var res string
		e.eval(t, ctx, `(function () { try { `+js+`; return "sent"; } catch (e) { return String(e.message); } })()`, &res)
		if !strings.Contains(res, "accepted only from https://"+portalHost) {
			t.Errorf("%s: %q, want a refusal", js, res)
		}
	}
	// The page forges a message through the binding itself, claiming the
	// portal's origin. It is the first message the host sees (the refused
	// calls sent nothing), and the host refuses it by the frame origin the
	// browser reported.
	forged := `{"v":1,"object":"MobilePlansInlineOperations","op":"notifyProfileDownload","origin":"https://` + portalHost +
		`","args":{"meta":{},"activationCode":"` + testAC + `"},"context":"mp-forged"}`
	e.eval(t, ctx, BindingName+`(`+jsString(forged)+`)`, nil)
	m := e.next(t, ctx)
	if string(m.Raw) != forged {
		t.Fatalf("first message %s, want the forged one", m.Raw)
	}
	if m.Origin != "https://"+evilHost {
		t.Errorf("frame origin %q", m.Origin)
	}
	c, err := m.Parse(portalHost)
	var oe *portal.OriginError
	if !errors.As(err, &oe) || oe.Reported || oe.Origin != "https://"+evilHost {
		t.Fatalf("forged message: %#v, %v; want a refusal by frame origin", c, err)
	}
	// The message alone would pass: the frame origin is what stops it.
	if _, err := portal.ParseMessage(m.Raw, portalHost); err != nil {
		t.Errorf("ParseMessage of the forged text: %v", err)
	}
}

func TestCertificateVerification(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	addr := e.srv.Listener.Addr().String()

	// The same server and host in a browser that was not given the test
	// CA: the load fails, so the trust comes from RootCAs alone.
	plain, err := New(ctx, Options{AllowedHost: portalHost, HostMap: map[string]string{portalHost: addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	err = plain.Open(ctx, "https://"+portalHost+"/")
	if err == nil || !strings.Contains(err.Error(), "ERR_CERT_AUTHORITY_INVALID") {
		t.Errorf("open without the test CA: %v, want ERR_CERT_AUTHORITY_INVALID", err)
	}

	// With the CA trusted, a name the certificate does not carry still
	// fails: verification is on, not bypassed.
	err = e.b.Open(ctx, "https://"+addr+"/")
	if err == nil || !strings.Contains(err.Error(), "ERR_CERT_COMMON_NAME_INVALID") {
		t.Errorf("open by IP address: %v, want ERR_CERT_COMMON_NAME_INVALID", err)
	}
	if err := e.b.Open(ctx, "https://"+portalHost+"/"); err != nil {
		t.Errorf("open with the test CA: %v", err)
	}
}

func TestScreenshot(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	if err := e.b.Open(ctx, "https://"+portalHost+"/"); err != nil {
		t.Fatal(err)
	}
	shot, err := e.b.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if r := img.Bounds(); r.Dx() != 800 || r.Dy() != 600 {
		t.Errorf("screenshot is %dx%d, want the 800x600 portal frame", r.Dx(), r.Dy())
	}
	if s, err := e.b.Text(ctx, "#brand"); err != nil || s != "Contoso Cellular" {
		t.Errorf("brand = %q, %v", s, err)
	}
}

func TestCloseClosesCalls(t *testing.T) {
	e := newEnv(t)
	if err := e.b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-e.b.Calls(); ok {
		t.Error("Calls not closed")
	}
	if err := e.b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestResolverRules(t *testing.T) {
	got, err := resolverRules(map[string]string{"b.test": "127.0.0.1:2", "a.test": "127.0.0.1:1"})
	if want := "MAP a.test 127.0.0.1:1, MAP b.test 127.0.0.1:2"; err != nil || got != want {
		t.Errorf("rules %q, %v; want %q", got, err, want)
	}
	for _, bad := range []map[string]string{
		{"a.test": "127.0.0.1:1, MAP * 10.0.0.1"},
		{"a.test b.test": "127.0.0.1:1"},
		{"": "127.0.0.1"},
		{"a.test": ""},
	} {
		if _, err := resolverRules(bad); err == nil {
			t.Errorf("resolverRules(%q) accepted", bad)
		}
	}
}

func TestCACerts(t *testing.T) {
	ca, err := webca.New("x", nil)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.ServerCert(portalHost)
	if err != nil {
		t.Fatal(err)
	}
	if certs, err := caCerts(append(ca.CertPEM(), ca.CertPEM()...)); err != nil || len(certs) != 2 {
		t.Errorf("two CAs: %d, %v", len(certs), err)
	}
	leafPEM := pemCert(leaf.Certificate[0])
	for name, in := range map[string][]byte{"leaf": leafPEM, "empty": nil, "garbage": []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")} {
		if _, err := caCerts(in); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
