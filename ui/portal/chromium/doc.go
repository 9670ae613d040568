// Package chromium hosts an operator portal with the Mobile Plans bridge
// (package portal) in a real browser: Chromium driven over the DevTools
// protocol with chromedp, headless (the terminal journey of `mobileplans
// activate`, and the end-to-end tests) or in a visible window
// (Options.Window, where a display exists). New starts Chromium with a fresh profile,
// injects portal.BridgeJS into every new document
// (Page.addScriptToEvaluateOnNewDocument; not with Options.NoBridge, a plain
// browser standing in for the user's own) with a CDP binding
// (Runtime.addBinding, named BindingName) as the bridge's transport, and
// delivers each bridge message on Calls as a portal.Message: the JSON string
// the page sent and the origin of the execution context that called the
// binding, as the browser reported it (Runtime.executionContextCreated), so
// a page cannot lie about where a message came from. Open, Eval, Click, Text
// and Screenshot drive the tab.
//
// # Requirements
//
// Debian's chromium package (/usr/bin/chromium) and, to trust a test CA,
// certutil from libnss3-tools:
//
//	apt-get install -y chromium libnss3-tools
//
// New returns an error wrapping ErrUnavailable when either is missing, so
// callers can fall back or skip. Chromium runs with --headless (unless
// Options.Window) --no-sandbox --disable-gpu
// --disable-quic --no-first-run --disable-background-networking
// --disable-component-update --disable-sync (the machine's network is
// closed), a new --user-data-dir and HOME in a temporary directory, and
// --host-resolver-rules mapping test host names (Options.HostMap) to
// loopback servers, so pages are served as https://portal.contoso.test/
// with the port hidden in the mapping.
//
// # How Chromium trusts the test CA
//
// TLS verification is never turned off. Options.RootCAs are added as trust
// anchors in a fresh NSS shared database at $HOME/.pki/nssdb, where HOME is
// the browser's own temporary home: certutil -N creates the database and
// certutil -A imports each CA with the trust flags "C,," (trusted to issue
// TLS server certificates). Chromium on Linux reads locally added anchors
// from that database, so a server certificate issued by the test CA (e.g.
// from service/webca) verifies through the normal path: chain to an
// anchor, host name, validity, key usage. The package's tests show that it
// is on: the same page fails with ERR_CERT_AUTHORITY_INVALID in a browser
// without the CA, and with ERR_CERT_COMMON_NAME_INVALID when opened under a
// name the certificate does not carry.
//
// Rejected alternatives: --ignore-certificate-errors and the Security
// domain's setIgnoreCertificateErrors disable verification outright.
// --ignore-certificate-errors-spki-list looks like a pin of the server key,
// but what the switch does is ignore certificate errors for chains that
// contain one of the listed keys (unknown issuer, and the other checks with
// it), so it is a bypass scoped to a key rather than a trust anchor; it is
// not used. The NSS database is Linux-only: on other
// systems New refuses RootCAs with ErrUnavailable.
//
// # Limits
//
// Cross-site iframes run in their own renderer process (site isolation) and
// are separate DevTools targets that the harness does not attach, so the
// bridge and the binding exist only in the tab's own frames.
package chromium
