package portalwin

import (
	"context"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/ui/desktop"
	"github.com/mobileplans/mobileplans/ui/portal/webkit"
)

// openWebKit shows the portal in the WebKitGTK helper's window. The
// helper's close button, while guarded, becomes a close request the UI
// answers (it asks before leaving mid-flow).
func (op *Opener) openWebKit(ctx context.Context, req app.PortalRequest) (desktop.PortalWindow, error) {
	b, err := webkit.Start(ctx, webkit.Options{HelperPath: op.o.WebKitHelper, AllowedHost: req.CallbackHost,
		CAFile: op.o.CAFile, RootCAs: caBytes(op.o), Title: req.Brand + " — Mobile Plans", Logger: op.o.Logger})
	if err != nil {
		return nil, err
	}
	extra := make(chan desktop.PortalEvent, 4)
	go func() {
		defer close(extra)
		for ev := range b.Events() {
			switch ev.Kind {
			case webkit.EventCloseRequested:
				extra <- desktop.PortalCloseRequested
			case webkit.EventTLSError, webkit.EventLoadFailed, webkit.EventPopupBlocked, webkit.EventWebProcessTerminated:
				op.o.Logger.Info("portal window", "event", string(ev.Kind), "host", ev.Host, "error", ev.Error, "reason", ev.Reason)
			}
		}
	}()
	w := op.newHostWindow(KindWebKit, b, b.Close)
	w.extra = extra
	w.back = func(ctx context.Context) error { _, err := b.Back(ctx); return err }
	w.guard = b.Guard
	if err := w.start(ctx, req); err != nil {
		return nil, err
	}
	return w, nil
}

// caBytes: the helper takes the CA as a file or as bytes, not both.
func caBytes(o Options) []byte {
	if o.CAFile != "" {
		return nil
	}
	return o.RootCAs
}
