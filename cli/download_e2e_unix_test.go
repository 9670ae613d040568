//go:build unix

package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/euicc"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/pki"
	"github.com/mobileplans/mobileplans/modem/sim"
	"github.com/mobileplans/mobileplans/modem/simcard"
	"github.com/mobileplans/mobileplans/service/smdp"
)

// dlRig is the whole download path: the CLI on the real serial driver, the
// simulated modem on a pty with a simulated eUICC certified by a test PKI,
// and the SM-DP+ over real TLS on loopback.
type dlRig struct {
	*rig
	pki    *pki.PKI
	srv    *smdp.Server
	faults *smdp.Faults
	addr   string // SM-DP+ address in activation codes
	ciFile string
	es2    *smdp.ES2Client
	card   *resettableCard
}

// resettableCard lets a test reset the card in the middle of a profile load:
// after armed STORE DATA commands of a load, the card resets before taking
// the next one.
type resettableCard struct {
	simcard.Card
	mu      sync.Mutex
	loading bool
	seen    int
	resetAt atomic.Int32 // 0: never
}

func (c *resettableCard) Transmit(cmd []byte) []byte {
	if len(cmd) >= 4 && cmd[1] == 0xE2 {
		c.mu.Lock()
		if len(cmd) >= 7 && bytes.HasPrefix(cmd[5:], []byte{0xBF, 0x36}) {
			c.loading, c.seen = true, 0
		}
		reset := false
		if c.loading {
			c.seen++
			if n := c.resetAt.Load(); n > 0 && c.seen == int(n) {
				reset = true
				c.loading = false
				c.resetAt.Store(0)
			}
		}
		c.mu.Unlock()
		if reset {
			c.Card.Reset()
		}
	}
	return c.Card.Transmit(cmd)
}

func newDownloadRig(t testing.TB) *dlRig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p, err := pki.Generate(pki.Options{ExtraTLSHosts: testPKIHosts})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	state := filepath.Join(dir, "euicc.json")
	card, err := euicc.Open(state, euicc.Options{Seed: true, Issuer: euicc.PKIIssuer(p)})
	if err != nil {
		t.Fatal(err)
	}
	rc := &resettableCard{Card: simcard.New(card)}
	m := sim.New(rc, sim.Options{})
	dev, err := m.ServePTY(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = m.Wait() })

	bound, err := pickAddress(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(bound)
	addr := net.JoinHostPort("localhost", port)
	faults := &smdp.Faults{}
	srv, err := smdp.New(ctx, smdp.Config{PKI: p, Address: addr, DBPath: filepath.Join(dir, "smdp.db"), Faults: faults, InventorySize: 300})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if _, err := srv.ListenAndServeTLS(ctx, bound); err != nil {
		t.Fatal(err)
	}
	ciFile := filepath.Join(dir, "ci.pem")
	if err := os.WriteFile(ciFile, pki.MarshalCertificate(p.CI.DER), 0o644); err != nil {
		t.Fatal(err)
	}
	opCert, err := smdp.IssueOperatorCertificate(p, "test operator", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.RootPool(), Certificates: []tls.Certificate{opCert}}}}
	r := &rig{t: t, state: state, card: card, modem: m, dev: dev}
	return &dlRig{rig: r, pki: p, srv: srv, faults: faults, addr: addr, ciFile: ciFile,
		es2: smdp.NewES2Client("https://"+addr, hc, ""), card: rc}
}

// order places an ES2+ order (bound to eid when set) and returns its AC.
func (d *dlRig) order(eid, cc string) string {
	d.t.Helper()
	ctx := context.Background()
	dor, err := d.es2.DownloadOrder(ctx, smdp.DownloadOrderRequest{EID: eid})
	if err != nil {
		d.t.Fatal(err)
	}
	cor, err := d.es2.ConfirmOrder(ctx, smdp.ConfirmOrderRequest{ICCID: dor.ICCID, EID: eid, ConfirmationCode: cc, ReleaseFlag: true})
	if err != nil {
		d.t.Fatal(err)
	}
	return lpa.ActivationCode{SMDPAddress: cor.SMDPAddress, MatchingID: cor.MatchingID, ConfirmationCodeRequired: cc != ""}.URI()
}

func (d *dlRig) download(args ...string) (int, string, string) {
	d.t.Helper()
	return d.run(append([]string{"--trust-ci", d.ciFile, "--es9-timeout", "2s", "profile", "download", "--bpp-cache", filepath.Join(d.t.TempDir(), "bpp")}, args...)...)
}

