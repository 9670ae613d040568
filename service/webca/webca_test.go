package webca

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

func TestServerAndClientCertificatesOverRealTLS(t *testing.T) {
	ca, err := New("test web CA", nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := New("other CA", nil)
	if err != nil {
		t.Fatal(err)
	}
	srvCert, err := ca.ServerCert("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "no client certificate", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: ca.Pool()}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()

	good, err := ca.ClientCert(pkix.Name{CommonName: "partners.example"}, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	expired, err := ca.ClientCert(pkix.Name{CommonName: "old"}, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.ClientCert(pkix.Name{CommonName: "foreign"}, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		roots   *x509.CertPool
		certs   []tls.Certificate
		want    string
		wantErr bool
	}{
		{"trusted client cert", ca.Pool(), []tls.Certificate{good}, "partners.example", false},
		{"no client cert", ca.Pool(), nil, "no client certificate\n", false},
		{"expired client cert", ca.Pool(), []tls.Certificate{expired}, "", true},
		// The client only offers a certificate the server's CA list accepts,
		// so a foreign one is never sent.
		{"client cert of another CA", ca.Pool(), []tls.Certificate{foreign}, "no client certificate\n", false},
		{"server not trusted", other.Pool(), []tls.Certificate{good}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: tt.roots, Certificates: tt.certs}}}
			resp, err := c.Get(srv.URL)
			if tt.wantErr {
				if err == nil {
					resp.Body.Close()
					t.Fatal("request succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if string(b) != tt.want {
				t.Errorf("got %q, want %q", b, tt.want)
			}
		})
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir, nil); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load of an empty dir: %v", err)
	}
	a, err := LoadOrNew(dir, "ca", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrNew(dir, "ca", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Cert.Equal(b.Cert) || !a.Key.Equal(b.Key) {
		t.Fatal("reloaded CA differs")
	}
	st, err := os.Stat(dir + "/" + keyFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st.Mode(), err)
	}
	if err := os.WriteFile(dir+"/"+keyFile, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir, nil); err == nil {
		t.Fatal("corrupt key accepted")
	}
}

func TestServerCertNeedsHost(t *testing.T) {
	ca, err := New("ca", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.ServerCert(); err == nil {
		t.Fatal("no hosts accepted")
	}
}
