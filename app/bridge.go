package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/ui/portal"
)

// Action says what the agent did with a bridge call.
type Action string

// Actions of Reply.
const (
	// ActionDownloadStarted: a download (and activation) runs in the
	// background; Wait for it.
	ActionDownloadStarted Action = "downloadStarted"
	// ActionDeferred: a deferred download was stored (Reply.Deferred).
	ActionDeferred Action = "deferred"
	// ActionDeferredCancelled: the deferred download was removed.
	ActionDeferredCancelled Action = "deferredCancelled"
	// ActionSwitchStarted: a switch to an installed profile runs in the
	// background.
	ActionSwitchStarted Action = "switchStarted"
	// ActionBalanceAdded: balance was added to a line; nothing to do on the
	// device; the journey is done.
	ActionBalanceAdded Action = "balanceAdded"
	// ActionCancelled: the portal cancelled the purchase.
	ActionCancelled Action = "cancelled"
	// ActionScriptsSet: the page's callback names were stored.
	ActionScriptsSet Action = "scriptsSet"
	// ActionRejected: the call was invalid; the page was told
	// Reply.Result.
	ActionRejected Action = "rejected"
)

// Reply is the agent's answer to a bridge call.
type Reply struct {
	Action Action
	// ContextID is the operation context the call was about.
	ContextID string
	// Deferred is the stored deferred download (activation code redacted).
	Deferred *DeferredDownload
	// Result is the activation result the page was told for a rejected
	// call.
	Result portal.ActivationResult
}

// currentSession returns the open portal session.
func (a *Agent) currentSession() (*portalSession, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, ErrClosed
	}
	if a.session == nil {
		return nil, ErrNoPortalSession
	}
	return a.session, nil
}

// HandleBridgeMessage parses a message of the portal page's bridge
// against the session's callback host (the frame origin reported by the
// browser and the message's own origin must both be
// https://<callback host>) and acts on it (HandleBridgeCall). A call that
// cannot be acted upon (portal.InvalidError) is answered in the page with
// profileActivationCompleteScript(invalidJson | invalidActivationCode |
// invalidIccid) and returned as an error with Reply.Action ActionRejected;
// a call from another origin is refused without an answer.
func (a *Agent) HandleBridgeMessage(ctx context.Context, m portal.Message) (Reply, error) {
	s, err := a.currentSession()
	if err != nil {
		return Reply{}, err
	}
	call, err := m.Parse(s.callbackHost)
	if err != nil {
		return a.reject(s, err)
	}
	return a.handle(ctx, s, call)
}

// HandleBridgeCall acts on a bridge call of the open portal session (see
// the package documentation for what each call does). Fulfilments run in
// the background: the Reply says what started.
func (a *Agent) HandleBridgeCall(ctx context.Context, call portal.Call) (Reply, error) {
	s, err := a.currentSession()
	if err != nil {
		return Reply{}, err
	}
	want := "https://" + strings.ToLower(s.callbackHost)
	if src := call.CallSource(); !strings.EqualFold(src.Origin, want) {
		return Reply{}, &portal.OriginError{Origin: src.Origin, Allowed: want, Reported: true}
	}
	return a.handle(ctx, s, call)
}

// reject answers an unusable call in the page (never one from a foreign
// origin).
func (a *Agent) reject(s *portalSession, err error) (Reply, error) {
	r, ok := portal.ResultOf(err)
	if !ok {
		a.log.Warn("bridge call refused", "err", err)
		return Reply{}, err
	}
	a.log.Warn("invalid bridge call", "result", r.String(), "err", err)
	a.sendActivation(s, r, "")
	a.events.push(ErrorEvent{State: a.State(), Result: r, Status: StatusOther, Err: err})
	var ie *portal.InvalidError
	ctxID := ""
	if errors.As(err, &ie) {
		ctxID = ie.ContextID
	}
	return Reply{Action: ActionRejected, Result: r, ContextID: ctxID}, err
}

