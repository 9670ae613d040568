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
// plugin) and announces the port with --no-auto-scan
// --initial-kernel-events, read at start-up, so no D-Bus call is involved;
// restarting the daemon (StopDaemon, StartDaemon) finds the modem again
// the same way. How ModemManager gets from the port's name to both the
// fake tree and the pty depends on the mode:
//
//   - Mount namespace (the default where it works): ModemManager runs in a
//     private mount namespace in which /sys/class/tty is a tmpfs with the
//     single link pts/N -> the fake tree, and the port is "pts/N". There
//     is no timing assumption. This needs root with CAP_SYS_ADMIN and
//     sh, mount, mkdir and ln.
//
//   - Fallback (Options.NoNamespace, Env.NoNamespace): no namespace and no
//     root. The port is "../../..<Dir>/ttyMM0", which ModemManager turns
//     into /sys/class/tty/../../..<Dir>/ttyMM0 and /dev/../../..<Dir>/ttyMM0,
//     both the file <Dir>/ttyMM0. That is a symbolic link to the fake tree
//     when ModemManager starts; ModemManager resolves the sysfs path once,
//     when it handles the event, and the harness re-points the link
//     (atomically) at the pty as soon as ModemManager's log says
//     "processed initial kernel event", well before ModemManager opens the
//     port, at least 1.5 s later. It checks the log that the port was not
//     opened before, and starts ModemManager again if it was. Env.PTY is
//     then /dev/../../..<Dir>/ttyMM0, the port as ModemManager reports it;
//     Env.PTS is the pty. Without CAP_SYS_ADMIN (not root, or root in a
//     container) re-opening a tty on which ModemManager set TIOCEXCL fails,
//     so in this mode the harness clears the flag whenever the port is
//     used (packet mode on the pty's master, TIOCNXCL on its slave). Only
//     /sys/class/tty and /dev must exist.
//
// New chooses the fallback when Options.NoNamespace is set, when the
// environment variable MMTEST_NO_NAMESPACE is set (to anything but "" or
// "0"; it runs a whole suite in the fallback), or when the namespace
// cannot be made here: once per process, a throwaway child unshares its
// mount namespace and runs the same setup script as ModemManager's, which
// fails (deterministically) without root or CAP_SYS_ADMIN or where
// seccomp forbids unshare or mount. The test's log says which mode runs
// and why. Polkit is consulted for InhibitDevice even in test mode,
// through the system bus, so in both modes DBUS_SYSTEM_BUS_ADDRESS points
// at the private bus where the stand-in answers.
//
// The simulated modem has no data path; the harness answers packet data
// dial commands (ATD*99...) with CONNECT on its behalf, as a modem does
// before it starts PPP, so Simple.Connect yields a connected PPP bearer
// (Env.Dials lists them). Everything else reaches the simulated modem.
//
// The harness needs the Debian packages in AptPackages (and root only for
// the mount namespace; without it the fallback runs). Without them New
// skips the test, saying what is missing, or fails it when the
// environment variable MMTEST_REQUIRE is set (as in CI, where a skipped
// integration test would hide a broken setup).
package mmtest
