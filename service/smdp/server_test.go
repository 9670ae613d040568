package smdp

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/pki"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/saip"
)

func TestFaults(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.newCard()
	refused := es9.StatusMatchingIDRefused()

	// A status for one call only.
	e.faults.Set(FuncInitiateAuthentication, Fault{Status: &refused, Count: 1})
	_, err := e.initiate(ctx, c, testHost)
	wantStatus(t, err, refused)
	if _, err := e.initiate(ctx, c, testHost); err != nil {
		t.Fatalf("second call: %v", err)
	}

	// HTTP 503 until cleared.
	e.faults.Set(FuncInitiateAuthentication, Fault{HTTPStatus: http.StatusServiceUnavailable})
	for range 2 {
		if _, err := e.initiate(ctx, c, testHost); err == nil || !strings.Contains(err.Error(), "HTTP 503") {
			t.Fatalf("error %v, want HTTP 503", err)
		}
	}
	e.faults.Clear(FuncInitiateAuthentication)
	if _, err := e.initiate(ctx, c, testHost); err != nil {
		t.Fatal(err)
	}

	// Dropped connection.
	e.faults.Set(FuncInitiateAuthentication, Fault{Drop: true, Count: 1})
	if _, err := e.initiate(ctx, c, testHost); err == nil || errors.Is(err, refused.Err()) {
		t.Fatalf("error %v, want a transport error", err)
	}

	// A delay longer than the client waits: the client gives up, the
	// server is not blocked.
	e.faults.Set(FuncInitiateAuthentication, Fault{Delay: time.Hour, Count: 1})
	dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = e.initiate(dctx, c, testHost)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the client's deadline", err)
	}
	// A short delay is waited out.
	e.faults.Set(FuncInitiateAuthentication, Fault{Delay: time.Millisecond, Count: 1})
	if _, err := e.initiate(ctx, c, testHost); err != nil {
		t.Fatal(err)
	}

	// Notifications and ES2+ honour faults too; Reset clears all.
	e.faults.Set(FuncHandleNotification, Fault{HTTPStatus: http.StatusInternalServerError})
	if err := e.notify(ctx, []byte{0x30, 0}); err == nil {
		t.Fatal("notification fault not applied")
	}
	e.faults.Set(FuncDownloadOrder, Fault{Status: &refused})
	_, err = e.operator.DownloadOrder(ctx, DownloadOrderRequest{})
	wantStatus(t, err, refused)
	e.faults.TamperBPPSegment(true)
	e.faults.Reset()
	_, mid := e.order(ctx, "", "", "")
	out, err := e.download(ctx, c, mid, "")
	if err != nil || out.Result.Err() != nil {
		t.Fatalf("after Reset: %v %v", err, out.Result.Err())
	}
}

func TestNilFaults(t *testing.T) {
	var f *Faults
	f.Set(FuncCancelSession, Fault{Drop: true})
	f.TamperBPPSegment(true)
	f.TamperServerSignature1(true)
	f.UntrustedDPauth(true)
	f.Clear(FuncCancelSession)
	f.Reset()
	if got := f.take(FuncCancelSession); got.active() {
		t.Fatalf("nil Faults injected %+v", got)
	}
	if a, b, c := f.flags(); a || b || c {
		t.Fatal("nil Faults has flags")
	}
}

