package operator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func newPortal(t *testing.T, mod func(*Config)) (*testOp, *httptest.Server) {
	t.Helper()
	op := newTestOperator(t, mod)
	srv := httptest.NewServer(op.PortalHandler())
	t.Cleanup(srv.Close)
	return op, srv
}

func launchQuery(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return "/?" + q.Encode()
}

func TestPortalPurchaseFlows(t *testing.T) {
	tests := []struct {
		name        string
		launch      string
		plan        string
		form        url.Values
		cfgLegacy   bool
		wantAction  string
		wantLegacy  string
		wantDelay   string
		wantIntv    string
		wantOrder   bool
		wantEID     string
		wantKind    string
		wantCancel  bool // cancel-scheduled form
		wantNoDeliv bool // no delivery choice on review
	}{
		{name: "prepaid now", launch: launchQuery("eid", testEID, "imei", "001102000315468", "market", "us",
			"location", "US", "transactionId", "/7RBTuSJt02OZbX8.4"),
			plan: "prepaid-5gb", form: url.Values{"delivery": {"now"}}, wantAction: "download", wantOrder: true,
			wantEID: testEID, wantKind: "download"},
		{name: "postpaid unlimited", launch: launchQuery("eid", testEID, "transactionId", "tx-2"),
			plan: "unlimited", wantAction: "download", wantOrder: true, wantEID: testEID, wantKind: "download"},
		{name: "travel deferred", launch: launchQuery("eid", testEID, "transactionId", "tx-3"),
			plan: "travel-1gb", form: url.Values{"delivery": {"later"}}, wantAction: "deferred", wantDelay: "60",
			wantOrder: true, wantEID: testEID, wantKind: "deferred", wantCancel: true},
		{name: "async activation", launch: launchQuery("eid", testEID, "transactionId", "tx-4"),
			plan: "business-20gb", wantAction: "async", wantIntv: "15", wantOrder: true, wantEID: testEID,
			wantKind: "async", wantNoDeliv: true},
		{name: "legacy query", launch: launchQuery("eid", testEID, "transactionId", "tx-5", "legacy", "1"),
			plan: "prepaid-5gb", form: url.Values{"delivery": {"later"}}, wantAction: "download", wantLegacy: "1",
			wantOrder: true, wantEID: testEID, wantKind: "download", wantNoDeliv: true},
		{name: "legacy config", launch: launchQuery("eid", testEID, "transactionId", "tx-6"), cfgLegacy: true,
			plan: "travel-1gb", wantAction: "download", wantLegacy: "1", wantOrder: true, wantEID: testEID,
			wantKind: "download", wantNoDeliv: true},
		{name: "no eid orders unbound profile", launch: launchQuery("transactionId", "tx-7"),
			plan: "prepaid-5gb", wantAction: "download", wantOrder: true, wantKind: "download"},
		{name: "warm physical SIM", launch: launchQuery("iccid", "8988247000100003319F", "imei", "001102000311608",
			"market", "us", "transactionId", "waoigFfX00yGH3Vb.1", "location", "us"),
			plan: "prepaid-5gb", wantAction: "balance", wantKind: "activation", wantNoDeliv: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op, srv := newPortal(t, func(c *Config) { c.Legacy = tc.cfgLegacy })
			b := newBrowser(t, srv, "")
			b.get(tc.launch, nil)
			b.mustPage("signin")
			for _, id := range []string{"brand-logo", "signin-form", "email", "password", "signin-submit",
				"signup-link", "cancel", "terms-link", "support-contact"} {
				if !b.has(id) {
					t.Errorf("sign-in page lacks #%s", id)
				}
			}
			b.signUp("ada@example.com")
			for _, id := range []string{"plans-postpaid", "plans-prepaid", "plan-unlimited", "plan-business-20gb",
				"plan-prepaid-5gb", "plan-travel-1gb", "next", "cancel", "greeting"} {
				if !b.has(id) {
					t.Errorf("plans page lacks #%s", id)
				}
			}
			b.post("/plans", url.Values{"plan": {tc.plan}}, true)
			b.mustPage("review")
			if !b.has("review-terms-link") || !b.has("accept-terms") || !b.has("buy") || !b.has("back") {
				t.Errorf("review page lacks the terms link, the acceptance, Buy or Back:\n%s", b.body)
			}
			if got := b.has("delivery-later"); got == tc.wantNoDeliv {
				t.Errorf("delivery choice shown = %v, want %v", got, !tc.wantNoDeliv)
			}
			form := url.Values{"accept": {"1"}}
			for k, v := range tc.form {
				form[k] = v
			}
			b.post("/review", form, true)
			b.mustPage("confirmation")
			if !strings.Contains(b.body, "/static/portal.js") {
				t.Error("the confirmation page does not load portal.js")
			}
			if got := b.attr("handback", "data-action"); got != tc.wantAction {
				t.Errorf("data-action %q, want %q", got, tc.wantAction)
			}
			if got := b.attr("handback", "data-legacy"); got != tc.wantLegacy {
				t.Errorf("data-legacy %q, want %q", got, tc.wantLegacy)
			}
			if got := b.attr("handback", "data-delay"); got != tc.wantDelay {
				t.Errorf("data-delay %q, want %q", got, tc.wantDelay)
			}
			if got := b.attr("handback", "data-interval"); got != tc.wantIntv {
				t.Errorf("data-interval %q, want %q", got, tc.wantIntv)
			}
			if got := b.attr("confirmation-text", "data-kind"); got != tc.wantKind {
				t.Errorf("confirmation kind %q, want %q", got, tc.wantKind)
			}
			for attr, want := range map[string]string{"data-user-account": "new", "data-purchase-instrument": "new",
				"data-line": "new", "data-status": "complete"} {
				if got := b.attr("handback", attr); got != want {
					t.Errorf("%s %q, want %q", attr, got, want)
				}
			}
			if b.attr("handback", "data-plan-name") == "" {
				t.Error("no plan name for the metadata")
			}
			if got := b.has("cancel-scheduled"); got != tc.wantCancel {
				t.Errorf("cancel-scheduled shown = %v, want %v", got, tc.wantCancel)
			}
			if !b.has("finish") || b.has("cancel") {
				t.Error("the confirmation page needs Done and no purchase Cancel")
			}
			req, n := op.orders.last()
			ac := b.attr("handback", "data-ac")
			if !tc.wantOrder {
				if n != 0 {
					t.Fatalf("%d ES2+ orders for a physical SIM", n)
				}
				if ac != "" {
					t.Errorf("activation code %q for a physical SIM", ac)
				}
				if _, err := op.db.line(context.Background(), "8988247000100003319"); err != nil {
					t.Errorf("warm SIM line not recorded: %v", err)
				}
				return
			}
			if n != 1 || req.EID != tc.wantEID || req.PlanID != tc.plan {
				t.Errorf("order %+v (%d orders), want EID %q plan %q", req, n, tc.wantEID, tc.plan)
			}
			want := "1$" + testSMDP + "$MATCH-0001-ABCD"
			if ac != want || !validActivationCode(ac) {
				t.Errorf("activation code %q, want %q", ac, want)
			}
			if got := b.attr("qr-text", "value"); got != "LPA:"+want {
				t.Errorf("QR text %q", got)
			}
			if got := b.attr("activation-code", "value"); got != want {
				t.Errorf("fallback activation code %q", got)
			}
			for _, id := range []string{"bridge-status", "bridge-call", "operation-context", "registration-status",
				"activation-status", "registration-json", "activation-json", "fallback", "handback-again", "mp-strings"} {
				if !b.has(id) {
					t.Errorf("confirmation lacks #%s", id)
				}
			}
			if strings.Contains(op.logs.String(), "MATCH-0001-ABCD") {
				t.Error("the matching ID was logged in full")
			}
			// The terms after a purchase lead back without a Cancel.
			b.get("/terms?from=confirmation", nil)
			if b.has("cancel") || b.attr("back", "href") != "/confirmation" {
				t.Errorf("terms from the confirmation: cancel %v, back %q", b.has("cancel"), b.attr("back", "href"))
			}
			// Reloading keeps the confirmation (shopping-cart behaviour).
			b.get("/confirmation", nil)
			b.mustPage("confirmation")
			b.post("/done", nil, true)
			b.mustPage("done")
			b.get("/plans", nil)
			if b.status != http.StatusForbidden || b.attr("error-message", "data-message") != "err.session" {
				t.Errorf("after Done: HTTP %d, want the session-expired page", b.status)
			}
		})
	}
}

