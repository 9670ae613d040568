package mm

import (
	"testing"

	"github.com/godbus/dbus/v5"
)

// FuzzSignal feeds arbitrary D-Bus messages, as ModemManager (or anybody
// on the bus) could send them, through the watcher's state machine and the
// property decoders: nothing may panic, whatever the types.
func FuzzSignal(f *testing.F) {
	const sim1 = "/org/freedesktop/ModemManager1/SIM/0"
	path1 := dbus.ObjectPath("/org/freedesktop/ModemManager1/Modem/0")
	f.Add(wireMessage(f, ManagerPath, ifaceObjManager, "InterfacesAdded", path1, modemIfaces(testIMEI, sim1)))
	f.Add(wireMessage(f, ManagerPath, ifaceObjManager, "InterfacesRemoved", path1, []string{ifaceModem}))
	f.Add(wireMessage(f, path1, ifaceProperties, "PropertiesChanged", ifaceModem,
		map[string]dbus.Variant{"State": dbus.MakeVariant(int32(8)), "Ports": dbus.MakeVariant([]port{{"ttyUSB0", 3}})}, []string{"Sim"}))
	f.Add(wireMessage(f, sim1, ifaceProperties, "PropertiesChanged", ifaceSIM, simProps("1"), []string{}))
	f.Add(wireMessage(f, path1, ifaceProperties, "PropertiesChanged", ifaceModem,
		map[string]dbus.Variant{"SignalQuality": dbus.MakeVariant([]string{"x"}), "Sim": dbus.MakeVariant("/")}, []string{}))
	f.Add(wireMessage(f, ManagerPath, ifaceObjManager, "InterfacesAdded", "/a", map[string]map[string]dbus.Variant{}))
	f.Add([]byte("l\x04\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, ok := decodeSignal(data)
		if !ok {
			return
		}
		st := &watchState{owner: s.Sender, path: path1, ifs: ifaces{}, sims: map[dbus.ObjectPath]props{sim1: {}}}
		for _, name := range []string{s.Name, ifaceProperties + ".PropertiesChanged",
			ifaceObjManager + ".InterfacesAdded", ifaceObjManager + ".InterfacesRemoved"} {
			s.Name = name
			st.handle(s, testIMEI)
			info := decodeModem(st.path, st.ifs)
			attachSIMs(&info, st.ifs, st.sims)
			_ = info.AsInfo()
			_ = info.AsRegistration()
			_ = info.ATPorts()
		}
		if len(s.Body) > 0 {
			if m, ok := s.Body[len(s.Body)-1].(map[string]dbus.Variant); ok {
				_ = decodeBearer("/b", m)
				_ = decodeSIM("/s", m)
			}
		}
	})
}

// FuzzCommandResponse parses Modem.Command responses to AT+CCHO and
// AT+CGLA.
func FuzzCommandResponse(f *testing.F) {
	for _, s := range []string{
		"+CGLA: 4,\"9000\"",
		"+CGLA: 46,\"BF3E125A10890490326656442651762681078995569000\"",
		"+CCHO: 100",
		"\r\n+CCHO: \"3\"\r\n",
		"12\r\n",
		"+CGLA: 5,\"9000\"",
		"+CGLA: 4,9G00",
		"Mobileplans\r\n\r\nSimModem 1000",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, resp string) {
		lines := responseLines(resp)
		for _, l := range lines {
			if l == "" {
				t.Fatalf("empty line from %q", resp)
			}
		}
		if b, err := parseCGLAResponse(lines); err == nil && len(b) < 2 {
			t.Fatalf("CGLA response %X without status word from %q", b, resp)
		}
		_ = commandName(resp)
	})
}
