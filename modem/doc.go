// Package modem defines what the agent needs from a cellular modem, whatever
// reaches it (AT commands on a serial port, ModemManager over D-Bus, or the
// simulator): identity, registration, and an APDU channel to the eUICC.
// Backends live in the sub-packages at, mm and sim.
package modem
