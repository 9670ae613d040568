package smdp

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/pki"
)

func TestES2Authentication(t *testing.T) {
	const token = "s3cret-operator-token"
	e := newEnv(t, func(c *Config) { c.OperatorToken = token })
	ctx := context.Background()
	noCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.pki.RootPool(), ServerName: testHost}}}
	withCert := func(c tls.Certificate) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: e.pki.RootPool(), ServerName: testHost, Certificates: []tls.Certificate{c}}}}
	}
	// A certificate under the CI without extended key usage: TLS accepts
	// it, the ES2+ check wants clientAuth explicitly.
	noEKU := issueClientCert(t, e.pki.CI, nil)
	// An operator certificate from a CA the SM-DP+ does not trust fails
	// the TLS handshake already.
	foreign := newEnv(t)
	foreignCert, err := IssueOperatorCertificate(foreign.pki, "intruder", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		client    *ES2Client
		ok        bool
		transport bool // refused in the TLS handshake
	}{
		{"nothing", NewES2Client(e.ts.URL, noCert, ""), false, false},
		{"wrong token", NewES2Client(e.ts.URL, noCert, "guess"), false, false},
		{"certificate without clientAuth", NewES2Client(e.ts.URL, withCert(noEKU), ""), false, false},
		{"certificate of another CA", NewES2Client(e.ts.URL, withCert(foreignCert), ""), false, true},
		{"token", NewES2Client(e.ts.URL, noCert, token), true, false},
		{"operator certificate", e.operator, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.DownloadOrder(ctx, DownloadOrderRequest{})
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if tt.transport {
				var he *HTTPError
				if err == nil || errors.As(err, &he) || errors.Is(err, es9.ErrMalformed) {
					t.Fatalf("error %v, want a TLS failure", err)
				}
				return
			}
			var he *HTTPError
			if !errors.As(err, &he) || he.StatusCode != http.StatusUnauthorized || he.Header == nil {
				t.Fatalf("error %v, want HTTP 401 with a header", err)
			}
			if !errors.Is(he.Header.Err(FuncDownloadOrder), es9.Status{Subject: "8.2.1", Reason: "1.2"}.Err()) {
				t.Fatalf("header %+v, want 8.2.1/1.2", he.Header)
			}
			if msg := he.Error(); !strings.Contains(msg, "HTTP 401") || !strings.Contains(msg, "8.2.1/1.2") {
				t.Fatalf("Error() = %q", msg)
			}
		})
	}
	ps, _ := e.srv.Profiles(ctx)
	allocated := 0
	for _, p := range ps {
		if p.State == StateAllocated {
			allocated++
		}
	}
	if allocated != 2 {
		t.Fatalf("%d profiles allocated, want 2 (only by authenticated callers)", allocated)
	}
}

// TestES2NoTokenConfigured: without OperatorToken no bearer token works.
func TestES2NoTokenConfigured(t *testing.T) {
	e := newEnv(t)
	noCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.pki.RootPool(), ServerName: testHost}}}
	for _, tok := range []string{"", "x"} {
		_, err := NewES2Client(e.ts.URL, noCert, tok).ReleaseProfile(context.Background(), ReleaseProfileRequest{ICCID: "89001010000000000018"})
		var he *HTTPError
		if !errors.As(err, &he) || he.StatusCode != http.StatusUnauthorized {
			t.Fatalf("token %q: %v, want HTTP 401", tok, err)
		}
	}
}

