package mm

import (
	"fmt"
	"strings"

	"github.com/godbus/dbus/v5"

	"github.com/mobileplans/mobileplans/modem"
)

// D-Bus names of the ModemManager API (sgp22.md section 7).
const (
	// BusName is ModemManager's well-known name on the system bus.
	BusName = "org.freedesktop.ModemManager1"
	// ManagerPath is the object of the manager and its ObjectManager.
	ManagerPath = dbus.ObjectPath("/org/freedesktop/ModemManager1")

	ifaceManager    = "org.freedesktop.ModemManager1"
	ifaceModem      = "org.freedesktop.ModemManager1.Modem"
	iface3GPP       = "org.freedesktop.ModemManager1.Modem.Modem3gpp"
	ifaceSimple     = "org.freedesktop.ModemManager1.Modem.Simple"
	ifaceSIM        = "org.freedesktop.ModemManager1.Sim"
	ifaceBearer     = "org.freedesktop.ModemManager1.Bearer"
	ifaceObjManager = "org.freedesktop.DBus.ObjectManager"
	ifaceProperties = "org.freedesktop.DBus.Properties"
	ifaceBus        = "org.freedesktop.DBus"

	// rootPath is the "no object" path MM uses for an empty SIM slot or
	// a modem without SIM.
	rootPath = dbus.ObjectPath("/")
)

// State is the modem state (MMModemState).
type State int32

// Modem states, numbered as in ModemManager.
const (
	StateFailed        State = -1
	StateUnknown       State = 0
	StateInitializing  State = 1
	StateLocked        State = 2
	StateDisabled      State = 3
	StateDisabling     State = 4
	StateEnabling      State = 5
	StateEnabled       State = 6
	StateSearching     State = 7
	StateRegistered    State = 8
	StateDisconnecting State = 9
	StateConnecting    State = 10
	StateConnected     State = 11
)

func (s State) String() string {
	switch s {
	case StateFailed:
		return "failed"
	case StateUnknown:
		return "unknown"
	case StateInitializing:
		return "initializing"
	case StateLocked:
		return "locked"
	case StateDisabled:
		return "disabled"
	case StateDisabling:
		return "disabling"
	case StateEnabling:
		return "enabling"
	case StateEnabled:
		return "enabled"
	case StateSearching:
		return "searching"
	case StateRegistered:
		return "registered"
	case StateDisconnecting:
		return "disconnecting"
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	}
	return fmt.Sprintf("state-%d", int32(s))
}

// Enabled reports whether the modem is enabled (enabled, searching,
// registered or in a connection state).
func (s State) Enabled() bool { return s >= StateEnabled }

// FailedReason says why a modem is in StateFailed
// (MMModemStateFailedReason).
type FailedReason uint32

// Failure reasons, numbered as in ModemManager.
const (
	FailedNone                FailedReason = 0
	FailedUnknown             FailedReason = 1
	FailedSIMMissing          FailedReason = 2
	FailedSIMError            FailedReason = 3
	FailedUnknownCapabilities FailedReason = 4
	FailedESIMWithoutProfiles FailedReason = 5
)

func (r FailedReason) String() string {
	switch r {
	case FailedNone:
		return "none"
	case FailedUnknown:
		return "unknown"
	case FailedSIMMissing:
		return "sim-missing"
	case FailedSIMError:
		return "sim-error"
	case FailedUnknownCapabilities:
		return "unknown-capabilities"
	case FailedESIMWithoutProfiles:
		return "esim-without-profiles"
	}
	return fmt.Sprintf("reason-%d", uint32(r))
}

// Lock is the lock the modem waits to be unlocked from (MMModemLock).
type Lock uint32

// Locks, numbered as in ModemManager (the ones an LPA tells apart).
const (
	LockUnknown Lock = 0
	LockNone    Lock = 1
	LockSIMPIN  Lock = 2
	LockSIMPIN2 Lock = 3
	LockSIMPUK  Lock = 4
	LockSIMPUK2 Lock = 5
)

func (l Lock) String() string {
	switch l {
	case LockUnknown:
		return "unknown"
	case LockNone:
		return "none"
	case LockSIMPIN:
		return "sim-pin"
	case LockSIMPIN2:
		return "sim-pin2"
	case LockSIMPUK:
		return "sim-puk"
	case LockSIMPUK2:
		return "sim-puk2"
	}
	return fmt.Sprintf("lock-%d", uint32(l))
}

