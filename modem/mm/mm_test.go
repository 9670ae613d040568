package mm

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/modem"
)

const testIMEI = "490154203237518"

// wireIfaces sends ifaces through the wire, as GetManagedObjects would.
func wireIfaces(t *testing.T, ifs map[string]map[string]dbus.Variant) ifaces {
	t.Helper()
	s := wireSignal(t, ManagerPath, ifaceObjManager, "InterfacesAdded", dbus.ObjectPath("/x"), ifs)
	return s.Body[1].(map[string]map[string]dbus.Variant)
}

func TestDecodeModem(t *testing.T) {
	const simPath = "/org/freedesktop/ModemManager1/SIM/3"
	ifs := wireIfaces(t, modemIfaces(testIMEI, simPath))
	sp := wireSignal(t, simPath, ifaceProperties, "PropertiesChanged", ifaceSIM, simProps("8944476500001234567"), []string{}).Body[1].(map[string]dbus.Variant)

	info := decodeModem("/org/freedesktop/ModemManager1/Modem/3", ifs)
	attachSIMs(&info, ifs, map[dbus.ObjectPath]props{simPath: sp})
	want := ModemInfo{
		Path: "/org/freedesktop/ModemManager1/Modem/3", IMEI: testIMEI, Manufacturer: "Mobileplans",
		Model: "SimModem 1000", Revision: "1.0.0", Device: "/sys/devices/usb1/1-1", Drivers: []string{"option"},
		Plugin: "generic", PrimaryPort: "ttyUSB2",
		Ports: []Port{{"ttyUSB0", PortAT}, {"wwan0", PortNet}, {"ttyUSB2", PortAT}},
		State: StateRegistered, Lock: LockNone, SignalPercent: 64, SignalRecent: true, AccessTech: AccessLTE,
		SIM: &SIMInfo{Path: simPath, Active: true, ICCID: "8944476500001234567", IMSI: "001010123456789",
			EID: "89049032000000000000000000000001", OperatorCode: "00101", OperatorName: "Contoso",
			Type: SIMTypeESIM, ESIMStatus: ESIMStatusWithProfiles},
		PrimarySlot: 1,
		Has3GPP:     true, Registration: Reg3GPPHome, OperatorCode: "00101", OperatorName: "Contoso",
	}
	want.Slots = []SIMInfo{*want.SIM, {Path: "/"}}
	if !reflect.DeepEqual(info, want) {
		t.Errorf("decodeModem =\n%+v\nwant\n%+v", info, want)
	}
	if got := info.ATPorts(); !reflect.DeepEqual(got, []string{"/dev/ttyUSB2", "/dev/ttyUSB0"}) {
		t.Errorf("ATPorts = %v", got)
	}
	if !info.Slots[1].Empty() || info.Slots[0].Empty() {
		t.Errorf("slot emptiness wrong: %+v", info.Slots)
	}
	mi := info.AsInfo()
	if mi.SIMState != "READY" || mi.ICCID != "8944476500001234567" || mi.Backend != "mm" || mi.Port != "ttyUSB2" {
		t.Errorf("AsInfo = %+v", mi)
	}
	reg := info.AsRegistration()
	wantReg := modem.Registration{State: modem.RegHome, StateName: "home", OperatorCode: "00101", OperatorName: "Contoso",
		AccessTech: "eutran", SignalDBm: -73, SignalValid: true}
	if reg != wantReg {
		t.Errorf("AsRegistration = %+v, want %+v", reg, wantReg)
	}
}

func TestDecodeTolerant(t *testing.T) {
	// Wrong types and missing properties leave zero values.
	ifs := ifaces{ifaceModem: {
		"EquipmentIdentifier": dbus.MakeVariant(uint32(7)),
		"State":               dbus.MakeVariant("registered"),
		"Ports":               dbus.MakeVariant([]string{"ttyUSB0"}),
		"SignalQuality":       dbus.MakeVariant([]any{"64", true}),
		"Sim":                 dbus.MakeVariant(dbus.ObjectPath("/")),
	}}
	info := decodeModem("/m", ifs)
	attachSIMs(&info, ifs, nil)
	if info.IMEI != "" || info.State != StateUnknown || info.Ports != nil || info.SignalPercent != 0 || info.SIM != nil || info.Has3GPP {
		t.Errorf("decodeModem = %+v", info)
	}
	if got := info.AsInfo().SIMState; got != "NOT INSERTED" {
		t.Errorf("SIM state without SIM = %q", got)
	}
}

