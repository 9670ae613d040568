package mmtest

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

// polkit names on the bus.
const (
	polkitName  = "org.freedesktop.PolicyKit1"
	polkitPath  = dbus.ObjectPath("/org/freedesktop/PolicyKit1/Authority")
	polkitIface = "org.freedesktop.PolicyKit1.Authority"
)

// authSubject is polkit's (sa{sv}) subject.
type authSubject struct {
	Kind    string
	Details map[string]dbus.Variant
}

// authResult is polkit's (bba{ss}) authorization result.
type authResult struct {
	Authorized bool
	Challenge  bool
	Details    map[string]string
}

// Polkit is the stand-in polkit authority: ModemManager asks it before
// ReportKernelEvent, ScanDevices, SetLogging and InhibitDevice (also with
// --test-session), through the system bus, which the harness points at
// its private bus. It allows or denies every request, as set.
type Polkit struct {
	conn  *dbus.Conn
	allow atomic.Bool

	mu      sync.Mutex
	actions []string
}

// startPolkit owns polkit's name on the bus at addr and serves the
// authority.
func startPolkit(addr string, allow bool) (*Polkit, error) {
	conn, err := dbus.Connect(addr)
	if err != nil {
		return nil, fmt.Errorf("mmtest: polkit stand-in: connect: %w", err)
	}
	p := &Polkit{conn: conn}
	p.allow.Store(allow)
	if err := conn.Export(p, polkitPath, polkitIface); err != nil {
		conn.Close()
		return nil, fmt.Errorf("mmtest: polkit stand-in: export: %w", err)
	}
	_, err = prop.Export(conn, polkitPath, prop.Map{polkitIface: {
		"BackendName":     {Value: "mmtest", Emit: prop.EmitFalse},
		"BackendVersion":  {Value: "0", Emit: prop.EmitFalse},
		"BackendFeatures": {Value: uint32(0), Emit: prop.EmitFalse},
	}})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("mmtest: polkit stand-in: properties: %w", err)
	}
	reply, err := conn.RequestName(polkitName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		conn.Close()
		return nil, fmt.Errorf("mmtest: polkit stand-in: own %s: reply %v: %v", polkitName, reply, err)
	}
	return p, nil
}

// CheckAuthorization answers every request with the configured verdict.
func (p *Polkit) CheckAuthorization(subject authSubject, action string, details map[string]string, flags uint32, cancelID string) (authResult, *dbus.Error) {
	p.mu.Lock()
	p.actions = append(p.actions, action)
	p.mu.Unlock()
	return authResult{Authorized: p.allow.Load(), Details: map[string]string{}}, nil
}

// CancelCheckAuthorization has nothing to cancel: answers are immediate.
func (p *Polkit) CancelCheckAuthorization(cancelID string) *dbus.Error { return nil }

// SetAllow changes the verdict for later requests.
func (p *Polkit) SetAllow(allow bool) { p.allow.Store(allow) }

// Actions returns the polkit actions asked about so far, in order.
func (p *Polkit) Actions() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.actions...)
}

func (p *Polkit) close() error { return p.conn.Close() }