// PortType is the type of one of the modem's ports (MMModemPortType).
type PortType uint32

// Port types, numbered as in ModemManager.
const (
	PortUnknown PortType = 1
	PortNet     PortType = 2
	PortAT      PortType = 3
	PortQCDM    PortType = 4
	PortGPS     PortType = 5
	PortQMI     PortType = 6
	PortMBIM    PortType = 7
	PortAudio   PortType = 8
	PortIgnored PortType = 9
	PortXMMRPC  PortType = 10
)

func (t PortType) String() string {
	switch t {
	case PortUnknown:
		return "unknown"
	case PortNet:
		return "net"
	case PortAT:
		return "at"
	case PortQCDM:
		return "qcdm"
	case PortGPS:
		return "gps"
	case PortQMI:
		return "qmi"
	case PortMBIM:
		return "mbim"
	case PortAudio:
		return "audio"
	case PortIgnored:
		return "ignored"
	case PortXMMRPC:
		return "xmmrpc"
	}
	return fmt.Sprintf("port-type-%d", uint32(t))
}

// Port is one kernel port of the modem as ModemManager names it: a device
// name relative to /dev (ttyUSB2, cdc-wdm0, wwan0) and its type.
type Port struct {
	Name string   `json:"name"`
	Type PortType `json:"type"`
}

// SIMType tells a physical SIM from an eSIM (MMSimType, ModemManager 1.20).
type SIMType uint32

// SIM types.
const (
	SIMTypeUnknown  SIMType = 0
	SIMTypePhysical SIMType = 1
	SIMTypeESIM     SIMType = 2
)

func (t SIMType) String() string {
	switch t {
	case SIMTypeUnknown:
		return "unknown"
	case SIMTypePhysical:
		return "physical"
	case SIMTypeESIM:
		return "esim"
	}
	return fmt.Sprintf("sim-type-%d", uint32(t))
}

// ESIMStatus says whether an eSIM has profiles (MMSimEsimStatus, 1.20).
type ESIMStatus uint32

// eSIM states.
const (
	ESIMStatusUnknown      ESIMStatus = 0
	ESIMStatusNoProfiles   ESIMStatus = 1
	ESIMStatusWithProfiles ESIMStatus = 2
)

func (s ESIMStatus) String() string {
	switch s {
	case ESIMStatusUnknown:
		return "unknown"
	case ESIMStatusNoProfiles:
		return "no-profiles"
	case ESIMStatusWithProfiles:
		return "with-profiles"
	}
	return fmt.Sprintf("esim-status-%d", uint32(s))
}

// RegState3GPP is the 3GPP registration state
// (MMModem3gppRegistrationState).
type RegState3GPP uint32

// 3GPP registration states, numbered as in ModemManager.
const (
	Reg3GPPIdle                    RegState3GPP = 0
	Reg3GPPHome                    RegState3GPP = 1
	Reg3GPPSearching               RegState3GPP = 2
	Reg3GPPDenied                  RegState3GPP = 3
	Reg3GPPUnknown                 RegState3GPP = 4
	Reg3GPPRoaming                 RegState3GPP = 5
	Reg3GPPHomeSMSOnly             RegState3GPP = 6
	Reg3GPPRoamingSMSOnly          RegState3GPP = 7
	Reg3GPPEmergencyOnly           RegState3GPP = 8
	Reg3GPPHomeCSFBNotPreferred    RegState3GPP = 9
	Reg3GPPRoamingCSFBNotPreferred RegState3GPP = 10
	Reg3GPPAttachedRLOS            RegState3GPP = 11
)

// reg3GPPNames are the names of the registration states, by value.
const reg3GPPNames = "idle home searching denied unknown roaming home-sms-only roaming-sms-only " +
	"emergency-only home-csfb-not-preferred roaming-csfb-not-preferred attached-rlos"

func (s RegState3GPP) String() string {
	if names := strings.Fields(reg3GPPNames); int(s) < len(names) {
		return names[s]
	}
	return fmt.Sprintf("registration-%d", uint32(s))
}