func TestPortalTransactionIDLogged(t *testing.T) {
	op, srv := newPortal(t, nil)
	b := newBrowser(t, srv, "")
	b.get("/?market=US&location=US&transactionId=%2F7RBTuSJt02OZbX8.4&eid="+testEID+
		"&imei=001102000315468&iccids=8988247000101867183,8988247000103824828", nil)
	b.mustPage("signin")
	if !strings.Contains(op.logs.String(), `transactionId=/7RBTuSJt02OZbX8.4`) {
		t.Errorf("transactionId not logged:\n%s", op.logs.String())
	}
	b.signUp("grace@example.com")
	b.buy("prepaid-5gb", nil)
	od, err := op.db.order(context.Background(), 1)
	if err != nil || od.TransactionID != "/7RBTuSJt02OZbX8.4" {
		t.Errorf("order %+v, %v: transactionId not stored", od, err)
	}
}

func TestPortalUnknownAndMixedCaseParams(t *testing.T) {
	op, srv := newPortal(t, nil)
	b := newBrowser(t, srv, "")
	b.get("/?EID="+testEID+"&Market=us&LOCATION=fr&TransactionID=abc&future=1&phoneNumber=123&x=%zz", nil)
	b.mustPage("signin")
	if b.status != http.StatusOK {
		t.Fatalf("HTTP %d", b.status)
	}
	b.signUp("linus@example.com")
	b.buy("prepaid-5gb", nil)
	b.mustPage("confirmation")
	if req, _ := op.orders.last(); req.EID != testEID {
		t.Errorf("EID %q not taken from a mixed-case parameter name", req.EID)
	}
	if got := b.attr("handback", "data-transaction-id"); got != "abc" {
		t.Errorf("transaction id %q", got)
	}
}

