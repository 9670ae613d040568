package sim

import "strconv"

// +CME ERROR codes (3GPP TS 27.007 9.2.1) the modem uses.
const (
	cmeOperationNotAllowed   = 3
	cmeOperationNotSupported = 4
	cmeSIMNotInserted        = 10
	cmeSIMFailure            = 13
	cmeSIMBusy               = 14
	cmeInvalidIndex          = 21
	cmeNotFound              = 22
	cmeNoNetworkService      = 30
	cmeIncorrectParameters   = 50
	cmeUnknown               = 100
)

// cmeText is the verbose form of a +CME ERROR code (AT+CMEE=2).
func cmeText(n int) string {
	switch n {
	case 0:
		return "phone failure"
	case 1:
		return "no connection to phone"
	case 2:
		return "phone-adaptor link reserved"
	case cmeOperationNotAllowed:
		return "operation not allowed"
	case cmeOperationNotSupported:
		return "operation not supported"
	case 5:
		return "PH-SIM PIN required"
	case cmeSIMNotInserted:
		return "SIM not inserted"
	case 11:
		return "SIM PIN required"
	case 12:
		return "SIM PUK required"
	case cmeSIMFailure:
		return "SIM failure"
	case cmeSIMBusy:
		return "SIM busy"
	case 15:
		return "SIM wrong"
	case 16:
		return "incorrect password"
	case 20:
		return "memory full"
	case cmeInvalidIndex:
		return "invalid index"
	case cmeNotFound:
		return "not found"
	case 23:
		return "memory failure"
	case cmeNoNetworkService:
		return "no network service"
	case 31:
		return "network timeout"
	case 32:
		return "network not allowed - emergency calls only"
	case cmeIncorrectParameters:
		return "incorrect parameters"
	case cmeUnknown:
		return "unknown"
	}
	return strconv.Itoa(n)
}
