package operator

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/service/webca"
)

// fakeES2 is an httptest ES2+ SM-DP+ speaking the JSON of service/smdp.
type fakeES2 struct {
	t     *testing.T
	mu    sync.Mutex
	calls []es2Call
	// answer returns the HTTP status and body for a function; nil means
	// success.
	answer func(function string, req map[string]any) (int, string)
	token  string // required bearer token, "" for none
}

type es2Call struct {
	Function string
	Body     map[string]any
	Header   http.Header
	PeerCN   string
}

func (f *fakeES2) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fn, ok := strings.CutPrefix(r.URL.Path, "/gsma/rsp2/es2plus/")
	if !ok || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		http.Error(w, "malformed JSON request", http.StatusBadRequest)
		return
	}
	c := es2Call{Function: fn, Body: body, Header: r.Header.Clone()}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		c.PeerCN = r.TLS.PeerCertificates[0].Subject.CommonName
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("X-Admin-Protocol", "gsma/rsp/v2.2.2")
	if f.token != "" && r.Header.Get("Authorization") != "Bearer "+f.token {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"header":{"functionExecutionStatus":{"status":"Failed","statusCodeData":{"subjectCode":"8.2.1","reasonCode":"1.2","message":"a client certificate or bearer token is required"}}}}`)
		return
	}
	if f.answer != nil {
		if status, b := f.answer(fn, body); status != 0 {
			w.WriteHeader(status)
			io.WriteString(w, b)
			return
		}
	}
	ok200 := `"header":{"functionExecutionStatus":{"status":"Executed-Success"}}`
	switch fn {
	case "downloadOrder":
		io.WriteString(w, `{`+ok200+`,"iccid":"8900101000000000034"}`)
	case "confirmOrder":
		io.WriteString(w, `{`+ok200+`,"eid":"`+str(body["eid"])+`","matchingId":"QR-G-5C-1LS-1W1Z9P7","smdpAddress":"smdp.contoso.test"}`)
	case "cancelOrder":
		io.WriteString(w, `{`+ok200+`}`)
	default:
		http.NotFound(w, r)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func (f *fakeES2) log() []es2Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]es2Call(nil), f.calls...)
}

func (f *fakeES2) functions() []string {
	var out []string
	for _, c := range f.log() {
		out = append(out, c.Function)
	}
	return out
}

func failed(subject, reason, msg string) string {
	m, _ := json.Marshal(msg)
	return `{"header":{"functionExecutionStatus":{"status":"Failed","statusCodeData":{"subjectCode":"` + subject +
		`","reasonCode":"` + reason + `","message":` + string(m) + `}}}}`
}

func newFakeES2(t *testing.T, f *fakeES2, opts ...ES2Option) *ES2Client {
	t.Helper()
	f.t = t
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	c, err := NewES2Client(srv.URL+"/", srv.Client(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestES2OrderSuccess(t *testing.T) {
	f := &fakeES2{token: "s3cret"}
	c := newFakeES2(t, f, ES2BearerToken("s3cret"), ES2RequesterID("contoso-test"), ES2ProfileType("travel-1gb", "travel"))
	o, err := c.Order(context.Background(), OrderRequest{EID: testEID, PlanID: "travel-1gb"})
	if err != nil {
		t.Fatal(err)
	}
	want := Order{ICCID: "8900101000000000034", MatchingID: "QR-G-5C-1LS-1W1Z9P7", SMDPAddress: "smdp.contoso.test",
		ActivationCode: "1$smdp.contoso.test$QR-G-5C-1LS-1W1Z9P7"}
	if o != want {
		t.Errorf("order %+v, want %+v", o, want)
	}
	calls := f.log()
	if len(calls) != 2 || calls[0].Function != "downloadOrder" || calls[1].Function != "confirmOrder" {
		t.Fatalf("calls %v", f.functions())
	}
	d, cf := calls[0].Body, calls[1].Body
	hdr, _ := d["header"].(map[string]any)
	if hdr["functionRequesterIdentifier"] != "contoso-test" || str(hdr["functionCallIdentifier"]) == "" {
		t.Errorf("downloadOrder header %v", hdr)
	}
	if d["eid"] != testEID || d["profileType"] != "travel" || d["iccid"] != nil {
		t.Errorf("downloadOrder body %v", d)
	}
	if cf["iccid"] != "8900101000000000034" || cf["eid"] != testEID || cf["releaseFlag"] != true ||
		cf["matchingId"] != nil || cf["confirmationCode"] != nil {
		t.Errorf("confirmOrder body %v", cf)
	}
	for _, c := range calls {
		if c.Header.Get("Content-Type") != "application/json;charset=UTF-8" || c.Header.Get("X-Admin-Protocol") != "gsma/rsp/v2.2.2" {
			t.Errorf("%s headers %v", c.Function, c.Header)
		}
	}
	// Without an EID nor a profile type for the plan neither is sent.
	if _, err := c.Order(context.Background(), OrderRequest{PlanID: "unlimited"}); err != nil {
		t.Fatal(err)
	}
	calls = f.log()
	if _, ok := calls[2].Body["eid"]; ok {
		t.Errorf("eid sent without one: %v", calls[2].Body)
	}
	if _, ok := calls[2].Body["profileType"]; ok {
		t.Errorf("profileType sent without one: %v", calls[2].Body)
	}
	if err := c.Cancel(context.Background(), "8900101000000000034"); err != nil {
		t.Fatal(err)
	}
	calls = f.log()
	last := calls[len(calls)-1]
	if last.Function != "cancelOrder" || last.Body["iccid"] != "8900101000000000034" ||
		last.Body["finalProfileStatusIndicator"] != "Available" {
		t.Errorf("cancelOrder %v", last.Body)
	}
}

func TestES2Errors(t *testing.T) {
	tests := []struct {
		name      string
		answer    func(string, map[string]any) (int, string)
		token     string
		wantCalls []string
		check     func(t *testing.T, err error)
	}{
		{
			name: "downloadOrder failed, no profile",
			answer: func(fn string, _ map[string]any) (int, string) {
				if fn == "downloadOrder" {
					return 200, failed("8.2.5", "4.3", "no available profile of type \"\"")
				}
				return 0, ""
			},
			wantCalls: []string{"downloadOrder"},
			check: func(t *testing.T, err error) {
				var e *ES2Error
				if !errors.As(err, &e) || e.Function != "downloadOrder" || e.Status != "Failed" || e.SubjectCode != "8.2.5" ||
					e.ReasonCode != "4.3" || e.HTTPStatus != 200 || !strings.Contains(e.Message, "no available profile") {
					t.Errorf("error %#v", err)
				}
				if !errors.Is(err, ErrNoProfileAvailable) || errors.Is(err, ErrES2Unauthorized) {
					t.Errorf("errors.Is wrong for %v", err)
				}
			},
		},
		{
			name: "confirmOrder failed, order handed back",
			answer: func(fn string, _ map[string]any) (int, string) {
				if fn == "confirmOrder" {
					return 200, failed("8.2.1", "3.8", "not allowed for a profile in state available")
				}
				return 0, ""
			},
			wantCalls: []string{"downloadOrder", "confirmOrder", "cancelOrder"},
			check: func(t *testing.T, err error) {
				var e *ES2Error
				if !errors.As(err, &e) || e.Function != "confirmOrder" || e.SubjectCode != "8.2.1" || e.ReasonCode != "3.8" {
					t.Errorf("error %#v", err)
				}
				if errors.Is(err, ErrNoProfileAvailable) {
					t.Error("not a no-profile error")
				}
			},
		},
		{
			name:      "HTTP 500",
			answer:    func(string, map[string]any) (int, string) { return 500, "internal error\n" },
			wantCalls: []string{"downloadOrder"},
			check: func(t *testing.T, err error) {
				var e *ES2Error
				if !errors.As(err, &e) || e.HTTPStatus != 500 || e.Status != "" || e.Message != "internal error" {
					t.Errorf("error %#v", err)
				}
				if !strings.Contains(err.Error(), "HTTP 500") {
					t.Errorf("message %q", err)
				}
			},
		},
		{
			name: "HTTP 503 on confirmOrder",
			answer: func(fn string, _ map[string]any) (int, string) {
				return map[string]int{"confirmOrder": 503}[fn], "busy"
			},
			wantCalls: []string{"downloadOrder", "confirmOrder", "cancelOrder"},
			check: func(t *testing.T, err error) {
				var e *ES2Error
				if !errors.As(err, &e) || e.HTTPStatus != 503 || e.Function != "confirmOrder" {
					t.Errorf("error %#v", err)
				}
			},
		},
		{
			name:      "unauthorized",
			token:     "expected-token",
			wantCalls: []string{"downloadOrder"},
			check: func(t *testing.T, err error) {
				var e *ES2Error
				if !errors.Is(err, ErrES2Unauthorized) || !errors.As(err, &e) || e.SubjectCode != "8.2.1" || e.ReasonCode != "1.2" {
					t.Errorf("error %#v", err)
				}
			},
		},
		{
			name:      "malformed answer",
			answer:    func(string, map[string]any) (int, string) { return 200, `{"header":` },
			wantCalls: []string{"downloadOrder"},
			check: func(t *testing.T, err error) {
				var e *ES2Error
				if !errors.As(err, &e) || !strings.Contains(e.Message, "malformed JSON") {
					t.Errorf("error %#v", err)
				}
			},
		},
		{
			name:      "answer without header",
			answer:    func(string, map[string]any) (int, string) { return 200, `{"iccid":"8900101000000000034"}` },
			wantCalls: []string{"downloadOrder"},
			check: func(t *testing.T, err error) {
				if err == nil || !strings.Contains(err.Error(), "without header") {
					t.Errorf("error %v", err)
				}
			},
		},
		{
			name: "confirmOrder without matchingId",
			answer: func(fn string, _ map[string]any) (int, string) {
				if fn == "confirmOrder" {
					return 200, `{"header":{"functionExecutionStatus":{"status":"Executed-Success"}},"smdpAddress":"smdp.contoso.test"}`
				}
				return 0, ""
			},
			wantCalls: []string{"downloadOrder", "confirmOrder", "cancelOrder"},
			check: func(t *testing.T, err error) {
				if err == nil || !strings.Contains(err.Error(), "matchingId") {
					t.Errorf("error %v", err)
				}
			},
		},
		{
			name: "hostile message is cleaned",
			answer: func(string, map[string]any) (int, string) {
				return 200, failed("8.1", "1.1", "line1\nline2\x00"+strings.Repeat("x", 500))
			},
			wantCalls: []string{"downloadOrder"},
			check: func(t *testing.T, err error) {
				var e *ES2Error
				if !errors.As(err, &e) || strings.ContainsAny(e.Message, "\n\x00") || len([]rune(e.Message)) > es2MaxErrorText+1 {
					t.Errorf("message %q", e.Message)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeES2{answer: tc.answer, token: tc.token}
			c := newFakeES2(t, f)
			_, err := c.Order(context.Background(), OrderRequest{EID: testEID, PlanID: "prepaid-5gb"})
			if err == nil {
				t.Fatal("no error")
			}
			tc.check(t, err)
			if got := strings.Join(f.functions(), ","); got != strings.Join(tc.wantCalls, ",") {
				t.Errorf("calls %s, want %v", got, tc.wantCalls)
			}
		})
	}
	t.Run("cancel failed", func(t *testing.T) {
		f := &fakeES2{answer: func(string, map[string]any) (int, string) {
			return 200, failed("8.2.1", "3.9", "unknown profile")
		}}
		c := newFakeES2(t, f)
		var e *ES2Error
		if err := c.Cancel(context.Background(), "8900101000000000034"); !errors.As(err, &e) || e.ReasonCode != "3.9" {
			t.Errorf("error %v", err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewTLSServer(http.NotFoundHandler())
		url := srv.URL
		hc := srv.Client()
		srv.Close()
		c, err := NewES2Client(url, hc)
		if err != nil {
			t.Fatal(err)
		}
		var e *ES2Error
		if _, err := c.Order(context.Background(), OrderRequest{}); err == nil || errors.As(err, &e) {
			t.Errorf("error %v, want a transport error", err)
		}
	})
}

func TestNewES2ClientURL(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "https://", "https://h/?q=1", "://bad"} {
		if _, err := NewES2Client(u, nil); err == nil {
			t.Errorf("NewES2Client(%q) accepted", u)
		}
	}
	if _, err := NewES2Client("https://smdp.example:8443/prefix", nil); err != nil {
		t.Error(err)
	}
}

func TestES2MutualTLS(t *testing.T) {
	ca, err := webca.New("ES2 test CA", nil)
	if err != nil {
		t.Fatal(err)
	}
	serverCert, err := ca.ServerCert("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	clientCert, err := ca.ClientCert(pkix.Name{CommonName: "Contoso operator"}, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeES2{}
	srv := httptest.NewUnstartedServer(f)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs: ca.Pool()}
	srv.StartTLS()
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(),
		Certificates: []tls.Certificate{clientCert}}}}
	c, err := NewES2Client(srv.URL, hc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Order(context.Background(), OrderRequest{PlanID: "prepaid-5gb"}); err != nil {
		t.Fatal(err)
	}
	for _, call := range f.log() {
		if call.PeerCN != "Contoso operator" || call.Header.Get("Authorization") != "" {
			t.Errorf("%s: peer %q, Authorization %q", call.Function, call.PeerCN, call.Header.Get("Authorization"))
		}
	}
}
