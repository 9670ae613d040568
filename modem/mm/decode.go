package mm

import (
	"github.com/godbus/dbus/v5"
)

// props are the properties of one interface, as GetAll and
// PropertiesChanged deliver them.
type props = map[string]dbus.Variant

// ifaces are the interfaces of one object with their properties, as
// GetManagedObjects and InterfacesAdded deliver them.
type ifaces = map[string]props

// The decoders below read what ModemManager sent. They are tolerant: a
// property that is missing or has an unexpected type leaves its field at
// the zero value, so that one odd property does not hide a modem.

func str(p props, name string) string {
	s, _ := p[name].Value().(string)
	return s
}

func u32(p props, name string) uint32 {
	u, _ := p[name].Value().(uint32)
	return u
}

func boolean(p props, name string) bool {
	b, _ := p[name].Value().(bool)
	return b
}

func objPath(p props, name string) dbus.ObjectPath {
	o, _ := p[name].Value().(dbus.ObjectPath)
	return o
}

func strs(p props, name string) []string {
	s, _ := p[name].Value().([]string)
	return s
}

func objPaths(p props, name string) []dbus.ObjectPath {
	o, _ := p[name].Value().([]dbus.ObjectPath)
	return o
}

// ports decodes a(su).
func ports(p props, name string) []Port {
	var out []Port
	if v, ok := p[name].Value().([][]any); ok {
		for _, e := range v {
			if len(e) != 2 {
				continue
			}
			n, ok1 := e[0].(string)
			t, ok2 := e[1].(uint32)
			if ok1 && ok2 {
				out = append(out, Port{Name: n, Type: PortType(t)})
			}
		}
	}
	return out
}

// signalQuality decodes (ub).
func signalQuality(p props, name string) (uint32, bool) {
	if v, ok := p[name].Value().([]any); ok && len(v) == 2 {
		q, ok1 := v[0].(uint32)
		r, ok2 := v[1].(bool)
		if ok1 && ok2 {
			return q, r
		}
	}
	return 0, false
}

// decodeModem reads a modem object's interfaces. SIM fields are filled
// separately (the SIM objects are not part of the ObjectManager).
func decodeModem(path dbus.ObjectPath, ifs ifaces) ModemInfo {
	m := ifs[ifaceModem]
	info := ModemInfo{
		Path:             path,
		IMEI:             str(m, "EquipmentIdentifier"),
		Manufacturer:     str(m, "Manufacturer"),
		Model:            str(m, "Model"),
		Revision:         str(m, "Revision"),
		HardwareRevision: str(m, "HardwareRevision"),
		Device:           str(m, "Device"),
		Drivers:          strs(m, "Drivers"),
		Plugin:           str(m, "Plugin"),
		PrimaryPort:      str(m, "PrimaryPort"),
		Ports:            ports(m, "Ports"),
		FailedReason:     FailedReason(u32(m, "StateFailedReason")),
		Lock:             Lock(u32(m, "UnlockRequired")),
		AccessTech:       AccessTech(u32(m, "AccessTechnologies")),
		OwnNumbers:       strs(m, "OwnNumbers"),
		PrimarySlot:      u32(m, "PrimarySimSlot"),
	}
	if s, ok := m["State"].Value().(int32); ok {
		info.State = State(s)
	}
	info.SignalPercent, info.SignalRecent = signalQuality(m, "SignalQuality")
	if g, ok := ifs[iface3GPP]; ok {
		info.Has3GPP = true
		info.Registration = RegState3GPP(u32(g, "RegistrationState"))
		info.OperatorCode = str(g, "OperatorCode")
		info.OperatorName = str(g, "OperatorName")
		if info.IMEI == "" {
			info.IMEI = str(g, "Imei")
		}
	}
	return info
}

// simPaths returns the modem's primary SIM path ("" when none) and its
// slot paths.
func simPaths(ifs ifaces) (dbus.ObjectPath, []dbus.ObjectPath) {
	m := ifs[ifaceModem]
	p := objPath(m, "Sim")
	if p == rootPath {
		p = ""
	}
	return p, objPaths(m, "SimSlots")
}

// decodeSIM reads a SIM object's properties.
func decodeSIM(path dbus.ObjectPath, p props) SIMInfo {
	return SIMInfo{
		Path:         path,
		Active:       boolean(p, "Active"),
		ICCID:        str(p, "SimIdentifier"),
		IMSI:         str(p, "Imsi"),
		EID:          str(p, "Eid"),
		OperatorCode: str(p, "OperatorIdentifier"),
		OperatorName: str(p, "OperatorName"),
		Type:         SIMType(u32(p, "SimType")),
		ESIMStatus:   ESIMStatus(u32(p, "EsimStatus")),
	}
}

// attachSIMs fills the SIM fields of info from the SIM properties by path.
func attachSIMs(info *ModemInfo, ifs ifaces, sims map[dbus.ObjectPath]props) {
	primary, slots := simPaths(ifs)
	if primary != "" {
		s := decodeSIM(primary, sims[primary])
		info.SIM = &s
	}
	if len(slots) > 0 {
		info.Slots = make([]SIMInfo, len(slots))
		for i, p := range slots {
			if p == rootPath || p == "" {
				info.Slots[i] = SIMInfo{Path: rootPath}
				continue
			}
			info.Slots[i] = decodeSIM(p, sims[p])
		}
	}
}

// mergeProps applies a PropertiesChanged to p (which may be nil) and
// returns it.
func mergeProps(p props, changed props, invalidated []string) props {
	if p == nil {
		p = make(props, len(changed))
	}
	for k, v := range changed {
		p[k] = v
	}
	for _, k := range invalidated {
		delete(p, k)
	}
	return p
}
