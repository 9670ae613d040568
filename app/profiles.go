package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/service/discovery"
)

// Errors of the profile operations (Device, SwitchProfile, RenameProfile,
// DeleteProfile, PendingNotifications, SendNotifications, StartDownload);
// test with errors.Is. An ICCID that is not on the eUICC is
// ErrProfileNotPresent, a fulfilment in progress ErrBusy.
var (
	// ErrInvalidICCID: the ICCID is not 18 to 20 digits (a trailing 'F'
	// filler is ignored).
	ErrInvalidICCID = errors.New("app: not a valid ICCID")
	// ErrAlreadyEnabled: SwitchProfile to the profile that is enabled
	// already; nothing to do.
	ErrAlreadyEnabled = errors.New("app: the profile is already in use")
	// ErrProfileEnabled: DeleteProfile of the enabled profile; switch to
	// another one first.
	ErrProfileEnabled = errors.New("app: the profile is in use; switch to another profile before deleting it")
	// ErrDisallowedByPolicy: the profile's policy rules forbid the
	// operation (SGP.22 disallowedByPolicy, e.g. a profile its operator
	// does not allow to be deleted).
	ErrDisallowedByPolicy = errors.New("app: the profile's operator does not allow this")
	// ErrNicknameTooLong: a nickname over MaxNicknameLen bytes of UTF-8.
	ErrNicknameTooLong = errors.New("app: nickname too long")
	// ErrInvalidNickname: a nickname that is not valid UTF-8.
	ErrInvalidNickname = errors.New("app: nickname is not valid text")
	// ErrInvalidActivationCode: the text given to StartDownload is not an
	// eSIM activation code (LPA:1$<SM-DP+ address>$<matching ID>...).
	ErrInvalidActivationCode = errors.New("app: not a valid eSIM activation code")
	// ErrConfirmationCodeRequired: the activation code asks for a
	// confirmation code, which StartDownload cannot take.
	ErrConfirmationCodeRequired = errors.New("app: the activation code needs a confirmation code, which is not supported")
	// ErrInvalidOperatorID: an operator id that the discovery service
	// could not have issued (lower-case letters, digits and '-', at most
	// 64 characters).
	ErrInvalidOperatorID = errors.New("app: not a valid operator id")
)

// MaxNicknameLen is the longest profile nickname in bytes of UTF-8
// (SGP.22 profileNickname UTF8String SIZE(0..64)); the UI can limit its
// entry field to it.
const MaxNicknameLen = rsp.MaxNicknameLen

// operatorLookupTimeout bounds the discovery request with which
// SwitchProfile finds the operator (for the APN) of the profile.
const operatorLookupTimeout = 5 * time.Second

// notifyPoll is how often SendNotifications looks whether the background
// delivery of notifications has ended.
const notifyPoll = 20 * time.Millisecond

// Device reads the device as Probe does (modem identity and registration,
// EID, installed profiles) without moving the journey and without failing
// it when the read fails, so that the UI can refresh its device and
// profile screens at any time, also while a fulfilment runs (the ES10
// exchanges are serialised with the fulfilment's). Errors wrap ErrModem
// or ErrLPAInit.
func (a *Agent) Device(ctx context.Context) (Device, error) {
	return a.readDevice(ctx)
}

