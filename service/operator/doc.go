// Package operator is the sample mobile operator "Contoso Cellular" of the
// bundled stack: its purchase portal (the HTML pages the Mobile Plans app
// opens in a web view), its MO Web API for the Mobile Plans Service
// (GetBalance, GetOffers, GetNotifications) and its ES2+ client to the
// SM-DP+ (mobile-plans.md 2, 3, 4, 10, 11; SGP.22 ES2+). New opens the
// SQLite database (accounts, lines, orders, balances, MO API transaction
// ids); PortalHandler and MOAPIHandler are served on separate listeners.
//
// # Portal
//
// The launch URL is the path of Config.PortalBaseURL (GET). ParseLaunch
// reads eid, iccids, iccid, imei, location, market, transactionId,
// legacy and mpcallback (names and values in any case; unknown parameters ignored;
// invalid values dropped and logged) and the X-MP-LPAError-Codes,
// -TimeStamps and -ICCIDs headers, shown as a notice ("Your last eSIM
// download failed: ..." by error group). transactionId is logged and
// stored with each order. A launch starts a new visit (signing out any
// earlier one); returning to the launch URL with the same transactionId
// (back navigation) keeps it (taking a new mpcallback). The language comes from Accept-Language
// (en, de, fr; English otherwise) for every string, including those of
// portal.js. Pages work at 800x600 and narrower, load nothing from
// elsewhere (Content-Security-Policy default-src 'none', script, style and
// images from 'self'; hand-back pages of a launch with mpcallback may also
// connect to that callback, and only there), keep the visit in an HttpOnly SameSite=Lax cookie
// (Secure when PortalBaseURL is https) and carry a CSRF token in every POST
// form (403 without it). Paths below the launch path:
//
//	GET  /              launch: sign-in page
//	GET  /signin  POST /signin     sign in (e-mail, password)
//	GET  /signup  POST /signup     create an account (name, e-mail, password >= 8)
//	GET  /plans   POST /plans      plan tiles (plan=<id>), the launch's Contoso lines with "Add data"
//	GET  /review  POST /review     order review (accept=1 required; delivery=now|later)
//	GET  /confirmation             confirmation and hand-back to the app
//	POST /order/cancel             cancel a scheduled download (context=<bridge context id>)
//	GET  /order/cancelled          scheduled download cancelled
//	POST /retry                    hand the failed download's activation code over again
//	GET  /topup?iccid=  POST /topup  "Add data" for a prepaid line the launch named (topup=<id>)
//	GET  /terms?from=<page>        terms of service and privacy
//	POST /cancel  GET /cancelled   cancel from any page (works without a session too)
//	POST /done    GET /done        sign out at the end
//	GET  /static/{style.css,logo.svg,portal.js}
//
// Buying orders a profile with Config.Orders (ES2+ downloadOrder and
// confirmOrder, bound to the launch's EID when there is one); a launch with
// only a physical SIM (iccid, no eid) activates the plan on that SIM
// instead (no profile). The activation code is 1$<SM-DP+>$<matching ID>
// (mobile-plans.md 3.4); it stays offered for a retry (POST /retry, when the
// app reports the profile's ICCID in X-MP-LPAError-ICCIDs) until
// MarkDownloaded.
//
// # Element ids (stable, for browser tests)
//
// Every page: body#page-<name> (signin, signup, plans, review, confirmation,
// topup, terms, cancelled, done, error) with data-page and data-lang,
// #brand-logo, #brand-name, #content, #support, #support-contact,
// #terms-link; pages before the purchase: #cancel (a submit button of
// form#cancel-form); #form-error for form errors; #back where there is a
// way back. Launch error notice: #lpa-error (data-codes), #lpa-error-title,
// #lpa-error-message, #lpa-error-codes, form#retry-form with
// #retry-download.
//
//	signin:  form#signin-form, #email, #password, #signin-submit, #signup-link
//	signup:  form#signup-form, #name, #email, #password, #signup-submit, #signin-link
//	plans:   #greeting, #plans-title, section#plans-postpaid, section#plans-prepaid,
//	         tiles label#plan-<id> with radio #plan-radio-<id> and #price-<id>, #next;
//	         section#my-lines with li#line-<iccid>, #balance-<iccid>, a#topup-<iccid>
//	review:  #review-plan (data-plan), #review-price, #review-sim (data-sim esim|psim),
//	         fieldset#delivery with #delivery-now and #delivery-later, #review-terms-link,
//	         #accept-terms, #buy
//	topup:   #topup-line (data-iccid), #topup-balance, label#topup-option-<id>,
//	         radio #topup-radio-<id>, #buy-topup
//	confirmation: #confirmation-title, #order-number (data-order), #plan-name,
//	         #confirmation-text (data-kind download|deferred|async|activation|topup|cancelled-op),
//	         form#cancel-scheduled-form with #cancel-scheduled-context and #cancel-scheduled
//	         (deferred downloads), form#finish-form with #finish
//	terms:   #terms-title, section#terms, section#privacy
//	cancelled: #cancelled-title, #cancelled-text;  done: #done-title, #done-text
//	error:   #error-title, #error-message (data-message = message key)
//
// Hand-back pages (confirmation, cancelled, order/cancelled) also have
// div#handback (hidden; data-action, data-legacy, data-ac, data-plan-name,
// data-delay, data-interval, data-iccid, data-user-account,
// data-purchase-instrument, data-line, data-status, data-transaction-id,
// data-context, data-key, data-callback with mpcallback; data-error after a
// bridge exception or a failed POST to the callback),
// script#mp-strings (JSON), section#status with #bridge-status (data-state
// pending, called, unavailable, error or again; sending and returned for the
// system-browser fallback), #bridge-call (the function
// called), #operation-context (the returned context id), #registration-status
// (data-state, data-iccid), #activation-status (data-result, data-iccid),
// #registration-json and #activation-json (the JSON strings received),
// #handback-again (shown after a reload), and with an activation code
// section#fallback (shown when the bridge is missing or throws) holding
// #activation-code and #qr-text ("LPA:" + code, the QR code text).
//
// # Bridge calls (static/portal.js)
//
// portal.js only calls the objects the app injects, after checking they
// exist, once per page (a sessionStorage mark keeps a reload from calling
// again). Before download calls it sets
// MobilePlansInlineOperations.registrationChangedScript =
// "contosoRegistrationChanged" and .profileActivationCompleteScript =
// "contosoProfileActivationComplete" (on MobilePlansInlineProfileDownload
// when the former is missing); those global functions render the JSON
// string they get into #registration-* and #activation-*. Metadata comes
// from MobilePlans.createPurchaseMetaData() when present (else a plain
// object) with userAccount, purchaseInstrument, line, moDirectStatus (enum
// members of MobilePlansUserAccount etc., else "New", "Existing", ...) and
// planName.
//
//	confirmation, immediate:  MobilePlansInlineOperations.notifyProfileDownload(meta, ac)
//	confirmation, "later":    MobilePlansInlineOperations.notifyProfileDownload(meta, ac, Config.DeferMinutes)
//	confirmation, async plan: MobilePlans.notifyPurchaseWithProfileDownload(meta, ac, Config.RegistrationInterval)
//	confirmation, top-up:     MobilePlansInlineOperations.notifyBalanceAddition(meta, iccid) for an eSIM
//	                          profile of iccids, notifyBalanceAddition(meta) for the physical SIM
//	confirmation, plan on the physical SIM: MobilePlansInlineOperations.notifyBalanceAddition(meta)
//	order/cancelled:          MobilePlansInlineOperations.notifyOperationCancel({id: context})
//	cancelled:                MobilePlans.notifyCancelledPurchase(meta) (bailed, cancelled, planName "")
//	legacy (launch legacy=1 or Config.Legacy), every hand-back page:
//	                          DataMart.notifyPurchaseResult(JSON.stringify({ver:"1",
//	                          purchaseResult: JSON.stringify({userAccount, purchaseInstrument, line,
//	                          moDirectStatus, planName}), success, transactionId, activationCode, iccid}))
//	                          (a cancel: success false, "Bailed", "None", "", "", "")
//
// Without the bridge the page shows the activation code for manual entry,
// unless the launch carried mpcallback (below).
//
// # System-browser fallback (mpcallback)
//
// mpcallback is an extension of this project (package ui/portal/loopback),
// not a Windows launch parameter: the app, when it cannot host the portal
// in a web view with the bridge, opens the launch URL in the user's browser
// with mpcallback=<its loopback server>. Only
// http://127.0.0.1:<port>/<path> and http://[::1]:<port>/<path> are taken
// (explicit port, path of letters, digits, "-._~/", no user, query or
// fragment, at most 512 bytes); anything else is dropped and logged (as
// "dropped"; the URL itself is never logged, its path is a secret). The
// callback is kept with the visit, passed on to the cancelled page through
// the cancel redirect, and named on each hand-back page: data-callback and
// CSP connect-src http://127.0.0.1:<port> (http://*:<port> for [::1], as
// Chromium matches no IPv6 literal in a CSP source).
//
// When the page has no bridge objects at all (MobilePlans,
// MobilePlansInlineOperations and DataMart undefined) and data-callback is
// such a URL, portal.js makes the same calls on a shim whose methods POST
// the message bridge.js would have sent (same keys, order and enum values;
// operation contexts "mp-" and 32 hex digits) with fetch (mode "cors",
// credentials omitted, Content-Type text/plain;charset=UTF-8, one call per
// request; no setScripts, nothing can call back into the tab).
// #bridge-status goes to "sending" ("...allow it" if the browser asks to
// let the site connect to apps on the device) and, on a 2xx answer, to
// "returned" ("Return to the Mobile Plans app to finish"); otherwise to
// "error" with #fallback shown, and no sessionStorage mark, so a reload
// tries again. With the bridge present nothing changes.
//
// # ES2+ client
//
// NewES2Client POSTs SGP.22 ES2+ JSON to {base}/gsma/rsp2/es2plus/<function>
// with Content-Type application/json;charset=UTF-8 and X-Admin-Protocol
// gsma/rsp/v2.2.2, authenticated by the client certificate of the
// http.Client's transport (mutual TLS) or ES2BearerToken, as service/smdp
// accepts:
//
//	downloadOrder {"header":{"functionRequesterIdentifier","functionCallIdentifier"},"eid"?,"profileType"?}
//	  -> {"header":{"functionExecutionStatus":{"status":"Executed-Success"}},"iccid"}
//	confirmOrder  {"header",..."iccid","eid"?,"releaseFlag":true} -> {"header","eid"?,"matchingId","smdpAddress"}
//	cancelOrder   {"header","iccid","finalProfileStatusIndicator":"Available"} -> {"header"}
//
// A Failed status (statusCodeData subjectCode, reasonCode, message) or an
// HTTP status other than 200 is an *ES2Error; errors.Is matches
// ErrNoProfileAvailable (8.2.5/4.3) and ErrES2Unauthorized (HTTP 401/403).
// When confirmOrder fails the reserved profile is cancelled (Available).
//
// # MO Web API
//
//	GET /v1/sims/iccid:{ICCID}/balances?fieldsTemplate=basic|full&limit=&location=
//	GET /v1/sims/iccid:{ICCID}/offers?limit=&imei=
//	GET /v1/sims/iccid:{ICCID}/notifications?notificationType=&limit=&imei=
//
// Serve it with MOServerTLSConfig: client certificates are requested but
// verified by the handler against Config.MOClientCAs (clientAuth usage,
// Config.Now) so that it can answer 401 for a missing, expired or not yet
// valid certificate and 403 for an untrusted one or another subject
// (Config.MOClientSubject: a common name, default
// partners.datamart.windows.com, or an RFC 2253 DN). Then, in order: 429
// with Retry-After (token bucket per client certificate, Config.RateLimit),
// 404 for a SIM id that is not iccid:<18-20 digits>, 400 naming the bad
// parameter ({"error":{"code":"bad_parameter","message":"limit: ...","param":"limit"}}:
// X-MS-DM-TransactionId missing or malformed, location not ISO 3166-1
// alpha-2 (either case), limit not a positive 32-bit integer, fieldsTemplate
// not basic|full, imei not 14-16 digits, a parameter twice; empty values
// count as absent; unknown parameters are ignored), 409 for a repeated
// X-MS-DM-TransactionId (remembered 7 days), 404 for an unknown ICCID, 500
// with the cause. Answers echo X-MS-DM-TransactionId.
//
// Balances: prepaid lines are MODIRECTPAYG with dataRemainingInMB
// (decreasing by Config.UsageMBPerMinute from the purchase) and
// timeRemaining (ISO 8601, to expiry); an empty or expired balance is 200
// with 0 and "PT0S". Postpaid lines are MODIRECT without amounts. The full
// template adds locations, planId, planName and expiresAt (timeRemaining to
// the end of the period for MODIRECT). location filters by the plan's
// countries. Top-ups add data and extend the expiry. GetOffers answers
// gateway template "1" for a SIM with an active balance, else "0";
// GetNotifications the template of lowBalance (1), outOfData (2) or
// planExpiring (3), an empty list for other types.
//
// # Logging
//
// ICCIDs are logged as their first six and last four digits, EIDs as their
// first eight, matching IDs and activation codes as their first four
// characters; passwords (PBKDF2-SHA256 hashed) never.
package operator
