package operator

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/service/webca"
)

// Test SIMs seeded into the MO API tests.
const (
	simPrepaid  = "8900101000000000018"
	simPostpaid = "8900101000000000026"
	simTravel   = "8900101000000000034"
	simUnknown  = "8988247000100003319"
	moSubject   = "partners.mobileplans.test"
)

// moEnv is an operator serving the MO API over real mutual TLS.
type moEnv struct {
	*testOp
	ca     *webca.CA
	srv    *httptest.Server
	client *http.Client // trusted certificate with the expected subject
	txn    atomic.Int64
}

func newMOEnv(t testing.TB, mod func(*Config)) *moEnv {
	t.Helper()
	clk := newClock()
	ca, err := webca.New("MO test CA", clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	op := newTestOperator(t, func(c *Config) {
		c.Now = clk.Now
		c.MOClientCAs = ca.Pool()
		c.MOClientSubject = moSubject
		c.RateLimit = RateLimit{Rate: -1}
		c.SeedLines = []SeedLine{{ICCID: simPrepaid, PlanID: "prepaid-5gb"}, {ICCID: simPostpaid, PlanID: "unlimited"},
			{ICCID: simTravel, PlanID: "travel-1gb"}}
		if mod != nil {
			mod(c)
		}
	})
	op.clock = clk
	serverCert, err := ca.ServerCert("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(op.MOAPIHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes refused on purpose
	srv.TLS = MOServerTLSConfig(serverCert)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	e := &moEnv{testOp: op, ca: ca, srv: srv}
	e.client = e.clientWith(t, e.cert(t, pkix.Name{CommonName: moSubject}, time.Time{}, time.Time{}))
	return e
}

func (e *moEnv) cert(t testing.TB, subject pkix.Name, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	c, err := e.ca.ClientCert(subject, notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// clientWith returns a client presenting certs (none for no certificate).
func (e *moEnv) clientWith(t testing.TB, certs ...tls.Certificate) *http.Client {
	t.Helper()
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.ca.Pool(),
		Certificates: certs}, MaxIdleConnsPerHost: 64}}
}

type moResult struct {
	status int
	header http.Header
	body   []byte
}

// get calls path with a fresh transaction id (tx "" = fresh, "-" = none).
func (e *moEnv) get(t testing.TB, c *http.Client, path, tx string) moResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	switch tx {
	case "":
		tx = fmt.Sprintf("MSFT-%08d-1234-1234-1234-123456789abc", e.txn.Add(1))
		fallthrough
	default:
		req.Header.Set(TransactionHeader, tx)
	case "-":
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if tx != "-" && checkTransactionID(tx) == nil && resp.Header.Get(TransactionHeader) != tx {
		t.Errorf("%s: transaction id %q not echoed (got %q)", path, tx, resp.Header.Get(TransactionHeader))
	}
	return moResult{status: resp.StatusCode, header: resp.Header, body: body}
}

func (r moResult) balances(t testing.TB) []BalanceEntry {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.status, r.body)
	}
	var b BalanceResponse
	if err := json.Unmarshal(r.body, &b); err != nil || b.Balances == nil {
		t.Fatalf("balances %s: %v", r.body, err)
	}
	return b.Balances
}

func (r moResult) errorParam() string {
	var e moError
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Param
}

func balancesPath(iccid, query string) string {
	return "/v1/sims/iccid:" + iccid + "/balances" + query
}