func TestInventory(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.InventorySize = 5 })
	ctx := context.Background()
	ps, err := e.srv.Profiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 5 {
		t.Fatalf("%d profiles, want 5", len(ps))
	}
	seen := map[string]bool{}
	for _, p := range ps {
		if len(p.ICCID) != 20 || !strings.HasPrefix(p.ICCID, DefaultICCIDPrefix) || !luhnValid(p.ICCID) {
			t.Errorf("ICCID %s: want 20 digits with prefix %s and a valid Luhn digit", p.ICCID, DefaultICCIDPrefix)
		}
		if len(p.IMSI) != 15 || !strings.HasPrefix(p.IMSI, "00101") || !allDigits(p.IMSI) {
			t.Errorf("IMSI %s: want 15 digits starting with 00101", p.IMSI)
		}
		if p.SPN != "Contoso Cellular" || p.State != StateAvailable || p.ProfileType != DefaultProfileType {
			t.Errorf("profile %+v", p)
		}
		if seen[p.ICCID] || seen[p.IMSI] {
			t.Errorf("duplicate %s/%s", p.ICCID, p.IMSI)
		}
		seen[p.ICCID], seen[p.IMSI] = true, true
		upp, err := e.srv.db.upp(ctx, p.ICCID)
		if err != nil {
			t.Fatal(err)
		}
		info, err := saip.Parse(upp)
		if err != nil {
			t.Fatalf("%s: %v", p.ICCID, err)
		}
		if string(info.ICCID) != p.ICCID || info.IMSI != p.IMSI || info.SPN != p.SPN || info.ProfileType != "operational" {
			t.Errorf("package of %s: %+v", p.ICCID, info)
		}
	}
	if _, err := e.srv.Profile(ctx, "89001010000000009999"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown profile: %v, want ErrNotFound", err)
	}
}

// TestPersistence: a second start on the same database keeps the
// inventory and the order states, and the migrations run once.
func TestPersistence(t *testing.T) {
	p, err := pki.Generate(pki.Options{SMDPHost: testHost, ExtraTLSHosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "smdp.db")
	ctx := context.Background()
	e := newEnvWithPKI(t, p, func(c *Config) { c.DBPath = path })
	iccid, mid := e.order(ctx, "", "", "")
	before, _ := e.srv.Profiles(ctx)
	e.ts.Close()
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	e2 := newEnvWithPKI(t, p, func(c *Config) { c.DBPath = path; c.InventorySize = 9 })
	after, _ := e2.srv.Profiles(ctx)
	if len(after) != len(before) {
		t.Fatalf("%d profiles after restart, want %d", len(after), len(before))
	}
	if _, err := e2.download(ctx, e2.newCard(), mid, ""); err != nil {
		t.Fatal(err)
	}
	if got := e2.state(iccid); got != StateInstalled {
		t.Fatalf("state %s, want installed", got)
	}
	var v int
	if err := e2.srv.db.db.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v); err != nil || v != len(migrations()) {
		t.Fatalf("schema version %d (%v), want %d", v, err, len(migrations()))
	}
}

func TestLogsRedacted(t *testing.T) {
	const cc = "98765432"
	const mid = "SECRET-MATCHING-ID-42"
	e := newEnv(t)
	ctx := context.Background()
	iccid, _ := e.order(ctx, "", mid, cc)
	c := e.newCard()
	if _, err := e.download(ctx, c, mid, "000"); err == nil {
		t.Fatal("wrong code accepted")
	}
	if _, err := e.download(ctx, c, mid, cc); err != nil {
		t.Fatal(err)
	}
	if got := e.state(iccid); got != StateInstalled {
		t.Fatalf("state %s", got)
	}
	logs := e.logs.String()
	for _, secret := range []string{mid, cc, c.eid} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q", secret)
		}
	}
	if !strings.Contains(logs, "SECR…") {
		t.Error("log lacks the redacted matching ID")
	}
}

