// Package xvfb starts a virtual X display (Xvfb) for tests that run real
// windows: the desktop app, the WebKitGTK portal helper, a Chromium window.
package xvfb
