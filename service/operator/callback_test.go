package operator

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

const (
	testToken    = "mobileplans/Zm9vYmFyYmF6cXV4LWEtdG9rZW4tb2YtNDMtY2hhcnM"
	testCallback = "http://127.0.0.1:41234/" + testToken
)

func TestParseLaunchCallback(t *testing.T) {
	long := "http://127.0.0.1:1/" + strings.Repeat("a", maxCallbackLen)
	tests := []struct {
		value string
		ok    bool
	}{
		{testCallback, true},
		{"http://[::1]:41234/" + testToken, true},
		{"http://127.0.0.1:1/", true},
		{"http://127.0.0.1:65535/a/b-c_d.e~f", true},

		{"", false}, // absent, not dropped
		{"https://127.0.0.1:41234/x", false},
		{"http://localhost:41234/x", false},
		{"http://127.0.0.2:41234/x", false},
		{"http://10.0.0.1:41234/x", false},
		{"http://evil.test:41234/x", false},
		{"http://127.0.0.1.evil.test:41234/x", false},
		{"http://[::2]:41234/x", false},
		{"http://[0:0:0:0:0:0:0:1]:41234/x", false},
		{"http://127.0.0.1/x", false},
		{"http://127.0.0.1:41234", false},
		{"http://127.0.0.1:0/x", false},
		{"http://127.0.0.1:065/x", false},
		{"http://127.0.0.1:65536/x", false},
		{"http://127.0.0.1:+80/x", false},
		{"http://user@127.0.0.1:41234/x", false},
		{"http://127.0.0.1:41234@evil.test/x", false},
		{"http://127.0.0.1:41234/x?y=1", false},
		{"http://127.0.0.1:41234/x#y", false},
		{"http://127.0.0.1:41234/%2e%2e", false},
		{"http://127.0.0.1:41234/x\"onload=", false},
		{"http://127.0.0.1:41234/x y", false},
		{"HTTP://127.0.0.1:41234/x", false},
		{"javascript:alert(1)//127.0.0.1:1/", false},
		{long, false},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			q := url.Values{"eid": {testEID}}
			if tc.value != "" {
				q.Set("MPCallback", tc.value) // names in any case
			}
			l := ParseLaunch(q.Encode(), nil)
			want := ""
			if tc.ok {
				want = tc.value
			}
			if l.Callback != want {
				t.Errorf("Callback %q, want %q", l.Callback, want)
			}
			if dropped := slices.Contains(l.Dropped, "mpcallback"); dropped != (!tc.ok && tc.value != "") {
				t.Errorf("Dropped %v", l.Dropped)
			}
			if l.EID != testEID {
				t.Errorf("the other parameters suffered: %+v", l)
			}
		})
	}
}

