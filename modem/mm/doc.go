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
