package app

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/modem"
	"github.com/mobileplans/mobileplans/ui/portal"
)

func TestCanTransition(t *testing.T) {
	tests := []struct {
		from, to State
		want     bool
	}{
		{StateIdle, StateProbe, true},
		{StateIdle, StatePortal, true},
		{StateIdle, StateDownload, true}, // a deferred download
		{StateIdle, StateRegister, false},
		{StateIdle, StateFailed, false},
		{StateProbe, StateDiscover, true},
		{StateProbe, StateDownload, false},
		{StateDiscover, StateProbe, true},
		{StateGateway, StateFailed, true},
		{StatePortal, StateDownload, true},
		{StatePortal, StateEnable, true},
		{StatePortal, StateInstall, false},
		{StatePortal, StateDone, true},
		{StateDownload, StateInstall, true},
		{StateDownload, StateEnable, false},
		{StateDownload, StateDone, false},
		{StateDownload, StateProbe, false},
		{StateInstall, StateDownload, true},
		{StateInstall, StateEnable, true},
		{StateEnable, StateRefresh, true},
		{StateEnable, StateRegister, true},
		{StateEnable, StateConnect, false},
		{StateRefresh, StateRegister, true},
		{StateRegister, StateConnect, true},
		{StateRegister, StateDone, true},
		{StateRegister, StatePortal, false},
		{StateConnect, StateDone, true},
		{StateConnect, StateCancelled, true},
		{StateDone, StatePortal, true},
		{StateDone, StateFailed, false},
		{StateFailed, StatePortal, true},
		{StateFailed, StateRegister, false},
		{StateCancelled, StateDownload, true},
		{StateCancelled, StateCancelled, true},
		{StateDownload, StateDownload, true},
		{"bogus", StateProbe, false},
		{"bogus", "bogus", false},
	}
	for _, tt := range tests {
		if got := CanTransition(tt.from, tt.to); got != tt.want {
			t.Errorf("CanTransition(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestStateGraph(t *testing.T) {
	for _, s := range States() {
		for _, to := range next(s) {
			if !slices.Contains(States(), to) {
				t.Errorf("%s -> undefined %s", s, to)
			}
		}
		// Every running state can fail and be cancelled.
		if s.Running() && (!CanTransition(s, StateFailed) || !CanTransition(s, StateCancelled)) {
			t.Errorf("%s cannot end", s)
		}
		// A fulfilment never jumps to a UI step.
		if s.Running() && CanTransition(s, StatePortal) {
			t.Errorf("%s -> portal", s)
		}
		reachable := s == StateIdle
		for _, from := range States() {
			if from != s && CanTransition(from, s) {
				reachable = true
			}
		}
		if !reachable {
			t.Errorf("%s is unreachable", s)
		}
	}
	err := error(&TransitionError{From: StateDownload, To: StateProbe})
	if !errors.Is(err, ErrIllegalTransition) || err.Error() == "" {
		t.Fatal(err)
	}
}

func TestRoundUpInterval(t *testing.T) {
	for _, tt := range []struct {
		minutes int
		want    time.Duration
	}{{-3, 0}, {0, 0}, {1, 15 * time.Minute}, {5, 15 * time.Minute}, {15, 15 * time.Minute}, {16, 30 * time.Minute},
		{60, time.Hour}, {61, 75 * time.Minute}, {portal.MaxMinutes, time.Duration(portal.MaxMinutes) * time.Minute}} {
		if got := RoundUpInterval(tt.minutes); got != tt.want {
			t.Errorf("RoundUpInterval(%d) = %s, want %s", tt.minutes, got, tt.want)
		}
	}
}

func TestRegistrationStateOf(t *testing.T) {
	for _, tt := range []struct {
		stat modem.RegState
		want portal.RegistrationState
	}{
		{modem.RegNotRegistered, portal.RegistrationDeregistered},
		{modem.RegHome, portal.RegistrationHome},
		{modem.RegSearching, portal.RegistrationSearching},
		{modem.RegDenied, portal.RegistrationDenied},
		{modem.RegUnknown, portal.RegistrationNone},
		{modem.RegRoaming, portal.RegistrationRoaming},
		{6, portal.RegistrationHome},
		{7, portal.RegistrationRoaming},
		{8, portal.RegistrationDeregistered},
		{9, portal.RegistrationHome},
		{10, portal.RegistrationRoaming},
		{11, portal.RegistrationDeregistered},
		{-1, portal.RegistrationNone},
		{42, portal.RegistrationNone},
	} {
		if got := RegistrationStateOf(tt.stat); got != tt.want {
			t.Errorf("RegistrationStateOf(%d) = %s, want %s", tt.stat, got, tt.want)
		}
	}
}

func TestDeviceInfo(t *testing.T) {
	for _, tt := range []struct {
		imei string
		tac  [4]byte
	}{
		{"490154203237518", [4]byte{0x94, 0x10, 0x45, 0x02}},
		{"356938035643809", [4]byte{0x53, 0x96, 0x83, 0x30}},
		{"", [4]byte{}},
		{"49015420323751", [4]byte{}},
		{"49015420323751x", [4]byte{}},
	} {
		di := deviceInfo(tt.imei)
		if di.TAC != tt.tac || (di.TAC != [4]byte{}) != (di.IMEI != "") || (di.IMEI != "" && di.IMEI != tt.imei) {
			t.Errorf("deviceInfo(%q) = %+v", tt.imei, di)
		}
	}
}

func TestNormICCID(t *testing.T) {
	for in, want := range map[string]string{"8988247000101867183F": "8988247000101867183", " 89882470001018671830 ": "89882470001018671830",
		"8988247000101867183f": "8988247000101867183", "": ""} {
		if got := normICCID(in); got != want {
			t.Errorf("normICCID(%q) = %q", in, got)
		}
	}
}

// deadModem is a modem that cannot be reached.
type deadModem struct{}

func (deadModem) Info(context.Context) (modem.Info, error) {
	return modem.Info{}, errors.New("no answer")
}
func (deadModem) Registration(context.Context) (modem.Registration, error) {
	return modem.Registration{}, errors.New("no answer")
}
func (deadModem) OpenChannel(context.Context, []byte) (apdu.Channel, error) {
	return nil, errors.New("no answer")
}

func testConfig(t *testing.T) Config {
	t.Helper()
	es9c, err := lpa.NewES9Client(lpa.ES9Options{})
	if err != nil {
		t.Fatal(err)
	}
	return Config{Modem: deadModem{}, Discovery: &fakeDiscovery{}, ES9: es9c, StateDir: t.TempDir(), Clock: newFakeClock()}
}

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"no modem", func(c *Config) { c.Modem = nil }},
		{"no discovery", func(c *Config) { c.Discovery = nil }},
		{"no ES9+ client", func(c *Config) { c.ES9 = nil }},
		{"bad location", func(c *Config) { c.Location = "USA" }},
		{"bad market", func(c *Config) { c.Market = "1X" }},
		{"language with a line break", func(c *Config) { c.Language = "en\r\nX-Evil: 1" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			tt.mod(&cfg)
			if _, err := New(context.Background(), cfg); !errors.Is(err, ErrConfig) {
				t.Fatalf("New: %v", err)
			}
		})
	}
}

