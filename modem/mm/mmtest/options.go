package mmtest

import (
	"log/slog"
	"time"

	"github.com/mobileplans/mobileplans/modem/sim"
)

// AptPackages are the Debian packages the harness needs (CI installs
// them): the ModemManager daemon and the D-Bus daemon.
const AptPackages = "modemmanager dbus"

// Options configures New. The zero value runs ModemManager with --debug
// in front of a simulated modem with a seeded simulated eUICC.
type Options struct {
	// Card is the eUICC behind the simulated modem; nil creates a seeded
	// simulated eUICC in the harness directory (Env.Card).
	Card sim.Card
	// Modem configures the simulated modem (IMEI, identity, delays). Its
	// Log, if set, receives the modem's trace too.
	Modem sim.Options
	// NoDebug starts ModemManager without --debug: Modem.Command is then
	// refused, as on a stock installation.
	NoDebug bool
	// DenyPolkit makes the polkit stand-in refuse every request
	// (InhibitDevice then fails).
	DenyPolkit bool
	// NoNamespace runs ModemManager without the private mount namespace,
	// with the port name trick (see the package documentation). New also
	// uses it when the environment variable MMTEST_NO_NAMESPACE is set to
	// anything but "" or "0", and when the namespace cannot be made here
	// (not root, no CAP_SYS_ADMIN, unshare or mount forbidden).
	NoNamespace bool
	// StartTimeout bounds bringing the harness up until ModemManager
	// exports the modem; default 60s.
	StartTimeout time.Duration
	// Logger receives the simulated modem's and eUICC's logs; default
	// discard.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.StartTimeout <= 0 {
		o.StartTimeout = 60 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
