package loopback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/internal/syncbuf"
	"github.com/mobileplans/mobileplans/ui/portal"
)

const (
	testHost   = "portal.contoso.test"
	testOrigin = "https://" + testHost
	// testMatchingID must never show up in a log.
	testMatchingID = "JO46UQDI07IKQDGG"
)

// message is a notifyProfileDownload as bridge.js sends it.
func message(origin, ac string) string {
	return `{"v":1,"op":"notifyProfileDownload","object":"MobilePlansInlineOperations","origin":"` + origin +
		`","args":{"meta":{"userAccount":"new","purchaseInstrument":"new","line":"new","moDirectStatus":"complete","planName":"Contoso Prepaid 5 GB"},` +
		`"activationCode":"` + ac + `"},"context":"mp-00112233445566778899aabbccddeeff"}`
}

var goodMessage = message(testOrigin, "1$smdp.contoso.test$"+testMatchingID)

func newServer(t *testing.T) (*Server, *syncbuf.Buffer) {
	t.Helper()
	logs := &syncbuf.Buffer{}
	s, err := New(context.Background(), Options{AllowedHost: testHost,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, logs
}

// post sends one request to the server's address and returns the status.
func post(t *testing.T, s *Server, method, target string, hdr http.Header, body string) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if h := hdr.Get("Host"); h != "" {
		req.Host = h
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// TestServerChecks: every refusal has its status and never reaches
// Messages; the accepted requests arrive, in order, with the origin of the
// Origin header.
func TestServerChecks(t *testing.T) {
	s, logs := newServer(t)
	cb := s.CallbackURL()
	base := strings.TrimSuffix(cb, cb[strings.LastIndex(cb, "/"):])
	ok := func(extra ...string) http.Header {
		return hdr(append([]string{"Origin", testOrigin, "Content-Type", "text/plain;charset=UTF-8"}, extra...)...)
	}
	tests := []struct {
		name   string
		method string
		target string
		hdr    http.Header
		body   string
		want   int
	}{
		{"accepted", "POST", cb, ok(), goodMessage, http.StatusNoContent},
		{"text/plain without charset", "POST", cb, hdr("Origin", testOrigin, "Content-Type", "text/plain"), goodMessage, http.StatusNoContent},

		{"wrong token", "POST", base + "/AAAA" + cb[len(base)+5:], ok(), goodMessage, http.StatusNotFound},
		{"token prefix", "POST", cb[:len(cb)-1], ok(), goodMessage, http.StatusNotFound},
		{"token and more", "POST", cb + "x", ok(), goodMessage, http.StatusNotFound},
		{"token as a directory", "POST", cb + "/", ok(), goodMessage, http.StatusNotFound},
		{"no token", "POST", base + "/", ok(), goodMessage, http.StatusNotFound},
		{"root", "POST", "http://" + s.addr + "/", ok(), goodMessage, http.StatusNotFound},
		{"query", "POST", cb + "?x=1", ok(), goodMessage, http.StatusNotFound},
		{"wrong token GET", "GET", base + "/nope", nil, "", http.StatusNotFound},

		{"GET", "GET", cb, ok(), "", http.StatusMethodNotAllowed},
		{"PUT", "PUT", cb, ok(), goodMessage, http.StatusMethodNotAllowed},
		{"OPTIONS preflight", "OPTIONS", cb, hdr("Origin", testOrigin, "Access-Control-Request-Method", "POST"), "", http.StatusMethodNotAllowed},

		{"DNS rebinding Host", "POST", cb, ok("Host", "portal.contoso.test.evil.test:80"), goodMessage, http.StatusForbidden},
		{"localhost Host", "POST", cb, ok("Host", strings.Replace(s.addr, "127.0.0.1", "localhost", 1)), goodMessage, http.StatusForbidden},

		{"no Origin", "POST", cb, hdr("Content-Type", "text/plain"), goodMessage, http.StatusForbidden},
		{"Origin null (a form POST)", "POST", cb, hdr("Origin", "null", "Content-Type", "text/plain"), goodMessage, http.StatusForbidden},
		{"foreign Origin", "POST", cb, hdr("Origin", "https://shop.evil.test", "Content-Type", "text/plain"), goodMessage, http.StatusForbidden},
		{"http Origin", "POST", cb, hdr("Origin", "http://"+testHost, "Content-Type", "text/plain"), goodMessage, http.StatusForbidden},
		{"Origin with port", "POST", cb, hdr("Origin", testOrigin+":8443", "Content-Type", "text/plain"), goodMessage, http.StatusForbidden},
		{"Origin with slash", "POST", cb, hdr("Origin", testOrigin+"/", "Content-Type", "text/plain"), goodMessage, http.StatusForbidden},
		{"Origin upper case", "POST", cb, hdr("Origin", "https://PORTAL.contoso.test", "Content-Type", "text/plain"), goodMessage, http.StatusForbidden},
		{"subdomain Origin", "POST", cb, hdr("Origin", "https://x."+testHost, "Content-Type", "text/plain"), goodMessage, http.StatusForbidden},
		{"two Origins", "POST", cb, hdr("Origin", testOrigin, "Origin", "https://shop.evil.test", "Content-Type", "text/plain"), goodMessage, http.StatusForbidden},

		{"JSON content type", "POST", cb, hdr("Origin", testOrigin, "Content-Type", "application/json"), goodMessage, http.StatusUnsupportedMediaType},
		{"form content type", "POST", cb, hdr("Origin", testOrigin, "Content-Type", "application/x-www-form-urlencoded"), "message=x", http.StatusUnsupportedMediaType},
		{"no content type", "POST", cb, hdr("Origin", testOrigin), goodMessage, http.StatusUnsupportedMediaType},
		{"Latin-1", "POST", cb, hdr("Origin", testOrigin, "Content-Type", "text/plain; charset=iso-8859-1"), goodMessage, http.StatusUnsupportedMediaType},

		{"too large", "POST", cb, ok(), `{"v":1,"pad":"` + strings.Repeat("x", MaxBodySize) + `"}`, http.StatusRequestEntityTooLarge},
		{"message names another origin", "POST", cb, ok(), message("https://shop.evil.test", "1$smdp.contoso.test$"+testMatchingID), http.StatusForbidden},
		{"not JSON", "POST", cb, ok(), "{not json", http.StatusBadRequest},
		{"bad activation code", "POST", cb, ok(), message(testOrigin, "LPA:1$smdp.contoso.test$"+testMatchingID), http.StatusBadRequest},
		{"unknown op", "POST", cb, ok(), `{"v":1,"op":"rm","object":"MobilePlans","origin":"` + testOrigin + `","args":{}}`, http.StatusBadRequest},

		{"accepted again", "POST", cb, ok(), message(testOrigin, "1$smdp.contoso.test$SECOND-1"), http.StatusNoContent},
	}
	var want []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, h := post(t, s, tt.method, tt.target, tt.hdr, tt.body)
			if got != tt.want {
				t.Fatalf("HTTP %d, want %d", got, tt.want)
			}
			if got == http.StatusMethodNotAllowed && h.Get("Allow") != "POST" {
				t.Errorf("Allow %q", h.Get("Allow"))
			}
			// The page may read the answer once the Origin header
			// passed, and only then.
			readable := tt.hdr.Get("Origin") == testOrigin && len(tt.hdr.Values("Origin")) == 1 &&
				tt.want != http.StatusNotFound && tt.want != http.StatusMethodNotAllowed && tt.hdr.Get("Host") == ""
			if acao := h.Get("Access-Control-Allow-Origin"); (acao == testOrigin) != readable || (acao != "" && acao != testOrigin) {
				t.Errorf("Access-Control-Allow-Origin %q, want it set: %v", acao, readable)
			}
		})
		if tt.want == http.StatusNoContent {
			want = append(want, tt.body)
		}
	}
	// Every handler answered after handing its message on: what was
	// accepted is queued, and nothing else.
	if n := len(s.Messages()); n != len(want) {
		t.Fatalf("%d messages queued, want %d", n, len(want))
	}
	for i, w := range want {
		m := <-s.Messages()
		if string(m.Raw) != w || m.Origin != testOrigin {
			t.Errorf("message %d: %s from %q, want %s", i, m.Raw, m.Origin, w)
		}
		if _, err := m.Parse(testHost); err != nil {
			t.Errorf("message %d does not parse: %v", i, err)
		}
	}
	tok := cb[strings.LastIndex(cb, "/")+1:]
	l := logs.String()
	for _, secret := range []string{tok, testMatchingID, "SECOND-1"} {
		if strings.Contains(l, secret) {
			t.Errorf("the log has %q:\n%s", secret, l)
		}
	}
	for _, want := range []string{"status=403", "status=404", "status=405", "status=413", "status=415", "invalid bridge message",
		"bridge message received", "op=MobilePlansInlineOperations.notifyProfileDownload"} {
		if !strings.Contains(l, want) {
			t.Errorf("the log lacks %q:\n%s", want, l)
		}
	}
}

