// Package app is the device-side agent of Mobile Plans: what the desktop UI
// and the CLI call to take a device from "no plan" to "connected"
// (mobile-plans.md 2 and 3).
//
// # The journey
//
// An Agent walks one journey at a time through explicit states:
//
//	idle → probe → discover → gateway → portal            (UI steps, any order, each repeatable)
//	portal → download → install → enable → [refresh] → register → [connect] → done
//	portal → enable → ...                                 (balance addition switching to an installed profile)
//	any running state → failed | cancelled
//
// Every transition goes through one table (see State and CanTransition);
// an illegal one is a *TransitionError and changes nothing. The UI steps are
// methods that move the journey and return data: Probe (modem identity, EID,
// profiles, registration, serving MCC), Operators (the discovery service's
// list for the serving MCC's country, else the service's IP logic), Gateway
// (the operator's gateway page), PortalLaunch (the portal URL with the
// launch parameters of mobile-plans.md 3.1 and, after failed downloads, the
// X-MP-LPAError-* headers). From the portal on, the page drives the
// journey through the Mobile Plans JavaScript bridge: HandleBridgeMessage
// (a raw bridge message, checked against the session's callback host) and
// HandleBridgeCall (an already parsed call) start the fulfilment in the
// background and return at once; Wait waits for its outcome and Cancel
// stops it (the LPA then cancels the SGP.22 session on the eUICC and on the
// SM-DP+, with reason endUserRejection).
//
// What each bridge call does:
//
//   - notifyProfileDownload(meta, ac): download, install, enable (with a
//     SIM refresh), refresh the modem when it can (Refresher), wait for
//     network registration on the new profile's ICCID (polling
//     Modem.Registration, soon and then backing off to
//     Config.RegistrationPollInterval, until Config.NetworkRegistrationTimeout), connect
//     when the modem can (Connector) with the APN from the discovery
//     service, done; the pending eUICC notifications are then delivered in the
//     background (an unreachable SM-DP+ does not hold the journey up; what
//     is not acknowledged stays on the eUICC for the next run). The page hears
//     profileActivationCompleteScript once the profile is enabled (or with
//     the mapped error when the download fails) and
//     registrationChangedScript once registration ended.
//   - notifyProfileDownload(meta, ac, downloadDelay): a deferred download,
//     persisted, due after downloadDelay minutes rounded up to a multiple of
//     15 (mobile-plans.md 2.6: "rounded to 15-minute granularity, 5 -> ~15");
//     when due, a Notification event (and Config.Notifier) invites the user,
//     and RunDeferred starts it. notifyOperationCancel removes it, but only
//     before that notification was shown.
//   - notifyPurchaseWithProfileDownload(meta, ac, interval): download now;
//     with interval 0 register as above, else try registration at once and
//     then every interval (rounded up to 15 minutes) until registered or
//     Config.AsyncRegistrationDeadline, telling the page after each try.
//   - notifyPurchaseDelayedProfile(meta, minutes): a deferred download
//     without an activation code: the eUICC's default SM-DP+ address and no
//     matching ID (there is no SM-DS client).
//   - notifyBalanceAddition(meta[, iccid]): with an ICCID, switch to that
//     installed profile (enable, refresh, register, connect); without, the
//     journey is done.
//   - notifyCancelledPurchase(meta): the journey is cancelled.
//   - DataMart.notifyPurchaseResult(payload): success with an activation
//     code is notifyProfileDownload; success without one is a balance
//     addition (with its ICCID, if any); failure is a cancelled purchase.
//   - setting registrationChangedScript/profileActivationCompleteScript:
//     remembered for the portal session (one PortalLaunch).
//   - an invalid call (portal.InvalidError): the page's
//     profileActivationCompleteScript gets invalidJson,
//     invalidActivationCode or invalidIccid, and nothing is started. Calls
//     from a foreign origin are refused and never answered.
//
// # Profiles and activation codes
//
// The UI's profile screens use Device (Probe's read, without moving the
// journey, safe while a fulfilment runs), SwitchProfile (a KindSwitch
// fulfilment without a portal: enable, refresh, register, connect with the
// APN of the operator that owns the ICCID), RenameProfile, DeleteProfile
// (never the enabled profile; the delete notification follows in the
// background), PendingNotifications and SendNotifications (one delivery
// at a time, the background one included). StartDownload takes an
// activation code the user typed or scanned and starts a KindDownload
// fulfilment without a portal. The operations that change the eUICC refuse
// with ErrBusy while a fulfilment runs; those that start one leave a
// journey in a UI step first (its portal session closes).
//
// # Events
//
// Events delivers StateChanged, Progress, PortalScript (JavaScript to run
// in the portal page), RegistrationAttempt, Notification and ErrorEvent
// values. The agent never blocks on a slow reader: events wait in an
// unbounded-rate, bounded-size queue (Config.EventBuffer). A Progress that
// follows a Progress still waiting in the queue replaces it (coalescing).
// When the queue is full, the oldest waiting Progress is dropped, else the
// oldest waiting event that is not a StateChanged; StateChanged events are
// never dropped (the queue may exceed its size by state changes only, and
// a journey has a bounded number of them). Dropped counts what was dropped.
// The channel is closed by Close; events still queued then are discarded.
//
// # Download failures
//
// Classify maps a failure to the activation result the page hears
// (mobile-plans.md 3.3) and to the Windows ESimOperationStatus name (3.1)
// that goes into the X-MP-LPAError-Codes header of the next portal launch
// for that operator (with X-MP-LPAError-TimeStamps, UTC, formatted like
// "5/18/2018 11:17:23 PM", and X-MP-LPAError-ICCIDs, the ICCID of the
// profile the failed download was for when the SM-DP+ had named it).
// Transient failures (server unreachable or 5xx, timeouts, card busy, card
// reset) are retried up to Config.DownloadAttempts times; every failed
// attempt is recorded. A successful download clears the operator's record.
//
// # Persistence
//
// Config.StateDir holds agent.json (mode 0600): the deferred downloads
// (with their activation codes), the recorded download failures and the
// settings, as versioned JSON. It is written atomically (temporary file,
// fsync, rename) after every change. A file that cannot be read or decoded
// makes New fail with a *StateError (errors.Is ErrCorruptState); it is
// never overwritten. One agent per StateDir.
package app
