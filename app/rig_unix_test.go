//go:build unix

package app

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/euicc"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/pki"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/modem/at"
	"github.com/mobileplans/mobileplans/modem/sim"
	"github.com/mobileplans/mobileplans/modem/simcard"
	"github.com/mobileplans/mobileplans/service/discovery"
	"github.com/mobileplans/mobileplans/service/smdp"
	"github.com/mobileplans/mobileplans/ui/portal"
)

const (
	callbackHost = "portal.contoso.test"
	origin       = "https://" + callbackHost
	contosoAPN   = "internet.contoso"
)

// rig is the whole stack in process: a simulated modem on a pty reached
// through the AT backend, a PKI-certified simulated eUICC, the SM-DP+ over
// TLS on loopback (with a counter of ES9+ requests), its ES2+ client for
// orders, and a fake discovery service.
type rig struct {
	t        testing.TB
	ctx      context.Context
	card     *euicc.Card
	sim      *sim.Modem
	modem    *at.Modem
	smdp     *smdp.Server
	faults   *smdp.Faults
	es9Hits  atomic.Int64
	es2      *smdp.ES2Client
	es9      *lpa.ES9Client
	disc     *fakeDiscovery
	clock    *fakeClock
	stateDir string
	seeded   []string // ICCIDs of the seeded profiles, enabled first
}