func iccids(ps []profileData) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ICCID)
	}
	slices.Sort(out)
	return out
}

func TestDownloadEndToEnd(t *testing.T) {
	d := newDownloadRig(t)
	before := d.profiles()
	ac := d.order(string(d.rig.card.EID()), "")

	var res downloadData
	d.jsonData(&res, "--trust-ci", d.ciFile, "profile", "download", "--bpp-cache", "none", "-a", ac, "--enable")
	if !res.Enabled || !res.NotificationDelivered || res.ICCID == "" || res.Segments < 2 || res.BPPBytes < 8000 {
		t.Fatalf("download result %+v", res)
	}
	after := d.profiles()
	if len(after) != len(before)+1 || stateOf(after, res.ICCID) != "enabled" {
		t.Fatalf("profiles after download: %+v", after)
	}
	for _, p := range before {
		if stateOf(after, p.ICCID) != "disabled" {
			t.Errorf("profile %s is %s after enabling the new one", p.ICCID, stateOf(after, p.ICCID))
		}
	}
	// The install and enable notifications went to the SM-DP+ and were
	// removed; only the seeded profile's disable notification (whose address
	// is not reachable) is left.
	for _, n := range d.notifications() {
		if n.ICCID == res.ICCID {
			t.Errorf("notification %+v for the new profile still on the card", n)
		}
	}
	// The simulated modem now reports the new profile.
	var info struct {
		ICCID string `json:"iccid"`
	}
	d.jsonData(&info, "modem", "info")
	if info.ICCID != res.ICCID {
		t.Errorf("modem reports ICCID %q, want %s", info.ICCID, res.ICCID)
	}

	// The same activation code again is refused with the SGP.22 reason.
	code, _, errOut := d.download("-a", ac)
	if code != 1 || !strings.Contains(errOut, "8.2.6/3.8") {
		t.Fatalf("second download: exit %d: %s", code, errOut)
	}
	if got := iccids(d.profiles()); !slices.Equal(got, iccids(after)) {
		t.Errorf("refused download changed the profiles: %v", got)
	}
}

// TestDownloadFailuresLeaveNothing runs each failure over the pty path: the
// error is clear, no profile is left behind, and where the order is still
// good a retry succeeds.
func TestDownloadFailuresLeaveNothing(t *testing.T) {
	d := newDownloadRig(t)
	eid := string(d.rig.card.EID())
	otherEID := "89049032123451234512345678901235"
	tests := []struct {
		name    string
		cc      string // order's confirmation code
		eid     string // order's EID
		args    []string
		setup   func()
		want    []string // substrings of the error
		retryOK bool     // a retry of the same AC (faults cleared) succeeds
	}{
		{name: "SM-DP+ certificate from an untrusted CI", setup: func() { d.faults.UntrustedDPauth(true) },
			want: []string{"AuthenticateServer"}, retryOK: true},
		{name: "tampered serverSignature1", setup: func() { d.faults.TamperServerSignature1(true) },
			want: []string{"AuthenticateServer", "invalidSignature"}, retryOK: true},
		{name: "tampered BPP segment", setup: func() { d.faults.TamperBPPSegment(true) },
			want: []string{"LoadBoundProfilePackage", "scp03tSecurityError"}, retryOK: true},
		{name: "wrong confirmation code", cc: "4711", args: []string{"--confirmation-code", "1234"},
			want: []string{"8.2.7/3.8"}},
		{name: "missing confirmation code", cc: "4711",
			want: []string{"confirmation code"}},
		{name: "order for another EID", eid: otherEID,
			want: []string{"8.1.1/3.8"}},
		{name: "SM-DP+ answers 503 mid-flow", setup: func() {
			d.faults.Set(smdp.FuncGetBoundProfilePackage, smdp.Fault{HTTPStatus: http.StatusServiceUnavailable, Count: 1})
		}, want: []string{"getBoundProfilePackage", "503"}, retryOK: true},
		{name: "SM-DP+ times out mid-flow", setup: func() {
			d.faults.Set(smdp.FuncAuthenticateClient, smdp.Fault{Delay: 5 * time.Second, Count: 1})
		}, want: []string{"authenticateClient"}, retryOK: true},
		{name: "SM-DP+ drops the connection", setup: func() {
			d.faults.Set(smdp.FuncGetBoundProfilePackage, smdp.Fault{Drop: true, Count: 1})
		}, want: []string{"getBoundProfilePackage"}, retryOK: true},
		{name: "card reset mid-load", setup: func() { d.card.resetAt.Store(5) },
			want: []string{"LoadBoundProfilePackage"}, retryOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d.rig.t = t
			d.faults.Reset()
			orderEID := eid
			if tt.eid != "" {
				orderEID = tt.eid
			}
			ac := d.order(orderEID, tt.cc)
			before := iccids(d.profiles())
			if tt.setup != nil {
				tt.setup()
			}
			code, out, errOut := d.download(append([]string{"-a", ac}, tt.args...)...)
			d.faults.Reset()
			d.card.resetAt.Store(0)
			if code == 0 {
				t.Fatalf("download succeeded: %s", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("error lacks %q:\n%s", w, errOut)
				}
			}
			if got := iccids(d.profiles()); !slices.Equal(got, before) {
				t.Fatalf("profiles changed by a failed download: %v, was %v", got, before)
			}
			if !tt.retryOK {
				return
			}
			code, out, errOut = d.download("-a", ac)
			if code != 0 {
				t.Fatalf("retry failed: exit %d\n%s\n%s", code, out, errOut)
			}
			if got := d.profiles(); len(got) != len(before)+1 {
				t.Fatalf("retry: %d profiles, want %d", len(got), len(before)+1)
			}
		})
	}
}