func TestPortalLPAErrorNotice(t *testing.T) {
	tests := []struct {
		codes, wantMsg string
	}{
		{"ServerFailure,ServerNotReachable", "The download server could not be reached."},
		{"InsufficientSpaceOnCard", "There was a problem with the eSIM card of your PC."},
		{"ProfileNotReleasedByOperator", "The eSIM profile could not be delivered."},
		{"OperationAborted", "The download was stopped before it finished."},
		{"SomethingNew", "An unexpected error occurred."},
		{"<script>alert(1)</script>", "An unexpected error occurred."},
	}
	for _, tc := range tests {
		t.Run(tc.codes, func(t *testing.T) {
			_, srv := newPortal(t, nil)
			b := newBrowser(t, srv, "")
			h := http.Header{}
			h.Set(HeaderLPAErrorCodes, tc.codes)
			h.Set(HeaderLPAErrorTimeStamps, "5/18/2018 11:17:23 PM,5/18/2018 11:19:02 PM")
			h.Set(HeaderLPAErrorICCIDs, "8988247000101867183")
			b.get(launchQuery("eid", testEID, "transactionId", "t1"), h)
			b.mustPage("signin")
			if !b.has("lpa-error") {
				t.Fatalf("no failed-download notice:\n%s", b.body)
			}
			if got := b.text("lpa-error-title"); got != "Your last eSIM download failed." {
				t.Errorf("title %q", got)
			}
			if got := b.text("lpa-error-message"); !strings.HasPrefix(got, tc.wantMsg) {
				t.Errorf("message %q, want %q", got, tc.wantMsg)
			}
			codes := b.text("lpa-error-codes")
			if !strings.Contains(codes, "5/18/2018 11:17:23 PM") {
				t.Errorf("codes line %q lacks the time stamps", codes)
			}
			if strings.Contains(b.body, "<script>alert") {
				t.Error("header content reached the page unescaped")
			}
		})
	}
	t.Run("no headers no notice", func(t *testing.T) {
		_, srv := newPortal(t, nil)
		b := newBrowser(t, srv, "")
		b.get(launchQuery("eid", testEID), nil)
		if b.has("lpa-error") {
			t.Error("notice without error headers")
		}
	})
}

func TestPortalRetryFailedDownload(t *testing.T) {
	op, srv := newPortal(t, nil)
	b := newBrowser(t, srv, "")
	b.get(launchQuery("eid", testEID, "transactionId", "first"), nil)
	b.signUp("retry@example.com")
	b.buy("prepaid-5gb", nil)
	b.mustPage("confirmation")
	ac := b.attr("handback", "data-ac")
	iccid := b.attr("handback", "data-iccid")
	b.post("/done", nil, true)

	// The app reports the failed download at the next launch.
	h := http.Header{}
	h.Set(HeaderLPAErrorCodes, "ServerNotReachable")
	h.Set(HeaderLPAErrorICCIDs, iccid+"F")
	relaunch := func() {
		b.get(launchQuery("eid", testEID, "transactionId", "second"), h)
		b.mustPage("signin")
		b.post("/signin", url.Values{"email": {"retry@example.com"}, "password": {"correct horse"}}, true)
		b.mustPage("plans")
	}
	relaunch()
	if !b.has("retry-download") {
		t.Fatalf("no retry offered for an open order:\n%s", b.body)
	}
	b.post("/retry", nil, true)
	b.mustPage("confirmation")
	if got := b.attr("handback", "data-ac"); got != ac {
		t.Errorf("retry hands %q, want the same code %q", got, ac)
	}
	if got := b.attr("handback", "data-action"); got != "download" {
		t.Errorf("retry action %q", got)
	}
	if _, n := op.orders.last(); n != 1 {
		t.Errorf("%d ES2+ orders, the retry must not order again", n)
	}
	b.post("/done", nil, true)

	// Once the download is known to have worked the code is not offered.
	if err := op.MarkDownloaded(context.Background(), iccid); err != nil {
		t.Fatal(err)
	}
	relaunch()
	if b.has("retry-download") {
		t.Error("retry offered after the download succeeded")
	}
	if err := op.MarkDownloaded(context.Background(), "8988247000101867183"); !errors.Is(err, ErrUnknownICCID) {
		t.Errorf("MarkDownloaded(unknown) = %v", err)
	}
}

