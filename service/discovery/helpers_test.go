package discovery

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/service/webca"
)

// newTestService starts a seeded service on a fresh database in t's
// temporary directory.
func newTestService(t testing.TB, cfg Config) *Service {
	t.Helper()
	if cfg.DBPath == "" {
		cfg.DBPath = filepath.Join(t.TempDir(), "catalog.db")
	}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// serve sends one GET to h from remoteAddr.
func serve(h http.Handler, target, remoteAddr string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if remoteAddr != "" {
		req.RemoteAddr = remoteAddr
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func decodeBody[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %T from %q: %v", v, rec.Body.String(), err)
	}
	return v
}

// wantError checks an error answer's status, code and (if not empty) param.
func wantError(t testing.TB, rec *httptest.ResponseRecorder, status int, code, param string) errorBody {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	b := decodeBody[errorBody](t, rec)
	if b.Error.Code != code {
		t.Errorf("code %q, want %q (message %q)", b.Error.Code, code, b.Error.Message)
	}
	if b.Error.Message == "" {
		t.Error("empty message")
	}
	if param != "" && b.Error.Param != param {
		t.Errorf("param %q, want %q", b.Error.Param, param)
	}
	return b
}

// mpsSubject is the client certificate subject the docs give for the
// Mobile Plans Service (mobile-plans.md 4.1).
var mpsSubject = pkix.Name{
	Country: []string{"US"}, Province: []string{"WA"}, Locality: []string{"Redmond"},
	Organization: []string{"Microsoft Corporation"}, CommonName: "partners.datamart.windows.com",
}

// testPKI is a web CA with a client certificate for the service.
type testPKI struct {
	ca     *webca.CA
	client tls.Certificate
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	ca, err := webca.New("discovery test CA", nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ClientCert(mpsSubject, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return &testPKI{ca: ca, client: cert}
}

// clientTLS is the service's MO client configuration.
func (p *testPKI) clientTLS() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.client}, RootCAs: p.ca.Pool()}
}

// moRequest is what the mock MO API saw.
type moRequest struct {
	Path, Query, TransactionID, ClientCN string
}

// mockMO is an MO Web API over TLS that requires a client certificate of
// the CA and records every request.
type mockMO struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []moRequest
	handler http.HandlerFunc
	release chan struct{}
}

func startMockMO(t testing.TB, ca *webca.CA, serverCA *webca.CA) *mockMO {
	t.Helper()
	if serverCA == nil {
		serverCA = ca
	}
	m := &mockMO{release: make(chan struct{})}
	cert, err := serverCA.ServerCert("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	m.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var cn string
		if len(r.TLS.PeerCertificates) > 0 {
			cn = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		m.mu.Lock()
		m.reqs = append(m.reqs, moRequest{Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
			TransactionID: r.Header.Get(TransactionHeader), ClientCN: cn})
		h := m.handler
		m.mu.Unlock()
		w.Header().Set(TransactionHeader, r.Header.Get(TransactionHeader))
		h(w, r)
	}))
	m.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool()}
	m.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	m.srv.StartTLS()
	t.Cleanup(m.srv.Close)
	t.Cleanup(func() { close(m.release) }) // runs before srv.Close
	return m
}

func (m *mockMO) set(h http.HandlerFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.handler = h
	m.reqs = nil
}

func (m *mockMO) requests() []moRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]moRequest(nil), m.reqs...)
}

// hang blocks until the caller gives up or the test ends, and never
// answers: returning would send an empty 200, which a client whose
// deadline is just passing can still read (an "unusable answer" instead
// of the timeout the test expects, about 1 run in 50 under -race).
func (m *mockMO) hang(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-m.release:
	}
	panic(http.ErrAbortHandler) // close the connection without a response
}

// jsonAnswer answers with a status and a body.
func jsonAnswer(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// contosoAt points the seeded Contoso at the mock MO.
func contosoAt(m *mockMO) map[string]Override {
	return map[string]Override{ContosoID: {MOBaseURL: m.srv.URL + "/v1", OffersURI: m.srv.URL + "/v1/"}}
}

// Test ICCIDs.
const (
	contosoICCID   = "8944476500001234567" // ContosoICCIDPrefix
	smdpICCID      = "89001012012341234012"
	fabrikamICCID  = "8944250000000000017"
	northwindICCID = "8949262000000000011"
	unknownICCID   = "8933000000000000001"
)
