package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestTLS(t *testing.T) {
	// Real time: the TLS stack verifies against the wall clock.
	o := testOptions()
	o.Now = nil
	p, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := p.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]

	tests := []struct {
		name       string
		url        string
		serverName string
		pool       *x509.CertPool
		ok         bool
	}{
		{"IP SAN", "https://127.0.0.1:" + port, "", p.RootPool(), true},
		{"localhost SAN", "https://localhost:" + port, "", p.RootPool(), true},
		{"SM-DP+ host", "https://127.0.0.1:" + port, "smdp.mobileplans.test", p.RootPool(), true},
		{"host not in SAN", "https://127.0.0.1:" + port, "other.example", p.RootPool(), false},
		{"empty pool", "https://127.0.0.1:" + port, "", x509.NewCertPool(), false},
		{"other CI", "https://127.0.0.1:" + port, "", newTestPKI(t).RootPool(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: tt.pool, ServerName: tt.serverName, MinVersion: tls.VersionTLS12}}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			resp, err := client.Get(tt.url)
			if !tt.ok {
				if err == nil {
					resp.Body.Close()
					t.Fatal("request succeeded")
				}
				var ua x509.UnknownAuthorityError
				var hn x509.HostnameError
				if !errors.As(err, &ua) && !errors.As(err, &hn) {
					t.Fatalf("error is not a certificate error: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil || string(b) != "ok" {
				t.Fatalf("body %q, %v", b, err)
			}
			if len(resp.TLS.PeerCertificates) == 0 || !resp.TLS.PeerCertificates[0].Equal(p.DPtls.Cert) {
				t.Fatal("server did not present DPtls")
			}
		})
	}
}

func TestTLSCertificateNoKey(t *testing.T) {
	p := newTestPKI(t)
	q := *p
	dptls := *p.DPtls
	dptls.Key = nil
	q.DPtls = &dptls
	if _, err := q.TLSCertificate(); !errors.Is(err, ErrNoKey) {
		t.Fatalf("got %v, want ErrNoKey", err)
	}
}
