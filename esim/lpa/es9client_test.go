package lpa

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/pki"
)

// newTestPKI generates a test PKI whose DPtls certificate is valid for the
// loopback addresses httptest servers listen on.
func newTestPKI(t testing.TB) *pki.PKI {
	t.Helper()
	p, err := pki.Generate(pki.Options{ExtraTLSHosts: []string{"127.0.0.1", "localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startTLS starts an HTTPS test server with the PKI's DPtls certificate
// and returns its address (host:port).
func startTLS(t testing.TB, p *pki.PKI, h http.Handler) string {
	t.Helper()
	cert, err := p.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // TLS tests provoke handshake errors
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// newTestES9 returns an ES9 client that trusts the system roots and the
// PKI's CI, and nothing else.
func newTestES9(t testing.TB, p *pki.PKI, timeout time.Duration) *ES9Client {
	t.Helper()
	pool, err := TrustPool(p.CI.Cert)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewES9Client(ES9Options{RootCAs: pool, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkHeaders fails the test if r lacks the ES9+ request headers
// (sgp22.md 3.1).
func checkHeaders(t testing.TB, r *http.Request) {
	t.Helper()
	if r.Method != http.MethodPost {
		t.Errorf("method %s, want POST", r.Method)
	}
	want := map[string]string{
		"User-Agent":       "gsma-rsp-lpad",
		"X-Admin-Protocol": "gsma/rsp/v2.2.2",
		"Content-Type":     "application/json;charset=UTF-8",
	}
	for k, v := range want {
		if got := r.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", es9.ContentType)
	w.Header().Set(es9.HeaderAdminProtocol, es9.AdminProtocol)
	_ = json.NewEncoder(w).Encode(v)
}

func TestES9ClientFunctions(t *testing.T) {
	p := newTestPKI(t)
	type call struct {
		path    string
		request any                                                            // what the server must decode
		answer  func(http.ResponseWriter)                                      // the server's answer
		do      func(ctx context.Context, c *ES9Client, a string) (any, error) // the client call
		want    any
	}
	tests := []struct {
		name string
		call call
	}{
		{"initiateAuthentication", call{
			path: es9.PathInitiateAuthentication,
			request: es9.InitiateAuthenticationRequest{SMDPAddress: "smdp.example.com",
				EUICCChallenge: []byte("0123456789abcdef"), EUICCInfo1: []byte{0xBF, 0x20, 0x00}},
			answer: func(w http.ResponseWriter) {
				writeJSON(w, es9.InitiateAuthenticationResponse{Header: es9.Success(), TransactionID: "0A0B",
					ServerSigned1: []byte{0x30, 0x00}, ServerSignature1: []byte{0x5F, 0x37, 0x00},
					EUICCCIPKIDToBeUsed: []byte{0x04, 0x00}, ServerCertificate: []byte{0x30, 0x01, 0x00}})
			},
			do: func(ctx context.Context, c *ES9Client, a string) (any, error) {
				return c.InitiateAuthentication(ctx, a, es9.InitiateAuthenticationRequest{SMDPAddress: "smdp.example.com",
					EUICCChallenge: []byte("0123456789abcdef"), EUICCInfo1: []byte{0xBF, 0x20, 0x00}})
			},
			want: es9.InitiateAuthenticationResponse{Header: es9.Success(), TransactionID: "0A0B",
				ServerSigned1: []byte{0x30, 0x00}, ServerSignature1: []byte{0x5F, 0x37, 0x00},
				EUICCCIPKIDToBeUsed: []byte{0x04, 0x00}, ServerCertificate: []byte{0x30, 0x01, 0x00}},
		}},
		{"authenticateClient", call{
			path:    es9.PathAuthenticateClient,
			request: es9.AuthenticateClientRequest{TransactionID: "0A0B", AuthenticateServerResponse: []byte{0xBF, 0x38, 0x00}},
			answer: func(w http.ResponseWriter) {
				writeJSON(w, es9.AuthenticateClientResponse{Header: es9.Success(), TransactionID: "0A0B",
					ProfileMetadata: []byte{0xBF, 0x25, 0x00}, SMDPSigned2: []byte{0x30, 0x00}})
			},
			do: func(ctx context.Context, c *ES9Client, a string) (any, error) {
				return c.AuthenticateClient(ctx, a, es9.AuthenticateClientRequest{TransactionID: "0A0B", AuthenticateServerResponse: []byte{0xBF, 0x38, 0x00}})
			},
			want: es9.AuthenticateClientResponse{Header: es9.Success(), TransactionID: "0A0B",
				ProfileMetadata: []byte{0xBF, 0x25, 0x00}, SMDPSigned2: []byte{0x30, 0x00}},
		}},
		{"getBoundProfilePackage", call{
			path:    es9.PathGetBoundProfilePackage,
			request: es9.GetBoundProfilePackageRequest{TransactionID: "0A0B", PrepareDownloadResponse: []byte{0xBF, 0x21, 0x00}},
			answer: func(w http.ResponseWriter) {
				writeJSON(w, es9.GetBoundProfilePackageResponse{Header: es9.Success(), TransactionID: "0A0B",
					BoundProfilePackage: []byte{0xBF, 0x36, 0x00}})
			},
			do: func(ctx context.Context, c *ES9Client, a string) (any, error) {
				return c.GetBoundProfilePackage(ctx, a, es9.GetBoundProfilePackageRequest{TransactionID: "0A0B", PrepareDownloadResponse: []byte{0xBF, 0x21, 0x00}})
			},
			want: es9.GetBoundProfilePackageResponse{Header: es9.Success(), TransactionID: "0A0B", BoundProfilePackage: []byte{0xBF, 0x36, 0x00}},
		}},
		{"handleNotification 204", call{
			path:    es9.PathHandleNotification,
			request: es9.HandleNotificationRequest{PendingNotification: []byte{0xBF, 0x37, 0x00}},
			answer:  func(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) },
			do: func(ctx context.Context, c *ES9Client, a string) (any, error) {
				return nil, c.HandleNotification(ctx, a, es9.HandleNotificationRequest{PendingNotification: []byte{0xBF, 0x37, 0x00}})
			},
		}},
		{"handleNotification 200 with success header", call{
			path:    es9.PathHandleNotification,
			request: es9.HandleNotificationRequest{PendingNotification: []byte{0x30, 0x00}},
			answer:  func(w http.ResponseWriter) { writeJSON(w, es9.CancelSessionResponse{Header: es9.Success()}) },
			do: func(ctx context.Context, c *ES9Client, a string) (any, error) {
				return nil, c.HandleNotification(ctx, a, es9.HandleNotificationRequest{PendingNotification: []byte{0x30, 0x00}})
			},
		}},
		{"handleNotification 200 with a non-JSON body", call{
			path:    es9.PathHandleNotification,
			request: es9.HandleNotificationRequest{PendingNotification: []byte{0x30, 0x00}},
			answer:  func(w http.ResponseWriter) { _, _ = io.WriteString(w, "OK") },
			do: func(ctx context.Context, c *ES9Client, a string) (any, error) {
				return nil, c.HandleNotification(ctx, a, es9.HandleNotificationRequest{PendingNotification: []byte{0x30, 0x00}})
			},
		}},
		{"cancelSession", call{
			path:    es9.PathCancelSession,
			request: es9.CancelSessionRequest{TransactionID: "0A0B", CancelSessionResponse: []byte{0xBF, 0x41, 0x00}},
			answer:  func(w http.ResponseWriter) { writeJSON(w, es9.CancelSessionResponse{Header: es9.Success()}) },
			do: func(ctx context.Context, c *ES9Client, a string) (any, error) {
				return nil, c.CancelSession(ctx, a, es9.CancelSessionRequest{TransactionID: "0A0B", CancelSessionResponse: []byte{0xBF, 0x41, 0x00}})
			},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			called := 0
			addr := startTLS(t, p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called++
				checkHeaders(t, r)
				if r.URL.Path != tc.call.path {
					t.Errorf("path %s, want %s", r.URL.Path, tc.call.path)
				}
				body, _ := io.ReadAll(r.Body)
				want, _ := json.Marshal(tc.call.request)
				var gotV, wantV any
				if err := json.Unmarshal(body, &gotV); err != nil {
					t.Errorf("request body %q: %v", body, err)
				}
				_ = json.Unmarshal(want, &wantV)
				if !reflect.DeepEqual(gotV, wantV) {
					t.Errorf("request body %s, want %s", body, want)
				}
				tc.call.answer(w)
			}))
			c := newTestES9(t, p, 0)
			got, err := tc.call.do(context.Background(), c, addr)
			if err != nil {
				t.Fatal(err)
			}
			if tc.call.want != nil && !reflect.DeepEqual(got, tc.call.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.call.want)
			}
			if called != 1 {
				t.Errorf("server called %d times", called)
			}
		})
	}
}

func TestES9ClientErrors(t *testing.T) {
	p := newTestPKI(t)
	failed := func(s es9.Status) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, es9.AuthenticateClientResponse{Header: es9.Failure(s, "no such order")})
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		status  int        // TransportError.StatusCode, 0 = not a TransportError
		is      []error    // errors.Is targets
		es9Err  *es9.Error // errors.As result to compare (Function, Subject, Reason)
		text    string
	}{
		{
			name:    "Failed header",
			handler: failed(es9.StatusMatchingIDRefused()),
			is:      []error{es9.StatusMatchingIDRefused().Err()},
			es9Err:  &es9.Error{Function: "authenticateClient", Status: es9.StatusFailed, Subject: "8.2.6", Reason: "3.8", Message: "no such order"},
			text:    "8.2.6/3.8",
		},
		{
			name: "Expired header",
			handler: func(w http.ResponseWriter, r *http.Request) {
				h := es9.Failure(es9.StatusDownloadOrderExpired(), "")
				h.FunctionExecutionStatus.Status = es9.StatusExpired
				writeJSON(w, es9.AuthenticateClientResponse{Header: h})
			},
			es9Err: &es9.Error{Function: "authenticateClient", Status: es9.StatusExpired, Subject: "8.8.5", Reason: "4.1"},
		},
		{
			name: "HTTP 500",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "database on fire", http.StatusInternalServerError)
			},
			status: 500, is: []error{ErrBadStatus}, text: "database on fire",
		},
		{
			name:    "HTTP 404",
			handler: http.NotFound,
			status:  404, is: []error{ErrBadStatus},
		},
		{
			name:    "empty 200 body",
			handler: func(w http.ResponseWriter, r *http.Request) {},
			status:  200, text: "empty response body",
		},
		{
			name:    "not JSON",
			handler: func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "<html>") },
			status:  200, is: []error{es9.ErrMalformed},
		},
		{
			name: "response too large",
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, `{"header":{"functionExecutionStatus":{"status":"Executed-Success"}},"profileMetadata":"`)
				chunk := strings.Repeat("A", 64<<10)
				for n := 0; n <= MaxES9Response; n += len(chunk) {
					_, _ = io.WriteString(w, chunk)
				}
				_, _ = io.WriteString(w, `"}`)
			},
			status: 200, is: []error{ErrResponseTooLarge},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := startTLS(t, p, tc.handler)
			c := newTestES9(t, p, 0)
			_, err := c.AuthenticateClient(context.Background(), addr, es9.AuthenticateClientRequest{TransactionID: "01"})
			if err == nil {
				t.Fatal("no error")
			}
			for _, target := range tc.is {
				if !errors.Is(err, target) {
					t.Errorf("error %v is not %v", err, target)
				}
			}
			var te *TransportError
			if tc.status != 0 {
				if !errors.As(err, &te) || te.StatusCode != tc.status || te.Function != "authenticateClient" || te.Host != addr {
					t.Errorf("error %#v, want a TransportError with status %d", err, tc.status)
				}
			} else if errors.As(err, &te) {
				t.Errorf("function failure reported as transport error: %v", err)
			}
			if tc.es9Err != nil {
				var e *es9.Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v is not an *es9.Error", err)
				}
				if *e != *tc.es9Err {
					t.Errorf("es9.Error %+v, want %+v", *e, *tc.es9Err)
				}
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %q does not contain %q", err, tc.text)
			}
		})
	}
}