func TestSIMState(t *testing.T) {
	sim := &SIMInfo{Path: "/s"}
	tests := []struct {
		info ModemInfo
		want string
	}{
		{ModemInfo{Lock: LockNone, SIM: sim}, "READY"},
		{ModemInfo{Lock: LockSIMPIN, SIM: sim}, "SIM PIN"},
		{ModemInfo{Lock: LockSIMPUK, SIM: sim}, "SIM PUK"},
		{ModemInfo{Lock: LockSIMPIN2, SIM: sim}, "SIM PIN2"},
		{ModemInfo{Lock: LockSIMPUK2, SIM: sim}, "SIM PUK2"},
		{ModemInfo{State: StateFailed, FailedReason: FailedSIMMissing}, "NOT INSERTED"},
		{ModemInfo{Lock: LockNone}, "NOT INSERTED"},
		{ModemInfo{Lock: LockUnknown, SIM: sim}, ""},
	}
	for _, tc := range tests {
		if got := tc.info.simState(); got != tc.want {
			t.Errorf("%+v: simState = %q, want %q", tc.info, got, tc.want)
		}
	}
}

func TestRegStateMapping(t *testing.T) {
	tests := []struct {
		in   RegState3GPP
		want modem.RegState
		name string
	}{
		{Reg3GPPIdle, modem.RegNotRegistered, "idle"},
		{Reg3GPPHome, modem.RegHome, "home"},
		{Reg3GPPSearching, modem.RegSearching, "searching"},
		{Reg3GPPDenied, modem.RegDenied, "denied"},
		{Reg3GPPUnknown, modem.RegUnknown, "unknown"},
		{Reg3GPPRoaming, modem.RegRoaming, "roaming"},
		{Reg3GPPHomeSMSOnly, modem.RegHome, "home-sms-only"},
		{Reg3GPPRoamingSMSOnly, modem.RegRoaming, "roaming-sms-only"},
		{Reg3GPPEmergencyOnly, modem.RegNotRegistered, "emergency-only"},
		{Reg3GPPHomeCSFBNotPreferred, modem.RegHome, "home-csfb-not-preferred"},
		{Reg3GPPRoamingCSFBNotPreferred, modem.RegRoaming, "roaming-csfb-not-preferred"},
		{Reg3GPPAttachedRLOS, modem.RegNotRegistered, "attached-rlos"},
		{RegState3GPP(12), modem.RegUnknown, "registration-12"},
	}
	for _, tc := range tests {
		if got := tc.in.Modem(); got != tc.want {
			t.Errorf("%d.Modem() = %v, want %v", tc.in, got, tc.want)
		}
		if got := tc.in.String(); got != tc.name {
			t.Errorf("%d.String() = %q, want %q", tc.in, got, tc.name)
		}
	}
}

func TestAccessFamily(t *testing.T) {
	tests := []struct {
		in   AccessTech
		want string
	}{
		{0, ""},
		{AccessGSM | AccessEDGE, "gsm"},
		{AccessHSPAPlus, "utran"},
		{AccessLTE | AccessUMTS, "eutran"},
		{Access5GNR | AccessLTE, "nr"},
		{AccessEVDOA, "cdma"},
		{AccessPOTS, ""},
	}
	for _, tc := range tests {
		if got := tc.in.Family(); got != tc.want {
			t.Errorf("%#x.Family() = %q, want %q", uint32(tc.in), got, tc.want)
		}
	}
}

func TestPercentToDBm(t *testing.T) {
	// The inverse of ModemManager's +CSQ mapping (rssi*100/31 percent, and
	// rssi = (dBm+113)/2).
	for rssi := 1; rssi <= 31; rssi++ {
		percent := uint32(rssi * 100 / 31)
		dbm := -113 + 2*rssi
		if got := percentToDBm(percent); got < dbm-1 || got > dbm+1 {
			t.Errorf("rssi %d (%d%%): %d dBm, want %d±1", rssi, percent, got, dbm)
		}
	}
}

