package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/modem"
	"github.com/mobileplans/mobileplans/service/discovery"
)

// Modem is what the agent needs from the modem: its identity, its network
// registration and a logical channel to the eUICC. modem.Modem satisfies
// it. The agent never closes the modem.
type Modem interface {
	Info(ctx context.Context) (modem.Info, error)
	Registration(ctx context.Context) (modem.Registration, error)
	OpenChannel(ctx context.Context, aid []byte) (apdu.Channel, error)
}

// Refresher is a Modem that can be told to re-read the SIM after a profile
// switch (e.g. ModemManager's SIM refresh). Modems without it rely on the
// card's own refresh (the agent enables profiles with refresh).
type Refresher interface {
	Refresh(ctx context.Context) error
}

// Connector is a Modem that can bring up a data bearer.
type Connector interface {
	Connect(ctx context.Context, c Connection) error
}

// Connection is the bearer a Connector brings up, from the operator's APN
// settings (discovery service, COSA-like). It is modem.Connection, so that
// modem backends can implement Connector without importing app.
type Connection = modem.Connection

// Discovery is the part of the Mobile Plans Service client the agent uses;
// *discovery.Client satisfies it.
type Discovery interface {
	Operators(ctx context.Context, q discovery.Query) (*discovery.OperatorList, error)
	Operator(ctx context.Context, id string) (*discovery.OperatorDetail, error)
	Gateway(ctx context.Context, id, iccid, imei string) (*discovery.GatewaySelection, error)
	APN(ctx context.Context, id, mccmnc, iccid string) (*discovery.APNResult, error)
	Balance(ctx context.Context, iccid, location string) (*discovery.Balance, error)
}

// Notifier shows desktop notifications (toasts). Errors are logged.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// Clock is the agent's time: Now for timestamps and due times, Sleep for
// every wait (registration polls, retry back-off, the deferred-download
// scheduler), so that tests can drive time.
type Clock interface {
	Now() time.Time
	// Sleep waits for d, or until ctx ends (returning its error).
	Sleep(ctx context.Context, d time.Duration) error
}

// realClock is the system clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Defaults of Config.
const (
	DefaultNetworkRegistrationTimeout = 2 * time.Minute
	DefaultRegistrationPollInterval   = 2 * time.Second
	DefaultAsyncRegistrationDeadline  = 24 * time.Hour
	DefaultDownloadAttempts           = 3
	DefaultRetryBackoff               = 5 * time.Second
	DefaultNotificationTimeout        = 30 * time.Second
	DefaultEventBuffer                = 256
	// MaxLPAErrors is the number of failed downloads kept per operator.
	MaxLPAErrors = 10
)

// Config configures New. Modem, Discovery and ES9 are required.
type Config struct {
	Modem     Modem
	Discovery Discovery
	// ES9 reaches the SM-DP+ servers.
	ES9 *lpa.ES9Client
	// StateDir holds the persisted state (agent.json); "" keeps it in
	// memory only.
	StateDir string
	// Clock is the time source; nil means the system clock.
	Clock Clock
	// Logger receives the logs; nil discards them. Activation codes are
	// logged with the matching ID redacted, EIDs and IMEIs not at all.
	Logger *slog.Logger
	// Notifier shows the deferred-download notifications; nil shows none
	// (the Notification event is sent either way).
	Notifier Notifier
	// Location is the ISO 3166 alpha-2 country of the device's physical
	// location (portal parameter location); "" means the settings' value,
	// else the country the discovery service chose for the operator list.
	Location string
	// Market is the ISO 3166 alpha-2 country of the system's region
	// setting (portal parameter market); "" means the settings' value, else
	// Location.
	Market string
	// Language is the user's language (RFC 7231 Accept-Language value)
	// sent to the portal; "" sends none.
	Language string
	// NetworkRegistrationTimeout bounds the wait for network registration
	// after a profile is enabled; 0 means
	// DefaultNetworkRegistrationTimeout.
	NetworkRegistrationTimeout time.Duration
	// RegistrationPollInterval is the time between two registration
	// reads; 0 means DefaultRegistrationPollInterval.
	RegistrationPollInterval time.Duration
	// AsyncRegistrationDeadline bounds the registration retries of
	// notifyPurchaseWithProfileDownload; 0 means
	// DefaultAsyncRegistrationDeadline.
	AsyncRegistrationDeadline time.Duration
	// DownloadAttempts is the number of tries of a download whose failure
	// is transient; 0 means DefaultDownloadAttempts.
	DownloadAttempts int
	// RetryBackoff is the wait before the n-th retry, times n; 0 means
	// DefaultRetryBackoff.
	RetryBackoff time.Duration
	// NotificationTimeout bounds the delivery of pending eUICC
	// notifications at the end of a journey; 0 means
	// DefaultNotificationTimeout.
	NotificationTimeout time.Duration
	// EventBuffer is the size of the event queue; 0 means
	// DefaultEventBuffer.
	EventBuffer int
	// LPA configures the ES10 client (block size, AID); its Logger
	// defaults to Logger.
	LPA lpa.Options
	// APDUTrace, when set, receives every APDU exchanged with the eUICC
	// (apdu.TraceWriter lines), for device makers' diagnostics. The trace
	// holds the exchanged data in full (activation codes' matching IDs
	// among it), so it is off unless asked for.
	APDUTrace io.Writer
}

// ErrConfig is wrapped by New's errors for an unusable Config.
var ErrConfig = errors.New("app: invalid configuration")

func (c *Config) normalise() error {
	switch {
	case c.Modem == nil:
		return fmt.Errorf("%w: no modem", ErrConfig)
	case c.Discovery == nil:
		return fmt.Errorf("%w: no discovery service client", ErrConfig)
	case c.ES9 == nil:
		return fmt.Errorf("%w: no ES9+ client", ErrConfig)
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"Location", &c.Location}, {"Market", &c.Market}} {
		if *f.v == "" {
			continue
		}
		if !isCountry(*f.v) {
			return fmt.Errorf("%w: %s %q is not a two-letter country code", ErrConfig, f.name, *f.v)
		}
		*f.v = strings.ToUpper(*f.v)
	}
	if strings.ContainsAny(c.Language, "\r\n") {
		return fmt.Errorf("%w: Language holds a line break", ErrConfig)
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.LPA.Logger == nil {
		c.LPA.Logger = c.Logger
	}
	setDur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	setDur(&c.NetworkRegistrationTimeout, DefaultNetworkRegistrationTimeout)
	setDur(&c.RegistrationPollInterval, DefaultRegistrationPollInterval)
	setDur(&c.AsyncRegistrationDeadline, DefaultAsyncRegistrationDeadline)
	setDur(&c.RetryBackoff, DefaultRetryBackoff)
	setDur(&c.NotificationTimeout, DefaultNotificationTimeout)
	if c.DownloadAttempts <= 0 {
		c.DownloadAttempts = DefaultDownloadAttempts
	}
	if c.EventBuffer <= 0 {
		c.EventBuffer = DefaultEventBuffer
	}
	return nil
}

// isCountry reports whether s is two ASCII letters.
func isCountry(s string) bool {
	if len(s) != 2 {
		return false
	}
	for i := 0; i < 2; i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