func TestES9ClientHandleNotificationFailed(t *testing.T) {
	p := newTestPKI(t)
	addr := startTLS(t, p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, es9.CancelSessionResponse{Header: es9.Failure(es9.StatusTransactionIDUnknown(), "")})
	}))
	err := newTestES9(t, p, 0).HandleNotification(context.Background(), addr, es9.HandleNotificationRequest{PendingNotification: []byte{0x30, 0}})
	var e *es9.Error
	if !errors.As(err, &e) || e.Function != "handleNotification" || e.Subject != "8.10.1" {
		t.Fatalf("got %v, want an *es9.Error 8.10.1", err)
	}
}

// blockingHandler answers only when the request's context ends or release
// is closed.
func blockingHandler(release <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // lets the server notice a closed connection
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
}

func TestES9ClientContext(t *testing.T) {
	p := newTestPKI(t)
	t.Run("per-request timeout", func(t *testing.T) {
		release := make(chan struct{})
		addr := startTLS(t, p, blockingHandler(release))
		t.Cleanup(func() { close(release) })
		c := newTestES9(t, p, 50*time.Millisecond)
		_, err := c.InitiateAuthentication(context.Background(), addr, es9.InitiateAuthenticationRequest{})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want DeadlineExceeded", err)
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		release := make(chan struct{})
		started := make(chan struct{})
		addr := startTLS(t, p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(started)
			blockingHandler(release)(w, r)
		}))
		t.Cleanup(func() { close(release) })
		c := newTestES9(t, p, 0)
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-started
			cancel()
		}()
		err := c.CancelSession(ctx, addr, es9.CancelSessionRequest{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want Canceled", err)
		}
		var te *TransportError
		if !errors.As(err, &te) || te.Function != "cancelSession" {
			t.Errorf("got %#v, want a TransportError for cancelSession", err)
		}
	})
}