func TestStringers(t *testing.T) {
	tests := []struct {
		v    interface{ String() string }
		want string
	}{
		{StateFailed, "failed"}, {StateConnected, "connected"}, {State(42), "state-42"},
		{FailedESIMWithoutProfiles, "esim-without-profiles"}, {FailedReason(9), "reason-9"},
		{LockSIMPUK2, "sim-puk2"}, {Lock(16), "lock-16"},
		{PortAT, "at"}, {PortXMMRPC, "xmmrpc"}, {PortType(0), "port-type-0"},
		{SIMTypeESIM, "esim"}, {SIMType(5), "sim-type-5"},
		{ESIMStatusNoProfiles, "no-profiles"}, {ESIMStatus(3), "esim-status-3"},
		{IPMethodPPP, "ppp"}, {IPMethod(9), "ip-method-9"},
	}
	for _, tc := range tests {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
	if !StateSearching.Enabled() || StateDisabled.Enabled() {
		t.Error("State.Enabled")
	}
}

func TestResponseParsing(t *testing.T) {
	tests := []struct {
		resp    string
		want    []byte
		wantErr bool
	}{
		{"+CGLA: 4,\"9000\"", []byte{0x90, 0x00}, false},
		{"\r\n+CGLA: 8,\"BF3E9000\"\r\n", []byte{0xBF, 0x3E, 0x90, 0x00}, false},
		{"+CGLA: 6,\"9000\"", nil, true},
		{"OK", nil, true},
		{"", nil, true},
	}
	for _, tc := range tests {
		got, err := parseCGLAResponse(responseLines(tc.resp))
		if (err != nil) != tc.wantErr || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %X, %v", tc.resp, got, err)
		}
	}
	if got := responseLines("Mobileplans\r\n\r\nSimModem 1000\n Revision: 1.0.0 "); !reflect.DeepEqual(got, []string{"Mobileplans", "SimModem 1000", "Revision: 1.0.0"}) {
		t.Errorf("responseLines = %q", got)
	}
	if got := commandName(`AT+CGLA=1,10,"80E2910006"`); got != "AT+CGLA" {
		t.Errorf("commandName = %q", got)
	}
}

func TestErrors(t *testing.T) {
	call := func(name, msg string) error {
		return wrapCall("Modem.Command AT+CCHO", dbus.Error{Name: name, Body: []any{msg}})
	}
	unauth := call(errUnauthorized, "Operation only allowed in debug mode")
	var e *Error
	if !errors.As(unauth, &e) || !e.Unauthorized() {
		t.Fatalf("wrapCall = %#v", unauth)
	}
	if got := unauth.Error(); got != "mm: Modem.Command AT+CCHO: Operation only allowed in debug mode (Core.Unauthorized)" {
		t.Errorf("Error() = %q", got)
	}
	tests := []struct {
		name              string
		refused, chanGone bool
		vanished          bool
	}{
		{errUnauthorized, true, false, false},
		{errUnsupported, true, false, false},
		{errMEPrefix + "NotAllowed", true, false, false},
		{errMEPrefix + "NotSupported", true, false, false},
		{errMEPrefix + "Unknown", true, false, false},
		{errMEPrefix + "NotFound", false, false, false},
		{errMEPrefix + "InvalidIndex", false, true, false},
		{errMEPrefix + "IncorrectParameters", false, true, false},
		{errMEPrefix + "SimBusy", false, true, false},
		{errDBusNoReply, false, false, true},
		{errDBusUnknownName, false, false, true},
	}
	for _, tc := range tests {
		err := call(tc.name, "x")
		e, _ := asError(err)
		if commandRefused(err) != tc.refused || e.channelGone() != tc.chanGone || e.daemonVanished() != tc.vanished {
			t.Errorf("%s: refused %t gone %t vanished %t", tc.name, commandRefused(err), e.channelGone(), e.daemonVanished())
		}
	}
	if commandRefused(errors.New("plain")) {
		t.Error("a non-D-Bus error counts as refused")
	}

	nae := &NoAPDUAccessError{Command: unauth, Inhibit: call(errUnauthorized, "not authorized")}
	if !errors.Is(nae, ErrNoAPDUAccess) || !errors.As(nae, &e) {
		t.Error("NoAPDUAccessError does not match")
	}
	for _, s := range []string{"--debug", "polkit", "AT port", "debug mode", "not authorized"} {
		if !strings.Contains(nae.Error(), s) {
			t.Errorf("%q lacks %q", nae.Error(), s)
		}
	}
	nf := &NotFoundError{IMEI: "1", Available: []string{"2", "3"}}
	if !errors.Is(nf, ErrNotFound) || nf.Error() != "mm: ModemManager has no modem with IMEI 1 (modems: 2, 3)" {
		t.Errorf("NotFoundError: %v", nf)
	}
	dg := &DaemonGoneError{Op: "Modem.Command AT+CGLA", Err: call(errDBusNoReply, "gone")}
	if !errors.Is(dg, ErrDaemonGone) || !strings.Contains(dg.Error(), "retry") {
		t.Errorf("DaemonGoneError: %v", dg)
	}
}