func TestMOAPIStatusCodes(t *testing.T) {
	e := newMOEnv(t, nil)
	foreignCA, err := webca.New("foreign CA", nil)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := foreignCA.ClientCert(pkix.Name{CommonName: moSubject}, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	clients := map[string]*http.Client{
		"good":        e.client,
		"none":        e.clientWith(t),
		"expired":     e.clientWith(t, e.cert(t, pkix.Name{CommonName: moSubject}, now.Add(-48*time.Hour), now.Add(-time.Hour))),
		"not yet":     e.clientWith(t, e.cert(t, pkix.Name{CommonName: moSubject}, now.Add(time.Hour), now.Add(48*time.Hour))),
		"foreign":     e.clientWith(t, foreign),
		"wrong cn":    e.clientWith(t, e.cert(t, pkix.Name{CommonName: "someone.else.test"}, time.Time{}, time.Time{})),
		"server cert": e.clientWith(t, mustServerCert(t, e.ca)),
		"datamart dn": e.clientWith(t, e.cert(t, datamartName(), time.Time{}, time.Time{})),
	}
	tests := []struct {
		name   string
		client string
		path   string
		tx     string
		want   int
		param  string
	}{
		{"basic", "good", balancesPath(simPrepaid, "?fieldsTemplate=basic&limit=1&location=US"), "", 200, ""},
		{"lower-case location", "good", balancesPath(simPrepaid, "?fieldsTemplate=basic&limit=1&location=us"), "", 200, ""},
		{"no query", "good", balancesPath(simPrepaid, ""), "", 200, ""},
		{"empty values", "good", balancesPath(simPrepaid, "?fieldsTemplate=&limit=&location="), "", 200, ""},
		{"unknown param ignored", "good", balancesPath(simPrepaid, "?foo=bar&limit=2147483647"), "", 200, ""},
		{"full", "good", balancesPath(simPrepaid, "?fieldsTemplate=FULL"), "", 200, ""},
		{"stray space and F", "good", "/v1/sims/iccid:%20" + simPrepaid + "F/balances", "", 200, ""},
		{"offers", "good", "/v1/sims/iccid:" + simPrepaid + "/offers?limit=1&imei=001102000315468", "", 200, ""},
		{"notifications", "good", "/v1/sims/iccid:" + simPrepaid + "/notifications?notificationType=lowBalance&limit=1&imei=1234567890123456", "", 200, ""},
		{"no certificate", "none", balancesPath(simPrepaid, ""), "", 401, ""},
		{"expired certificate", "expired", balancesPath(simPrepaid, ""), "", 401, ""},
		{"certificate not yet valid", "not yet", balancesPath(simPrepaid, ""), "", 401, ""},
		{"foreign CA", "foreign", balancesPath(simPrepaid, ""), "", 403, ""},
		{"wrong subject", "wrong cn", balancesPath(simPrepaid, ""), "", 403, ""},
		{"server certificate as client", "server cert", balancesPath(simPrepaid, ""), "", 403, ""},
		{"DataMart subject, other CN expected", "datamart dn", balancesPath(simPrepaid, ""), "", 403, ""},
		{"unknown ICCID", "good", balancesPath(simUnknown, "?limit=1"), "", 404, ""},
		{"malformed sim id", "good", "/v1/sims/imsi:001010000000001/balances", "", 404, ""},
		{"short ICCID", "good", "/v1/sims/iccid:12345/balances", "", 404, ""},
		{"unknown resource", "good", "/v1/sims/iccid:" + simPrepaid + "/microbalance", "", 404, ""},
		{"unknown ICCID offers", "good", "/v1/sims/iccid:" + simUnknown + "/offers?limit=1", "", 404, ""},
		{"bad location", "good", balancesPath(simPrepaid, "?location=XX"), "", 400, "location"},
		{"three-letter location", "good", balancesPath(simPrepaid, "?location=USA"), "", 400, "location"},
		{"numeric location", "good", balancesPath(simPrepaid, "?location=12"), "", 400, "location"},
		{"negative limit", "good", balancesPath(simPrepaid, "?limit=-1"), "", 400, "limit"},
		{"zero limit", "good", balancesPath(simPrepaid, "?limit=0"), "", 400, "limit"},
		{"limit above INT", "good", balancesPath(simPrepaid, "?limit=2147483648"), "", 400, "limit"},
		{"limit not a number", "good", balancesPath(simPrepaid, "?limit=1.5"), "", 400, "limit"},
		{"limit twice", "good", balancesPath(simPrepaid, "?limit=1&limit=2"), "", 400, "limit"},
		{"bad fieldsTemplate", "good", balancesPath(simPrepaid, "?fieldsTemplate=all"), "", 400, "fieldsTemplate"},
		{"malformed query", "good", balancesPath(simPrepaid, "?limit=%zz"), "", 400, "query"},
		{"no transaction id", "good", balancesPath(simPrepaid, ""), "-", 400, TransactionHeader},
		{"transaction id with space", "good", balancesPath(simPrepaid, ""), "a b", 400, TransactionHeader},
		{"offers without limit", "good", "/v1/sims/iccid:" + simPrepaid + "/offers?imei=001102000315468", "", 400, "limit"},
		{"offers bad imei", "good", "/v1/sims/iccid:" + simPrepaid + "/offers?limit=1&imei=12ab", "", 400, "imei"},
		{"notifications without type", "good", "/v1/sims/iccid:" + simPrepaid + "/notifications?limit=1", "", 400, "notificationType"},
		{"notifications bad type", "good", "/v1/sims/iccid:" + simPrepaid + "/notifications?limit=1&notificationType=a%3Cb", "", 400, "notificationType"},
		{"notifications without limit", "good", "/v1/sims/iccid:" + simPrepaid + "/notifications?notificationType=lowBalance", "", 400, "limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(t, clients[tc.client], tc.path, tc.tx)
			if r.status != tc.want {
				t.Fatalf("HTTP %d, want %d: %s", r.status, tc.want, r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			if tc.param != "" && r.errorParam() != tc.param {
				t.Errorf("400 names %q, want %q: %s", r.errorParam(), tc.param, r.body)
			}
			if tc.want >= 400 && !strings.Contains(string(r.body), `"message":"`) {
				t.Errorf("error without message: %s", r.body)
			}
		})
	}
	t.Run("repeated transaction id", func(t *testing.T) {
		const tx = "MSFT-11111111-2222-3333-4444-555555555555"
		if r := e.get(t, e.client, balancesPath(simPrepaid, ""), tx); r.status != 200 {
			t.Fatalf("first: HTTP %d", r.status)
		}
		r := e.get(t, e.client, balancesPath(simPostpaid, ""), tx)
		if r.status != http.StatusConflict || r.errorParam() != TransactionHeader {
			t.Errorf("repeat: HTTP %d %s", r.status, r.body)
		}
	})
	t.Run("full subject DN", func(t *testing.T) {
		e2 := newMOEnv(t, func(c *Config) { c.MOClientSubject = datamartName().String() })
		e2.client = e2.clientWith(t, e2.cert(t, datamartName(), time.Time{}, time.Time{}))
		if r := e2.get(t, e2.client, balancesPath(simPrepaid, ""), ""); r.status != 200 {
			t.Errorf("matching DN: HTTP %d %s", r.status, r.body)
		}
		other := datamartName()
		other.Organization = []string{"Someone Else"}
		c := e2.clientWith(t, e2.cert(t, other, time.Time{}, time.Time{}))
		if r := e2.get(t, c, balancesPath(simPrepaid, ""), ""); r.status != 403 {
			t.Errorf("other DN: HTTP %d", r.status)
		}
		foreignDN := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e2.ca.Pool(),
			Certificates: []tls.Certificate{e.cert(t, datamartName(), time.Time{}, time.Time{})}}}}
		if got := e2.get(t, foreignDN, balancesPath(simPrepaid, ""), "").status; got != 403 {
			t.Errorf("certificate of another CA with the right DN: HTTP %d", got)
		}
	})
	t.Run("default subject", func(t *testing.T) {
		e3 := newMOEnv(t, func(c *Config) { c.MOClientSubject = "" })
		c := e3.clientWith(t, e3.cert(t, pkix.Name{CommonName: DefaultMOClientSubject}, time.Time{}, time.Time{}))
		if r := e3.get(t, c, balancesPath(simPrepaid, ""), ""); r.status != 200 {
			t.Errorf("HTTP %d %s", r.status, r.body)
		}
		if r := e3.get(t, e3.client, balancesPath(simPrepaid, ""), ""); r.status != 403 {
			t.Errorf("test subject against the default: HTTP %d", r.status)
		}
	})
	t.Run("method", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+balancesPath(simPrepaid, ""), nil)
		req.Header.Set(TransactionHeader, "post-1")
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST: HTTP %d", resp.StatusCode)
		}
	})
}

