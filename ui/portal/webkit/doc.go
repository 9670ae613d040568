// Package webkit hosts an operator portal with the Mobile Plans bridge
// (package portal) in a WebKitGTK window on Linux: Start launches the
// portal helper (cmd/mobileplans-portal, a separate cgo process with its
// own GTK main loop, so it never shares a process with the app's UI
// toolkit) and talks to it in JSON lines over its stdin and stdout (the
// protocol of package wire, documented in the helper's package). The package itself is
// pure Go and builds everywhere.
//
// A *Browser satisfies portalhost.Browser: OpenWithHeaders loads a page,
// sending the launch headers with that navigation, and returns when it
// has loaded (or failed, or its certificate was refused: ErrCertificate);
// Eval runs JavaScript in the page and decodes its JSON result; Calls
// delivers each bridge message as a portal.Message whose Origin is the
// origin of the main frame's committed document as WebKit reported it,
// which Message.Parse (and so the agent) checks against the callback host
// exactly as for Chromium. Back, Guard (the close button asks the app,
// EventCloseRequested, instead of closing), Events (loads, load failures,
// certificate decisions, blocked popups and downloads, refused bridge
// posts, the window closing), Done and Close complete the window.
//
// # When there is no WebKit
//
// Start's error wraps ErrUnavailable when the helper is missing (neither
// next to os.Executable() nor on PATH), was built without -tags webkit
// (the stub exits 2), or GTK cannot open a display (exit 2 after an
// "error" line). Callers fall back to another browser then, e.g.
// ui/portal/chromium. Build the helper with
//
//	go build -tags webkit -o "$(dirname "$(command -v mobileplans)")/mobileplans-portal" ./cmd/mobileplans-portal
//
// (cgo and libwebkit2gtk-4.1-dev).
//
// # Trust
//
// Options.CAFile or Options.RootCAs name test CAs (PEM) the helper
// accepts server certificates of: a certificate WebKit refuses is
// verified again by the helper against those CAs for the page's host and
// port, and only then allowed for that host (EventTLSTrusted); otherwise
// the page is refused (EventTLSError). Verification is never turned off.
//
// # The process
//
// The helper runs in its own process group with the environment of the
// app plus Options.Env (DISPLAY, and the variables the helper's
// documentation lists for root and containers). Its stderr, GTK's and
// WebKit's messages included, goes to Options.Logger at debug level.
// Close sends the close request, closes stdin, waits, and kills the
// process group after Options.CloseTimeout; the helper is always waited
// for. Requests of a closed window fail with ErrClosed.
package webkit
