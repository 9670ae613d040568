// Package tty holds the terminal ioctls the simulated modem's ptys need
// (modem/sim and the ModemManager test harness modem/mm/mmtest): raw mode,
// packet mode on the master, and clearing the exclusive-use flag, each on
// an *os.File without switching it to blocking mode. Unix only.
package tty