func (a *Agent) handle(ctx context.Context, s *portalSession, call portal.Call) (Reply, error) {
	switch c := call.(type) {
	case *portal.ProfileDownload:
		a.log.Info("bridge: profile download", "call", c)
		if c.DelayMinutes != nil {
			return a.deferDownload(ctx, s, c.ContextID, c.ActivationCode, c.Meta, *c.DelayMinutes, sourceOf(c.Source))
		}
		return a.startDownload(s, c.ContextID, c.ActivationCode, 0)
	case *portal.PurchaseWithProfileDownload:
		a.log.Info("bridge: purchase with profile download", "call", c)
		return a.startDownload(s, "", c.ActivationCode, RoundUpInterval(c.NetworkRegistrationInterval))
	case *portal.PurchaseDelayedProfile:
		a.log.Info("bridge: purchase with delayed profile", "delayMinutes", c.DelayMinutes)
		id, err := newOperationID()
		if err != nil {
			return Reply{}, err
		}
		return a.deferDownload(ctx, s, id, "", c.Meta, c.DelayMinutes, sourceOf(c.Source))
	case *portal.OperationCancel:
		a.log.Info("bridge: operation cancel", "context", c.ContextID)
		if err := a.CancelDeferred(c.ContextID); err != nil {
			return Reply{}, err
		}
		return Reply{Action: ActionDeferredCancelled, ContextID: c.ContextID}, nil
	case *portal.BalanceAddition:
		a.log.Info("bridge: balance addition", "switch", c.ICCID != "", "context", c.ContextID)
		return a.balanceAddition(s, c.ContextID, c.ICCID)
	case *portal.CancelledPurchase:
		a.log.Info("bridge: cancelled purchase", "status", string(c.Meta.MoDirectStatus))
		if err := a.transition(StateCancelled); err != nil {
			return Reply{}, err
		}
		return Reply{Action: ActionCancelled}, nil
	case *portal.LegacyPurchaseResult:
		a.log.Info("bridge: legacy purchase result", "call", c)
		switch {
		case !c.Success:
			if err := a.transition(StateCancelled); err != nil {
				return Reply{}, err
			}
			return Reply{Action: ActionCancelled}, nil
		case c.ActivationCode != "":
			return a.startDownload(s, "", c.ActivationCode, 0)
		}
		return a.balanceAddition(s, "", c.ICCID)
	case *portal.ScriptNames:
		a.mu.Lock()
		s.regScript, s.actScript = c.Registration, c.Activation
		a.mu.Unlock()
		a.log.Info("bridge: callback names", "registration", c.Registration, "activation", c.Activation)
		return Reply{Action: ActionScriptsSet}, nil
	case nil:
		return Reply{}, errors.New("app: nil bridge call")
	}
	return Reply{}, fmt.Errorf("app: bridge call %T not supported", call)
}

func sourceOf(s portal.Source) string { return s.Object + "." + s.Op }

// RoundUpInterval rounds a number of minutes up to the 15-minute
// granularity of the app's background timers (mobile-plans.md 2.6: "5 ->
// ~15"); 0 stays 0.
func RoundUpInterval(minutes int) time.Duration {
	if minutes <= 0 {
		return 0
	}
	return time.Duration((minutes+14)/15*15) * time.Minute
}

// startDownload starts a download for the page.
func (a *Agent) startDownload(s *portalSession, ctxID, code string, asyncInterval time.Duration) (Reply, error) {
	ac, err := lpa.ParseActivationCode(code)
	if err != nil {
		return a.reject(s, &portal.InvalidError{Result: portal.ActivationInvalidActivationCode, ContextID: ctxID,
			Reason: "activation code refused by the LPA", Err: err})
	}
	j := &job{kind: KindDownload, session: s, operatorID: s.operatorID, ac: ac, asyncInterval: asyncInterval}
	if err := a.startRun(j, StateDownload); err != nil {
		return Reply{}, err
	}
	return Reply{Action: ActionDownloadStarted, ContextID: ctxID}, nil
}

// balanceAddition switches to iccid if set, else ends the journey.
func (a *Agent) balanceAddition(s *portalSession, ctxID, iccid string) (Reply, error) {
	if iccid == "" {
		if err := a.transition(StateDone); err != nil {
			return Reply{}, err
		}
		return Reply{Action: ActionBalanceAdded, ContextID: ctxID}, nil
	}
	j := &job{kind: KindSwitch, session: s, operatorID: s.operatorID, iccid: normICCID(iccid)}
	if err := a.startRun(j, StateEnable); err != nil {
		return Reply{}, err
	}
	return Reply{Action: ActionSwitchStarted, ContextID: ctxID}, nil
}

// newOperationID makes an operation context for calls that return none.
func newOperationID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("app: operation id: %w", err)
	}
	return "app-" + hex.EncodeToString(b[:]), nil
}