func TestCallbackURL(t *testing.T) {
	a, _ := newServer(t)
	b, _ := newServer(t)
	re := regexp.MustCompile(`^http://127\.0\.0\.1:[1-9][0-9]*/mobileplans/[A-Za-z0-9_-]{43}$`)
	for _, s := range []*Server{a, b} {
		if !re.MatchString(s.CallbackURL()) {
			t.Errorf("callback URL %q", s.CallbackURL())
		}
		if err := CheckCallbackURL(s.CallbackURL()); err != nil {
			t.Errorf("CheckCallbackURL(%q): %v", s.CallbackURL(), err)
		}
		if s.AllowedOrigin() != testOrigin {
			t.Errorf("AllowedOrigin %q", s.AllowedOrigin())
		}
	}
	ta, tb := a.CallbackURL()[strings.LastIndex(a.CallbackURL(), "/"):], b.CallbackURL()[strings.LastIndex(b.CallbackURL(), "/"):]
	if ta == tb {
		t.Errorf("two servers share the token %s", ta)
	}
}

func TestNewAllowedHost(t *testing.T) {
	for host, ok := range map[string]bool{
		"portal.contoso.test":      true,
		"PORTAL.Contoso.test":      true,
		"localhost:8443":           true,
		"127.0.0.1:8443":           true,
		"[::1]:8443":               true,
		"":                         false,
		"https://portal.test":      false,
		"portal.test/path":         false,
		"portal.test:0":            false,
		"portal.test:99999":        false,
		"user@portal.test":         false,
		"portal_test":              false,
		"portal.test?x":            false,
		"*.contoso.test":           false,
		"portal.test\r\nX-Evil: 1": false,
	} {
		s, err := New(context.Background(), Options{AllowedHost: host})
		if (err == nil) != ok {
			t.Errorf("New(%q): %v", host, err)
		}
		if err == nil {
			if want := "https://" + strings.ToLower(host); s.AllowedOrigin() != want {
				t.Errorf("AllowedOrigin %q, want %q", s.AllowedOrigin(), want)
			}
			_ = s.Close()
		}
	}
}

func TestNewContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if s, err := New(ctx, Options{AllowedHost: testHost}); err == nil {
		_ = s.Close()
		t.Fatal("New listened with a cancelled context")
	}
}

func TestAppendCallback(t *testing.T) {
	const cb = "http://127.0.0.1:41234/mobileplans/abc_DEF-123"
	esc := url.QueryEscape(cb)
	tests := []struct {
		launch, cb, want string
		err              bool
	}{
		{"https://portal.contoso.test/mobileplans", cb, "https://portal.contoso.test/mobileplans?mpcallback=" + esc, false},
		{"https://moportal.com?market=US&location=US&transactionId=%2F7RBTuSJt02OZbX8.4&iccids=8988247000101867183,8988247000103824828", cb,
			"https://moportal.com?market=US&location=US&transactionId=%2F7RBTuSJt02OZbX8.4&iccids=8988247000101867183,8988247000103824828&mpcallback=" + esc, false},
		{"https://p.test/?a=1&mpcallback=old&MPCallback=old2&b=2#frag", cb, "https://p.test/?a=1&b=2&mpcallback=" + esc + "#frag", false},
		{"https://p.test:8443/x?", cb, "https://p.test:8443/x?mpcallback=" + esc, false},
		{"https://p.test/", "http://[::1]:1/x", "https://p.test/?mpcallback=" + url.QueryEscape("http://[::1]:1/x"), false},

		{"http://p.test/", cb, "", true},
		{"https:///x", cb, "", true},
		{"https://u:p@p.test/", cb, "", true},
		{"::", cb, "", true},
		{"https://p.test/", "http://localhost:1/x", "", true},
		{"https://p.test/", "https://127.0.0.1:1/x", "", true},
		{"https://p.test/", "http://127.0.0.1:1/x?y", "", true},
		{"https://p.test/", "http://127.0.0.1/x", "", true},
	}
	for _, tt := range tests {
		got, err := AppendCallback(tt.launch, tt.cb)
		if tt.err {
			if !errors.Is(err, ErrInvalidURL) {
				t.Errorf("AppendCallback(%q, %q) = %q, %v; want ErrInvalidURL", tt.launch, tt.cb, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("AppendCallback(%q, %q) = %q, %v; want %q", tt.launch, tt.cb, got, err, tt.want)
			continue
		}
		u, _ := url.Parse(got)
		if u.Query().Get(ParamCallback) != tt.cb {
			t.Errorf("%q does not carry the callback", got)
		}
	}
	s, _ := newServer(t)
	got, err := s.LaunchURL("https://portal.contoso.test/mobileplans?eid=1")
	if err != nil || got != "https://portal.contoso.test/mobileplans?eid=1&mpcallback="+url.QueryEscape(s.CallbackURL()) {
		t.Errorf("LaunchURL = %q, %v", got, err)
	}
}

// TestClose: Close closes Messages after what was queued; a POST waiting
// for room is not delivered; later POSTs cannot connect.
func TestClose(t *testing.T) {
	s, _ := newServer(t)
	h := hdr("Origin", testOrigin, "Content-Type", "text/plain")
	for i := range queued {
		if st, _ := post(t, s, "POST", s.CallbackURL(), h, message(testOrigin, fmt.Sprintf("1$smdp.contoso.test$M%d", i))); st != http.StatusNoContent {
			t.Fatalf("message %d: HTTP %d", i, st)
		}
	}
	blocked := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("POST", s.CallbackURL(), strings.NewReader(message(testOrigin, "1$smdp.contoso.test$LATE")))
		req.Header = h.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable {
				err = fmt.Errorf("HTTP %d", resp.StatusCode)
			}
		}
		blocked <- err
	}()
	// Wait until the late POST is being handled (it holds the read lock
	// while it waits for room).
	for {
		if !s.mu.TryLock() {
			break
		}
		s.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range s.Messages() {
		if strings.Contains(string(m.Raw), "LATE") {
			t.Fatal("the late message was delivered")
		}
		n++
	}
	if n != queued {
		t.Errorf("%d messages after Close, want %d", n, queued)
	}
	// The late POST got 503 or lost its connection with the server.
	_ = <-blocked
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := http.Post(s.CallbackURL(), "text/plain", strings.NewReader(goodMessage)); err == nil {
		t.Error("a POST reached the closed server")
	}
}

// TestMessageIsBridgeMessage: what the server hands on is a portal.Message
// the agent parses like the web view's.
func TestMessageIsBridgeMessage(t *testing.T) {
	s, _ := newServer(t)
	st, _ := post(t, s, "POST", s.CallbackURL(), hdr("Origin", testOrigin, "Content-Type", "text/plain;charset=UTF-8"), goodMessage)
	if st != http.StatusNoContent {
		t.Fatalf("HTTP %d", st)
	}
	m := <-s.Messages()
	c, err := m.Parse(testHost)
	if err != nil {
		t.Fatal(err)
	}
	pd, ok := c.(*portal.ProfileDownload)
	if !ok || pd.ActivationCode != "1$smdp.contoso.test$"+testMatchingID || pd.ContextID != "mp-00112233445566778899aabbccddeeff" ||
		pd.Origin != testOrigin || pd.Meta.PlanName != "Contoso Prepaid 5 GB" {
		t.Fatalf("call %#v", c)
	}
	if _, err := m.Parse("other.test"); !errors.Is(err, portal.ErrForeignOrigin) {
		t.Errorf("the agent's own host check: %v", err)
	}
}
