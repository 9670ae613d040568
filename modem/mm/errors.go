package mm

import (
	"errors"
	"fmt"
	"strings"

	"github.com/godbus/dbus/v5"
)

var (
	// ErrUnsupported is returned where ModemManager does not exist (every
	// OS but Linux).
	ErrUnsupported = errors.New("mm: ModemManager is Linux-only; use the AT backend (a serial port) on this system")
	// ErrNoDaemon means nobody owns org.freedesktop.ModemManager1 on the
	// bus: ModemManager is not installed or not running.
	ErrNoDaemon = errors.New("mm: ModemManager is not running (nobody owns org.freedesktop.ModemManager1 on the bus)")
	// ErrDaemonGone means ModemManager left the bus (it stopped, crashed or
	// restarted) while the operation was running. The operation is
	// interrupted; once ModemManager is back the next operation works.
	ErrDaemonGone = errors.New("mm: ModemManager left the bus during the operation (stopped or restarted)")
	// ErrNotFound is wrapped by *NotFoundError.
	ErrNotFound = errors.New("mm: modem not found")
	// ErrModemGone means the modem disappeared from ModemManager (unplugged,
	// re-probed, inhibited) and did not come back in time.
	ErrModemGone = errors.New("mm: the modem is gone from ModemManager")
	// ErrNoAPDUAccess is wrapped by *NoAPDUAccessError.
	ErrNoAPDUAccess = errors.New("mm: no APDU access to the modem through ModemManager")
	// ErrNoSlots means the modem does not support SIM slot switching.
	ErrNoSlots = errors.New("mm: the modem has no switchable SIM slots")
	// ErrClosed is returned by a Modem after Close.
	ErrClosed = errors.New("mm: modem closed")
)

// NotFoundError says which modems there are when the one asked for is not.
type NotFoundError struct {
	IMEI      string   // the IMEI asked for; "" when any modem would do
	Available []string // IMEIs of the modems ModemManager has
}

func (e *NotFoundError) Error() string {
	var b strings.Builder
	if e.IMEI == "" {
		b.WriteString("mm: ModemManager manages no modem")
	} else {
		fmt.Fprintf(&b, "mm: ModemManager has no modem with IMEI %s", e.IMEI)
	}
	if len(e.Available) > 0 {
		fmt.Fprintf(&b, " (modems: %s)", strings.Join(e.Available, ", "))
	}
	return b.String()
}

func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// AmbiguousError is returned by Open without an IMEI when there are
// several modems.
type AmbiguousError struct {
	Available []string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("mm: ModemManager has %d modems (%s); choose one by IMEI", len(e.Available), strings.Join(e.Available, ", "))
}

// NoAPDUAccessError explains why neither way to reach the eUICC through
// ModemManager works and what to do about it.
type NoAPDUAccessError struct {
	// Command is why Modem.Command with AT+CCHO failed; nil when that path
	// was not tried.
	Command error
	// Inhibit is why the InhibitDevice fallback failed; nil when that path
	// was not tried.
	Inhibit error
}

func (e *NoAPDUAccessError) Error() string {
	var b strings.Builder
	b.WriteString(ErrNoAPDUAccess.Error())
	if e.Command != nil {
		fmt.Fprintf(&b, "; Modem.Command: %v", e.Command)
	}
	if e.Inhibit != nil {
		fmt.Fprintf(&b, "; AT port through InhibitDevice: %v", e.Inhibit)
	}
	b.WriteString(". To fix: start ModemManager with --debug (it then allows AT commands over D-Bus), " +
		"or run as a user polkit allows org.freedesktop.ModemManager1.Control (root), " +
		"or stop ModemManager and use the modem's AT port directly")
	return b.String()
}

func (e *NoAPDUAccessError) Is(target error) bool { return target == ErrNoAPDUAccess }

