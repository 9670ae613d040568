package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/esim/euicc"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/modem/backend"
	"github.com/mobileplans/mobileplans/modem/mm"
	"github.com/mobileplans/mobileplans/modem/mm/mmtest"
	"github.com/mobileplans/mobileplans/modem/simcard"
	"github.com/mobileplans/mobileplans/service/discovery"
	"github.com/mobileplans/mobileplans/service/smdp"
	"github.com/mobileplans/mobileplans/service/stack"
	"github.com/mobileplans/mobileplans/ui/portal"
)

// mmPortalHost is the Contoso portal's callback host in this test.
const mmPortalHost = "portal.contoso.test"

// mmEvents records the agent's events.
type mmEvents struct {
	mu     sync.Mutex
	events []app.Event
}

func mmRecord(a *app.Agent) *mmEvents {
	r := &mmEvents{}
	go func() {
		for e := range a.Events() {
			r.mu.Lock()
			r.events = append(r.events, e)
			r.mu.Unlock()
		}
	}()
	return r
}

// states returns the states the journey moved to.
func (r *mmEvents) states() []app.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []app.State
	for _, e := range r.events {
		if sc, ok := e.(app.StateChanged); ok {
			out = append(out, sc.To)
		}
	}
	return out
}

// waitState waits (the events arrive asynchronously) until the journey
// moved to last, and returns the states so far.
func (r *mmEvents) waitState(ctx context.Context, last app.State) []app.State {
	for {
		got := r.states()
		if len(got) > 0 && got[len(got)-1] == last {
			return got
		}
		select {
		case <-ctx.Done():
			return got
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// scripts returns the portal scripts of a kind.
func (r *mmEvents) scripts(kind string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if ps, ok := e.(app.PortalScript); ok && ps.Kind == kind {
			out = append(out, ps.JS)
		}
	}
	return out
}

// mmCall parses a bridge call as the portal page's bridge.js sends it.
func mmCall(t *testing.T, op string, args any, ctxID string) portal.Call {
	t.Helper()
	origin := "https://" + mmPortalHost
	env := map[string]any{"v": 1, "object": portal.ObjectMobilePlansInlineOperations, "op": op, "origin": origin, "args": args}
	if ctxID != "" {
		env["context"] = ctxID
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	c, err := portal.Message{Raw: b, Origin: origin}.Parse(mmPortalHost)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return c
}

// TestAgentOverModemManager runs the agent's inline download through the
// real ModemManager on the bundled stack (discovery, SM-DP+, operator; no
// simulated modem of its own): the portal hands back an activation code
// with notifyProfileDownload, and the agent downloads the profile through
// ModemManager, enables it, has ModemManager re-read the SIM (Refresh),
// waits for the registration with the new ICCID, and connects a bearer
// (Simple.Connect) with the APN the discovery service gives for it.
func TestAgentOverModemManager(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	dir := t.TempDir()
	st, err := stack.Start(ctx, stack.Config{Dir: filepath.Join(dir, "stack"), NoModem: true, PortalHost: mmPortalHost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	card, err := euicc.Open(filepath.Join(dir, "euicc.json"), euicc.Options{Seed: true, Issuer: euicc.PKIIssuer(st.PKI)})
	if err != nil {
		t.Fatal(err)
	}
	env := mmtest.New(t, mmtest.Options{Card: simcard.New(card)})

	m, err := backend.Open(ctx, backend.Spec{Kind: backend.KindMM, IMEI: env.IMEI}, backend.Config{DBusAddress: env.Addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close the modem: %v", err)
		}
	})
	if _, ok := m.(*backend.MM); !ok {
		t.Fatalf("backend.Open = %T, want *backend.MM", m)
	}

	web := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: st.WebCA.Pool()}}}
	disc := discovery.NewClient(st.DiscoveryURL, web)
	pool, err := lpa.TrustPool(st.PKI.CI.Cert)
	if err != nil {
		t.Fatal(err)
	}
	es9, err := lpa.NewES9Client(lpa.ES9Options{RootCAs: pool, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(mmLockedWriter{&logMu, &logs}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	t.Cleanup(func() {
		if t.Failed() {
			logMu.Lock()
			t.Logf("agent log:\n%s", logs.String())
			logMu.Unlock()
		}
	})
	a, err := app.New(ctx, app.Config{Modem: m, Discovery: disc, ES9: es9, StateDir: filepath.Join(dir, "agent"),
		Location: "US", Market: "US", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	ev := mmRecord(a)

	d, err := a.Probe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.EID != string(card.EID()) || d.IMEI != env.IMEI {
		t.Fatalf("probe through ModemManager: %+v", d)
	}
	if _, err := a.PortalLaunch(ctx, discovery.ContosoID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.HandleBridgeCall(ctx, mmCall(t, portal.OpSetScripts,
		map[string]any{"registrationChangedScript": "onReg", "profileActivationCompleteScript": "onAct"}, "")); err != nil {
		t.Fatal(err)
	}

	// Contoso's backend orders the profile for this eUICC over ES2+.
	opCert, err := smdp.IssueOperatorCertificate(st.PKI, "Contoso Cellular test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	es2 := smdp.NewES2Client("https://"+st.SMDPAddress, &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: st.PKI.RootPool(), Certificates: []tls.Certificate{opCert}}}}, "")
	dor, err := es2.DownloadOrder(ctx, smdp.DownloadOrderRequest{EID: d.EID})
	if err != nil {
		t.Fatal(err)
	}
	cor, err := es2.ConfirmOrder(ctx, smdp.ConfirmOrderRequest{ICCID: dor.ICCID, EID: d.EID, ReleaseFlag: true})
	if err != nil {
		t.Fatal(err)
	}
	ac := lpa.ActivationCode{SMDPAddress: cor.SMDPAddress, MatchingID: cor.MatchingID}.String()
	meta := map[string]any{"userAccount": "new", "purchaseInstrument": "new", "line": "new", "moDirectStatus": "complete", "planName": "Unlimited"}

	start := time.Now()
	dials := len(env.Dials())
	rep, err := a.HandleBridgeCall(ctx, mmCall(t, "notifyProfileDownload", map[string]any{"meta": meta, "activationCode": ac}, "mp-1"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Action != app.ActionDownloadStarted {
		t.Fatalf("reply %+v", rep)
	}
	out, err := a.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("journey through ModemManager: %v", time.Since(start).Round(time.Millisecond))
	if out.State != app.StateDone || out.ICCID != dor.ICCID || !out.Connected || !out.Registration.Registered() {
		t.Fatalf("outcome %+v (ordered %s)", out, dor.ICCID)
	}
	want := []app.State{app.StateDownload, app.StateInstall, app.StateEnable, app.StateRefresh, app.StateRegister, app.StateConnect, app.StateDone}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if got := ev.waitState(wctx, app.StateDone); !mmSubsequence(got, want) {
		t.Errorf("states %v, want %v in order", got, want)
	}
	if acts := ev.scripts(app.ScriptActivation); len(acts) == 0 || !strings.Contains(acts[len(acts)-1], dor.ICCID) {
		t.Errorf("activation scripts %q", acts)
	}
	if regs := ev.scripts(app.ScriptRegistration); len(regs) == 0 || !strings.Contains(regs[len(regs)-1], dor.ICCID) {
		t.Errorf("registration scripts %q", regs)
	}

	// ModemManager's own objects: the SIM has the new ICCID, the modem is
	// registered on the profile's network and connected.
	ms, err := mm.List(ctx, env.Conn(t))
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ms, func(x mm.ModemInfo) bool { return x.IMEI == env.IMEI })
	if i < 0 {
		t.Fatalf("ModemManager does not export the modem: %+v", ms)
	}
	info := ms[i]
	if info.SIM == nil || info.SIM.ICCID != dor.ICCID {
		t.Fatalf("ModemManager's SIM %+v, want ICCID %s", info.SIM, dor.ICCID)
	}
	if !info.Registration.Modem().Registered() || info.State != mm.StateConnected {
		t.Errorf("ModemManager: state %s, registration %s", info.State, info.Registration)
	}
	// The bearer used the APN the discovery service has for this profile
	// and network.
	apn, err := disc.APN(ctx, discovery.ContosoID, info.OperatorCode, dor.ICCID)
	if err != nil {
		t.Fatal(err)
	}
	if len(env.Dials()) <= dials {
		t.Error("no packet data dial reached the modem")
	}
	if !slices.ContainsFunc(env.SIM.Commands(), func(c string) bool {
		return strings.HasPrefix(c, "AT+CGDCONT=") && strings.Contains(c, `"`+apn.APN.Name+`"`)
	}) {
		t.Errorf("no AT+CGDCONT with APN %q reached the modem", apn.APN.Name)
	}
	if p, err := st.SMDP.Profile(ctx, dor.ICCID); err != nil || p.State != smdp.StateInstalled {
		t.Errorf("SM-DP+ profile %+v, %v", p, err)
	}
}

// mmSubsequence reports whether want appears in got in order.
func mmSubsequence(got, want []app.State) bool {
	i := 0
	for _, s := range got {
		if i < len(want) && s == want[i] {
			i++
		}
	}
	return i == len(want)
}

// mmLockedWriter serialises writes to w.
type mmLockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l mmLockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