func TestListenAndServeTLS(t *testing.T) {
	p, err := pki.Generate(pki.Options{SMDPHost: testHost, ExtraTLSHosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(context.Background(), Config{PKI: p, InventorySize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if srv.Address() != testHost {
		t.Fatalf("default address %q, want the DPtls host %q", srv.Address(), testHost)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := srv.ListenAndServeTLS(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.RootPool(), ServerName: testHost}}}
	c := newCard(t, p, 1, time.Now)
	ch := c.newChallenge()
	body := `{"smdpAddress":"` + testHost + `","euiccChallenge":"` + b64(ch[:]) + `","euiccInfo1":"` + b64(c.info1().Encode()) + `"}`
	res, err := hc.Post("https://"+addr+es9.PathInitiateAuthentication, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	h, err := es9.Decode[es9.InitiateAuthenticationResponse](res.Body, 0)
	res.Body.Close()
	if err != nil || h.Header.Err("") != nil || h.TransactionID == "" {
		t.Fatalf("initiateAuthentication: %v %+v", err, h)
	}
	if ct := res.Header.Get("Content-Type"); ct != es9.ContentType {
		t.Errorf("Content-Type %q", ct)
	}
	if ap := res.Header.Get(es9.HeaderAdminProtocol); !strings.HasPrefix(ap, "gsma/rsp/v2.") {
		t.Errorf("X-Admin-Protocol %q", ap)
	}
	cancel()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	hc.CloseIdleConnections()
	if _, err := hc.Post("https://"+addr+es9.PathInitiateAuthentication, "application/json", strings.NewReader(body)); err == nil {
		t.Fatal("server still answers after Close")
	}
	if _, err := srv.ListenAndServeTLS(context.Background(), "127.0.0.1:0"); err == nil {
		t.Fatal("ListenAndServeTLS after Close succeeded")
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	p, err := pki.Generate(pki.Options{SMDPHost: testHost})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no PKI", Config{}},
		{"bad address", Config{PKI: p, Address: "smdp.example/path"}},
		{"bad port", Config{PKI: p, Address: "smdp.example:99999"}},
		{"bad ICCID prefix", Config{PKI: p, ICCIDPrefix: "89A"}},
		{"bad MCCMNC", Config{PKI: p, MCCMNC: "0010"}},
		{"negative inventory", Config{PKI: p, InventorySize: -1}},
		{"negative TTL", Config{PKI: p, SessionTTL: -time.Second}},
		{"SPN too long for EF.SPN", Config{PKI: p, SPN: "Contoso Cellular Worldwide"}},
		{"database in a missing directory", Config{PKI: p, DBPath: filepath.Join(t.TempDir(), "missing", "x.db")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := New(context.Background(), tt.cfg)
			if err == nil {
				srv.Close()
				t.Fatal("accepted")
			}
		})
	}
}

func TestES9MethodAndBody(t *testing.T) {
	e := newEnv(t)
	res, err := e.lpa.Get(e.ts.URL + es9.PathAuthenticateClient)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: HTTP %d, want 405", res.StatusCode)
	}
	for _, path := range []string{es9.PathInitiateAuthentication, es9.PathAuthenticateClient, es9.PathGetBoundProfilePackage, es9.PathCancelSession} {
		res, err := e.lpa.Post(e.ts.URL+path, "application/json", strings.NewReader(`{"transactionId":`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s malformed: HTTP %d, want 400", path, res.StatusCode)
		}
	}
	// handleNotification answers 204 whatever it gets.
	res, err = e.lpa.Post(e.ts.URL+es9.PathHandleNotification, "application/json", strings.NewReader(`nonsense`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("handleNotification: HTTP %d, want 204", res.StatusCode)
	}
}

func TestCancelSessionBeforeAuthentication(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.newCard()
	s, err := e.initiate(ctx, c, testHost)
	if err != nil {
		t.Fatal(err)
	}
	asr := s.authenticateServer("")
	if asr.Ok == nil {
		t.Fatal(asr.Err())
	}
	// The card's refusal (no session on the card) cannot be verified.
	wantStatus(t, s.postCancel(ctx, rsp.CancelSessionResponse{Error: rsp.CancelSessionInvalidTransactionID}), es9.StatusEUICCSignatureInvalid())
	if err := s.cancel(ctx, rsp.CancelPostponed); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, s.authenticateClient(ctx, asr), es9.StatusTransactionIDUnknown())
}
