package operator

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/pki"
	"github.com/mobileplans/mobileplans/service/smdp"
)

// TestES2AgainstSMDP runs the client against the bundled SM-DP+.
func TestES2AgainstSMDP(t *testing.T) {
	const host = "smdp.contoso.test"
	p, err := pki.Generate(pki.Options{SMDPHost: host, ExtraTLSHosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := smdp.New(context.Background(), smdp.Config{PKI: p, Address: host, DBPath: t.TempDir() + "/smdp.db",
		InventorySize: 2, OperatorToken: "op-token"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewUnstartedServer(srv.Handler())
	if ts.TLS, err = srv.TLSConfig(); err != nil {
		t.Fatal(err)
	}
	ts.StartTLS()
	defer ts.Close()
	opCert, err := smdp.IssueOperatorCertificate(p, "Contoso Cellular", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tlsFor := func(certs ...tls.Certificate) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.RootPool(),
			ServerName: host, Certificates: certs}}}
	}
	mtls, err := NewES2Client(ts.URL, tlsFor(opCert))
	if err != nil {
		t.Fatal(err)
	}
	bearer, err := NewES2Client(ts.URL, tlsFor(), ES2BearerToken("op-token"))
	if err != nil {
		t.Fatal(err)
	}
	anon, err := NewES2Client(ts.URL, tlsFor())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	if _, err := anon.Order(ctx, OrderRequest{EID: testEID}); !errors.Is(err, ErrES2Unauthorized) {
		t.Fatalf("order without credentials: %v", err)
	}
	o1, err := mtls.Order(ctx, OrderRequest{EID: testEID, PlanID: "prepaid-5gb"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(o1.ActivationCode, "1$"+host+"$") || o1.SMDPAddress != host || !validActivationCode(o1.ActivationCode) {
		t.Errorf("order %+v", o1)
	}
	o2, err := bearer.Order(ctx, OrderRequest{PlanID: "unlimited"})
	if err != nil {
		t.Fatal(err)
	}
	if o2.ICCID == o1.ICCID || o2.MatchingID == o1.MatchingID {
		t.Errorf("two orders share a profile: %+v %+v", o1, o2)
	}
	if _, err := mtls.Order(ctx, OrderRequest{}); !errors.Is(err, ErrNoProfileAvailable) {
		t.Errorf("order from an empty inventory: %v", err)
	}
	if err := mtls.Cancel(ctx, o1.ICCID); err != nil {
		t.Fatal(err)
	}
	o3, err := bearer.Order(ctx, OrderRequest{EID: testEID})
	if err != nil {
		t.Fatalf("order after a cancel: %v", err)
	}
	if o3.ICCID != o1.ICCID || o3.MatchingID == o1.MatchingID {
		t.Errorf("the cancelled profile was not reissued with a new matching ID: %+v after %+v", o3, o1)
	}
	var e *ES2Error
	if err := mtls.Cancel(ctx, "8988247000100003319"); !errors.As(err, &e) || e.SubjectCode != "8.2.1" {
		t.Errorf("cancel of an unknown profile: %v", err)
	}
}