func TestPortalCancelOnEveryPage(t *testing.T) {
	op := newTestOperator(t, func(c *Config) {
		c.SeedLines = []SeedLine{{ICCID: "8900101000000000018", PlanID: "prepaid-5gb"}}
	})
	srv := httptest.NewServer(op.PortalHandler())
	defer srv.Close()
	n := 0
	next := func() string { n++; return fmt.Sprintf("c%d@example.com", n) }
	steps := []struct {
		page string
		goTo func(b *browser)
	}{
		{"signin", func(b *browser) {}},
		{"signup", func(b *browser) { b.get("/signup", nil) }},
		{"plans", func(b *browser) { b.signUp(next()) }},
		{"review", func(b *browser) {
			b.signUp(next())
			b.post("/plans", url.Values{"plan": {"unlimited"}}, true)
		}},
		{"topup", func(b *browser) {
			b.signUp(next())
			b.get("/topup?iccid=8900101000000000018", nil)
		}},
		{"terms", func(b *browser) { b.get("/terms?from=signin", nil) }},
		{"error", func(b *browser) { b.get("/no-such-page", nil) }},
	}
	for _, legacy := range []bool{false, true} {
		for _, st := range steps {
			t.Run(st.page+map[bool]string{true: " legacy"}[legacy], func(t *testing.T) {
				b := newBrowser(t, srv, "")
				q := []string{"eid", testEID, "iccids", "8900101000000000018", "transactionId", "tx-" + st.page}
				if legacy {
					q = append(q, "legacy", "1")
				}
				b.get(launchQuery(q...), nil)
				st.goTo(b)
				b.mustPage(st.page)
				if !b.has("cancel") || !b.has("cancel-form") || b.attr("cancel", "form") != "cancel-form" {
					t.Fatalf("page %s has no Cancel:\n%s", st.page, b.body)
				}
				b.post("/cancel", nil, true)
				b.mustPage("cancelled")
				wantStatus, wantInstr := "cancelled", "bailed"
				if legacy {
					wantStatus, wantInstr = "none", "none"
				}
				for attr, want := range map[string]string{"data-action": "cancel", "data-user-account": "bailed",
					"data-purchase-instrument": wantInstr, "data-status": wantStatus,
					"data-transaction-id": "tx-" + st.page, "data-legacy": map[bool]string{true: "1"}[legacy]} {
					if got := b.attr("handback", attr); got != want {
						t.Errorf("%s %q, want %q", attr, got, want)
					}
				}
				b.get("/plans", nil)
				if b.status != http.StatusForbidden {
					t.Errorf("the session survived the cancel: HTTP %d on /plans", b.status)
				}
			})
		}
	}
	t.Run("without session", func(t *testing.T) {
		b := newBrowser(t, srv, "")
		b.post("/cancel", nil, false)
		b.mustPage("cancelled")
	})
}

func TestPortalCSRF(t *testing.T) {
	_, srv := newPortal(t, nil)
	b := newBrowser(t, srv, "")
	b.get(launchQuery("eid", testEID), nil)
	good := b.csrf()
	tests := []struct {
		name, path string
		form       url.Values
	}{
		{"signin without token", "/signin", url.Values{"email": {"a@b.c"}, "password": {"12345678"}}},
		{"signin wrong token", "/signin", url.Values{"email": {"a@b.c"}, "password": {"12345678"}, "csrf": {"x" + good}}},
		{"signup without token", "/signup", url.Values{"name": {"A"}, "email": {"a@b.c"}, "password": {"12345678"}}},
		{"cancel without token", "/cancel", nil},
		{"plans without token", "/plans", url.Values{"plan": {"unlimited"}}},
		{"done without token", "/done", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b.post(tc.path, tc.form, false)
			if b.status != http.StatusForbidden || b.attr("error-message", "data-message") != "err.csrf" {
				t.Errorf("HTTP %d, page %s: want 403 err.csrf", b.status, b.page())
			}
		})
	}
	// The session is intact: the real token still works.
	b.get("/signup", nil)
	b.post("/signup", url.Values{"name": {"Ann"}, "email": {"ann@example.com"}, "password": {"12345678"}}, true)
	b.mustPage("plans")

	t.Run("no session", func(t *testing.T) {
		nb := newBrowser(t, srv, "")
		nb.post("/signin", url.Values{"csrf": {good}, "email": {"ann@example.com"}, "password": {"12345678"}}, false)
		if nb.status != http.StatusForbidden || nb.attr("error-message", "data-message") != "err.session" {
			t.Errorf("HTTP %d: want 403 err.session", nb.status)
		}
	})
}

