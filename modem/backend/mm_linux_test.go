package backend_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/modem"
	"github.com/mobileplans/mobileplans/modem/backend"
	"github.com/mobileplans/mobileplans/modem/mm/mmtest"
)

// TestModemManagerFirst runs the real ModemManager on the simulated
// modem: List shows its modem first, marks the port it holds without
// probing it and still finds another AT modem; auto-selection takes
// ModemManager's modem although an AT port answers; raw commands,
// Connect and Refresh work through it.
func TestModemManagerFirst(t *testing.T) {
	t.Parallel()
	env := mmtest.New(t, mmtest.Options{})
	ctx := testCtx(t, 120*time.Second)
	other := simPort(t, "356938035643809")
	cfg := backend.Config{
		DBusAddress:  env.Addr,
		ProbeTimeout: 2 * time.Second,
		Ports:        func(context.Context) ([]string, error) { return []string{env.PTY, other}, nil },
	}

	before := env.CommandCount()
	cs, err := backend.List(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 {
		t.Fatalf("List = %+v", cs)
	}
	if c := cs[0]; c.Backend != backend.KindMM || c.Spec != "mm:"+env.IMEI || c.IMEI != env.IMEI || !c.Usable() ||
		c.ICCID == "" || !strings.HasPrefix(c.Path, "/org/freedesktop/ModemManager1/Modem/") || c.State == "" {
		t.Errorf("ModemManager entry %+v", c)
	}
	if c := cs[1]; c.Port != env.PTY || c.Usable() || !strings.Contains(c.Error, "held by ModemManager: use mm:"+env.IMEI) {
		t.Errorf("held port entry %+v", c)
	}
	if c := cs[2]; !c.Usable() || c.Spec != "at:"+other || c.IMEI != "356938035643809" {
		t.Errorf("other AT modem %+v", c)
	}
	for _, c := range env.SIM.Commands()[before:] {
		if c == "AT" || strings.HasPrefix(c, "ATE0") {
			t.Errorf("List probed ModemManager's port: %q reached the modem", c)
		}
	}

	m, err := backend.Open(ctx, backend.Spec{Kind: backend.KindAuto}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	b, ok := m.(*backend.MM)
	if !ok {
		t.Fatalf("auto opened %T, want *backend.MM", m)
	}
	if b.Spec().String() != "mm:"+env.IMEI || !strings.HasPrefix(b.Describe(), "ModemManager /org/freedesktop/ModemManager1/Modem/") {
		t.Errorf("spec %v, describe %q", b.Spec(), b.Describe())
	}
	resp, err := b.Command(ctx, "AT+CGSN")
	if err != nil || resp.Final != "OK" || !slices.Contains(resp.Lines, env.IMEI) {
		t.Fatalf("Command(AT+CGSN) = %+v, %v", resp, err)
	}
	if _, err := b.Command(ctx, "CGSN"); err == nil {
		t.Error("Command took a line that is not an AT command")
	}

	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	reg, err := b.Registration(ctx)
	if err != nil || !reg.State.Registered() {
		t.Fatalf("after Refresh: registration %+v, %v", reg, err)
	}
	n := env.CommandCount()
	if err := b.Connect(ctx, modem.Connection{APN: "internet.test", Auth: "none", IPType: "ipv4"}); err != nil {
		t.Fatal(err)
	}
	if len(env.Dials()) == 0 {
		t.Error("Connect dialled nothing")
	}
	if !slices.ContainsFunc(env.SIM.Commands()[n:], func(c string) bool {
		return strings.HasPrefix(c, "AT+CGDCONT=") && strings.Contains(c, `"internet.test"`)
	}) {
		t.Errorf("no AT+CGDCONT with the APN among %q", env.SIM.Commands()[n:])
	}
}

// TestModemManagerWithoutDebug: a stock ModemManager (no --debug) refuses
// Modem.Command; raw commands and the eUICC then go through the inhibited
// device's own AT port, and Refresh gives the device back.
func TestModemManagerWithoutDebug(t *testing.T) {
	t.Parallel()
	env := mmtest.New(t, mmtest.Options{NoDebug: true})
	ctx := testCtx(t, 120*time.Second)
	m, err := backend.Open(ctx, backend.Spec{Kind: backend.KindMM}, backend.Config{DBusAddress: env.Addr})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	b := m.(*backend.MM)
	resp, err := b.Command(ctx, "AT+CGSN")
	if err != nil || !slices.Contains(resp.Lines, env.IMEI) {
		t.Fatalf("Command(AT+CGSN) without --debug = %+v, %v", resp, err)
	}
	if acts := env.Polkit.Actions(); !slices.Contains(acts, "org.freedesktop.ModemManager1.Control") {
		t.Errorf("polkit was asked for %v, not for InhibitDevice's action", acts)
	}
	if _, err := b.Current(); err == nil {
		t.Error("ModemManager still exports the modem while it is inhibited")
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if info, err := b.Current(); err != nil || !info.Registration.Modem().Registered() {
		t.Fatalf("after Refresh: %+v, %v", info, err)
	}
}