func TestAgentWithoutModem(t *testing.T) {
	a, err := New(context.Background(), testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	ev := record(a)
	ctx := context.Background()
	if _, err := a.Wait(ctx); !errors.Is(err, ErrNoJourney) {
		t.Fatalf("Wait: %v", err)
	}
	if err := a.Cancel(ctx); !errors.Is(err, ErrNoJourney) {
		t.Fatalf("Cancel: %v", err)
	}
	if _, err := a.HandleBridgeMessage(ctx, portal.Message{Raw: []byte(`{}`), Origin: "https://x.test"}); !errors.Is(err, ErrNoPortalSession) {
		t.Fatalf("bridge call without a portal: %v", err)
	}
	if _, err := a.HandleBridgeCall(ctx, &portal.CancelledPurchase{}); !errors.Is(err, ErrNoPortalSession) {
		t.Fatalf("bridge call without a portal: %v", err)
	}
	_, err = a.Probe(ctx)
	if r, _ := Classify(err); !errors.Is(err, ErrModem) || r != portal.ActivationModemNotFound {
		t.Fatalf("Probe: %v", err)
	}
	e := ev.next(t, "error", func(e Event) bool { _, ok := e.(ErrorEvent); return ok }).(ErrorEvent)
	if e.State != StateProbe || e.Status != StatusCardRemoved {
		t.Fatalf("error event %+v", e)
	}
	ev.next(t, "failed", isState(StateFailed))
	if _, err := a.PortalLaunch(ctx, "nobody"); err == nil {
		t.Fatal("portal launch of an unknown operator")
	}
	if err := a.RunDeferred(ctx, "mp-x"); !errors.Is(err, ErrUnknownOperation) {
		t.Fatalf("RunDeferred: %v", err)
	}
	if err := a.SetSettings(Settings{Location: "gb", Market: "fr"}); err != nil {
		t.Fatal(err)
	}
	if s := a.Settings(); s.Location != "GB" || s.Market != "FR" {
		t.Fatalf("settings %+v", s)
	}
	if err := a.SetSettings(Settings{Location: "Britain"}); err == nil {
		t.Fatal("bad settings accepted")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	<-ev.done // the events channel is closed
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
}
