package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/euicc"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/pki"
	"github.com/mobileplans/mobileplans/modem/backend"
	"github.com/mobileplans/mobileplans/modem/mm"
	"github.com/mobileplans/mobileplans/modem/mm/mmtest"
	"github.com/mobileplans/mobileplans/modem/simcard"
	"github.com/mobileplans/mobileplans/service/smdp"
)

// mmRig is the real ModemManager (mmtest) managing the simulated modem
// with a PKI-certified simulated eUICC, and the CLI reaching it with
// --modem mm:IMEI on the harness's private bus.
type mmRig struct {
	t    *testing.T
	ctx  context.Context
	env  *mmtest.Env
	card *euicc.Card
	pki  *pki.PKI
}

func newMMRig(t *testing.T) *mmRig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	p, err := pki.Generate(pki.Options{ExtraTLSHosts: testPKIHosts})
	if err != nil {
		t.Fatal(err)
	}
	card, err := euicc.Open(filepath.Join(t.TempDir(), "euicc.json"), euicc.Options{Seed: true, Issuer: euicc.PKIIssuer(p)})
	if err != nil {
		t.Fatal(err)
	}
	env := mmtest.New(t, mmtest.Options{Card: simcard.New(card)})
	return &mmRig{t: t, ctx: ctx, env: env, card: card, pki: p}
}

// bus runs the CLI on the harness's bus without choosing a modem.
func (r *mmRig) bus(args ...string) (int, string, string) {
	r.t.Helper()
	return runCLI(r.t, append([]string{"--dbus-address", r.env.Addr}, args...)...)
}

// run runs the CLI with --modem mm:IMEI.
func (r *mmRig) run(args ...string) (int, string, string) {
	r.t.Helper()
	return r.bus(append([]string{"--modem", "mm:" + r.env.IMEI}, args...)...)
}

// ok runs a command that must succeed and returns its stdout.
func (r *mmRig) ok(args ...string) string {
	r.t.Helper()
	code, out, errOut := r.run(args...)
	if code != 0 {
		r.t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
	}
	return out
}

// json runs a --json command that must succeed and decodes payload.data
// into v.
func (r *mmRig) json(v any, args ...string) {
	r.t.Helper()
	mmDecode(r.t, r.ok(append([]string{"--json"}, args...)...), v)
}