func TestDownloadUnreachableSMDP(t *testing.T) {
	d := newDownloadRig(t)
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close() // nobody listens there any more
	before := iccids(d.profiles())
	code, _, errOut := d.download("-a", "LPA:1$localhost:"+port+"$ABCDE-12345")
	if code != 1 || !strings.Contains(errOut, "initiateAuthentication") || !strings.Contains(errOut, "reachable") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got := iccids(d.profiles()); !slices.Equal(got, before) {
		t.Fatalf("profiles changed: %v", got)
	}
}

func TestNotificationProcess(t *testing.T) {
	d := newDownloadRig(t)
	ac := d.order("", "")
	// The SM-DP+ refuses notifications during the download: the install
	// notification stays on the card.
	d.faults.Set(smdp.FuncHandleNotification, smdp.Fault{HTTPStatus: http.StatusInternalServerError})
	var res downloadData
	d.jsonData(&res, "--trust-ci", d.ciFile, "profile", "download", "--bpp-cache", "none", "-a", ac)
	if res.NotificationDelivered {
		t.Fatal("notification reported delivered although the server failed")
	}
	pending := func() []int {
		var seqs []int
		for _, n := range d.notifications() {
			if n.ICCID == res.ICCID {
				seqs = append(seqs, n.Seq)
			}
		}
		return seqs
	}
	seqs := pending()
	if len(seqs) != 1 {
		t.Fatalf("install notification not kept: %v", d.notifications())
	}
	// Still failing: process reports it and keeps it.
	code, _, errOut := d.run("--trust-ci", d.ciFile, "notification", "process", "--all")
	if code != 1 || !strings.Contains(errOut, "not delivered") {
		t.Fatalf("process with a failing server: exit %d %s", code, errOut)
	}
	if len(pending()) != 1 {
		t.Fatal("failed delivery removed the notification")
	}
	// The server is back: delivered, then removed.
	d.faults.Reset()
	var out []notifyData
	d.jsonData(&out, "--trust-ci", d.ciFile, "notification", "process", itoa(seqs[0]))
	if len(out) != 1 || !out[0].Delivered || !out[0].Removed || out[0].Operation != "install" {
		t.Fatalf("process: %+v", out)
	}
	if len(pending()) != 0 {
		t.Fatal("delivered notification still on the card")
	}
}

// BenchmarkDownload measures a whole `profile download` over the pty: ES9+
// over TLS, ES10 over AT+CGLA, with the APDU count and the BPP size.
func BenchmarkDownload(b *testing.B) {
	d := newDownloadRig(b)
	var apdus, bpp int64
	for b.Loop() {
		b.StopTimer()
		ac := d.order("", "")
		b.StartTimer()
		var res downloadData
		d.jsonData(&res, "--trust-ci", d.ciFile, "profile", "download", "--bpp-cache", "none", "-a", ac)
		apdus += res.APDUs
		bpp += int64(res.BPPBytes)
		b.StopTimer()
		// Keep the card from filling up.
		if code, _, errOut := d.run("profile", "delete", res.ICCID); code != 0 {
			b.Fatal(errOut)
		}
		if code, _, errOut := d.run("notification", "remove", "--all"); code != 0 {
			b.Fatal(errOut)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(apdus)/float64(b.N), "apdus/op")
	b.ReportMetric(float64(bpp)/float64(b.N), "bppBytes/op")
}
