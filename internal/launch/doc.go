// Package launch builds a running app.Agent from the desktop app's
// settings: either on the bundled mock stack (discovery service, Contoso
// Cellular, SM-DP+ and the simulated modem, started in this process with
// TLS from generated CAs) or on a real modem backend and a real discovery
// service. It is the desktop app's composition root: the UI asks it for a
// Session and talks to the Session's agent only, and starts a new Session
// when the settings change.
package launch