func (e *NoAPDUAccessError) Unwrap() []error {
	var out []error
	for _, err := range []error{e.Command, e.Inhibit} {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// D-Bus error names from ModemManager and the bus.
const (
	errPrefix           = "org.freedesktop.ModemManager1.Error."
	errUnauthorized     = errPrefix + "Core.Unauthorized"
	errUnsupported      = errPrefix + "Core.Unsupported"
	errCancelled        = errPrefix + "Core.Cancelled"
	errMEPrefix         = errPrefix + "MobileEquipment."
	errDBusNoReply      = "org.freedesktop.DBus.Error.NoReply"
	errDBusUnknownName  = "org.freedesktop.DBus.Error.ServiceUnknown"
	errDBusNoOwner      = "org.freedesktop.DBus.Error.NameHasNoOwner"
	errDBusDisconnected = "org.freedesktop.DBus.Error.Disconnected"
	errDBusUnknownObj   = "org.freedesktop.DBus.Error.UnknownObject"
	errDBusUnknownMeth  = "org.freedesktop.DBus.Error.UnknownMethod"
)

// Error is an error ModemManager (or the bus, on its behalf) answered a
// method call with.
type Error struct {
	Op      string // the method, e.g. "Modem.Command AT+CGLA"
	Name    string // the D-Bus error name
	Message string
}

func (e *Error) Error() string {
	short := strings.TrimPrefix(e.Name, errPrefix)
	if e.Message == "" {
		return fmt.Sprintf("mm: %s: %s", e.Op, short)
	}
	return fmt.Sprintf("mm: %s: %s (%s)", e.Op, e.Message, short)
}

// MobileEquipment returns the name of a mobile equipment error
// (+CME ERROR, e.g. "InvalidIndex") and whether the error is one.
func (e *Error) MobileEquipment() (string, bool) {
	n, ok := strings.CutPrefix(e.Name, errMEPrefix)
	return n, ok
}

// Unauthorized reports ModemManager's Core.Unauthorized (Modem.Command
// without --debug; a polkit refusal).
func (e *Error) Unauthorized() bool { return e.Name == errUnauthorized }

// daemonVanished reports whether the bus answered for a ModemManager
// that is no longer there.
func (e *Error) daemonVanished() bool {
	switch e.Name {
	case errDBusNoReply, errDBusUnknownName, errDBusNoOwner, errDBusDisconnected:
		return true
	}
	return false
}

// objectGone reports whether the object the call went to no longer
// exists (the modem was re-probed).
func (e *Error) objectGone() bool {
	return e.Name == errDBusUnknownObj || e.Name == errDBusUnknownMeth
}

// channelGone reports whether a +CME ERROR relayed by Modem.Command means
// the logical channel no longer exists (the same codes as modem/at).
func (e *Error) channelGone() bool {
	switch n, _ := e.MobileEquipment(); n {
	case "InvalidIndex", "IncorrectParameters", "SimFailure", "SimBusy", "SimNotInserted":
		return true
	}
	return false
}

// wrapCall turns the error of a D-Bus call into an *Error (for errors the
// peer sent) or wraps it with op.
func wrapCall(op string, err error) error {
	if err == nil {
		return nil
	}
	var de dbus.Error
	if errors.As(err, &de) {
		msg := ""
		if len(de.Body) > 0 {
			msg, _ = de.Body[0].(string)
		}
		return &Error{Op: op, Name: de.Name, Message: msg}
	}
	var dep *dbus.Error
	if errors.As(err, &dep) && dep != nil {
		msg := ""
		if len(dep.Body) > 0 {
			msg, _ = dep.Body[0].(string)
		}
		return &Error{Op: op, Name: dep.Name, Message: msg}
	}
	return fmt.Errorf("mm: %s: %w", op, err)
}

// asError returns err's *Error, if any.
func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// DaemonGoneError is ErrDaemonGone with the operation it interrupted.
type DaemonGoneError struct {
	Op  string
	Err error // the call's own error, if any
}

func (e *DaemonGoneError) Error() string {
	msg := fmt.Sprintf("mm: %s: ModemManager left the bus during the operation (stopped or restarted); "+
		"the operation was interrupted, retry it once ModemManager is back", e.Op)
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg
}

func (e *DaemonGoneError) Is(target error) bool { return target == ErrDaemonGone }

func (e *DaemonGoneError) Unwrap() error { return e.Err }