func TestES2OrderLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	op := e.operator
	ps, err := e.srv.Profiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := ps[0].ICCID

	// Order a named profile, then the same again.
	if r, err := op.DownloadOrder(ctx, DownloadOrderRequest{ICCID: first}); err != nil || r.ICCID != first {
		t.Fatalf("downloadOrder: %v %+v", err, r)
	}
	_, err = op.DownloadOrder(ctx, DownloadOrderRequest{ICCID: first})
	wantStatus(t, err, es9.Status{Subject: "8.2.1", Reason: "3.3"})
	_, err = op.DownloadOrder(ctx, DownloadOrderRequest{ICCID: "89001010000000009999"})
	wantStatus(t, err, es9.Status{Subject: "8.2.1", Reason: "3.9"})
	_, err = op.DownloadOrder(ctx, DownloadOrderRequest{ICCID: "12AB"})
	wantStatus(t, err, es9.Status{Subject: "8.2.1", Reason: "2.1"})
	_, err = op.DownloadOrder(ctx, DownloadOrderRequest{EID: "1234"})
	wantStatus(t, err, es9.Status{Subject: "8.1.1", Reason: "2.1"})
	_, err = op.DownloadOrder(ctx, DownloadOrderRequest{ProfileType: "premium"})
	wantStatus(t, err, es9.StatusNoEligibleProfile())
	_, err = op.DownloadOrder(ctx, DownloadOrderRequest{ICCID: ps[1].ICCID, ProfileType: "premium"})
	wantStatus(t, err, es9.Status{Subject: "8.2.5", Reason: "3.10"})

	// Confirm without release: not downloadable until releaseProfile.
	_, err = op.ConfirmOrder(ctx, ConfirmOrderRequest{ICCID: "89001010000000009999", ReleaseFlag: true})
	wantStatus(t, err, es9.Status{Subject: "8.2.1", Reason: "3.9"})
	_, err = op.ConfirmOrder(ctx, ConfirmOrderRequest{ICCID: first, MatchingID: "bad id$"})
	wantStatus(t, err, es9.Status{Subject: "8.2.6", Reason: "2.1"})
	co, err := op.ConfirmOrder(ctx, ConfirmOrderRequest{ICCID: first, MatchingID: "ABC-123"})
	if err != nil {
		t.Fatal(err)
	}
	if co.MatchingID != "ABC-123" || co.SMDPAddress != testHost {
		t.Fatalf("confirmOrder answered %+v", co)
	}
	if got := e.state(first); got != StateConfirmed {
		t.Fatalf("state %s, want confirmed", got)
	}
	_, err = op.ConfirmOrder(ctx, ConfirmOrderRequest{ICCID: first, ReleaseFlag: true})
	wantStatus(t, err, es9.Status{Subject: "8.2.1", Reason: "3.8"})
	c := e.newCard()
	_, err = e.download(ctx, c, "ABC-123", "")
	wantStatus(t, err, es9.StatusMatchingIDRefused())
	// The matching ID is taken.
	if _, err := op.DownloadOrder(ctx, DownloadOrderRequest{ICCID: ps[1].ICCID}); err != nil {
		t.Fatal(err)
	}
	_, err = op.ConfirmOrder(ctx, ConfirmOrderRequest{ICCID: ps[1].ICCID, MatchingID: "ABC-123", ReleaseFlag: true})
	wantStatus(t, err, es9.Status{Subject: "8.2.6", Reason: "3.3"})

	if _, err := op.ReleaseProfile(ctx, ReleaseProfileRequest{ICCID: first}); err != nil {
		t.Fatal(err)
	}
	_, err = op.ReleaseProfile(ctx, ReleaseProfileRequest{ICCID: first})
	wantStatus(t, err, es9.Status{Subject: "8.2.1", Reason: "3.8"})
	// Cancelling with a different matching ID is refused.
	_, err = op.CancelOrder(ctx, CancelOrderRequest{ICCID: first, MatchingID: "OTHER", FinalProfileStatusIndicator: FinalStatusAvailable})
	wantStatus(t, err, es9.Status{Subject: "8.2.6", Reason: "3.10"})
	if _, err := e.download(ctx, c, "ABC-123", ""); err != nil {
		t.Fatal(err)
	}
	// An installed profile cannot be cancelled.
	_, err = op.CancelOrder(ctx, CancelOrderRequest{ICCID: first, FinalProfileStatusIndicator: FinalStatusAvailable})
	wantStatus(t, err, es9.Status{Subject: "8.2.1", Reason: "3.8"})
}

func TestES2CancelOrder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.newCard()
	iccid, mid := e.order(ctx, c.eid, "", "1234")

	// A session in progress ends with the order.
	s, err := e.initiate(ctx, c, testHost)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.authenticateClient(ctx, s.authenticateServer(mid)); err != nil {
		t.Fatal(err)
	}
	_, err = e.operator.CancelOrder(ctx, CancelOrderRequest{ICCID: iccid, EID: e.newCard().eid, FinalProfileStatusIndicator: "Available"})
	wantStatus(t, err, es9.Status{Subject: "8.2.1", Reason: "3.10"})
	_, err = e.operator.CancelOrder(ctx, CancelOrderRequest{ICCID: iccid, FinalProfileStatusIndicator: "Maybe"})
	wantStatus(t, err, es9.Status{Subject: "8.2.1", Reason: "2.1"})
	if _, err := e.operator.CancelOrder(ctx, CancelOrderRequest{ICCID: iccid, EID: c.eid, MatchingID: mid,
		FinalProfileStatusIndicator: FinalStatusAvailable}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, s.getBPP(ctx, s.prepareDownload("1234")), es9.StatusTransactionIDUnknown())
	p, _ := e.srv.Profile(ctx, iccid)
	if p.State != StateAvailable || p.EID != "" || p.MatchingID != "" || p.CCRequired {
		t.Fatalf("after cancel to Available: %+v", p)
	}
	_, err = e.download(ctx, c, mid, "1234")
	wantStatus(t, err, es9.StatusMatchingIDRefused())

	// Unavailable: the profile is out of the inventory.
	iccid2, mid2 := e.order(ctx, "", "", "")
	if _, err := e.operator.CancelOrder(ctx, CancelOrderRequest{ICCID: iccid2, FinalProfileStatusIndicator: FinalStatusUnavailable}); err != nil {
		t.Fatal(err)
	}
	if got := e.state(iccid2); got != StateError {
		t.Fatalf("state %s, want error", got)
	}
	_, err = e.download(ctx, c, mid2, "")
	wantStatus(t, err, es9.StatusMatchingIDRefused())
	_, err = e.operator.DownloadOrder(ctx, DownloadOrderRequest{ICCID: iccid2})
	wantStatus(t, err, es9.Status{Subject: "8.2.1", Reason: "3.3"})
}

