//go:build unix

package backend_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/esim/euicc"
	"github.com/mobileplans/mobileplans/modem"
	"github.com/mobileplans/mobileplans/modem/at"
	"github.com/mobileplans/mobileplans/modem/backend"
	"github.com/mobileplans/mobileplans/modem/sim"
	"github.com/mobileplans/mobileplans/modem/simcard"
)

// The ModemManager backend has the agent's optional capabilities; the AT
// backend has neither (it relies on the card's refresh).
var (
	_ app.Modem     = (*backend.MM)(nil)
	_ app.Refresher = (*backend.MM)(nil)
	_ app.Connector = (*backend.MM)(nil)
	_ app.Modem     = (*backend.AT)(nil)
)

func TestATHasNoAgentCapabilities(t *testing.T) {
	var m modem.Modem = &backend.AT{}
	if _, ok := m.(app.Refresher); ok {
		t.Error("*AT is an app.Refresher")
	}
	if _, ok := m.(app.Connector); ok {
		t.Error("*AT is an app.Connector")
	}
}

// simPort serves a simulated modem with IMEI imei on a new pty.
func simPort(t *testing.T, imei string) string {
	t.Helper()
	card, err := euicc.Open(filepath.Join(t.TempDir(), "euicc.json"), euicc.Options{Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	m := sim.New(simcard.New(card), sim.Options{IMEI: imei})
	ctx, cancel := context.WithCancel(context.Background())
	dev, err := m.ServePTY(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = m.Wait() })
	return dev
}

// silentPort is a pty nobody answers on.
func silentPort(t *testing.T) string {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	name := slave.Name()
	slave.Close()
	t.Cleanup(func() { master.Close() })
	return name
}

// noMM is a D-Bus address where nothing listens: ModemManager is absent.
func noMM(t *testing.T) string {
	return "unix:path=" + filepath.Join(t.TempDir(), "no-bus.sock")
}

func config(t *testing.T, ports ...string) backend.Config {
	return backend.Config{
		DBusAddress:  noMM(t),
		ProbeTimeout: 1500 * time.Millisecond,
		Ports:        func(context.Context) ([]string, error) { return ports, nil },
	}
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestAutoFallsBackToAT: without ModemManager, auto-selection probes the
// ports in order and opens the first that answers AT, skipping a silent
// one.
func TestAutoFallsBackToAT(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 30*time.Second)
	silent := silentPort(t)
	first := simPort(t, "356938035643809")
	second := simPort(t, sim.DefaultIMEI)
	start := time.Now()
	m, err := backend.Open(ctx, backend.Spec{Kind: backend.KindAuto}, config(t, silent, first, second))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a, ok := m.(*backend.AT)
	if !ok {
		t.Fatalf("Open = %T, want *backend.AT", m)
	}
	if a.Spec() != (backend.Spec{Kind: backend.KindAT, Port: first}) {
		t.Fatalf("opened %v, want at:%s", a.Spec(), first)
	}
	info, err := m.Info(ctx)
	if err != nil || info.IMEI != "356938035643809" || info.Backend != "at" {
		t.Fatalf("Info = %+v, %v", info, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("auto-selection took %v: the silent port's probe is not bounded", d)
	}
}

// TestAutoNothingFound: no ModemManager and no answering port is a
// *NoModemError that names each reason.
func TestAutoNothingFound(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 30*time.Second)
	silent := silentPort(t)
	for _, ports := range [][]string{nil, {silent}} {
		_, err := backend.Open(ctx, backend.Spec{}, config(t, ports...))
		var nm *backend.NoModemError
		if !errors.Is(err, backend.ErrNoModem) || !errors.As(err, &nm) {
			t.Fatalf("ports %v: Open = %v, want a *NoModemError", ports, err)
		}
		if !strings.Contains(nm.MM, "not reachable") {
			t.Errorf("ModemManager reason %q", nm.MM)
		}
		if len(ports) == 0 && !strings.Contains(err.Error(), "none found") {
			t.Errorf("no ports: %v", err)
		}
		if len(ports) == 1 && (len(nm.Ports) != 1 || nm.Ports[0].Port != silent || !strings.Contains(err.Error(), "does not answer AT")) {
			t.Errorf("silent port: %v (%+v)", err, nm.Ports)
		}
	}
	_, err := backend.Open(ctx, backend.Spec{}, backend.Config{DBusAddress: noMM(t),
		Ports: func(context.Context) ([]string, error) { return nil, errors.New("enumeration broke") }})
	if !errors.Is(err, backend.ErrNoModem) || !strings.Contains(err.Error(), "enumeration broke") {
		t.Fatalf("failed enumeration: %v", err)
	}
}

// TestOpenExplicit opens an AT port by spec, and fails clearly for
// ModemManager when there is none.
func TestOpenExplicit(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 30*time.Second)
	port := simPort(t, "")
	sp, err := backend.ParseSpec(port)
	if err != nil {
		t.Fatal(err)
	}
	m, err := backend.Open(ctx, sp, backend.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if info, err := m.Info(ctx); err != nil || info.Port != port {
		t.Fatalf("Info = %+v, %v", info, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := backend.Open(ctx, backend.Spec{Kind: backend.KindAT, Port: silentPort(t)},
		backend.Config{AT: atFast()}); err == nil {
		t.Fatal("opened a silent port")
	}
	_, err = backend.Open(ctx, backend.Spec{Kind: backend.KindMM}, backend.Config{DBusAddress: noMM(t)})
	if !errors.Is(err, backend.ErrNoBus) {
		t.Fatalf("mm without a bus: %v", err)
	}
}

// TestListWithoutModemManager lists the ports (answering or not) and says
// that ModemManager is absent, without failing.
func TestListWithoutModemManager(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 30*time.Second)
	silent := silentPort(t)
	port := simPort(t, "")
	cs, err := backend.List(ctx, config(t, port, silent))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 {
		t.Fatalf("List = %+v, want ModemManager's note and two ports", cs)
	}
	if cs[0].Backend != backend.KindMM || cs[0].Usable() || !strings.Contains(cs[0].Error, "ModemManager not reachable") {
		t.Errorf("ModemManager entry %+v", cs[0])
	}
	if c := cs[1]; !c.Usable() || c.Spec != "at:"+port || c.IMEI != sim.DefaultIMEI || c.Model != sim.DefaultModel ||
		c.ICCID == "" || c.SIMState != "READY" {
		t.Errorf("simulated modem entry %+v", c)
	}
	if c := cs[2]; c.Usable() || c.Port != silent || c.Error != "does not answer AT" {
		t.Errorf("silent port entry %+v", c)
	}
	cs, err = backend.List(ctx, config(t))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(cs, func(c backend.Candidate) bool {
		return c.Backend == backend.KindAT && c.Error == "no serial ports found"
	}) {
		t.Errorf("List without ports = %+v", cs)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := backend.List(cctx, config(t, port)); !errors.Is(err, context.Canceled) {
		t.Errorf("List with a cancelled context: %v", err)
	}
}

func atFast() at.Config { return at.Config{CommandTimeout: 300 * time.Millisecond} }