func newRig(t testing.TB) *rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p, err := pki.Generate(pki.Options{ExtraTLSHosts: []string{"localhost", "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	card, err := euicc.Open(filepath.Join(dir, "euicc.json"), euicc.Options{Seed: true, Issuer: euicc.PKIIssuer(p)})
	if err != nil {
		t.Fatal(err)
	}
	sm := sim.New(simcard.New(card), sim.Options{AttachDelay: -1})
	dev, err := sm.ServePTY(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = sm.Wait() })
	m, err := at.Open(ctx, at.Config{Device: dev, CommandTimeout: 10 * time.Second, APDUTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	addr := net.JoinHostPort("localhost", port)
	faults := &smdp.Faults{}
	srv, err := smdp.New(ctx, smdp.Config{PKI: p, Address: addr, DBPath: filepath.Join(dir, "smdp.db"), Faults: faults, InventorySize: 40})
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := srv.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, ctx: ctx, card: card, sim: sm, modem: m, smdp: srv, faults: faults, clock: newFakeClock(), stateDir: filepath.Join(dir, "agent")}
	h := srv.Handler()
	hs := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if strings.HasPrefix(req.URL.Path, "/gsma/rsp2/es9plus/") {
				r.es9Hits.Add(1)
			}
			h.ServeHTTP(w, req)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = hs.Serve(tls.NewListener(ln, tlsCfg)) }()
	t.Cleanup(func() { _ = hs.Close(); _ = srv.Close() })

	opCert, err := smdp.IssueOperatorCertificate(p, "test operator", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.RootPool(), Certificates: []tls.Certificate{opCert}}}}
	r.es2 = smdp.NewES2Client("https://"+addr, hc, "")
	if r.es9, err = lpa.NewES9Client(lpa.ES9Options{RootCAs: p.RootPool(), Timeout: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	r.disc = &fakeDiscovery{
		country: "US",
		ops: []*discovery.OperatorDetail{
			{ID: "contoso", Brand: "Contoso Cellular", PortalURL: "https://" + callbackHost + "/activate?lang=en", CallbackHost: callbackHost,
				Countries: []string{"US"}, ICCIDRanges: []discovery.ICCIDRange{{Prefix: smdp.DefaultICCIDPrefix}, {Prefix: "894447650000765"}}},
			{ID: "fabrikam", Brand: "Fabrikam Mobile", PortalURL: "https://portal.fabrikam.test/", CallbackHost: "portal.fabrikam.test",
				Countries: []string{"US"}, ICCIDRanges: []discovery.ICCIDRange{{Prefix: "894447650000123"}}},
		},
		apns: map[string]discovery.APN{"contoso": {Name: contosoAPN, AuthType: discovery.AuthNone, IPType: discovery.IPv4v6}},
	}
	// The seeded profiles, enabled one first.
	c, err := lpa.New(ctx, m.OpenChannel, lpa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := c.Profiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	for _, p := range ps {
		if p.State == rsp.ProfileEnabled {
			r.seeded = append([]string{string(p.ICCID)}, r.seeded...)
		} else {
			r.seeded = append(r.seeded, string(p.ICCID))
		}
	}
	if len(r.seeded) != 2 {
		t.Fatalf("seeded profiles %v", r.seeded)
	}
	return r
}

// capModem wraps the AT modem with optional capabilities.
type capModem struct {
	*at.Modem
	mu        sync.Mutex
	conns     []Connection
	refreshes int
}

func (c *capModem) Connect(_ context.Context, cn Connection) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conns = append(c.conns, cn)
	return nil
}

func (c *capModem) Refresh(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refreshes++
	return nil
}

// config returns an agent configuration on the rig.
func (r *rig) config() Config {
	return Config{Modem: r.modem, Discovery: r.disc, ES9: r.es9, StateDir: r.stateDir, Clock: r.clock,
		Location: "us", Market: "US", Language: "en-US", RetryBackoff: time.Second}
}

// agent starts an agent (closed at cleanup) and records its events.
func (r *rig) agent(cfg Config) (*Agent, *recorder) {
	r.t.Helper()
	a, err := New(r.ctx, cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { _ = a.Close() })
	return a, record(a)
}

// order places an ES2+ order for the card and returns its activation code
// as a portal hands it over (no "LPA:" prefix) and the profile's ICCID.
func (r *rig) order() (string, string) {
	r.t.Helper()
	eid := string(r.card.EID())
	dor, err := r.es2.DownloadOrder(r.ctx, smdp.DownloadOrderRequest{EID: eid})
	if err != nil {
		r.t.Fatal(err)
	}
	cor, err := r.es2.ConfirmOrder(r.ctx, smdp.ConfirmOrderRequest{ICCID: dor.ICCID, EID: eid, ReleaseFlag: true})
	if err != nil {
		r.t.Fatal(err)
	}
	return lpa.ActivationCode{SMDPAddress: cor.SMDPAddress, MatchingID: cor.MatchingID}.String(), dor.ICCID
}

// launch opens the contoso portal and sets the page's callback names.
func (r *rig) launch(a *Agent) PortalRequest {
	r.t.Helper()
	req, err := a.PortalLaunch(r.ctx, "contoso")
	if err != nil {
		r.t.Fatal(err)
	}
	r.bridge(a, portal.ObjectMobilePlansInlineOperations, portal.OpSetScripts,
		map[string]any{"registrationChangedScript": "onReg", "profileActivationCompleteScript": "onAct"}, "")
	return req
}

// msg builds a bridge message as bridge.js sends it.
func msg(object, op string, args any, ctxID string) portal.Message {
	env := map[string]any{"v": 1, "object": object, "op": op, "origin": origin, "args": args}
	if ctxID != "" {
		env["context"] = ctxID
	}
	b, err := json.Marshal(env)
	if err != nil {
		panic(err)
	}
	return portal.Message{Raw: b, Origin: origin}
}

// bridge sends a call that must be accepted.
func (r *rig) bridge(a *Agent, object, op string, args any, ctxID string) Reply {
	r.t.Helper()
	rep, err := a.HandleBridgeMessage(r.ctx, msg(object, op, args, ctxID))
	if err != nil {
		r.t.Fatalf("%s.%s: %v", object, op, err)
	}
	return rep
}

func meta() map[string]any {
	return map[string]any{"userAccount": "new", "purchaseInstrument": "new", "line": "new", "moDirectStatus": "complete", "planName": "Unlimited"}
}

// wait waits for the fulfilment's outcome and for the event of its final
// state.
func (r *rig) wait(a *Agent, ev *recorder) Outcome {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, waitLimit)
	defer cancel()
	out, err := a.Wait(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	ev.next(r.t, "final state", isState(out.State))
	return out
}

// activeICCID is the profile the modem uses.
func (r *rig) activeICCID() string {
	r.t.Helper()
	info, err := r.modem.Info(r.ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	return normICCID(info.ICCID)
}

func actScript(res portal.ActivationResult, iccid string) string {
	js, err := portal.ActivationScript("onAct", portal.ActivationArgs{Result: res, ICCID: iccid})
	if err != nil {
		panic(err)
	}
	return js
}

func regScript(st portal.RegistrationState, iccid string) string {
	js, err := portal.RegistrationScript("onReg", portal.RegistrationArgs{State: st, ICCID: iccid})
	if err != nil {
		panic(err)
	}
	return js
}

// smdpState returns the SM-DP+ state of a profile.
func (r *rig) smdpState(iccid string) smdp.State {
	r.t.Helper()
	p, err := r.smdp.Profile(r.ctx, iccid)
	if err != nil {
		r.t.Fatal(err)
	}
	return p.State
}

// deleteProfile deletes a disabled profile through the agent's eUICC
// session and delivers the delete notification.
func (r *rig) deleteProfile(a *Agent, iccid string) error {
	c, err := a.client(r.ctx)
	if err != nil {
		return err
	}
	if err := c.Delete(r.ctx, rsp.ProfileID{ICCID: rsp.ICCID(iccid)}); err != nil {
		return err
	}
	_, err = c.ProcessNotifications(r.ctx, r.es9, lpa.NotifyOptions{})
	return err
}
