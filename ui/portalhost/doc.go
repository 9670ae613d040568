// Package portalhost hosts an operator's purchase portal for the agent
// (package app) in a browser that carries the Mobile Plans bridge (package
// ui/portal/chromium, or any Browser): it is the part of the Windows app
// that owns the WebView.
//
// A Host opens the portal the agent asks for (Agent.PortalLaunch: the URL
// with the launch parameters and the X-MP-LPAError-* headers, sent with the
// navigation), hands every bridge message of the page to the agent
// (Agent.HandleBridgeMessage, which checks the frame origin against the
// operator's registered callback host and refuses any other), and runs the
// agent's PortalScript events (registrationChangedScript and
// profileActivationCompleteScript calls) in the page, but only in the
// portal session they belong to and only while the page's main frame is on
// the callback host over HTTPS; a script for a page that navigated
// elsewhere is not run (ErrNotOnPortal).
//
// For terminals, Snapshot renders the page as text with numbered controls
// (links, buttons, fields, choices) and Act clicks or fills one of them, so
// that a person can walk the portal of a headless browser from a shell;
// Autopilot replays a small script of such actions (for demos and
// unattended runs).
package portalhost
