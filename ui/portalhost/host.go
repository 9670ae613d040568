package portalhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/ui/portal"
)

// Browser is the web view: a tab with the bridge injected whose bridge
// messages arrive on Calls with the frame origin the browser reported.
// *chromium.Browser satisfies it.
type Browser interface {
	OpenWithHeaders(ctx context.Context, url string, headers http.Header) error
	Eval(ctx context.Context, js string, out any) error
	Calls() <-chan portal.Message
}

// Agent is the part of *app.Agent the host drives.
type Agent interface {
	PortalLaunch(ctx context.Context, operatorID string) (app.PortalRequest, error)
	HandleBridgeMessage(ctx context.Context, m portal.Message) (app.Reply, error)
}

// Options configure New.
type Options struct {
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// OnReply, when set, is told the agent's answer to every bridge
	// message (from Serve's goroutine); err is the agent's error, e.g. a
	// *portal.OriginError for a page of another host.
	OnReply func(m portal.Message, r app.Reply, err error)
}

// ErrNotOnPortal is returned by RunScript when the script cannot be run:
// no portal is open, the script is for another portal session, or the page
// is not on the session's callback host.
var ErrNotOnPortal = errors.New("portalhost: the page is not on the operator's portal")

// ErrClosed is returned by Serve when the browser closed its Calls.
var ErrClosed = errors.New("portalhost: the browser was closed")

// Host connects one browser tab to the agent.
type Host struct {
	b     Browser
	a     Agent
	log   *slog.Logger
	reply func(portal.Message, app.Reply, error)

	mu  sync.Mutex
	req *app.PortalRequest
}

// New returns a host for browser b and agent a.
func New(b Browser, a Agent, opts Options) *Host {
	h := &Host{b: b, a: a, log: opts.Logger, reply: opts.OnReply}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

// Launch opens the operator's portal: the agent's launch request (URL with
// the launch parameters, headers) loaded in the tab. The previous portal
// session, if any, ends.
func (h *Host) Launch(ctx context.Context, operatorID string) (app.PortalRequest, error) {
	req, err := h.a.PortalLaunch(ctx, operatorID)
	if err != nil {
		return app.PortalRequest{}, err
	}
	return req, h.Open(ctx, req)
}

// Open loads a launch request the agent made (Launch does both) and makes
// its session the one scripts run in.
func (h *Host) Open(ctx context.Context, req app.PortalRequest) error {
	h.mu.Lock()
	h.req = &req
	h.mu.Unlock()
	names := make([]string, 0, len(req.Headers))
	for k := range req.Headers {
		names = append(names, k)
	}
	h.log.Info("portal launch", "operator", req.OperatorID, "transactionId", req.TransactionID, "headers", names)
	if err := h.b.OpenWithHeaders(ctx, req.URL, req.Headers); err != nil {
		return fmt.Errorf("portalhost: loading the portal of %s: %w", req.Brand, err)
	}
	return nil
}

// Current returns the open portal session's request.
func (h *Host) Current() (app.PortalRequest, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.req == nil {
		return app.PortalRequest{}, false
	}
	return *h.req, true
}

// Serve hands every bridge message to the agent, in order, until ctx ends
// (returning its error) or the browser closes (ErrClosed). A refused or
// invalid message does not stop it.
func (h *Host) Serve(ctx context.Context) error {
	calls := h.b.Calls()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m, ok := <-calls:
			if !ok {
				return ErrClosed
			}
			r, err := h.a.HandleBridgeMessage(ctx, m)
			switch {
			case err == nil:
				h.log.Debug("bridge call handled", "action", string(r.Action))
			case r.Action == app.ActionRejected:
				h.log.Info("bridge call rejected", "result", r.Result.String(), "err", err)
			default:
				h.log.Warn("bridge call refused", "origin", m.Origin, "err", err)
			}
			if h.reply != nil {
				h.reply(m, r, err)
			}
		}
	}
}

// RunScript runs one of the agent's PortalScript events in the page: only
// for the open portal session, and only while the main frame is on the
// callback host over HTTPS (checked in the page in the same evaluation, so
// a navigation cannot slip in between). It returns ErrNotOnPortal when the
// script was not run.
func (h *Host) RunScript(ctx context.Context, ps app.PortalScript) error {
	h.mu.Lock()
	req := h.req
	h.mu.Unlock()
	if req == nil || req.TransactionID != ps.TransactionID {
		return fmt.Errorf("%w: the script is for another portal session", ErrNotOnPortal)
	}
	host, err := json.Marshal(strings.ToLower(req.CallbackHost))
	if err != nil {
		return fmt.Errorf("portalhost: %w", err)
	}
	// The script is the agent's (portal.RegistrationScript /
	// ActivationScript: a call of a validated function name with a JSON
	// string literal); it runs as a statement list inside the guard.
	js := `(function(){ if (location.protocol !== "https:" || location.host.toLowerCase() !== ` + string(host) +
		`) { return false; } ` + ps.JS + `; return true; })()`
	var ran bool
	if err := h.b.Eval(ctx, js, &ran); err != nil {
		return fmt.Errorf("portalhost: running %s in the page: %w", ps.Kind, err)
	}
	if !ran {
		return fmt.Errorf("%w: %s not run", ErrNotOnPortal, ps.Kind)
	}
	h.log.Debug("portal script run", "kind", ps.Kind)
	return nil
}
