// Package mm drives modems through ModemManager over D-Bus (godbus), for
// the Linux systems where ModemManager owns the modems.
//
// List reads the modems from ModemManager's ObjectManager together with
// their SIM objects (ICCID, IMSI, EID, SIM type, eSIM status, operator),
// ports, SIM slots and 3GPP registration. Open follows one modem by its
// IMEI, since ModemManager gives a modem a new object path whenever it
// probes it again (SIM slot switch, inhibition, daemon restart); the
// returned *Modem keeps its state live from ModemManager's signals
// (PropertiesChanged, InterfacesAdded/Removed, NameOwnerChanged), ordered
// against its own reads with godbus's sequence numbers, and implements
// modem.Modem.
//
// ModemManager has no APDU interface. OpenChannel reaches the eUICC with
// AT+CCHO/+CGLA/+CCHC through Modem.Command, which ModemManager allows when
// it runs with --debug; otherwise it has ModemManager inhibit the device
// (InhibitDevice, authorised by polkit) and talks to the modem's own AT
// port with modem/at, giving the device back on every exit path (a failure
// while opening, Release, Close, or any operation that needs ModemManager).
// When neither works, the *NoAPDUAccessError says what to change.
//
// Modem.Command is slow for APDUs, and the cost is ModemManager's, not the
// modem's: on a tty port ModemManager writes a command one byte per write,
// scheduling each next byte send-delay later on its main loop
// (MMPortSerial's send-delay, 1000 µs unless the plugin changes it). The
// generic plugin keeps that default (some vendor plugins, u-blox for one,
// set it to 0), and ModemManager 1.20 has no udev property for it (only
// ID_MM_TTY_BAUDRATE and ID_MM_TTY_FLOW_CONTROL). A command therefore costs
// about 1.3 to 2 ms per character (more on a busy machine) before the modem
// sees its end, and an APDU of n bytes is an AT+CGLA line of about 2n+20
// characters. Against the simulated modem, which answers at once, that is
// 60 to 120 ms for GET EID (40 characters), 0.7 to 0.9 s for a 255-byte
// STORE DATA block (539 characters), and 13 to 19 s for a profile download
// (31 APDUs, 10,496 characters), against about 1 ms, 1 ms and under 0.1 s
// on the inhibited device's AT port, where modem/at writes each line at
// once (see BenchmarkTransmit and TestDownloadOverModemManager).
// ModemManager starts the command's timeout (APDUTimeout) only once the
// last byte is written. The AT-port path costs a re-probe of the modem when
// the device is given back instead; AccessInhibit selects it from the
// start.
//
// After a profile switch, Refresh makes ModemManager re-probe the modem
// (it reads the ICCID only while probing), WaitReady waits for the new
// ICCID and the registration, and Connect brings up a data bearer with the
// operator's APN (Simple.Connect). SetPrimarySimSlot switches the active
// slot of a multi-slot modem.
//
// A ModemManager that stops or restarts during an operation makes it fail
// with ErrDaemonGone; once ModemManager is back the next operation works.
// ModemManager is Linux-only: elsewhere SystemBus fails with
// ErrUnsupported. The subpackage mmtest runs the real daemon against the
// simulated modem for tests.
package mm
