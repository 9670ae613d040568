package discovery

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/service/webca"
)

var txidPattern = regexp.MustCompile(`^MSFT-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestBalanceProxy(t *testing.T) {
	p := newTestPKI(t)
	mo := startMockMO(t, p.ca, nil)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	s := newTestService(t, Config{Seed: true, MOClientTLS: p.clientTLS(), Now: func() time.Time { return now }, Overrides: contosoAt(mo)})
	// The timeout case uses its own service with a short MO timeout, so a
	// slow machine cannot turn the other cases into timeouts.
	short := newTestService(t, Config{Seed: true, MOClientTLS: p.clientTLS(), MOTimeout: 100 * time.Millisecond, Overrides: contosoAt(mo)})
	f := func(v float64) *float64 { return &v }
	i := func(v int64) *int64 { return &v }
	tests := []struct {
		name     string
		mo       http.HandlerFunc
		query    string
		status   int
		want     Balance // when status is 200 (ICCID, operator and transaction id are checked separately)
		code     string  // when status is not 200
		retry    string  // expected Retry-After header
		moQuery  string
		moCalled bool
	}{
		{name: "PAYG", mo: jsonAnswer(200, `{"balances":[{"id":"23445","type":"MODIRECTPAYG","dataRemaininginMB":123.0,"timeRemaining":"P23DT23H"}]}`),
			query: "iccid=" + contosoICCID + "&location=us", status: 200,
			want:    Balance{Type: BalanceMODirectPAYG, DataRemainingInMB: f(123), TimeRemaining: "P23DT23H", TimeRemainingSeconds: i(23*86400 + 23*3600)},
			moQuery: "fieldsTemplate=basic&limit=1&location=US", moCalled: true},
		{name: "zero balance", mo: jsonAnswer(200, `{"balances":[{"type":"MODIRECTPAYG","dataRemainingInMB":0,"timeRemaining":"PT0S"}]}`),
			query: "iccid=" + contosoICCID, status: 200,
			want:    Balance{Type: BalanceMODirectPAYG, DataRemainingInMB: f(0), TimeRemaining: "PT0S", TimeRemainingSeconds: i(0)},
			moQuery: "fieldsTemplate=basic&limit=1", moCalled: true},
		{name: "months count from the clock", mo: jsonAnswer(200, `{"balances":[{"type":"MODIRECTPAYG","dataRemainingInMB":5,"timeRemaining":"P1M"}]}`),
			query: "iccid=" + contosoICCID, status: 200,
			want:     Balance{Type: BalanceMODirectPAYG, DataRemainingInMB: f(5), TimeRemaining: "P1M", TimeRemainingSeconds: i(31 * 86400)},
			moCalled: true},
		{name: "NONE", mo: jsonAnswer(200, `{"balances":[{"type":"NONE"}]}`), query: "iccid=" + smdpICCID, status: 200,
			want: Balance{Type: BalanceNone}, moCalled: true},
		{name: "no balances is NONE", mo: jsonAnswer(200, `{"balances":[]}`), query: "iccid=" + contosoICCID, status: 200,
			want: Balance{Type: BalanceNone}, moCalled: true},
		{name: "NOTSUPPORTED", mo: jsonAnswer(200, `{"balances":[{"type":"NOTSUPPORTED"}]}`), query: "iccid=" + contosoICCID, status: 200,
			want: Balance{Type: BalanceNotSupported}, moCalled: true},
		{name: "MODIRECT", mo: jsonAnswer(200, `{"balances":[{"type":"MODIRECT"}]}`), query: "iccid=" + contosoICCID, status: 200,
			want: Balance{Type: BalanceMODirect}, moCalled: true},
		{name: "400", mo: jsonAnswer(400, `{"message":"location: XX is not supported"}`), query: "iccid=" + contosoICCID + "&location=XX",
			status: 400, code: CodeMOBadRequest, moCalled: true},
		{name: "401", mo: jsonAnswer(401, `{}`), query: "iccid=" + contosoICCID, status: 502, code: CodeMOUnauthorized, moCalled: true},
		{name: "403", mo: jsonAnswer(403, `{}`), query: "iccid=" + contosoICCID, status: 502, code: CodeMOForbidden, moCalled: true},
		{name: "404", mo: jsonAnswer(404, `{}`), query: "iccid=" + contosoICCID, status: 404, code: CodeSIMNotFound, moCalled: true},
		{name: "409", mo: jsonAnswer(409, `{}`), query: "iccid=" + contosoICCID, status: 409, code: CodeMOConflict, moCalled: true},
		{name: "429 seconds", mo: jsonAnswer(429, ``, "Retry-After", "30"), query: "iccid=" + contosoICCID, status: 429,
			code: CodeMOThrottled, retry: "30", moCalled: true},
		{name: "429 date", mo: jsonAnswer(429, ``, "Retry-After", now.Add(90*time.Second).Format(http.TimeFormat)),
			query: "iccid=" + contosoICCID, status: 429, code: CodeMOThrottled, retry: "90", moCalled: true},
		{name: "429 without Retry-After", mo: jsonAnswer(429, ``), query: "iccid=" + contosoICCID, status: 429,
			code: CodeMOThrottled, moCalled: true},
		{name: "500", mo: jsonAnswer(500, `{"message":"db down"}`), query: "iccid=" + contosoICCID, status: 502, code: CodeMOError, moCalled: true},
		{name: "503", mo: jsonAnswer(503, ``), query: "iccid=" + contosoICCID, status: 502, code: CodeMOError, moCalled: true},
		{name: "redirect is not followed", mo: jsonAnswer(302, ``, "Location", "https://elsewhere.example/"),
			query: "iccid=" + contosoICCID, status: 502, code: CodeMOBadResponse, moCalled: true},
		{name: "not JSON", mo: jsonAnswer(200, `<html>`), query: "iccid=" + contosoICCID, status: 502, code: CodeMOBadResponse, moCalled: true},
		{name: "unknown type", mo: jsonAnswer(200, `{"balances":[{"type":"PAYG"}]}`), query: "iccid=" + contosoICCID,
			status: 502, code: CodeMOBadResponse, moCalled: true},
		{name: "bad duration", mo: jsonAnswer(200, `{"balances":[{"type":"MODIRECTPAYG","timeRemaining":"1 day"}]}`),
			query: "iccid=" + contosoICCID, status: 502, code: CodeMOBadResponse, moCalled: true},
		{name: "timeout", mo: mo.hang, query: "iccid=" + contosoICCID, status: 504, code: CodeMOTimeout, moCalled: true},
		{name: "ICCID of no operator", mo: jsonAnswer(200, `{"balances":[]}`), query: "iccid=" + unknownICCID,
			status: 404, code: CodeICCIDNotRecognized},
		{name: "missing iccid", mo: jsonAnswer(200, `{}`), query: "location=US", status: 400, code: CodeBadParameter},
		{name: "bad iccid", mo: jsonAnswer(200, `{}`), query: "iccid=12345", status: 400, code: CodeBadParameter},
		{name: "bad location", mo: jsonAnswer(200, `{}`), query: "iccid=" + contosoICCID + "&location=USA", status: 400, code: CodeBadParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mo.set(tt.mo)
			svc := s
			if tt.code == CodeMOTimeout {
				svc = short
			}
			rec := serve(svc.Handler(), "/v1/balance?"+tt.query, "127.0.0.1:1")
			reqs := mo.requests()
			if tt.moCalled != (len(reqs) == 1) {
				t.Fatalf("MO saw %d requests", len(reqs))
			}
			if tt.moCalled {
				r := reqs[0]
				iccid := strings.Split(strings.TrimPrefix(tt.query, "iccid="), "&")[0]
				if r.Path != "/v1/sims/iccid:"+iccid+"/balances" {
					t.Errorf("MO path %q", r.Path)
				}
				if tt.moQuery != "" && r.Query != tt.moQuery {
					t.Errorf("MO query %q, want %q", r.Query, tt.moQuery)
				}
				if r.ClientCN != mpsSubject.CommonName {
					t.Errorf("MO saw client certificate %q", r.ClientCN)
				}
				if !txidPattern.MatchString(r.TransactionID) {
					t.Errorf("transaction id %q", r.TransactionID)
				}
			}
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status != 200 {
				b := wantError(t, rec, tt.status, tt.code, "")
				if got := rec.Header().Get("Retry-After"); got != tt.retry {
					t.Errorf("Retry-After %q, want %q", got, tt.retry)
				}
				if tt.code == CodeMOBadRequest && !strings.Contains(b.Error.Message, "XX is not supported") {
					t.Errorf("MO message not passed on: %q", b.Error.Message)
				}
				if tt.code == CodeMOError && strings.Contains(b.Error.Message, "db down") {
					t.Errorf("MO internals passed on: %q", b.Error.Message)
				}
				return
			}
			got := decodeBody[Balance](t, rec)
			if got.OperatorID != ContosoID || got.TransactionID != reqs[0].TransactionID || got.ICCID == "" {
				t.Errorf("operator %q transaction %q (MO saw %q) iccid %q", got.OperatorID, got.TransactionID, reqs[0].TransactionID, got.ICCID)
			}
			got.OperatorID, got.TransactionID, got.ICCID = "", "", ""
			if !balanceEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", fmtBalance(got), fmtBalance(tt.want))
			}
		})
	}

	t.Run("transaction ids are unique", func(t *testing.T) {
		mo.set(jsonAnswer(200, `{"balances":[]}`))
		seen := map[string]bool{}
		for range 20 {
			serve(s.Handler(), "/v1/balance?iccid="+contosoICCID, "127.0.0.1:1")
		}
		for _, r := range mo.requests() {
			if seen[r.TransactionID] {
				t.Fatalf("transaction id %s reused", r.TransactionID)
			}
			seen[r.TransactionID] = true
		}
		if len(seen) != 20 {
			t.Errorf("%d ids", len(seen))
		}
	})
}

func balanceEqual(a, b Balance) bool {
	eqF := a.DataRemainingInMB == nil && b.DataRemainingInMB == nil ||
		a.DataRemainingInMB != nil && b.DataRemainingInMB != nil && *a.DataRemainingInMB == *b.DataRemainingInMB
	eqI := a.TimeRemainingSeconds == nil && b.TimeRemainingSeconds == nil ||
		a.TimeRemainingSeconds != nil && b.TimeRemainingSeconds != nil && *a.TimeRemainingSeconds == *b.TimeRemainingSeconds
	return eqF && eqI && a.Type == b.Type && a.TimeRemaining == b.TimeRemaining && a.ICCID == b.ICCID &&
		a.OperatorID == b.OperatorID && a.TransactionID == b.TransactionID
}

func fmtBalance(b Balance) string {
	s := string(b.Type) + " " + b.TimeRemaining
	if b.DataRemainingInMB != nil {
		s += fmt.Sprintf(" data=%v", *b.DataRemainingInMB)
	}
	if b.TimeRemainingSeconds != nil {
		s += fmt.Sprintf(" secs=%d", *b.TimeRemainingSeconds)
	}
	return s
}

func TestBalanceTLSFailures(t *testing.T) {
	p := newTestPKI(t)
	other, err := webca.New("other CA", nil)
	if err != nil {
		t.Fatal(err)
	}
	foreignClient, err := other.ClientCert(mpsSubject, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	expiredClient, err := p.ca.ClientCert(mpsSubject, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		serverCA *webca.CA       // issuer of the MO's server certificate
		client   tls.Certificate // the service's client certificate
		code     string
	}{
		{"MO server certificate from an untrusted CA", other, p.client, CodeMOTLS},
		{"client certificate the MO does not trust", p.ca, foreignClient, CodeMOTLS},
		{"expired client certificate", p.ca, expiredClient, CodeMOTLS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mo := startMockMO(t, p.ca, tt.serverCA)
			mo.set(jsonAnswer(200, `{"balances":[{"type":"NONE"}]}`))
			s := newTestService(t, Config{
				Seed: true, Overrides: contosoAt(mo),
				MOClientTLS: &tls.Config{Certificates: []tls.Certificate{tt.client}, RootCAs: p.ca.Pool()},
			})
			wantError(t, serve(s.Handler(), "/v1/balance?iccid="+contosoICCID, "127.0.0.1:1"), http.StatusBadGateway, tt.code, "")
			if n := len(mo.requests()); n != 0 {
				t.Errorf("MO handler ran %d times", n)
			}
		})
	}
}

func TestBalanceNotConfigured(t *testing.T) {
	s := newTestService(t, Config{Seed: true})
	wantError(t, serve(s.Handler(), "/v1/balance?iccid="+contosoICCID, "127.0.0.1:1"), http.StatusServiceUnavailable, CodeMONotConfigured, "")
	op := filterOperator("no-mo", "No MO")
	op.ICCIDRanges = []ICCIDRange{{Prefix: "8933"}}
	if err := s.UpsertOperator(context.Background(), op); err != nil {
		t.Fatal(err)
	}
	wantError(t, serve(s.Handler(), "/v1/balance?iccid="+unknownICCID, "127.0.0.1:1"), http.StatusNotImplemented, CodeBalanceNotSupported, "")
}

func TestMOClientConfigRefused(t *testing.T) {
	p := newTestPKI(t)
	tests := []struct {
		name string
		tc   *tls.Config
	}{
		{"InsecureSkipVerify", func() *tls.Config { c := p.clientTLS(); c.InsecureSkipVerify = true; return c }()},
		{"no client certificate", &tls.Config{RootCAs: p.ca.Pool()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(context.Background(), Config{MOClientTLS: tt.tc})
			if err == nil {
				s.Close()
				t.Fatal("accepted")
			}
		})
	}
}

func TestGatewaySelection(t *testing.T) {
	p := newTestPKI(t)
	mo := startMockMO(t, p.ca, nil)
	s := newTestService(t, Config{Seed: true, MOClientTLS: p.clientTLS(), Overrides: contosoAt(mo)})
	short := newTestService(t, Config{Seed: true, MOClientTLS: p.clientTLS(), MOTimeout: 100 * time.Millisecond, Overrides: contosoAt(mo)})
	tests := []struct {
		name       string
		id, query  string
		mo         http.HandlerFunc
		wantID     string
		wantSource string
		wantReason string
		moQuery    string // non-empty: the MO must have been called with this query
	}{
		{"offer picks template 1", ContosoID, "iccid=" + contosoICCID + "&imei=001102000315468", jsonAnswer(200, `{"offers":[{"gatewayId":"1"}]}`),
			"1", TemplateFromOffers, "", "imei=001102000315468&limit=1"},
		{"numeric gateway id", ContosoID, "iccid=" + smdpICCID, jsonAnswer(200, `{"offers":[{"gatewayId":1}]}`),
			"1", TemplateFromOffers, "", "limit=1"},
		{"offer of template 0", ContosoID, "iccid=" + contosoICCID, jsonAnswer(200, `{"offers":[{"gatewayId":"0"}]}`),
			"0", TemplateFromOffers, "", "limit=1"},
		{"unknown template", ContosoID, "iccid=" + contosoICCID, jsonAnswer(200, `{"offers":[{"gatewayId":"7"}]}`),
			"0", TemplateFromDefault, "unknown_gateway_id", "limit=1"},
		{"no offer", ContosoID, "iccid=" + contosoICCID, jsonAnswer(200, `{"offers":[]}`),
			"0", TemplateFromDefault, "no_offer", "limit=1"},
		{"MO error", ContosoID, "iccid=" + contosoICCID, jsonAnswer(500, ``), "0", TemplateFromDefault, CodeMOError, "limit=1"},
		{"MO timeout", ContosoID, "iccid=" + contosoICCID, mo.hang, "0", TemplateFromDefault, CodeMOTimeout, "limit=1"},
		{"MO garbage", ContosoID, "iccid=" + contosoICCID, jsonAnswer(200, `{"offers":"x"}`), "0", TemplateFromDefault, CodeMOBadResponse, "limit=1"},
		{"no ICCID", ContosoID, "", jsonAnswer(200, `{"offers":[{"gatewayId":"1"}]}`), "0", TemplateFromDefault, "no_active_profile", ""},
		{"ICCID of another operator", ContosoID, "iccid=" + northwindICCID, jsonAnswer(200, `{"offers":[{"gatewayId":"1"}]}`),
			"0", TemplateFromDefault, "no_active_profile", ""},
		{"operator without GetOffers", FabrikamID, "iccid=" + fabrikamICCID, jsonAnswer(200, `{"offers":[{"gatewayId":"1"}]}`),
			"0", TemplateFromDefault, "offers_not_supported", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mo.set(tt.mo)
			svc := s
			if tt.wantReason == CodeMOTimeout {
				svc = short
			}
			rec := serve(svc.Handler(), "/v1/operators/"+tt.id+"/gateway?"+tt.query, "127.0.0.1:1")
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			sel := decodeBody[GatewaySelection](t, rec)
			if sel.OperatorID != tt.id || !sel.Enhanced || sel.TemplateID != tt.wantID || sel.Source != tt.wantSource || sel.FallbackReason != tt.wantReason {
				t.Errorf("got %+v", sel)
			}
			if sel.Template == nil || sel.Template.ID != tt.wantID {
				t.Errorf("template %+v", sel.Template)
			}
			reqs := mo.requests()
			if tt.moQuery == "" {
				if len(reqs) != 0 {
					t.Errorf("MO called: %+v", reqs)
				}
				return
			}
			if len(reqs) != 1 {
				t.Fatalf("MO saw %d requests", len(reqs))
			}
			iccid := strings.Split(strings.TrimPrefix(tt.query, "iccid="), "&")[0]
			if r := reqs[0]; r.Path != "/v1/sims/iccid:"+iccid+"/offers" || r.Query != tt.moQuery ||
				r.ClientCN != mpsSubject.CommonName || !txidPattern.MatchString(r.TransactionID) {
				t.Errorf("MO request %+v", r)
			}
		})
	}

	t.Run("standard gateway", func(t *testing.T) {
		op := filterOperator("plain", "Plain")
		if err := s.UpsertOperator(context.Background(), op); err != nil {
			t.Fatal(err)
		}
		sel := decodeBody[GatewaySelection](t, serve(s.Handler(), "/v1/operators/plain/gateway", ""))
		if sel.Enhanced || sel.Template != nil || sel.TemplateID != "" {
			t.Errorf("got %+v", sel)
		}
	})
	t.Run("bad parameters", func(t *testing.T) {
		wantError(t, serve(s.Handler(), "/v1/operators/contoso/gateway?imei=12", ""), 400, CodeBadParameter, "imei")
		wantError(t, serve(s.Handler(), "/v1/operators/contoso/gateway?iccid=1", ""), 400, CodeBadParameter, "iccid")
		wantError(t, serve(s.Handler(), "/v1/operators/nobody/gateway", ""), 404, CodeOperatorNotFound, "")
	})
}
