// Package desktop is the Mobile Plans desktop app's user interface, built
// with Fyne: the device, the operators of the device's country, the
// operator's gateway page, the portal (in its own window, see
// PortalOpener), the download's progress and the result; the profiles on
// the eUICC (switch, rename, delete, pending notifications), the balance
// and top-up, the settings and a diagnostics view with the log and the
// APDU trace.
//
// The package talks to the device-side agent only, through the Agent
// interface (*app.Agent satisfies it), and gets a new agent from a Backend
// when the settings change. It imports Fyne's widgets but not its drivers:
// the caller makes the fyne.App (fyne.io/fyne/v2/app, or the test app) and
// the window, so the whole UI runs under Fyne's test driver.
//
// Every change of a widget runs on Fyne's thread: work that waits
// (agent calls, agent events) runs on its own goroutine and hands its
// result back through Options.Do (fyne.Do by default), so tests can run the
// UI updates on the test's goroutine.
package desktop