// SwitchProfile enables an installed profile in the background: enable
// (with a SIM refresh), refresh the modem when it can (Refresher), wait for
// network registration on the profile, connect when the modem can
// (Connector) with the APN of the operator the discovery service says owns
// the ICCID (none found: no connect), then deliver the eUICC notifications
// in the background. It returns once the switch has started; Wait gives
// the Outcome (Kind KindSwitch) and Events its progress. There is no
// portal session: no page is told anything.
//
// The ICCID may carry the 'F' filler. Errors, before anything started:
// ErrInvalidICCID, ErrProfileNotPresent (not on the eUICC),
// ErrAlreadyEnabled, ErrBusy (a fulfilment runs), ErrModem or ErrLPAInit
// (the device could not be read). A journey in one of the UI steps (probe
// to portal) is left: its portal session closes, and from probe, discover
// or gateway the journey first goes to cancelled.
func (a *Agent) SwitchProfile(ctx context.Context, iccid string) error {
	id, err := a.freeProfile(iccid)
	if err != nil {
		return err
	}
	d, err := a.readDevice(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(d.Profiles, func(p Profile) bool { return normICCID(p.ICCID) == string(id) })
	switch {
	case i < 0:
		return fmt.Errorf("%w: %s", ErrProfileNotPresent, id)
	case d.Profiles[i].Enabled:
		return fmt.Errorf("%w: %s", ErrAlreadyEnabled, id)
	}
	op := a.operatorOwning(ctx, d, string(id))
	j := &job{kind: KindSwitch, operatorID: op, iccid: string(id)}
	if err := a.startManual(j, StateEnable); err != nil {
		return err
	}
	a.log.Info("profile switch started", "iccid", string(id), "operator", op)
	return nil
}

// operatorOwning asks the discovery service which operator owns the
// profile iccid (its ICCID ranges), for the APN of the connect step; ""
// when it cannot tell (logged: the switch then does not connect).
func (a *Agent) operatorOwning(ctx context.Context, d Device, iccid string) string {
	ctx, cancel := context.WithTimeout(ctx, operatorLookupTimeout)
	defer cancel()
	q := discovery.Query{MCC: d.ServingMCC, EID: d.EID, Make: d.Manufacturer, Model: d.Model, ICCIDs: []string{iccid}}
	l, err := a.cfg.Discovery.Operators(ctx, q)
	if err != nil {
		a.log.Warn("operator of the profile unknown; the switch will not connect a bearer", "iccid", iccid, "err", err)
		return ""
	}
	for _, o := range l.Operators {
		if slices.Contains(o.OwnedICCIDs, iccid) {
			return o.ID
		}
	}
	a.log.Info("no operator owns the profile; the switch will not connect a bearer", "iccid", iccid)
	return ""
}

// RenameProfile sets the nickname of an installed profile (ES10c
// SetNickname); "" clears it. The ICCID may carry the 'F' filler. Errors:
// ErrNicknameTooLong (over MaxNicknameLen bytes) and ErrInvalidNickname
// (not UTF-8), both before the eUICC is touched; ErrInvalidICCID;
// ErrProfileNotPresent; ErrBusy while a fulfilment runs (the eUICC is not
// disturbed in the middle of a download).
func (a *Agent) RenameProfile(ctx context.Context, iccid, nickname string) error {
	switch {
	case len(nickname) > MaxNicknameLen:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrNicknameTooLong, len(nickname), MaxNicknameLen)
	case !utf8.ValidString(nickname):
		return ErrInvalidNickname
	}
	id, c, err := a.profileClient(ctx, iccid)
	if err != nil {
		return err
	}
	err = c.SetNickname(ctx, id, nickname)
	var re *rsp.ResultError
	switch {
	case errors.As(err, &re) && re.Code == int(rsp.SetNicknameICCIDNotFound):
		return fmt.Errorf("%w: %s: %w", ErrProfileNotPresent, id, err)
	case err != nil:
		return fmt.Errorf("app: renaming profile %s: %w", id, err)
	}
	a.log.Info("profile renamed", "iccid", string(id), "nicknameBytes", len(nickname))
	return nil
}

// DeleteProfile deletes a disabled profile from the eUICC (ES10c
// DeleteProfile), then delivers the pending notifications in the
// background so that the delete notification reaches the profile's SM-DP+
// (an undelivered one stays on the eUICC; see PendingNotifications). The
// ICCID may carry the 'F' filler. Errors: ErrProfileEnabled (the enabled
// profile: switch to another one first), ErrProfileNotPresent,
// ErrDisallowedByPolicy, ErrInvalidICCID, ErrBusy while a fulfilment runs.
func (a *Agent) DeleteProfile(ctx context.Context, iccid string) error {
	id, c, err := a.profileClient(ctx, iccid)
	if err != nil {
		return err
	}
	p, err := c.Profile(ctx, id)
	switch {
	case errors.Is(err, lpa.ErrProfileNotFound):
		return fmt.Errorf("%w: %s", ErrProfileNotPresent, id)
	case err != nil:
		return fmt.Errorf("%w: reading profile %s: %w", ErrLPAInit, id, err)
	case p.State == rsp.ProfileEnabled:
		return fmt.Errorf("%w: %s", ErrProfileEnabled, id)
	}
	err = c.Delete(ctx, rsp.ProfileID{ICCID: id})
	var re *rsp.ResultError
	if errors.As(err, &re) {
		switch re.Code {
		case int(rsp.DeleteProfileNotInDisabledState):
			return fmt.Errorf("%w: %s: %w", ErrProfileEnabled, id, err)
		case int(rsp.DeleteICCIDOrAIDNotFound):
			return fmt.Errorf("%w: %s: %w", ErrProfileNotPresent, id, err)
		case int(rsp.DeleteDisallowedByPolicy):
			return fmt.Errorf("%w: %s: %w", ErrDisallowedByPolicy, id, err)
		}
	}
	if err != nil {
		return fmt.Errorf("app: deleting profile %s: %w", id, err)
	}
	a.log.Info("profile deleted", "iccid", string(id))
	a.deliverNotificationsLater(c)
	return nil
}

