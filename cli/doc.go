// Package cli implements the mobileplans command line: chip, profile,
// notification, modem and sim commands for device makers and developers,
// with human output by default and lpac-shaped JSON with --json. It reaches
// the eUICC through a modem backend chosen by modem/backend (ModemManager
// over D-Bus, an AT serial port, or an in-process simulated modem served
// on a real pty) and the LPA in esim/lpa.
package cli
