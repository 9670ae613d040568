// Package loopback is the system-browser fallback of the portal host: where
// no web view with the Mobile Plans bridge can run, the desktop app opens
// the operator's portal in the user's default browser and receives the
// portal's bridge calls on a loopback HTTP server (RFC 8252 7.3), as
// portal.Messages for the agent, exactly as the web view would deliver
// them.
//
// The app starts a Server for the launch (New, with the operator's
// registered callback host), adds its CallbackURL to the launch URL
// (Server.LaunchURL, AppendCallback), opens that URL in the browser (fyne's
// OpenURL) and hands every message from Messages to the agent
// (HandleBridgeMessage, which checks the origin against the callback host
// again). Close ends it. When the hand-back fails (the portal does not know
// the protocol, the browser refuses, the server was closed), the portal
// still shows the activation code and its QR text; the user pastes or
// scans it into the app (internal/qrcode reads both).
//
// # The mpcallback launch parameter
//
// mpcallback is this project's extension, not a parameter of the Windows
// app (mobile-plans.md 3.1 lists those; portals must ignore unknown ones,
// so it is safe to send to any portal):
//
//	https://portal.contoso.test/mobileplans?eid=...&transactionId=...&mpcallback=http%3A%2F%2F127.0.0.1%3A41234%2Fmobileplans%2F<token>
//
// Its value is http://127.0.0.1:<port>/<path> or http://[::1]:<port>/<path>
// (CheckCallbackURL; this server uses 127.0.0.1 and the path
// /mobileplans/<token>, a fresh 256-bit base64url token per Server). A
// portal must accept nothing else.
//
// A portal that finds no bridge objects (typeof window.MobilePlans ===
// "undefined", and the same for MobilePlansInlineOperations and DataMart)
// and has a valid mpcallback sends each call it would have made as the
// string bridge.js would have sent (package portal documents the scheme:
// {"v":1,"op",...,"object",...,"origin":location.origin,"args":{...},"context":...}),
// one call per request:
//
//	fetch(mpcallback, {method: "POST", mode: "cors", credentials: "omit",
//	    headers: {"Content-Type": "text/plain;charset=UTF-8"}, body: message})
//
// text/plain keeps the request a CORS "simple request" (no preflight). The
// registrationChangedScript / profileActivationCompleteScript names have no
// meaning here (nothing can call back into the user's browser tab), so
// they are not sent.
//
// # What the server accepts
//
// In this order: the path /mobileplans/<token> with the right token and no
// query (else 404); POST (else 405, with Allow: POST; there is no CORS
// preflight to answer); Host 127.0.0.1:<port> (else 403, against DNS
// rebinding); exactly one Origin header equal to https://<AllowedHost>
// (else 403); Content-Type text/plain, UTF-8 if a charset is named (else
// 415); a body of at most MaxBodySize bytes (else 413); a message that
// portal.Message.Parse accepts with that origin (a message naming another
// origin is 403, an invalid one 400, and neither is handed on). An
// accepted message goes to Messages and the answer is 204 No Content with
// Access-Control-Allow-Origin: https://<AllowedHost>, so the page can tell
// that the app has it; 503 when the server closed before a reader took it.
// Refusals are logged with the reason, method and Origin; the path (the
// token) and the body (the activation code) are never logged, and accepted
// messages only by operation, origin and size.
//
// # What browsers do (Chromium 156)
//
// Checked by the tests (loopback_unix_test.go, headless Chromium without
// the bridge, the portal served by the bundled stack as
// https://portal.contoso.test): a fetch from the https portal to
// http://127.0.0.1 is not blocked as mixed content (a loopback IP literal
// is a potentially trustworthy origin; so is [::1]) and carries the
// portal's Origin header, in mode "cors" and in mode "no-cors", although
// the pages send Referrer-Policy: no-referrer. A form POST is no
// substitute: as a navigation from https to http it carries "Origin: null",
// and the server refuses it (a trial with other policies found the real
// origin only with Referrer-Policy: unsafe-url). The portal's
// Content-Security-Policy must let the page connect: connect-src
// http://127.0.0.1:<port> works, but Chromium matches no IPv6 literal in a
// CSP source (http://[::1]:<port> blocks the fetch), so a [::1] callback
// needs a wildcard host (http://*:<port>).
//
// Local Network Access, found in a trial and not covered by the tests:
// when the portal is on a public address (--ip-address-space-overrides
// marking it public), Chromium makes the fetch to loopback only after the
// site was granted the "loopback-network" permission, which it asks the
// user for; without it the fetch fails before any request is made, in
// either mode, and a granted permission makes it work unchanged. The
// tests' portal is on loopback, where no permission is needed. Portals
// should tell users to allow the prompt (Contoso's page does while it
// sends).
package loopback
