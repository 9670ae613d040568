package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/service/discovery"
	"github.com/mobileplans/mobileplans/ui/portal"
)

// Kinds of fulfilment (Outcome.Kind).
const (
	KindDownload = "download"
	KindDeferred = "deferred"
	KindSwitch   = "switch"
)

// Outcome is how a fulfilment ended.
type Outcome struct {
	// Kind is KindDownload, KindDeferred or KindSwitch.
	Kind string
	// State is done, failed or cancelled.
	State State
	// ICCID is the profile downloaded or switched to ("" when the download
	// failed).
	ICCID string
	// Result and Status classify the failure (success when done).
	Result portal.ActivationResult
	Status OperationStatus
	// Registration is the last registration state read (0 when the
	// journey did not get that far).
	Registration portal.RegistrationState
	// Connected: a Connector brought up the bearer.
	Connected bool
	// DeferredID is the deferred download this was (KindDeferred).
	DeferredID string
	Err        error
	Started    time.Time
	Ended      time.Time
}

// run is a fulfilment in progress.
type run struct {
	job    *job
	cancel context.CancelCauseFunc
	done   chan struct{}
}

// job describes a fulfilment.
type job struct {
	kind string
	// session is the portal to tell; nil for none.
	session    *portalSession
	operatorID string
	ac         lpa.ActivationCode
	deferredID string
	// iccid is the profile to switch to (KindSwitch).
	iccid string
	// asyncInterval > 0: retry registration at this interval
	// (notifyPurchaseWithProfileDownload).
	asyncInterval time.Duration
}

// startRun starts j in the background after moving the journey to first.
func (a *Agent) startRun(j *job, first State) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return ErrClosed
	}
	if a.run != nil {
		return ErrBusy
	}
	if err := a.transitionLocked(first); err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(a.base)
	r := &run{job: j, cancel: cancel, done: make(chan struct{})}
	a.run = r
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		out := a.fulfil(ctx, j)
		cancel(nil)
		a.mu.Lock()
		if err := a.transitionLocked(out.State); err != nil {
			a.log.Error("journey end", "err", err)
		}
		a.run = nil
		a.last = &out
		a.mu.Unlock()
		close(r.done)
		a.log.Info("fulfilment ended", "kind", out.Kind, "state", string(out.State), "iccid", out.ICCID,
			"result", out.Result.String(), "err", out.Err)
	}()
	return nil
}

