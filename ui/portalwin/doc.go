// Package portalwin opens operator portals for the desktop app
// (desktop.PortalOpener): in the WebKitGTK helper window (package
// ui/portal/webkit, the Mobile Plans bridge injected), else in a Chromium
// window with the bridge (ui/portal/chromium), else in the user's own web
// browser with a loopback callback (ui/portal/loopback; the portal must
// support this project's mpcallback parameter, and the user can always
// paste or scan the activation code instead). Each window hands the page's
// bridge calls to the agent through a portalhost.Host, which also runs the
// agent's scripts in the page.
package portalwin
