package lpa

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/rsp"
)

// ErrNotificationNotFound is returned by ProcessNotifications when
// NotifyOptions.Seq names no pending notification.
var ErrNotificationNotFound = errors.New("lpa: no pending notification with that sequence number")

// NotifyOptions configure ProcessNotifications.
type NotifyOptions struct {
	// KeepOnCard delivers without removing: by default a notification is
	// removed from the eUICC (ES10b.RemoveNotificationFromList) as soon as
	// its SM-DP+ acknowledged it.
	KeepOnCard bool
	// Seq, when set, processes only the notification with this sequence
	// number.
	Seq *int
}

// NotificationResult is the outcome for one pending notification.
type NotificationResult struct {
	Notification rsp.NotificationMetadata
	// Removed reports that the notification was removed from the eUICC.
	Removed bool
	// Err is why delivery failed (in NotifyReport.Failed), or why a
	// delivered notification could not be removed (in Delivered).
	Err error
}

// NotifyReport lists what ProcessNotifications did, in sequence order.
type NotifyReport struct {
	// Delivered: acknowledged by the server (2xx).
	Delivered []NotificationResult
	// Failed: not delivered; these stay on the eUICC for a later run.
	Failed []NotificationResult
}

// ProcessNotifications delivers the eUICC's pending notifications
// (sgp22.md 5.4): ListNotification, then for each one
// RetrieveNotificationsList by sequence number, ES9+ handleNotification to
// the notification's address, and on acknowledgement
// RemoveNotificationFromList. Failures are reported per notification in the
// report and leave the notification on the card; the error is non-nil only
// when the list could not be read, ctx ended, or opts.Seq matched nothing.
func (c *Client) ProcessNotifications(ctx context.Context, es9c *ES9Client, opts NotifyOptions) (NotifyReport, error) {
	var rep NotifyReport
	if es9c == nil {
		return rep, errors.New("lpa: ProcessNotifications: nil ES9Client")
	}
	list, err := c.Notifications(ctx)
	if err != nil {
		return rep, fmt.Errorf("ProcessNotifications: %w", err)
	}
	slices.SortFunc(list, func(a, b rsp.NotificationMetadata) int { return a.Seq - b.Seq })
	matched := false
	for _, m := range list {
		if opts.Seq != nil && m.Seq != *opts.Seq {
			continue
		}
		matched = true
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("ProcessNotifications: %w", err)
		}
		r := c.processNotification(ctx, es9c, m, !opts.KeepOnCard)
		if r.delivered {
			rep.Delivered = append(rep.Delivered, r.NotificationResult)
		} else {
			rep.Failed = append(rep.Failed, r.NotificationResult)
		}
	}
	if opts.Seq != nil && !matched {
		return rep, fmt.Errorf("ProcessNotifications: %w: %d", ErrNotificationNotFound, *opts.Seq)
	}
	c.log.InfoContext(ctx, "notifications processed", "delivered", len(rep.Delivered), "failed", len(rep.Failed))
	return rep, nil
}

type notificationOutcome struct {
	NotificationResult
	delivered bool
}

func (c *Client) processNotification(ctx context.Context, es9c *ES9Client, m rsp.NotificationMetadata, remove bool) notificationOutcome {
	out := notificationOutcome{NotificationResult: NotificationResult{Notification: m}}
	seq := m.Seq
	ps, err := c.RetrieveNotifications(ctx, &seq)
	if err != nil {
		out.Err = err
		return out
	}
	// A card that ignores the search criterion returns every notification.
	i := slices.IndexFunc(ps, func(p rsp.PendingNotification) bool { return p.Metadata.Seq == seq })
	if i < 0 {
		out.Err = fmt.Errorf("RetrieveNotificationsList: the eUICC returned no notification %d", seq)
		return out
	}
	p := ps[i]
	addr := m.Address
	if addr == "" {
		addr = p.Metadata.Address
	}
	if addr == "" {
		out.Err = fmt.Errorf("notification %d has no address", seq)
		return out
	}
	err = c.deliver(ctx, es9c, addr, p.Raw, seq, remove)
	var re *removeError
	switch {
	case errors.As(err, &re):
		out.delivered = true
		out.Err = err
	case err != nil:
		out.Err = err
	default:
		out.delivered = true
		out.Removed = remove
	}
	return out
}

// removeError is a notification that was delivered but not removed.
type removeError struct{ err error }

func (e *removeError) Error() string {
	return fmt.Sprintf("delivered, but removing it from the eUICC failed: %v", e.err)
}
func (e *removeError) Unwrap() error { return e.err }

// deliver posts one pending notification (raw BF37 or 30 TLV) to address
// and, with remove, removes it from the eUICC once the server acknowledged
// it. A removal failure is a *removeError.
func (c *Client) deliver(ctx context.Context, es9c *ES9Client, address string, raw []byte, seq int, remove bool) error {
	if err := es9c.HandleNotification(ctx, address, es9.HandleNotificationRequest{PendingNotification: raw}); err != nil {
		return err
	}
	if !remove {
		return nil
	}
	if err := c.RemoveNotification(ctx, seq); err != nil {
		return &removeError{err: err}
	}
	return nil
}
