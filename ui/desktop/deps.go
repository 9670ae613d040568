package desktop

import (
	"context"
	"errors"
	"io"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/internal/launch"
	"github.com/mobileplans/mobileplans/service/discovery"
)

// Agent is what the UI asks of the device-side agent; *app.Agent
// satisfies it.
type Agent interface {
	Device(ctx context.Context) (app.Device, error)
	Probe(ctx context.Context) (app.Device, error)
	Operators(ctx context.Context) (app.OperatorList, error)
	Gateway(ctx context.Context, operatorID string) (app.Gateway, error)
	PortalLaunch(ctx context.Context, operatorID string) (app.PortalRequest, error)
	Events() <-chan app.Event
	State() app.State
	Wait(ctx context.Context) (app.Outcome, error)
	Cancel(ctx context.Context) error
	Balance(ctx context.Context, iccid string) (*discovery.Balance, error)
	Settings() app.Settings
	SetSettings(s app.Settings) error

	SwitchProfile(ctx context.Context, iccid string) error
	RenameProfile(ctx context.Context, iccid, nickname string) error
	DeleteProfile(ctx context.Context, iccid string) error
	PendingNotifications(ctx context.Context) ([]app.PendingNotification, error)
	SendNotifications(ctx context.Context) (app.NotificationReport, error)
	StartDownload(ctx context.Context, operatorID, code string) error

	PendingDownloads() []app.DeferredDownload
	RunDeferred(ctx context.Context, id string) error
	CancelDeferred(id string) error
}

// Session is a running agent made by a Backend.
type Session interface {
	Agent() Agent
	// Describe says what the session runs on ("Simulated modem ...").
	Describe() string
	// Portals opens operator portals for this session's agent.
	Portals() PortalOpener
	// Fetch downloads an operator logo or gateway image (https, with the
	// session's trust).
	Fetch(ctx context.Context, url string) ([]byte, error)
	Close() error
}

// Backend starts sessions from the connection settings.
type Backend interface {
	Start(ctx context.Context, s launch.Settings) (Session, error)
}

// PortalOpener shows an operator's portal.
type PortalOpener interface {
	// Open loads the agent's launch request in a portal window whose
	// bridge calls go to the agent.
	Open(ctx context.Context, req app.PortalRequest) (PortalWindow, error)
}

// PortalWindow is one open portal.
type PortalWindow interface {
	// Kind says where the portal runs ("webkit", "chromium", "browser").
	Kind() string
	// RunScript runs one of the agent's PortalScript events in the page.
	RunScript(ctx context.Context, ps app.PortalScript) error
	// Back goes back in the portal's history.
	Back(ctx context.Context) error
	// Guard, while on, turns the window's close button into a
	// PortalCloseRequested event (the UI asks before leaving mid-flow).
	Guard(ctx context.Context, on bool) error
	// Events reports PortalEvent values; closed when the window is gone.
	Events() <-chan PortalEvent
	Close() error
}

// PortalEvent is something that happened in a portal window.
type PortalEvent string

// Portal events.
const (
	PortalCloseRequested PortalEvent = "close-requested"
	PortalClosed         PortalEvent = "closed"
)

// ErrNoScripts is returned by PortalWindow.RunScript of a portal that
// cannot run scripts (the system browser).
var ErrNoScripts = errors.New("desktop: this portal window cannot run scripts")

// Store keeps the desktop settings between runs.
type Store interface {
	Load() (launch.Settings, error)
	Save(launch.Settings) error
}

// Logs are the lines the diagnostics view shows and exports.
type Logs interface {
	Lines() []string
	WriteTo(w io.Writer) (int64, error)
}