func TestPick(t *testing.T) {
	ms := []ModemInfo{{IMEI: "1"}, {IMEI: "2"}}
	if m, err := pick(ms, "2"); err != nil || m.IMEI != "2" {
		t.Errorf("pick 2 = %v, %v", m, err)
	}
	var amb *AmbiguousError
	if _, err := pick(ms, ""); !errors.As(err, &amb) {
		t.Errorf("pick any of two = %v", err)
	}
	if m, err := pick(ms[:1], ""); err != nil || m.IMEI != "1" {
		t.Errorf("pick the only = %v, %v", m, err)
	}
	if _, err := pick(nil, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("pick none = %v", err)
	}
	if _, err := pick(ms, "9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("pick unknown = %v", err)
	}
}

func TestAPNProperties(t *testing.T) {
	roam := false
	got := APN{Name: "internet", User: "u", Password: "p", Auth: AuthPAP | AuthCHAP, IPType: IPv4v6, AllowRoaming: &roam}.properties()
	want := map[string]dbus.Variant{
		"apn": dbus.MakeVariant("internet"), "user": dbus.MakeVariant("u"), "password": dbus.MakeVariant("p"),
		"allowed-auth": dbus.MakeVariant(uint32(6)), "ip-type": dbus.MakeVariant(uint32(4)),
		"allow-roaming": dbus.MakeVariant(false),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("properties = %v", got)
	}
	if got := (APN{Name: "x"}).properties(); len(got) != 1 {
		t.Errorf("minimal properties = %v", got)
	}
}

func TestOptionsDefaults(t *testing.T) {
	o, err := Options{}.withDefaults()
	if err != nil || o.Access != AccessAuto || o.APDUTimeout != defaultAPDUTimeout || o.Logger == nil || o.AT.Logger == nil {
		t.Errorf("defaults = %+v, %v", o, err)
	}
	if _, err := (Options{Access: "qmi"}).withDefaults(); err == nil {
		t.Error("unknown access accepted")
	}
	m := &Modem{opts: Options{APDUTimeout: 1500 * 1e6}}
	if got := m.commandTimeout(); got != 2 {
		t.Errorf("commandTimeout(1.5s) = %d", got)
	}
}

