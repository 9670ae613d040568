package discovery

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"image/png"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// startAPI serves s over TLS with a webca certificate and returns a client
// that trusts only that CA.
func startAPI(t *testing.T, s *Service, p *testPKI) *Client {
	t.Helper()
	cert, err := p.ca.ServerCert("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(s.Handler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.ca.Pool()}}}
	t.Cleanup(hc.CloseIdleConnections)
	return NewClient(srv.URL+"/", hc)
}

func TestClientRoundTrips(t *testing.T) {
	ctx := context.Background()
	p := newTestPKI(t)
	mo := startMockMO(t, p.ca, nil)
	s := newTestService(t, Config{Seed: true, MOClientTLS: p.clientTLS(), Overrides: contosoAt(mo)})
	c := startAPI(t, s, p)

	list, err := c.Operators(ctx, Query{MCC: "001", ICCIDs: []string{contosoICCID, unknownICCID}})
	if err != nil {
		t.Fatal(err)
	}
	if list.Country != "US" || list.CountrySource != CountryFromMCC || len(list.Operators) != 1 {
		t.Fatalf("list %+v", list)
	}
	o := list.Operators[0]
	if o.ID != ContosoID || !o.Owned || !slices.Equal(o.OwnedICCIDs, []string{contosoICCID}) || o.PortalURL != "https://portal.contoso.test/mobileplans" {
		t.Errorf("summary %+v", o)
	}

	d, err := c.Operator(ctx, ContosoID)
	if err != nil {
		t.Fatal(err)
	}
	t1, ok := d.Gateway.Template("1")
	if !ok || t1.ButtonText != "Manage my plan" || t1.BackgroundColor == nil || *t1.BackgroundColor != (Color{0x00, 0x5A, 0x9E, 0xFF}) {
		t.Errorf("template 1 %+v", t1)
	}

	logo, err := c.Logo(ctx, ContosoID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(logo)); err != nil {
		t.Errorf("logo: %v", err)
	}

	mo.set(jsonAnswer(200, `{"offers":[{"gatewayId":"1"}]}`))
	g, err := c.Gateway(ctx, ContosoID, contosoICCID, "001102000315468")
	if err != nil {
		t.Fatal(err)
	}
	if g.TemplateID != "1" || g.Source != TemplateFromOffers || g.Template.ButtonText != "Manage my plan" {
		t.Errorf("gateway %+v", g)
	}

	a, err := c.APN(ctx, ContosoID, "00101", smdpICCID)
	if err != nil {
		t.Fatal(err)
	}
	if a.APN.Name != "prepaid.contoso" || a.APN.AuthType != AuthPAP || a.APN.Username != "contoso" || !slices.Equal(a.Matched, []string{"mccmnc", "iccid"}) {
		t.Errorf("APN %+v", a)
	}

	mo.set(jsonAnswer(200, `{"balances":[{"type":"MODIRECTPAYG","dataRemainingInMB":512.5,"timeRemaining":"P7D"}]}`))
	b, err := c.Balance(ctx, contosoICCID, "us")
	if err != nil {
		t.Fatal(err)
	}
	if b.Type != BalanceMODirectPAYG || b.DataRemainingInMB == nil || *b.DataRemainingInMB != 512.5 ||
		b.TimeRemainingSeconds == nil || *b.TimeRemainingSeconds != 7*86400 || b.ICCID != contosoICCID || b.OperatorID != ContosoID {
		t.Errorf("balance %+v", b)
	}
	if reqs := mo.requests(); len(reqs) != 1 || reqs[0].TransactionID != b.TransactionID || reqs[0].Query != "fieldsTemplate=basic&limit=1&location=US" {
		t.Errorf("MO saw %+v", reqs)
	}

	errTests := []struct {
		name   string
		mo     http.HandlerFunc
		call   func() error
		status int
		code   string
		param  string
		retry  time.Duration
	}{
		{"throttled", jsonAnswer(429, ``, "Retry-After", "30"), func() error { _, err := c.Balance(ctx, contosoICCID, ""); return err },
			429, CodeMOThrottled, "", 30 * time.Second},
		{"unknown SIM", jsonAnswer(404, ``), func() error { _, err := c.Balance(ctx, contosoICCID, ""); return err },
			404, CodeSIMNotFound, "", 0},
		{"bad parameter", nil, func() error { _, err := c.Balance(ctx, "123", ""); return err }, 400, CodeBadParameter, "iccid", 0},
		{"bad query", nil, func() error { _, err := c.Operators(ctx, Query{EID: "1"}); return err }, 400, CodeBadParameter, "eid", 0},
		{"unknown operator", nil, func() error { _, err := c.Operator(ctx, "nobody"); return err }, 404, CodeOperatorNotFound, "", 0},
		{"id with a slash stays one segment", nil, func() error { _, err := c.APN(ctx, "contoso/apn", "", ""); return err }, 400, CodeBadParameter, "id", 0},
		{"no APN", nil, func() error { _, err := c.APN(ctx, NorthwindID, "", ""); return err }, 404, CodeAPNNotFound, "", 0},
		{"no logo", nil, func() error { _, err := c.Logo(ctx, "nobody"); return err }, 404, CodeOperatorNotFound, "", 0},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.mo != nil {
				mo.set(tt.mo)
			}
			err := tt.call()
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is not an *APIError", err)
			}
			if ae.Status != tt.status || ae.Code != tt.code || ae.Param != tt.param || ae.RetryAfter != tt.retry || ae.Message == "" {
				t.Errorf("got %+v", ae)
			}
		})
	}
}

func TestClientNonJSONErrorsAndBadBase(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream broke", http.StatusBadGateway)
	}))
	defer srv.Close()
	_, err := NewClient(srv.URL, nil).Operators(context.Background(), Query{})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 502 || ae.Code != "http_502" {
		t.Errorf("got %v", err)
	}
	for _, base := range []string{"", "ftp://x.example", "http://", "http://x.example/?q=1", "://"} {
		if _, err := NewClient(base, nil).Operator(context.Background(), "x"); err == nil || errors.As(err, &ae) {
			t.Errorf("base %q: error %v", base, err)
		}
	}
}