func datamartName() pkix.Name {
	return pkix.Name{Country: []string{"US"}, Province: []string{"WA"}, Locality: []string{"Redmond"},
		Organization: []string{"Microsoft Corporation"}, CommonName: "partners.datamart.windows.com"}
}

func mustServerCert(t testing.TB, ca *webca.CA) tls.Certificate {
	t.Helper()
	c, err := ca.ServerCert(moSubject)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMOAPIInternalError(t *testing.T) {
	e := newMOEnv(t, nil)
	if err := e.db.close(); err != nil {
		t.Fatal(err)
	}
	r := e.get(t, e.client, balancesPath(simPrepaid, ""), "")
	var body moError
	if r.status != http.StatusInternalServerError || json.Unmarshal(r.body, &body) != nil ||
		!strings.Contains(body.Error.Message, "database is closed") {
		t.Errorf("HTTP %d %s: want 500 with the cause", r.status, r.body)
	}
}

func TestMOAPIRateLimit(t *testing.T) {
	e := newMOEnv(t, func(c *Config) { c.RateLimit = RateLimit{Rate: 0.5, Burst: 2} })
	other := e.clientWith(t, e.cert(t, pkix.Name{CommonName: moSubject}, time.Time{}, time.Time{}))
	for i := range 2 {
		if r := e.get(t, e.client, balancesPath(simPrepaid, ""), ""); r.status != 200 {
			t.Fatalf("request %d: HTTP %d", i, r.status)
		}
	}
	r := e.get(t, e.client, balancesPath(simPrepaid, ""), "")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "2" {
		t.Fatalf("HTTP %d, Retry-After %q: want 429 and 2", r.status, r.header.Get("Retry-After"))
	}
	// Another client (certificate) has its own bucket.
	if r := e.get(t, other, balancesPath(simPrepaid, ""), ""); r.status != 200 {
		t.Errorf("other client: HTTP %d", r.status)
	}
	e.clock.Advance(2 * time.Second)
	if r := e.get(t, e.client, balancesPath(simPrepaid, ""), ""); r.status != 200 {
		t.Errorf("after Retry-After: HTTP %d", r.status)
	}
	// Unauthenticated calls do not use up anyone's bucket.
	none := e.clientWith(t)
	for range 5 {
		if r := e.get(t, none, balancesPath(simPrepaid, ""), ""); r.status != 401 {
			t.Errorf("no certificate: HTTP %d", r.status)
		}
	}
}

func TestMOAPIBalanceOverTime(t *testing.T) {
	e := newMOEnv(t, func(c *Config) { c.UsageMBPerMinute = 2 })
	bal := func(iccid, q string) BalanceEntry {
		t.Helper()
		b := e.get(t, e.client, balancesPath(iccid, q), "").balances(t)
		if len(b) != 1 {
			t.Fatalf("%d balances", len(b))
		}
		return b[0]
	}
	b := bal(simPrepaid, "?fieldsTemplate=basic&limit=1&location=US")
	if b.Type != "MODIRECTPAYG" || b.DataRemainingInMB == nil || *b.DataRemainingInMB != 5120 || b.TimeRemaining != "P30D" {
		t.Errorf("fresh balance %+v", b)
	}
	if b.PlanName != "" || b.Locations != nil {
		t.Errorf("basic template carries full fields: %+v", b)
	}
	steps := []struct {
		advance  time.Duration
		wantData float64
		wantTime string
	}{
		{90 * time.Minute, 5120 - 180, "P29DT22H30M"},
		{24 * time.Hour, 5120 - 180 - 2880, "P28DT22H30M"},
		{17*time.Hour + 29*time.Minute + 59*time.Second, 0, "P28DT5H1S"},
		{28*24*time.Hour + 5*time.Hour, 0, "PT1S"},
		{time.Second, 0, "PT0S"},
		{100 * 24 * time.Hour, 0, "PT0S"},
	}
	for _, st := range steps {
		e.clock.Advance(st.advance)
		b := bal(simPrepaid, "")
		if b.DataRemainingInMB == nil || *b.DataRemainingInMB != st.wantData || b.TimeRemaining != st.wantTime {
			t.Errorf("after +%v: %v MB %s, want %v MB %s", st.advance, ptr(b.DataRemainingInMB), b.TimeRemaining,
				st.wantData, st.wantTime)
		}
	}
	// A top-up revives the expired balance.
	acc, err := e.db.createAccount(context.Background(), "t@example.com", "T", []byte{1}, []byte{2}, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.topUp(context.Background(), acc, simPrepaid, TopUp{ID: "add-1gb", DataMB: 1024, Validity: 30 * day},
		"tx", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	b = bal(simPrepaid, "?fieldsTemplate=full")
	if *b.DataRemainingInMB != 1024 || b.TimeRemaining != "P30D" || b.PlanID != "prepaid-5gb" ||
		b.PlanName != "Contoso 5 GB prepaid" || b.ExpiresAt == "" || strings.Join(b.Locations, ",") != "US" {
		t.Errorf("after top-up %+v", b)
	}
	e.clock.Advance(10 * time.Minute)
	if b = bal(simPrepaid, ""); *b.DataRemainingInMB != 1004 {
		t.Errorf("after top-up and 10 min: %v MB", *b.DataRemainingInMB)
	}
	// A top-up of an active balance adds to it and keeps the later expiry.
	if _, err := e.db.topUp(context.Background(), acc, simPrepaid, TopUp{ID: "add-1gb", DataMB: 1024, Validity: time.Hour},
		"tx", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if b = bal(simPrepaid, ""); *b.DataRemainingInMB != 2028 || b.TimeRemaining != "P29DT23H50M" {
		t.Errorf("second top-up: %v MB %s", *b.DataRemainingInMB, b.TimeRemaining)
	}
	if _, err := e.db.topUp(context.Background(), acc, simUnknown, TopUp{DataMB: 1}, "tx", e.clock.Now()); err != ErrUnknownICCID {
		t.Errorf("top-up of an unknown line: %v", err)
	}
}

func ptr(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func TestMOAPIBalanceKindsAndFilters(t *testing.T) {
	e := newMOEnv(t, nil)
	post := e.get(t, e.client, balancesPath(simPostpaid, ""), "").balances(t)
	if len(post) != 1 || post[0].Type != "MODIRECT" || post[0].DataRemainingInMB != nil || post[0].TimeRemaining != "" {
		t.Errorf("postpaid %+v", post)
	}
	full := e.get(t, e.client, balancesPath(simPostpaid, "?fieldsTemplate=full"), "").balances(t)
	if full[0].TimeRemaining != "P30D" || full[0].PlanName != "Contoso Unlimited postpaid" {
		t.Errorf("postpaid full %+v", full[0])
	}
	e.clock.Advance(31 * day)
	full = e.get(t, e.client, balancesPath(simPostpaid, "?fieldsTemplate=full"), "").balances(t)
	if full[0].TimeRemaining != "P29D" {
		t.Errorf("postpaid renews: %+v", full[0])
	}
	for _, tc := range []struct {
		iccid, loc string
		want       int
	}{
		{simTravel, "FR", 1}, {simTravel, "jp", 1}, {simTravel, "BR", 0}, {simPrepaid, "FR", 0}, {simPrepaid, "US", 1},
		{simPostpaid, "MX", 1},
	} {
		got := e.get(t, e.client, balancesPath(tc.iccid, "?location="+tc.loc), "").balances(t)
		if len(got) != tc.want {
			t.Errorf("%s in %s: %d balances, want %d", tc.iccid, tc.loc, len(got), tc.want)
		}
	}
}

func TestMOAPIZeroBalanceIs200(t *testing.T) {
	e := newMOEnv(t, func(c *Config) { c.UsageMBPerMinute = 1000 })
	e.clock.Advance(time.Hour)
	b := e.get(t, e.client, balancesPath(simPrepaid, ""), "").balances(t)
	if len(b) != 1 || *b[0].DataRemainingInMB != 0 || !strings.Contains(string(e.get(t, e.client,
		balancesPath(simPrepaid, ""), "").body), `"dataRemainingInMB":0`) {
		t.Errorf("zero balance %+v", b)
	}
	e.clock.Advance(31 * day)
	r := e.get(t, e.client, balancesPath(simPrepaid, ""), "")
	if !strings.Contains(string(r.body), `"dataRemainingInMB":0,"timeRemaining":"PT0S"`) {
		t.Errorf("expired balance %s", r.body)
	}
}

func TestMOAPIOffersAndNotifications(t *testing.T) {
	e := newMOEnv(t, nil)
	offer := func(iccid string) string {
		t.Helper()
		r := e.get(t, e.client, "/v1/sims/iccid:"+iccid+"/offers?limit=1", "")
		var o OffersResponse
		if r.status != 200 || json.Unmarshal(r.body, &o) != nil || len(o.Offers) != 1 {
			t.Fatalf("offers HTTP %d %s", r.status, r.body)
		}
		return o.Offers[0].GatewayID
	}
	if got := offer(simPrepaid); got != "1" {
		t.Errorf("active line gateway %q", got)
	}
	if got := offer(simPostpaid); got != "1" {
		t.Errorf("postpaid gateway %q", got)
	}
	e.clock.Advance(31 * day)
	if got := offer(simPrepaid); got != "0" {
		t.Errorf("expired line gateway %q", got)
	}
	for _, tc := range []struct {
		typ  string
		want string
	}{
		{"lowBalance", `{"notifications":[{"notificationId":1,"notificationType":"lowBalance"}]}`},
		{"LOWBALANCE", `{"notifications":[{"notificationId":1,"notificationType":"lowBalance"}]}`},
		{"planExpiring", `{"notifications":[{"notificationId":3,"notificationType":"planExpiring"}]}`},
		{"somethingElse", `{"notifications":[]}`},
	} {
		r := e.get(t, e.client, "/v1/sims/iccid:"+simPrepaid+"/notifications?notificationType="+tc.typ+"&limit=5", "")
		if r.status != 200 || strings.TrimSpace(string(r.body)) != tc.want {
			t.Errorf("%s: HTTP %d %s", tc.typ, r.status, r.body)
		}
	}
}

func TestMOAPICancelledOrderKeepsSIMKnown(t *testing.T) {
	e := newMOEnv(t, nil)
	ctx := context.Background()
	id, err := e.db.createAccount(ctx, "m@example.com", "M", []byte{1}, []byte{2}, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	p, _ := planByID("prepaid-5gb")
	const iccid = "8900101000000000042"
	if _, err := e.db.recordPurchase(ctx, purchase{AccountID: id, ICCID: iccid, SIM: "esim", Kind: "download", Plan: p,
		AC: "1$x$Y", Delivery: "later", UsagePerMin: 1}, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if b := e.get(t, e.client, balancesPath(iccid, ""), "").balances(t); len(b) != 1 {
		t.Fatalf("ordered line: %+v", b)
	}
	if err := e.db.setDownloadState(ctx, iccid, "cancelled", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if b := e.get(t, e.client, balancesPath(iccid, ""), "").balances(t); len(b) != 0 {
		t.Errorf("cancelled line: %+v", b)
	}
	if err := e.MarkDownloaded(ctx, iccid); err == nil {
		t.Error("MarkDownloaded of a cancelled order succeeded")
	}
}

func TestISODuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "PT0S"}, {-time.Hour, "PT0S"}, {999 * time.Millisecond, "PT0S"}, {time.Second, "PT1S"},
		{23*24*time.Hour + 23*time.Hour, "P23DT23H"}, {30 * 24 * time.Hour, "P30D"},
		{time.Hour + 2*time.Minute + 3*time.Second, "PT1H2M3S"}, {90 * time.Minute, "PT1H30M"},
		{24*time.Hour + 1500*time.Millisecond, "P1DT1S"},
	} {
		if got := isoDuration(tc.d); got != tc.want {
			t.Errorf("isoDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestLimiter(t *testing.T) {
	clk := newClock()
	l := newLimiter(RateLimit{Rate: 2, Burst: 3}, clk.Now)
	for i := range 3 {
		if ok, _ := l.allow("a"); !ok {
			t.Fatalf("request %d refused within the burst", i)
		}
	}
	ok, wait := l.allow("a")
	if ok || wait != time.Second {
		t.Errorf("over the burst: %v %v", ok, wait)
	}
	clk.Advance(500 * time.Millisecond)
	if ok, _ := l.allow("a"); !ok {
		t.Error("refill at 2/s refused")
	}
	if ok, _ := l.allow("b"); !ok {
		t.Error("another key refused")
	}
	if newLimiter(RateLimit{Rate: -1}, clk.Now) != nil {
		t.Error("negative rate does not disable")
	}
	var off *limiter
	if ok, _ := off.allow("x"); !ok {
		t.Error("disabled limiter refused")
	}
	def := newLimiter(RateLimit{}, clk.Now)
	if def.rate != DefaultRate || def.burst != DefaultBurst {
		t.Errorf("defaults %v %v", def.rate, def.burst)
	}
	slow := newLimiter(RateLimit{Rate: 0.0001, Burst: 1}, clk.Now)
	slow.allow("k")
	if _, wait := slow.allow("k"); wait != time.Hour {
		t.Errorf("wait capped at %v", wait)
	}
	for i := range maxBuckets {
		l.allow(strconv.Itoa(i))
	}
	clk.Advance(10 * time.Second) // every bucket refills
	l.allow("late")
	if len(l.buckets) != 1 {
		t.Errorf("%d buckets after pruning, want 1", len(l.buckets))
	}
}
