// Package desktopapp is the composition root of the desktop app: it wires
// the UI (ui/desktop) to sessions started from the settings
// (internal/launch), portal windows (ui/portalwin), a settings file, the
// log and APDU trace rings and the QR decoder, in a fyne.App the caller
// makes (fyne.io/fyne/v2/app in the binary, the test app in tests).
package desktopapp
