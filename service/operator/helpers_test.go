package operator

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/internal/syncbuf"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeOrders is an OrderPlacer handing out ICCIDs from a counter.
type fakeOrders struct {
	mu        sync.Mutex
	next      int
	err       error
	requests  []OrderRequest
	cancelled []string
	cancelErr error
}

const testSMDP = "smdp.contoso.test:8443"

func (f *fakeOrders) Order(_ context.Context, req OrderRequest) (Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
	if f.err != nil {
		return Order{}, f.err
	}
	f.next++
	iccid := fmt.Sprintf("89001012012341234%03d", f.next)
	mid := fmt.Sprintf("MATCH-%04d-ABCD", f.next)
	return Order{ICCID: iccid, MatchingID: mid, SMDPAddress: testSMDP, ActivationCode: ActivationCode(testSMDP, mid)}, nil
}

func (f *fakeOrders) Cancel(_ context.Context, iccid string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancelled = append(f.cancelled, iccid)
	return f.cancelErr
}

func (f *fakeOrders) last() (OrderRequest, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return OrderRequest{}, 0
	}
	return f.requests[len(f.requests)-1], len(f.requests)
}

func (f *fakeOrders) cancels() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.cancelled...)
}

type testOp struct {
	*Operator
	clock  *clock
	orders *fakeOrders
	logs   *syncbuf.Buffer
}

// newTestOperator builds an operator with a fake clock, fake orders and a
// debug log; mod adjusts the Config.
func newTestOperator(t testing.TB, mod func(*Config)) *testOp {
	t.Helper()
	c, f, logs := newClock(), &fakeOrders{}, &syncbuf.Buffer{}
	cfg := Config{
		DBPath:      t.TempDir() + "/operator.db",
		Logger:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:         c.Now,
		Orders:      f,
		MOClientCAs: x509.NewCertPool(),
	}
	if mod != nil {
		mod(&cfg)
	}
	op, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	return &testOp{Operator: op, clock: c, orders: f, logs: logs}
}

// browser is a cookie-keeping HTTP client that remembers the last page.
type browser struct {
	t      testing.TB
	c      *http.Client
	base   string // server URL plus portal prefix
	lang   string
	status int
	body   string
	url    string
	header http.Header // of the last answer
}

func newBrowser(t testing.TB, srv *httptest.Server, prefix string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client()
	c.Jar = jar
	return &browser{t: t, c: c, base: srv.URL + prefix, lang: "en"}
}

func (b *browser) do(req *http.Request) {
	b.t.Helper()
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	b.status, b.body, b.url, b.header = resp.StatusCode, string(body), resp.Request.URL.String(), resp.Header
}

// get loads path (relative to the portal base) with extra headers.
func (b *browser) get(path string, hdr http.Header) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	b.do(req)
}

// post submits a form to path; withCSRF adds the token of the current
// page.
func (b *browser) post(path string, form url.Values, withCSRF bool) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if withCSRF {
		form.Set("csrf", b.csrf())
	}
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) csrf() string {
	b.t.Helper()
	m := csrfRE.FindStringSubmatch(b.body)
	if m == nil {
		b.t.Fatalf("no CSRF token on the page %s:\n%s", b.url, b.body)
	}
	return html.UnescapeString(m[1])
}

// page returns the page id (the body's data-page).
func (b *browser) page() string {
	m := regexp.MustCompile(`<body id="page-([a-z]+)"`).FindStringSubmatch(b.body)
	if m == nil {
		return ""
	}
	return m[1]
}

func (b *browser) has(id string) bool {
	return strings.Contains(b.body, `id="`+id+`"`)
}

// attr returns attribute name of the element with id.
func (b *browser) attr(id, name string) string {
	b.t.Helper()
	re := regexp.MustCompile(`<[a-z]+ [^>]*id="` + regexp.QuoteMeta(id) + `"[^>]*>`)
	tag := re.FindString(b.body)
	if tag == "" {
		b.t.Fatalf("no element #%s on %s:\n%s", id, b.url, b.body)
	}
	m := regexp.MustCompile(`\s` + regexp.QuoteMeta(name) + `="([^"]*)"`).FindStringSubmatch(tag)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// text returns the text of the element with id (up to the next tag).
func (b *browser) text(id string) string {
	b.t.Helper()
	re := regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `"[^>]*>([^<]*)`)
	m := re.FindStringSubmatch(b.body)
	if m == nil {
		b.t.Fatalf("no element #%s on %s:\n%s", id, b.url, b.body)
	}
	return html.UnescapeString(strings.TrimSpace(m[1]))
}

func (b *browser) mustPage(want string) {
	b.t.Helper()
	if got := b.page(); got != want {
		b.t.Fatalf("page %q (HTTP %d, %s), want %q:\n%s", got, b.status, b.url, want, b.body)
	}
}

// signUp walks from a launch to the plans page with a new account.
func (b *browser) signUp(email string) {
	b.t.Helper()
	b.get("/signup", nil)
	b.mustPage("signup")
	b.post("/signup", url.Values{"name": {"Ada Lovelace"}, "email": {email}, "password": {"correct horse"}}, true)
	b.mustPage("plans")
}

// buy chooses plan and buys it from the plans page.
func (b *browser) buy(plan string, extra url.Values) {
	b.t.Helper()
	b.post("/plans", url.Values{"plan": {plan}}, true)
	b.mustPage("review")
	form := url.Values{"accept": {"1"}}
	for k, v := range extra {
		form[k] = v
	}
	b.post("/review", form, true)
}

var errFake = errors.New("fake failure")

// testEID is an EID with valid check digits.
const testEID = "89049032123451234512345678901235"
