// Package mmtest runs the real ModemManager daemon against the simulated
// modem (modem/sim) for tests: a private dbus-daemon, a polkit stand-in
// (godbus) on that bus, the simulated modem with a simulated eUICC on a
// pseudo-terminal, and ModemManager with --test-session --test-no-udev
// managing it. New starts all of it and waits until ModemManager exports
// the modem; the test's cleanup stops every process (by process group) and
// removes the files.
//
// ModemManager's udev-less backend finds a tty through
// /sys/class/tty/<name> and opens /dev/<name>; a pty has no sysfs node, and
// an unknown tty is filtered out. The harness builds a fake sysfs tree of
// a USB modem bound to the "option" driver (which selects the generic
// plugin) and starts ModemManager in a private mount namespace in which
// /sys/class/tty is a tmpfs with the single link pts/N -> that tree. The
// port is announced with --no-auto-scan --initial-kernel-events, read at
// start-up, so there is no race between announcing the port and
// ModemManager opening it, and no timing assumption; restarting the daemon
// finds the modem again the same way. Polkit is consulted for
// InhibitDevice even in test mode, through the system bus, so
// DBUS_SYSTEM_BUS_ADDRESS points at the private bus where the stand-in
// answers.
//
// The simulated modem has no data path; the harness answers packet data
// dial commands (ATD*99...) with CONNECT on its behalf, as a modem does
// before it starts PPP, so Simple.Connect yields a connected PPP bearer
// (Env.Dials lists them). Everything else reaches the simulated modem.
//
// The harness needs root (for the mount namespace) and the Debian packages
// in AptPackages. Without them New skips the test, or fails it when the
// environment variable MMTEST_REQUIRE is set (as in CI, where a skipped
// integration test would hide a broken setup).
package mmtest