func TestPortalAccounts(t *testing.T) {
	op, srv := newPortal(t, nil)
	b := newBrowser(t, srv, "")
	b.get(launchQuery("eid", testEID, "transactionId", "a1"), nil)
	b.get("/signup", nil)
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"name": {""}, "email": {"x@example.com"}, "password": {"12345678"}}, "err.name"},
		{url.Values{"name": {"X"}, "email": {"not-an-address"}, "password": {"12345678"}}, "err.email"},
		{url.Values{"name": {"X"}, "email": {"x@example.com"}, "password": {"short"}}, "err.password"},
	} {
		b.post("/signup", tc.form, true)
		b.mustPage("signup")
		if got := b.text("form-error"); got != op.ui.locales["en"].T(tc.want) {
			t.Errorf("form %v: error %q, want %s", tc.form, got, tc.want)
		}
	}
	b.post("/signup", url.Values{"name": {"Kim"}, "email": {"Kim@Example.com"}, "password": {"12345678"}}, true)
	b.mustPage("plans")
	b.buy("prepaid-5gb", nil)
	b.post("/done", nil, true)

	b.get(launchQuery("eid", testEID, "transactionId", "a2"), nil)
	b.get("/signup", nil)
	b.post("/signup", url.Values{"name": {"Kim"}, "email": {"kim@example.com"}, "password": {"12345678"}}, true)
	if got := b.text("form-error"); got != op.ui.locales["en"].T("err.email_taken") {
		t.Errorf("duplicate sign-up: %q", got)
	}
	b.get("/signin", nil)
	b.post("/signin", url.Values{"email": {"kim@example.com"}, "password": {"wrong password"}}, true)
	b.mustPage("signin")
	if got := b.text("form-error"); got != op.ui.locales["en"].T("err.signin") {
		t.Errorf("wrong password: %q", got)
	}
	b.post("/signin", url.Values{"email": {"nobody@example.com"}, "password": {"12345678"}}, true)
	b.mustPage("signin")
	b.post("/signin", url.Values{"email": {" KIM@example.com "}, "password": {"12345678"}}, true)
	b.mustPage("plans")
	b.buy("travel-1gb", nil)
	b.mustPage("confirmation")
	if got := b.attr("handback", "data-user-account"); got != "existing" {
		t.Errorf("signed-in customer reported as %q", got)
	}
	if got := b.attr("handback", "data-purchase-instrument"); got != "existing" {
		t.Errorf("second purchase instrument %q", got)
	}
	if strings.Contains(op.logs.String(), "12345678") {
		t.Error("a password reached the log")
	}
}

func TestPortalOrderFailures(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"no profile", &ES2Error{Function: "downloadOrder", HTTPStatus: 200, Status: "Failed", SubjectCode: "8.2.5",
			ReasonCode: "4.3"}, "err.no_profile"},
		{"other", errFake, "err.order"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op, srv := newPortal(t, nil)
			op.orders.err = tc.err
			b := newBrowser(t, srv, "")
			b.get(launchQuery("eid", testEID), nil)
			b.signUp("f@example.com")
			b.buy("prepaid-5gb", nil)
			b.mustPage("review")
			if got := b.text("form-error"); got != op.ui.locales["en"].T(tc.want) {
				t.Errorf("error %q, want %s", got, tc.want)
			}
			if !regexp.MustCompile(`id="accept-terms"[^>]* checked`).MatchString(b.body) {
				t.Error("the acceptance was lost")
			}
		})
	}
	t.Run("terms not accepted", func(t *testing.T) {
		op, srv := newPortal(t, nil)
		b := newBrowser(t, srv, "")
		b.get(launchQuery("eid", testEID), nil)
		b.signUp("g@example.com")
		b.post("/plans", url.Values{"plan": {"unlimited"}}, true)
		b.post("/review", url.Values{}, true)
		b.mustPage("review")
		if got := b.text("form-error"); got != op.ui.locales["en"].T("err.accept") {
			t.Errorf("error %q", got)
		}
		if _, n := op.orders.last(); n != 0 {
			t.Error("ordered without accepted terms")
		}
	})
	t.Run("no plan chosen", func(t *testing.T) {
		op, srv := newPortal(t, nil)
		b := newBrowser(t, srv, "")
		b.get(launchQuery("eid", testEID), nil)
		b.signUp("h@example.com")
		b.post("/plans", url.Values{"plan": {"gold-plated"}}, true)
		b.mustPage("plans")
		if got := b.text("form-error"); got != op.ui.locales["en"].T("err.choose_plan") {
			t.Errorf("error %q", got)
		}
	})
}