// Wait waits for the running fulfilment to end and returns its outcome, or
// the last one when none is running. ErrNoJourney: there was none.
func (a *Agent) Wait(ctx context.Context) (Outcome, error) {
	a.mu.Lock()
	r, last := a.run, a.last
	a.mu.Unlock()
	if r == nil {
		if last == nil {
			return Outcome{}, ErrNoJourney
		}
		return *last, nil
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		return Outcome{}, ctx.Err()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return *a.last, nil
}

// Cancel cancels the journey: a running fulfilment is stopped (a download
// in progress is cancelled on the eUICC and on the SM-DP+ with reason
// endUserRejection) and Cancel returns once it has ended; a journey in one
// of the UI steps is cancelled (the portal session closes). ErrNoJourney:
// nothing to cancel.
func (a *Agent) Cancel(ctx context.Context) error {
	a.mu.Lock()
	if r := a.run; r != nil {
		a.mu.Unlock()
		r.cancel(lpa.ErrCancelledByUser)
		select {
		case <-r.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer a.mu.Unlock()
	switch a.state {
	case StateProbe, StateDiscover, StateGateway, StatePortal:
		a.session = nil
		return a.transitionLocked(StateCancelled)
	}
	return ErrNoJourney
}

// fulfil runs j and returns its outcome; the caller makes the final
// transition.
func (a *Agent) fulfil(ctx context.Context, j *job) Outcome {
	out := Outcome{Kind: j.kind, ICCID: j.iccid, DeferredID: j.deferredID, Started: a.clock.Now()}
	defer func() { out.Ended = a.clock.Now() }()
	if j.kind != KindSwitch {
		res, err := a.download(ctx, j)
		if err != nil {
			a.fail(ctx, j, &out, err, true)
			return out
		}
		out.ICCID = string(res.ICCID)
		a.clearLPAErrors(j.operatorID)
		if j.deferredID != "" {
			a.removeDeferred(j.deferredID)
		}
		if a.State() == StateDownload {
			if err := a.transition(StateInstall); err != nil {
				a.fail(ctx, j, &out, err, false)
				return out
			}
		}
	}
	a.activate(ctx, j, &out)
	return out
}

// fail classifies err into out, tells the page when tellPage, and reports
// an ErrorEvent. A fulfilment cancelled by the user (or by Close) ends
// cancelled with operationAborted.
func (a *Agent) fail(ctx context.Context, j *job, out *Outcome, err error, tellPage bool) {
	c := classify(err)
	out.State = StateFailed
	if cause := context.Cause(ctx); ctx.Err() != nil {
		c = class{result: portal.ActivationOperationAborted, status: StatusOperationAborted}
		out.State = StateCancelled
		if cause != nil && !errors.Is(err, cause) {
			err = fmt.Errorf("%w (%w)", cause, err)
		}
	}
	out.Err, out.Result, out.Status = err, c.result, c.status
	ev := ErrorEvent{State: a.State(), Status: c.status, Err: err}
	if tellPage && j.session != nil {
		if a.sendActivation(j.session, c.result, out.ICCID) {
			ev.Result = c.result
		}
	}
	a.events.push(ev)
	a.log.Warn("fulfilment failed", "kind", j.kind, "state", string(ev.State), "result", c.result.String(),
		"status", string(c.status), "err", err)
}

// download runs the SGP.22 download, retrying transient failures.
func (a *Agent) download(ctx context.Context, j *job) (*lpa.DownloadResult, error) {
	c, err := a.client(ctx)
	if err != nil {
		return nil, err
	}
	di := rsp.DeviceInfo{}
	if info, err := a.cfg.Modem.Info(ctx); err == nil {
		di = deviceInfo(info.IMEI)
	}
	for attempt := 1; ; attempt++ {
		var metaICCID string
		opts := lpa.DownloadOptions{
			DeviceInfo: di,
			Progress:   func(p lpa.Progress) { a.progress(p, attempt) },
			Confirm: func(_ context.Context, m rsp.StoreMetadataRequest) error {
				metaICCID = string(m.ICCID)
				return nil
			},
		}
		a.log.Info("download", "ac", j.ac, "attempt", attempt, "operator", j.operatorID)
		res, err := c.Download(ctx, a.cfg.ES9, j.ac, opts)
		if err == nil {
			a.log.Info("profile installed", "iccid", string(res.ICCID), "segments", res.Segments, "bppBytes", res.BPPBytes,
				"notificationDelivered", res.NotificationDelivered)
			return res, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		cl := classify(err)
		var step lpa.Step
		var de *lpa.DownloadError
		if errors.As(err, &de) {
			step = de.Step
		}
		a.recordLPAError(j.operatorID, cl, metaICCID, step, err)
		if !cl.transient || attempt >= a.cfg.DownloadAttempts {
			return nil, err
		}
		wait := a.cfg.RetryBackoff * time.Duration(attempt)
		a.log.Info("download failed; retrying", "attempt", attempt, "status", string(cl.status), "wait", wait, "err", err)
		if a.State() == StateInstall {
			if terr := a.transition(StateDownload); terr != nil {
				return nil, terr
			}
		}
		if serr := a.clock.Sleep(ctx, wait); serr != nil {
			return nil, fmt.Errorf("%w (retry of: %w)", serr, err)
		}
	}
}

// deviceInfo is the ctxParams1 deviceInfo for an IMEI: the TAC (its first
// 8 digits, BCD nibble-swapped) and the IMEI; the LPA's default TAC when
// the IMEI is not 15 digits.
func deviceInfo(imei string) rsp.DeviceInfo {
	if len(imei) != 15 {
		return rsp.DeviceInfo{}
	}
	var tac [4]byte
	for i := 0; i < 15; i++ {
		if imei[i] < '0' || imei[i] > '9' {
			return rsp.DeviceInfo{}
		}
	}
	for i := 0; i < 4; i++ {
		tac[i] = (imei[2*i] - '0') | (imei[2*i+1]-'0')<<4
	}
	return rsp.DeviceInfo{TAC: tac, IMEI: imei}
}

// progress turns a download progress step into a Progress event, moving
// the journey to install when the package starts going to the eUICC.
func (a *Agent) progress(p lpa.Progress, attempt int) {
	var st Stage
	switch p.Stage {
	case lpa.StageAuthenticating, lpa.StageAuthenticated:
		st = StageAuthenticating
	case lpa.StageDownloading:
		st = StageDownloading
	case lpa.StageInstalling:
		st = StageInstalling
		if a.State() == StateDownload {
			if err := a.transition(StateInstall); err != nil {
				a.log.Error("progress", "err", err)
			}
		}
	case lpa.StageDone:
		st = StageInstalled
	default:
		return
	}
	a.events.push(Progress{Stage: st, Done: p.Done, Total: p.Total, Message: p.Message, Attempt: attempt})
}

// activate enables the profile and brings it onto the network: enable,
// refresh, register, connect.
func (a *Agent) activate(ctx context.Context, j *job, out *Outcome) {
	iccid := out.ICCID
	if err := a.transition(StateEnable); err != nil {
		a.fail(ctx, j, out, err, false)
		return
	}
	c, err := a.client(ctx)
	if err == nil {
		err = c.Enable(ctx, rsp.ProfileID{ICCID: rsp.ICCID(iccid)}, true)
	}
	var re *rsp.ResultError
	switch {
	case errors.As(err, &re) && re.Code == int(rsp.EnableProfileNotInDisabledState):
		a.log.Info("profile already enabled", "iccid", iccid)
		err = nil
	case errors.As(err, &re) && re.Code == int(rsp.EnableICCIDOrAIDNotFound):
		err = fmt.Errorf("%w: %s: %w", ErrProfileNotPresent, iccid, err)
	}
	if err != nil {
		a.fail(ctx, j, out, err, true)
		return
	}
	a.sendActivation(j.session, portal.ActivationSuccess, iccid)
	if r, ok := a.cfg.Modem.(Refresher); ok {
		if err := a.transition(StateRefresh); err != nil {
			a.fail(ctx, j, out, err, false)
			return
		}
		if err := r.Refresh(ctx); err != nil {
			a.fail(ctx, j, out, fmt.Errorf("app: modem refresh: %w", err), false)
			return
		}
	}
	if err := a.transition(StateRegister); err != nil {
		a.fail(ctx, j, out, err, false)
		return
	}
	st, err := a.register(ctx, j, iccid)
	out.Registration = st
	if err != nil {
		a.fail(ctx, j, out, err, false)
		return
	}
	if conn, ok := a.cfg.Modem.(Connector); ok {
		if err := a.transition(StateConnect); err != nil {
			a.fail(ctx, j, out, err, false)
			return
		}
		ok, err := a.connect(ctx, j, conn, iccid)
		if err != nil {
			a.fail(ctx, j, out, err, false)
			return
		}
		out.Connected = ok
	} else {
		a.log.Info("the modem cannot connect a bearer; connect skipped")
	}
	a.deliverNotificationsLater(c)
	out.State, out.Result, out.Status = StateDone, portal.ActivationSuccess, StatusSuccess
}

// readRegistration reads the registration and whether the modem uses the
// profile iccid. A modem that is registered but still on another profile
// counts as searching.
func (a *Agent) readRegistration(ctx context.Context, iccid string) (portal.RegistrationState, bool) {
	info, err := a.cfg.Modem.Info(ctx)
	if err != nil {
		a.log.Debug("registration: modem info", "err", err)
		return portal.RegistrationNone, false
	}
	reg, err := a.cfg.Modem.Registration(ctx)
	if err != nil {
		a.log.Debug("registration: modem registration", "err", err)
		return portal.RegistrationNone, false
	}
	st := RegistrationStateOf(reg.State)
	if normICCID(info.ICCID) != iccid {
		if st.Registered() {
			st = portal.RegistrationSearching
		}
		return st, false
	}
	return st, st.Registered()
}

// register waits for the modem to register with profile iccid. Without an
// async interval it polls after 250 ms, then at doubling intervals up to
// RegistrationPollInterval, until
// NetworkRegistrationTimeout and tells the page each new state; with one it
// tries every interval until AsyncRegistrationDeadline and tells the page
// after every try.
func (a *Agent) register(ctx context.Context, j *job, iccid string) (portal.RegistrationState, error) {
	interval, limit := min(firstRegistrationPoll, a.cfg.RegistrationPollInterval), a.cfg.NetworkRegistrationTimeout
	async := j.asyncInterval > 0
	if async {
		interval, limit = j.asyncInterval, a.cfg.AsyncRegistrationDeadline
	}
	deadline := a.clock.Now().Add(limit)
	var told portal.RegistrationState
	for attempt := 1; ; attempt++ {
		st, ok := a.readRegistration(ctx, iccid)
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		now := a.clock.Now()
		final := ok || now.Add(interval).After(deadline)
		ev := RegistrationAttempt{ICCID: iccid, State: st, Attempt: attempt}
		if !final {
			ev.Next = now.Add(interval)
		}
		a.events.push(ev)
		a.log.Info("registration", "iccid", iccid, "state", st.String(), "attempt", attempt)
		if async || st != told {
			a.sendRegistration(j.session, st, iccid)
			told = st
		}
		if ok {
			return st, nil
		}
		if final {
			return st, fmt.Errorf("%w: profile %s is %s after %d attempts over %s", ErrRegistrationTimeout, iccid, st, attempt, limit)
		}
		if err := a.clock.Sleep(ctx, interval); err != nil {
			return st, err
		}
		if !async {
			// A modem usually attaches within a second of the enable:
			// poll soon, then back off to the configured interval.
			interval = min(2*interval, a.cfg.RegistrationPollInterval)
		}
	}
}

// firstRegistrationPoll is the first wait between two registration reads
// after an enable; it doubles up to Config.RegistrationPollInterval.
const firstRegistrationPoll = 250 * time.Millisecond

// connect brings up the bearer with the operator's APN. A missing APN or
// a failed lookup skips it (logged), reported as false.
func (a *Agent) connect(ctx context.Context, j *job, conn Connector, iccid string) (bool, error) {
	if j.operatorID == "" {
		a.log.Info("operator unknown; connect skipped")
		return false, nil
	}
	mccmnc := ""
	if reg, err := a.cfg.Modem.Registration(ctx); err == nil {
		mccmnc = reg.OperatorCode
	}
	res, err := a.cfg.Discovery.APN(ctx, j.operatorID, mccmnc, iccid)
	if err != nil {
		var ae *discovery.APIError
		if errors.As(err, &ae) && ae.Code == discovery.CodeAPNNotFound {
			a.log.Info("the operator has no APN for this profile; connect skipped", "operator", j.operatorID)
		} else {
			a.log.Warn("APN lookup failed; connect skipped", "operator", j.operatorID, "err", err)
		}
		return false, nil
	}
	cn := Connection{APN: res.APN.Name, User: res.APN.Username, Password: res.APN.Password, Auth: string(res.APN.AuthType),
		IPType: string(res.APN.IPType), RoamingAllowed: res.APN.RoamingAllowed}
	a.log.Info("connecting", "connection", cn)
	if err := conn.Connect(ctx, cn); err != nil {
		return false, fmt.Errorf("app: connect with APN %q: %w", cn.APN, err)
	}
	return true, nil
}

// deliverNotificationsLater sends the eUICC's pending notifications in the
// background, so that an SM-DP+ that is slow or unreachable (the
// notifications of other profiles go to their own servers) never holds up
// the end of a journey. Requests while one runs coalesce into one more
// run. A notification that is not acknowledged stays on the eUICC for the
// next run. Close waits for it.
func (a *Agent) deliverNotificationsLater(c *lpa.Client) {
	if c == nil {
		return
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	if a.notifying {
		a.notifyAgain = true
		a.mu.Unlock()
		return
	}
	a.notifying = true
	a.wg.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.wg.Done()
		for {
			a.deliverNotifications(a.base, c)
			a.mu.Lock()
			again := a.notifyAgain && !a.closed
			a.notifyAgain, a.notifying = false, again
			a.mu.Unlock()
			if !again {
				return
			}
		}
	}()
}

// deliverNotifications sends the eUICC's pending notifications (install,
// enable, disable) to their SM-DP+ servers, best effort.
func (a *Agent) deliverNotifications(ctx context.Context, c *lpa.Client) {
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.NotificationTimeout)
	defer cancel()
	rep, err := c.ProcessNotifications(ctx, a.cfg.ES9, lpa.NotifyOptions{})
	if err != nil {
		a.log.Warn("pending notifications not delivered", "err", err)
		return
	}
	for _, f := range rep.Failed {
		a.log.Info("notification not delivered; it stays on the eUICC", "seq", f.Notification.Seq,
			"event", f.Notification.Event.String(), "err", f.Err)
	}
	a.log.Info("notifications delivered", "delivered", len(rep.Delivered), "failed", len(rep.Failed))
}

// sendActivation tells the page the activation result, if it set a
// profileActivationCompleteScript; it reports whether it did.
func (a *Agent) sendActivation(s *portalSession, r portal.ActivationResult, iccid string) bool {
	if s == nil {
		return false
	}
	a.mu.Lock()
	fn := s.actScript
	a.mu.Unlock()
	if fn == "" {
		a.log.Info("the page set no profileActivationCompleteScript", "result", r.String())
		return false
	}
	js, err := portal.ActivationScript(fn, portal.ActivationArgs{Result: r, ICCID: iccid})
	if err != nil {
		a.log.Error("activation script", "err", err)
		return false
	}
	a.events.push(PortalScript{Kind: ScriptActivation, JS: js, TransactionID: s.transactionID})
	return true
}

// sendRegistration tells the page the registration state, if it set a
// registrationChangedScript.
func (a *Agent) sendRegistration(s *portalSession, st portal.RegistrationState, iccid string) {
	if s == nil {
		return
	}
	a.mu.Lock()
	fn := s.regScript
	a.mu.Unlock()
	if fn == "" {
		a.log.Info("the page set no registrationChangedScript", "state", st.String())
		return
	}
	js, err := portal.RegistrationScript(fn, portal.RegistrationArgs{State: st, ICCID: iccid})
	if err != nil {
		a.log.Error("registration script", "err", err)
		return
	}
	a.events.push(PortalScript{Kind: ScriptRegistration, JS: js, TransactionID: s.transactionID})
}