// PendingNotification is a notification waiting on the eUICC for delivery
// to an SM-DP+ (SGP.22 ListNotification).
type PendingNotification struct {
	// Seq is the eUICC's sequence number.
	Seq int
	// Event is "install", "enable", "disable" or "delete".
	Event string
	// ICCID is the profile it is about ("" when the eUICC did not say).
	ICCID string
	// Address is the SM-DP+ it goes to.
	Address string
}

// PendingNotifications lists the notifications waiting on the eUICC, by
// sequence number. Errors wrap ErrLPAInit.
func (a *Agent) PendingNotifications(ctx context.Context) ([]PendingNotification, error) {
	c, err := a.client(ctx)
	if err != nil {
		return nil, err
	}
	ms, err := c.Notifications(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: listing the notifications: %w", ErrLPAInit, err)
	}
	out := make([]PendingNotification, 0, len(ms))
	for _, m := range ms {
		out = append(out, pendingOf(m))
	}
	slices.SortFunc(out, func(x, y PendingNotification) int { return x.Seq - y.Seq })
	return out, nil
}

func pendingOf(m rsp.NotificationMetadata) PendingNotification {
	return PendingNotification{Seq: m.Seq, Event: m.Event.String(), ICCID: normICCID(string(m.ICCID)), Address: m.Address}
}

// NotificationReport is what SendNotifications did.
type NotificationReport struct {
	// Delivered is the number of notifications their SM-DP+ acknowledged.
	Delivered int
	// Failed are the notifications not delivered; they stay on the eUICC
	// for a later delivery.
	Failed []FailedNotification
}

// FailedNotification is a notification SendNotifications could not
// deliver, and why.
type FailedNotification struct {
	PendingNotification
	Err error
}

// SendNotifications delivers the pending eUICC notifications now, each to
// its SM-DP+, within Config.NotificationTimeout, and reports what was
// delivered and what failed (failed ones stay on the eUICC). Only one
// delivery runs at a time: while the agent's background delivery (after a
// fulfilment or a delete) runs, SendNotifications waits for it to end;
// background deliveries asked for meanwhile run after it. The error is
// non-nil only when nothing could be tried: the list could not be read
// (ErrLPAInit), ctx ended, or the agent was closed (ErrClosed).
func (a *Agent) SendNotifications(ctx context.Context) (NotificationReport, error) {
	var rep NotificationReport
	c, err := a.client(ctx)
	if err != nil {
		return rep, err
	}
	if err := a.claimNotifications(ctx); err != nil {
		return rep, err
	}
	defer a.releaseNotifications(c)
	ctx, cancel := context.WithTimeout(ctx, a.cfg.NotificationTimeout)
	defer cancel()
	stop := context.AfterFunc(a.base, cancel) // Close ends the delivery
	defer stop()
	r, err := c.ProcessNotifications(ctx, a.cfg.ES9, lpa.NotifyOptions{})
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, lpa.ErrClosed) {
			err = fmt.Errorf("%w: %w", ErrLPAInit, err)
		}
		return rep, fmt.Errorf("app: sending notifications: %w", err)
	}
	rep.Delivered = len(r.Delivered)
	for _, d := range r.Delivered {
		if d.Err != nil {
			a.log.Info("notification delivered but still on the eUICC", "seq", d.Notification.Seq, "err", d.Err)
		}
	}
	for _, f := range r.Failed {
		rep.Failed = append(rep.Failed, FailedNotification{PendingNotification: pendingOf(f.Notification), Err: f.Err})
		a.log.Info("notification not delivered; it stays on the eUICC", "seq", f.Notification.Seq,
			"event", f.Notification.Event.String(), "err", f.Err)
	}
	a.log.Info("notifications sent", "delivered", rep.Delivered, "failed", len(rep.Failed))
	return rep, nil
}

