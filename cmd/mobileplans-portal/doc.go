// Command mobileplans-portal is the portal helper: a GTK window with one
// WebKitGTK web view that shows an operator's purchase portal with the
// Mobile Plans bridge (package ui/portal) and reports the bridge's
// messages to the app as JSON lines on stdout. The app drives it over
// stdin with package ui/portal/webkit; nobody runs it by hand.
//
// # Build
//
// The helper needs cgo, GTK 3 and WebKitGTK 4.1 (Debian: apt-get install
// libwebkit2gtk-4.1-dev) and the build tag webkit:
//
//	go build -tags webkit -o mobileplans-portal ./cmd/mobileplans-portal
//
// Any other build (no tag, CGO_ENABLED=0, not Linux) makes a stub that
// prints "built without WebKitGTK; build with -tags webkit" and exits 2,
// so go build ./..., go vet ./... and cross builds never need WebKit.
// The app looks for the helper next to its own executable, then on PATH.
//
// # Command line
//
//	mobileplans-portal --allowed-host HOST[:PORT] [--ca FILE] [--title T]
//	    [--width 800] [--height 600] [--log-level info]
//
// --allowed-host is the operator's callback host, the only one whose pages
// the bridge accepts calls from; --width and --height are the size of the
// portal frame (the web view; the window adds its header bar). Exit codes:
// 0 after the window closed, 1 on a failure, 2 when GTK cannot open a
// display (or in the stub), 64 for a bad command line. Logs (and GTK's and
// WebKit's messages) go to stderr.
//
// # The window
//
// The web view has its own ephemeral WebKitWebContext, so no cookie,
// cache or storage outlives the process. The header bar shows the title,
// the host name of the page, a Back button (history back) and the close
// button. No popups or new windows: the "create" signal returns NULL and
// new-window policy decisions are ignored, each reported as popup-blocked;
// downloads are cancelled (download-blocked). Load failures show no
// WebKit error page: the app hears of them and shows its own. Permission
// requests get WebKit's default answer, no.
//
// # Protocol
//
// One JSON object per line each way, with the types, names and parsers
// of package ui/portal/webkit/wire, which the app's client compiles
// against too. Requests carry a positive integer id; each gets one reply
// with that id, in completion order:
//
//	{"id":1,"op":"open","url":"https://host/path?q","headers":{"X-MP-LPAError-Codes":["8"]}}
//	{"id":2,"op":"eval","js":"document.title"}
//	{"id":3,"op":"back"}
//	{"id":4,"op":"guard","on":true}
//	{"id":5,"op":"close"}
//
//	{"id":N,"ok":true[,"result":...]}
//	{"id":N,"error":"...","code":"bad-request|load|cancelled|superseded|tls|crashed|js|closed"}
//
// open starts a main-frame navigation (http or https only) with the
// headers added to that request (webkit_uri_request_get_http_headers,
// soup_message_headers_append, webkit_web_view_load_request) and is
// answered when the navigation ends: {"url":...} once the page has loaded,
// an error when it failed, was refused (tls), was cancelled by another
// navigation, or replaced by a later open (superseded). eval runs js in
// the page's main world (webkit_web_view_evaluate_javascript); the result
// is its JSON (jsc_value_to_json; undefined and functions are null), a
// thrown exception is a js error, and so is a value WebKit cannot pass
// out of the page (a DOM node: "Unsupported result type"). back answers
// true when there was history to go back to (it does not wait for the
// load). guard on makes the window's close button ask the app instead of
// closing (close-requested); the app closes with op close, or not. close
// closes the window and the helper exits; EOF on stdin does the same.
//
// Events, written when they happen:
//
//	{"event":"ready","version":"2.50.6"}           the window is up
//	{"event":"error","error":"..."}                 a startup failure, before the exit
//	{"event":"loaded","url":...}                    a main-frame load finished
//	{"event":"load-failed","url":...,"error":...}   a main-frame load failed (not cancellations)
//	{"event":"tls-trusted","url":...,"host":...}    a certificate verified against --ca (below)
//	{"event":"tls-error","url":...,"host":...,"flags":["unknown-ca",...],"error":...}
//	{"event":"bridge","origin":"https://host[:port]","message":"<the string bridge.js sent>"}
//	{"event":"bridge-refused","origin":...,"documentOrigin":...,"reason":...}
//	{"event":"popup-blocked","url":...}
//	{"event":"download-blocked","url":...}
//	{"event":"web-process-terminated","reason":"crashed|exceeded-memory-limit|terminated-by-api"}
//	{"event":"close-requested"}
//	{"event":"closed"}                              the window is gone; the helper exits 0
//
// The helper moves the protocol to close-on-exec copies of descriptors 0
// and 1 and points them at /dev/null and stderr, so that the WebKit
// processes it starts do not hold the app's pipes open, and nothing a
// library prints on stdout can corrupt the protocol.
//
// # Trusting a test CA
//
// TLS verification stays on (WebKit's default policy: fail). When WebKit
// refuses a main-frame certificate (load-failed-with-tls-errors), the
// helper verifies the peer's chain itself against the CAs of --ca, for the
// identity of the failing URI's host and port (g_network_address_new):
// with g_tls_certificate_verify against each CA of the file (chain,
// validity period, host name) and with the file as a GTlsFileDatabase for
// a TLS server (g_tls_database_verify_chain, which adds the purpose).
// Only when both give no flags does it call
// webkit_web_context_allow_tls_certificate_for_host for that exact
// certificate and host, report tls-trusted and load the navigation again
// (with its headers), once. Anything else is a tls-error event, the open
// fails with code tls, and nothing of the page is shown: the refused
// server never gets the HTTP request. Without --ca every certificate
// WebKit refuses stays refused. Subresources and frames are not
// re-verified: they load from a host only when its main-frame certificate
// was allowed (or WebKit trusts it on its own).
//
// # The bridge and the origin of its messages
//
// One user script runs at document start in the top frame only
// (WEBKIT_USER_CONTENT_INJECT_TOP_FRAME): a small transport shim, then
// portal.BridgeJS, the same bridge.js the Chromium host injects, with the
// shim as its transport. The shim keeps its references from before any
// page script and posts token "\n" location.origin "\n" message to the
// script message handler "mobileplans", where token is a random secret of
// this process that the page cannot read. The helper writes a bridge event
// only when the token matches and that document origin equals the origin
// of the web view's main-frame URI at its last load-committed, as WebKit
// reports it (webkit_web_view_get_uri); the event's origin is WebKit's.
// Everything else is a bridge-refused event with no payload:
//
//   - Frames: WebKit exposes window.webkit.messageHandlers in every frame
//     and its GTK API does not say which frame posted. A cross-origin
//     iframe gets neither the bridge nor the shim, and what it posts
//     directly lacks the token. A same-origin frame can reach the top
//     frame's shim; its messages are reported with the top frame's origin,
//     which is its own.
//   - Races: a message is posted before it is handled, and a navigation
//     can commit in between. The committed origin (not the URI of a
//     provisional load, which a page could start just before posting)
//     bounds that, and the document origin the shim adds closes it: a
//     message of the previous document whose origin differs from the new
//     committed one is refused. Before the first commit nothing is
//     accepted.
//   - The page: any script of the top-frame document can call the shim
//     and send whatever it likes, with its true origin; the app checks that
//     origin against the callback host (portal.Message.Parse) and parses
//     the rest as untrusted.
//
// # Limits
//
// WebKitGTK 2.50 now and then ends a main-frame load with
// G_IO_ERROR_CANCELLED and no other signal: its server preconnect for the
// navigation shares the connection with the load and, when it refuses the
// certificate, cancels it under the load (seen in the tests for refused
// certificates). The helper loads an open's request again, up to three
// times, so that the open ends with the real outcome (the certificate
// check above, or the page); a page's own navigation that ends like this
// is reported as load-failed.
// An open that only changes the fragment of the current URL is a
// same-document navigation without load events: it is answered at once,
// and no loaded event follows. JavaScriptCore installs signal handlers in this
// process; the helper adds SA_ONSTACK to its fault handlers after each
// step that can create them (Go requires it), but leaves SIGUSR1, JSC's
// thread suspension signal, alone (stderr shows "Overriding existing
// handler for signal 10"; harmless).
//
// # Environment
//
// DISPLAY (X11) or WAYLAND_DISPLAY. No session bus is needed;
// NO_AT_BRIDGE=1 silences the accessibility bus warning and
// GSETTINGS_BACKEND=memory the dconf one. With the 4.1 API, WebKitGTK 2.50
// runs the web process without its bubblewrap sandbox unless
// WEBKIT_FORCE_SANDBOX=1; as root in a container nothing more is needed.
// With WEBKIT_FORCE_SANDBOX=1 the sandbox works as root where bubblewrap
// can create namespaces; elsewhere WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS=1
// turns it off. Those variables concern the web process sandbox only, not
// TLS.
package main
