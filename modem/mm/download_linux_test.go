package mm_test

import (
	"crypto/tls"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/euicc"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/pki"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/modem/mm"
	"github.com/mobileplans/mobileplans/modem/mm/mmtest"
	"github.com/mobileplans/mobileplans/modem/simcard"
	"github.com/mobileplans/mobileplans/service/smdp"
)

// freeAddress picks a loopback port for the SM-DP+, whose address must be
// known before it starts (it goes into the activation codes).
func freeAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestDownloadOverModemManager downloads a profile from the SM-DP+ (real
// TLS on loopback) into the simulated eUICC with the LPA talking through
// ModemManager, enables it, and follows ModemManager to the new ICCID and
// network: once through Modem.Command (ModemManager with --debug) and once
// through the inhibited device's AT port (without --debug).
func TestDownloadOverModemManager(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name    string
		noDebug bool
	}{{"command", false}, {"inhibit", true}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			testDownload(t, mode.noDebug)
		})
	}
}

func testDownload(t *testing.T, noDebug bool) {
	ctx := testCtx(t, 120*time.Second)
	p, err := pki.Generate(pki.Options{ExtraTLSHosts: []string{"localhost", "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	card, err := euicc.Open(filepath.Join(dir, "euicc.json"), euicc.Options{Seed: true, Issuer: euicc.PKIIssuer(p)})
	if err != nil {
		t.Fatal(err)
	}
	env := mmtest.New(t, mmtest.Options{Card: simcard.New(card), NoDebug: noDebug})

	bound := freeAddress(t)
	_, port, _ := net.SplitHostPort(bound)
	addr := net.JoinHostPort("localhost", port)
	const plmn = "00103"
	srv, err := smdp.New(ctx, smdp.Config{PKI: p, Address: addr, DBPath: filepath.Join(dir, "smdp.db"),
		InventorySize: 5, MCCMNC: plmn, ProfileFiller: 512})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if _, err := srv.ListenAndServeTLS(ctx, bound); err != nil {
		t.Fatal(err)
	}
	opCert, err := smdp.IssueOperatorCertificate(p, "test operator", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: p.RootPool(), Certificates: []tls.Certificate{opCert}}}}
	es2 := smdp.NewES2Client("https://"+addr, hc, "")
	eid := string(card.EID())
	order, err := es2.DownloadOrder(ctx, smdp.DownloadOrderRequest{EID: eid})
	if err != nil {
		t.Fatal(err)
	}
	conf, err := es2.ConfirmOrder(ctx, smdp.ConfirmOrderRequest{ICCID: order.ICCID, EID: eid, ReleaseFlag: true})
	if err != nil {
		t.Fatal(err)
	}
	ac := lpa.ActivationCode{SMDPAddress: conf.SMDPAddress, MatchingID: conf.MatchingID}

	m := openModem(t, ctx, env, mm.Options{AT: atConfig()})
	c := newLPA(t, ctx, m)
	es9, err := lpa.NewES9Client(lpa.ES9Options{RootCAs: p.RootPool(), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cmds := env.CommandCount()
	start := time.Now()
	res, err := c.Download(ctx, es9, ac, lpa.DownloadOptions{})
	took := time.Since(start)
	if err != nil {
		t.Fatalf("Download over ModemManager: %v", err)
	}
	if string(res.ICCID) != order.ICCID || !res.NotificationDelivered {
		t.Errorf("downloaded %s (ordered %s), notification delivered %t: %v", res.ICCID, order.ICCID, res.NotificationDelivered, res.NotificationErr)
	}
	// Each APDU is one AT+CGLA line on either path: what the download
	// costs over Modem.Command is the length of those lines, which
	// ModemManager writes one byte at a time (see the package doc).
	n, chars := cglaLines(env.SIM.Commands()[cmds:])
	if int64(n) != res.APDUs {
		t.Errorf("%d APDUs reached the modem as %d AT+CGLA lines", res.APDUs, n)
	}
	t.Logf("download: BPP %d bytes in %d segments, %d APDUs, %d characters of AT+CGLA, %v (%v per character)",
		res.BPPBytes, res.Segments, res.APDUs, chars, took.Round(time.Millisecond), (took / time.Duration(max(chars, 1))).Round(time.Microsecond))

	if err := c.Enable(ctx, rsp.ProfileID{ICCID: res.ICCID}, true); err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := m.WaitReady(ctx, string(res.ICCID))
	if err != nil {
		t.Fatal(err)
	}
	if info.SIM.OperatorCode != plmn || info.OperatorCode != plmn {
		t.Errorf("after enabling the downloaded profile: SIM operator %q, registered on %q", info.SIM.OperatorCode, info.OperatorCode)
	}
}