// claimNotifications makes the caller the one delivery of notifications
// that runs (Agent.notifying), waiting while the background one runs (it
// signals its end only through the flag, hence the polling). Close waits
// for the claimed delivery (releaseNotifications).
func (a *Agent) claimNotifications(ctx context.Context) error {
	t := time.NewTicker(notifyPoll)
	defer t.Stop()
	for {
		a.mu.Lock()
		switch {
		case a.closed:
			a.mu.Unlock()
			return ErrClosed
		case !a.notifying:
			a.notifying = true
			a.wg.Add(1)
			a.mu.Unlock()
			return nil
		}
		a.mu.Unlock()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-a.base.Done():
			return ErrClosed
		}
	}
}

// releaseNotifications ends a claimed delivery and starts the background
// one that was asked for meanwhile (deliverNotificationsLater coalesced
// it into notifyAgain).
func (a *Agent) releaseNotifications(c *lpa.Client) {
	a.mu.Lock()
	again := a.notifyAgain
	a.notifying, a.notifyAgain = false, false
	a.mu.Unlock()
	a.wg.Done()
	if again {
		a.deliverNotificationsLater(c)
	}
}

// StartDownload downloads, installs and enables the profile of an
// activation code the user typed or scanned (a QR code's "LPA:1$..."
// text; surrounding white space is ignored), with no portal: it validates
// the code, starts the fulfilment (Kind KindDownload) in the background
// and returns; Wait gives the Outcome and Events its progress, as for a
// portal download. operatorID, when known (an Operator.ID), selects the
// APN of the connect step and keeps the failed attempts for that
// operator's next portal launch; with "" neither happens.
//
// Errors, before anything started: ErrInvalidActivationCode (the UI can
// say "this is not an eSIM activation code"), ErrConfirmationCodeRequired,
// ErrInvalidOperatorID, ErrBusy. A journey in one of the UI steps is left
// as by SwitchProfile. Neither the code nor its matching ID is logged.
func (a *Agent) StartDownload(ctx context.Context, operatorID, code string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ac, err := lpa.ParseActivationCode(code)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidActivationCode, err)
	}
	if ac.ConfirmationCodeRequired {
		return fmt.Errorf("%w (%w)", ErrConfirmationCodeRequired, lpa.ErrConfirmationCodeRequired)
	}
	if operatorID != "" && !validOperatorID(operatorID) {
		return fmt.Errorf("%w: %q", ErrInvalidOperatorID, truncate(operatorID, 70))
	}
	j := &job{kind: KindDownload, operatorID: operatorID, ac: ac}
	if err := a.startManual(j, StateDownload); err != nil {
		return err
	}
	a.log.Info("download of an activation code started", "ac", ac, "operator", operatorID)
	return nil
}

// validOperatorID reports whether s is an operator id as the discovery
// service makes them.
func validOperatorID(s string) bool {
	if len(s) > 64 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// parseICCID normalises an ICCID given by the UI.
func parseICCID(s string) (rsp.ICCID, error) {
	id, err := rsp.ParseICCID(normICCID(s))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidICCID, err)
	}
	return id, nil
}

// freeProfile parses the ICCID of a profile operation and checks that no
// fulfilment holds the eUICC.
func (a *Agent) freeProfile(iccid string) (rsp.ICCID, error) {
	id, err := parseICCID(iccid)
	if err != nil {
		return "", err
	}
	return id, a.cardFree()
}

// profileClient is freeProfile, then the LPA client for the operation.
func (a *Agent) profileClient(ctx context.Context, iccid string) (rsp.ICCID, *lpa.Client, error) {
	id, err := a.freeProfile(iccid)
	if err != nil {
		return "", nil, err
	}
	c, err := a.client(ctx)
	if err != nil {
		return "", nil, err
	}
	return id, c, nil
}

// cardFree refuses an operation on the eUICC while a fulfilment runs.
func (a *Agent) cardFree() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.closed:
		return ErrClosed
	case a.run != nil:
		return ErrBusy
	}
	return nil
}

// startManual starts a fulfilment the UI asked for without a portal
// session. A journey in a UI step is left first: the portal session
// closes, and where the table allows no direct transition to first
// (probe, discover, gateway) the journey goes to cancelled, as Cancel
// would.
func (a *Agent) startManual(j *job, first State) error {
	a.mu.Lock()
	switch {
	case a.closed:
		a.mu.Unlock()
		return ErrClosed
	case a.run != nil:
		a.mu.Unlock()
		return ErrBusy
	}
	switch a.state {
	case StateProbe, StateDiscover, StateGateway, StatePortal:
		a.session = nil
		if !CanTransition(a.state, first) {
			if err := a.transitionLocked(StateCancelled); err != nil {
				a.mu.Unlock()
				return err
			}
		}
	}
	a.mu.Unlock()
	return a.startRun(j, first)
}