// Modem maps the state to the 27.007 registration state of package modem:
// the SMS-only and CSFB variants count as registered, emergency-only and
// attached-for-RLOS as not registered.
func (s RegState3GPP) Modem() modem.RegState {
	switch s {
	case Reg3GPPHome, Reg3GPPHomeSMSOnly, Reg3GPPHomeCSFBNotPreferred:
		return modem.RegHome
	case Reg3GPPRoaming, Reg3GPPRoamingSMSOnly, Reg3GPPRoamingCSFBNotPreferred:
		return modem.RegRoaming
	case Reg3GPPSearching:
		return modem.RegSearching
	case Reg3GPPDenied:
		return modem.RegDenied
	case Reg3GPPIdle, Reg3GPPEmergencyOnly, Reg3GPPAttachedRLOS:
		return modem.RegNotRegistered
	}
	return modem.RegUnknown
}

// AccessTech is the bitmask of access technologies in use
// (MMModemAccessTechnology).
type AccessTech uint32

// Access technology bits, as in ModemManager.
const (
	AccessPOTS       AccessTech = 1 << 0
	AccessGSM        AccessTech = 1 << 1
	AccessGSMCompact AccessTech = 1 << 2
	AccessGPRS       AccessTech = 1 << 3
	AccessEDGE       AccessTech = 1 << 4
	AccessUMTS       AccessTech = 1 << 5
	AccessHSDPA      AccessTech = 1 << 6
	AccessHSUPA      AccessTech = 1 << 7
	AccessHSPA       AccessTech = 1 << 8
	AccessHSPAPlus   AccessTech = 1 << 9
	Access1xRTT      AccessTech = 1 << 10
	AccessEVDO0      AccessTech = 1 << 11
	AccessEVDOA      AccessTech = 1 << 12
	AccessEVDOB      AccessTech = 1 << 13
	AccessLTE        AccessTech = 1 << 14
	Access5GNR       AccessTech = 1 << 15
)

// Family names the most capable radio family in the mask the way
// modem.Registration.AccessTech does: "nr", "eutran", "utran", "gsm",
// "cdma", or "" when unknown.
func (a AccessTech) Family() string {
	switch {
	case a&Access5GNR != 0:
		return "nr"
	case a&AccessLTE != 0:
		return "eutran"
	case a&(AccessUMTS|AccessHSDPA|AccessHSUPA|AccessHSPA|AccessHSPAPlus) != 0:
		return "utran"
	case a&(AccessGSM|AccessGSMCompact|AccessGPRS|AccessEDGE) != 0:
		return "gsm"
	case a&(Access1xRTT|AccessEVDO0|AccessEVDOA|AccessEVDOB) != 0:
		return "cdma"
	}
	return ""
}

// ModemInfo is one modem as ModemManager exports it, with its SIM.
type ModemInfo struct {
	// Path changes whenever ModemManager re-probes the modem; IMEI does
	// not.
	Path dbus.ObjectPath `json:"path"`
	// IMEI is the modem's EquipmentIdentifier (IMEI on 3GPP modems).
	IMEI             string `json:"imei"`
	Manufacturer     string `json:"manufacturer,omitempty"`
	Model            string `json:"model,omitempty"`
	Revision         string `json:"revision,omitempty"`
	HardwareRevision string `json:"hardwareRevision,omitempty"`
	// Device is the physical device's uid, the argument of InhibitDevice.
	Device      string   `json:"device,omitempty"`
	Drivers     []string `json:"drivers,omitempty"`
	Plugin      string   `json:"plugin,omitempty"`
	PrimaryPort string   `json:"primaryPort,omitempty"`
	Ports       []Port   `json:"ports,omitempty"`

	State        State        `json:"state"`
	FailedReason FailedReason `json:"failedReason,omitempty"`
	Lock         Lock         `json:"lock"`
	// SignalPercent is ModemManager's signal quality, 0..100;
	// SignalRecent is false when the value is stale.
	SignalPercent uint32     `json:"signalPercent"`
	SignalRecent  bool       `json:"signalRecent"`
	AccessTech    AccessTech `json:"accessTech"`
	OwnNumbers    []string   `json:"ownNumbers,omitempty"`

	// SIM is the primary (active) SIM, nil when the modem has none.
	SIM *SIMInfo `json:"sim,omitempty"`
	// Slots are the SIM slots of a multi-slot modem, slot n at index n-1;
	// an empty slot has Path "/". Nil when the modem has no slot support.
	Slots []SIMInfo `json:"slots,omitempty"`
	// PrimarySlot is the active slot, 1..len(Slots); 0 when the modem has
	// no slot support.
	PrimarySlot uint32 `json:"primarySlot,omitempty"`

	// Has3GPP reports the Modem3gpp interface; the registration fields
	// are only meaningful then.
	Has3GPP      bool         `json:"has3gpp"`
	Registration RegState3GPP `json:"registration"`
	OperatorCode string       `json:"operatorCode,omitempty"`
	OperatorName string       `json:"operatorName,omitempty"`
}

