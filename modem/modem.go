package modem

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/mobileplans/mobileplans/esim/apdu"
)

// Modem is one modem as the agent sees it.
type Modem interface {
	Info(ctx context.Context) (Info, error)
	Registration(ctx context.Context) (Registration, error)
	OpenChannel(ctx context.Context, aid []byte) (apdu.Channel, error)
	Close() error
}

// Info is the modem's identity and the state of its SIM.
type Info struct {
	Manufacturer string `json:"manufacturer,omitempty"`
	Model        string `json:"model,omitempty"`
	Revision     string `json:"revision,omitempty"`
	IMEI         string `json:"imei,omitempty"`
	SIMState     string `json:"simState,omitempty"` // READY, SIM PIN, NOT INSERTED, ...
	ICCID        string `json:"iccid,omitempty"`
	IMSI         string `json:"imsi,omitempty"`
	Port         string `json:"port,omitempty"`
	Backend      string `json:"backend,omitempty"` // "at", "mm"
}

// RegState is the 3GPP network registration state (27.007 +CREG/+CEREG <stat>).
type RegState int

// Registration states, numbered as in 27.007.
const (
	RegNotRegistered RegState = 0
	RegHome          RegState = 1
	RegSearching     RegState = 2
	RegDenied        RegState = 3
	RegUnknown       RegState = 4
	RegRoaming       RegState = 5
)

func (s RegState) String() string {
	switch s {
	case RegNotRegistered:
		return "not-registered"
	case RegHome:
		return "home"
	case RegSearching:
		return "searching"
	case RegDenied:
		return "denied"
	case RegUnknown:
		return "unknown"
	case RegRoaming:
		return "roaming"
	}
	return fmt.Sprintf("state-%d", int(s))
}

// Registered reports whether the modem is registered (home or roaming).
func (s RegState) Registered() bool { return s == RegHome || s == RegRoaming }

// Registration is the serving network as the modem reports it.
type Registration struct {
	State        RegState `json:"-"`
	StateName    string   `json:"state"`
	OperatorCode string   `json:"operatorCode,omitempty"` // MCCMNC
	OperatorName string   `json:"operatorName,omitempty"`
	AccessTech   string   `json:"accessTech,omitempty"` // "gsm", "utran", "eutran", "nr", ...
	// SignalDBm is the received signal strength; SignalValid is false when unknown.
	SignalDBm   int  `json:"signalDbm,omitempty"`
	SignalValid bool `json:"signalValid"`
}

// MCC returns the mobile country code of the serving network, or "".
func (r Registration) MCC() string {
	if len(r.OperatorCode) >= 5 {
		return r.OperatorCode[:3]
	}
	return ""
}

// Connection is a data bearer to bring up, from the operator's APN
// settings (discovery service, COSA-like).
type Connection struct {
	APN            string
	User, Password string
	// Auth is "none", "pap" or "chap"; "" leaves it to the modem.
	Auth string
	// IPType is "ipv4", "ipv6" or "ipv4v6"; "" leaves it to the modem.
	IPType         string
	RoamingAllowed bool
}

// LogValue leaves the password out.
func (c Connection) LogValue() slog.Value {
	return slog.GroupValue(slog.String("apn", c.APN), slog.String("auth", c.Auth), slog.String("ipType", c.IPType),
		slog.Bool("user", c.User != ""), slog.Bool("roamingAllowed", c.RoamingAllowed))
}