// TestWatchState drives the watcher's state with signals off the wire: a
// modem appears, changes, its SIM changes, it is removed, and signals from
// another sender are ignored.
func TestWatchState(t *testing.T) {
	const (
		path1 = dbus.ObjectPath("/org/freedesktop/ModemManager1/Modem/0")
		sim1  = "/org/freedesktop/ModemManager1/SIM/0"
	)
	st := &watchState{owner: ":1.7"}
	added := wireSignal(t, ManagerPath, ifaceObjManager, "InterfacesAdded", path1, modemIfaces(testIMEI, sim1))
	if !st.handle(added, testIMEI) {
		t.Error("our modem appearing does not ask for a resync")
	}
	if st.handle(added, "356938035643809") {
		t.Error("another modem appearing asks for a resync")
	}
	// The resync installs the modem.
	st.setPath(path1)
	st.ifs = added.Body[1].(map[string]map[string]dbus.Variant)
	st.sims = map[dbus.ObjectPath]props{sim1: simProps("1")}

	changed := wireSignal(t, path1, ifaceProperties, "PropertiesChanged", iface3GPP,
		map[string]dbus.Variant{"RegistrationState": dbus.MakeVariant(uint32(5))}, []string{})
	if st.handle(changed, testIMEI) {
		t.Error("a registration change asks for a resync")
	}
	if got := decodeModem(st.path, st.ifs).Registration; got != Reg3GPPRoaming {
		t.Errorf("registration = %v", got)
	}
	simChanged := wireSignal(t, sim1, ifaceProperties, "PropertiesChanged", ifaceSIM,
		map[string]dbus.Variant{"SimIdentifier": dbus.MakeVariant("2")}, []string{})
	st.handle(simChanged, testIMEI)
	if got := decodeSIM(sim1, st.sims[sim1]).ICCID; got != "2" {
		t.Errorf("ICCID = %q", got)
	}
	newSIM := wireSignal(t, path1, ifaceProperties, "PropertiesChanged", ifaceModem,
		map[string]dbus.Variant{"Sim": dbus.MakeVariant(dbus.ObjectPath("/org/freedesktop/ModemManager1/SIM/1"))}, []string{})
	if !st.handle(newSIM, testIMEI) {
		t.Error("a new SIM object does not ask for a resync")
	}

	foreign := *changed
	foreign.Sender = ":1.99"
	foreign.Body = []any{iface3GPP, map[string]dbus.Variant{"RegistrationState": dbus.MakeVariant(uint32(3))}, []string{}}
	st.handle(&foreign, testIMEI)
	if got := decodeModem(st.path, st.ifs).Registration; got != Reg3GPPRoaming {
		t.Errorf("a foreign sender changed the state: %v", got)
	}

	epoch := st.pathEpoch
	partial := wireSignal(t, ManagerPath, ifaceObjManager, "InterfacesRemoved", path1, []string{"org.freedesktop.ModemManager1.Modem.Messaging"})
	st.handle(partial, testIMEI)
	if st.path != path1 {
		t.Error("removing a secondary interface removed the modem")
	}
	removed := wireSignal(t, ManagerPath, ifaceObjManager, "InterfacesRemoved", path1, []string{iface3GPP, ifaceModem})
	st.handle(removed, testIMEI)
	if st.path != "" || st.pathEpoch != epoch+1 || st.ifs != nil {
		t.Errorf("after removal: path %q epoch %d", st.path, st.pathEpoch)
	}
}

func TestResyncOrdering(t *testing.T) {
	r := resyncResult{snap: snapshot{seq: 10}, simSeq: map[dbus.ObjectPath]dbus.Sequence{"/sim": 20}}
	tests := []struct {
		s    dbus.Signal
		want bool
	}{
		{dbus.Signal{Path: "/modem", Sequence: 9}, false},
		{dbus.Signal{Path: "/modem", Sequence: 11}, true},
		{dbus.Signal{Path: "/sim", Sequence: 15}, false},
		{dbus.Signal{Path: "/sim", Sequence: 21}, true},
		{dbus.Signal{Name: ifaceBus + ".NameOwnerChanged", Sequence: 1}, true},
	}
	for _, tc := range tests {
		if got := r.newer(&tc.s); got != tc.want {
			t.Errorf("newer(%s #%d) = %t", tc.s.Path, tc.s.Sequence, got)
		}
	}
}

func TestChannelArguments(t *testing.T) {
	m := &Modem{done: make(chan struct{})}
	if _, err := m.OpenChannel(t.Context(), []byte{1, 2}); err == nil {
		t.Error("short AID accepted")
	}
	c := &cmdChannel{m: m, label: "CGLA session 1"}
	if _, err := c.Transmit(t.Context(), []byte{0x80}); err == nil {
		t.Error("short APDU accepted")
	}
	c.closed = true
	if _, err := c.Transmit(t.Context(), []byte{0x80, 0xE2, 0x91, 0x00}); !errors.Is(err, apdu.ErrChannelClosed) {
		t.Errorf("Transmit after Close = %v", err)
	}
}
