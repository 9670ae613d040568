package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/ui/portal"
)

// notifyTimeout bounds one call of the Notifier.
const notifyTimeout = 30 * time.Second

// deferDownload stores a deferred download due after delay minutes
// (rounded up to 15).
func (a *Agent) deferDownload(ctx context.Context, s *portalSession, id, code string, meta portal.Meta, delay int, source string) (Reply, error) {
	if err := ctx.Err(); err != nil {
		return Reply{}, err
	}
	now := a.clock.Now()
	d := DeferredDownload{ID: id, OperatorID: s.operatorID, OperatorBrand: s.brand, ActivationCode: code, Meta: meta,
		Source: source, Created: now.UTC(), Due: now.Add(RoundUpInterval(delay)).UTC()}
	if err := d.validate(); err != nil {
		return a.reject(s, &portal.InvalidError{Result: portal.ActivationInvalidJSON, ContextID: id, Reason: "deferred download refused", Err: err})
	}
	err := a.store.update(func(p *persisted) error {
		if slices.ContainsFunc(p.Deferred, func(x DeferredDownload) bool { return x.ID == id }) {
			return fmt.Errorf("%w: %s", ErrDuplicateOperation, id)
		}
		if len(p.Deferred) >= maxDeferred {
			return fmt.Errorf("app: %d deferred downloads pending already", maxDeferred)
		}
		p.Deferred = append(p.Deferred, d)
		return nil
	})
	if err != nil {
		if r := classify(err).result; r == portal.ActivationLocalSettingsAccessFailed {
			a.sendActivation(s, r, "")
		}
		return Reply{}, err
	}
	a.log.Info("deferred download stored", "id", id, "operator", s.operatorID, "due", d.Due, "delayMinutes", delay)
	a.wakeScheduler()
	red := d.redacted()
	return Reply{Action: ActionDeferred, ContextID: id, Deferred: &red}, nil
}

// PendingDownloads returns the deferred downloads not yet run, by due
// time, with their activation codes redacted.
func (a *Agent) PendingDownloads() []DeferredDownload {
	ds := a.store.view().Deferred
	slices.SortStableFunc(ds, func(x, y DeferredDownload) int { return x.Due.Compare(y.Due) })
	for i := range ds {
		ds[i] = ds[i].redacted()
	}
	return ds
}

// DueDownloads returns the deferred downloads that are due now.
func (a *Agent) DueDownloads() []DeferredDownload {
	now := a.clock.Now()
	return slices.DeleteFunc(a.PendingDownloads(), func(d DeferredDownload) bool { return d.Due.After(now) })
}

// CancelDeferred removes a deferred download, as notifyOperationCancel
// does: only before the user was notified (ErrAlreadyNotified) and not
// while it runs (ErrBusy).
func (a *Agent) CancelDeferred(id string) error {
	err := a.store.update(func(p *persisted) error {
		i := slices.IndexFunc(p.Deferred, func(d DeferredDownload) bool { return d.ID == id })
		if i < 0 {
			return fmt.Errorf("%w: %s", ErrUnknownOperation, truncate(id, 70))
		}
		a.mu.Lock()
		notified := p.Deferred[i].Notified || a.notified[id]
		running := a.run != nil && a.run.job.deferredID == id
		a.mu.Unlock()
		switch {
		case running:
			return fmt.Errorf("%w: deferred download %s is running", ErrBusy, id)
		case notified:
			return fmt.Errorf("%w: %s", ErrAlreadyNotified, id)
		}
		p.Deferred = slices.Delete(p.Deferred, i, i+1)
		return nil
	})
	if err != nil {
		return err
	}
	a.log.Info("deferred download cancelled", "id", id)
	a.wakeScheduler()
	return nil
}