func TestPortalScheduledDownloadCancel(t *testing.T) {
	op, srv := newPortal(t, nil)
	b := newBrowser(t, srv, "")
	b.get(launchQuery("eid", testEID, "transactionId", "d1"), nil)
	b.signUp("d@example.com")
	b.buy("travel-1gb", url.Values{"delivery": {"later"}})
	b.mustPage("confirmation")
	iccid := b.attr("handback", "data-iccid")
	b.post("/order/cancel", url.Values{"context": {"mp-0123456789abcdef0123456789abcdef"}}, true)
	b.mustPage("confirmation")
	if got := b.attr("confirmation-text", "data-kind"); got != "cancelled-op" {
		t.Errorf("kind %q", got)
	}
	for attr, want := range map[string]string{"data-action": "cancel-op", "data-context": "mp-0123456789abcdef0123456789abcdef"} {
		if got := b.attr("handback", attr); got != want {
			t.Errorf("%s %q, want %q", attr, got, want)
		}
	}
	if got := op.orders.cancels(); !slices.Equal(got, []string{iccid}) {
		t.Errorf("ES2+ cancels %v, want [%s]", got, iccid)
	}
	bals, err := op.db.lineBalances(context.Background(), iccid)
	if err != nil || len(bals) != 0 {
		t.Errorf("balances after cancel: %v, %v", bals, err)
	}
	// The confirmation of a cancelled order shows no hand-back.
	b.get("/confirmation", nil)
	if b.has("handback") {
		t.Error("hand-back for a cancelled order")
	}

	t.Run("after download", func(t *testing.T) {
		b := newBrowser(t, srv, "")
		b.get(launchQuery("eid", testEID, "transactionId", "d2"), nil)
		b.signUp("d2@example.com")
		b.buy("travel-1gb", url.Values{"delivery": {"later"}})
		iccid := b.attr("handback", "data-iccid")
		if err := op.MarkDownloaded(context.Background(), iccid); err != nil {
			t.Fatal(err)
		}
		before := len(op.orders.cancels())
		b.post("/order/cancel", url.Values{"context": {"mp-1"}}, true)
		b.mustPage("confirmation")
		if got := b.text("form-error"); got != op.ui.locales["en"].T("err.sched") {
			t.Errorf("error %q", got)
		}
		if len(op.orders.cancels()) != before {
			t.Error("ES2+ cancel for a downloaded profile")
		}
	})
	t.Run("SM-DP+ refuses", func(t *testing.T) {
		b := newBrowser(t, srv, "")
		b.get(launchQuery("eid", testEID, "transactionId", "d3"), nil)
		b.signUp("d3@example.com")
		b.buy("travel-1gb", url.Values{"delivery": {"later"}})
		op.orders.mu.Lock()
		op.orders.cancelErr = errFake
		op.orders.mu.Unlock()
		b.post("/order/cancel", nil, true)
		if got := b.text("form-error"); got != op.ui.locales["en"].T("err.sched") {
			t.Errorf("error %q", got)
		}
		if b.attr("handback", "data-action") != "deferred" {
			t.Error("the order should still be deferred")
		}
	})
}