func TestConnectSource(t *testing.T) {
	for in, want := range map[string]string{
		testCallback:              "http://127.0.0.1:41234",
		"http://[::1]:8080/x":     "http://*:8080",
		"http://localhost:8080/x": "",
		"":                        "",
	} {
		if got := connectSource(in); got != want {
			t.Errorf("connectSource(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPortalCallbackHandback: a launch with mpcallback puts the callback on
// every hand-back page (data-callback) and lets only those pages connect to
// its origin (CSP connect-src); other pages and launches without it keep the
// policy without connect-src. The token is never logged.
func TestPortalCallbackHandback(t *testing.T) {
	const esimLine = "8900101000000000018"
	tests := []struct {
		name       string
		callback   string
		wantSrc    string
		walk       func(b *browser)
		wantAction string
	}{
		{name: "download", callback: testCallback, wantSrc: "http://127.0.0.1:41234", wantAction: "download",
			walk: func(b *browser) { b.buy("prepaid-5gb", url.Values{"delivery": {"now"}}) }},
		{name: "deferred", callback: testCallback, wantSrc: "http://127.0.0.1:41234", wantAction: "deferred",
			walk: func(b *browser) { b.buy("travel-1gb", url.Values{"delivery": {"later"}}) }},
		{name: "async", callback: testCallback, wantSrc: "http://127.0.0.1:41234", wantAction: "async",
			walk: func(b *browser) { b.buy("business-20gb", nil) }},
		{name: "top-up", callback: testCallback, wantSrc: "http://127.0.0.1:41234", wantAction: "balance",
			walk: func(b *browser) {
				b.get("/topup?iccid="+esimLine, nil)
				b.post("/topup", url.Values{"iccid": {esimLine}, "topup": {"add-1gb"}}, true)
			}},
		{name: "scheduled download cancelled", callback: testCallback, wantSrc: "http://127.0.0.1:41234",
			wantAction: "cancel-op", walk: func(b *browser) {
				b.buy("travel-1gb", url.Values{"delivery": {"later"}})
				b.mustPage("confirmation")
				b.post("/order/cancel", url.Values{"context": {"mp-0123456789abcdef0123456789abcdef"}}, true)
			}},
		{name: "IPv6 loopback", callback: "http://[::1]:41234/" + testToken, wantSrc: "http://*:41234",
			wantAction: "download", walk: func(b *browser) { b.buy("prepaid-5gb", nil) }},
		{name: "without callback", wantAction: "download",
			walk: func(b *browser) { b.buy("prepaid-5gb", nil) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op, srv := newPortal(t, func(c *Config) {
				c.SeedLines = []SeedLine{{ICCID: esimLine, PlanID: "prepaid-5gb"}}
			})
			b := newBrowser(t, srv, "")
			q := []string{"eid", testEID, "iccids", esimLine, "transactionId", "cb-1"}
			if tc.callback != "" {
				q = append(q, "mpcallback", tc.callback)
			}
			b.get(launchQuery(q...), nil)
			b.signUp("cb@example.com")
			if csp := b.header.Get("Content-Security-Policy"); strings.Contains(csp, "connect-src") {
				t.Errorf("the plans page may connect: %q", csp)
			}
			tc.walk(b)
			b.mustPage("confirmation")
			if got := b.attr("handback", "data-action"); got != tc.wantAction {
				t.Fatalf("data-action %q, want %q", got, tc.wantAction)
			}
			if got := b.attr("handback", "data-callback"); got != tc.callback {
				t.Errorf("data-callback %q, want %q", got, tc.callback)
			}
			csp := b.header.Get("Content-Security-Policy")
			if tc.wantSrc == "" {
				if strings.Contains(csp, "connect-src") {
					t.Errorf("CSP %q has a connect-src", csp)
				}
			} else if !strings.Contains(csp, "connect-src "+tc.wantSrc+";") || !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("CSP %q, want connect-src %s", csp, tc.wantSrc)
			}
			if strings.Contains(op.logs.String(), testToken) {
				t.Errorf("the callback token was logged:\n%s", op.logs.String())
			}
			if tc.callback != "" && !strings.Contains(op.logs.String(), "callback=true") {
				t.Errorf("the launch log does not say a callback came:\n%s", op.logs.String())
			}
		})
	}
}

// TestPortalCallbackCancel: the callback survives the end of the session on
// cancel (the cancelled page gets it from the redirect), for the current and
// the legacy hand-back.
func TestPortalCallbackCancel(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		t.Run(map[bool]string{false: "current", true: "legacy"}[legacy], func(t *testing.T) {
			op, srv := newPortal(t, nil)
			b := newBrowser(t, srv, "")
			q := []string{"eid", testEID, "transactionId", "cb-2", "mpcallback", testCallback}
			if legacy {
				q = append(q, "legacy", "1")
			}
			b.get(launchQuery(q...), nil)
			b.signUp("cancel@example.com")
			b.post("/cancel", nil, true)
			b.mustPage("cancelled")
			if got := b.attr("handback", "data-callback"); got != testCallback {
				t.Errorf("data-callback %q", got)
			}
			if got := b.attr("handback", "data-legacy"); got != map[bool]string{true: "1"}[legacy] {
				t.Errorf("data-legacy %q", got)
			}
			if csp := b.header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src http://127.0.0.1:41234;") {
				t.Errorf("CSP %q", csp)
			}
			if strings.Contains(op.logs.String(), testToken) {
				t.Errorf("the callback token was logged:\n%s", op.logs.String())
			}
			// A forged cancelled page cannot point the shim elsewhere.
			b.get("/cancelled?mpcallback="+url.QueryEscape("http://evil.test:80/x"), nil)
			b.mustPage("cancelled")
			if got := b.attr("handback", "data-callback"); got != "" {
				t.Errorf("data-callback %q from a bad value", got)
			}
			if csp := b.header.Get("Content-Security-Policy"); strings.Contains(csp, "connect-src") {
				t.Errorf("CSP %q", csp)
			}
		})
	}
}

// TestPortalCallbackRelaunch: back at the launch URL with the same
// transactionId, a new mpcallback (the app listens anew) replaces the old
// one; the visit is kept.
func TestPortalCallbackRelaunch(t *testing.T) {
	_, srv := newPortal(t, nil)
	b := newBrowser(t, srv, "")
	b.get(launchQuery("eid", testEID, "transactionId", "cb-3", "mpcallback", testCallback), nil)
	b.signUp("again@example.com")
	second := "http://127.0.0.1:50000/" + testToken
	b.get(launchQuery("eid", testEID, "transactionId", "cb-3", "mpcallback", second), nil)
	b.mustPage("plans")
	b.buy("prepaid-5gb", nil)
	b.mustPage("confirmation")
	if got := b.attr("handback", "data-callback"); got != second {
		t.Errorf("data-callback %q, want %q", got, second)
	}
}