// RunDeferred starts a due deferred download in the background (Wait
// for its outcome). It is removed once installed and kept when the download
// fails, so that it can be run again.
func (a *Agent) RunDeferred(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := a.store.view()
	i := slices.IndexFunc(p.Deferred, func(d DeferredDownload) bool { return d.ID == id })
	if i < 0 {
		return fmt.Errorf("%w: %s", ErrUnknownOperation, truncate(id, 70))
	}
	d := p.Deferred[i]
	if now := a.clock.Now(); now.Before(d.Due) {
		return fmt.Errorf("%w: %s is due at %s", ErrNotDue, id, d.Due.Format(time.RFC3339))
	}
	var ac lpa.ActivationCode
	if d.ActivationCode != "" {
		var err error
		if ac, err = lpa.ParseActivationCode(d.ActivationCode); err != nil {
			return fmt.Errorf("app: deferred download %s: %w", id, err)
		}
	}
	j := &job{kind: KindDeferred, operatorID: d.OperatorID, ac: ac, deferredID: id}
	return a.startRun(j, StateDownload)
}

// removeDeferred forgets a deferred download that was installed.
func (a *Agent) removeDeferred(id string) {
	err := a.store.update(func(p *persisted) error {
		p.Deferred = slices.DeleteFunc(p.Deferred, func(d DeferredDownload) bool { return d.ID == id })
		return nil
	})
	if err != nil {
		a.log.Warn("installed deferred download not removed from the state", "id", id, "err", err)
	}
	a.wakeScheduler()
}

// wakeScheduler makes the scheduler look at the deferred downloads again.
func (a *Agent) wakeScheduler() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.wakeSched != nil {
		a.wakeSched()
	}
}

// scheduler notifies the user of each deferred download once it is due
// (once per process: after a restart, due downloads are offered again).
func (a *Agent) scheduler() {
	defer a.wg.Done()
	for {
		wctx, wake := context.WithCancel(a.base)
		a.mu.Lock()
		a.wakeSched = wake
		a.mu.Unlock()
		now := a.clock.Now()
		var next time.Time
		var due []DeferredDownload
		for _, d := range a.store.view().Deferred {
			a.mu.Lock()
			done := a.notified[d.ID]
			a.mu.Unlock()
			switch {
			case done:
			case !d.Due.After(now):
				due = append(due, d)
			case next.IsZero() || d.Due.Before(next):
				next = d.Due
			}
		}
		for _, d := range due {
			a.notifyDue(d)
		}
		switch {
		case len(due) > 0:
		case next.IsZero():
			<-wctx.Done()
		default:
			_ = a.clock.Sleep(wctx, next.Sub(now))
		}
		wake()
		if a.base.Err() != nil {
			return
		}
	}
}

// notifyDue marks d notified (the portal can no longer cancel it) and
// invites the user to start it.
func (a *Agent) notifyDue(d DeferredDownload) {
	a.mu.Lock()
	a.notified[d.ID] = true
	a.mu.Unlock()
	err := a.store.update(func(p *persisted) error {
		for i := range p.Deferred {
			if p.Deferred[i].ID == d.ID {
				p.Deferred[i].Notified = true
			}
		}
		return nil
	})
	if err != nil {
		a.log.Warn("deferred download: notified flag not saved", "id", d.ID, "err", err)
	}
	brand := d.OperatorBrand
	if brand == "" {
		brand = "your operator"
	}
	n := Notification{Kind: NotifyDeferredDownloadDue, Title: "Your mobile plan is ready",
		Body:       fmt.Sprintf("The eSIM profile from %s can be downloaded now. Select to install it.", brand),
		DeferredID: d.ID, OperatorID: d.OperatorID}
	a.log.Info("deferred download due", "id", d.ID, "operator", d.OperatorID)
	if a.cfg.Notifier != nil {
		ctx, cancel := context.WithTimeout(a.base, notifyTimeout)
		defer cancel()
		if err := a.cfg.Notifier.Notify(ctx, n); err != nil {
			a.log.Warn("desktop notification failed", "err", err)
		}
	}
	a.events.push(n)
}