func TestPortalTopUp(t *testing.T) {
	const esimLine, psimLine, postpaidLine = "8900101000000000018", "8988247000100003319", "8900101000000000026"
	tests := []struct {
		name     string
		launch   string
		iccid    string
		wantICC  string
		wantData float64
		topup    string
	}{
		{"eSIM profile switches", launchQuery("eid", testEID, "iccids", esimLine+","+postpaidLine), esimLine, esimLine,
			5120 - 30 + 1024, "add-1gb"},
		{"physical SIM", launchQuery("iccid", psimLine), psimLine, "", 5120 - 30 + 5120, "add-5gb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op, srv := newPortal(t, func(c *Config) {
				c.SeedLines = []SeedLine{{ICCID: esimLine, PlanID: "prepaid-5gb"}, {ICCID: psimLine, PlanID: "prepaid-5gb"},
					{ICCID: postpaidLine, PlanID: "unlimited"}}
			})
			op.clock.Advance(30 * time.Minute)
			b := newBrowser(t, srv, "")
			b.get(tc.launch, nil)
			b.signUp("top@example.com")
			if !b.has("my-lines") || !b.has("topup-"+tc.iccid) {
				t.Fatalf("no top-up offered for %s:\n%s", tc.iccid, b.body)
			}
			if got := b.text("balance-" + tc.iccid); got != "5 GB left, 29 d 23 h" {
				t.Errorf("line balance %q", got)
			}
			if strings.Contains(tc.launch, postpaidLine) && b.has("topup-"+postpaidLine) {
				t.Error("top-up offered for a postpaid line")
			}
			b.get("/topup?iccid="+tc.iccid, nil)
			b.mustPage("topup")
			b.post("/topup", url.Values{"iccid": {tc.iccid}}, true)
			b.mustPage("topup")
			if got := b.text("form-error"); got != op.ui.locales["en"].T("err.choose_topup") {
				t.Errorf("no choice: %q", got)
			}
			b.post("/topup", url.Values{"iccid": {tc.iccid}, "topup": {tc.topup}}, true)
			b.mustPage("confirmation")
			for attr, want := range map[string]string{"data-action": "balance", "data-iccid": tc.wantICC,
				"data-line": "existing", "data-ac": ""} {
				if got := b.attr("handback", attr); got != want {
					t.Errorf("%s %q, want %q", attr, got, want)
				}
			}
			bals, err := op.db.lineBalances(context.Background(), tc.iccid)
			if err != nil {
				t.Fatal(err)
			}
			if data, _ := sumPrepaid(bals, op.clock.Now()); data != tc.wantData {
				t.Errorf("balance %v MB after top-up, want %v", data, tc.wantData)
			}
		})
	}
	t.Run("not a launch SIM", func(t *testing.T) {
		_, srv := newPortal(t, func(c *Config) { c.SeedLines = []SeedLine{{ICCID: esimLine, PlanID: "prepaid-5gb"}} })
		b := newBrowser(t, srv, "")
		b.get(launchQuery("eid", testEID), nil)
		b.signUp("nosim@example.com")
		b.get("/topup?iccid="+esimLine, nil)
		if b.status != http.StatusNotFound {
			t.Errorf("top-up of a SIM the app did not name: HTTP %d", b.status)
		}
	})
}

// missingKeyRE finds "[key]" placeholders of missing messages.
var missingKeyRE = regexp.MustCompile(`\[[a-z][a-z0-9_.-]*\]`)

func TestPortalLocales(t *testing.T) {
	tests := []struct {
		accept, lang, signin, buy string
	}{
		{"de-DE,de;q=0.9,en;q=0.8", "de", "Anmelden", "Jetzt kaufen"},
		{"fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr", "Connexion", "Acheter"},
		{"it, fr;q=0.5, de;q=0.4", "fr", "Connexion", "Acheter"},
		{"en-GB", "en", "Sign in", "Buy now"},
		{"", "en", "Sign in", "Buy now"},
		{"ja", "en", "Sign in", "Buy now"},
	}
	for _, tc := range tests {
		t.Run(tc.accept, func(t *testing.T) {
			_, srv := newPortal(t, func(c *Config) {
				c.SeedLines = []SeedLine{{ICCID: "8900101000000000018", PlanID: "prepaid-5gb"}}
			})
			b := newBrowser(t, srv, "")
			b.lang = tc.accept
			check := func() {
				t.Helper()
				if m := missingKeyRE.FindString(b.body); m != "" {
					t.Errorf("page %s has the missing message %s", b.page(), m)
				}
				if !strings.Contains(b.body, `<html lang="`+tc.lang+`">`) {
					t.Errorf("page %s is not in %s", b.page(), tc.lang)
				}
			}
			b.get(launchQuery("eid", testEID, "iccids", "8900101000000000018", "transactionId", "l1"), nil)
			check()
			if got := b.text("signin-title"); got != tc.signin {
				t.Errorf("sign-in title %q, want %q", got, tc.signin)
			}
			b.get("/signup", nil)
			check()
			b.post("/signup", url.Values{"name": {"Zoë"}, "email": {"z@example.com"}, "password": {"12345678"}}, true)
			check()
			b.get("/topup?iccid=8900101000000000018", nil)
			check()
			b.get("/terms?from=plans", nil)
			check()
			b.get("/plans", nil)
			b.post("/plans", url.Values{"plan": {"prepaid-5gb"}}, true)
			check()
			if got := b.text("buy"); got != tc.buy {
				t.Errorf("buy button %q, want %q", got, tc.buy)
			}
			b.post("/review", url.Values{"accept": {"1"}, "delivery": {"later"}}, true)
			b.mustPage("confirmation")
			check()
			strs := b.body[strings.Index(b.body, `id="mp-strings">`):]
			if !strings.Contains(strs, `"reg.home"`) || !strings.Contains(strs, `"bridge.missing"`) {
				t.Errorf("portal.js strings missing: %.200s", strs)
			}
			b.post("/order/cancel", url.Values{"context": {"mp-1"}}, true)
			check()
			b.get("/nope", nil)
			check()
			b.post("/cancel", nil, true)
			check()
			b.post("/done", nil, false)
			check()
		})
	}
}

