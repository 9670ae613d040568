//go:build unix

package stack

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/modem/at"
	"github.com/mobileplans/mobileplans/service/discovery"
	"github.com/mobileplans/mobileplans/service/smdp"
)

// TestStackJourneyAndRestart starts the stack, finds Contoso through the
// discovery service, orders a profile over ES2+, downloads it through the
// simulated modem's pty with the LPA (all TLS verified against the stack's
// CAs), restarts the stack on the same directory and finds everything again.
func TestStackJourneyAndRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	s, err := Start(ctx, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Endpoints()) != 7 {
		t.Errorf("endpoints %+v", s.Endpoints())
	}

	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.WebCA.Pool()}}}
	list, err := discovery.NewClient(s.DiscoveryURL, hc).Operators(ctx, discovery.Query{Country: "US"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(list.Operators, func(o discovery.OperatorSummary) bool { return o.ID == discovery.ContosoID }) {
		t.Fatalf("Contoso not offered: %+v", list)
	}

	// Contoso's entry points at the bundled operator: its portal answers
	// over the web CA, and a balance request goes through the discovery
	// service to the operator's MO API over mutual TLS (which does not
	// know this ICCID: 404 from the MO, passed on).
	resp, err := hc.Get(s.PortalURL + "?eid=89049032123451234512345678901235&imei=490154203237518&location=US&market=US&transactionId=t1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("portal: %s", resp.Status)
	}
	_, err = discovery.NewClient(s.DiscoveryURL, hc).Balance(ctx, "89001010000000099990", "US")
	var apiErr *discovery.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound || apiErr.Code != "sim_not_found" {
		t.Fatalf("balance of an unknown line: %v", err)
	}

	opCert, err := smdp.IssueOperatorCertificate(s.PKI, "stack test operator", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	es2 := smdp.NewES2Client("https://"+s.SMDPAddress, &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: s.PKI.RootPool(), Certificates: []tls.Certificate{opCert}}}}, "")
	dor, err := es2.DownloadOrder(ctx, smdp.DownloadOrderRequest{})
	if err != nil {
		t.Fatal(err)
	}
	cor, err := es2.ConfirmOrder(ctx, smdp.ConfirmOrderRequest{ICCID: dor.ICCID, ReleaseFlag: true})
	if err != nil {
		t.Fatal(err)
	}

	m, err := at.Open(ctx, at.Config{Device: s.ModemPath})
	if err != nil {
		t.Fatal(err)
	}
	c, err := lpa.New(ctx, apdu.Opener(m.OpenChannel), lpa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := lpa.TrustPool(s.PKI.CI.Cert)
	if err != nil {
		t.Fatal(err)
	}
	es9c, err := lpa.NewES9Client(lpa.ES9Options{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Download(ctx, es9c, lpa.ActivationCode{SMDPAddress: cor.SMDPAddress, MatchingID: cor.MatchingID}, lpa.DownloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.ICCID) != dor.ICCID || !res.NotificationDelivered {
		t.Fatalf("download result %+v, ordered %s", res, dor.ICCID)
	}
	c.Close()
	m.Close()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Same directory: same PKI, the profile is still on the eUICC and the
	// SM-DP+ knows it was installed.
	s2, err := Start(ctx, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if !s2.PKI.CI.Cert.Equal(s.PKI.CI.Cert) || !s2.WebCA.Cert.Equal(s.WebCA.Cert) {
		t.Error("restart generated new CAs")
	}
	p, err := s2.SMDP.Profile(ctx, dor.ICCID)
	if err != nil {
		t.Fatal(err)
	}
	if p.State != smdp.StateInstalled {
		t.Errorf("SM-DP+ profile state after restart: %s", p.State)
	}
	m2, err := at.Open(ctx, at.Config{Device: s2.ModemPath})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	c2, err := lpa.New(ctx, apdu.Opener(m2.OpenChannel), lpa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.Profile(ctx, res.ICCID); err != nil {
		t.Errorf("downloaded profile lost across a restart: %v", err)
	}
}

func TestStartNeedsDir(t *testing.T) {
	if _, err := Start(context.Background(), Config{}); err == nil {
		t.Fatal("Start without Dir succeeded")
	}
}