// mmDecode decodes the data of the last JSON envelope of out.
func mmDecode(t *testing.T, out string, v any) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var env struct {
		Type    string `json:"type"`
		Payload struct {
			Code    int             `json:"code"`
			Message string          `json:"message"`
			Data    json.RawMessage `json:"data"`
		} `json:"payload"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &env); err != nil {
		t.Fatalf("output does not end in a JSON envelope: %v\n%s", err, out)
	}
	if env.Type != "lpa" || env.Payload.Code != 0 || env.Payload.Message != "success" {
		t.Fatalf("envelope %+v", env)
	}
	if err := json.Unmarshal(env.Payload.Data, v); err != nil {
		t.Fatalf("data: %v\n%s", err, env.Payload.Data)
	}
}

// mmSIM is ModemManager's view of the modem's SIM, read over D-Bus.
func (r *mmRig) mmSIM() *mm.SIMInfo {
	r.t.Helper()
	ms, err := mm.List(r.ctx, r.env.Conn(r.t))
	if err != nil {
		r.t.Fatal(err)
	}
	for _, m := range ms {
		if m.IMEI == r.env.IMEI {
			if m.SIM == nil {
				r.t.Fatalf("ModemManager's modem has no SIM: %+v", m)
			}
			return m.SIM
		}
	}
	r.t.Fatalf("ModemManager does not export modem %s: %+v", r.env.IMEI, ms)
	return nil
}

func (r *mmRig) profiles() []profileData {
	r.t.Helper()
	var ps []profileData
	r.json(&ps, "profile", "list")
	return ps
}

// TestMMModemListAndInfo: modem list shows ModemManager's modem with the
// simulator's IMEI and (read with --eid) EID; modem info, modem at and
// auto-selection use it.
func TestMMModemListAndInfo(t *testing.T) {
	t.Parallel()
	r := newMMRig(t)
	eid := string(r.card.EID())

	code, out, errOut := r.bus("--json", "modem", "list", "--eid")
	if code != 0 {
		t.Fatalf("modem list: exit %d: %s%s", code, out, errOut)
	}
	var cs []backend.Candidate
	mmDecode(t, out, &cs)
	i := slices.IndexFunc(cs, func(c backend.Candidate) bool { return c.Backend == backend.KindMM && c.IMEI == r.env.IMEI })
	if i < 0 {
		t.Fatalf("modem list: no ModemManager modem with IMEI %s: %+v", r.env.IMEI, cs)
	}
	if c := cs[i]; i != 0 || c.Spec != "mm:"+r.env.IMEI || c.EID != eid || c.ICCID == "" || c.Error != "" {
		t.Errorf("modem list entry %d: %+v (want first, EID %s)", i, c, eid)
	}
	code, out, _ = r.bus("modem", "list")
	if code != 0 || !strings.Contains(out, "mm:"+r.env.IMEI) || !strings.Contains(out, "BACKEND") {
		t.Errorf("modem list (table): exit %d\n%s", code, out)
	}

	var info struct {
		Backend string `json:"backend"`
		Spec    string `json:"spec"`
		IMEI    string `json:"imei"`
		ICCID   string `json:"iccid"`
		Reg     struct {
			State string `json:"state"`
		} `json:"registration"`
	}
	r.json(&info, "modem", "info")
	if info.Backend != "mm" || info.Spec != "mm:"+r.env.IMEI || info.IMEI != r.env.IMEI || info.ICCID != r.mmSIM().ICCID {
		t.Errorf("modem info %+v", info)
	}
	out = r.ok("modem", "info")
	if !strings.Contains(out, "Backend:       mm (ModemManager) (mm:"+r.env.IMEI+", ModemManager /org/freedesktop/ModemManager1/Modem/") {
		t.Errorf("modem info:\n%s", out)
	}
	if out := r.ok("modem", "at", "AT+CGSN"); !strings.Contains(out, r.env.IMEI+"\nOK\n") {
		t.Errorf("modem at AT+CGSN:\n%s", out)
	}

	// Without --modem, auto-selection takes ModemManager's modem.
	code, out, errOut = r.bus("--json", "modem", "info")
	if code != 0 {
		t.Fatalf("auto: exit %d: %s%s", code, out, errOut)
	}
	mmDecode(t, out, &info)
	if info.Backend != "mm" || info.IMEI != r.env.IMEI {
		t.Errorf("auto-selected %+v", info)
	}

	// Wrong choices are clear.
	code, _, errOut = r.bus("--modem", "mm:356938035643809", "chip", "info")
	if code != 1 || !strings.Contains(errOut, "no modem with IMEI 356938035643809") || !strings.Contains(errOut, "modem list") {
		t.Errorf("unknown IMEI: exit %d: %s", code, errOut)
	}
	code, _, errOut = r.bus("--modem", "mm", "--device", "/dev/ttyUSB2", "chip", "info")
	if code != 2 || !strings.Contains(errOut, "exclude each other") {
		t.Errorf("--modem with --device: exit %d: %s", code, errOut)
	}
	code, _, errOut = r.bus("--modem", "qmi:/dev/cdc-wdm0", "chip", "info")
	if code != 2 || !strings.Contains(errOut, "unknown backend") {
		t.Errorf("bad --modem: exit %d: %s", code, errOut)
	}
}

// TestMMProfileManagement manages the profiles through ModemManager:
// chip info, profile list, enable (after which ModemManager's SIM object
// has the new ICCID), nickname, notifications, delete.
func TestMMProfileManagement(t *testing.T) {
	t.Parallel()
	r := newMMRig(t)

	var chip chipInfoData
	r.json(&chip, "chip", "info")
	if chip.EID != string(r.card.EID()) {
		t.Errorf("chip info EID %s, card has %s", chip.EID, r.card.EID())
	}

	ps := r.profiles()
	if len(ps) != 2 {
		t.Fatalf("profiles %+v", ps)
	}
	enabled, other := enabledAndOther(ps)
	if enabled == "" || other == "" || r.mmSIM().ICCID != enabled {
		t.Fatalf("profiles %+v, ModemManager's SIM %+v", ps, r.mmSIM())
	}

	if out := r.ok("profile", "enable", other); !strings.Contains(out, "profile "+other+" enabled") {
		t.Errorf("profile enable: %s", out)
	}
	if got := r.mmSIM().ICCID; got != other {
		t.Fatalf("ModemManager's SIM has ICCID %s after enabling %s", got, other)
	}
	ps = r.profiles()
	if stateOf(ps, other) != "enabled" || stateOf(ps, enabled) != "disabled" {
		t.Fatalf("profiles after enable: %+v", ps)
	}
	var info struct {
		ICCID string `json:"iccid"`
	}
	r.json(&info, "modem", "info")
	if info.ICCID != other {
		t.Errorf("modem info ICCID %s, want %s", info.ICCID, other)
	}

	r.ok("profile", "nickname", enabled, "work")
	for _, p := range r.profiles() {
		if p.ICCID == enabled && (p.Nickname == nil || *p.Nickname != "work") {
			t.Errorf("nickname not set: %+v", p)
		}
	}

	var ns []notificationData
	r.json(&ns, "notification", "list")
	if len(ns) == 0 {
		t.Fatal("no notifications after a profile switch")
	}
	r.ok("notification", "remove", itoa(ns[0].Seq))
	var after []notificationData
	r.json(&after, "notification", "list")
	if len(after) != len(ns)-1 {
		t.Errorf("notifications after removing #%d: %+v (before %+v)", ns[0].Seq, after, ns)
	}

	r.ok("profile", "delete", enabled)
	if ps := r.profiles(); len(ps) != 1 || ps[0].ICCID != other {
		t.Errorf("profiles after delete: %+v", ps)
	}
}

// TestMMDownload downloads a profile from the SM-DP+ (real TLS on
// loopback) through ModemManager with --enable: ModemManager's SIM object
// then has the new ICCID, and the notifications went to the SM-DP+.
func TestMMDownload(t *testing.T) {
	t.Parallel()
	r := newMMRig(t)
	dir := t.TempDir()
	bound, err := pickAddress(r.ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(bound)
	addr := net.JoinHostPort("localhost", port)
	srv, err := smdp.New(r.ctx, smdp.Config{PKI: r.pki, Address: addr, DBPath: filepath.Join(dir, "smdp.db"), InventorySize: 5,
		// A small profile: every APDU through Modem.Command is slow.
		ProfileFiller: 512})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if _, err := srv.ListenAndServeTLS(r.ctx, bound); err != nil {
		t.Fatal(err)
	}
	ciFile := filepath.Join(dir, "ci.pem")
	if err := os.WriteFile(ciFile, pki.MarshalCertificate(r.pki.CI.DER), 0o644); err != nil {
		t.Fatal(err)
	}
	opCert, err := smdp.IssueOperatorCertificate(r.pki, "test operator", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	es2 := smdp.NewES2Client("https://"+addr, &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: r.pki.RootPool(), Certificates: []tls.Certificate{opCert}}}}, "")
	eid := string(r.card.EID())
	dor, err := es2.DownloadOrder(r.ctx, smdp.DownloadOrderRequest{EID: eid})
	if err != nil {
		t.Fatal(err)
	}
	cor, err := es2.ConfirmOrder(r.ctx, smdp.ConfirmOrderRequest{ICCID: dor.ICCID, EID: eid, ReleaseFlag: true})
	if err != nil {
		t.Fatal(err)
	}
	ac := lpa.ActivationCode{SMDPAddress: cor.SMDPAddress, MatchingID: cor.MatchingID}.URI()

	start := time.Now()
	var res downloadData
	r.json(&res, "--trust-ci", ciFile, "profile", "download", "--bpp-cache", "none", "-a", ac, "--enable")
	t.Logf("download and enable through ModemManager: %v", time.Since(start).Round(time.Millisecond))
	if res.ICCID != dor.ICCID || !res.Enabled || !res.NotificationDelivered {
		t.Fatalf("download result %+v (ordered %s)", res, dor.ICCID)
	}
	if got := r.mmSIM(); got.ICCID != dor.ICCID {
		t.Fatalf("ModemManager's SIM after the download: %+v, want ICCID %s", got, dor.ICCID)
	}
	if st := stateOf(r.profiles(), dor.ICCID); st != "enabled" {
		t.Errorf("downloaded profile is %s", st)
	}
	var ns []notificationData
	r.json(&ns, "notification", "list")
	for _, n := range ns {
		if n.ICCID == dor.ICCID {
			t.Errorf("notification %+v for the new profile still on the card", n)
		}
	}
	p, err := srv.Profile(r.ctx, dor.ICCID)
	if err != nil {
		t.Fatal(err)
	}
	if p.State != smdp.StateInstalled {
		t.Errorf("SM-DP+ state %s", p.State)
	}
}