func TestCatalogsComplete(t *testing.T) {
	cats := catalogs()
	for _, lang := range languages() {
		if _, ok := cats[lang]; !ok {
			t.Fatalf("no catalogue for %s", lang)
		}
	}
	for key := range cats["en"] {
		for lang, msgs := range cats {
			if _, ok := msgs[key]; !ok {
				t.Errorf("%s lacks %q", lang, key)
			}
		}
	}
	for lang, msgs := range cats {
		for key := range msgs {
			if _, ok := cats["en"][key]; !ok {
				t.Errorf("%s has %q, which English lacks", lang, key)
			}
		}
	}
	for _, p := range Plans() {
		for _, k := range []string{"plan." + p.ID, "plan." + p.ID + ".d"} {
			if _, ok := cats["en"][k]; !ok {
				t.Errorf("no message %s", k)
			}
		}
	}
	for _, tu := range TopUps() {
		if _, ok := cats["en"]["topup."+tu.ID]; !ok {
			t.Errorf("no message topup.%s", tu.ID)
		}
	}
}

func TestPortalStaticAndHeaders(t *testing.T) {
	_, srv := newPortal(t, nil)
	for _, tc := range []struct{ path, ctype string }{
		{"/static/style.css", "text/css"},
		{"/static/logo.svg", "image/svg+xml"},
		{"/static/portal.js", "javascript"},
	} {
		resp, err := srv.Client().Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), tc.ctype) {
			t.Errorf("%s: HTTP %d, %s", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	b := newBrowser(t, srv, "")
	b.get(launchQuery("eid", testEID), nil)
	resp, err := srv.Client().Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Content-Language") != "en" {
		t.Errorf("headers %v", resp.Header)
	}
	// No resource from elsewhere.
	if m := regexp.MustCompile(`(?:src|href)="(?:https?:)?//`).FindString(b.body); m != "" {
		t.Errorf("external resource %q", m)
	}
}

func TestPortalPrefixAndBackNavigation(t *testing.T) {
	op := newTestOperator(t, func(c *Config) { c.PortalBaseURL = "https://portal.contoso.test/mobileplans" })
	srv := httptest.NewTLSServer(op.PortalHandler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/mobileplans?eid=" + testEID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ck := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != http.StatusOK || !strings.Contains(ck, "Path=/mobileplans/") || !strings.Contains(ck, "Secure") ||
		!strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Lax") {
		t.Errorf("HTTP %d, cookie %q", resp.StatusCode, ck)
	}
	b := newBrowser(t, srv, "/mobileplans")
	b.get("/?eid="+testEID+"&transactionId=back-2", nil)
	b.mustPage("signin")
	if !strings.Contains(b.body, `action="/mobileplans/signin"`) || !strings.Contains(b.body, `src="/mobileplans/static/logo.svg"`) {
		t.Errorf("links do not carry the prefix:\n%s", b.body)
	}
	b.signUp("p@example.com")
	// Back to the launch URL with the same transactionId keeps the visit.
	b.get("/?eid="+testEID+"&transactionId=back-2", nil)
	b.mustPage("plans")
	// A new launch signs out.
	b.get("/?eid="+testEID+"&transactionId=back-3", nil)
	b.mustPage("signin")
	b.get("/plans", nil)
	b.mustPage("signin")
	resp, err = srv.Client().Get(srv.URL + "/elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("outside the prefix: HTTP %d", resp.StatusCode)
	}
}

func TestPortalSessionExpiry(t *testing.T) {
	op, srv := newPortal(t, func(c *Config) { c.SessionTTL = 10 * time.Minute })
	b := newBrowser(t, srv, "")
	b.get(launchQuery("eid", testEID), nil)
	b.signUp("e@example.com")
	op.clock.Advance(9 * time.Minute)
	b.get("/plans", nil)
	b.mustPage("plans")
	op.clock.Advance(11 * time.Minute)
	b.get("/plans", nil)
	if b.status != http.StatusForbidden || b.attr("error-message", "data-message") != "err.session" {
		t.Errorf("after expiry: HTTP %d %s", b.status, b.page())
	}
	if !b.has("cancel") {
		t.Error("the session-expired page has no Cancel")
	}
}