// SIMInfo is one SIM object of ModemManager.
type SIMInfo struct {
	Path         dbus.ObjectPath `json:"path"`
	Active       bool            `json:"active"`
	ICCID        string          `json:"iccid,omitempty"`
	IMSI         string          `json:"imsi,omitempty"`
	EID          string          `json:"eid,omitempty"`
	OperatorCode string          `json:"operatorCode,omitempty"`
	OperatorName string          `json:"operatorName,omitempty"`
	Type         SIMType         `json:"type"`
	ESIMStatus   ESIMStatus      `json:"esimStatus"`
}

// Empty reports whether the slot holds no SIM.
func (s SIMInfo) Empty() bool { return s.Path == "" || s.Path == rootPath }

// ATPorts returns the device paths of the modem's AT ports, the primary
// port first: the candidates for talking AT to the modem directly while
// ModemManager is inhibited from it.
func (i ModemInfo) ATPorts() []string {
	var out []string
	add := func(name string) {
		p := devicePath(name)
		for _, o := range out {
			if o == p {
				return
			}
		}
		out = append(out, p)
	}
	for _, p := range i.Ports {
		if p.Type == PortAT && p.Name == i.PrimaryPort {
			add(p.Name)
		}
	}
	for _, p := range i.Ports {
		if p.Type == PortAT {
			add(p.Name)
		}
	}
	return out
}

// devicePath turns a port name as ModemManager reports it into the path
// it opens: "/dev/" + name.
func devicePath(name string) string {
	if strings.HasPrefix(name, "/") {
		return name
	}
	return "/dev/" + name
}

// AsRegistration converts the modem's 3GPP state to modem.Registration. The
// signal is ModemManager's percentage turned back into dBm with the linear
// map ModemManager uses for +CSQ (0% = -113 dBm, 100% = -51 dBm).
func (i ModemInfo) AsRegistration() modem.Registration {
	st := modem.RegUnknown
	if i.Has3GPP {
		st = i.Registration.Modem()
	}
	r := modem.Registration{
		State:      st,
		StateName:  st.String(),
		AccessTech: i.AccessTech.Family(),
	}
	if st.Registered() {
		r.OperatorCode, r.OperatorName = i.OperatorCode, i.OperatorName
	}
	if i.SignalPercent > 0 && i.SignalPercent <= 100 {
		r.SignalDBm = percentToDBm(i.SignalPercent)
		r.SignalValid = true
	}
	return r
}

// percentToDBm inverts ModemManager's +CSQ mapping, rounding to the nearest
// dBm.
func percentToDBm(p uint32) int {
	return -113 + int((p*62+50)/100)
}

// AsInfo converts the identity to modem.Info (Backend "mm").
func (i ModemInfo) AsInfo() modem.Info {
	out := modem.Info{
		Manufacturer: i.Manufacturer,
		Model:        i.Model,
		Revision:     i.Revision,
		IMEI:         i.IMEI,
		SIMState:     i.simState(),
		Port:         i.PrimaryPort,
		Backend:      "mm",
	}
	if i.SIM != nil {
		out.ICCID, out.IMSI = i.SIM.ICCID, i.SIM.IMSI
	}
	return out
}

// simState renders the SIM state with the +CPIN vocabulary modem.Info
// uses.
func (i ModemInfo) simState() string {
	switch {
	case i.State == StateFailed && i.FailedReason == FailedSIMMissing:
		return "NOT INSERTED"
	case i.Lock == LockSIMPIN:
		return "SIM PIN"
	case i.Lock == LockSIMPUK:
		return "SIM PUK"
	case i.Lock == LockSIMPIN2:
		return "SIM PIN2"
	case i.Lock == LockSIMPUK2:
		return "SIM PUK2"
	case i.SIM == nil:
		return "NOT INSERTED"
	case i.Lock == LockNone:
		return "READY"
	}
	return ""
}
