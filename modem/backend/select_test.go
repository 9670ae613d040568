package backend

import (
	"github.com/mobileplans/mobileplans/modem"

	"slices"
	"testing"

	"github.com/godbus/dbus/v5"

	"github.com/mobileplans/mobileplans/modem/mm"
)

func TestRankMM(t *testing.T) {
	esim := &mm.SIMInfo{Type: mm.SIMTypeESIM}
	withEID := &mm.SIMInfo{EID: "89049032123451234512345678901235"}
	physical := &mm.SIMInfo{Type: mm.SIMTypePhysical, ICCID: "8901"}
	mod := func(n string, st mm.State, sim *mm.SIMInfo) mm.ModemInfo {
		return mm.ModemInfo{Path: dbus.ObjectPath("/org/freedesktop/ModemManager1/Modem/" + n), IMEI: "imei" + n, State: st, SIM: sim}
	}
	tests := []struct {
		name string
		in   []mm.ModemInfo
		want []string // IMEIs
	}{
		{"none", nil, []string{}},
		{"one", []mm.ModemInfo{mod("0", mm.StateRegistered, nil)}, []string{"imei0"}},
		{"path order", []mm.ModemInfo{mod("2", mm.StateRegistered, physical), mod("1", mm.StateDisabled, physical)},
			[]string{"imei1", "imei2"}},
		{"eSIM before physical SIM", []mm.ModemInfo{mod("0", mm.StateRegistered, physical), mod("1", mm.StateDisabled, esim)},
			[]string{"imei1", "imei0"}},
		{"known EID counts as eSIM", []mm.ModemInfo{mod("0", mm.StateRegistered, nil), mod("1", mm.StateRegistered, withEID)},
			[]string{"imei1", "imei0"}},
		{"failed after working", []mm.ModemInfo{mod("0", mm.StateFailed, esim), mod("1", mm.StateEnabled, esim), mod("2", mm.StateFailed, physical)},
			[]string{"imei1", "imei0", "imei2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.in)
			got := []string{}
			for _, m := range rankMM(tt.in) {
				got = append(got, m.IMEI)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("rankMM = %v, want %v", got, tt.want)
			}
			if !slices.EqualFunc(in, tt.in, func(a, b mm.ModemInfo) bool { return a.Path == b.Path }) {
				t.Fatal("rankMM changed its argument")
			}
		})
	}
}

func TestOrderPorts(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"empty", nil, []string{}},
		{"numeric order", []string{"/dev/ttyUSB10", "/dev/ttyUSB2", "/dev/ttyUSB0"}, []string{"/dev/ttyUSB0", "/dev/ttyUSB2", "/dev/ttyUSB10"}},
		{"classes", []string{"/dev/ttyUSB0", "/dev/ttyACM1", "/dev/wwan0at1", "/dev/ttyS0", "/dev/ttyACM0", "/dev/wwan0at0"},
			[]string{"/dev/wwan0at0", "/dev/wwan0at1", "/dev/ttyACM0", "/dev/ttyACM1", "/dev/ttyUSB0", "/dev/ttyS0"}},
		{"wwan qcdm is not an AT port", []string{"/dev/wwan0qcdm0", "/dev/wwan0at0"}, []string{"/dev/wwan0at0", "/dev/wwan0qcdm0"}},
		{"duplicates", []string{"/dev/ttyUSB2", "/dev/ttyUSB2"}, []string{"/dev/ttyUSB2"}},
		{"windows", []string{"COM10", "COM3", "COM1"}, []string{"COM1", "COM3", "COM10"}},
		{"leading zeros", []string{"/dev/x010", "/dev/x9", "/dev/x10"}, []string{"/dev/x9", "/dev/x010", "/dev/x10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := orderPorts(tt.in)
			if got == nil {
				got = []string{}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("orderPorts(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestPickPort(t *testing.T) {
	ok := func(port, imei string) Candidate {
		return Candidate{Backend: KindAT, Spec: "at:" + port, Port: port, IMEI: imei}
	}
	bad := Candidate{Backend: KindAT, Port: "/dev/ttyUSB0", Error: "does not answer AT"}
	tests := []struct {
		name   string
		probes []Candidate
		want   string
	}{
		{"none", nil, ""},
		{"all fail", []Candidate{bad}, ""},
		{"first usable", []Candidate{bad, ok("/dev/ttyUSB1", "1"), ok("/dev/ttyUSB2", "2")}, "/dev/ttyUSB1"},
		{"one with an IMEI first", []Candidate{ok("/dev/ttyUSB1", ""), ok("/dev/ttyUSB2", "2")}, "/dev/ttyUSB2"},
		{"else one without", []Candidate{bad, ok("/dev/ttyUSB3", "")}, "/dev/ttyUSB3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := pickPort(tt.probes)
			if found != (tt.want != "") || got.Port != tt.want {
				t.Fatalf("pickPort = %+v, %v; want %q", got, found, tt.want)
			}
		})
	}
}

func TestAPNOf(t *testing.T) {
	yes := true
	tests := []struct {
		in   connection
		want mm.APN
		err  bool
	}{
		{in: connection{APN: "internet", RoamingAllowed: true}, want: mm.APN{Name: "internet", AllowRoaming: &yes}},
		{in: connection{APN: "a", Auth: "none", IPType: "ipv4"}, want: mm.APN{Name: "a", Auth: mm.AuthNone, IPType: mm.IPv4}},
		{in: connection{APN: "a", User: "u", Password: "p", Auth: "PAP", IPType: "ipv6"},
			want: mm.APN{Name: "a", User: "u", Password: "p", Auth: mm.AuthPAP, IPType: mm.IPv6}},
		{in: connection{APN: "a", Auth: "chap", IPType: "ipv4v6"}, want: mm.APN{Name: "a", Auth: mm.AuthCHAP, IPType: mm.IPv4v6}},
		{in: connection{APN: "a", Auth: "mschap"}, err: true},
		{in: connection{APN: "a", IPType: "ipx"}, err: true},
	}
	for _, tt := range tests {
		got, err := apnOf(tt.in)
		if tt.err {
			if err == nil {
				t.Errorf("apnOf(%+v) = %+v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got.Name != tt.want.Name || got.User != tt.want.User || got.Password != tt.want.Password ||
			got.Auth != tt.want.Auth || got.IPType != tt.want.IPType || got.AllowRoaming == nil ||
			*got.AllowRoaming != tt.in.RoamingAllowed {
			t.Errorf("apnOf(%+v) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

type connection = modem.Connection