func TestES9ClientTLS(t *testing.T) {
	p := newTestPKI(t)
	addr := startTLS(t, p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("request reached a server the client must not trust")
	}))
	t.Run("system roots only", func(t *testing.T) {
		c, err := NewES9Client(ES9Options{})
		if err != nil {
			t.Fatal(err)
		}
		err = c.CancelSession(context.Background(), addr, es9.CancelSessionRequest{})
		var ua x509.UnknownAuthorityError
		if !errors.As(err, &ua) {
			t.Fatalf("got %v, want x509.UnknownAuthorityError", err)
		}
		if !strings.Contains(err.Error(), "TrustPool") {
			t.Errorf("error %q gives no hint", err)
		}
	})
	t.Run("another CI", func(t *testing.T) {
		other := newTestPKI(t)
		c := newTestES9(t, other, 0)
		err := c.CancelSession(context.Background(), addr, es9.CancelSessionRequest{})
		var ua x509.UnknownAuthorityError
		if !errors.As(err, &ua) {
			t.Fatalf("got %v, want x509.UnknownAuthorityError", err)
		}
	})
	t.Run("insecure HTTP client refused", func(t *testing.T) {
		tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // the test checks that it is refused
		_, err := NewES9Client(ES9Options{HTTPClient: &http.Client{Transport: tr}})
		if !errors.Is(err, ErrInsecureTLS) {
			t.Fatalf("got %v, want ErrInsecureTLS", err)
		}
	})
	t.Run("TrustPool rejects nil", func(t *testing.T) {
		if _, err := TrustPool(nil); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestES9ClientAddress(t *testing.T) {
	p := newTestPKI(t)
	hits := 0
	addr := startTLS(t, p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		writeJSON(w, es9.CancelSessionResponse{Header: es9.Success()})
	}))
	c := newTestES9(t, p, 0)
	for _, good := range []string{addr, " " + addr + " ", "https://" + addr, "HTTPS://" + addr + "/"} {
		if err := c.CancelSession(context.Background(), good, es9.CancelSessionRequest{}); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
	for _, bad := range []string{"", "http://" + addr, addr + "/evil", "user@" + addr, "a b"} {
		err := c.CancelSession(context.Background(), bad, es9.CancelSessionRequest{})
		if !errors.Is(err, ErrBadAddress) {
			t.Errorf("%q: got %v, want ErrBadAddress", bad, err)
		}
	}
	if hits != 4 {
		t.Errorf("server hit %d times, want 4", hits)
	}
}
