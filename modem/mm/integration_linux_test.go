package mm_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/modem"
	"github.com/mobileplans/mobileplans/modem/at"
	"github.com/mobileplans/mobileplans/modem/mm"
	"github.com/mobileplans/mobileplans/modem/mm/mmtest"
	"github.com/mobileplans/mobileplans/modem/sim"
)

// The seeded simulated eUICC's profiles (esim/euicc): the first is
// enabled.
const (
	seedICCID1  = "89444765000012345673"
	seedIMSI1   = "001010123456789"
	seedPLMN1   = "00101"
	seedPLMN2   = "00102"
	seedICCID2p = "8944476500007654321" // without the check digit
)

func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func openModem(t *testing.T, ctx context.Context, env *mmtest.Env, opts mm.Options) *mm.Modem {
	t.Helper()
	m, err := mm.Open(ctx, env.Conn(t), env.IMEI, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return m
}

func newLPA(t *testing.T, ctx context.Context, m *mm.Modem) *lpa.Client {
	t.Helper()
	c, err := lpa.New(ctx, m.OpenChannel, lpa.Options{})
	if err != nil {
		t.Fatalf("lpa.New over ModemManager: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestDiscovery checks what List and a Modem report about the simulated
// modem, and that the EID read over OpenChannel is the card's.
func TestDiscovery(t *testing.T) {
	t.Parallel()
	env := mmtest.New(t, mmtest.Options{})
	ctx := testCtx(t, 60*time.Second)
	conn := env.Conn(t)

	ms, err := mm.List(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 {
		t.Fatalf("List: %d modems, want 1: %+v", len(ms), ms)
	}
	got := ms[0]
	if got.IMEI != sim.DefaultIMEI || got.Manufacturer != sim.DefaultManufacturer ||
		got.Model != sim.DefaultModel || got.Revision != sim.DefaultRevision {
		t.Errorf("identity = %q %q %q %q", got.IMEI, got.Manufacturer, got.Model, got.Revision)
	}
	if got.Plugin != "generic" || !slices.Contains(got.Drivers, "option") {
		t.Errorf("plugin %q drivers %v", got.Plugin, got.Drivers)
	}
	if ports := got.ATPorts(); len(ports) != 1 || ports[0] != env.PTY {
		t.Errorf("ATPorts = %v, want [%s] (ports %v)", ports, env.PTY, got.Ports)
	}
	if !strings.HasPrefix(string(got.Path), string(mm.ManagerPath)+"/Modem/") {
		t.Errorf("path %s", got.Path)
	}
	if got.SIM == nil {
		t.Fatal("no SIM")
	}
	if got.SIM.ICCID != seedICCID1 || got.SIM.IMSI != seedIMSI1 || got.SIM.OperatorCode != seedPLMN1 || !got.SIM.Active {
		t.Errorf("SIM = %+v", *got.SIM)
	}
	if got.Lock != mm.LockNone || got.PrimarySlot != 0 || len(got.Slots) != 0 {
		t.Errorf("lock %v primary slot %d slots %v", got.Lock, got.PrimarySlot, got.Slots)
	}

	m := openModem(t, ctx, env, mm.Options{})
	info, err := m.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := modem.Info{Manufacturer: sim.DefaultManufacturer, Model: sim.DefaultModel, Revision: sim.DefaultRevision,
		IMEI: sim.DefaultIMEI, SIMState: "READY", ICCID: seedICCID1, IMSI: seedIMSI1, Port: got.PrimaryPort, Backend: "mm"}
	if info != want {
		t.Errorf("Info = %+v\nwant   %+v", info, want)
	}

	c := newLPA(t, ctx, m)
	eid, err := c.EID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if eid != env.Card.EID() {
		t.Errorf("EID over ModemManager = %s, card has %s", eid, env.Card.EID())
	}
	if got.SIM.EID != "" && got.SIM.EID != string(eid) {
		t.Errorf("ModemManager's Sim.Eid = %s, card has %s", got.SIM.EID, eid)
	}
	if !slices.ContainsFunc(env.SIM.Commands(), func(c string) bool { return strings.HasPrefix(c, "AT+CGLA=") }) {
		t.Error("no AT+CGLA reached the modem")
	}
}

// TestRegistrationIsLive enables the modem and follows the registration
// through signals, including a change the network makes on its own.
func TestRegistrationIsLive(t *testing.T) {
	t.Parallel()
	env := mmtest.New(t, mmtest.Options{})
	ctx := testCtx(t, 60*time.Second)
	m := openModem(t, ctx, env, mm.Options{})

	if cur, err := m.Current(); err != nil || cur.State != mm.StateDisabled {
		t.Fatalf("Current = %v, %v; want a disabled modem", cur.State, err)
	}
	info, err := m.WaitReady(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if info.State < mm.StateRegistered || info.OperatorCode != seedPLMN1 {
		t.Errorf("after WaitReady: state %v operator %q", info.State, info.OperatorCode)
	}
	// ModemManager reads the signal quality once registered.
	info, err = m.Wait(ctx, func(i mm.ModemInfo) bool { return i.SignalPercent > 0 })
	if err != nil {
		t.Fatal(err)
	}
	reg, err := m.Registration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if reg.State != modem.RegHome || reg.OperatorCode != seedPLMN1 || reg.AccessTech != "eutran" {
		t.Errorf("Registration = %+v", reg)
	}
	// The simulated modem reports +CSQ: 20 (-73 dBm); ModemManager turns it
	// into 64 %.
	if !reg.SignalValid || reg.SignalDBm != -73 || info.SignalPercent != 64 {
		t.Errorf("signal %d dBm (valid %t), %d %%", reg.SignalDBm, reg.SignalValid, info.SignalPercent)
	}

	// The network moves the modem to roaming on 001-02: the modem sends
	// +CEREG URCs, ModemManager updates its properties and the Modem sees
	// the change without asking.
	env.SIM.SetRegistration(5, seedPLMN2)
	info, err = m.Wait(ctx, func(i mm.ModemInfo) bool { return i.Registration == mm.Reg3GPPRoaming })
	if err != nil {
		t.Fatal(err)
	}
	reg, _ = m.Registration(ctx)
	if reg.State != modem.RegRoaming {
		t.Errorf("Registration after roaming = %+v", reg)
	}
}

// TestProfileSwitch runs the LPA through Modem.Command: chip info and
// profile list, enabling the second profile, then the refresh, the new
// ICCID on the Sim object, registration on the new network and the data
// connection request with the operator's APN.
func TestProfileSwitch(t *testing.T) {
	t.Parallel()
	env := mmtest.New(t, mmtest.Options{})
	ctx := testCtx(t, 90*time.Second)
	m := openModem(t, ctx, env, mm.Options{})
	c := newLPA(t, ctx, m)

	if _, err := c.EUICCInfo2(ctx); err != nil {
		t.Fatalf("EUICCInfo2: %v", err)
	}
	profiles, err := c.Profiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var target rsp.ICCID
	for _, p := range profiles {
		if strings.HasPrefix(string(p.ICCID), seedICCID2p) {
			target = p.ICCID
			if p.State != rsp.ProfileDisabled {
				t.Fatalf("second profile is %v", p.State)
			}
		}
	}
	if len(profiles) != 2 || target == "" {
		t.Fatalf("profiles = %+v", profiles)
	}
	before, err := m.Current()
	if err != nil {
		t.Fatal(err)
	}

	if err := c.Enable(ctx, rsp.ProfileID{ICCID: target}, true); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := m.WaitReady(ctx, string(target))
	if err != nil {
		t.Fatal(err)
	}
	if info.Path == before.Path || info.SIM == nil || info.SIM.Path == before.SIM.Path {
		t.Errorf("modem %s SIM %+v after refresh; before %s %s", info.Path, info.SIM, before.Path, before.SIM.Path)
	}
	if info.SIM.ICCID != string(target) || info.SIM.OperatorCode != seedPLMN2 || info.OperatorCode != seedPLMN2 {
		t.Errorf("after refresh: SIM %+v, registered on %q", *info.SIM, info.OperatorCode)
	}

	// The channel of the old modem object is gone; the LPA re-opens one.
	profiles, err = c.Profiles(ctx)
	if err != nil {
		t.Fatalf("Profiles after the switch: %v", err)
	}
	for _, p := range profiles {
		if (p.ICCID == target) != (p.State == rsp.ProfileEnabled) {
			t.Errorf("profile %s is %v", p.ICCID, p.State)
		}
	}

	n := env.CommandCount()
	b, err := m.Connect(ctx, mm.APN{Name: "fabrikam.test", IPType: mm.IPv4})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Logf("bearer %+v", b)
	if !slices.Contains(env.SIM.Commands()[n:], `AT+CGDCONT=1,"IP","fabrikam.test"`) {
		t.Errorf("the APN did not reach the modem: %v", env.SIM.Commands()[n:])
	}
	if !b.Connected || b.IPv4 != mm.IPMethodPPP || len(env.Dials()) != 1 {
		t.Errorf("bearer %+v, dials %v", b, env.Dials())
	}
	if info, err := m.Wait(ctx, func(i mm.ModemInfo) bool { return i.State == mm.StateConnected }); err != nil {
		t.Errorf("state after Connect: %v (%v)", info.State, err)
	}
	if err := m.Disconnect(ctx); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	if info, err := m.Wait(ctx, func(i mm.ModemInfo) bool { return i.State == mm.StateRegistered }); err != nil {
		t.Errorf("state after Disconnect: %v (%v)", info.State, err)
	}
}

// TestInhibitFallback: ModemManager without --debug refuses Modem.Command,
// so the LPA's channel goes through InhibitDevice and the modem's own AT
// port; releasing the device gives the modem back to ModemManager.
func TestInhibitFallback(t *testing.T) {
	t.Parallel()
	env := mmtest.New(t, mmtest.Options{NoDebug: true})
	ctx := testCtx(t, 60*time.Second)
	m := openModem(t, ctx, env, mm.Options{AT: atConfig()})
	before, _ := m.Current()

	c := newLPA(t, ctx, m)
	eid, err := c.EID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if eid != env.Card.EID() {
		t.Errorf("EID = %s, want %s", eid, env.Card.EID())
	}
	if _, err := c.EUICCInfo2(ctx); err != nil {
		t.Fatal(err)
	}
	// ModemManager let go of the device: it no longer exports the modem.
	if ms, err := mm.List(ctx, env.Conn(t)); err != nil || len(ms) != 0 {
		t.Errorf("List while the device is inhibited = %v, %v", ms, err)
	}
	info, err := m.Info(ctx)
	if err != nil || info.IMEI != env.IMEI || info.ICCID != seedICCID1 {
		t.Errorf("Info while inhibited = %+v, %v", info, err)
	}
	if !slices.Contains(env.Polkit.Actions(), "org.freedesktop.ModemManager1.Control") {
		t.Errorf("polkit was asked %v", env.Polkit.Actions())
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
	if err := m.Release(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := m.Wait(ctx, func(i mm.ModemInfo) bool { return i.Path != before.Path })
	if err != nil {
		t.Fatalf("modem not back after Release: %v", err)
	}
	if after.SIM == nil || after.SIM.ICCID != seedICCID1 {
		t.Errorf("after release: %+v", after)
	}

	// Close releases the device too.
	if _, err := m.OpenChannel(ctx, apdu.ISDR); err != nil {
		t.Fatal(err)
	}
	if ms, err := mm.List(ctx, env.Conn(t)); err != nil || len(ms) != 0 {
		t.Errorf("List while the device is inhibited again = %v, %v", ms, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if back, err := env.WaitModem(ctx); err != nil || back.Path == after.Path {
		t.Errorf("modem after Close: %v, %v", back.Path, err)
	}
}

func atConfig() at.Config { return at.Config{CommandTimeout: time.Second} }

// TestInhibitReleasedOnFailure: when the AT-port path fails after the
// device was inhibited (an applet the card does not have, an AT port that
// does not answer), OpenChannel gives the device back before it returns.
func TestInhibitReleasedOnFailure(t *testing.T) {
	t.Parallel()
	env := mmtest.New(t, mmtest.Options{NoDebug: true})
	ctx := testCtx(t, 90*time.Second)
	m := openModem(t, ctx, env, mm.Options{Access: mm.AccessInhibit, AT: atConfig()})

	cases := []struct {
		name  string
		aid   []byte
		setup func()
		check func(error) bool
	}{
		{
			name:  "unknown AID",
			aid:   []byte{0xA0, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03},
			check: func(err error) bool { return err != nil },
		},
		{
			name:  "AT port silent",
			aid:   apdu.ISDR,
			setup: func() { env.SIM.SetDrop(true) },
			check: func(err error) bool { return errors.Is(err, mm.ErrNoAPDUAccess) },
		},
	}
	for _, tc := range cases {
		before, err := m.Wait(ctx, func(mm.ModemInfo) bool { return true })
		if err != nil {
			t.Fatal(err)
		}
		asked := len(env.Polkit.Actions())
		if tc.setup != nil {
			tc.setup()
		}
		ch, err := m.OpenChannel(ctx, tc.aid)
		env.SIM.SetDrop(false)
		if ch != nil || !tc.check(err) {
			t.Fatalf("%s: OpenChannel = %v, %v", tc.name, ch, err)
		}
		t.Logf("%s: %v", tc.name, err)
		// Inhibit and release both went through polkit, and ModemManager
		// probes the modem again.
		if n := len(env.Polkit.Actions()) - asked; n != 2 {
			t.Errorf("%s: %d polkit checks, want 2 (inhibit, release)", tc.name, n)
		}
		if _, err := m.Wait(ctx, func(i mm.ModemInfo) bool { return i.Path != before.Path }); err != nil {
			t.Fatalf("%s: the modem did not come back: %v", tc.name, err)
		}
	}
}

// TestNoAPDUAccess: without --debug and with polkit refusing InhibitDevice
// there is no way to the card; the error says what to do.
func TestNoAPDUAccess(t *testing.T) {
	t.Parallel()
	env := mmtest.New(t, mmtest.Options{NoDebug: true, DenyPolkit: true})
	ctx := testCtx(t, 30*time.Second)
	m := openModem(t, ctx, env, mm.Options{})
	ch, err := m.OpenChannel(ctx, apdu.ISDR)
	if ch != nil || !errors.Is(err, mm.ErrNoAPDUAccess) {
		t.Fatalf("OpenChannel = %v, %v", ch, err)
	}
	var nae *mm.NoAPDUAccessError
	if !errors.As(err, &nae) || nae.Command == nil || nae.Inhibit == nil {
		t.Fatalf("error %#v", err)
	}
	var e *mm.Error
	if !errors.As(nae.Command, &e) || !e.Unauthorized() {
		t.Errorf("Command error = %v", nae.Command)
	}
	for _, s := range []string{"--debug", "polkit", "AT port"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not mention %q: %v", s, err)
		}
	}
	// Nothing was inhibited: the modem is still there, on the same path.
	if _, err := m.Current(); err != nil {
		t.Error(err)
	}
	if err := m.SetPrimarySimSlot(ctx, 2); !errors.Is(err, mm.ErrNoSlots) {
		t.Errorf("SetPrimarySimSlot on a single-slot modem = %v", err)
	}
}

// TestDaemonRestart stops ModemManager while an APDU is in flight: the
// operation fails with ErrDaemonGone, and once ModemManager is back the
// next operation works (the LPA re-opens its channel on the new object).
func TestDaemonRestart(t *testing.T) {
	t.Parallel()
	env := mmtest.New(t, mmtest.Options{})
	ctx := testCtx(t, 90*time.Second)
	conn := env.Conn(t)
	m := openModem(t, ctx, env, mm.Options{})
	c := newLPA(t, ctx, m)
	want, err := c.Profiles(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// The modem swallows the next command, so the APDU stays in flight.
	n := env.CommandCount()
	env.SIM.SetDrop(true)
	done := make(chan error, 1)
	go func() {
		_, err := c.Profiles(ctx)
		done <- err
	}()
	if err := env.WaitCommand(ctx, "AT+CGLA=", n); err != nil {
		t.Fatal(err)
	}
	if err := env.StopDaemon(); err != nil {
		t.Fatal(err)
	}
	err = <-done
	env.SIM.SetDrop(false)
	if !errors.Is(err, mm.ErrDaemonGone) || !strings.Contains(err.Error(), "ModemManager left the bus") {
		t.Fatalf("Profiles during the stop = %v, want ErrDaemonGone", err)
	}
	if _, err := m.Current(); !errors.Is(err, mm.ErrNoDaemon) {
		t.Errorf("Current without ModemManager = %v", err)
	}
	if _, err := mm.List(ctx, conn); !errors.Is(err, mm.ErrNoDaemon) {
		t.Errorf("List without ModemManager = %v", err)
	}

	if err := env.StartDaemon(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := c.Profiles(ctx)
	if err != nil {
		t.Fatalf("Profiles after the restart: %v", err)
	}
	if len(got) != len(want) {
		t.Errorf("profiles after restart = %d, before %d", len(got), len(want))
	}
	if _, err := m.Info(ctx); err != nil {
		t.Error(err)
	}
	_, err = mm.Open(ctx, conn, "356938035643809", mm.Options{})
	var nf *mm.NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, mm.ErrNotFound) || !slices.Contains(nf.Available, env.IMEI) {
		t.Errorf("Open(unknown IMEI) = %v", err)
	}
}
