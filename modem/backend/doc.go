// Package backend chooses and opens the modem backend: ModemManager over
// D-Bus (modem/mm, Linux) or AT commands on a serial port (modem/at).
//
// A spec names the modem (ParseSpec): "auto" picks ModemManager when it
// is on the bus and manages at least one modem (eSIM modems first, then
// in object path order), else the first serial port that answers AT and
// reports an IMEI, probed with a short timeout; "mm" is the only or first
// ModemManager modem, "mm:IMEI" the one with that IMEI; "at:PORT" or a
// bare port path (/dev/ttyUSB2, COM3) is the AT backend on that port.
// SerialPorts lists the ports auto-selection probes: on Linux
// /dev/wwan*at*, /dev/ttyACM* and /dev/ttyUSB*, elsewhere go.bug.st/serial's
// port list.
//
// Open returns an *AT or an *MM, both modem.Modem. An *MM also has
// Refresh and Connect (modem.Connection), which the agent (package app)
// uses after a profile switch; an *AT relies on the card's own refresh.
// List reports every candidate of both backends without failing when one
// is absent: a backend that cannot be used (ModemManager not running) and
// a port that does not answer are entries with Error set. Serial ports
// ModemManager holds are listed but never probed, so as not to disturb it.
package backend