func TestES2ConfirmOrderEID(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, b := e.newCard(), e.newCard()
	do, err := e.operator.DownloadOrder(ctx, DownloadOrderRequest{EID: a.eid})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.state(do.ICCID); got != StateLinked {
		t.Fatalf("state %s, want linked", got)
	}
	_, err = e.operator.ConfirmOrder(ctx, ConfirmOrderRequest{ICCID: do.ICCID, EID: b.eid, ReleaseFlag: true})
	wantStatus(t, err, es9.Status{Subject: "8.2.1", Reason: "3.10"})
	// An allocated order gets its EID at confirmation.
	do2, err := e.operator.DownloadOrder(ctx, DownloadOrderRequest{})
	if err != nil {
		t.Fatal(err)
	}
	co, err := e.operator.ConfirmOrder(ctx, ConfirmOrderRequest{ICCID: do2.ICCID + "F", EID: b.eid, ReleaseFlag: true})
	if err != nil {
		t.Fatal(err)
	}
	if co.EID != b.eid {
		t.Fatalf("confirmOrder EID %q, want %q", co.EID, b.eid)
	}
	_, err = e.download(ctx, a, co.MatchingID, "")
	wantStatus(t, err, es9.StatusEIDRefused())
	// Missing releaseFlag.
	raw := `{"iccid":"` + do.ICCID + `"}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.ts.URL+PathConfirmOrder, strings.NewReader(raw))
	hc := e.operatorHTTP()
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	h, err := es9.Decode[headerOnly](res.Body, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, h.Header.Err(FuncConfirmOrder), es9.Status{Subject: "8.2.1", Reason: "2.2"})
}

// issueClientCert issues a certificate under issuer with the given
// extended key usages.
func issueClientCert(t *testing.T, issuer *pki.Entity, eku []x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "no EKU"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  eku,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer.Cert, &key.PublicKey, issuer.Key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// operatorHTTP returns an HTTP client with the operator certificate.
func (e *testEnv) operatorHTTP() *http.Client { return e.operator.hc }

func TestES2Inventory(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.InventorySize = 3 })
	ctx := context.Background()
	for range 3 {
		if _, err := e.operator.DownloadOrder(ctx, DownloadOrderRequest{ProfileType: DefaultProfileType}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.operator.DownloadOrder(ctx, DownloadOrderRequest{})
	wantStatus(t, err, es9.StatusNoEligibleProfile())
}

// TestES2MethodAndBody: only POST, malformed JSON is HTTP 400.
func TestES2MethodAndBody(t *testing.T) {
	e := newEnv(t)
	hc := e.operatorHTTP()
	res, err := hc.Get(e.ts.URL + PathDownloadOrder)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: HTTP %d, want 405", res.StatusCode)
	}
	res, err = hc.Post(e.ts.URL+PathDownloadOrder, "application/json", bytes.NewReader([]byte("{")))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("malformed: HTTP %d, want 400", res.StatusCode)
	}
	big := bytes.Repeat([]byte(" "), 2<<20)
	res, err = hc.Post(e.ts.URL+PathDownloadOrder, "application/json", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized: HTTP %d, want 413", res.StatusCode)
	}
}

func TestIssueOperatorCertificate(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	cert, err := IssueOperatorCertificate(e.pki, "Operator X", now)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Leaf.Subject.CommonName != "Operator X" || !cert.Leaf.NotAfter.After(now) {
		t.Fatalf("certificate %v valid until %v", cert.Leaf.Subject, cert.Leaf.NotAfter)
	}
	noKey := *e.pki
	ci := *noKey.CI
	ci.Key = nil
	noKey.CI = &ci
	if _, err := IssueOperatorCertificate(&noKey, "x", now); err == nil {
		t.Fatal("issued without the CI key")
	}
}
