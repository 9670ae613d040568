package portalwin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/ui/desktop"
	"github.com/mobileplans/mobileplans/ui/portal"
	"github.com/mobileplans/mobileplans/ui/portal/loopback"
)

// systemBrowser is a portalhost.Browser that is the user's own browser:
// navigation opens a URL there, bridge messages arrive at the loopback
// server, and scripts cannot run (the page hears no results; the app
// shows them).
type systemBrowser struct {
	srv     *loopback.Server
	openURL func(*url.URL) error
}

func (b *systemBrowser) OpenWithHeaders(_ context.Context, u string, _ http.Header) error {
	// A system browser cannot send the X-MP-LPAError-* headers; the
	// portal misses them on this path.
	lu, err := b.srv.LaunchURL(u)
	if err != nil {
		return err
	}
	pu, err := url.Parse(lu)
	if err != nil {
		return err
	}
	return b.openURL(pu)
}

func (b *systemBrowser) Eval(context.Context, string, any) error { return desktop.ErrNoScripts }

func (b *systemBrowser) Calls() <-chan portal.Message { return b.srv.Messages() }

func (op *Opener) openBrowser(ctx context.Context, req app.PortalRequest) (desktop.PortalWindow, error) {
	if op.o.OpenURL == nil {
		return nil, errors.New("no system browser")
	}
	srv, err := loopback.New(ctx, loopback.Options{AllowedHost: req.CallbackHost, Logger: op.o.Logger})
	if err != nil {
		return nil, err
	}
	b := &systemBrowser{srv: srv, openURL: op.o.OpenURL}
	w := op.newHostWindow(KindBrowser, b, srv.Close)
	if err := w.start(ctx, req); err != nil {
		return nil, fmt.Errorf("opening the system browser: %w", err)
	}
	return w, nil
}
